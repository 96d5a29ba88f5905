/**
 * Quantized weights (int8 = q8_0, int4 = q4_0; packages/tensor/src/quantized.ts) for GPT-2
 * models: quantizing a float file's matrices as they load, tensor by tensor and a block column
 * at a time (the model never exists in float32: the host scratch is 32 rows of one tensor), and
 * the quantized safetensors layout `mini-gpt convert` writes, which loads without conversion.
 *
 * The file layout (docs/quantized-weights.md): `__metadata__` has `"mini_gpt.quantization":
 * "q8_0"` (or "q4_0") and `"mini_gpt.quantized_layout": "rows-NK-blocks32"`; each quantized
 * parameter `<name>` (see isQuantizedParameter) is two tensors:
 *  - `<name>.qweight`: U8 (N, blocks * 32) for q8_0 or (N, blocks * 16) for q4_0, the packed
 *    integers of the (N, K) matrix the product reads: a linear weight transposed to (out, in),
 *    the head (V, C) as is;
 *  - `<name>.qscale`: F16 (N, blocks), each block's scale.
 * A tied model stores its quantized head as `lm_head.weight.q*` beside the float16
 * `wte.weight`. Every other tensor is as in a float file (float16 embeddings, float32 biases
 * and layer norms), under Hugging Face's names.
 */
import * as T from '@mini/tensor';
import type { Device, QuantFormat, QuantizedTensor, Tensor } from '@mini/tensor';
import type { GPTConfig } from './config.js';
import { GPTModel, ModelError, isQuantizedParameter, quantizedShape } from './model.js';
import { parameterShapes } from './parameters.js';
import {
  type ByteSink,
  type SafetensorsHeader,
  SafetensorsError,
  type TensorEntry,
  type TensorToWrite,
  readBytesInto,
  writeSafetensors,
} from './safetensors.js';
import { type QuantDType, type WeightDType, isQuantDType, quantDTypeOf, quantFormatOf } from './weight-dtype.js';

/** The `__metadata__` key naming a quantized file's block format. */
export const QUANT_METADATA_KEY = 'mini_gpt.quantization';
/** The `__metadata__` key naming the layout of its quantized tensors (one value so far). */
export const QUANT_LAYOUT_KEY = 'mini_gpt.quantized_layout';
export const QUANT_LAYOUT = 'rows-NK-blocks32';
/** Suffixes of a quantized parameter's two tensors in a file. */
export const QWEIGHT = '.qweight';
export const QSCALE = '.qscale';

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Reads `count` elements of a float file tensor from element `first` as float32 into `out`. */
async function readFloats(
  header: SafetensorsHeader,
  entry: TensorEntry,
  fileDType: WeightDType,
  first: number,
  out: Float32Array,
  scratch: Uint16Array,
): Promise<void> {
  if (fileDType === 'float32') {
    await readBytesInto(header.source, entry.start + 4 * first, bytesOf(out));
    return;
  }
  const half = scratch.subarray(0, out.length);
  await readBytesInto(header.source, entry.start + 2 * first, bytesOf(half));
  T.widenHalf(half, fileDType, out);
}

/**
 * One float file tensor of parameter `name` quantized to `format` on `device`, a block of 32
 * (K) at a time: a linear weight (K = in, N = out) 32 file rows at a time, the head (V, C) 32
 * rows at a time. On a CPU device the blocks are written straight into the tensor's storage;
 * on a GPU into host arrays, uploaded once.
 */
export async function loadQuantizedTensor(
  header: SafetensorsHeader,
  entry: TensorEntry,
  fileDType: WeightDType,
  name: string,
  format: QuantFormat,
  device: Device,
): Promise<QuantizedTensor> {
  const [N, K] = quantizedShape(name, entry.shape);
  const nb = T.blocksPerRow(K);
  const bb = T.blockBytes(format);
  const q = T.emptyQuantized(format, N, K, device);
  try {
    const host = T.quantizedHost(q) ?? { data: new Uint8Array(N * nb * bb), scales: new Uint16Array(N * nb) };
    const rowLength = entry.shape[1]!;
    const chunkRows = 32;
    const chunk = new Float32Array(chunkRows * rowLength);
    const scratch = new Uint16Array(fileDType === 'float32' ? 0 : chunk.length);
    const fileRows = entry.shape[0]!;
    for (let r0 = 0; r0 < fileRows; r0 += chunkRows) {
      const rows = Math.min(chunkRows, fileRows - r0);
      const part = chunk.subarray(0, rows * rowLength);
      await readFloats(header, entry, fileDType, r0 * rowLength, part, scratch);
      if (name === 'lm_head.weight') {
        // File rows are the product's rows: each quantized whole.
        T.quantizeRows(format, part, 0, rowLength, 1, rows, K, host.data, host.scales, r0);
      } else {
        // File rows are K: these 32 rows are block r0 / 32 of every one of the N columns.
        const block = new Float32Array(32);
        const b = r0 / chunkRows;
        for (let n = 0; n < N; n++) {
          block.fill(0);
          for (let i = 0; i < rows; i++) block[i] = part[i * rowLength + n]!;
          host.scales[n * nb + b] = T.encodeBlock(format, block, host.data, (n * nb + b) * bb);
        }
      }
    }
    if (!T.quantizedHost(q)) {
      q.dispose();
      return T.quantizedFromHost(format, N, K, host.data, host.scales, device);
    }
    return q;
  } catch (e) {
    q.dispose();
    throw e;
  }
}

