// The row kernels' subgroup variants (lib_rows_subgroups.wgsl, compiled where the device has
// `subgroups`: softmax, its backward, layer norm and its backward, cross-entropy and its mean),
// and the block-quantized matvec (lib_group_sum_subgroups.wgsl: matvec_quant.wgsl's sum over K)
// against the CPU reference on issue 22's awkward shapes (M = 1..5 rows; rows of 1, 7, 768,
// 3072 and 50257), on two devices of this project's adapter: the default one (subgroups where
// the adapter offers them) and one opened with `subgroups: false` (the workgroup-memory trees).
// SwiftShader offers `subgroups` (subgroup size 4): the variant must be the one that ran there,
// so a silent fallback fails. llvmpipe over OpenGL offers none: there the plain kernels must be
// the ones chosen. And a 12-layer model's cached greedy tokens are the same on both devices.
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt';
import * as T from '@mini/tensor/node';
import type { WebGPUBackend } from '../../packages/tensor/src/webgpu/backend.js';
import { webgpuForTests } from '../helpers/devices.js';
import { expectParity } from '../helpers/parity.js';

const gpu = await webgpuForTests();
const plain = gpu ? await webgpuForTests({ subgroups: false }) : null;
const backendOf = (d: T.Device) => d.backend as WebGPUBackend;
const hasSubgroups = gpu ? backendOf(gpu).device.features.has('subgroups') : false;
const swiftshader = gpu ? /swiftshader/i.test(gpu.info.description) : false;
if (gpu) console.log(`WebGPU adapter under test: ${gpu.info.description}`);

/** The kernels with a subgroup text, and the op that runs each. */
const ROW_SHADERS = [
  'softmax',
  'softmax_backward',
  'layernorm',
  'layernorm_backward',
  'cross_entropy',
  'cross_entropy_mean',
  'matvec_quant',
] as const;
const ROWS = [1, 2, 3, 4, 5];
const LENGTHS = [1, 7, 768, 3072, 50257];

describe.runIf(gpu)('subgroups on this adapter', () => {
  it('the device line and features say subgroups exactly where the adapter offers them and they are on', () => {
    const features = [...backendOf(gpu!).device.features].filter((f) => /subgroup/.test(f));
    console.log(`${gpu!.info.description}: device features ${features.join(', ') || 'none with subgroup'}`);
    expect(gpu!.info.description.includes(', subgroups')).toBe(hasSubgroups);
    expect(backendOf(gpu!).subgroups).toBe(hasSubgroups);
    // SwiftShader (this project's Vulkan adapter) offers subgroups: not requesting them is a bug.
    if (swiftshader) expect(hasSubgroups).toBe(true);
    expect(backendOf(plain!).device.features.has('subgroups')).toBe(false);
    expect(backendOf(plain!).subgroups).toBe(false);
    expect(plain!.info.description.includes(', subgroups')).toBe(false);
  });

  it('MINI_GPT_WEBGPU_SUBGROUPS=0 turns them off; another value is refused', async () => {
    const saved = process.env.MINI_GPT_WEBGPU_SUBGROUPS;
    try {
      process.env.MINI_GPT_WEBGPU_SUBGROUPS = '0';
      const off = await T.getDevice({ kind: 'webgpu' });
      expect(backendOf(off).subgroups).toBe(false);
      process.env.MINI_GPT_WEBGPU_SUBGROUPS = 'yes';
      await expect(T.getDevice({ kind: 'webgpu' })).rejects.toThrow(/MINI_GPT_WEBGPU_SUBGROUPS="yes": use 0, 1/);
    } finally {
      if (saved === undefined) delete process.env.MINI_GPT_WEBGPU_SUBGROUPS;
      else process.env.MINI_GPT_WEBGPU_SUBGROUPS = saved;
    }
  });
});

