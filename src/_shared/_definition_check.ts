import { sealedBy } from "./_envelope.ts";
import { type EventIssue, InvalidEventError } from "../event/errors.ts";
import type { DomainEvent } from "../event/types.ts";

/** What the dispatcher checks an event against: a definition of its type. */
export interface CheckedDefinition {
  readonly type: string;
  readonly is: (value: unknown) => boolean;
}

/** Validates a payload as the definition's `create` does: returns, or throws. */
type Validate = (payload: unknown) => unknown;

/** The payload check of every definition `defineEvent` made. */
const validators = new WeakMap<object, Validate>();

/**
 * Per definition, the events checked already: `null` for accepted, else what
 * the check threw. So an event is checked at most once per definition.
 */
const verdicts = new WeakMap<object, WeakMap<object, unknown>>();

/** Records how `definition` validates a payload (called by `defineEvent`). */
export function addDefinition(definition: object, validate: Validate): void {
  validators.set(definition, validate);
}

/** Whether `value` is a definition the dispatcher can check events against. */
export function isCheckable(value: object): value is CheckedDefinition {
  return validators.has(value) ||
    typeof (value as { is?: unknown }).is == "function";
}

/**
 * Throws why `definition` refuses `event`, an event of its type (an
 * InvalidEventError); returns when it accepts it. Events its `create` made are accepted without a look (so are
 * those `parseEvent` made with it); any other is checked once, by the
 * definition's schema, or by its `is` for a definition `defineEvent` did not
 * make.
 */
export function refuse(
  definition: CheckedDefinition,
  event: DomainEvent,
): void {
  if (sealedBy(event) === definition) return;
  let seen = verdicts.get(definition);
  if (!seen) verdicts.set(definition, seen = new WeakMap());
  let verdict = seen.get(event);
  if (verdict === undefined) {
    verdict = null;
    const validate = validators.get(definition);
    try {
      if (validate) validate(event.payload);
      else if (!definition.is(event)) verdict = "refused";
    } catch (error) {
      verdict = error;
    }
    seen.set(event, verdict);
  }
  if (verdict === null) return;
  const issues: readonly EventIssue[] = verdict instanceof InvalidEventError
    ? verdict.issues
    : [{ path: "payload", message: "expected a payload it accepts" }];
  const error = new InvalidEventError(
    issues,
    verdict instanceof Error ? { cause: verdict } : undefined,
  );
  error.message = `the "${definition.type}" definition refuses event ${
    JSON.stringify(event.eventId)
  }: ${error.message}`;
  throw error;
}
