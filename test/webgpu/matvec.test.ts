// The matvec kernel (matvec.wgsl: every matmul of at most 4 rows) against the CPU reference:
// M = 1..5 (5 is the first product back on the register-tiled matmul), K and N of 1, 7, 768, 3072 and
// 50257, both layouts of A and B, float32, float16 and bfloat16 weights (packed two to a word
// where rows start on a word, element by element where they do not), bias, batches with a
// broadcast weight, K past the 16,384 a dispatch takes on llvmpipe (accumulated blocks there; one
// dispatch on SwiftShader), and weights
// larger than one storage binding.
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { webgpuForTests } from '../helpers/devices.js';
import { expectParity } from '../helpers/parity.js';

const gpu = await webgpuForTests();
if (gpu) console.log(`WebGPU adapter under test: ${gpu.info.description}`);

// float32 sums of K products of N(0,1) terms in a different order from the reference: each
// addition rounds by up to eps/2 of a partial sum of size ~sqrt(i), so the error's standard
// deviation is about 2.4e-8 K on each side; 2e-7 K is 4 of them on the difference of two
// (the 64x64 kernel at M = 5 and K = 768 is off by 6e-5 where this allows 1.5e-4). 16-bit
// weights are widened exactly on both sides, so the same bound holds.
const tol = (K: number) => ({ atol: 2e-7 * K, rtol: 1e-5 });

type Weight = 'float32' | 'float16' | 'bfloat16';
const WEIGHTS: Weight[] = ['float32', 'float16', 'bfloat16'];

/** randn weights stored in `dtype` (the same values on every device: cast from float32). */
function weight(shape: number[], dtype: Weight, device: T.Device, generator: T.Generator): T.Tensor {
  const w = T.randn(shape, { device, generator });
  return dtype === 'float32' ? w : w.astype(dtype);
}

describe.runIf(gpu)('WebGPU matvec (M <= 4) matches the CPU reference', () => {
  // (M, K, N): every M with small and GPT-2-sized shapes; 50257 as N (the head) and as K.
  const cases: Array<[number, number, number]> = [
    [1, 1, 1],
    [2, 7, 1],
    [3, 1, 7],
    [4, 7, 7],
    [5, 7, 7],
    [1, 768, 3072],
    [2, 3072, 768],
    [3, 768, 7],
    [4, 3072, 1],
    [5, 768, 768],
  ];
  for (const [M, K, N] of cases) {
    for (const transB of [false, true]) {
      it.each(WEIGHTS)(`${M}x${K} @ ${K}x${N}, transB=${transB}, %s weight`, async (dtype) => {
        await expectParity(
          gpu!,
          (device, g) =>
            T.matmul(T.randn([M, K], { device, generator: g }), weight(transB ? [N, K] : [K, N], dtype, device, g), {
              transB,
            }),
          tol(K),
          'matvec',
        );
      });
    }
  }

  it.each(WEIGHTS)('the tied head: 1x768 @ (50257x768)^T, %s weight', async (dtype) => {
    await expectParity(
      gpu!,
      (device, g) =>
        T.matmul(T.randn([1, 768], { device, generator: g }), weight([50257, 768], dtype, device, g), { transB: true }),
      tol(768),
      'head',
    );
  });

  it.each(WEIGHTS)('N = 50257 from a plain weight, and K = 50257 (blocks of K accumulate), %s', async (dtype) => {
    await expectParity(
      gpu!,
      (device, g) => [
        T.matmul(T.randn([2, 7], { device, generator: g }), weight([7, 50257], dtype, device, g)),
        T.matmul(T.randn([3, 50257], { device, generator: g }), weight([50257, 7], dtype, device, g)),
        T.matmul(T.randn([4, 50257], { device, generator: g }), weight([7, 50257], dtype, device, g), { transB: true }),
      ],
      tol(50257),
      'long N and K',
    );
  });

  it.each(WEIGHTS)('bias, and a transposed A (the backward of a decoded row), %s weight', async (dtype) => {
    await expectParity(
      gpu!,
      (device, g) => {
        const bias = T.randn([50], { device, generator: g });
        return [
          T.matmul(T.randn([3, 40], { device, generator: g }), weight([40, 50], dtype, device, g), { bias }),
          T.matmul(T.randn([1, 40], { device, generator: g }), weight([50, 40], dtype, device, g), {
            transB: true,
            bias,
          }),
          T.matmul(T.randn([40, 4], { device, generator: g }), weight([40, 50], dtype, device, g), { transA: true }),
          T.matmul(T.randn([40, 2], { device, generator: g }), weight([50, 40], dtype, device, g), {
            transA: true,
            transB: true,
          }),
        ];
      },
      tol(40),
      'bias and transA',
    );
  });

  it.each(WEIGHTS)('16-bit rows off a word (odd row length, odd offset), %s weight', async (dtype) => {
    await expectParity(
      gpu!,
      (device, g) => {
        const w = weight([33, 21], dtype, device, g); // rows of 21 elements: every other one starts mid-word
        const tail = w.slice(0, 1, 33); // starts at element 21
        const x = T.randn([2, 33], { device, generator: g });
        return [
          T.matmul(x, w),
          T.matmul(T.randn([3, 21], { device, generator: g }), w, { transB: true }),
          T.matmul(x.slice(1, 0, 32), tail),
        ];
      },
      tol(33),
      'unaligned rows',
    );
  });

  it.each(WEIGHTS)('batched decoding shapes: q @ k^T and weights @ v per head, %s', async (dtype) => {
    await expectParity(
      gpu!,
      (device, g) => {
        const q = T.randn([2, 3, 1, 8], { device, generator: g });
        const k = weight([2, 3, 9, 8], dtype, device, g);
        const v = weight([2, 3, 9, 8], dtype, device, g);
        const w = T.randn([2, 3, 1, 9], { device, generator: g });
        return [
          T.matmul(q, k, { transB: true }),
          T.matmul(w, v),
          T.matmul(T.randn([4, 2, 5], { device, generator: g }), weight([5, 6], dtype, device, g)),
        ];
      },
      tol(9),
      'batched',
    );
  });
});

// Binding windows: the weight is larger than one storage binding, so the host cuts N into
// windows whose first element may fall mid-word for a 16-bit weight.
const LIMIT = 4096 + 256;
const small = await webgpuForTests({ maxBindingBytes: LIMIT });

describe.runIf(small)('WebGPU matvec with storage bindings limited to 4352 bytes', () => {
  it('the limit is really lowered', () => {
    expect((small!.backend as unknown as { maxBindingBytes: number }).maxBindingBytes).toBe(LIMIT);
  });
  it.each(WEIGHTS)('x @ w^T and x @ w from a split %s weight', async (dtype) => {
    await expectParity(
      small!,
      (device, g) => [
        T.matmul(T.randn([1, 21], { device, generator: g }), weight([301, 21], dtype, device, g), { transB: true }),
        T.matmul(T.randn([3, 20], { device, generator: g }), weight([20, 301], dtype, device, g)),
        T.matmul(T.randn([2, 301], { device, generator: g }), weight([301, 20], dtype, device, g)),
      ],
      tol(301),
      'split weight',
    );
  });
});
