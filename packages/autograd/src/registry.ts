/**
 * The gradient table: every differentiable op's backward rule, by the name its node records.
 * `DifferentiableOp` is the set of keys of `SavedFor` (what each op's forward keeps for its
 * backward), and `rules` is typed `{ [K in DifferentiableOp]: Rule<K> }`: an op added without a
 * rule, or recorded under a name that is not here, fails tsc. `record()` (variable.ts) looks
 * the rule up; the gradient-check suite runs every op (a coverage test fails otherwise).
 *
 * A rule maps dL/dy to the inputs' gradients (null where an input needs none). It runs inside a
 * tidy: what it returns is kept, its temporaries are freed. Broadcasting is undone with sumTo:
 * an input that was stretched receives the sum of the gradients of its copies. No rule reads
 * a value back from the device.
 */
import * as T from '@mini/tensor';
import type { DifferentiableBinaryOp, DifferentiableUnaryOp, Tensor } from '@mini/tensor';

export type Axes = number | readonly number[] | undefined;

type None = Record<never, never>;

/** What each op's forward saves for its backward, besides its inputs and output. */
export interface SavedFor {
  add: None;
  sub: None;
  mul: None;
  div: None;
  pow: None;
  maximum: None;
  minimum: None;
  neg: None;
  exp: None;
  log: None;
  sqrt: None;
  rsqrt: None;
  tanh: None;
  abs: None;
  relu: None;
  gelu: None;
  square: None;
  addScalar: { s: number };
  mulScalar: { s: number };
  powScalar: { s: number };
  rsubScalar: { s: number };
  rdivScalar: { s: number };
  maxScalar: { s: number };
  minScalar: { s: number };
  matmul: { transA: boolean; transB: boolean };
  sum: { axes: Axes };
  mean: { axes: Axes };
  max: { axes: Axes; keepDims: boolean };
  softmax: None;
  attention: { lse: Tensor; options: T.AttentionOptions };
  attentionQKV: { lse: Tensor; nh: number; options: T.AttentionOptions };
  layerNorm: { mean: Tensor; rstd: Tensor };
  embedding: { ids: Tensor; vocab: number };
  crossEntropy: { targets: Tensor; logsumexp: Tensor; count: Tensor; ignoreIndex: number };
  dropout: { mask: T.DropoutMask };
  residualDropout: { mask: T.DropoutMask };
  reshape: None;
  permute: { dims: readonly number[] };
  slice: { axis: number; start: number; end: number | undefined };
  expand: None;
  contiguous: None;
}

/** The names of the ops that have a backward rule (the keys of {@link rules}). */
export type DifferentiableOp = keyof SavedFor;

/**
 * What a rule sees: the inputs' values, which of them need a gradient, the output, the saved
 * state, and for ops in `accumulatesIntoFirst` (registry.ts) the gradient already gathered for the first
 * input (null if none yet).
 */
export interface RuleArgs<K extends DifferentiableOp> {
  readonly x: readonly Tensor[];
  readonly needsGrad: readonly boolean[];
  readonly y: Tensor;
  readonly saved: SavedFor[K];
  readonly pending: Tensor | null;
}

/**
 * Ops whose rule adds `pending` (the first input's gradient gathered so far) into the first
 * gradient it returns, in its own kernel: layer norm, whose input in a transformer block is the
 * residual stream, so its dx meets the residual's gradient there (on WebGPU one add dispatch
 * fewer per layer norm; on the CPU devices the same add, the same bits).
 */
export const accumulatesIntoFirst: ReadonlySet<DifferentiableOp> = new Set<DifferentiableOp>(['layerNorm']);

/**
 * An op's backward: the gradients of its inputs, in order, given the output's gradient `g` (null
 * for an input that needs none).
 */
export type Rule<K extends DifferentiableOp> = (g: Tensor, args: RuleArgs<K>) => Array<Tensor | null>;

/** The rule of a unary row of the elementwise table (@mini/tensor's elementwise-ops.ts). */
function unary(op: DifferentiableUnaryOp): Rule<DifferentiableOp> {
  const grad = T.unaryOpTable[op].grad;
  return (g, { x, y, saved }) => [grad(T, x[0]!, y, g, (saved as { s?: number }).s ?? 0)];
}

