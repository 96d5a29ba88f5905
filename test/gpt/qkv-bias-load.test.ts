// loadModel refuses a c_attn.bias the config turns off (library-API hunt, finding 8): a file
// with a nonzero q/k/v bias and config.json qkv_bias false loaded with the bias dropped, its
// logits off by up to 2.9. The zeros saveModel writes for such a model still load (they change
// nothing), and Hugging Face's attention-mask buffers (attn.bias, attn.masked_bias) too.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor';
import { describe, expect, it } from 'vitest';

const config = G.resolveConfig('tiny', { contextLength: 8, nLayers: 1, qkvBias: false });

/** A saved qkvBias-false model whose file gets `extra` tensors (the file's own are kept). */
async function savedWith(extra: Array<{ name: string; values: Float32Array }>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-bias-'));
  const model = G.GPTModel.create(config, { device: T.cpu, seed: 1 });
  await G.saveModel(dir, model);
  model.dispose();
  const file = join(dir, 'model.safetensors');
  const header = await G.readHeader(G.bytesSource(new Uint8Array(readFileSync(file)), file));
  const replaced = new Set(extra.map((e) => e.name));
  const tensors: G.TensorToWrite[] = [...header.tensors.keys()]
    .filter((name) => !replaced.has(name))
    .map((name) => ({
      name,
      shape: header.tensors.get(name)!.shape,
      dtype: 'F32',
      data: () => G.readTensor(header, name),
    }));
  for (const { name, values } of extra)
    tensors.push({ name, shape: [values.length], dtype: 'F32', data: async () => values });
  const chunks: Uint8Array[] = [];
  await G.writeSafetensors({ write: async (b) => void chunks.push(b.slice()) }, tensors, { format: 'pt' });
  writeFileSync(file, Buffer.concat(chunks));
  return dir;
}

describe('a c_attn.bias the config turns off', () => {
  it('is refused when nonzero, naming the tensor and qkv_bias', async () => {
    const bias = new Float32Array(3 * config.embedDim).fill(0.5);
    const dir = await savedWith([{ name: 'h.0.attn.c_attn.bias', values: bias }]);
    await expect(G.loadModel(dir, T.cpu)).rejects.toThrow(G.SafetensorsError);
    await expect(G.loadModel(dir, T.cpu)).rejects.toThrow(
      `tensor "h.0.attn.c_attn.bias" holds nonzero values, but the config's qkv_bias is false`,
    );
  });

  it('loads when all zero (as saveModel writes it), with the mask buffers beside it', async () => {
    const dir = await savedWith([
      { name: 'h.0.attn.bias', values: new Float32Array(64).fill(1) },
      { name: 'h.0.attn.masked_bias', values: new Float32Array([-1e4]) },
    ]);
    const model = await G.loadModel(dir, T.cpu);
    expect(model.config.qkvBias).toBe(false);
    model.dispose();
  });
});
