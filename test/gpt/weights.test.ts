// The safetensors reader/writer (strict), Hugging Face GPT-2 loading, and checkpoints.
import { mkdtempSync, readFileSync, writeFileSync, existsSync, renameSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor';

function memorySink() {
  const chunks: Uint8Array[] = [];
  return {
    sink: {
      write: async (b: Uint8Array) => {
        chunks.push(Uint8Array.from(b));
      },
    },
    bytes: () => Uint8Array.from(chunks.flatMap((c) => Array.from(c))),
  };
}

/** A safetensors file from a header object and raw data, for malformed cases. */
function rawFile(header: unknown, data = new Uint8Array(0), lengthOverride?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(lengthOverride ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const read = (bytes: Uint8Array, name = 'bad.safetensors') => G.readHeader(G.bytesSource(bytes, name));

describe('safetensors', () => {
  it('round-trips F32 and I32 tensors with metadata, data 8-byte aligned', async () => {
    const { sink, bytes } = memorySink();
    await G.writeSafetensors(
      sink,
      [
        { name: 'a', shape: [2, 3], dtype: 'F32', data: async () => Float32Array.from([1, 2, 3, 4, 5, 6.5]) },
        { name: 'ids', shape: [2], dtype: 'I32', data: async () => Int32Array.from([-7, 50256]) },
        { name: 'empty', shape: [0, 4], dtype: 'F32', data: async () => new Float32Array(0) },
      ],
      { format: 'pt' },
    );
    const file = bytes();
    const headerLength = Number(new DataView(file.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const header = await read(file);
    expect(header.metadata).toEqual({ format: 'pt' });
    expect(Array.from(await G.readTensor(header, 'a'))).toEqual([1, 2, 3, 4, 5, 6.5]);
    expect(Array.from(await G.readTensor(header, 'ids'))).toEqual([-7, 50256]);
    expect((await G.readTensor(header, 'empty')).length).toBe(0);
  });

  it('reads F16 and BF16 as float32', async () => {
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00]); // 1, -2, ~0.3333, smallest subnormal, inf
    const bf16 = new Uint16Array([0x3f80, 0xc0a0, 0x3eaa]); // 1, -5, ~0.332
    const data = new Uint8Array([...new Uint8Array(f16.buffer), ...new Uint8Array(bf16.buffer), 0, 0]);
    const header = await read(
      rawFile(
        {
          h: { dtype: 'F16', shape: [5], data_offsets: [0, 10] },
          b: { dtype: 'BF16', shape: [3], data_offsets: [10, 16] },
          pad: { dtype: 'U8', shape: [2], data_offsets: [16, 18] },
        },
        data,
      ),
    );
    const h = await G.readTensor(header, 'h');
    expect(Array.from(h.slice(0, 2))).toEqual([1, -2]);
    expect(h[2]).toBeCloseTo(1 / 3, 3);
    expect(h[3]).toBe(2 ** -24);
    expect(h[4]).toBe(Infinity);
    const b = await G.readTensor(header, 'b');
    expect(Array.from(b.slice(0, 2))).toEqual([1, -5]);
    expect(b[2]).toBeCloseTo(0.332, 2);
    await expect(G.readTensor(header, 'pad')).rejects.toThrow(/dtype U8 is not supported/);
  });

  const t = (dtype: string, shape: number[], offsets: number[]) => ({ dtype, shape, data_offsets: offsets });
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['a file shorter than 8 bytes', new Uint8Array(3), /too short/],
    [
      'a header length beyond the file',
      rawFile({}, new Uint8Array(0), 1000),
      /header length 1000 runs past the end of the file/,
    ],
    ['a header length above the cap', rawFile({}, new Uint8Array(0), 2 ** 40), /above the 100000000-byte cap/],
    ['invalid JSON', rawFile('{"a": [1, 2'), /header is not valid JSON/],
    ['an unknown dtype', rawFile({ w: t('F8', [1], [0, 1]) }, new Uint8Array(1)), /tensor "w": unknown dtype "F8"/],
    [
      'offsets out of range',
      rawFile({ w: t('F32', [2], [0, 8]) }, new Uint8Array(4)),
      /tensor "w": data_offsets \[0, 8\] run past the data \(4 bytes/,
    ],
    [
      'a byte count that does not match dtype x shape',
      rawFile({ w: t('F32', [3], [0, 8]) }, new Uint8Array(8)),
      /tensor "w": 8 bytes at offset \d+ but F32 \[3\] needs 12/,
    ],
    [
      'overlapping regions',
      rawFile({ a: t('F32', [2], [0, 8]), b: t('F32', [1], [4, 8]) }, new Uint8Array(8)),
      /overlaps the previous tensor/,
    ],
    [
      'reversed offsets',
      rawFile({ a: t('F32', [0], [8, 4]) }, new Uint8Array(8)),
      /data_offsets \[8, 4\] are reversed/,
    ],
    [
      'a hole between regions',
      rawFile({ a: t('F32', [1], [0, 4]), b: t('F32', [1], [8, 12]) }, new Uint8Array(12)),
      /4 unused bytes at offset/,
    ],
    ['trailing bytes', rawFile({ a: t('F32', [1], [0, 4]) }, new Uint8Array(12)), /8 bytes after the last tensor/],
    [
      'a bad shape',
      rawFile({ a: t('F32', [-1], [0, 4]) }, new Uint8Array(4)),
      /shape \[-1\] is not a list of non-negative integers/,
    ],
    // JSON.parse keeps the last of two equal keys: the duplicate itself must be named.
    [
      'a tensor named twice',
      rawFile(
        '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
        new Uint8Array(8),
      ),
      /header names "a" twice \(the second at character 54\)$/,
    ],
    [
      'a key twice in a tensor entry',
      rawFile('{"a":{"dtype":"F32","shape":[1],"dtype":"F16","data_offsets":[0,4]}}', new Uint8Array(4)),
      /header tensor "a" names "dtype" twice/,
    ],
    [
      'a metadata key twice',
      rawFile('{"__metadata__":{"format":"pt","format":"tf"}}'),
      /header __metadata__ names "format" twice/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    it(`rejects ${what}, naming the file and the problem`, async () => {
      await expect(read(bytes)).rejects.toThrow(G.SafetensorsError);
      await expect(read(bytes)).rejects.toThrow(message);
      await expect(read(bytes)).rejects.toThrow(/^bad\.safetensors: /);
    });
  }
});

/** A Hugging Face style file for a config: "transformer." prefix, attention-mask buffers. */
async function hfFile(
  config: G.GPTConfig,
  seed: number,
  shapeOverride?: [string, number[]],
): Promise<{ bytes: Uint8Array; values: Map<string, Float32Array> }> {
  const g = new T.Generator(seed);
  const values = new Map<string, Float32Array>();
  const tensors: G.TensorToWrite[] = [];
  for (const [name, shape] of Object.entries(G.parameterShapes(config))) {
    const s = shapeOverride?.[0] === name ? shapeOverride[1] : shape;
    const v = Float32Array.from(g.normal(s.reduce((p, d) => p * d, 1)));
    values.set(name, v);
    tensors.push({ name: `transformer.${name}`, shape: s, dtype: 'F32', data: async () => v });
  }
  for (let i = 0; i < config.nLayers; i++) {
    const n = config.contextLength;
    tensors.push({
      name: `transformer.h.${i}.attn.bias`,
      shape: [1, 1, n, n],
      dtype: 'F32',
      data: async () => new Float32Array(n * n),
    });
  }
  const { sink, bytes } = memorySink();
  await G.writeSafetensors(sink, tensors);
  return { bytes: bytes(), values };
}

describe('Hugging Face GPT-2 weights', () => {
  const config = G.resolveConfig('tiny', { contextLength: 16 });

  it('loads a checkpoint with a transformer. prefix and attention buffers, every tensor in place', async () => {
    const { bytes, values } = await hfFile(config, 1);
    const model = await G.loadHFModel(G.bytesSource(bytes, 'model.safetensors'), config, T.cpu);
    for (const [name, v] of values) expect(Array.from(await model.param(name).data.toArray())).toEqual(Array.from(v));
    model.dispose();
  });

  it('names the tensor whose shape does not match the config', async () => {
    const { bytes } = await hfFile(config, 1, ['h.1.mlp.c_fc.weight', [32, 100]]);
    await expect(G.loadHFModel(G.bytesSource(bytes, 'model.safetensors'), config, T.cpu)).rejects.toThrow(
      /model\.safetensors: tensor "transformer\.h\.1\.mlp\.c_fc\.weight" has shape \[32, 100\], the config needs \[32, 128\]/,
    );
  });

  it('names a missing tensor and an unexpected one', async () => {
    const { bytes } = await hfFile(config, 1);
    await expect(
      G.loadHFModel(G.bytesSource(bytes, 'm'), G.resolveConfig('tiny', { contextLength: 16, nLayers: 3 }), T.cpu),
    ).rejects.toThrow(/missing tensor "h\.2\.ln_1\.weight"/);
    await expect(
      G.loadHFModel(G.bytesSource(bytes, 'm'), G.resolveConfig('tiny', { contextLength: 16, nLayers: 1 }), T.cpu),
    ).rejects.toThrow(/unexpected tensor "transformer\.h\.1\.ln_1\.weight"/);
  });

  it('reads Hugging Face config.json and writes one it can read back', () => {
    const hf = {
      vocab_size: 50257,
      n_positions: 1024,
      n_embd: 768,
      n_layer: 12,
      n_head: 12,
      layer_norm_epsilon: 1e-5,
      model_type: 'gpt2',
      activation_function: 'gelu_new',
      resid_pdrop: 0.1,
    };
    expect(G.fromHFConfig(hf)).toEqual(G.resolveConfig('gpt2-small'));
    const book = G.resolveConfig('gpt2-small', G.BOOK_CONFIG_OVERRIDES);
    expect(G.fromHFConfig(JSON.parse(JSON.stringify(G.toHFConfig(book))))).toEqual(book);
    expect(() => G.fromHFConfig({ ...hf, n_embd: 'big' }, 'x/config.json')).toThrow(
      /x\/config\.json: "n_embd" must be a number/,
    );
  });
});

describe('checkpoints', () => {
  const config = G.resolveConfig('tiny', { contextLength: 16, tiedHead: false, qkvBias: false });

  it('a saved model loads back identical, with config.json in Hugging Face form', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mini-gpt-'));
    const model = G.GPTModel.create(config, { seed: 2 });
    await G.saveModel(dir, model);
    const json = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(json).toMatchObject({ model_type: 'gpt2', n_embd: 32, tie_word_embeddings: false, qkv_bias: false });
    const header = await G.readHeader(await G.fileSource(join(dir, 'model.safetensors')));
    expect(header.tensors.get('h.0.attn.c_attn.bias')!.shape).toEqual([96]); // zeros, for HF
    const loaded = await G.loadModel(dir, T.cpu);
    for (const [name, p] of model.params)
      expect(Array.from(await loaded.param(name).data.toArray())).toEqual(Array.from(await p.data.toArray()));
    model.dispose();
    loaded.dispose();
  });

  it('a resumed run reaches the same losses as an uninterrupted one', async () => {
    const text = readFileSync(new URL('../../../shared/data/the-verdict.txt', import.meta.url), 'utf8').slice(0, 3000);
    const { train, validation } = G.splitText(text);
    const loaders = () =>
      [
        G.createDataLoader(train, { batchSize: 2, maxLength: 16, stride: 48, shuffle: true, dropLast: true, seed: 7 }),
        G.createDataLoader(validation, { batchSize: 2, maxLength: 16, stride: 16 }),
      ] as const;
    const options = { epochs: 2, evalFreq: 2, evalIter: 1, startContext: '' };
    const withDropout = G.resolveConfig('tiny', { contextLength: 16, dropRate: 0.1 });
    const run = async (stopAfter: number | null) => {
      const [trainLoader, valLoader] = loaders();
      const model = G.GPTModel.create(withDropout, { seed: 9 });
      const optimizer = new G.AdamW(model.params, { lr: 1e-3, weightDecay: 0.1 });
      let steps = 0;
      const first = await G.trainModel(model, optimizer, trainLoader, valLoader, {
        ...options,
        shouldStop: () => stopAfter !== null && ++steps >= stopAfter,
      });
      if (!first.stopped) return first.state;
      const dir = join(mkdtempSync(join(tmpdir(), 'mini-gpt-')), 'checkpoint');
      await G.saveCheckpoint(dir, model, optimizer, first.state, { note: 'resume me' });
      model.dispose();
      optimizer.dispose();
      const resumed = await G.loadCheckpoint(dir, T.cpu);
      expect(resumed.extra).toEqual({ note: 'resume me' });
      return (await G.trainModel(resumed.model, resumed.optimizer, trainLoader, valLoader, options, {}, resumed.state))
        .state;
    };
    const straight = await run(null);
    const interrupted = await run(5);
    expect(interrupted.steps).toBe(straight.steps);
    expect(interrupted.history.map((r) => r.step)).toEqual(straight.history.map((r) => r.step));
    interrupted.history.forEach((r, i) => {
      expect(r.trainLoss).toBeCloseTo(straight.history[i]!.trainLoss, 5);
      expect(r.valLoss).toBeCloseTo(straight.history[i]!.valLoss, 5);
    });
  });

  it('an interrupted save leaves the previous checkpoint loadable, and a corrupt one fails clearly', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'mini-gpt-')), 'ckpt');
    const model = G.GPTModel.create(config, { seed: 2 });
    const optimizer = new G.AdamW(model.params, { lr: 1e-3 });
    await G.saveCheckpoint(dir, model, optimizer, G.initialTrainState());
    // A crash between the two renames of the next save: only "<dir>.previous" exists.
    renameSync(dir, `${dir}.previous`);
    const loaded = await G.loadCheckpoint(dir, T.cpu);
    expect(loaded.model.numParameters()).toBe(model.numParameters());
    renameSync(`${dir}.previous`, dir);
    // A truncated model file is refused with its name and the problem.
    const path = join(dir, 'model.safetensors');
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    await expect(G.loadCheckpoint(dir, T.cpu)).rejects.toThrow(
      /model\.safetensors: tensor ".*" : data_offsets|run past the data/,
    );
    // What a save cut short leaves beside the folder is removed; the checkpoint itself is not.
    mkdirSync(`${dir}.saving-0badf00d`);
    writeFileSync(join(`${dir}.saving-0badf00d`, 'model.safetensors'), 'half');
    expect(G.removeUnfinishedSaves(dir)).toEqual(['ckpt.saving-0badf00d']);
    expect(existsSync(`${dir}.saving-0badf00d`)).toBe(false);
    expect(existsSync(join(dir, 'trainer_state.json'))).toBe(true);
    // A config.json with a key twice is refused naming the key (JSON.parse would keep the last).
    writeFileSync(join(dir, 'config.json'), '{"n_embd": 32, "n_layer": 2, "n_embd": 64}');
    await expect(G.loadConfig(dir)).rejects.toThrow(
      `${join(dir, 'config.json')} names "n_embd" twice (the second at character 29)`,
    );
    expect(existsSync(join(dir, 'trainer_state.json'))).toBe(true);
    model.dispose();
    optimizer.dispose();
  });
});
