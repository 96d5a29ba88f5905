// The multi-tensor AdamW (adamwUpdateMany) against one adamwUpdate per tensor on the same
// device: bit-identical, over awkward lengths (1, 3, 4097, ...), decay and no-decay groups,
// moments that are views of one flat tensor (as the optimizer keeps them) beside separate
// ones, a strided gradient, and more entries than one WebGPU dispatch takes (its table holds
// 12, its bindings 12 or 16 on the software adapters), so the grouping is exercised. Then
// against the CPU reference (WebGPU's float32 sqrt and division: a few ulp), and the errors.
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import type { Device, Tensor } from '@mini/tensor/node';
import { devicesUnderTest } from '../helpers/devices.js';

const devices = await devicesUnderTest();
const LENGTHS = [1, 3, 4097, 64, 65, 256, 255, 1000, 7, 2, 5, 3072, 1, 33, 129, 768, 4, 17, 300, 9, 11, 4096, 8, 1];
const HYPER = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 };

interface Case {
  params: Tensor[];
  m: Tensor[];
  v: Tensor[];
  grads: Tensor[][];
  decay: number[];
  dispose(): void;
}

/** Params, moments (views of one flat tensor for even entries), three steps' gradients, from one seed. */
function makeCase(device: Device, seed: number): Case {
  const g = new T.Generator(seed);
  const params = LENGTHS.map((n, i) => T.randn(i % 5 === 2 ? [n, 1] : [n], { device, generator: g }));
  const total = LENGTHS.reduce((a, n) => a + Math.ceil(n / 64) * 64, 0);
  const flats = [T.zeros([total], { device }), T.zeros([total], { device })];
  const m: Tensor[] = [];
  const v: Tensor[] = [];
  let at = 0;
  LENGTHS.forEach((n, i) => {
    for (const [list, flat] of [
      [m, flats[0]!],
      [v, flats[1]!],
    ] as const) {
      const part = i % 2 === 0 ? flat.slice(0, at, at + n) : T.zeros([n], { device });
      list.push(part.reshape(params[i]!.shape));
      part.dispose();
    }
    at += Math.ceil(n / 64) * 64;
  });
  for (const f of flats) f.dispose();
  const grads = [1, 2, 3].map(() =>
    params.map((p, i) =>
      // Entry 4's gradient is a transposed (strided) view.
      i === 4
        ? T.randn([1, p.size], { device, generator: g }).transpose().reshape(p.shape)
        : T.randn(p.shape, { device, generator: g }),
    ),
  );
  const decay = LENGTHS.map((_, i) => (i % 3 === 0 ? 0 : 0.1));
  return {
    params,
    m,
    v,
    grads,
    decay,
    dispose: () => {
      for (const t of [...params, ...m, ...v, ...grads.flat()]) t.dispose();
    },
  };
}

async function values(ts: Tensor[]): Promise<number[][]> {
  return Promise.all(ts.map(async (t) => [...(await t.toArray())]));
}

describe.each(devices)('adamwUpdateMany on $name', ({ device }) => {
  it('gives the bits of one adamwUpdate per tensor (decay groups, flat and separate moments)', async () => {
    const one = makeCase(device, 7);
    const many = makeCase(device, 7);
    const before =
      device.kind === 'webgpu'
        ? (device.backend as unknown as { counters: { dispatches: number } }).counters.dispatches
        : 0;
    for (let step = 1; step <= 3; step++) {
      one.params.forEach((p, i) =>
        T.adamwUpdate(p, one.grads[step - 1]![i]!, one.m[i]!, one.v[i]!, {
          ...HYPER,
          weightDecay: one.decay[i]!,
          step,
        }),
      );
      T.adamwUpdateMany(
        many.params.map((param, i) => ({
          param,
          grad: many.grads[step - 1]![i]!,
          m: many.m[i]!,
          v: many.v[i]!,
          weightDecay: many.decay[i],
        })),
        { ...HYPER, step },
      );
    }
    for (const k of ['params', 'm', 'v'] as const) expect(await values(many[k]), k).toEqual(await values(one[k]));
    if (device.kind === 'webgpu') {
      // 3 steps: 3 x 24 single dispatches (+ a strided grad's copy each) against a few grouped ones.
      const dispatches =
        (device.backend as unknown as { counters: { dispatches: number } }).counters.dispatches - before;
      expect(dispatches).toBeLessThan(3 * 24 + 3 * 2 + 3 * 12);
    }
    one.dispose();
    many.dispose();
  });

  it("weightDecay defaults to the step's, and the result matches the CPU reference", async () => {
    const here = makeCase(device, 11);
    const ref = makeCase(T.cpu, 11);
    for (const c of [here, ref]) {
      T.adamwUpdateMany(
        c.params.map((param, i) => ({ param, grad: c.grads[0]![i]!, m: c.m[i]!, v: c.v[i]! })),
        { ...HYPER, step: 1 },
      );
    }
    const tol = device.kind === 'webgpu' ? 4e-6 : 0;
    for (const k of ['params', 'm', 'v'] as const) {
      const [a, b] = [await values(here[k]), await values(ref[k])];
      a.forEach((row, i) =>
        row.forEach((x, j) =>
          expect(Math.abs(x - b[i]![j]!), `${k}[${i}][${j}]`).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i]![j]!))),
        ),
      );
    }
    here.dispose();
    ref.dispose();
  });

  it('checks every entry before updating any, naming the entry', async () => {
    const p = T.ones([3], { device });
    const bad = T.ones([4], { device });
    const z = () => T.zeros([3], { device });
    const [m0, v0, m1, v1] = [z(), z(), z(), z()];
    const step = { ...HYPER, step: 1 };
    expect(() =>
      T.adamwUpdateMany(
        [
          { param: p, grad: p, m: m0, v: v0 },
          { param: p, grad: bad, m: m1, v: v1 },
        ],
        step,
      ),
    ).toThrow(/adamw \(entry 1\): grad \[4\] does not match param \[3\]/);
    expect([...(await p.toArray())]).toEqual([1, 1, 1]);
    expect(() => T.adamwUpdateMany([{ param: p, grad: p, m: m0, v: v0 }], { ...HYPER, step: 0 })).toThrow(
      /step must be an integer >= 1/,
    );
    expect(() => T.adamwUpdateMany([{ param: p, grad: p, m: m0, v: v0, weightDecay: Number.NaN }], step)).toThrow(
      /entry 0\): weightDecay must be a finite number/,
    );
    T.adamwUpdateMany([], step); // nothing to do
    for (const t of [p, bad, m0, v0, m1, v1]) t.dispose();
  });
});
