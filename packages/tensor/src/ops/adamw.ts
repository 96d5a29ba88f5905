/** Fused AdamW steps on parameters, in place (param, m and v are updated): one tensor, or many at once. */
import type { AdamWStep } from '../backend.js';
import { ShapeError, formatShape } from '../errors.js';
import { shapesEqual } from '../shape.js';
import { type Tensor, assertSameDevice } from '../tensor.js';
import { assertFloat } from './util.js';

function check(op: string, param: Tensor, grad: Tensor, m: Tensor, v: Tensor): void {
  assertFloat(op, param, grad, m, v);
  for (const [name, t] of [
    ['param', param],
    ['m', m],
    ['v', v],
  ] as const) {
    if (!t.isContiguous()) throw new ShapeError(`${op}: ${name} must be contiguous (it is updated in place)`);
  }
  for (const [name, t] of [
    ['grad', grad],
    ['m', m],
    ['v', v],
  ] as const) {
    if (!shapesEqual(t.shape, param.shape))
      throw new ShapeError(`${op}: ${name} ${formatShape(t.shape)} does not match param ${formatShape(param.shape)}`);
  }
}

function checkStep(op: string, step: AdamWStep): void {
  if (!(step.step >= 1 && Number.isInteger(step.step)))
    throw new RangeError(`${op}: step must be an integer >= 1, got ${step.step}`);
}

/**
 * One AdamW step (torch.optim.AdamW: decoupled weight decay, bias-corrected moments) on `param`,
 * in place: param, m and v (same shape and float dtype, contiguous) are updated; grad may be
 * strided. Throws ShapeError on a shape mismatch or a non-contiguous param/m/v, RangeError on a
 * step that is not an integer >= 1.
 */
export function adamwUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, step: AdamWStep): void {
  check('adamw', param, grad, m, v);
  checkStep('adamw', step);
  if (param.size === 0) return;
  const g = grad.contiguous();
  try {
    param.device.backend.kernels.adamw(param, g, m, v, step);
  } finally {
    g.dispose();
  }
}

/** One tensor of adamwUpdateMany: its tensors as for adamwUpdate, and its own weight decay. */
export interface AdamWUpdateEntry {
  param: Tensor;
  grad: Tensor;
  m: Tensor;
  v: Tensor;
  /** Default: step.weightDecay. 0 for a no-decay group (biases, layer-norm gains). */
  weightDecay?: number;
}

/**
 * adamwUpdate on every entry, with the same results bit for bit, in a few GPU dispatches rather
 * than one per tensor (the CPU devices loop). All entries must be on one device; each is checked
 * as adamwUpdate checks it (same errors, naming the entry's index), before anything is updated.
 */
export function adamwUpdateMany(entries: readonly AdamWUpdateEntry[], step: AdamWStep): void {
  checkStep('adamw', step);
  const device = entries[0]?.param.device;
  entries.forEach((e, i) => {
    check(`adamw (entry ${i})`, e.param, e.grad, e.m, e.v);
    assertSameDevice(`adamw (entry ${i})`, entries[0]!.param, e.param);
    if (e.weightDecay !== undefined && !Number.isFinite(e.weightDecay))
      throw new RangeError(`adamw (entry ${i}): weightDecay must be a finite number, got ${e.weightDecay}`);
  });
  const live = entries.filter((e) => e.param.size > 0);
  if (live.length === 0) return;
  const grads = live.map((e) => e.grad.contiguous());
  try {
    device!.backend.kernels.adamwMany(
      live.map((e, i) => ({
        param: e.param,
        grad: grads[i]!,
        m: e.m,
        v: e.v,
        weightDecay: e.weightDecay ?? step.weightDecay,
      })),
      step,
    );
  } finally {
    for (const g of grads) g.dispose();
  }
}