/** The block format a file's metadata names, or null for a float file. Throws for an unknown one. */
export function fileQuantFormat(header: SafetensorsHeader): QuantFormat | null {
  const f = header.metadata[QUANT_METADATA_KEY];
  if (f === undefined) return null;
  if (!T.quantFormats.includes(f as QuantFormat))
    throw new SafetensorsError(
      `${header.source.name}: ${QUANT_METADATA_KEY} is ${JSON.stringify(f)}; this version reads ${T.quantFormats.join(' and ')}`,
    );
  const layout = header.metadata[QUANT_LAYOUT_KEY];
  if (layout !== QUANT_LAYOUT)
    throw new SafetensorsError(
      `${header.source.name}: ${QUANT_LAYOUT_KEY} is ${JSON.stringify(layout)}, expected ${JSON.stringify(QUANT_LAYOUT)}`,
    );
  return f as QuantFormat;
}

/**
 * A model from a quantized file (as saveQuantizedModel writes it): the quantized tensors'
 * bytes go straight into the device's tensors, the float ones as loadHFModel reads them
 * (`loadFloat`). Throws SafetensorsError naming the tensor that is missing, misshapen or of
 * the wrong dtype.
 */
export async function loadQuantizedFile(
  header: SafetensorsHeader,
  config: GPTConfig,
  device: Device,
  format: QuantFormat,
  loadFloat: (name: string, entry: TensorEntry) => Promise<Tensor>,
): Promise<GPTModel> {
  const { source } = header;
  const shapes = parameterShapes(config);
  const names = Object.keys(shapes).filter((n) => isQuantizedParameter(n));
  if (config.tiedHead) names.push('lm_head.weight');
  const weights = new Map<string, Tensor>();
  const quantized = new Map<string, QuantizedTensor>();
  const expected = new Set<string>();
  try {
    for (const name of names) {
      const shape = shapes[name] ?? [config.vocabSize, config.embedDim];
      const [N, K] = quantizedShape(name, shape);
      const nb = T.blocksPerRow(K);
      const w = header.tensors.get(name + QWEIGHT);
      const s = header.tensors.get(name + QSCALE);
      expected.add(name + QWEIGHT).add(name + QSCALE);
      const want: [TensorEntry | undefined, string, string, number[]][] = [
        [w, QWEIGHT, 'U8', [N, nb * T.blockBytes(format)]],
        [s, QSCALE, 'F16', [N, nb]],
      ];
      for (const [e, suffix, dtype, dims] of want) {
        if (!e) throw new SafetensorsError(`${source.name}: missing tensor "${name + suffix}" (a ${format} file)`);
        if (e.dtype !== dtype || !T.shapesEqual(e.shape, dims))
          throw new SafetensorsError(
            `${source.name}: tensor "${name + suffix}" is ${e.dtype} [${e.shape.join(', ')}], expected ${dtype} [${dims.join(', ')}]`,
          );
      }
      const q = T.emptyQuantized(format, N, K, device);
      quantized.set(name, q);
      const host = T.quantizedHost(q);
      if (host) {
        await readBytesInto(source, w!.start, host.data);
        await readBytesInto(source, s!.start, bytesOf(host.scales));
      } else {
        const data = new Uint8Array(w!.end - w!.start);
        const scales = new Uint16Array(N * nb);
        await readBytesInto(source, w!.start, data);
        await readBytesInto(source, s!.start, bytesOf(scales));
        q.dispose();
        quantized.set(name, T.quantizedFromHost(format, N, K, data, scales, device));
      }
    }
    for (const [name, shape] of Object.entries(shapes)) {
      if (quantized.has(name)) continue;
      const entry = header.tensors.get(name);
      expected.add(name);
      if (!entry) throw new SafetensorsError(`${source.name}: missing tensor "${name}"`);
      if (!T.shapesEqual(entry.shape, shape))
        throw new SafetensorsError(
          `${source.name}: tensor "${name}" has shape [${entry.shape.join(', ')}], the config needs [${shape.join(', ')}]`,
        );
      weights.set(name, T.keep(await loadFloat(name, entry)));
    }
    for (const name of header.tensors.keys())
      if (!expected.has(name))
        throw new SafetensorsError(`${source.name}: unexpected tensor "${name}" in a ${format} file`);
  } catch (e) {
    for (const t of weights.values()) t.dispose();
    for (const q of quantized.values()) q.dispose();
    throw e;
  }
  return new GPTModel(config, device, weights, undefined, quantized);
}

