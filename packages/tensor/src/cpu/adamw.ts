/** Reference AdamW, as torch.optim.AdamW computes it (decoupled weight decay, bias-corrected). */
import type { AdamWEntry, AdamWStep, Kernels, View } from '../backend.js';
import { dataOf } from './storage.js';

export function adamw(
  param: View,
  grad: View,
  m: View,
  v: View,
  { lr, beta1, beta2, eps, weightDecay, step }: AdamWStep,
): void {
  const p_ = dataOf(param),
    g_ = dataOf(grad),
    m_ = dataOf(m),
    v_ = dataOf(v);
  let n = 1;
  for (const d of param.shape) n *= d;
  const biasCorrection1 = 1 - beta1 ** step;
  const biasCorrection2 = 1 - beta2 ** step;
  for (let i = 0; i < n; i++) {
    const g = g_[grad.offset + i]!;
    const mi = beta1 * m_[m.offset + i]! + (1 - beta1) * g;
    const vi = beta2 * v_[v.offset + i]! + (1 - beta2) * g * g;
    m_[m.offset + i] = mi;
    v_[v.offset + i] = vi;
    const decayed = p_[param.offset + i]! * (1 - lr * weightDecay);
    p_[param.offset + i] = decayed - ((lr / biasCorrection1) * mi) / (Math.sqrt(vi) / Math.sqrt(biasCorrection2) + eps);
  }
}

/** A CPU device's multi-tensor AdamW: its one-tensor kernel on each entry, with the entry's decay. */
export function adamwEach(one: Kernels['adamw'], entries: readonly AdamWEntry[], step: AdamWStep): void {
  for (const e of entries) one(e.param, e.grad, e.m, e.v, { ...step, weightDecay: e.weightDecay });
}
