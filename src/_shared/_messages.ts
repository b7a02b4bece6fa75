/** What a caught error says: its message, or the thrown value described. */
export function describeError(error: unknown): string {
  try {
    return error instanceof Error
      ? String(error.message)
      : describeValue(error);
  } catch {
    return "a value that cannot be inspected";
  }
}

/** Names a value for an error message: `NaN`, `"abc"`, `undefined`, `a function`, `Date`. */
export function describeValue(value: unknown): string {
  const type = typeof value;
  if (type == "string") {
    const text = value as string;
    return JSON.stringify(text.slice(0, 40)) + (text.length > 40 ? "…" : "");
  }
  if (type == "object" && value) {
    try {
      const prototype = Object.getPrototypeOf(value);
      if (!prototype || prototype == Object.prototype) return "an object";
      // A class instance is named by its class; an object whose prototype is
      // another object (or another realm's Object.prototype) is not.
      const name = prototype.constructor?.name;
      return typeof name == "string" && name && name != "Object"
        ? name
        : "an object with a custom prototype";
    } catch {
      return "an object that cannot be inspected";
    }
  }
  return value == null || type == "number" || type == "boolean"
    ? String(value)
    : "a " + type;
}
