/**
 * Decoding's fused ops: what one cached step of a GPT-2 block does to its few rows (a token
 * per sequence, M <= 4), in as few kernels as a backend can (WebGPU: webgpu/decode.ts). Each
 * op is defined as the composition of the plain ops it replaces, and a backend without the
 * kernel (the CPU devices), or a size its kernel does not take, runs exactly that composition:
 * the CPU devices' numbers stay bit-identical to the unfused model's.
 * Shapes: M = rows, K = inputs, N = outputs, B = sequences, C = channels, nh = heads,
 * hd = C / nh, maxT = the cache's positions.
 */
import type { FusedNorm } from '../backend.js';
import { ShapeError, formatShape } from '../errors.js';
import { tidy } from '../memory.js';
import { type Tensor, empty } from '../tensor.js';
import { attention } from './attention.js';
import { add, copyInto, gelu } from './elementwise.js';
import { checkEps, layerNorm } from './layernorm.js';
import { matmul } from './matmul.js';
import { assertDType, assertShape } from './util.js';

/** A layer norm a fused op applies first: weight and bias (C) float32, and eps. */
export interface DecodeNorm {
  weight: Tensor;
  bias: Tensor;
  eps: number;
}

export interface DecodeLinearOptions {
  /** The weight is stored (N, K) and used transposed (the tied output head). */
  transB?: boolean;
  /** (N), added to every row. */
  bias?: Tensor;
  /** Layer-norm x's rows first (GPT-2's pre-LN: ln_2 before c_fc, ln_f before the head). */
  norm?: DecodeNorm;
  /** GELU after the bias (the MLP's c_fc). */
  gelu?: boolean;
  /** (..., N) added last: the block's residual connection. */
  residual?: Tensor;
}

/** The rows up to which the fused kernels run (webgpu/matvec.ts's MATVEC_MAX_ROWS). */
const DECODE_MAX_ROWS = 4;

function fusedNorm(norm: DecodeNorm | undefined, C: number): FusedNorm | null {
  if (!norm) return null;
  assertShape('decode', 'norm weight', norm.weight, [C]);
  assertShape('decode', 'norm bias', norm.bias, [C]);
  return { weight: norm.weight, bias: norm.bias, eps: norm.eps };
}

/** Whether every given tensor is float32 and contiguous (what the fused kernels bind). */
const plain = (...ts: Array<Tensor | undefined>) => ts.every((t) => !t || (t.isContiguous() && t.dtype === 'float32'));

/**
 * x (..., K) -> (..., N): residual + gelu(layerNorm(x) @ W + bias), each of the residual, the GELU and the layer norm optional; W (K, N) or (N, K) with
 * transB, float32, float16 or bfloat16 (widened, float32 accumulation; as matmul). Exactly
 * `add(residual, gelu(matmul(layerNorm(x).out, W, { transB, bias })))` (each part only when
 * asked for), which is what a backend without the fused kernel runs; with at most 4 rows the
 * WebGPU backend runs it as one matvec dispatch (two and more for a weight past one binding).
 * Throws ShapeError / DTypeError as those ops do.
 */
export function decodeLinear(x: Tensor, weight: Tensor, options: DecodeLinearOptions = {}): Tensor {
  if (x.rank < 1 || weight.rank !== 2)
    throw new ShapeError(
      `decodeLinear: x (..., K) and a 2-D weight, got ${formatShape(x.shape)} and ${formatShape(weight.shape)}`,
    );
  const K = x.shape[x.rank - 1]!;
  const [N, K2] = options.transB ? (weight.shape as [number, number]) : [weight.shape[1]!, weight.shape[0]!];
  if (K !== K2)
    throw new ShapeError(`decodeLinear: x ${formatShape(x.shape)} and weight ${formatShape(weight.shape)} differ in K`);
  const M = x.size / Math.max(K, 1);
  const outShape = [...x.shape.slice(0, -1), N];
  if (options.residual) assertShape('decodeLinear', 'residual', options.residual, outShape);
  if (options.norm) checkEps('decodeLinear', options.norm.eps); // before the paths part: one message
  const kernel = x.device.backend.kernels.decodeLinear;
  if (
    kernel &&
    M >= 1 &&
    M <= DECODE_MAX_ROWS &&
    K > 0 &&
    N > 0 &&
    x.dtype === 'float32' &&
    plain(x, options.bias, options.residual, options.norm?.weight, options.norm?.bias) &&
    weight.isContiguous()
  ) {
    if (options.bias) assertShape('decodeLinear', 'bias', options.bias, [N]);
    const norm = fusedNorm(options.norm, K);
    const out = empty(outShape, 'float32', x.device);
    const ran = kernel({
      M,
      N,
      K,
      x,
      weight: { view: weight, transposed: options.transB ?? false, ld: weight.shape[1]!, batchStride: 0 },
      bias: options.bias ?? null,
      norm,
      gelu: options.gelu ?? false,
      residual: options.residual ?? null,
      out,
    });
    if (ran) return out;
    out.dispose();
  }
  return tidy(() => {
    let h = x;
    if (options.norm) h = layerNorm(x, options.norm.weight, options.norm.bias, options.norm.eps).out;
    let y = matmul(h, weight, { transB: options.transB, bias: options.bias });
    if (options.gelu) y = gelu(y);
    if (options.residual) y = add(options.residual, y);
    return y;
  });
}

