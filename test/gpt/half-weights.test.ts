// 16-bit weights in @mini/gpt: loading F32, F16 and BF16 files into each storage dtype (on
// the CPU reference and the fast CPU device), saving in the model's dtype, the --dtype auto
// rule, greedy decoding with a 16-bit model, and training refusing one.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';

const config = G.resolveConfig({ ...G.presets.tiny, vocabSize: 300, qkvBias: true });
const dtypes = ['float32', 'float16', 'bfloat16'] as const;
const fileDType = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' } as const;

/** The exact values a tensor of `dtype` holds for float32 `values` (nearest even). */
function rounded(values: Float32Array, dtype: (typeof dtypes)[number]): Float32Array {
  if (dtype === 'float32') return values;
  const bits = new Uint16Array(values.length);
  T.narrowToHalf(values, dtype, bits);
  const out = new Float32Array(values.length);
  T.widenHalf(bits, dtype, out);
  return out;
}

// One float32 model, saved as F32, then loaded as F16/BF16 and saved again: three files.
const root = mkdtempSync(join(tmpdir(), 'mini-gpt-half-'));
const original = G.GPTModel.create(config, { device: T.cpu, seed: 3 });
const originalValues = new Map<string, Float32Array>();
for (const [name, p] of original.params) originalValues.set(name, (await p.data.toArray()) as Float32Array);
const dirs: Record<string, string> = { float32: join(root, 'f32') };
await G.saveModel(dirs.float32!, original);
for (const dtype of ['float16', 'bfloat16'] as const) {
  const model = await G.loadModel(dirs.float32!, T.cpu, { dtype });
  dirs[dtype] = join(root, dtype);
  await G.saveModel(dirs[dtype]!, model);
  model.dispose();
}

describe('loading and saving 16-bit weights', () => {
  it('saving writes the dtype the model holds: F16/BF16 matrices, F32 biases and layer norms', async () => {
    for (const dtype of dtypes) {
      const source = await G.fileSource(join(dirs[dtype]!, 'model.safetensors'));
      const header = await G.readHeader(source);
      await source.close();
      expect(header.tensors.get('wte.weight')!.dtype).toBe(fileDType[dtype]);
      expect(header.tensors.get('h.1.mlp.c_fc.weight')!.dtype).toBe(fileDType[dtype]);
      expect(header.tensors.get('h.1.mlp.c_fc.bias')!.dtype).toBe('F32');
      expect(header.tensors.get('ln_f.weight')!.dtype).toBe('F32');
    }
  });

  for (const device of [T.cpu, T.fastCpu]) {
    for (const file of dtypes) {
      for (const dtype of [...dtypes, undefined]) {
        it(`${file} file -> ${dtype ?? "default (the file's)"} on the ${device === T.cpu ? 'reference' : 'fast'} CPU`, async () => {
          const model = await G.loadModel(dirs[file]!, device, dtype ? { dtype } : {});
          const want = dtype ?? file;
          expect(model.dtype).toBe(want);
          for (const [name, p] of model.params) {
            const matrix = p.data.rank === 2;
            expect(p.data.dtype, name).toBe(matrix ? want : 'float32');
            // The file holds the original rounded to `file`; loading rounds that to `want`.
            const expected = matrix
              ? rounded(rounded(originalValues.get(name)!, file), want)
              : originalValues.get(name)!;
            const got = (await p.data.toArray()) as Float32Array;
            if (got.some((v, i) => !Object.is(v, expected[i])))
              expect.fail(`${name}: loaded values differ from the ${file} -> ${want} rounding`);
          }
          model.dispose();
        });
      }
    }
  }

  it("a 16-bit model decodes greedily, and its logits stay near float32's", async () => {
    const prompt = [5, 17, 42, 7];
    const options = { maxNewTokens: 8, temperature: 0 };
    const f32 = await G.loadModel(dirs.float32!, T.fastCpu, { dtype: 'float32' });
    const logits32 = (await T.tidy(
      () => f32.eval().forward(T.tensor([prompt], { device: T.fastCpu, dtype: 'int32' })).data,
    ).toArray()) as Float32Array;
    for (const dtype of ['float16', 'bfloat16'] as const) {
      const half = await G.loadModel(dirs.float32!, T.fastCpu, { dtype });
      const logits = (await T.tidy(
        () => half.eval().forward(T.tensor([prompt], { device: T.fastCpu, dtype: 'int32' })).data,
      ).toArray()) as Float32Array;
      let worst = 0;
      logits.forEach((v, i) => {
        worst = Math.max(worst, Math.abs(v - logits32[i]!));
      });
      expect(worst, `${dtype} max |logit diff|`).toBeLessThan(dtype === 'float16' ? 0.01 : 0.1);
      expect((await G.generate(half, prompt, options)).length).toBe(prompt.length + 8);
      half.dispose();
    }
    f32.dispose();
  });
});

describe('--dtype auto', () => {
  const cpuDevice = { kind: 'cpu' };
  const gpuDevice = { kind: 'webgpu' };
  const params = (preset: G.PresetName) => G.parameterCount(G.resolveConfig(G.presets[preset]));

  it('keeps float32 when the weights fit comfortably, else float16 with a reason', () => {
    expect(G.chooseWeightDType('auto', params('gpt2-small'), cpuDevice, 16e9)).toEqual({
      dtype: 'float32',
      reason: null,
    });
    expect(G.chooseWeightDType('auto', params('gpt2-medium'), cpuDevice, 16e9).dtype).toBe('float32');
    const xl = G.chooseWeightDType('auto', params('gpt2-xl'), cpuDevice, 20e9);
    expect(xl.dtype).toBe('float16');
    expect(xl.reason).toMatch(
      /^dtype auto: float16 \(float32 weights, 6\.\d GB, do not fit the 3\.8 GB WebAssembly heap\)$/,
    );
    const lowMemory = G.chooseWeightDType('auto', params('gpt2-medium'), cpuDevice, 2e9);
    expect(lowMemory.dtype).toBe('float16');
    expect(lowMemory.reason).toMatch(/more than half the 2\.0 GB of free memory/);
    expect(G.chooseWeightDType('auto', params('gpt2-medium'), gpuDevice, 0).dtype).toBe('float32');
    expect(G.chooseWeightDType('auto', params('gpt2-large'), gpuDevice, 0).dtype).toBe('float16');
    expect(G.chooseWeightDType('bfloat16', params('gpt2-small'), cpuDevice, 16e9)).toEqual({
      dtype: 'bfloat16',
      reason: null,
    });
  });
});

describe('training needs float32 weights', () => {
  it('AdamW and trainModel refuse a 16-bit model, naming the parameter and the fix', async () => {
    const model = await G.loadModel(dirs.float16!, T.cpu);
    expect(() => new G.AdamW(model.params, { lr: 1e-3 })).toThrow(
      /AdamW: parameter wte\.weight is float16; training needs float32 weights \(load the model with dtype float32\)/,
    );
    const loader = G.createDataLoader('hello world '.repeat(50), {
      batchSize: 1,
      maxLength: 8,
      stride: 8,
      device: T.cpu,
    });
    await expect(
      G.trainModel(model, {} as G.AdamW, loader, loader, { epochs: 1, evalFreq: 1, evalIter: 1 } as G.TrainOptions),
    ).rejects.toThrow(/trainModel: parameter wte\.weight is float16/);
    model.dispose();
  });
});
