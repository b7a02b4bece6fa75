/**
 * The Standard Schema v1 interface (https://standardschema.dev), declared
 * here so that zod, valibot, arktype and other schemas work without a
 * dependency.
 *
 * @typeParam Input What the schema accepts.
 * @typeParam Output What it returns after validation.
 *
 * @example A hand-written schema
 * ```ts
 * import type { StandardSchemaV1 } from "@seedwork/domain-events";
 *
 * const seats: StandardSchemaV1<{ seats: number }> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: (value) =>
 *       typeof value === "object" && value !== null && typeof (value as { seats?: unknown }).seats === "number"
 *         ? { value: value as { seats: number } }
 *         : { issues: [{ message: "expected seats", path: ["seats"] }] },
 *   },
 * };
 * ```
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly "~standard": StandardSchemaV1Props<Input, Output>;
}

/**
 * The properties under a Standard Schema's `~standard` key.
 *
 * @typeParam Input What the schema accepts.
 * @typeParam Output What it returns after validation.
 *
 * @example Reading a schema's vendor
 * ```ts
 * import type { StandardSchemaV1Props } from "@seedwork/domain-events";
 *
 * function vendorOf(props: StandardSchemaV1Props): string {
 *   return props.vendor;
 * }
 * ```
 */
export interface StandardSchemaV1Props<Input = unknown, Output = Input> {
  /** The version of the standard: 1. */
  readonly version: 1;
  /** The library that made the schema, e.g. `"zod"`. */
  readonly vendor: string;
  /** Validates a value; a Promise result (an async schema) is refused by this library. */
  readonly validate: (
    value: unknown,
  ) => StandardSchemaV1Result<Output> | Promise<StandardSchemaV1Result<Output>>;
  /** Type-only: the input and output types. */
  readonly types?:
    | { readonly input: Input; readonly output: Output }
    | undefined;
}

/**
 * The result of a Standard Schema's `validate`: the value, or the issues.
 *
 * @typeParam Output The validated value's type.
 *
 * @example Telling success from failure
 * ```ts
 * import type { StandardSchemaV1Result } from "@seedwork/domain-events";
 *
 * function succeeded(result: StandardSchemaV1Result<unknown>): boolean {
 *   return result.issues === undefined;
 * }
 * ```
 */
export type StandardSchemaV1Result<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardSchemaV1Issue> };

/**
 * One problem a Standard Schema found, with the path to it.
 *
 * @example An issue
 * ```ts
 * import type { StandardSchemaV1Issue } from "@seedwork/domain-events";
 *
 * const issue: StandardSchemaV1Issue = { message: "Invalid email", path: ["email"] };
 * ```
 */
export interface StandardSchemaV1Issue {
  /** What is wrong. */
  readonly message: string;
  /** Where: keys, or segments holding a key. */
  readonly path?:
    | ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>
    | undefined;
}