/**
 * Writes a quantized model in the layout above, one tensor in host memory at a time. Throws
 * unless the model's weights are quantized.
 */
export async function saveQuantizedModel(sink: ByteSink, model: GPTModel): Promise<void> {
  const format = model.quantFormat;
  if (!format) throw new SafetensorsError('saveQuantizedModel: the model has no quantized weights');
  const tensors: TensorToWrite[] = [];
  for (const [name, p] of model.params) {
    const dtype = p.data.dtype === 'float16' ? 'F16' : p.data.dtype === 'bfloat16' ? 'BF16' : 'F32';
    tensors.push({ name, shape: p.shape, dtype, data: () => p.data.toBits() });
  }
  for (const [name, q] of model.quantized) {
    const nb = T.blocksPerRow(q.K);
    tensors.push({
      name: name + QWEIGHT,
      shape: [q.N, nb * T.blockBytes(format)],
      dtype: 'U8',
      data: async () => (await q.toHost()).data,
    });
    tensors.push({ name: name + QSCALE, shape: [q.N, nb], dtype: 'F16', data: async () => (await q.toHost()).scales });
  }
  await writeSafetensors(sink, tensors, {
    format: 'pt',
    [QUANT_METADATA_KEY]: format,
    [QUANT_LAYOUT_KEY]: QUANT_LAYOUT,
  });
}

/**
 * Bytes a model of `config` holds with `dtype` weights (the quantized matrices, a tied model's
 * quantized head included, float16 embeddings, float32 biases and layer norms).
 */
export function quantizedModelBytes(config: GPTConfig, dtype: QuantDType): number {
  const format = quantFormatOf(dtype);
  let bytes = 0;
  const shapes = Object.entries(parameterShapes(config));
  if (config.tiedHead) shapes.push(['lm_head.weight', [config.vocabSize, config.embedDim]]);
  for (const [name, shape] of shapes) {
    const size = shape.reduce((p, d) => p * d, 1);
    if (isQuantizedParameter(name)) {
      const [N, K] = quantizedShape(name, shape);
      bytes += T.quantizedBytes(format, N, K);
    } else bytes += (shape.length === 2 ? 2 : 4) * size;
  }
  return bytes;
}

/**
 * A new model with `model`'s weights quantized to `dtype` on the same device (its linear
 * weights and head; embeddings float16, the rest float32), one matrix in host memory at a
 * time. The original is kept. For benchmarks and tests: loading a file with `dtype` does the
 * same without the float model.
 * @throws ModelError for a dtype other than int8 or int4 ('int3' became int4 before), or a
 *   model already quantized (it failed with "missing parameter h.0.attn.c_attn.weight")
 */
export async function quantizeModel(model: GPTModel, dtype: QuantDType): Promise<GPTModel> {
  if (!isQuantDType(dtype))
    throw new ModelError(`quantizeModel: dtype must be int8 or int4, got ${JSON.stringify(dtype) ?? String(dtype)}`);
  if (model.quantFormat !== null)
    throw new ModelError(
      `quantizeModel: the model is already quantized (${quantDTypeOf(model.quantFormat)}); quantize its float model`,
    );
  const format = quantFormatOf(dtype);
  const weights = new Map<string, Tensor>();
  const quantized = new Map<string, QuantizedTensor>();
  const sources: [string, string][] = [...model.params.keys()].map((n) => [n, n]);
  if (model.config.tiedHead) sources.push(['lm_head.weight', 'wte.weight']);
  try {
    for (const [name, from] of sources) {
      const p = model.param(from).data;
      if (isQuantizedParameter(name)) {
        const values = T.tidy(() => p.astype('float32'));
        const host = (await values.toArray()) as Float32Array;
        values.dispose();
        const [N, K] = quantizedShape(name, p.shape);
        quantized.set(name, T.quantizeMatrix(format, host, N, K, model.device, name !== 'lm_head.weight'));
      } else weights.set(name, p.astype(p.rank === 2 ? 'float16' : 'float32'));
    }
  } catch (e) {
    for (const t of weights.values()) t.dispose();
    for (const q of quantized.values()) q.dispose();
    throw e;
  }
  return new GPTModel(model.config, model.device, weights, undefined, quantized);
}
