// WebGPU matmul against the CPU reference, in the adapter's own tiles: sizes off the tile,
// size 1, batched with broadcast batch dimensions, every transpose combination, and the bias
// epilogue (every tile of the table: matmul-tiles.test.ts).
import { describe, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { webgpuForTests } from '../helpers/devices.js';
import { expectParity } from '../helpers/parity.js';

const gpu = await webgpuForTests();
if (gpu) console.log(`WebGPU adapter under test: ${gpu.info.description}`);

// float32 accumulation over K <= 200 terms of N(0,1) products against a float64 reference:
// the error grows like sqrt(K) * eps * |terms| ~ 1e-6; 1e-5 leaves headroom, not slack.
const TOL = { atol: 1e-5, rtol: 1e-5 };

describe.runIf(gpu)('WebGPU matmul matches the CPU reference', () => {
  const cases: Array<[number, number, number]> = [
    [1, 1, 1],
    [65, 33, 70],
    [64, 64, 64],
    [3, 200, 129],
    [130, 17, 1],
  ];
  for (const [M, K, N] of cases) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`${M}x${K} @ ${K}x${N}, transA=${transA}, transB=${transB}`, async () => {
          await expectParity(
            gpu!,
            (device, g) => {
              const a = T.randn(transA ? [K, M] : [M, K], { device, generator: g });
              const b = T.randn(transB ? [N, K] : [K, N], { device, generator: g });
              return T.matmul(a, b, { transA, transB });
            },
            TOL,
            'matmul',
          );
        });
      }
    }
  }

  it('bias epilogue', async () => {
    await expectParity(
      gpu!,
      (device, g) =>
        T.matmul(T.randn([70, 40], { device, generator: g }), T.randn([50, 40], { device, generator: g }), {
          transB: true,
          bias: T.randn([50], { device, generator: g }),
        }),
      TOL,
      'matmul + bias',
    );
  });

  it('batched, with broadcast batch dimensions and a transposed view', async () => {
    await expectParity(
      gpu!,
      (device, g) =>
        T.matmul(T.randn([2, 1, 5, 7], { device, generator: g }), T.randn([3, 7, 4], { device, generator: g })),
      TOL,
      'broadcast batch',
    );
    await expectParity(
      gpu!,
      (device, g) => {
        const q = T.randn([2, 3, 9, 8], { device, generator: g });
        const k = T.randn([2, 3, 9, 8], { device, generator: g });
        return T.matmul(q, k.transpose(-2, -1)); // attention scores (B, nh, T, T)
      },
      TOL,
      'q @ k^T',
    );
    await expectParity(
      gpu!,
      (device, g) => T.matmul(T.randn([4, 6, 5], { device, generator: g }), T.randn([5, 3], { device, generator: g })),
      TOL,
      'batch @ matrix',
    );
  });

  it('split-K: a small output with a long inner dimension (every transpose, bias, a partial last slice)', async () => {
    // K = 3000 terms: |C| ~ sqrt(3000) ~ 55, float32 error ~ 1e-5 relative of that.
    const LONG = { atol: 3e-4, rtol: 1e-5 };
    for (const [transA, transB] of [
      [false, false],
      [true, true],
      [false, true],
    ] as const) {
      await expectParity(
        gpu!,
        (device, g) => {
          const a = T.randn(transA ? [3000, 5] : [5, 3000], { device, generator: g });
          const b = T.randn(transB ? [7, 3000] : [3000, 7], { device, generator: g });
          return T.matmul(a, b, { transA, transB, bias: T.randn([7], { device, generator: g }) });
        },
        LONG,
        `split-K transA=${transA} transB=${transB}`,
      );
    }
    await expectParity(
      gpu!,
      (device, g) =>
        T.matmul(T.randn([2, 3, 2048], { device, generator: g }), T.randn([2048, 4], { device, generator: g })),
      LONG,
      'split-K after folding the batch into rows',
    );
  });

  it('K = 0 gives zeros and an empty M gives an empty result', async () => {
    await expectParity(
      gpu!,
      (device) => [
        T.matmul(T.zeros([3, 0], { device }), T.zeros([0, 4], { device })),
        T.matmul(T.zeros([0, 5], { device }), T.zeros([5, 2], { device })),
      ],
      TOL,
      'degenerate',
    );
  });
});
