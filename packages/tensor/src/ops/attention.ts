/**
 * Fused causal attention (flash-attention style): softmax(scale q k^T, causal mask) with
 * dropout on the weights, times v, one block of query rows at a time, so the (B, nh, Tq, Tk)
 * scores and weights are never stored whole. The forward keeps each row's log-sum-exp; the
 * backward recomputes the weights from it (FlashAttention-2, Dao 2023).
 * B = batch, nh = heads, Tq = queries, Tk = keys (Tk - Tq cached keys before the queries), hd = head size.
 * The unfused composition (matmul, mulScalar, softmax, dropout, matmul) computes the same
 * values and, given the same dropout mask, drops the same weights: it is the tests' oracle.
 */
import type { DropoutMask, View } from '../backend.js';
import { ShapeError, formatShape } from '../errors.js';
import { type Tensor, empty } from '../tensor.js';
import { copyInto, mul } from './elementwise.js';
import { sum } from './reduce.js';
import { assertFloat, assertShape } from './util.js';

export interface AttentionOptions {
  /** Query i sees keys j <= i + Tk - Tq (the queries are the newest Tq positions). Default true. */
  causal?: boolean;
  /** Factor on q . k; default 1 / sqrt(hd). */
  scale?: number;
  /** Dropout on the attention weights (train mode), drawn as `dropout` would on the (B, nh, Tq, Tk) weights. */
  dropout?: DropoutMask | null;
}

export interface AttentionResult {
  out: Tensor; // (B, nh, Tq, hd)
  lse: Tensor; // (B, nh, Tq): log sum_j exp(scale q_i . k_j), the backward's cache
}

interface Resolved {
  B: number;
  nh: number;
  Tq: number;
  Tk: number;
  hd: number;
  scale: number;
  causal: boolean;
  dropout: DropoutMask | null;
}

