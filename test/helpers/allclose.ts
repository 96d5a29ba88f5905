/**
 * An all-close check that says where and by how much: |a - e| <= atol + rtol * |e| for every
 * element, NaN only where NaN is expected. On failure it names the worst element and the
 * first mismatches.
 */
import { expect } from 'vitest';

export interface Tolerance {
  atol: number;
  rtol: number;
}

export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  return worst;
}

export function expectAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol, rtol }: Tolerance,
  what = 'values',
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const bad: string[] = [];
  let worst = -1;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (!(Number.isNaN(e) && Number.isNaN(a))) bad.push(`[${i}] ${a} vs ${e}`);
      continue;
    }
    const err = Math.abs(a - e);
    const excess = err - (atol + rtol * Math.abs(e));
    if (excess > 0) {
      if (bad.length < 5) bad.push(`[${i}] ${a} vs ${e} (|diff| ${err.toExponential(2)})`);
      if (excess > worst) {
        worst = excess;
        worstAt = i;
      }
    }
  }
  if (bad.length > 0) {
    const where = worstAt >= 0 ? `; worst at [${worstAt}]: ${actual[worstAt]} vs ${expected[worstAt]}` : '';
    expect.fail(
      `${what}: ${bad.length}+ elements outside atol ${atol} + rtol ${rtol}${where}; first: ${bad.join(', ')}`,
    );
  }
}
