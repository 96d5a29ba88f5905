// WebGPU row kernels (reductions, softmax, layer norm, cross-entropy and their backward
// kernels) against the CPU reference, including rows longer than a workgroup and vocab-sized
// rows (50257 columns).
import { describe, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { webgpuForTests } from '../helpers/devices.js';
import { expectParity } from '../helpers/parity.js';

const gpu = await webgpuForTests();
if (gpu) console.log(`WebGPU adapter under test: ${gpu.info.description}`);

// Sums of n float32 terms in a different order than the float64 reference: error ~ n * eps *
// mean|x| in the worst case; for n <= 50257 terms of N(0,1) that is below 2e-3 absolute.
const SUM = { atol: 2e-3, rtol: 1e-5 };
// Max and argmax pick an element: exact.
const EXACT = { atol: 0, rtol: 0 };
// Normalised outputs in [0, 1] or O(1): exp's few ulp plus the row sum's rounding.
const NORMALISED = { atol: 1e-6, rtol: 2e-5 };

describe.runIf(gpu)('WebGPU reductions match the CPU reference', () => {
  for (const op of ['sum', 'mean', 'max', 'argmax'] as const) {
    it(op, async () => {
      const f = { sum: T.sum, mean: T.mean, max: T.max, argmax: T.argmax }[op];
      const tol = op === 'sum' || op === 'mean' ? SUM : EXACT;
      for (const [shape, axis] of [
        [[3, 257, 5], 0],
        [[3, 257, 5], 1],
        [[3, 257, 5], 2],
        [[1], 0],
        [[2, 50257], 1],
        [[1000, 3], 0],
      ] as const) {
        await expectParity(
          gpu!,
          (device, g) => f(T.randn([...shape], { device, generator: g }), axis),
          tol,
          `${op} ${shape} axis ${axis}`,
        );
      }
      if (op !== 'argmax') {
        const all = { sum: T.sum, mean: T.mean, max: T.max }[op]; // argmax needs an axis
        await expectParity(
          gpu!,
          (device, g) => all(T.randn([4, 300], { device, generator: g }).transpose()),
          tol,
          `${op} of all elements`,
        );
      }
    });
  }
});

describe.runIf(gpu)('WebGPU softmax matches the CPU reference', () => {
  it('plain rows: 1, 300 and 50257 columns', async () => {
    for (const shape of [
      [1, 1],
      [5, 300],
      [2, 50257],
    ]) {
      await expectParity(
        gpu!,
        (device, g) => T.softmax(T.randn(shape, { device, generator: g, std: 3 })),
        NORMALISED,
        `softmax ${shape}`,
      );
    }
  });
  it('causal, square and with more keys than queries (KV cache)', async () => {
    await expectParity(
      gpu!,
      (device, g) => T.softmax(T.randn([2, 3, 7, 7], { device, generator: g }), { causal: true }),
      NORMALISED,
      'causal 7x7',
    );
    await expectParity(
      gpu!,
      (device, g) => T.softmax(T.randn([2, 3, 300], { device, generator: g }), { causal: true }),
      NORMALISED,
      'causal 3x300',
    );
  });
  it('backward', async () => {
    await expectParity(
      gpu!,
      (device, g) => {
        const y = T.softmax(T.randn([6, 333], { device, generator: g }), { causal: false });
        return T.softmaxBackward(y, T.randn([6, 333], { device, generator: g }));
      },
      NORMALISED,
      'softmax backward',
    );
  });
});

describe.runIf(gpu)('WebGPU layer norm matches the CPU reference', () => {
  const cases = [
    [1, 1],
    [5, 300],
    [3, 2, 768],
    [257, 13],
  ];
  it('forward: output, mean and rstd', async () => {
    for (const shape of cases) {
      await expectParity(
        gpu!,
        (device, g) => {
          const C = shape[shape.length - 1]!;
          const r = T.layerNorm(
            T.randn(shape, { device, generator: g, mean: 1, std: 2 }),
            T.randn([C], { device, generator: g }),
            T.randn([C], { device, generator: g }),
          );
          return [r.out, r.mean, r.rstd];
        },
        { atol: 2e-5, rtol: 2e-5 },
        `layerNorm ${shape}`,
      );
    }
  });
  it('backward: dx, dweight, dbias', async () => {
    for (const shape of cases) {
      await expectParity(
        gpu!,
        (device, g) => {
          const C = shape[shape.length - 1]!;
          const x = T.randn(shape, { device, generator: g });
          const w = T.randn([C], { device, generator: g });
          const r = T.layerNorm(x, w, T.zeros([C], { device }));
          const grads = T.layerNormBackward(T.randn(shape, { device, generator: g }), x, w, r.mean, r.rstd);
          return [grads.dx, grads.dweight, grads.dbias];
        },
        { atol: 5e-5, rtol: 5e-5 },
        `layerNormBackward ${shape}`,
      );
    }
  });
});

describe.runIf(gpu)('WebGPU cross-entropy matches the CPU reference', () => {
  const build = (N: number, V: number, ignored: number[]) => (device: T.Device, g: T.Generator) => {
    const logits = T.randn([N, V], { device, generator: g, std: 2 });
    const ids = Array.from(g.integers(N, 0, V));
    for (const i of ignored) ids[i] = -100;
    const targets = T.tensor(ids, { device, dtype: 'int32' });
    const r = T.crossEntropy(logits, targets);
    const dlogits = T.crossEntropyBackward(logits, targets, r, T.full([], 0.5, { device }));
    return [r.loss, r.count, r.logsumexp, dlogits];
  };
  it('vocab-sized rows with ignored targets', async () => {
    await expectParity(gpu!, build(3, 50257, [1]), { atol: 1e-5, rtol: 2e-5 }, 'cross-entropy 3x50257');
  });
  it('small and degenerate shapes', async () => {
    await expectParity(gpu!, build(7, 13, [0, 6]), { atol: 1e-6, rtol: 2e-5 }, 'cross-entropy 7x13');
    await expectParity(gpu!, build(1, 1, []), { atol: 1e-6, rtol: 2e-5 }, 'cross-entropy 1x1');
    await expectParity(
      gpu!,
      build(2, 5, [0, 1]),
      { atol: 1e-6, rtol: 2e-5 },
      'cross-entropy, every row ignored (NaN loss)',
    );
  });
});
