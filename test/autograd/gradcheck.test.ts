// Gradient checks on the CPU in float64: for every case of every differentiable op, the
// analytic vector-Jacobian product (backward with a random upstream gradient R) against
// central finite differences of sum(f(x) * R).
// Tolerance: |analytic - numeric| <= 1e-7 + 1e-6 |numeric|. With eps = 1e-6 in float64 the
// truncation error is O(eps^2) ~ 1e-12 and the rounding error ~ 1e-16 / eps = 1e-10, so this
// is loose enough never to flake and tight enough to catch any wrong rule (a factor, a sign,
// a transpose or a missing broadcast sum all give errors of order 1e-1).
import { describe, expect, it } from 'vitest';
import * as A from '@mini/autograd';
import * as T from '@mini/tensor';
import { differentiableOps } from '@mini/autograd';
import { expectAllClose, maxAbsDiff } from '../helpers/allclose.js';
import { type GradCase, gradCases, inputValues } from '../helpers/grad-cases.js';

const EPS = 1e-6;
const TOLERANCE = { atol: 1e-7, rtol: 1e-6 };
const f64 = (values: Float64Array, shape: number[]) => T.tensor(values, { dtype: 'float64', shape });

function evaluate(
  c: GradCase,
  values: Float64Array[],
  R: Float64Array | null,
): { out: Float64Array; grads: Array<Float64Array | null> } | number {
  return T.tidy(() => {
    const vars = values.map((v, i) => A.parameter(f64(v, c.inputs[i]!.shape)));
    const y = c.fn(vars, T.cpu);
    if (!R) return y.data; // forward only
    y.backward(f64(R, [...y.shape]));
    return vars.map((v) => v.grad);
  }) as never;
}

async function forwardDot(c: GradCase, values: Float64Array[], R: Float64Array): Promise<number> {
  const out = A.noGrad(() =>
    T.tidy(
      () =>
        c.fn(
          values.map((v, i) => A.constant(f64(v, c.inputs[i]!.shape))),
          T.cpu,
        ).data,
    ),
  );
  const y = await out.toArray();
  out.dispose();
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]! * R[i]!;
  return s;
}

const worst: string[] = [];

describe('gradient checks: analytic vs central finite differences (CPU, float64)', () => {
  for (const op of differentiableOps) {
    for (const c of gradCases[op]) {
      it(`${op}: ${c.name}`, async () => {
        const g = new T.Generator(17);
        const values = c.inputs.map((s) => inputValues(g, s.shape, s.domain));
        const outShape = A.noGrad(() =>
          T.tidy(
            () =>
              c.fn(
                values.map((v, i) => A.constant(f64(v, c.inputs[i]!.shape))),
                T.cpu,
              ).data.shape,
          ),
        );
        const R = g.normal(outShape.reduce((p, d) => p * d, 1));
        const analytic = evaluate(c, values, R) as unknown as Array<T.Tensor | null>;
        for (let k = 0; k < values.length; k++) {
          const numeric = new Float64Array(values[k]!.length);
          for (let i = 0; i < numeric.length; i++) {
            const plus = values.map((v) => Float64Array.from(v));
            const minus = values.map((v) => Float64Array.from(v));
            plus[k]![i]! += EPS;
            minus[k]![i]! -= EPS;
            numeric[i] = ((await forwardDot(c, plus, R)) - (await forwardDot(c, minus, R))) / (2 * EPS);
          }
          const grad = analytic[k];
          expect(grad, `gradient of input ${k}`).toBeTruthy();
          const got = await grad!.toArray();
          expect(grad!.shape).toEqual(c.inputs[k]!.shape);
          expectAllClose(got, numeric, TOLERANCE, `${op} (${c.name}) d/d input ${k}`);
          worst.push(
            `${op} (${c.name}) input ${k}: max |analytic - numeric| = ${maxAbsDiff(got, numeric).toExponential(2)}`,
          );
          grad!.dispose();
        }
      });
    }
  }

  it('prints the largest error of every check', () => {
    console.log(worst.join('\n'));
    expect(worst.length).toBeGreaterThan(0);
  });
});

describe('gradient-check coverage', () => {
  it('every differentiable op has at least one gradient check', () => {
    const missing = differentiableOps.filter((op) => !(gradCases[op]?.length > 0));
    expect(missing, 'ops without a gradient check').toEqual([]);
    expect(Object.keys(gradCases).sort()).toEqual([...differentiableOps].sort());
  });

  it('every node an op records names a registered op', () => {
    // Run every case once and walk its graph: a rule recorded under an unlisted name fails here.
    const seen = new Set<string>();
    for (const op of differentiableOps) {
      for (const c of gradCases[op]) {
        T.tidy(() => {
          const g = new T.Generator(1);
          const vars = c.inputs.map((s) => A.parameter(f64(inputValues(g, s.shape, s.domain), s.shape)));
          const stack = [c.fn(vars, T.cpu)];
          while (stack.length) {
            const v = stack.pop()!;
            if (v.node) {
              seen.add(v.node.op);
              stack.push(...v.node.inputs);
            }
          }
        });
      }
    }
    expect([...seen].filter((op) => !(differentiableOps as readonly string[]).includes(op))).toEqual([]);
    expect(
      [...differentiableOps].filter((op) => !seen.has(op)),
      'ops never recorded by their own cases',
    ).toEqual([]);
  });
});
