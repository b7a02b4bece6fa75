// Smoke test of the ./context entry inside workerd with nodejs_compat (which
// provides node:async_hooks' AsyncLocalStorage): events created inside
// withEventContext, across awaits, get its correlation id; parallel contexts
// stay apart.
import { createEvent, withEventContext } from "./with_context.js";

function check(condition, message) {
  if (!condition) throw new Error(`edge context test: ${message}`);
}

export const ambientCorrelation = {
  async test() {
    const handle = (requestId, delay) =>
      withEventContext(
        { correlationId: requestId, metadata: { requestId } },
        async () => {
          await new Promise((resolve) => setTimeout(resolve, delay));
          return createEvent("request.handled");
        },
      );
    const [a, b] = await Promise.all([handle("req-a", 5), handle("req-b", 0)]);
    check(
      a.correlationId === "req-a" && b.correlationId === "req-b",
      `${a.correlationId} ${b.correlationId}`,
    );
    check(a.metadata.requestId === "req-a", JSON.stringify(a.metadata));
    check(createEvent("outside").correlationId === null, "no context outside");
  },
};