export interface DecodeAttentionOptions {
  /** ln_1: applied to x's rows first. */
  norm: DecodeNorm;
  /** (C, 3C): q | k | v columns (GPT-2's c_attn), float32, float16 or bfloat16. */
  weight: Tensor;
  /** (3C), or none (a model without qkv biases). */
  bias?: Tensor;
  /** (B, nh, maxT, hd) float32 contiguous: the layer's cache, written at `position`. */
  keys: Tensor;
  values: Tensor;
  /** The new token's position: positions 0..position - 1 are cached already. */
  position: number;
}

/**
 * One cached decoding step of a block's attention: x (B, 1, C), one new token per sequence ->
 * (B, 1, C), the heads' outputs side by side (before c_proj). q | k | v = layerNorm(x) @ W +
 * bias; k and v are written into keys / values at `position`; each head's q attends (causal,
 * scale 1 / sqrt(hd), no dropout) over positions 0..position. Exactly that composition
 * (layerNorm, matmul, copyInto, attention) on a backend without the fused kernel; on WebGPU,
 * for B <= 4, one dispatch. Throws ShapeError for shapes that do not match or a position past
 * the cache.
 */
export function decodeAttention(x: Tensor, options: DecodeAttentionOptions): Tensor {
  const { weight, keys, values, position } = options;
  if (x.rank !== 3 || x.shape[1] !== 1 || keys.rank !== 4)
    throw new ShapeError(
      `decodeAttention: x must be (B, 1, C) and the caches (B, nh, maxT, hd), got ${formatShape(x.shape)}, ${formatShape(keys.shape)}`,
    );
  const [B, , C] = x.shape as [number, number, number];
  const [, nh, maxT, hd] = keys.shape as [number, number, number, number];
  if (keys.shape[0] !== B || nh * hd !== C)
    throw new ShapeError(`decodeAttention: caches ${formatShape(keys.shape)} do not match x ${formatShape(x.shape)}`);
  assertShape('decodeAttention', 'values', values, keys.shape);
  assertShape('decodeAttention', 'weight', weight, [C, 3 * C]);
  if (options.bias) assertShape('decodeAttention', 'bias', options.bias, [3 * C]);
  assertDType('decodeAttention', 'keys', keys, 'float32');
  assertDType('decodeAttention', 'values', values, 'float32');
  if (!(Number.isInteger(position) && position >= 0 && position < maxT))
    throw new ShapeError(`decodeAttention: position ${position} is outside the cache's ${maxT}`);
  checkEps('decodeAttention', options.norm.eps);
  const kernel = x.device.backend.kernels.decodeAttention;
  if (
    kernel &&
    B <= DECODE_MAX_ROWS &&
    x.dtype === 'float32' &&
    plain(x, options.bias, options.norm.weight, options.norm.bias) &&
    weight.isContiguous() &&
    keys.isContiguous() &&
    values.isContiguous()
  ) {
    const out = empty([B, 1, C], 'float32', x.device);
    const ran = kernel({
      B,
      C,
      nh,
      hd,
      maxT,
      position,
      scale: 1 / Math.sqrt(hd),
      x,
      norm: fusedNorm(options.norm, C)!,
      weight,
      bias: options.bias ?? null,
      keys,
      values,
      out,
    });
    if (ran) return out;
    out.dispose();
  }
  return tidy(() => {
    const h = layerNorm(x, options.norm.weight, options.norm.bias, options.norm.eps).out;
    const qkv = matmul(h, weight, { bias: options.bias }); // (B, 1, 3C)
    const head = (i: number) =>
      qkv
        .slice(2, i * C, (i + 1) * C)
        .reshape([B, 1, nh, hd])
        .permute([0, 2, 1, 3]); // (B, nh, 1, hd)
    const cached = [keys, values].map((cache, i) => {
      copyInto(cache.slice(2, position, position + 1), head(i + 1));
      return cache.slice(2, 0, position + 1); // (B, nh, position + 1, hd)
    });
    const { out } = attention(head(0), cached[0]!, cached[1]!);
    return out.permute([0, 2, 1, 3]).reshape([B, 1, C]); // (B, 1, C)
  });
}
