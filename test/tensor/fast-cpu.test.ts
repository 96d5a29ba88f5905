// The fast CPU backend's WebAssembly SIMD matmul against the reference, on awkward shapes:
// sizes off the 4 x 8 micro-tile and the 128 x 256 cache blocks, K beyond one block, the small-M
// (decoding) paths, transposed views, broadcast batches and the bias epilogue.
import { describe, it } from 'vitest';
import * as T from '@mini/tensor';
import { expectAllClose } from '../helpers/allclose.js';

// float32 accumulation against the reference's float64: error ~ sqrt(K) eps |terms|.
const TOL = { atol: 2e-4, rtol: 1e-5 };

async function compare(sa: number[], sb: number[], options: { transA?: boolean; transB?: boolean; bias?: number } = {}): Promise<void> {
  const build = (device: T.Device) => {
    const g = new T.Generator(3);
    const a = T.randn(sa, { device, generator: g });
    const b = T.randn(sb, { device, generator: g });
    const bias = options.bias ? T.randn([options.bias], { device, generator: g }) : undefined;
    return T.matmul(a, b, { transA: options.transA, transB: options.transB, bias });
  };
  const expected = await build(T.cpu).toArray();
  const actual = await build(T.fastCpu).toArray();
  expectAllClose(actual, expected, TOL, `matmul ${sa} @ ${sb} ${JSON.stringify(options)}`);
}

describe('fast CPU matmul (WebAssembly SIMD) matches the reference', () => {
  it('general shapes and block edges', async () => {
    await compare([1, 1], [1, 1]);
    await compare([9, 13], [13, 17]);
    await compare([130, 300], [300, 45]);
    await compare([129, 257], [257, 9], { bias: 9 });
  });
  it('every transpose combination', async () => {
    for (const [transA, transB] of [[false, true], [true, false], [true, true]] as const) {
      await compare(transA ? [70, 33] : [33, 70], transB ? [21, 70] : [70, 21], { transA, transB });
    }
  });
  it('small M (decoding): row-contiguous and column-contiguous B, and the fallback', async () => {
    await compare([1, 300], [300, 77]);
    await compare([3, 300], [77, 300], { transB: true, bias: 77 });
    await compare([300, 2], [300, 77], { transA: true });
  });
  it('batched, with a broadcast operand', async () => {
    await compare([2, 3, 9, 8], [8, 5]);
    await compare([2, 1, 6, 7], [3, 7, 4]);
    await compare([4, 5, 6], [4, 7, 6], { transB: true });
  });
});
