// Quantized weights (int8 = q8_0, int4 = q4_0) in @mini/gpt: quantizing F32 and F16 files as
// they load (tied and untied heads, on the CPU reference and the fast CPU device) gives exactly
// the blocks of quantizing the whole matrix at once; logits stay near float32's (bounds below);
// the quantized file layout saves and loads with no conversion; the --dtype auto rule; training
// refuses a quantized model.
// Tolerances: max |logit diff| against float32 relative to the largest |logit| (about 24 here):
// int8 <= 1.2 % (measured 0.5-0.75 %: a step of max|w| / 127 a block, plus the fast CPU's
// 8-bit activations), int4 <= 15 % (measured 9 %: a step of max|w| / 8). float16 gives 0.03 %.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';

const root = mkdtempSync(join(tmpdir(), 'mini-gpt-quant-'));
const configs = {
  tied: G.resolveConfig({ ...G.presets.tiny, vocabSize: 300, qkvBias: true, tiedHead: true }),
  untied: G.resolveConfig({ ...G.presets.tiny, vocabSize: 300, qkvBias: true, tiedHead: false, embedDim: 40 }),
};
const dirs: Record<string, string> = {};
const originals: Record<string, Map<string, Float32Array>> = {};
for (const [key, config] of Object.entries(configs)) {
  const model = G.GPTModel.create(config, { device: T.cpu, seed: 5 });
  originals[key] = new Map();
  for (const [name, p] of model.params) originals[key].set(name, (await p.data.toArray()) as Float32Array);
  dirs[`${key}-f32`] = join(root, `${key}-f32`);
  await G.saveModel(dirs[`${key}-f32`]!, model);
  const half = await G.loadModel(dirs[`${key}-f32`]!, T.cpu, { dtype: 'float16' });
  dirs[`${key}-f16`] = join(root, `${key}-f16`);
  await G.saveModel(dirs[`${key}-f16`]!, half);
  half.dispose();
  model.dispose();
}

const FORMATS = { int8: 'q8_0', int4: 'q4_0' } as const;

/** The file's values of a parameter, as the loader reads them (float16 files: rounded). */
function fileValues(key: string, name: string, file: 'f32' | 'f16'): Float32Array {
  const v = originals[key]!.get(name === 'lm_head.weight' && key === 'tied' ? 'wte.weight' : name)!;
  if (file === 'f32') return v;
  const bits = new Uint16Array(v.length);
  T.narrowToHalf(v, 'float16', bits);
  const out = new Float32Array(v.length);
  T.widenHalf(bits, 'float16', out);
  return out;
}

async function logitsOf(model: G.GPTModel, ids: number[]): Promise<Float32Array> {
  const t = T.tidy(() => model.eval().forward(T.tensor([ids], { device: model.device, dtype: 'int32' })).data);
  const out = (await t.toArray()) as Float32Array;
  t.dispose();
  return out;
}

describe('loading as int8 / int4', () => {
  for (const key of ['tied', 'untied'] as const) {
    for (const file of ['f32', 'f16'] as const) {
      for (const device of [T.cpu, T.fastCpu]) {
        for (const dtype of ['int8', 'int4'] as const) {
          it(`${key} head, ${file} file -> ${dtype} on the ${device === T.cpu ? 'reference' : 'fast'} CPU: the blocks of the whole matrix`, async () => {
            const model = await G.loadModel(dirs[`${key}-${file}`]!, device, { dtype });
            expect(model.quantFormat).toBe(FORMATS[dtype]);
            expect(model.dtype).toBe('float16');
            expect(model.param('wte.weight').data.dtype).toBe('float16');
            expect(model.param('h.0.attn.c_attn.bias').data.dtype).toBe('float32');
            expect(model.params.has('h.0.mlp.c_fc.weight')).toBe(false);
            expect(model.numParameters()).toBe(G.parameterCount(configs[key]));
            const names = [...model.quantized.keys()].sort();
            expect(names).toContain('lm_head.weight');
            expect(names).toHaveLength(4 * configs[key].nLayers + 1);
            for (const [name, q] of model.quantized) {
              const values = fileValues(key, name, file);
              const [N, K] = [q.N, q.K];
              const want = T.quantizeMatrix(FORMATS[dtype], values, N, K, T.cpu, name !== 'lm_head.weight');
              const [got, expected] = [await q.toHost(), await want.toHost()];
              expect(Buffer.compare(Buffer.from(got.data), Buffer.from(expected.data)), `${name} integers`).toBe(0);
              expect(Array.from(got.scales), `${name} scales`).toEqual(Array.from(expected.scales));
              want.dispose();
            }
            model.dispose();
          });
        }
      }
    }
  }

  it('logits stay near float32, and greedy decoding runs (KV cache)', async () => {
    const ids = [5, 17, 42, 7, 99, 3];
    for (const key of ['tied', 'untied'] as const) {
      const f32 = await G.loadModel(dirs[`${key}-f32`]!, T.fastCpu);
      const want = await logitsOf(f32, ids);
      for (const dtype of ['int8', 'int4'] as const) {
        for (const device of [T.cpu, T.fastCpu]) {
          const q = await G.loadModel(dirs[`${key}-f32`]!, device, { dtype });
          const got = await logitsOf(q, ids);
          let worst = 0;
          got.forEach((v, i) => {
            worst = Math.max(worst, Math.abs(v - want[i]!));
          });
          const top = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          expect(worst / top, `${key} ${dtype} max |logit diff| / max |logit|`).toBeLessThan(
            dtype === 'int8' ? 0.012 : 0.15,
          );
          const out = await G.generate(q, ids, { maxNewTokens: 6, temperature: 0 });
          expect(out.length).toBe(ids.length + 6);
          q.dispose();
        }
      }
      f32.dispose();
    }
  });
});