/** The rule of a binary row; sumTo folds each gradient back to its input's shape. */
function binary(op: DifferentiableBinaryOp): Rule<DifferentiableOp> {
  const grad = T.binaryOpTable[op].grad;
  return (g, { x: [a, b], needsGrad, y }) => {
    const [da, db] = grad(T, a!, b!, y, g);
    return [needsGrad[0] ? T.sumTo(da, a!.shape) : null, needsGrad[1] ? T.sumTo(db, b!.shape) : null];
  };
}

/** g reshaped with the reduced axes kept as size 1, then broadcast to `shape`. */
function broadcastBack(g: Tensor, shape: readonly number[], axes: Axes): Tensor {
  const reduced = reducedAxes(shape.length, axes);
  const kept = shape.map((d, i) => (reduced.includes(i) ? 1 : d));
  return g.reshape(kept).expand(shape).contiguous();
}

function reducedAxes(rank: number, axes: Axes): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  return (typeof axes === 'number' ? [axes] : [...axes]).map((a) => (a < 0 ? a + rank : a));
}

/**
 * Matmul: with A' = op(A), B' = op(B) (op = optional transpose) and C = A'B':
 *   dA' = dC B'^T,  dB' = A'^T dC,  d bias = dC summed over every row,
 * computed as their transposes where the operand was transposed ((dC B'^T)^T = B' dC^T), and
 * summed over broadcast batch dims.
 * The backward products are matmuls with transpose flags: no transposed copies are made.
 */
const matmul: Rule<'matmul'> = (g, { x: [a, b, bias], needsGrad, saved: { transA, transB } }) => {
  const at = transA ? a!.transpose() : a!; // A' as a view
  const bt = transB ? b!.transpose() : b!;
  const grads: Array<Tensor | null> = [null, null];
  // A transposed operand's gradient comes out of one product already in its layout: the
  // transposed view that sumTo made contiguous cost a strided copy (the 50257 x 768 head's
  // gradient: 0.4 s a step on the fast CPU).
  if (needsGrad[0]) {
    const da = transA ? T.matmul(bt, g, { transB: true }) : T.matmul(g, bt, { transB: true }); // (..., K, M) or (..., M, K)
    grads[0] = T.sumTo(da, a!.shape);
  }
  // The bias gradient from the weight gradient's own product where g is its B (x^T @ g, g
  // contiguous, one product): the column sums of g, in the matmul kernel on WebGPU (no
  // reduction dispatch), and on the CPU devices the reduction sumTo runs (the same bits).
  const fuseBias = bias && needsGrad[1] && needsGrad[2] && !transB && b!.rank === 2 && g.isContiguous();
  let dbias: Tensor | null = fuseBias ? T.empty(bias.shape, g.dtype, g.device) : null;
  if (needsGrad[1]) {
    // A weight shared by a batch: flatten the batch into rows, (K, B*M) @ (B*M, N), rather
    // than one (K, N) product per batch entry summed afterwards.
    const shared = b!.rank === 2 && at.rank > 2;
    const lhs = shared ? at.reshape([-1, at.shape[at.rank - 1]!]) : at;
    const rhs = shared ? g.reshape([-1, g.shape[g.rank - 1]!]) : g;
    const columnSums = dbias ?? undefined;
    const db = transB ? T.matmul(rhs, lhs, { transA: true }) : T.matmul(lhs, rhs, { transA: true, columnSums }); // (..., N, K) or (..., K, N)
    grads[1] = T.sumTo(db, b!.shape);
  }
  if (bias && needsGrad[2] && !dbias) dbias = T.sumTo(g, bias.shape);
  if (bias) grads.push(dbias);
  return grads;
};

