// The split-K matvec (matvec_splitk.wgsl: decoding's products on hardware adapters) against the
// CPU reference, forced on this project's software adapter (which keeps the column layout by
// default: MatmulProfile.matvecSplitK), twice: with subgroups where the adapter offers them
// (SwiftShader does: lib_matvec_sum_subgroups.wgsl must be the text that ran; llvmpipe does
// not: the workgroup-memory tree must be) and with subgroups off. Issue 22's awkward shapes:
// M = 1..5 (5 is back on the tiled matmul), K and N of 1, 7, 768, 3072 and 50257, both weight
// layouts, float32/float16/bfloat16 weights (packed two a word, and rows off a word), bias,
// a transposed A, batches; decodeLinear's fusions (layer norm before, GELU, residual) and the
// tied head with ln_f; and a 12-layer model's cached greedy tokens equal to the CPU device's.
// Every case checks that the split-K pipeline ran (counters.splitKMatvecs).
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt';
import * as T from '@mini/tensor/node';
import type { WebGPUBackend } from '../../packages/tensor/src/webgpu/backend.js';
import { webgpuForTests } from '../helpers/devices.js';
import { expectParity } from '../helpers/parity.js';

const gpu = await webgpuForTests();
const splitSub = gpu ? await webgpuForTests({ matvecSplitK: true }) : null;
const splitPlain = gpu ? await webgpuForTests({ matvecSplitK: true, subgroups: false }) : null;
const backendOf = (d: T.Device) => d.backend as WebGPUBackend;
const swiftshader = gpu ? /swiftshader/i.test(gpu.info.description) : false;
if (gpu) console.log(`WebGPU adapter under test: ${gpu.info.description}`);

// As matvec.test.ts: float32 sums of K products in another order (2e-7 K absolute); layer
// norm and GELU add a few float32 roundings of O(1) values.
const tol = (K: number) => ({ atol: 2e-7 * K + 1e-6, rtol: 1e-5 });

type Weight = 'float32' | 'float16' | 'bfloat16';
const WEIGHTS: Weight[] = ['float32', 'float16', 'bfloat16'];

function weight(shape: number[], dtype: Weight, device: T.Device, generator: T.Generator, scale = 1): T.Tensor {
  const w = T.mul(T.randn(shape, { device, generator }), scale);
  return dtype === 'float32' ? w : w.astype(dtype);
}

function norm(C: number, device: T.Device, generator: T.Generator) {
  const w = T.add(T.mul(T.randn([C], { device, generator }), 0.1), 1);
  return { weight: w, bias: T.mul(T.randn([C], { device, generator }), 0.1), eps: 1e-5 };
}

/** expectParity on `device`, and that it dispatched the split-K matvec at least once (M <= 4). */
async function parity(
  device: T.Device,
  fn: (d: T.Device, g: T.Generator) => T.Tensor | T.Tensor[],
  K: number,
  label: string,
  splitK = true,
) {
  const before = backendOf(device).counters.splitKMatvecs;
  await expectParity(device, fn, tol(K), label);
  const ran = backendOf(device).counters.splitKMatvecs - before;
  if (splitK) expect(ran, `${label}: split-K dispatches`).toBeGreaterThan(0);
  else expect(ran, `${label}: split-K dispatches`).toBe(0);
}

describe.runIf(gpu)('the matvec layout rule', () => {
  it('a software adapter keeps the column layout unless told; the option forces split-K', () => {
    expect(gpu!.info.description).toMatch(/software/);
    expect(backendOf(gpu!).matvecSplitK).toBe(false);
    expect(backendOf(splitSub!).matvecSplitK).toBe(true);
    expect(T.MATMUL_PROFILES.hardware.matvecSplitK).toBe(true);
    expect(T.MATMUL_PROFILES.swiftshader.matvecSplitK).toBe(false);
    expect(T.MATMUL_PROFILES.llvmpipe.matvecSplitK).toBe(false);
  });

  it('the default device runs matvec.wgsl, not the split-K kernel', async () => {
    await parity(
      gpu!,
      (d, g) =>
        T.matmul(T.randn([1, 7], { device: d, generator: g }), weight([9, 7], 'float32', d, g), { transB: true }),
      7,
      'default layout',
      false,
    );
  });
});

