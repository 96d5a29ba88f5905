/**
 * Lifetimes. JavaScript has no destructors, so device memory is freed explicitly: a tensor's
 * storage is reference-counted (views share it) and `dispose()` drops one reference.
 * `tidy(fn)` disposes every tensor made inside `fn` except those it returns (tfjs's model).
 */

export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}

const scopes: Set<Disposable>[] = [];

/** Called by every new tensor so the innermost `tidy` can free it. */
export function track(t: Disposable): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Takes `t` out of every enclosing `tidy`: the caller now disposes it (as tfjs's keep). */
export function keep<T extends Disposable>(t: T): T {
  for (const scope of scopes) scope.delete(t);
  return t;
}

function collect(value: unknown, found: Set<unknown>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 8) return;
  if ('dispose' in value && 'isDisposed' in value) {
    found.add(value);
    return;
  }
  const items = Array.isArray(value) ? value : value instanceof Map ? [...value.values()] : Object.values(value);
  for (const item of items) collect(item, found, depth + 1);
}

/**
 * Runs `fn` (synchronously: an async function would leave its scope before its work ends),
 * then disposes every tensor created inside it that is not part of the result.
 */
export function tidy<T>(fn: () => T): T {
  if (fn.constructor.name === 'AsyncFunction')
    throw new TypeError('tidy: the function must be synchronous; await reads outside tidy');
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const kept = new Set<unknown>();
  collect(result, kept);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (kept.has(t)) parent?.add(t);
    else if (!t.isDisposed) t.dispose();
  }
  return result;
}