for (const [label, device] of [
  ['subgroups where offered', gpu],
  ['subgroups off', plain],
] as const) {
  describe.runIf(gpu)(`the row kernels, ${label}, match the CPU reference`, () => {
    it('softmax and its backward: 1..5 rows of 1, 7, 768, 3072, 50257', async () => {
      for (const n of LENGTHS)
        for (const m of ROWS) {
          if (n === 50257 && m > 2) continue; // two vocab-sized rows are enough
          await expectParity(
            device!,
            (d, g) => {
              const x = T.randn([m, n], { device: d, generator: g, std: 3 });
              const y = T.softmax(x);
              const dy = T.randn([m, n], { device: d, generator: g });
              return [y, T.softmaxBackward(y, dy)];
            },
            { atol: 1e-6, rtol: 2e-5 },
            `softmax ${m}x${n}`,
          );
        }
    });

    it('layer norm and its backward: 1..5 rows of 1, 7, 768, 3072', async () => {
      for (const C of LENGTHS.slice(0, 4))
        for (const m of ROWS) {
          await expectParity(
            device!,
            (d, g) => {
              const x = T.randn([m, C], { device: d, generator: g, mean: 1, std: 2 });
              const w = T.randn([C], { device: d, generator: g });
              const r = T.layerNorm(x, w, T.randn([C], { device: d, generator: g }));
              const grads = T.layerNormBackward(T.randn([m, C], { device: d, generator: g }), x, w, r.mean, r.rstd);
              return [r.out, r.mean, r.rstd, grads.dx, grads.dweight, grads.dbias];
            },
            { atol: 5e-5, rtol: 5e-5 },
            `layerNorm ${m}x${C}`,
          );
        }
    });

    it('cross-entropy, its mean and backward: 1..5 rows of 1, 7, 768, 3072, 50257', async () => {
      for (const V of LENGTHS)
        for (const m of ROWS) {
          if (V === 50257 && m > 3) continue;
          await expectParity(
            device!,
            (d, g) => {
              const logits = T.randn([m, V], { device: d, generator: g, std: 2 });
              const ids = Array.from(g.integers(m, 0, V));
              if (m > 2) ids[1] = -100; // an ignored target
              const targets = T.tensor(ids, { device: d, dtype: 'int32' });
              const r = T.crossEntropy(logits, targets);
              return [
                r.loss,
                r.count,
                r.logsumexp,
                T.crossEntropyBackward(logits, targets, r, T.full([], 0.5, { device: d })),
              ];
            },
            { atol: 1e-5, rtol: 2e-5 },
            `cross-entropy ${m}x${V}`,
          );
        }
    });

    it('the block-quantized matvec: 1..5 rows, K of 1, 7, 768, 3072, 50257, N of 1, 7, 768', async () => {
      const host = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed));
      for (const format of ['q8_0', 'q4_0'] as const)
        for (const [K, N] of [
          [1, 7],
          [7, 1],
          [768, 768],
          [3072, 7],
          [50257, 1],
        ] as const)
          for (const m of ROWS) {
            if (K * N * m > 3072 * 7 * 5 && m > 1) continue; // one row of the largest products
            await expectParity(
              device!,
              (d) => {
                const q = T.quantizeMatrix(format, host(N * K, 1), N, K, d);
                const a = T.tensor(host(m * K, 2), { device: d, shape: [m, K] });
                return T.matmulQuantized(a, q, { bias: T.tensor(host(N, 3), { device: d }) });
              },
              // float32 sums of K products of O(1) terms in another order (quantized.test.ts's rule).
              { atol: 4e-6 * K + 1e-6, rtol: 1e-5 },
              `matmulQuantized ${format} ${m}x${K} @ (${N}x${K})^T`,
            );
          }
    });

    it(`compiled every row kernel from its ${label === 'subgroups off' ? 'plain' : 'subgroup (where offered)'} text`, () => {
      const backend = backendOf(device!);
      const expected = backend.subgroups ? 'subgroups' : 'plain';
      for (const name of ROW_SHADERS) expect(backend.shaderVariant(name), name).toBe(expected);
      expect(backend.counters.subgroupModules > 0).toBe(backend.subgroups);
    });
  });
}

describe.runIf(gpu)('cached greedy decoding with and without subgroups', () => {
  // GPT-2 124M's structure (12 layers, 12 heads), narrow so that it runs on a software adapter.
  const config = G.resolveConfig('gpt2-small', {
    ...G.BOOK_CONFIG_OVERRIDES,
    embedDim: 48,
    vocabSize: 500,
    contextLength: 32,
  });

  it('gives the same tokens, and the CPU device tokens', async () => {
    const cpuModel = G.GPTModel.create(config, { device: T.cpu, seed: 5, rng: 'fast' }).eval();
    // A prompt of 9 tokens: more rows than the fused decoding kernels take, so the prompt runs
    // layer norm and attention's softmax on the row kernels.
    const prompt = [3, 1, 4, 1, 5, 9, 2, 6, 5];
    const expected = await G.generate(cpuModel, prompt, { maxNewTokens: 9 });
    for (const device of [gpu!, plain!]) {
      const weights = new Map<string, T.Tensor>();
      for (const [name, p] of cpuModel.params)
        weights.set(name, T.fromTypedArray(await p.data.toArray(), p.data.shape, device));
      const model = new G.GPTModel(config, device, weights).eval();
      expect(await G.generate(model, prompt, { maxNewTokens: 9 }), device.info.description).toEqual(expected);
      expect(backendOf(device).shaderVariant('layernorm')).toBe(backendOf(device).subgroups ? 'subgroups' : 'plain');
      model.dispose();
    }
    cpuModel.dispose();
  });
});
