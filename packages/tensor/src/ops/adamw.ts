/** One fused AdamW step on a parameter, in place (param, m and v are updated). */
import type { AdamWStep } from '../backend.js';
import { ShapeError, formatShape } from '../errors.js';
import { shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { assertFloat, withContiguous } from './util.js';

export function adamwUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, step: AdamWStep): void {
  assertFloat('adamw', param, grad, m, v);
  for (const [name, t] of [
    ['param', param],
    ['m', m],
    ['v', v],
  ] as const) {
    if (!t.isContiguous()) throw new ShapeError(`adamw: ${name} must be contiguous (it is updated in place)`);
  }
  for (const [name, t] of [
    ['grad', grad],
    ['m', m],
    ['v', v],
  ] as const) {
    if (!shapesEqual(t.shape, param.shape))
      throw new ShapeError(`adamw: ${name} ${formatShape(t.shape)} does not match param ${formatShape(param.shape)}`);
  }
  if (!(step.step >= 1 && Number.isInteger(step.step)))
    throw new RangeError(`adamw: step must be an integer >= 1, got ${step.step}`);
  if (param.size === 0) return;
  withContiguous([grad], (g) => param.device.backend.kernels.adamw(param, g!, m, v, step));
}
