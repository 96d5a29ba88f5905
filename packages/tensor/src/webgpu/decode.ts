/**
 * WebGPU glue for decoding's fused kernels (ops/decode.ts): matvec_fused.wgsl (a linear with
 * its layer norm before it, or GELU or a residual add after it) and attention_decode_qkv.wgsl
 * (LN, the qkv projection, the KV-cache append and attention of one step). Each returns false
 * where a size is past what one dispatch takes (the op then composes the plain kernels).
 * M = rows (<= 4), K = inputs, N = outputs, C = channels, nh = heads, hd = C / nh.
 */
import type { DecodeAttentionArgs, DecodeLinearArgs } from '../backend.js';
import type { WebGPUBackend } from './backend.js';
import { halfKind } from './half.js';
import { MATVEC_MAX_ROWS, SPLITK_WORKGROUP_BYTES, splitKWorkgroups } from './matvec.js';
import { Uniforms } from './uniforms.js';

/** Invocations per workgroup of both kernels (lib_matvec.wgsl's, lib_norm_rows.wgsl's NORM_WG). */
const WG = 64;
/** Columns of C an invocation of matvec_fused.wgsl owns with a norm (its NORM_COLS). */
const NORM_COLS = 8;
/** Workgroup memory attention_decode_qkv.wgsl uses besides the normed rows: lib_norm_rows.wgsl's two partial arrays. */
const NORM_PARTIAL_BYTES = 2 * 256 * 4;

/** Whether ROWS x K normed floats (and `extra` bytes) fit this device's workgroup memory. */
function normFits(ctx: WebGPUBackend, rows: number, K: number, extra: number): boolean {
  return rows * K * 4 + NORM_PARTIAL_BYTES + extra <= ctx.device.limits.maxComputeWorkgroupStorageSize;
}

/**
 * out = residual + gelu(LN(x) @ W + bias) (each part optional) on matvec_fused.wgsl, or on
 * matvec_splitk.wgsl where backend.matvecSplitK (with a norm, only where its ROWS x K normed
 * floats fit the workgroup memory): one dispatch per block of N (a transposed W larger than
 * one binding, the tied head, is cut along N). False for M > 4, for a plain W larger than one
 * binding, or for K past the adapter's per-dispatch cap.
 */
