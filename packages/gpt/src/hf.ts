/**
 * Hugging Face GPT-2 checkpoints: config.json <-> GPTConfig, and model.safetensors <-> model
 * parameters. Our parameter names and layouts are HF's (see parameters.ts), so loading is a
 * name check, a shape check and a read per tensor, one tensor at a time, straight into the
 * tensor's storage on a CPU device (converted to the chosen dtype in chunks when it differs):
 * peak memory is the model plus at most one tensor (a GPU's host copy), never the file twice.
 * Tolerated: a "transformer." name prefix, the attention-mask buffers (attn.bias,
 * attn.masked_bias), and lm_head.weight in a tied checkpoint (it equals wte.weight).
 */
import * as T from '@mini/tensor';
import type { Device, Tensor, TypedArray } from '@mini/tensor';
import { ConfigError, type GPTConfig, resolveConfig } from './config.js';
import { GPTModel, isQuantizedParameter } from './model.js';
import { fileQuantFormat, loadQuantizedFile, loadQuantizedTensor, saveQuantizedModel } from './quantize.js';
import { parameterShapes } from './parameters.js';
import {
  type ByteSink,
  type ByteSource,
  type SafetensorsDType,
  type SafetensorsHeader,
  SafetensorsError,
  type TensorEntry,
  type TensorToWrite,
  readBytesInto,
  readHeader,
  readTensor,
  writeSafetensors,
} from './safetensors.js';
import {
  type ModelDType,
  type WeightDType,
  isQuantDType,
  quantDTypeOf,
  quantFormatOf,
  storageDType,
} from './weight-dtype.js';

/** The config.json Hugging Face's GPT2LMHeadModel reads (plus qkv_bias, which it ignores). */
export function toHFConfig(c: GPTConfig): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: c.vocabSize,
    n_positions: c.contextLength,
    n_ctx: c.contextLength,
    n_embd: c.embedDim,
    n_layer: c.nLayers,
    n_head: c.nHeads,
    // transformers' null is 4 × n_embd; another width is written (as save_pretrained would).
    n_inner: c.mlpDim !== undefined && c.mlpDim !== 4 * c.embedDim ? c.mlpDim : null,
    activation_function: 'gelu_new',
    resid_pdrop: c.dropRate,
    embd_pdrop: c.dropRate,
    attn_pdrop: c.dropRate,
    layer_norm_epsilon: c.layerNormEps,
    initializer_range: 0.02,
    tie_word_embeddings: c.tiedHead,
    bos_token_id: 50256,
    eos_token_id: 50256,
    qkv_bias: c.qkvBias,
  };
}

