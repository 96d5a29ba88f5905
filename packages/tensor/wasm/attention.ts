// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// Fused causal attention and its backward (packages/tensor/src/cpu/attention.ts is the
// reference), a block of BR query rows of one head at a time: the block's scores (BR, keys it
// sees) by sgemm into a per-thread scratch block (never the (Tq, Tk) scores of a head, nor all
// heads'), softmax per row, dropout factors drawn as wasm/dropout.ts draws them, then the
// block's output by sgemm. The backward recomputes a block's weights from the forward's
// log-sum-exp (FlashAttention-2) and runs its four products through sgemm as well.
// B = batch, nh = heads, Tq = queries, Tk = keys, hd = head size.
//
// Operands: q, k, v are (B, nh, T, hd) with element strides (sb, sh, st) over (B, nh, T) and
// unit stride over hd; out, lse, dout, delta, dq, dk, dv are contiguous. The sizes and factors
// come in a header block (a parallel call takes at most 16 arguments), at these byte offsets:
// 0, 24, 48: q, k, v as (byte address u64, sb, sh, st int32: 24 bytes; the address is 64-bit
// because a memory64 heap passes 4 GiB); 72: nh, Tq, Tk, hd int32; 88: scale f64; 96: causal,
// dropping int32 (0 none, 1 Threefry words, 2 a host-drawn keep mask), threshold u32, dropout
// scale f32; 112: key (2), stream u32, or (dropping 2) the keep mask's byte address u64 (one
// byte per weight of the (B, nh, Tq, Tk) weights, 1 = kept); 124: BR (query rows per block) int32.
import { maskWords8 } from './dropout';
import { binaryArith } from './arith';
import { F32 } from './half';
import { sgemm, sgemmSmallM } from './sgemm';
import { rowMax, sumExp, scaleRow, zeroRow } from './simd-math';

// The header's fields, read where used (a few loads from L1).
// @ts-ignore: decorator
@inline function nhOf(ops: usize): i32 { return load<i32>(ops, 72); }
// @ts-ignore: decorator
@inline function tqOf(ops: usize): i32 { return load<i32>(ops, 76); }
// @ts-ignore: decorator
@inline function tkOf(ops: usize): i32 { return load<i32>(ops, 80); }
// @ts-ignore: decorator
@inline function hdOf(ops: usize): i32 { return load<i32>(ops, 84); }
// @ts-ignore: decorator
@inline function dropping(ops: usize): bool { return load<i32>(ops, 100) != 0; }
// @ts-ignore: decorator
@inline function blockRows(ops: usize): i32 { return load<i32>(ops, 124); }

/** Byte address of row t of head bh of the operand described at `desc` (address, sb, sh, st). */
// @ts-ignore: decorator
@inline function rowAddress(desc: usize, nh: i32, bh: i32, t: i32): usize {
  const elements = <usize>(bh / nh) * <usize>load<i32>(desc, 8) + <usize>(bh % nh) * <usize>load<i32>(desc, 12) + <usize>t * <usize>load<i32>(desc, 16);
  return <usize>load<u64>(desc) + (elements << 2);
}

// @ts-ignore: decorator
@inline function rowStride(desc: usize): i32 {
  return load<i32>(desc, 16);
}

/** Keys row i sees: all, or (causal) j <= i + Tk - Tq. */
// @ts-ignore: decorator
@inline function visibleKeys(ops: usize, i: i32): i32 {
  const Tk = tkOf(ops);
  return load<i32>(ops, 96) ? min(Tk, i + Tk - tqOf(ops) + 1) : Tk;
}

/**
 * factors[j] = the dropout factor (0 or dropScale) of weight `first + j`, for j < n: word
 * (e & 1) of Threefry(key, (e >> 1, stream)) against the threshold, as wasm/dropout.ts.
 */