export const rules: { [K in DifferentiableOp]: Rule<K> } = {
  add: binary('add'),
  sub: binary('sub'),
  mul: binary('mul'),
  div: binary('div'),
  pow: binary('pow'),
  maximum: binary('maximum'),
  minimum: binary('minimum'),
  neg: unary('neg'),
  exp: unary('exp'),
  log: unary('log'),
  sqrt: unary('sqrt'),
  rsqrt: unary('rsqrt'),
  tanh: unary('tanh'),
  abs: unary('abs'),
  relu: unary('relu'),
  gelu: unary('gelu'),
  square: unary('square'),
  addScalar: unary('add_scalar'),
  mulScalar: unary('mul_scalar'),
  powScalar: unary('pow_scalar'),
  rsubScalar: unary('rsub_scalar'),
  rdivScalar: unary('rdiv_scalar'),
  maxScalar: unary('max_scalar'),
  minScalar: unary('min_scalar'),
  matmul,
  // The gradient of a sum is broadcast back over the reduced axes; of a mean, also divided by
  // the count; of a max, sent to the maxima (split among ties, as torch.amax does).
  sum: (g, { x: [x], saved: { axes } }) => [broadcastBack(g, x!.shape, axes)],
  mean: (g, { x: [x], saved: { axes } }) => {
    const count = reducedAxes(x!.rank, axes).reduce((p, a) => p * x!.shape[a]!, 1);
    return [T.mul(broadcastBack(g, x!.shape, axes), 1 / count)];
  },
  max: (g, { x: [x], y, saved: { axes, keepDims } }) => {
    const isMax = T.eq(x!, broadcastBack(y, x!.shape, axes));
    const ties = broadcastBack(T.sum(isMax, axes, { keepDims }), x!.shape, axes);
    return [T.div(T.mul(isMax, broadcastBack(g, x!.shape, axes)), ties)];
  },
  // Masked entries have y = 0, so their gradient is 0 too.
  softmax: (g, { y }) => [T.softmaxBackward(y, g)],
  // The weights are recomputed from the rows' log-sum-exp; the same mask drops the same weights.
  attention: (g, { x: [q, k, v], y, saved: { lse, options } }) => {
    const { dq, dk, dv } = T.attentionBackward(g, q!, k!, v!, y, lse, options);
    return [dq, dk, dv];
  },
  // dq, dk and dv are written into views of one fresh (B, T, 3 C) gradient: every element once.
  attentionQKV: (g, { x: [qkv], y, saved: { lse, nh, options } }) => {
    const [q, k, v] = T.qkvHeads(qkv!, nh);
    const dqkv = T.empty(qkv!.shape, g.dtype, g.device);
    const [dq, dk, dv] = T.qkvHeads(dqkv, nh);
    T.attentionBackward(g, q, k, v, y, lse, options, { dq, dk, dv });
    return [dqkv];
  },
  // dx includes the gradient already gathered for x (the residual's), added in the same kernel.
  layerNorm: (g, { x: [x, weight], saved: { mean, rstd }, pending }) => {
    const accumulate = pending ?? undefined;
    const { dx, dweight, dbias } = T.layerNormBackward(g, x!, weight!, mean, rstd, { accumulate });
    return [dx, dweight, dbias];
  },
  embedding: (g, { saved: { ids, vocab } }) => [T.embeddingBackward(g, ids, vocab)],
  crossEntropy: (g, { x: [logits], saved: { targets, logsumexp, count, ignoreIndex } }) => [
    T.crossEntropyBackward(logits!, targets, { logsumexp, count }, g, ignoreIndex),
  ],
  // The backward reuses the forward's mask (same stream).
  dropout: (g, { saved: { mask } }) => [T.applyDropoutMask(g, mask)],
  // out = residual + dropout(x): the residual's gradient is g, x's is g through the mask.
  residualDropout: (g, { saved: { mask } }) => [g.contiguous(), T.applyDropoutMask(g, mask)],
  // Views: each gradient is the inverse view of the output's gradient.
  reshape: (g, { x: [x] }) => [g.reshape(x!.shape)],
  permute: (g, { saved: { dims } }) => {
    const inverse = new Array<number>(dims.length);
    dims.forEach((d, i) => {
      inverse[d < 0 ? d + dims.length : d] = i;
    });
    return [g.permute(inverse)];
  },
  slice: (g, { x: [x], saved: { axis, start, end } }) => {
    const dx = T.zeros(x!.shape, { dtype: g.dtype, device: g.device });
    T.copyInto(dx.slice(axis, start, end), g);
    return [dx];
  },
  expand: (g, { x: [x] }) => [T.sumTo(g, x!.shape)],
  contiguous: (g) => [g.contiguous()],
};

/** Every differentiable op, in the table's order. */
export const differentiableOps = Object.keys(rules) as DifferentiableOp[];

/** Ops that return values but no gradient: using them on the way to a loss cuts the graph. */
export const nonDifferentiableOps = ['argmax', 'eq', 'lt', 'gt', 'sign'] as const;
