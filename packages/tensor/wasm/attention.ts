// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// Fused causal attention and its backward (packages/tensor/src/cpu/attention.ts is the
// reference): one query row at a time, its Tk scores in a per-thread scratch row (never the
// (Tq, Tk) block), softmax with the row's max, dropout factors drawn as wasm/dropout.ts draws
// them, then out = sum_j w_j v_j. The backward recomputes each row's weights from the forward's
// log-sum-exp. B = batch, nh = heads, Tq = queries, Tk = keys, hd = head size.
//
// Operands: q, k, v are (B, nh, T, hd) with element strides (sb, sh, st) over (B, nh, T) and
// unit stride over hd; out, lse, dout, delta, dq, dk, dv are contiguous. The sizes and factors
// come in a header block (a parallel call takes at most 16 arguments), at these byte offsets:
// 0, 16, 32: q, k, v as (byte address, sb, sh, st) int32; 48: nh, Tq, Tk, hd int32; 64: scale
// f64; 72: causal, dropping int32, threshold u32, dropout scale f32; 88: key (2), stream u32.
import { maskWords8 } from './dropout';
import { rowMax, sumExp, scaleRow, zeroRow, loadTail, storeTail } from './simd-math';

/** Byte address of row t of head bh of the operand described at `desc` (address, sb, sh, st as i32). */
// @ts-ignore: decorator
@inline function rowAddress(desc: usize, nh: i32, bh: i32, t: i32): usize {
  const elements = <usize>(bh / nh) * <usize>load<i32>(desc, 4) + <usize>(bh % nh) * <usize>load<i32>(desc, 8) + <usize>t * <usize>load<i32>(desc, 12);
  return <usize>load<i32>(desc) + (elements << 2);
}

/** a . b over n float32 (float32 sums in 8 lanes, as matmul's; n is a head size, 64 in GPT-2). */
// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, n: i32): f32 {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
  const n8 = n & ~7, n4 = n & ~3;
  for (let d = 0; d < n8; d += 8) {
    const at = <usize>d << 2;
    s0 = f32x4.add(s0, f32x4.mul(v128.load(a + at), v128.load(b + at)));
    s1 = f32x4.add(s1, f32x4.mul(v128.load(a + at, 16), v128.load(b + at, 16)));
  }
  if (n8 < n4) s0 = f32x4.add(s0, f32x4.mul(v128.load(a + (<usize>n8 << 2)), v128.load(b + (<usize>n8 << 2))));
  if (n4 < n) {
    const at = <usize>n4 << 2;
    s1 = f32x4.add(s1, f32x4.mul(loadTail(a + at, n - n4), loadTail(b + at, n - n4)));
  }
  const s = f32x4.add(s0, s1);
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}

/** y += a x over n float32. */
// @ts-ignore: decorator
@inline function axpy(y: usize, x: usize, a: f32, n: i32): void {
  const av = f32x4.splat(a);
  const n4 = n & ~3;
  for (let d = 0; d < n4; d += 4) {
    const at = <usize>d << 2;
    v128.store(y + at, f32x4.add(v128.load(y + at), f32x4.mul(av, v128.load(x + at))));
  }
  if (n4 < n) {
    const at = <usize>n4 << 2;
    storeTail(y + at, f32x4.add(loadTail(y + at, n - n4), f32x4.mul(av, loadTail(x + at, n - n4))), n - n4);
  }
}

/** Keys row i sees: all, or (causal) j <= i + Tk - Tq. */
// @ts-ignore: decorator
@inline function visibleKeys(i: i32, Tq: i32, Tk: i32, causal: i32): i32 {
  return causal ? min(Tk, i + Tk - Tq + 1) : Tk;
}

/** scores[j] = scale q_i . k_j for the visible keys. */
function scoreRow(q: usize, k: usize, nh: i32, bh: i32, i: i32, visible: i32, hd: i32, scale: f64, scores: usize): void {
  const qi = rowAddress(q, nh, bh, i);
  for (let j = 0; j < visible; j++) store<f32>(scores + (<usize>j << 2), <f32>(scale * <f64>dot(qi, rowAddress(k, nh, bh, j), hd)));
}

/**
 * factors[j] = the dropout factor (0 or dropScale) of weight `first + j`, for j < n: word
 * (e & 1) of Threefry(key, (e >> 1, stream)) against the threshold, as wasm/dropout.ts.
 */
function dropRow(factors: usize, first: u64, n: i32, threshold: u32, dropScale: f32, k0: u32, k1: u32, stream: u32, bits: usize): void {
  const end = first + <u64>n;
  for (let e = first & ~1; e < end; e += 8) {
    maskWords8(k0, k1, <u32>(e >> 1), stream, bits);
    for (let t: u64 = 0; t < 8; t++) {
      if (e + t < first || e + t >= end) continue;
      store<f32>(factors + (<usize>(e + t - first) << 2), load<u32>(bits + (<usize>t << 2)) >= threshold ? dropScale : 0);
    }
  }
}

