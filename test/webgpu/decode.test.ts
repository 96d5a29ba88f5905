// Decoding's fused kernels (ops/decode.ts) against the CPU reference (the composition of the
// plain ops): decodeLinear on matvec_fused.wgsl (layer norm before, GELU or a residual add
// after) for M = 1..4 rows, K and N of 1, 7, 768 and 3072, both weight layouts, float32,
// float16 and bfloat16 weights; decodeAttention on attention_decode_qkv.wgsl for 1..4
// sequences, head sizes 64 and odd ones, float32/float16/bfloat16 weights, positions inside
// the first key tile and past it. Each fused call must be one dispatch (not the fallback), and
// a cached token of a 12-layer model at most 60 dispatches, with the CPU device's tokens.
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt';
import * as T from '@mini/tensor/node';
import { webgpuForTests } from '../helpers/devices.js';
import { expectParity } from '../helpers/parity.js';

const gpu = await webgpuForTests();
if (gpu) console.log(`WebGPU adapter under test: ${gpu.info.description}`);
const counters = () => (gpu!.backend as unknown as { counters: { dispatches: number } }).counters;

// As matvec.test.ts: float32 sums of K products in another order, 2e-7 K absolute; layer
// norm and GELU add a few float32 roundings of O(1) values (1e-5 relative).
const tol = (K: number) => ({ atol: 2e-7 * K + 1e-6, rtol: 1e-5 });

type Weight = 'float32' | 'float16' | 'bfloat16';
const WEIGHTS: Weight[] = ['float32', 'float16', 'bfloat16'];

function weight(shape: number[], dtype: Weight, device: T.Device, generator: T.Generator): T.Tensor {
  const w = T.mul(T.randn(shape, { device, generator }), 0.05);
  return dtype === 'float32' ? w : w.astype(dtype);
}

/** A layer norm's parameters near GPT-2's (weight about 1, bias about 0). */
function norm(C: number, device: T.Device, generator: T.Generator) {
  const w = T.add(T.mul(T.randn([C], { device, generator }), 0.1), 1);
  return { weight: w, bias: T.mul(T.randn([C], { device, generator }), 0.1), eps: 1e-5 };
}

/** Runs `fn` on the GPU and returns how many dispatches it recorded. */
function dispatchesOf(fn: () => void): number {
  const before = counters().dispatches;
  T.tidy(fn);
  return counters().dispatches - before;
}

describe.runIf(gpu)('WebGPU decodeLinear (matvec_fused.wgsl) matches the CPU composition', () => {
  // (M, K, N) and the fusions: LN before (needs K > 1 to be interesting), GELU, residual.
  const cases: Array<[number, number, number]> = [
    [1, 1, 1],
    [2, 7, 1],
    [3, 1, 7],
    [4, 7, 7],
    [1, 768, 3072],
    [2, 3072, 768],
    [3, 768, 7],
    [4, 768, 768],
  ];
  const fusions = [
    { norm: true, gelu: true, residual: false },
    { norm: false, gelu: false, residual: true },
    { norm: true, gelu: false, residual: true },
  ];
  // Each shape with one combination of fusions (all three combinations over the table).
  cases.forEach(([M, K, N], c) => {
    const f = fusions[c % fusions.length]!;
    for (const transB of [false, true]) {
      it.each(WEIGHTS)(
        `${M}x${K} @ ${K}x${N}, transB=${transB}, norm=${f.norm} gelu=${f.gelu} residual=${f.residual}, %s weight`,
        async (dtype) => {
          const inputs = (device: T.Device, g: T.Generator) => ({
            x: T.randn([M, 1, K], { device, generator: g }),
            w: weight(transB ? [N, K] : [K, N], dtype, device, g),
            bias: T.randn([N], { device, generator: g }),
            residual: f.residual ? T.randn([M, 1, N], { device, generator: g }) : undefined,
            norm: f.norm ? norm(K, device, g) : undefined,
          });
          const run = (i: ReturnType<typeof inputs>) =>
            T.decodeLinear(i.x, i.w, { transB, bias: i.bias, norm: i.norm, gelu: f.gelu, residual: i.residual });
          await expectParity(gpu!, (device, g) => run(inputs(device, g)), tol(K), 'decodeLinear');
          // the fused kernel ran (one dispatch), not the composition
          T.tidy(() => {
            const i = inputs(gpu!, new T.Generator(1));
            expect(dispatchesOf(() => run(i))).toBe(1);
          });
        },
      );
    }
  });

  it.each(WEIGHTS)('LN + GELU + residual for 4 rows of 768 x 3072 is one dispatch, %s weight', (dtype) => {
    T.tidy(() => {
      const g = new T.Generator(2);
      const x = T.randn([4, 1, 768], { device: gpu!, generator: g });
      const w = weight([768, 3072], dtype, gpu!, g);
      const n = norm(768, gpu!, g);
      const residual = T.randn([4, 1, 3072], { device: gpu!, generator: g });
      const bias = T.randn([3072], { device: gpu!, generator: g });
      expect(dispatchesOf(() => T.decodeLinear(x, w, { bias, norm: n, gelu: true, residual }))).toBe(1);
    });
  });

  it('the tied head with ln_f: 1 x 768 @ (50257 x 768)^T, one dispatch per binding window', async () => {
    await expectParity(
      gpu!,
      (device, g) =>
        T.decodeLinear(T.randn([1, 1, 768], { device, generator: g }), weight([50257, 768], 'float32', device, g), {
          transB: true,
          norm: norm(768, device, g),
        }),
      tol(768),
      'head',
    );
  });

  it('five rows fall back to the plain kernels, with the same values', async () => {
    await expectParity(
      gpu!,
      (device, g) =>
        T.decodeLinear(T.randn([5, 1, 7], { device, generator: g }), weight([7, 9], 'float32', device, g), {
          norm: norm(7, device, g),
          gelu: true,
          residual: T.randn([5, 1, 9], { device, generator: g }),
        }),
      tol(7),
      'decodeLinear M = 5',
    );
  });
});

