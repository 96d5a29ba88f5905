/** Errors of the tensor core. Each names the op and what was wrong with its input. */

/** Shapes that do not fit an op: the message names the op and every shape involved. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** A dtype an op cannot take, or two dtypes that do not match. */
export class DTypeError extends Error {
  override name = 'DTypeError';
}

/** A device that cannot be found or used, or tensors on two different devices. */
export class DeviceError extends Error {
  override name = 'DeviceError';
}

/** A tensor used after `dispose()`. */
export class DisposedError extends Error {
  override name = 'DisposedError';
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
