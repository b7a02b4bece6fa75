// The bundle the context smoke test loads: the core and the ./context entry
// together, as an application that uses both gets them (one copy of the core).
export * from "../mod.ts";
export * from "../src/context/with_event_context.ts";