function dropRow(ops: usize, factors: usize, first: u64, n: i32, bits: usize): void {
  const end = first + <u64>n;
  const threshold = load<u32>(ops, 104), dropScale = load<f32>(ops, 108);
  if (load<i32>(ops, 100) == 2) {
    // The torch stream's mask, drawn on the host in PyTorch's order (src/torch-random.ts).
    const keep = <usize>load<u64>(ops, 112) + <usize>first;
    for (let j = 0; j < n; j++) store<f32>(factors + (<usize>j << 2), load<u8>(keep + <usize>j) ? dropScale : 0);
    return;
  }
  for (let e = first & ~1; e < end; e += 8) {
    maskWords8(load<u32>(ops, 112), load<u32>(ops, 116), <u32>(e >> 1), load<u32>(ops, 120), bits);
    for (let t: u64 = 0; t < 8; t++) {
      if (e + t < first || e + t >= end) continue;
      store<f32>(factors + (<usize>(e + t - first) << 2), load<u32>(bits + (<usize>t << 2)) >= threshold ? dropScale : 0);
    }
  }
}

// binaryArith's op codes.
const ADD: i32 = 0, MUL: i32 = 2;

/**
 * C = A B (sgemm's arguments): through sgemm's no-packing path for a few rows (a KV cache's
 * decoding step, Tq = 1), where packing k or v would cost as much as the product.
 */
// @ts-ignore: decorator
@inline function product(M: i32, N: i32, K: i32, a: usize, aRow: i32, aCol: i32, b: usize, bRow: i32, bCol: i32, c: usize, ldc: i32, gemm: usize): void {
  if (M < 8) sgemmSmallM(M, N, K, a, aRow, aCol, b, bRow, bCol, c, ldc, 0, gemm, F32);
  else sgemm(M, N, K, a, aRow, aCol, b, bRow, bCol, c, ldc, 0, gemm, F32);
}

/** S (rows, keys) = scale q[r0 .. r0 + rows) k[0 .. keys)^T for head bh, row stride `keys`. */
function scores(ops: usize, bh: i32, r0: i32, rows: i32, keys: i32, s: usize, gemm: usize): void {
  const nh = nhOf(ops);
  product(rows, keys, hdOf(ops), rowAddress(ops, nh, bh, r0), rowStride(ops), 1, rowAddress(ops + 24, nh, bh, 0), 1, rowStride(ops + 24), s, keys, gemm);
  const scale = <f32>load<f64>(ops, 88);
  for (let r = 0; r < rows; r++) {
    const row = s + (<usize>(r * keys) << 2);
    scaleRow(row, row, visibleKeys(ops, r0 + r), scale);
  }
}

/**
 * Blocks [first, first + count) of the B nh ceil(Tq / BR) blocks of query rows: out and lse.
 * `scratch`: this thread's BR Tk + Tk + 8 floats (scores, dropout factors, mask words), then
 * sgemm's scratch.
 */
export function attentionBlocks(ops: usize, out: usize, lse: usize, scratch: usize, first: i32, count: i32): void {
  const Tq = tqOf(ops), Tk = tkOf(ops), hd = hdOf(ops), BR = blockRows(ops), nh = nhOf(ops);
  const blocks = (Tq + BR - 1) / BR;
  const s = scratch, factors = s + (<usize>(BR * Tk) << 2), bits = factors + (<usize>Tk << 2), gemm = bits + 32;
  for (let block = first; block < first + count; block++) {
    const bh = block / blocks, r0 = (block % blocks) * BR;
    const rows = min(BR, Tq - r0);
    const keys = visibleKeys(ops, r0 + rows - 1);
    scores(ops, bh, r0, rows, keys, s, gemm);
    for (let r = 0; r < rows; r++) {
      const i = r0 + r, row = s + (<usize>(r * keys) << 2);
      const visible = visibleKeys(ops, i);
      const m = rowMax(row, visible);
      const sum = sumExp(row, visible, m, row); // exp(s - m)
      const at = bh * Tq + i;
      store<f32>(lse + (<usize>at << 2), <f32>(<f64>m + Math.log(sum)));
      if (dropping(ops)) {
        dropRow(ops, factors, <u64>at * <u64>Tk, visible, bits);
        binaryArith(MUL, row, factors, row, visible);
      }
      scaleRow(row, row, visible, <f32>(1 / sum));
      zeroRow(row + (<usize>visible << 2), keys - visible);
    }
    // out[r0 .. r0 + rows) = weights (rows, keys) v[0 .. keys)
    const o = out + (<usize>(bh * Tq + r0) * <usize>hd << 2);
    product(rows, hd, keys, s, keys, 1, rowAddress(ops + 48, nh, bh, 0), rowStride(ops + 48), 1, o, hd, gemm);
  }
}