describe('the quantized file', () => {
  it.each(['int8', 'int4'] as const)(
    '%s: saves integers and scales under the documented names and loads them back without conversion',
    async (dtype) => {
      const model = await G.loadModel(dirs['tied-f32']!, T.fastCpu, { dtype });
      const dir = join(root, `saved-${dtype}`);
      await G.saveModel(dir, model);
      const source = await G.fileSource(join(dir, 'model.safetensors'));
      const header = await G.readHeader(source);
      await source.close();
      expect(header.metadata[G.QUANT_METADATA_KEY]).toBe(FORMATS[dtype]);
      expect(header.metadata[G.QUANT_LAYOUT_KEY]).toBe(G.QUANT_LAYOUT);
      const c = configs.tied;
      const nb = Math.ceil(c.embedDim / 32);
      expect(header.tensors.get('h.0.mlp.c_fc.weight.qweight')).toMatchObject({
        dtype: 'U8',
        shape: [4 * c.embedDim, nb * (dtype === 'int8' ? 32 : 16)],
      });
      expect(header.tensors.get('h.0.mlp.c_fc.weight.qscale')).toMatchObject({
        dtype: 'F16',
        shape: [4 * c.embedDim, nb],
      });
      expect(header.tensors.get('lm_head.weight.qweight')?.shape[0]).toBe(c.vocabSize);
      expect(header.tensors.get('wte.weight')?.dtype).toBe('F16');
      expect(header.tensors.has('h.0.mlp.c_fc.weight')).toBe(false);
      expect((await G.inspectModel(dir)).fileDType).toBe(dtype);

      for (const options of [{}, { dtype }, { dtype: 'auto' as const }]) {
        const loaded = await G.loadModel(dir, T.fastCpu, options);
        expect(loaded.quantFormat).toBe(FORMATS[dtype]);
        for (const [name, q] of model.quantized) {
          const [a, b] = [await q.toHost(), await loaded.quantized.get(name)!.toHost()];
          expect(Buffer.compare(Buffer.from(a.data), Buffer.from(b.data)), name).toBe(0);
          expect(Array.from(a.scales)).toEqual(Array.from(b.scales));
        }
        for (const [name, p] of model.params)
          expect(Array.from(await loaded.param(name).data.toBits())).toEqual(Array.from(await p.data.toBits()));
        loaded.dispose();
      }
      const other = dtype === 'int8' ? 'int4' : 'int8';
      await expect(G.loadModel(dir, T.cpu, { dtype: other })).rejects.toThrow(
        new RegExp(`holds ${dtype} \\(${FORMATS[dtype]}\\) weights; it loads as ${dtype} only, not ${other}`),
      );
      model.dispose();
    },
  );
});

describe('--dtype auto and training', () => {
  it('auto picks int8 only where float16 would not fit either', () => {
    const xl = G.parameterCount(G.resolveConfig(G.presets['gpt2-xl']));
    expect(G.chooseWeightDType('auto', xl, { kind: 'cpu' }, 20e9).dtype).toBe('float16');
    const low = G.chooseWeightDType('auto', xl, { kind: 'cpu' }, 4e9);
    expect(low.dtype).toBe('int8');
    expect(low.reason).toMatch(
      /^dtype auto: int8 \(float16 weights, 3\.1 GB, are more than half the 4\.0 GB of free memory\)$/,
    );
  });

  it('trainModel refuses a quantized model in one line', async () => {
    const model = await G.loadModel(dirs['tied-f32']!, T.cpu, { dtype: 'int8' });
    const loader = G.createDataLoader('hello world '.repeat(50), {
      batchSize: 1,
      maxLength: 8,
      stride: 8,
      device: T.cpu,
    });
    await expect(
      G.trainModel(model, {} as G.AdamW, loader, loader, { epochs: 1, evalFreq: 1, evalIter: 1 } as G.TrainOptions),
    ).rejects.toThrow(
      /^trainModel: the model's weights are quantized \(int8\), for inference only; training needs float32 weights \(load the model with dtype float32\)$/,
    );
    model.dispose();
  });
});