export function decodeLinear(ctx: WebGPUBackend, args: DecodeLinearArgs): boolean {
  const { M, N, K, x, weight, bias, norm, residual, out } = args;
  if (M < 1 || M > MATVEC_MAX_ROWS || K > ctx.matmulProfile.maxKPerDispatch) return false;
  const limit = ctx.bindableElements;
  // W's window for n columns: plain (K, N) rows of ld; transposed (N, K) rows of ld.
  const span = (n: number) => (weight.transposed ? (n - 1) * weight.ld + K : (K - 1) * weight.ld + n);
  let block = N;
  while (span(block) > limit && weight.transposed && block > 1) block = Math.ceil(block / 2);
  if (span(block) > limit || M * K > limit || M * N > limit) return false;
  const kind = halfKind(weight.view.dtype);
  // The split-K layout normalises x's rows into workgroup memory (lib_norm_rows.wgsl).
  const splitK =
    ctx.matvecSplitK && (norm === null || normFits(ctx, M, K, SPLITK_WORKGROUP_BYTES - NORM_PARTIAL_BYTES));
  const xRange = ctx.bind(x.storage, x.offset, M * K);
  const normW = norm ? ctx.bind(norm.weight.storage, norm.weight.offset, K) : null;
  const normB = norm ? ctx.bind(norm.bias.storage, norm.bias.offset, K) : null;
  for (let n0 = 0; n0 < N; n0 += block) {
    const n = Math.min(block, N - n0);
    const first = weight.view.offset + (weight.transposed ? n0 * weight.ld : n0);
    const wRange = ctx.bind(weight.view.storage, first, span(n));
    const cRange = ctx.bind(out.storage, out.offset + n0, (M - 1) * N + n);
    const biasRange = bias ? ctx.bind(bias.storage, bias.offset + n0, n) : null;
    const resRange = residual ? ctx.bind(residual.storage, residual.offset + n0, (M - 1) * N + n) : null;
    // A 16-bit W read a word (two elements) at a time where its rows start on a word (matvec.ts).
    const packed = kind !== 0 && wRange.base % 2 === 0 && weight.ld % 2 === 0;
    const u = new Uniforms()
      .u32(M, n, K, K, weight.ld, N)
      .u32(xRange.base, wRange.base, cRange.base, biasRange?.base ?? 0)
      .u32(0, 0, 0)
      .u32(normW?.base ?? 0, normB?.base ?? 0, resRange?.base ?? 0)
      .f32(norm?.eps ?? 0);
    const resources = [
      cRange.resource,
      xRange.resource,
      wRange.resource,
      biasRange?.resource ?? ctx.dummy,
      normW?.resource ?? ctx.dummy,
      normB?.resource ?? ctx.dummy,
      resRange?.resource ?? ctx.dummy,
    ];
    const constants = {
      TRANS_B: weight.transposed,
      B_KIND: kind,
      ROWS: M,
      PACKED: packed,
      HAS_BIAS: biasRange !== null,
      NORM: norm !== null,
      GELU: args.gelu,
      RESIDUAL: resRange !== null,
    };
    if (splitK) {
      ctx.counters.splitKMatvecs++;
      ctx.dispatch(
        'matvec_splitk',
        { ...constants, NORM_SIZE: norm ? M * K : 1 },
        u,
        resources,
        ctx.grid(splitKWorkgroups(n, weight.transposed, packed)),
      );
      continue;
    }
    // NORM: NORM_COLS (8) columns an invocation (matvec_fused.wgsl's normed_product).
    const invocations = norm ? Math.ceil(n / NORM_COLS) : packed && !weight.transposed ? Math.ceil(n / 2) : n;
    ctx.dispatch('matvec_fused', constants, u, resources, [Math.ceil(invocations / WG), 1, 1]);
  }
  return true;
}

/**
 * One decoding step of attention on attention_decode_qkv.wgsl: nh workgroups, one per head.
 * False for B > 4 or where the normed rows, q and the tiles do not fit the workgroup memory, or
 * a cache or W larger than one binding.
 */
export function decodeAttention(ctx: WebGPUBackend, args: DecodeAttentionArgs): boolean {
  const { B, C, nh, hd, maxT, x, norm, weight, bias, keys, values, out } = args;
  const tiles = (B * hd + hd + 2 * WG) * 4;
  if (B < 1 || B > MATVEC_MAX_ROWS || !normFits(ctx, B, C, tiles)) return false;
  const limit = ctx.bindableElements;
  const cacheSize = B * nh * maxT * hd;
  if (cacheSize > limit || 3 * C * C > limit) return false;
  const xRange = ctx.bind(x.storage, x.offset, B * C);
  const wRange = ctx.bind(weight.storage, weight.offset, 3 * C * C);
  const biasRange = bias ? ctx.bind(bias.storage, bias.offset, 3 * C) : null;
  const normW = ctx.bind(norm.weight.storage, norm.weight.offset, C);
  const normB = ctx.bind(norm.bias.storage, norm.bias.offset, C);
  const kRange = ctx.bind(keys.storage, keys.offset, cacheSize);
  const vRange = ctx.bind(values.storage, values.offset, cacheSize);
  const oRange = ctx.bind(out.storage, out.offset, B * C);
  const u = new Uniforms()
    .u32(C, nh, args.position, maxT)
    .u32(xRange.base, wRange.base, 3 * C, biasRange?.base ?? 0)
    .u32(normW.base, normB.base, kRange.base, vRange.base, oRange.base)
    .f32(norm.eps, args.scale);
  ctx.dispatch(
    'attention_decode_qkv',
    { ROWS: B, HD: hd, HAS_BIAS: biasRange !== null, B_KIND: halfKind(weight.dtype), NORM_SIZE: B * C },
    u,
    [
      oRange.resource,
      xRange.resource,
      wRange.resource,
      biasRange?.resource ?? ctx.dummy,
      normW.resource,
      normB.resource,
      kRange.resource,
      vRange.resource,
    ],
    [nh, 1, 1],
  );
  return true;
}
