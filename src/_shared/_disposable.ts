/** Where the runtime has it (typed without the esnext.disposable lib). */
const DISPOSE = (Symbol as { readonly dispose?: symbol }).dispose;

/**
 * Makes `dispose` the `Symbol.dispose` method of `target` where the runtime
 * has that symbol, so that `using` works there; elsewhere `target` is left
 * as it is.
 */
export function makeDisposable<T extends object>(
  target: T,
  dispose: () => void,
): T {
  if (DISPOSE) (target as Record<symbol, unknown>)[DISPOSE] = dispose;
  return target;
}
