// How consumeEvents reports without letting a report, or a message's
// settling, end the batch or the consumer.
import { describeError } from "../_shared/_messages.ts";
import type { JetStreamMessage } from "./jetstream_types.ts";

// onError, falling back to console.error for a report onError throws on (or
// rejects, when async): a throw escaping a report would drop the rest of the
// batch, or end the consumer.
export function reportingTo(
  onError: (error: unknown) => void,
): (error: unknown) => void {
  const fallBack = (error: unknown) => (thrown: unknown) => {
    console.error(error);
    console.error(
      new Error(
        `consumeEvents: onError threw (${
          describeError(thrown)
        }) on the error logged just before`,
        { cause: thrown },
      ),
    );
  };
  return (error) => {
    try {
      const result: unknown = onError(error);
      if (result instanceof Promise) result.catch(fallBack(error));
    } catch (thrown) {
      fallBack(error)(thrown);
    }
  };
}

/** What a failed settling call is reported with. */
export interface SettleFailure {
  readonly action: "ack" | "nak" | "term";
  readonly message: JetStreamMessage;
  /** What the message holds: `event <id>`, or what it is not. */
  readonly subject: string;
  /** What follows for the message, since it stays unsettled. */
  readonly consequence: string;
}

// Settles the message (ack, nak or term), which a client may refuse with a
// throw (a closed connection): the throw is reported and the batch goes on,
// since JetStream delivers an unsettled message again after the ack wait.
// Resolves with whether the call went through.
export async function settle(
  call: () => unknown,
  { action, message, subject, consequence }: SettleFailure,
  onError: (error: unknown) => void,
): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (cause) {
    onError(
      new Error(
        `consumeEvents: ${action} failed on delivery ${message.info.deliveryCount} of ${subject} (${
          describeError(cause)
        }); ${consequence}`,
        { cause },
      ),
    );
    return false;
  }
}