/** A GPTConfig from a Hugging Face GPT-2 config.json object. */
export function fromHFConfig(json: unknown, source = 'config.json'): GPTConfig {
  if (typeof json !== 'object' || json === null) throw new ConfigError(`${source}: not a JSON object`);
  const j = json as Record<string, unknown>;
  const num = (key: string, fallback?: number): number => {
    const v = j[key] ?? fallback;
    if (v === undefined) throw new ConfigError(`${source}: "${key}" is missing`);
    if (typeof v !== 'number') throw new ConfigError(`${source}: "${key}" must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  if (j.model_type !== undefined && j.model_type !== 'gpt2')
    throw new ConfigError(`${source}: model_type is ${JSON.stringify(j.model_type)}, not "gpt2"`);
  if (j.activation_function !== undefined && j.activation_function !== 'gelu_new') {
    throw new ConfigError(
      `${source}: activation_function ${JSON.stringify(j.activation_function)} is not supported (GPT-2 uses gelu_new)`,
    );
  }
  refuseAttentionVariants(j, source);
  try {
    return configFromHF();
  } catch (e) {
    // resolveConfig's checks speak of GPTConfig's fields: name the file's keys instead.
    if (!(e instanceof ConfigError)) throw e;
    const message = Object.entries(HF_KEYS).reduce(
      (m, [ours, theirs]) => m.replaceAll(`config.${ours}`, theirs).replaceAll(ours, theirs),
      e.message,
    );
    throw new ConfigError(message.startsWith(source) ? message : `${source}: ${message}`);
  }

  function configFromHF(): GPTConfig {
    return resolveConfig({
      vocabSize: num('vocab_size'),
      contextLength: num('n_positions', j.n_ctx as number),
      embedDim: num('n_embd'),
      nLayers: num('n_layer'),
      nHeads: num('n_head'),
      dropRate: num('resid_pdrop', 0.1),
      qkvBias: j.qkv_bias === undefined ? true : Boolean(j.qkv_bias),
      tiedHead: j.tie_word_embeddings === undefined ? true : Boolean(j.tie_word_embeddings),
      layerNormEps: num('layer_norm_epsilon', 1e-5),
      // transformers' GPT2MLP: inner_dim = n_inner if not None else 4 * hidden_size.
      mlpDim: j.n_inner === null || j.n_inner === undefined ? undefined : num('n_inner'),
    });
  }
}

/**
 * Refuses, by name, the config.json keys with which Hugging Face's GPT-2 computes something
 * else than mini-gpt does: no 1/sqrt(head size) scaling (scale_attn_weights: false), scores
 * also divided by the layer's number (scale_attn_by_inverse_layer_idx: true). n_inner (the
 * MLP's width) is honoured by fromHFConfig. reorder_and_upcast_attn is accepted: it only computes
 * the same scores in float32 in a float16 model, and mini-gpt computes attention in float32.
 * @throws ConfigError naming the key, its value and what mini-gpt computes
 */
function refuseAttentionVariants(j: Record<string, unknown>, source: string): void {
  if (j.scale_attn_weights !== undefined && j.scale_attn_weights !== true)
    throw new ConfigError(
      `${source}: scale_attn_weights ${JSON.stringify(j.scale_attn_weights)} is not supported (mini-gpt always scales attention scores by 1/sqrt(head size), GPT-2's true)`,
    );
  if (j.scale_attn_by_inverse_layer_idx !== undefined && j.scale_attn_by_inverse_layer_idx !== false)
    throw new ConfigError(
      `${source}: scale_attn_by_inverse_layer_idx ${JSON.stringify(j.scale_attn_by_inverse_layer_idx)} is not supported (mini-gpt does not divide the scores by the layer's number, GPT-2's false)`,
    );
  if (j.reorder_and_upcast_attn !== undefined && typeof j.reorder_and_upcast_attn !== 'boolean')
    throw new ConfigError(
      `${source}: reorder_and_upcast_attn must be true or false, got ${JSON.stringify(j.reorder_and_upcast_attn)}`,
    );
}

/** GPTConfig's fields and the config.json keys they come from (fromHFConfig's error messages). */
const HF_KEYS: Record<string, string> = {
  vocabSize: 'vocab_size',
  contextLength: 'n_positions',
  embedDim: 'n_embd',
  nLayers: 'n_layer',
  nHeads: 'n_head',
  mlpDim: 'n_inner',
  dropRate: 'resid_pdrop',
  layerNormEps: 'layer_norm_epsilon',
};

const IGNORED = /\.attn\.(bias|masked_bias)$/;

export interface LoadOptions {
  /**
   * The dtype of the weight matrices (weight-dtype.ts; biases and layer norms stay float32):
   * int8 / int4 quantize the linear weights and the head as they load (embeddings float16).
   * Default: the file's (F16 stays float16, BF16 bfloat16, F32 float32, a quantized file its
   * format). A quantized file loads only as its own format.
   */
  dtype?: ModelDType;
}

const fileDTypes: Partial<Record<SafetensorsDType, WeightDType>> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };
const safetensorsDTypes: Record<WeightDType, 'F32' | 'F16' | 'BF16'> = {
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
};

/** Elements converted per step when the file's dtype differs from the tensor's: bounds the scratch memory. */
const CONVERT_CHUNK = 1 << 24;

const bytesOf = (a: TypedArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Host scratch for converting file tensors chunk by chunk, made on first use and kept for the
 * whole load (one block per file dtype: blocks of many sizes would fragment the CPU heap).
 */
class ConvertScratch {
  private readonly tensors = new Map<WeightDType, Tensor>();
  constructor(
    private readonly device: Device,
    private readonly elements: number,
  ) {}

  /** A tensor of `dtype` on the device (CPU devices: in their host memory, e.g. the WebAssembly heap). */
  get(dtype: WeightDType): Tensor {
    let t = this.tensors.get(dtype);
    if (!t) this.tensors.set(dtype, (t = T.keep(T.empty([this.elements], dtype, this.device))));
    return t;
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
  }
}

/**
 * One file tensor as a tensor of `dtype` on `device`. On a CPU device the bytes go straight
 * into the tensor's storage when the dtypes agree; otherwise a chunk at a time into a scratch
 * on the device, converted into place by the device's cast kernel (the fast CPU's WebAssembly,
 * on every thread). On a GPU the tensor is built in a host array and uploaded.
 */
async function loadTensor(
  header: SafetensorsHeader,
  entry: TensorEntry,
  fileDType: WeightDType,
  dtype: WeightDType,
  device: Device,
  scratch: ConvertScratch,
): Promise<Tensor> {
  const t = T.empty(entry.shape, dtype, device);
  try {
    const host = T.hostData(t);
    if (host && fileDType === dtype) {
      await readBytesInto(header.source, entry.start, bytesOf(host.subarray(t.offset, t.offset + t.size)));
    } else if (host) {
      const chunk = scratch.get(fileDType);
      const chunkHost = T.hostData(chunk)!;
      const flat = t.reshape([-1]);
      try {
        for (let first = 0; first < t.size; first += CONVERT_CHUNK) {
          const n = Math.min(CONVERT_CHUNK, t.size - first);
          await readBytesInto(
            header.source,
            entry.start + first * T.bytesPerElement[fileDType],
            bytesOf(chunkHost.subarray(chunk.offset, chunk.offset + n)),
          );
          T.tidy(() => T.castInto(flat.slice(0, first, first + n), chunk.slice(0, 0, n)));
        }
      } finally {
        flat.dispose();
      }
    } else {
      device.backend.upload(t.storage, await hostTensorData(header, entry, fileDType, dtype, t.size));
    }
    return t;
  } catch (e) {
    t.dispose();
    throw e;
  }
}

/** A file tensor's elements in `dtype` in a new host array, converted a chunk at a time (GPU uploads). */
async function hostTensorData(
  header: SafetensorsHeader,
  entry: TensorEntry,
  fileDType: WeightDType,
  dtype: WeightDType,
  size: number,
): Promise<Float32Array | Uint16Array> {
  const target = newArray(dtype, size);
  if (fileDType === dtype) {
    await readBytesInto(header.source, entry.start, bytesOf(target));
    return target;
  }
  const scratch = newArray(fileDType, Math.min(CONVERT_CHUNK, size));
  const wide = fileDType !== 'float32' && dtype !== 'float32' ? new Float32Array(scratch.length) : null;
  for (let first = 0; first < size; first += CONVERT_CHUNK) {
    const n = Math.min(CONVERT_CHUNK, size - first);
    const chunk = scratch.subarray(0, n);
    await readBytesInto(header.source, entry.start + first * T.bytesPerElement[fileDType], bytesOf(chunk));
    const out = target.subarray(first, first + n);
    if (fileDType === 'float32') T.narrowToHalf(chunk as Float32Array, dtype as T.HalfDType, out as Uint16Array);
    else if (dtype === 'float32') T.widenHalf(chunk as Uint16Array, fileDType, out as Float32Array);
    else {
      // float16 <-> bfloat16 through float32
      T.widenHalf(chunk as Uint16Array, fileDType, wide!.subarray(0, n));
      T.narrowToHalf(wide!.subarray(0, n), dtype, out as Uint16Array);
    }
  }
  return target;
}

function newArray(dtype: WeightDType, n: number): Float32Array | Uint16Array {
  return dtype === 'float32' ? new Float32Array(n) : new Uint16Array(n);
}

/** One parameter as the file holds it. */
export interface HFTensor {
  /** The tensor's name in the file (Hugging Face's, maybe with a "transformer." prefix). */
  fileName: string;
  entry: TensorEntry;
  fileDType: WeightDType;
}

/**
 * Matches a checkpoint's tensors to the parameters `config` needs, reading nothing but the
 * header: our parameter name -> the file's tensor, in parameterShapes' order. Throws
 * SafetensorsError naming the file and tensor for a missing, unexpected, doubled, misshapen or
 * non-float tensor (what loadHFModel would meet, before it allocates anything).
 */
export function matchHFTensors(header: SafetensorsHeader, config: GPTConfig): Map<string, HFTensor> {
  const { source } = header;
  // Layers counted from the file's names before the expected list is built: a config.json with
  // n_layer 100000 once built 1.2 million entries (4 s, 500 MB) to report the first one missing.
  let layers = 0;
  for (const fileName of header.tensors.keys()) {
    const layer = /(?:^|\.)h\.(\d+)\./.exec(fileName);
    if (layer) layers = Math.max(layers, Number(layer[1]) + 1);
  }
  if (config.nLayers > layers)
    throw new SafetensorsError(
      `${source.name}: missing tensor "h.${layers}.ln_1.weight" (the file holds ${layers} layer${layers === 1 ? '' : 's'}, the config says n_layer ${config.nLayers})`,
    );
  const expected = parameterShapes(config);
  const byName = new Map<string, string>(); // our name -> name in the file
  for (const fileName of header.tensors.keys()) {
    const name = fileName.replace(/^transformer\./, '');
    if (IGNORED.test(name)) continue;
    if (name === 'lm_head.weight' && config.tiedHead) continue;
    if (name.endsWith('.attn.c_attn.bias') && !config.qkvBias) continue; // zeros written for HF
    if (!(name in expected))
      throw new SafetensorsError(`${source.name}: unexpected tensor "${fileName}" for a ${config.nLayers}-layer GPT-2`);
    if (byName.has(name))
      throw new SafetensorsError(
        `${source.name}: tensor "${name}" appears twice (with and without the "transformer." prefix)`,
      );
    byName.set(name, fileName);
  }
  const matched = new Map<string, HFTensor>();
  for (const [name, shape] of Object.entries(expected)) {
    const fileName = byName.get(name);
    if (!fileName) throw new SafetensorsError(`${source.name}: missing tensor "${name}"`);
    const entry = header.tensors.get(fileName)!;
    if (!T.shapesEqual(entry.shape, shape)) {
      throw new SafetensorsError(
        `${source.name}: tensor "${fileName}" has shape [${entry.shape.join(', ')}], the config needs [${shape.join(', ')}]`,
      );
    }
    const fileDType = fileDTypes[entry.dtype];
    if (!fileDType)
      throw new SafetensorsError(
        `${source.name}: tensor "${fileName}" is ${entry.dtype}, not a float type mini-gpt loads (F32, F16 or BF16)`,
      );
    matched.set(name, { fileName, entry, fileDType });
  }
  return matched;
}

/**
 * With qkv_bias false, matchHFTensors passes over the file's c_attn.bias tensors: saveHFModel
 * writes zeros there (Hugging Face's GPT-2 always has the bias), and zeros change nothing, so
 * such a file loads. A bias with any other value (nonzero or NaN) would be dropped silently and
 * the model would compute something else than the file holds (logits off by up to 2.9 in the
 * hunt): refused, naming the tensor and the config key. Reads 3 × embedDim values per layer.
 * (attn.bias and attn.masked_bias are the attention-mask buffers, not parameters: still ignored.)
 */
async function checkUnusedQkvBias(header: SafetensorsHeader, config: GPTConfig): Promise<void> {
  if (config.qkvBias) return;
  for (const fileName of header.tensors.keys()) {
    if (!fileName.replace(/^transformer\./, '').endsWith('.attn.c_attn.bias')) continue;
    const values = await readTensor(header, fileName);
    if (values.some((v) => v !== 0))
      throw new SafetensorsError(
        `${header.source.name}: tensor "${fileName}" holds nonzero values, but the config's qkv_bias is false (the model would drop it); set qkv_bias true in config.json`,
      );
  }
}

/**
 * What a checkpoint holds for `config`, from its header alone: the weight matrices' dtype in the
 * file (the token embedding's: what loadHFModel keeps by default; int8 / int4 for a quantized
 * file) and the file's size in bytes.
 * Throws SafetensorsError as readHeader (a cut or malformed file) and matchHFTensors (tensors
 * that do not fit the config).
 */
export async function inspectHFModel(
  source: ByteSource,
  config: GPTConfig,
): Promise<{ fileDType: ModelDType; bytes: number }> {
  const header = await readHeader(source);
  const format = fileQuantFormat(header);
  if (format) return { fileDType: quantDTypeOf(format), bytes: source.size };
  const matched = matchHFTensors(header, config);
  return { fileDType: matched.get('wte.weight')!.fileDType, bytes: source.size };
}

/**
 * Loads the parameters of a GPT-2 checkpoint into a new model on `device`, tensor by tensor:
 * peak memory is the model in its dtype plus one tensor's host copy (GPU) or conversion scratch.
 * Throws SafetensorsError naming the file and tensor for a missing, unexpected, misshapen or
 * non-float tensor, or a nonzero c_attn.bias in a file whose config has qkv_bias false.
 */
export async function loadHFModel(
  source: ByteSource,
  config: GPTConfig,
  device: Device,
  options: LoadOptions = {},
): Promise<GPTModel> {
  const header = await readHeader(source);
  const fileFormat = fileQuantFormat(header);
  if (fileFormat) {
    const own = quantDTypeOf(fileFormat);
    if (options.dtype !== undefined && options.dtype !== own)
      throw new SafetensorsError(
        `${source.name}: the file holds ${own} (${fileFormat}) weights; it loads as ${own} only, not ${options.dtype}`,
      );
    const scratch = new ConvertScratch(device, CONVERT_CHUNK);
    try {
      return await loadQuantizedFile(header, config, device, fileFormat, (name, entry) => {
        const fileDType = fileDTypes[entry.dtype];
        if (!fileDType)
          throw new SafetensorsError(`${source.name}: tensor "${name}" is ${entry.dtype}, not F32, F16 or BF16`);
        return loadTensor(header, entry, fileDType, fileDType, device, scratch);
      });
    } finally {
      scratch.dispose();
    }
  }
  const matched = matchHFTensors(header, config);
  await checkUnusedQkvBias(header, config);
  const weights = new Map<string, Tensor>();
  const quantized = new Map<string, T.QuantizedTensor>();
  const quant = isQuantDType(options.dtype) ? quantFormatOf(options.dtype) : null;
  const largest = Math.max(...[...matched.values()].map(({ entry }) => entry.shape.reduce((p, d) => p * d, 1)));
  const scratch = new ConvertScratch(device, Math.min(CONVERT_CHUNK, largest));
  try {
    for (const [name, { entry, fileDType }] of matched) {
      if (quant && isQuantizedParameter(name)) {
        quantized.set(name, await loadQuantizedTensor(header, entry, fileDType, name, quant, device));
        continue;
      }
      // Quantized models keep their embeddings in float16.
      const wanted = quant ? 'float16' : ((options.dtype as WeightDType | undefined) ?? fileDType);
      const dtype = storageDType(entry.shape, wanted);
      weights.set(name, T.keep(await loadTensor(header, entry, fileDType, dtype, device, scratch)));
    }
    if (quant && config.tiedHead) {
      // The head reads the token embedding's matrix: quantized once more as its own (V, C) matrix.
      const { entry, fileDType } = matched.get('wte.weight')!;
      quantized.set(
        'lm_head.weight',
        await loadQuantizedTensor(header, entry, fileDType, 'lm_head.weight', quant, device),
      );
    }
  } catch (e) {
    for (const t of weights.values()) t.dispose();
    for (const q of quantized.values()) q.dispose();
    throw e;
  } finally {
    scratch.dispose();
  }
  return new GPTModel(config, device, weights, undefined, quantized);
}

/**
 * Writes the model's parameters in Hugging Face layout and their dtypes, one tensor in host
 * memory at a time; a quantized model in the quantized layout (quantize.ts).
 */
export async function saveHFModel(sink: ByteSink, model: GPTModel): Promise<void> {
  if (model.quantized.size > 0) return saveQuantizedModel(sink, model);
  // Each tensor in the dtype the model holds it in (a float16 model writes F16 matrices).
  const tensors: TensorToWrite[] = [...model.params].map(([name, p]) => ({
    name,
    shape: p.shape,
    dtype: safetensorsDTypes[p.data.dtype as WeightDType] ?? 'F32',
    data: () => p.data.toBits(),
  }));
  if (!model.config.qkvBias) {
    // HF's GPT-2 always has a q/k/v bias: zeros make the same model there.
    for (let i = 0; i < model.config.nLayers; i++) {
      const n = 3 * model.config.embedDim;
      tensors.push({
        name: `h.${i}.attn.c_attn.bias`,
        shape: [n],
        dtype: 'F32',
        data: async () => new Float32Array(n),
      });
    }
  }
  await writeSafetensors(sink, tensors, { format: 'pt' });
}