/** Checks q (B, nh, Tq, hd) and k, v (B, nh, Tk, hd) and resolves the options. */
function resolve(op: string, q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions): Resolved {
  assertFloat(op, q, k, v);
  if (q.rank !== 4) throw new ShapeError(`${op}: q must be (B, nh, Tq, hd), got ${formatShape(q.shape)}`);
  const [B, nh, Tq, hd] = q.shape as [number, number, number, number];
  const Tk = k.shape[2] ?? 0;
  assertShape(op, 'k', k, [B, nh, Tk, hd]);
  assertShape(op, 'v', v, [B, nh, Tk, hd]);
  const causal = options.causal ?? true;
  if (causal && Tq > Tk) throw new ShapeError(`${op}: more queries (${Tq}) than keys (${Tk}) in causal attention`);
  const p = options.dropout?.p ?? 0;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${op}: dropout p must be in [0, 1], got ${p}`);
  return {
    B,
    nh,
    Tq,
    Tk,
    hd,
    scale: options.scale ?? 1 / Math.sqrt(hd),
    causal,
    dropout: p > 0 ? options.dropout! : null,
  };
}

/** The kernels read any strides over (B, nh, T) but need unit stride over hd: a copy otherwise. */
function withUnitInnerStride<R>(tensors: Tensor[], fn: (...views: View[]) => R): R {
  const copies = tensors.map((t) => (t.strides[3] === 1 || t.shape[3] === 1 ? null : t.contiguous()));
  try {
    return fn(...tensors.map((t, i) => copies[i] ?? t));
  } finally {
    for (const c of copies) c?.dispose();
  }
}

/**
 * Causal scaled dot-product attention in one kernel: q (B, nh, Tq, hd), k and v (B, nh, Tk, hd)
 * -> out (B, nh, Tq, hd) and the rows' log-sum-exp (B, nh, Tq). As PyTorch's
 * scaled_dot_product_attention(q, k, v, is_causal) with the mask aligned to the newest keys
 * (a KV cache's queries come last). Throws ShapeError on mismatched shapes or Tq > Tk (causal),
 * DTypeError on non-float or mixed dtypes.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): AttentionResult {
  const r = resolve('attention', q, k, v, options);
  const out = empty([r.B, r.nh, r.Tq, r.hd], q.dtype, q.device);
  const lse = empty([r.B, r.nh, r.Tq], q.dtype, q.device);
  if (out.size === 0) return { out, lse };
  if (r.Tk === 0) throw new ShapeError(`attention: no keys to attend to (k ${formatShape(k.shape)})`);
  withUnitInnerStride([q, k, v], (cq, ck, cv) =>
    q.device.backend.kernels.attention({ q: cq!, k: ck!, v: cv!, out, lse, ...r }),
  );
  return { out, lse };
}

export interface AttentionGrads {
  dq: Tensor; // (B, nh, Tq, hd)
  dk: Tensor; // (B, nh, Tk, hd)
  dv: Tensor; // (B, nh, Tk, hd)
}

/**
 * The backward of `attention` with the same options (and so the same dropout mask): dout
 * (B, nh, Tq, hd), the forward's out and lse -> dq, dk, dv. The weights are recomputed from lse.
 * With `into` (views of q's, k's and v's shapes, unit stride over hd, e.g. `qkvHeads` of a fused
 * qkv gradient) the gradients are written there, every element once, and `into` is returned:
 * a backend with `stridedAttentionBackward` writes them in place, others through contiguous copies.
 */
export function attentionBackward(
  dout: Tensor,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  out: Tensor,
  lse: Tensor,
  options: AttentionOptions = {},
  into?: AttentionGrads,
): AttentionGrads {
  const r = resolve('attentionBackward', q, k, v, options);
  assertFloat('attentionBackward', dout, out, lse, q);
  assertShape('attentionBackward', 'dout', dout, q.shape);
  assertShape('attentionBackward', 'out', out, q.shape);
  assertShape('attentionBackward', 'lse', lse, q.shape.slice(0, 3));
  if (into) {
    assertFloat('attentionBackward', q, into.dq, into.dk, into.dv);
    assertShape('attentionBackward', 'into.dq', into.dq, q.shape);
    assertShape('attentionBackward', 'into.dk', into.dk, k.shape);
    assertShape('attentionBackward', 'into.dv', into.dv, k.shape);
  }
  const backend = q.device.backend;
  const unit = (t: Tensor) => t.strides[3] === 1 || t.shape[3] === 1;
  const strided = backend.stridedAttentionBackward === true;
  const direct =
    into !== undefined &&
    strided &&
    unit(into.dq) &&
    unit(into.dk) &&
    unit(into.dv) &&
    into.dk.storage === into.dv.storage &&
    into.dq.size > 0 &&
    into.dk.size > 0;
  let grads: AttentionGrads;
  if (direct) grads = into;
  else {
    // dk and dv in one storage: the WebGPU kernel writes both through one binding.
    const dkv = empty([2, ...k.shape], q.dtype, q.device);
    const half = (i: number) => {
      const s = dkv.slice(0, i, i + 1);
      const t = s.squeeze(0);
      s.dispose();
      return t;
    };
    grads = { dq: empty(q.shape, q.dtype, q.device), dk: half(0), dv: half(1) };
    dkv.dispose();
  }
  const { dq, dk, dv } = grads;
  const kernels = backend.kernels;
  if (dq.size === 0 || dk.size === 0) {
    for (const g of [dq, dk, dv]) if (g.size > 0) kernels.fill(g, 0);
  } else {
    // delta_i = dout_i . out_i (= sum_j p_ij dp_ij): softmax's backward term, one row sum (a
    // backend with strided gradients computes it in its dq kernel).
    let delta: Tensor;
    if (strided) delta = empty(lse.shape, q.dtype, q.device);
    else {
      const product = mul(dout, out);
      delta = sum(product, 3);
      product.dispose();
    }
    const cdout = strided && unit(dout) ? dout.slice(0, 0) : dout.contiguous(),
      clse = lse.contiguous(),
      cout = out.contiguous();
    try {
      withUnitInnerStride([q, k, v], (cq, ck, cv) =>
        kernels.attentionBackward({
          q: cq!,
          k: ck!,
          v: cv!,
          out: cout,
          dout: cdout,
          lse: clse,
          delta,
          dq,
          dk,
          dv,
          ...r,
        }),
      );
    } finally {
      for (const t of [cdout, clse, cout, delta]) t.dispose();
    }
  }
  if (!into || direct) return grads;
  copyInto(into.dq, dq);
  copyInto(into.dk, dk);
  copyInto(into.dv, dv);
  for (const t of [dq, dk, dv]) t.dispose();
  return into;
}

/**
 * q, k and v (B, nh, T, hd) of a fused projection qkv (B, T, 3 C), C = nh hd, laid out
 * [q | k | v] along the last axis with head h at columns h hd .. (h + 1) hd of each part (the
 * model's c_attn output): views of qkv, no copy, when qkv is contiguous (a copy's views
 * otherwise). Throws ShapeError when qkv is not rank 3 or its last axis is not a multiple of 3 nh.
 */
export function qkvHeads(qkv: Tensor, nh: number): [Tensor, Tensor, Tensor] {
  const [B, Tn, C3] = qkv.shape as [number, number, number];
  if (qkv.rank !== 3 || !(Number.isInteger(nh) && nh > 0) || C3 % (3 * nh) !== 0)
    throw new ShapeError(`qkvHeads: qkv must be (B, T, 3 nh hd) for ${nh} heads, got ${formatShape(qkv.shape)}`);
  const split = qkv.reshape([B, Tn, 3, nh, C3 / (3 * nh)]);
  const parts = split.permute([2, 0, 3, 1, 4]); // (3, B, nh, T, hd)
  split.dispose();
  const heads = [0, 1, 2].map((i) => {
    const s = parts.slice(0, i, i + 1);
    const h = s.squeeze(0);
    s.dispose();
    return h;
  }) as [Tensor, Tensor, Tensor];
  parts.dispose();
  return heads;
}