describe.runIf(gpu)('WebGPU decodeAttention (attention_decode_qkv.wgsl) matches the CPU composition', () => {
  // (B, nh, hd, maxT, position): head sizes 64 (GPT-2), odd 7 and 1; a position in the first
  // 64-key tile, at its end and past it (the online softmax across tiles).
  const cases: Array<[number, number, number, number, number]> = [
    [1, 12, 64, 8, 0],
    [2, 2, 64, 80, 70],
    [3, 3, 7, 70, 63],
    [4, 5, 7, 130, 129],
    [1, 4, 1, 9, 5],
    [4, 12, 64, 3, 2],
  ];
  cases.forEach(([B, nh, hd, maxT, position], c) => {
    const withBias = c % 2 === 0;
    it.each(WEIGHTS)(
      `B=${B} nh=${nh} hd=${hd} maxT=${maxT} position=${position} bias=${withBias}, %s weight`,
      async (dtype) => {
        const C = nh * hd;
        const build = (device: T.Device, g: T.Generator) => {
          const x = T.randn([B, 1, C], { device, generator: g });
          const keys = T.randn([B, nh, maxT, hd], { device, generator: g });
          const values = T.randn([B, nh, maxT, hd], { device, generator: g });
          const w = weight([C, 3 * C], dtype, device, g);
          const bias = withBias ? T.randn([3 * C], { device, generator: g }) : undefined;
          const out = T.decodeAttention(x, { norm: norm(C, device, g), weight: w, bias, keys, values, position });
          return [out, keys, values];
        };
        await expectParity(gpu!, build, tol(C), 'decodeAttention');
      },
    );
  });

  it.each(WEIGHTS)('one step of 4 sequences, 12 heads of 64, is one dispatch, %s weight', (dtype) => {
    T.tidy(() => {
      const g = new T.Generator(3);
      const x = T.randn([4, 1, 768], { device: gpu!, generator: g });
      const keys = T.zeros([4, 12, 16, 64], { device: gpu! });
      const values = T.zeros([4, 12, 16, 64], { device: gpu! });
      const w = weight([768, 2304], dtype, gpu!, g);
      const n = norm(768, gpu!, g);
      expect(dispatchesOf(() => T.decodeAttention(x, { norm: n, weight: w, keys, values, position: 5 }))).toBe(1);
    });
  });
});

describe.runIf(gpu)('cached decoding of a 12-layer model on WebGPU', () => {
  const config = G.resolveConfig('gpt2-small', {
    ...G.BOOK_CONFIG_OVERRIDES,
    embedDim: 48,
    vocabSize: 500,
    contextLength: 32,
  });

  it('takes at most 60 dispatches a token and picks the CPU device tokens', async () => {
    const cpuModel = G.GPTModel.create(config, { device: T.cpu, seed: 5, rng: 'fast' }).eval();
    const weights = new Map<string, T.Tensor>();
    for (const [name, p] of cpuModel.params)
      weights.set(name, T.fromTypedArray(await p.data.toArray(), p.data.shape, gpu!));
    const model = new G.GPTModel(config, gpu!, weights).eval();
    const prompt = [3, 1, 4, 1];
    await G.generate(model, prompt, { maxNewTokens: 1 }); // pipelines made
    const d0 = counters().dispatches;
    const one = await G.generate(model, prompt, { maxNewTokens: 1 });
    const d1 = counters().dispatches;
    const nine = await G.generate(model, prompt, { maxNewTokens: 9 });
    const d9 = counters().dispatches;
    const perToken = (d9 - d1 - (d1 - d0)) / 8;
    console.log(`WebGPU dispatches per cached token (12 layers): ${perToken}`);
    expect(perToken).toBeLessThanOrEqual(60);
    expect(nine.slice(0, one.length)).toEqual(one);
    expect(nine).toEqual(await G.generate(cpuModel, prompt, { maxNewTokens: 9 }));
    model.fusedDecode = false;
    expect(await G.generate(model, prompt, { maxNewTokens: 9 })).toEqual(nine);
    model.dispose();
    cpuModel.dispose();
  });
});