/**
 * Rows [first, first + count) of the (B nh Tq) query rows: out and lse. `ops` points at three
 * header (see above); `scratch` at 2 Tk + 8 floats of this thread (scores, dropout factors, mask words).
 */
export function attentionRows(ops: usize, out: usize, lse: usize, scratch: usize, first: i32, count: i32): void {
  const nh = load<i32>(ops, 48), Tq = load<i32>(ops, 52), Tk = load<i32>(ops, 56), hd = load<i32>(ops, 60);
  const scale = load<f64>(ops, 64), causal = load<i32>(ops, 72), dropping = load<i32>(ops, 76);
  const threshold = load<u32>(ops, 80), dropScale = load<f32>(ops, 84), k0 = load<u32>(ops, 88), k1 = load<u32>(ops, 92), stream = load<u32>(ops, 96);
  const scores = scratch, factors = scratch + (<usize>Tk << 2);
  for (let r = first; r < first + count; r++) {
    const bh = r / Tq, i = r % Tq;
    const visible = visibleKeys(i, Tq, Tk, causal);
    scoreRow(ops, ops + 16, nh, bh, i, visible, hd, scale, scores);
    const m = rowMax(scores, visible);
    const sum = sumExp(scores, visible, m, scores); // scores now hold exp(s - m)
    store<f32>(lse + (<usize>r << 2), <f32>(<f64>m + Math.log(sum)));
    if (dropping) {
      dropRow(factors, <u64>r * <u64>Tk, visible, threshold, dropScale, k0, k1, stream, factors + (<usize>Tk << 2));
      for (let j = 0; j < visible; j++) {
        const at = <usize>j << 2;
        store<f32>(scores + at, load<f32>(scores + at) * load<f32>(factors + at));
      }
    }
    const o = out + (<usize>r * <usize>hd << 2);
    zeroRow(o, hd);
    for (let j = 0; j < visible; j++) {
      const w = load<f32>(scores + (<usize>j << 2));
      if (w != 0) axpy(o, rowAddress(ops + 32, nh, bh, j), w, hd);
    }
    scaleRow(o, o, hd, <f32>(1 / sum));
  }
}

/**
 * Heads [first, first + count) of the backward: dq, dk, dv of each (batch, head), written
 * whole (a head's keys are summed over all its rows here, so threads split by heads).
 */
export function attentionBackwardHeads(ops: usize, dout: usize, lse: usize, delta: usize, dq: usize, dk: usize, dv: usize,
  scratch: usize, first: i32, count: i32): void {
  const nh = load<i32>(ops, 48), Tq = load<i32>(ops, 52), Tk = load<i32>(ops, 56), hd = load<i32>(ops, 60);
  const scale = load<f64>(ops, 64), causal = load<i32>(ops, 72), dropping = load<i32>(ops, 76);
  const threshold = load<u32>(ops, 80), dropScale = load<f32>(ops, 84), k0 = load<u32>(ops, 88), k1 = load<u32>(ops, 92), stream = load<u32>(ops, 96);
  const probs = scratch, factors = scratch + (<usize>Tk << 2);
  const rowBytes = <usize>hd << 2;
  for (let bh = first; bh < first + count; bh++) {
    const dkHead = dk + <usize>bh * <usize>Tk * rowBytes, dvHead = dv + <usize>bh * <usize>Tk * rowBytes;
    zeroRow(dkHead, Tk * hd);
    zeroRow(dvHead, Tk * hd);
    for (let i = 0; i < Tq; i++) {
      const r = bh * Tq + i;
      const visible = visibleKeys(i, Tq, Tk, causal);
      scoreRow(ops, ops + 16, nh, bh, i, visible, hd, scale, probs);
      sumExp(probs, visible, load<f32>(lse + (<usize>r << 2)), probs); // probs = exp(s - lse)
      if (dropping) dropRow(factors, <u64>r * <u64>Tk, visible, threshold, dropScale, k0, k1, stream, factors + (<usize>Tk << 2));
      const doRow = dout + <usize>r * rowBytes, dqRow = dq + <usize>r * rowBytes;
      const qi = rowAddress(ops, nh, bh, i);
      const d = load<f32>(delta + (<usize>r << 2));
      zeroRow(dqRow, hd);
      for (let j = 0; j < visible; j++) {
        const p = load<f32>(probs + (<usize>j << 2));
        const f: f32 = dropping ? load<f32>(factors + (<usize>j << 2)) : 1;
        const kj = rowAddress(ops + 16, nh, bh, j), vj = rowAddress(ops + 32, nh, bh, j);
        const dp: f32 = f == 0 ? 0 : f * dot(doRow, vj, hd);
        const ds = p * (dp - d);
        axpy(dqRow, kj, ds, hd);
        axpy(dkHead + <usize>j * rowBytes, qi, ds, hd);
        if (p * f != 0) axpy(dvHead + <usize>j * rowBytes, doRow, p * f, hd);
      }
      scaleRow(dqRow, dqRow, hd, <f32>scale);
    }
    scaleRow(dkHead, dkHead, Tk * hd, <f32>scale);
  }
}
