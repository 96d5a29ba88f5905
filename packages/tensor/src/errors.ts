/** Errors of the tensor core. Each names the op and what was wrong with its input. */

/**
 * The base of every error mini-gpt throws on purpose (bad input, a missing file, a device that
 * cannot be opened): its message is one line for people, and `exitCode` is what the CLI exits
 * with (1, or 2 for a usage error such as a bad flag or a config that cannot be used). Anything
 * else that reaches the CLI is a bug.
 */
export class MiniGptError extends Error {
  override name = 'MiniGptError';
  /** The CLI's exit status for this error: 1, or 2 for usage errors. */
  readonly exitCode: number = 1;
}

/** Shapes that do not fit an op: the message names the op and every shape involved. */
export class ShapeError extends MiniGptError {
  override name = 'ShapeError';
}

/** A dtype an op cannot take, or two dtypes that do not match. */
export class DTypeError extends MiniGptError {
  override name = 'DTypeError';
}

/** A device that cannot be found or used, or tensors on two different devices. */
export class DeviceError extends MiniGptError {
  override name = 'DeviceError';
}

/**
 * An argument an op cannot take: a number outside its range (int32 data past 32 bits,
 * randint's bounds, a negative std), not finite or not an integer where one is needed, or
 * something else where a tensor (or a device) is needed. The message names the op and the value.
 */
export class ValueError extends MiniGptError {
  override name = 'ValueError';
}

/**
 * A tensor (or a kernel's scratch) too large for the device's memory: past the fast CPU's
 * WebAssembly heap, past the largest typed array, or an allocation the runtime refused.
 * `bytes` is what was asked for.
 */
export class AllocationError extends MiniGptError {
  override name = 'AllocationError';
  constructor(
    message: string,
    readonly bytes: number,
  ) {
    super(message);
  }
}

/** A tensor used after `dispose()`. */
export class DisposedError extends MiniGptError {
  override name = 'DisposedError';
}

/** Any value, for an error message: `undefined`, `null`, `the number 1`, `the string "x"`, `an array`, `a Foo`. */
export function describeValue(v: unknown): string {
  if (v === undefined || v === null) return String(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `the ${typeof v} ${String(v)}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'function') return 'a function';
  const name = (v as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
