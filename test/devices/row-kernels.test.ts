// The row kernels of a training step on every device against the CPU reference, on awkward
// sizes: softmax (causal, with a KV-cache offset) and its backward, layer norm forward and
// backward, fused cross-entropy forward and backward (ignored targets, GPT-2's vocabulary),
// embedding gather and scatter-add (repeated ids),
// sum and mean over every axis position, and strided copies (attention's permutes, slices,
// more than four dimensions). Sizes straddle the SIMD width (4) and the threads' split (rows
// large enough to run on every thread) so the tails and every part are exercised.
// Tolerances (float32 both sides; the reference computes in float64 and rounds once):
// - exp-based kernels (softmax, cross-entropy): the fast CPU's float32 exp is about 1 ulp,
//   its sums are float64: 1e-6 absolute (probabilities) + 1e-5 relative.
// - layer norm: float32 products of normalised values: 1e-5 + 1e-5 relative.
// - sums, means: float64 accumulation on CPU devices (one rounding, 1e-6 relative); float32
//   on WebGPU.
// - copies, and arithmetic (one float32 rounding) on CPU devices: bit-identical.
// Exclusions: the CPU reference itself (the oracle).
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import type { Device, Generator } from '@mini/tensor/node';
import { devicesUnderTest } from '../helpers/devices.js';
import { expectParity } from '../helpers/parity.js';

const devices = (await devicesUnderTest()).filter((d) => !d.isReference);

const EXP = { atol: 1e-6, rtol: 1e-5 };
const NORM = { atol: 1e-5, rtol: 1e-5 };
// CPU devices sum in float64; WebGPU in float32 (sums of up to 40001 values of size ~2 here).
const SUM = (device: Device) => (device.kind === 'cpu' ? { atol: 1e-6, rtol: 1e-6 } : { atol: 2e-4, rtol: 2e-5 });
const EXACT = { atol: 0, rtol: 0 };
// One correctly rounded float32 operation: bit-identical on CPU devices, one ulp on WebGPU (whose division may be a few ulp).
const CPU_EXACT = (device: Device) => (device.kind === 'cpu' ? EXACT : { atol: 0, rtol: 3e-7 });

const randn = (shape: number[], device: Device, g: Generator, std = 1) => T.randn(shape, { device, generator: g, std });

