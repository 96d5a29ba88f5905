// The composite check on the CPU: a 2-layer, 2-head transformer's loss gradient, for a sample
// of coordinates of every parameter, against central finite differences in float64.
// Tolerance as the per-op checks: 1e-7 + 1e-6 |numeric| (eps = 1e-6, float64).
import { describe, expect, it } from 'vitest';
import * as A from '@mini/autograd';
import * as T from '@mini/tensor';
import { loss, parameterShapes, parameterValues } from '../helpers/mini-transformer.js';

const values = parameterValues(4);
const variables = (vals: Record<string, Float64Array>, requiresGrad: boolean) =>
  Object.fromEntries(Object.entries(parameterShapes()).map(([name, shape]) => {
    const t = T.tensor(vals[name]!, { dtype: 'float64', shape });
    return [name, requiresGrad ? A.parameter(t) : A.constant(t)];
  }));

async function lossAt(vals: Record<string, Float64Array>): Promise<number> {
  const l = A.noGrad(() => T.tidy(() => loss(variables(vals, false), T.cpu).data));
  const v = await l.item();
  l.dispose();
  return v;
}

describe('composite gradient check: 2-layer 2-head transformer (CPU, float64)', () => {
  it('every parameter gradient matches finite differences at sampled coordinates', async () => {
    const params = variables(values, true);
    const l = loss(params, T.cpu);
    const initial = await l.data.item();
    expect(initial).toBeGreaterThan(0);
    l.backward();
    const eps = 1e-6;
    const report: string[] = [];
    for (const [name, p] of Object.entries(params)) {
      const grad = await p.grad!.toArray();
      const n = grad.length;
      for (const i of [0, Math.floor(n / 2), n - 1]) {
        const plus = { ...values, [name]: Float64Array.from(values[name]!) };
        const minus = { ...values, [name]: Float64Array.from(values[name]!) };
        plus[name]![i]! += eps;
        minus[name]![i]! -= eps;
        const numeric = ((await lossAt(plus)) - (await lossAt(minus))) / (2 * eps);
        const err = Math.abs(grad[i]! - numeric);
        report.push(`${name}[${i}] ${grad[i]!.toExponential(4)} vs ${numeric.toExponential(4)} (|diff| ${err.toExponential(1)})`);
        expect(err, `${name}[${i}]: analytic ${grad[i]} vs numeric ${numeric}`).toBeLessThanOrEqual(1e-7 + 1e-6 * Math.abs(numeric));
      }
    }
    console.log(report.join('\n'));
  });
});