for (const [label, device] of [
  ['subgroups where offered', splitSub],
  ['subgroups off', splitPlain],
] as const) {
  describe.runIf(gpu)(`the split-K matvec, ${label}, matches the CPU reference`, () => {
    const cases: Array<[number, number, number]> = [
      [1, 1, 1],
      [2, 7, 1],
      [3, 1, 7],
      [4, 7, 7],
      [1, 768, 3072],
      [2, 3072, 768],
      [3, 768, 7],
      [4, 3072, 1],
      [4, 7, 50257],
      [1, 50257, 7],
    ];
    it.each(WEIGHTS)('M = 1..4, K and N of 1, 7, 768, 3072, 50257, both layouts, %s weight', async (dtype) => {
      for (const [M, K, N] of cases)
        for (const transB of [false, true])
          await parity(
            device!,
            (d, g) =>
              T.matmul(T.randn([M, K], { device: d, generator: g }), weight(transB ? [N, K] : [K, N], dtype, d, g), {
                transB,
              }),
            K,
            `${M}x${K} @ ${K}x${N} transB=${transB}`,
          );
    });

    it.each(WEIGHTS)(
      'the tied head 1x768 @ (50257x768)^T, and 5 rows on the tiled kernel, %s weight',
      async (dtype) => {
        await parity(
          device!,
          (d, g) =>
            T.matmul(T.randn([1, 768], { device: d, generator: g }), weight([50257, 768], dtype, d, g), {
              transB: true,
            }),
          768,
          'head',
        );
        await parity(
          device!,
          (d, g) => T.matmul(T.randn([5, 768], { device: d, generator: g }), weight([768, 7], dtype, d, g)),
          768,
          'M = 5',
          false,
        );
      },
    );

    it.each(WEIGHTS)('bias, transposed A, rows off a word, batches, %s weight', async (dtype) => {
      await parity(
        device!,
        (d, g) => {
          const bias = T.randn([50], { device: d, generator: g });
          const w = weight([33, 21], dtype, d, g); // rows of 21 elements: every other one starts mid-word
          const x = T.randn([2, 33], { device: d, generator: g });
          return [
            T.matmul(T.randn([3, 40], { device: d, generator: g }), weight([40, 50], dtype, d, g), { bias }),
            T.matmul(T.randn([1, 40], { device: d, generator: g }), weight([50, 40], dtype, d, g), {
              transB: true,
              bias,
            }),
            T.matmul(T.randn([40, 4], { device: d, generator: g }), weight([40, 50], dtype, d, g), { transA: true }),
            T.matmul(T.randn([40, 2], { device: d, generator: g }), weight([50, 40], dtype, d, g), {
              transA: true,
              transB: true,
            }),
            T.matmul(x, w),
            T.matmul(T.randn([3, 21], { device: d, generator: g }), w, { transB: true }),
            T.matmul(x.slice(1, 0, 32), w.slice(0, 1, 33)),
            T.matmul(T.randn([2, 3, 1, 8], { device: d, generator: g }), weight([2, 3, 9, 8], dtype, d, g), {
              transB: true,
            }),
            T.matmul(T.randn([2, 3, 1, 9], { device: d, generator: g }), weight([2, 3, 9, 8], dtype, d, g)),
          ];
        },
        50,
        'bias, transA, unaligned, batched',
      );
    });

    const fused: Array<[number, number, number, { norm: boolean; gelu: boolean; residual: boolean }]> = [
      [1, 1, 1, { norm: true, gelu: true, residual: false }],
      [2, 7, 1, { norm: false, gelu: false, residual: true }],
      [3, 1, 7, { norm: true, gelu: false, residual: true }],
      [4, 7, 7, { norm: true, gelu: true, residual: false }],
      [1, 768, 3072, { norm: true, gelu: true, residual: false }],
      [2, 3072, 768, { norm: false, gelu: false, residual: true }],
      [3, 768, 7, { norm: true, gelu: false, residual: true }],
    ];
    it.each(WEIGHTS)('decodeLinear: LN before, GELU, residual; both layouts; %s weight', async (dtype) => {
      for (const [M, K, N, f] of fused)
        for (const transB of [false, true])
          await parity(
            device!,
            (d, g) =>
              T.decodeLinear(
                T.randn([M, 1, K], { device: d, generator: g }),
                weight(transB ? [N, K] : [K, N], dtype, d, g, 0.05),
                {
                  transB,
                  bias: T.randn([N], { device: d, generator: g }),
                  norm: f.norm ? norm(K, d, g) : undefined,
                  gelu: f.gelu,
                  residual: f.residual ? T.randn([M, 1, N], { device: d, generator: g }) : undefined,
                },
              ),
            K,
            `decodeLinear ${M}x${K}x${N} transB=${transB} ${JSON.stringify(f)}`,
          );
    });

    it('decodeLinear: the tied head with ln_f, 1 x 768 @ (50257 x 768)^T', async () => {
      await parity(
        device!,
        (d, g) =>
          T.decodeLinear(
            T.randn([1, 1, 768], { device: d, generator: g }),
            weight([50257, 768], 'float32', d, g, 0.05),
            {
              transB: true,
              norm: norm(768, d, g),
            },
          ),
        768,
        'head with ln_f',
      );
    });

    it('compiled from the expected text (subgroup reduction exactly where offered and on)', () => {
      const backend = backendOf(device!);
      expect(backend.shaderVariant('matvec_splitk')).toBe(backend.subgroups ? 'subgroups' : 'plain');
      if (swiftshader && label !== 'subgroups off') expect(backend.subgroups).toBe(true);
      if (label === 'subgroups off') expect(backend.subgroups).toBe(false);
    });
  });
}

describe.runIf(gpu)('cached greedy decoding with the split-K matvec', () => {
  const config = G.resolveConfig('gpt2-small', {
    ...G.BOOK_CONFIG_OVERRIDES,
    embedDim: 48,
    vocabSize: 500,
    contextLength: 32,
  });

  it('gives the CPU device tokens, with and without subgroups', async () => {
    const cpuModel = G.GPTModel.create(config, { device: T.cpu, seed: 5, rng: 'fast' }).eval();
    const prompt = [3, 1, 4, 1];
    const expected = await G.generate(cpuModel, prompt, { maxNewTokens: 9 });
    for (const device of [splitSub!, splitPlain!]) {
      const weights = new Map<string, T.Tensor>();
      for (const [name, p] of cpuModel.params)
        weights.set(name, T.fromTypedArray(await p.data.toArray(), p.data.shape, device));
      const model = new G.GPTModel(config, device, weights).eval();
      const before = backendOf(device).counters.splitKMatvecs;
      expect(await G.generate(model, prompt, { maxNewTokens: 9 }), device.info.description).toEqual(expected);
      expect(backendOf(device).counters.splitKMatvecs - before).toBeGreaterThan(0);
      model.dispose();
    }
    cpuModel.dispose();
  });
});