/**
 * Heads [first, first + count) of the backward: dq, dk, dv of each (batch, head), written
 * whole (a head's dk, dv sum over all its query blocks, so threads split by heads). Per block:
 * P = exp(S - lse) (masked), dP = dout v^T, dS = P (dP F - delta) with F the dropout factors,
 * dv += (P F)^T dout, dk += dS^T q, dq = dS k; dq and dk times scale.
 * `scratch`: 2 BR Tk + Tk hd + Tk + 8 floats (P, dP, a (Tk, hd) product, factors, mask words), then sgemm's.
 */
export function attentionBackwardHeads(ops: usize, dout: usize, lse: usize, delta: usize, dq: usize, dk: usize, dv: usize,
  scratch: usize, first: i32, count: i32): void {
  const Tq = tqOf(ops), Tk = tkOf(ops), hd = hdOf(ops), BR = blockRows(ops), nh = nhOf(ops);
  const scale = <f32>load<f64>(ops, 88);
  const p = scratch, dp = p + (<usize>(BR * Tk) << 2), product = dp + (<usize>(BR * Tk) << 2);
  const factors = product + (<usize>(Tk * hd) << 2), bits = factors + (<usize>Tk << 2), gemm = bits + 32;
  const headBytes = <usize>(Tk * hd) << 2;
  for (let bh = first; bh < first + count; bh++) {
    const dkHead = dk + <usize>bh * headBytes, dvHead = dv + <usize>bh * headBytes;
    zeroRow(dkHead, Tk * hd);
    zeroRow(dvHead, Tk * hd);
    for (let r0 = 0; r0 < Tq; r0 += BR) {
      const rows = min(BR, Tq - r0);
      const keys = visibleKeys(ops, r0 + rows - 1);
      const doBlock = dout + (<usize>(bh * Tq + r0) * <usize>hd << 2);
      scores(ops, bh, r0, rows, keys, p, gemm);
      // dP (rows, keys) = dout v^T
      sgemm(rows, keys, hd, doBlock, hd, 1, rowAddress(ops + 48, nh, bh, 0), 1, rowStride(ops + 48), dp, keys, 0, gemm, F32);
      for (let r = 0; r < rows; r++) {
        const i = r0 + r, at = bh * Tq + i;
        const pRow = p + (<usize>(r * keys) << 2), dpRow = dp + (<usize>(r * keys) << 2);
        const visible = visibleKeys(ops, i);
        sumExp(pRow, visible, load<f32>(lse + (<usize>at << 2)), pRow); // p = exp(s - lse)
        zeroRow(pRow + (<usize>visible << 2), keys - visible);
        if (dropping(ops)) dropRow(ops, factors, <u64>at * <u64>Tk, visible, bits);
        const d = load<f32>(delta + (<usize>at << 2));
        for (let j = 0; j < keys; j++) {
          const jat = <usize>j << 2;
          const f: f32 = j >= visible ? 0 : dropping(ops) ? load<f32>(factors + jat) : 1;
          const w = load<f32>(pRow + jat);
          store<f32>(dpRow + jat, j < visible ? w * (load<f32>(dpRow + jat) * f - d) : 0); // dS
          store<f32>(pRow + jat, w * f); // P F
        }
      }
      // dv[0 .. keys) += (P F)^T dout; dk[0 .. keys) += dS^T q (both (keys, hd) through `product`)
      sgemm(keys, hd, rows, p, 1, keys, doBlock, hd, 1, product, hd, 0, gemm, F32);
      binaryArith(ADD, dvHead, product, dvHead, keys * hd);
      sgemm(keys, hd, rows, dp, 1, keys, rowAddress(ops, nh, bh, r0), rowStride(ops), 1, product, hd, 0, gemm, F32);
      binaryArith(ADD, dkHead, product, dkHead, keys * hd);
      // dq[r0 .. r0 + rows) = scale dS k
      const dqBlock = dq + (<usize>(bh * Tq + r0) * <usize>hd << 2);
      sgemm(rows, hd, keys, dp, keys, 1, rowAddress(ops + 24, nh, bh, 0), rowStride(ops + 24), 1, dqBlock, hd, 0, gemm, F32);
      scaleRow(dqBlock, dqBlock, rows * hd, scale);
    }
    scaleRow(dkHead, dkHead, Tk * hd, scale);
  }
}
