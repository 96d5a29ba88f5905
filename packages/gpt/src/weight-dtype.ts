/**
 * Which dtype a model's weights are held in. float32 is exact and trains; float16 and bfloat16
 * halve the memory of the weight matrices (the token and position embeddings, every linear
 * weight, an untied head), which the matmul and embedding kernels widen to float32 as they read
 * them. Biases and layer-norm parameters stay float32 (0.1% of GPT-2's parameters; the kernels
 * that read them compute in float32). Training needs float32 weights.
 */
import type { DType, QuantFormat } from '@mini/tensor';
import { GPTModel, ModelError } from './model.js';

export type WeightDType = Extract<DType, 'float32' | 'float16' | 'bfloat16'>;
export const weightDTypes: readonly WeightDType[] = ['float32', 'float16', 'bfloat16'];
/**
 * Block-quantized weights (docs/quantized-weights.md): int8 is the q8_0 format (8.5 bits a
 * weight), int4 q4_0 (4.5 bits), for the linear weights of the blocks and the output head; the
 * token and position embeddings are float16 (a gather reads a few rows of them a step, so their
 * size is memory, not time: float16 keeps them exact to 3 digits at 2 bytes a parameter). For
 * inference only.
 */
export type QuantDType = 'int8' | 'int4';
export const quantDTypes: readonly QuantDType[] = ['int8', 'int4'];
/** Every dtype a model's weights may load as. */
export type ModelDType = WeightDType | QuantDType;
export const modelDTypes: readonly ModelDType[] = [...weightDTypes, ...quantDTypes];
export type WeightDTypeChoice = ModelDType | 'auto';

/**
 * A dtype given by a caller, checked against what `op` takes (modelDTypes, weightDTypes, with
 * 'auto' where it means something): an unknown one ('fp16', 'q8_0') is named here, not as an
 * "unknown dtype" of whichever tensor op first met it.
 * @throws ModelError "<op>: dtype must be one of …, got <value>"
 */
export function checkDTypeChoice(op: string, dtype: unknown, allowed: readonly string[]): void {
  if (!allowed.includes(dtype as string))
    throw new ModelError(
      `${op}: dtype must be one of ${allowed.join(', ')}, got ${JSON.stringify(dtype) ?? String(dtype)}`,
    );
}

export function isQuantDType(d: string | undefined): d is QuantDType {
  return d === 'int8' || d === 'int4';
}

/** The tensor package's block format of a quantized dtype. */
export function quantFormatOf(d: QuantDType): QuantFormat {
  return d === 'int8' ? 'q8_0' : 'q4_0';
}

/** The dtype name of a block format. */
export function quantDTypeOf(f: QuantFormat): QuantDType {
  return f === 'q8_0' ? 'int8' : 'int4';
}

/** Bytes a weight-matrix parameter takes in `dtype` (quantized: integers plus the float16 scale of its block). */
export function bytesPerParameter(dtype: ModelDType): number {
  return dtype === 'int8' ? 34 / 32 : dtype === 'int4' ? 18 / 32 : dtype === 'float32' ? 4 : 2;
}

/** The dtype a parameter of this shape is stored in when the model's weights are `dtype`. */
export function storageDType(shape: readonly number[], dtype: WeightDType): WeightDType {
  return shape.length === 2 ? dtype : 'float32';
}

/**
 * The CPU device's heap for tensors when the backend does not say (`tensorCapacity`): a wasm32
 * WebAssembly heap keeps 7/8 of 4 GiB for tensors (packages/tensor/src/cpu-fast/wasm-heap.ts);
 * weights past it are copied into the heap by every matmul, so a model whose float32 weights do
 * not fit runs several times slower. A memory64 heap (Node 24) holds 14 GiB of tensors.
 */
const CPU_HEAP_TENSOR_BYTES = 0.875 * 2 ** 32;
/** WebGPU tells no memory size: past this many bytes of float32 weights, auto picks float16. */
const WEBGPU_FLOAT32_BYTES = 2 * 2 ** 30;