describe.runIf(devices.length > 0)('row kernels of a training step match the CPU reference', () => {
  describe.each(devices)('$name', ({ device: dev }) => {
    it('softmax and its backward: plain, causal, causal with a KV-cache offset', async () => {
      const cases: Array<[number[], boolean]> = [
        [[1, 1], false],
        [[3, 5], false],
        [[2, 3, 67, 67], true],
        [[2, 3, 5, 9], true],
        [[64, 1031], false],
        [[1, 2, 1, 7], true],
      ];
      for (const [shape, causal] of cases) {
        await expectParity(
          dev,
          (device, g) => {
            const y = T.softmax(randn(shape, device, g, 4), { causal });
            return [y, T.softmaxBackward(y, randn(shape, device, g))];
          },
          EXP,
          `softmax ${shape}${causal ? ' causal' : ''}`,
        );
      }
    });

    it('layer norm and its backward, C a multiple of 4 or not, rows over the threads', async () => {
      for (const [N, C] of [
        [1, 4],
        [3, 6],
        [5, 768],
        [300, 132],
        [2, 1],
        // The parameter gradients' column blocks (32 rows x 64 columns): partial last ones.
        [33, 65],
        [97, 130],
        [1000, 7],
      ]) {
        await expectParity(
          dev,
          (device, g) => {
            const x = T.add(randn([N!, C!], device, g, 3), 0.5);
            const w = randn([C!], device, g);
            const { out, mean, rstd } = T.layerNorm(x, w, randn([C!], device, g), 1e-5);
            const { dx, dweight, dbias } = T.layerNormBackward(randn([N!, C!], device, g), x, w, mean, rstd);
            return [out, mean, rstd, dx, dweight, dbias];
          },
          NORM,
          `layerNorm ${N}x${C}`,
        );
      }
    });

    it('cross-entropy and its backward: ignored targets, odd and GPT-2-sized vocabularies', async () => {
      for (const [N, V] of [
        [1, 1],
        [4, 7],
        [33, 1001],
        [9, 50257],
      ]) {
        await expectParity(
          dev,
          (device, g) => {
            const logits = randn([N!, V!], device, g, 3);
            const ids = Array.from({ length: N! }, (_, i) => (i % 4 === 1 ? -100 : (i * 7919) % V!));
            const targets = T.tensor(ids, { dtype: 'int32', device });
            const { loss, logsumexp, count } = T.crossEntropy(logits, targets);
            const dlogits = T.crossEntropyBackward(
              logits,
              targets,
              { logsumexp, count },
              T.tensor([0.7], { device, shape: [] }),
            );
            return [loss, logsumexp, count, dlogits];
          },
          EXP,
          `crossEntropy ${N}x${V}`,
        );
      }
    });

    it('sum, mean and max over the first, middle, last, adjacent and every axis; two passes for long axes', async () => {
      const cases: Array<[number[], number | number[] | undefined]> = [
        // Few outputs over a long axis: pieces of 4096 rows, then a pass over the pieces.
        [[40001], undefined],
        [[3, 9000, 2], 1],
        [[8193, 1], 0],
        // Adjacent axes of a contiguous tensor reduce as one (bias gradients over (B, T)).
        [
          [2, 37, 48],
          [0, 1],
        ],
        [
          [3, 4, 5, 6],
          [1, 2],
        ],
        [
          [3, 4, 5],
          [2, 0],
        ],
        [[1031, 67], 0],
        [[3, 1000, 5], 1],
        [[5, 40001], 1],
        [[512, 768], 0],
        [[7, 3], 1],
        [[2, 3, 4], undefined],
        [[3, 0], 1],
      ];
      for (const [shape, axis] of cases) {
        await expectParity(
          dev,
          (device, g) => {
            const x = randn(shape, device, g, 2);
            return x.size === 0 ? [T.sum(x, axis)] : [T.sum(x, axis), T.mean(x, axis), T.max(x, axis)];
          },
          SUM(dev),
          `sum/mean ${shape} axis ${axis}`,
        );
      }
    });

    it('embedding gather and scatter-add: repeated ids, C not a multiple of 4, rows over the threads', async () => {
      for (const [N, V, C] of [
        [1, 1, 1],
        [6, 4, 7],
        [600, 50, 100],
        [512, 1000, 768],
      ]) {
        await expectParity(
          dev,
          (device, g) => {
            const table = randn([V!, C!], device, g);
            const ids = T.tensor(
              Array.from({ length: N! }, (_, i) => (i * i + 3 * i) % V!),
              { dtype: 'int32', shape: [N!], device },
            );
            return [T.embedding(table, ids), T.embeddingBackward(randn([N!, C!], device, g), ids, V!)];
          },
          SUM(dev),
          `embedding N=${N} V=${V} C=${C}`,
        );
      }
      if (dev.kind !== 'cpu') return; // WebGPU's gather reads ids on the GPU and cannot throw (noted in issue 16's report)
      const table = T.zeros([4, 8], { device: dev });
      expect(() => T.embedding(table, T.tensor([1, 4], { dtype: 'int32', device: dev }))).toThrow(
        /id 4 at position 1 is outside the table's 4 rows/,
      );
      table.dispose();
    });

    it('add, sub, mul, div and the scalar forms, split over the threads (bit-identical)', async () => {
      for (const n of [5, 100_003]) {
        await expectParity(
          dev,
          (device, g) => {
            const a = randn([n], device, g, 3);
            const b = T.add(T.abs(randn([n], device, g)), 0.1);
            return [
              T.add(a, b),
              T.sub(a, b),
              T.mul(a, b),
              T.div(a, b),
              T.add(a, 0.7),
              T.mul(a, 1 / Math.sqrt(64)),
              T.mul(a, 0.3),
            ];
          },
          CPU_EXACT(dev),
          `arithmetic n=${n}`,
        );
      }
    });

    it('strided copies: attention permutes both ways, a sliced transpose, five dimensions, int32', async () => {
      const builds: Array<[string, (device: Device, g: Generator) => T.Tensor]> = [
        ['heads out', (device, g) => randn([2, 67, 3, 16], device, g).permute([0, 2, 1, 3]).contiguous()],
        ['heads in', (device, g) => randn([2, 3, 67, 16], device, g).permute([0, 2, 1, 3]).contiguous()],
        ['transpose of a slice', (device, g) => randn([300, 257], device, g).slice(1, 3, 250).transpose().contiguous()],
        ['five dimensions', (device, g) => randn([2, 3, 4, 5, 6], device, g).permute([4, 2, 0, 3, 1]).contiguous()],
        ['int32', (device, g) => T.randint(0, 99, [40, 33], { device, generator: g }).transpose().contiguous()],
        [
          'copyInto a strided slice',
          (device, g) => {
            const x = T.zeros([300, 70], { device });
            T.copyInto(x.slice(1, 5, 69).transpose(), randn([64, 300], device, g));
            return x;
          },
        ],
      ];
      for (const [what, build] of builds) await expectParity(dev, build, EXACT, `copy: ${what}`);
    });
  });
});
