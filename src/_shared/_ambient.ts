import type { DeepReadonly, JsonObject } from "../event/types.ts";

/** What `withEventContext` (the `./context` entry) gives the events created inside it. */
export interface AmbientEventContext {
  /** The correlation id for events created without one. */
  readonly correlationId: string | null;
  /** The metadata for events created without any. */
  readonly metadata: DeepReadonly<JsonObject>;
}

/**
 * Reads the ambient context, once the `./context` entry is loaded: the core
 * stays web-only and pays one `undefined` check per event without it.
 */
export let ambientContext: (() => AmbientEventContext | undefined) | undefined;

/** Installs the reader of the ambient context. */
export function setAmbientContext(
  reader: () => AmbientEventContext | undefined,
): void {
  ambientContext = reader;
}
