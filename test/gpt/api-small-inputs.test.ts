// The smaller library-API hunt faults on the gpt side (findings 12-14), each refused by name:
// DataLoader.batch past the last batch or at a fractional index (an empty or shifted batch
// before); idsToText([-1]) or [1.5] (blamed "the model's vocabulary is larger"); textToIds of
// undefined ("reading 'indexOf'"); model.forward with a plain array ("reading 'join'"); a KV
// cache made for another layout or batch ("reading 'rank'" or an expand error); quantizeModel
// with 'int3' (quantized as int4) or of a quantized model ("missing parameter").
import * as G from '@mini/gpt';
import * as T from '@mini/tensor';
import { afterAll, describe, expect, it } from 'vitest';

const config = G.resolveConfig('tiny', { contextLength: 8, nLayers: 1 });
const model = G.GPTModel.create(config, { device: T.cpu, seed: 1 });
afterAll(() => model.dispose());

describe('small inputs of the gpt API', () => {
  it('DataLoader.batch refuses an index outside its batches', () => {
    const ids = Array.from({ length: 40 }, (_, i) => i);
    const loader = new G.DataLoader(new G.SlidingWindowDataset(ids, 8, 8), { batchSize: 2, device: T.cpu });
    const n = loader.length;
    for (const index of [1000, n, -1, 1.5])
      expect(() => loader.batch(0, index)).toThrow(`DataLoader.batch: index must be an integer in [0, ${n})`);
    expect(() => loader.batch(-1, 0)).toThrow('epoch must be an integer >= 0, got -1');
    const { inputs, targets } = loader.batch(0, n - 1); // the last batch is still served
    expect(inputs.shape).toEqual([2, 8]);
    inputs.dispose();
    targets.dispose();
  });

  it('idsToText names a negative or fractional id as no token id', () => {
    for (const id of [-1, 1.5])
      expect(() => G.idsToText([id])).toThrow(`token id ${id} is not a token id (an integer from 0 to 50256)`);
    expect(() => G.idsToText([50300])).toThrow("the model's vocabulary is larger than the tokenizer's");
  });

  it('textToIds refuses what is not a string', () => {
    expect(() => G.textToIds(undefined as never)).toThrow('textToIds: the text must be a string, got undefined');
  });

  it('forward refuses a plain array and a KV cache of another layout or batch', () => {
    expect(() => model.forward([[1, 2]] as never)).toThrow(T.ShapeError);
    expect(() => model.forward([[1, 2]] as never)).toThrow('ids must be an int32 (B, T) tensor');
    const ids = T.tensor([[1, 2]], { dtype: 'int32', device: T.cpu });
    const other = new G.KVCache({ ...config, nLayers: 2 }, T.cpu, 1);
    expect(() => model.forward(ids, { cache: other })).toThrow('the KV cache was made for 2 layers, 2 heads');
    const wide = new G.KVCache(config, T.cpu, 3);
    expect(() => model.forward(ids, { cache: wide })).toThrow('the KV cache holds a batch of 3, the ids a batch of 1');
    other.dispose();
    wide.dispose();
  });

  it('quantizeModel refuses an unknown dtype and a quantized model', async () => {
    await expect(G.quantizeModel(model, 'int3' as never)).rejects.toThrow('dtype must be int8 or int4, got "int3"');
    const q = await G.quantizeModel(model, 'int8');
    await expect(G.quantizeModel(q, 'int4')).rejects.toThrow(G.ModelError);
    await expect(G.quantizeModel(q, 'int4')).rejects.toThrow('the model is already quantized (int8)');
    q.dispose();
  });

  it('convertModel and chooseWeightDType name an unknown dtype themselves (not astype or empty)', () => {
    expect(() => G.convertModel(model, 'fp16' as never)).toThrow(G.ModelError);
    expect(() => G.convertModel(model, 'fp16' as never)).toThrow(
      'convertModel: dtype must be one of float32, float16, bfloat16, got "fp16"',
    );
    expect(() => G.chooseWeightDType('q8_0' as never, 1000, T.cpu, 1e9)).toThrow(
      'dtype: dtype must be one of auto, float32, float16, bfloat16, int8, int4, got "q8_0"',
    );
  });
});
