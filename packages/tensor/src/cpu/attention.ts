/**
 * Reference fused attention and its backward: plain loops from the maths (backend.ts,
 * AttentionArgs), one query row at a time with a row of Tk scores, float64 sums. The oracle
 * of the fast CPU and WebGPU kernels, itself tested against the unfused composition
 * (matmul, softmax, dropout, matmul).
 * B = batch, nh = heads, Tq = queries, Tk = keys, hd = head size.
 */
import type { AttentionArgs, AttentionBackwardArgs, View } from '../backend.js';
import { maskFactors } from '../dropout-mask.js';
import { visibleColumns } from './softmax.js';
import { dataOf } from './storage.js';

/** Storage index of element (b, h, t, 0) of a (B, nh, T, hd) view. */
function rowAt(view: View, b: number, h: number, t: number): number {
  const [sb, sh, st] = view.strides as [number, number, number, number];
  return view.offset + b * sb + h * sh + t * st;
}

function dot(
  x: ArrayLike<number>,
  xAt: number,
  y: ArrayLike<number>,
  yAt: number,
  n: number,
  stepX: number,
  stepY: number,
): number {
  let s = 0;
  for (let d = 0; d < n; d++) s += x[xAt + d * stepX]! * y[yAt + d * stepY]!;
  return s;
}

/** The row's scores s_j = scale q_i . k_j over the visible keys, into `scores`; returns how many are visible. */
function scoreRow(
  args: AttentionArgs | AttentionBackwardArgs,
  b: number,
  h: number,
  i: number,
  scores: Float64Array,
): number {
  const { q, k, Tq, Tk, hd, scale, causal } = args;
  const visible = visibleColumns(i, Tk, causal ? { tq: Tq, tk: Tk } : null);
  const Q = dataOf(q),
    K = dataOf(k);
  const qi = rowAt(q, b, h, i);
  for (let j = 0; j < visible; j++)
    scores[j] = scale * dot(Q, qi, K, rowAt(k, b, h, j), hd, q.strides[3]!, k.strides[3]!);
  return visible;
}

/** The dropout factors of the row's visible weights (all 1 without dropout). */
function dropRow(
  args: AttentionArgs | AttentionBackwardArgs,
  b: number,
  h: number,
  i: number,
  visible: number,
  factors: Float64Array,
): void {
  const { dropout, nh, Tq, Tk } = args;
  if (dropout) maskFactors(dropout, ((b * nh + h) * Tq + i) * Tk, visible, factors);
  else factors.fill(1, 0, visible);
}

export function attention(args: AttentionArgs): void {
  const { v, out, lse, B, nh, Tq, Tk, hd } = args;
  const V = dataOf(v),
    O = dataOf(out),
    L = dataOf(lse);
  const scores = new Float64Array(Tk),
    factors = new Float64Array(Tk),
    acc = new Float64Array(hd);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nh; h++) {
      for (let i = 0; i < Tq; i++) {
        const visible = scoreRow(args, b, h, i, scores);
        let max = -Infinity;
        for (let j = 0; j < visible; j++) max = Math.max(max, scores[j]!);
        let sum = 0;
        for (let j = 0; j < visible; j++) sum += Math.exp(scores[j]! - max);
        const logSumExp = max + Math.log(sum);
        const row = (b * nh + h) * Tq + i;
        L[lse.offset + row] = logSumExp;
        dropRow(args, b, h, i, visible, factors);
        acc.fill(0);
        for (let j = 0; j < visible; j++) {
          const w = Math.exp(scores[j]! - logSumExp) * factors[j]!;
          const vj = rowAt(v, b, h, j);
          if (w !== 0) for (let d = 0; d < hd; d++) acc[d]! += w * V[vj + d * v.strides[3]!]!;
        }
        for (let d = 0; d < hd; d++) O[out.offset + row * hd + d] = acc[d]!;
      }
    }
  }
}

/**
 * With p_ij = exp(s_ij - lse_i) and f_ij the dropout factor: dv_j = sum_i p_ij f_ij dout_i;
 * dp_ij = f_ij dout_i . v_j; ds_ij = p_ij (dp_ij - delta_i) (delta_i = dout_i . out_i =
 * sum_j p_ij dp_ij, softmax's backward); dq_i = scale sum_j ds_ij k_j; dk_j = scale sum_i ds_ij q_i.
 */
export function attentionBackward(args: AttentionBackwardArgs): void {
  const { q, k, v, dout, lse, delta, dq, dk, dv, B, nh, Tq, Tk, hd, scale } = args;
  const Q = dataOf(q),
    K = dataOf(k),
    V = dataOf(v),
    dO = dataOf(dout),
    L = dataOf(lse),
    D = dataOf(delta);
  const dQ = dataOf(dq),
    dK = dataOf(dk),
    dV = dataOf(dv);
  const scores = new Float64Array(Tk),
    factors = new Float64Array(Tk),
    dqRow = new Float64Array(hd);
  const dkHead = new Float64Array(Tk * hd),
    dvHead = new Float64Array(Tk * hd);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nh; h++) {
      dkHead.fill(0);
      dvHead.fill(0);
      for (let i = 0; i < Tq; i++) {
        const visible = scoreRow(args, b, h, i, scores);
        dropRow(args, b, h, i, visible, factors);
        const row = (b * nh + h) * Tq + i;
        const doAt = dout.offset + row * hd;
        const qi = rowAt(q, b, h, i);
        dqRow.fill(0);
        for (let j = 0; j < visible; j++) {
          const p = Math.exp(scores[j]! - L[lse.offset + row]!);
          const vj = rowAt(v, b, h, j),
            kj = rowAt(k, b, h, j);
          const f = factors[j]!;
          const dp = f === 0 ? 0 : f * dot(dO, doAt, V, vj, hd, 1, v.strides[3]!);
          const ds = p * (dp - D[delta.offset + row]!);
          for (let d = 0; d < hd; d++) {
            dqRow[d]! += ds * K[kj + d * k.strides[3]!]!;
            dkHead[j * hd + d]! += ds * Q[qi + d * q.strides[3]!]!;
            dvHead[j * hd + d]! += p * f * dO[doAt + d]!;
          }
        }
        for (let d = 0; d < hd; d++) dQ[dq.offset + row * hd + d] = scale * dqRow[d]!;
      }
      const head = (b * nh + h) * Tk * hd;
      for (let e = 0; e < Tk * hd; e++) {
        dK[dk.offset + head + e] = scale * dkHead[e]!;
        dV[dv.offset + head + e] = dvHead[e]!;
      }
    }
  }
}