export interface DTypeChoice {
  dtype: ModelDType;
  /** One line for the user when auto chose a 16-bit dtype (null when float32). */
  reason: string | null;
}

/**
 * Resolves `auto`: float32 when its weights fit comfortably, else float16, and int8 where even
 * float16 would not fit (the same test with 2 bytes a parameter; int8 never loses more than
 * float16 would have cost: it is the lightest format whose quality is near float32's).
 * - CPU: float32 weights (4 bytes a parameter) at most half the free memory (`freeBytes`, e.g.
 *   os.freemem()) and within the WebAssembly heap's tensor space (the backend's
 *   `tensorCapacity()`: 3.8 GB for a wasm32 heap, 15 GB where memory64 can be used).
 * - WebGPU: float32 weights at most 2 GiB (the API reports no memory size; a 4-6 GB GPU holds
 *   gpt2-medium in float32 but not gpt2-large, whose float32 weights are 3.1 GB).
 * An explicit dtype is returned as is.
 */
export function chooseWeightDType(
  choice: WeightDTypeChoice,
  parameters: number,
  device: { kind: string; backend?: { tensorCapacity?(): number } },
  freeBytes: number,
): DTypeChoice {
  checkDTypeChoice('dtype', choice, ['auto', ...modelDTypes]);
  if (choice !== 'auto') return { dtype: choice, reason: null };
  const bytes = 4 * parameters;
  const gb = (n: number) => `${(n / 1e9).toFixed(1)} GB`;
  if (device.kind === 'webgpu') {
    if (bytes <= WEBGPU_FLOAT32_BYTES) return { dtype: 'float32', reason: null };
    return {
      dtype: 'float16',
      reason: `dtype auto: float16 (float32 weights, ${gb(bytes)}, are above the ${gb(WEBGPU_FLOAT32_BYTES)} auto keeps in float32 on a GPU)`,
    };
  }
  const heap = device.backend?.tensorCapacity?.() ?? CPU_HEAP_TENSOR_BYTES;
  if (bytes <= freeBytes / 2 && bytes <= heap) return { dtype: 'float32', reason: null };
  const why = (n: number) =>
    n > heap ? `do not fit the ${gb(heap)} WebAssembly heap` : `are more than half the ${gb(freeBytes)} of free memory`;
  const half = 2 * parameters;
  if (half <= freeBytes / 2 && half <= heap)
    return { dtype: 'float16', reason: `dtype auto: float16 (float32 weights, ${gb(bytes)}, ${why(bytes)})` };
  return { dtype: 'int8', reason: `dtype auto: int8 (float16 weights, ${gb(half)}, ${why(half)})` };
}

/**
 * Throws unless every parameter is float32 (training and optimizers need float32 weights);
 * a model with quantized weights (`quantized`, its quantized matrices) is refused first.
 */
export function assertFloat32Weights(
  what: string,
  params: ReadonlyMap<string, { data: { dtype: DType } }>,
  quantized?: ReadonlyMap<string, { format: QuantFormat }>,
): void {
  const q = quantized?.values().next().value;
  if (q)
    throw new ModelError(
      `${what}: the model's weights are quantized (${quantDTypeOf(q.format)}), for inference only; training needs float32 weights (load the model with dtype float32)`,
    );
  for (const [name, p] of params) {
    if (p.data.dtype !== 'float32') {
      throw new ModelError(
        `${what}: parameter ${name} is ${p.data.dtype}; training needs float32 weights (load the model with dtype float32)`,
      );
    }
  }
}

/** A new model with `model`'s weights converted to `dtype` (matrices only; see storageDType). The original is kept. */
export function convertModel(model: GPTModel, dtype: WeightDType): GPTModel {
  checkDTypeChoice('convertModel', dtype, weightDTypes);
  const weights = new Map(
    [...model.params].map(([name, p]) => [name, p.data.astype(storageDType(p.data.shape, dtype))] as const),
  );
  return new GPTModel(model.config, model.device, weights);
}
