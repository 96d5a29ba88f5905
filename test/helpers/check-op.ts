/**
 * checkCase: one gradient-check case on a device against the CPU reference, forward and
 * backward, in float32 from the same seeded inputs and upstream gradient. Returns the largest
 * absolute difference seen (for the suite's report).
 * Default tolerance: 2e-5 absolute + 1e-4 relative (float32 on both sides, different
 * summation orders, WGSL's few-ulp exp/log/tanh); a case may state its own (`parity`).
 */
import type { Device } from '@mini/tensor';
import { type Tolerance, expectAllClose, maxAbsDiff } from './allclose.js';
import { type GradCase, float32Run } from './grad-cases.js';
import { cpu } from '@mini/tensor';

export const DEFAULT_PARITY: Tolerance = { atol: 2e-5, rtol: 1e-4 };

export async function checkCase(c: GradCase, device: Device): Promise<number> {
  const tolerance = c.parity ?? DEFAULT_PARITY;
  const expected = await float32Run(c, cpu);
  const actual = await float32Run(c, device);
  expectAllClose(actual.output, expected.output, tolerance, `${c.name}: output`);
  let worst = maxAbsDiff(actual.output, expected.output);
  expected.grads.forEach((e, k) => {
    expectAllClose(actual.grads[k]!, e, tolerance, `${c.name}: gradient of input ${k}`);
    worst = Math.max(worst, maxAbsDiff(actual.grads[k]!, e));
  });
  return worst;
}
