/**
 * Matmul: (..., M, K) @ (..., K, N) -> (..., M, N), batch dimensions broadcast. Transposed
 * views (e.g. `w.transpose()`) reach the kernel without a copy: it reads either layout.
 */
import type { MatrixOperand } from '../backend.js';
import { ShapeError, formatShape } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import { type Tensor, empty } from '../tensor.js';
import { assertShape, assertTensor, assertWeight } from './util.js';

export interface MatmulOptions {
  /** Use a^T (swap a's last two dimensions). */
  transA?: boolean;
  /** Use b^T. */
  transB?: boolean;
  /** (N), added to every output row (the linear layer's epilogue). */
  bias?: Tensor;
  /**
   * (N), the product's dtype, contiguous: filled with the column sums of b over K (sum_k b[k, n]), computed
   * with the product: a linear layer's bias gradient beside its weight gradient x^T @ g (b = g).
   * b must be a contiguous 2-D (K, N) float tensor (not a 16-bit weight), without transB; the sums are the bits of
   * T.sum(b, 0) on the CPU devices, and come from the matmul kernel itself on WebGPU (no
   * reduction dispatch).
   */
  columnSums?: Tensor;
}

/** Batch dims of an expanded view as one stride, or null if they don't flatten to one. */
function batchStride(t: Tensor): number | null {
  // The batch dimensions other than 1, walked from the innermost: each outer stride must be the
  // inner one times the inner size.
  let stride = 0;
  let inner = -1; // the last non-1 batch dimension seen (the next inner one)
  for (let i = t.rank - 3; i >= 0; i--) {
    const d = t.shape[i]!;
    if (d === 1) continue;
    if (inner < 0) stride = t.strides[i]!;
    else if (t.strides[i] !== t.strides[inner]! * t.shape[inner]!) return null;
    inner = i;
  }
  return stride;
}

/** The operand as the kernel reads it, or null if its layout needs a copy. */
function asOperand(t: Tensor, rows: number, cols: number): MatrixOperand | null {
  const rowStride = t.strides[t.rank - 2]!;
  const colStride = t.strides[t.rank - 1]!;
  const bs = batchStride(t);
  if (bs === null) return null;
  if ((cols === 1 || colStride === 1) && (rows === 1 || rowStride >= cols)) {
    return { view: t, transposed: false, ld: rows === 1 ? cols : rowStride, batchStride: bs };
  }
  if ((rows === 1 || rowStride === 1) && (cols === 1 || colStride >= rows)) {
    return { view: t, transposed: true, ld: cols === 1 ? rows : colStride, batchStride: bs };
  }
  return null;
}

/**
 * a (..., M, K) @ b (..., K, N) (+ bias (N)) -> (..., M, N). `b` may be a float16/bfloat16
 * weight: it is widened in registers and the product accumulates in float32 (a, bias, out
 * float32). Throws ShapeError / DTypeError / DeviceError naming the operands.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  assertTensor('matmul', 'a', a);
  assertTensor('matmul', 'b', b);
  const dtype = assertWeight('matmul', b, a, ...(options.bias ? [options.bias] : []));
  if (a.rank < 2 || b.rank < 2)
    throw new ShapeError(
      `matmul: both operands need at least 2 dimensions, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  const at = options.transA ? a.transpose() : a;
  const bt = options.transB ? b.transpose() : b;
  const [M, K] = at.shape.slice(-2) as [number, number];
  const [K2, N] = bt.shape.slice(-2) as [number, number];
  if (K !== K2) {
    throw new ShapeError(
      `matmul: inner dimensions differ: ${formatShape(at.shape)} @ ${formatShape(bt.shape)} (${K} vs ${K2})${options.transA || options.transB ? ' after transposes' : ''}`,
    );
  }
  if (options.bias) assertShape('matmul', 'bias', options.bias, [N]);
  const { columnSums } = options;
  if (columnSums) {
    assertShape('matmul', 'columnSums', columnSums, [N]);
    const plain = b.rank === 2 && !options.transB && b.isContiguous() && b.dtype === dtype; // not a 16-bit weight
    if (!plain || !columnSums.isContiguous() || columnSums.dtype !== dtype)
      throw new ShapeError(
        `matmul: columnSums needs a contiguous 2-D float b without transB and a contiguous (N) output of the product's dtype, got b ${b.dtype} ${formatShape(b.shape)}${options.transB ? ' (transB)' : ''}`,
      );
  }
  if (bt.rank === 2 && at.rank > 2 && at.isContiguous()) {
    // (..., M, K) @ (K, N): one (batch * M, K) @ (K, N) product, as PyTorch's linear layers do.
    const flat = at.reshape([-1, K]);
    const product = matmul(flat, bt, { bias: options.bias, columnSums });
    const out = product.reshape([...at.shape.slice(0, -1), N]);
    for (const t of [flat, product, ...(options.transA ? [at] : []), ...(options.transB ? [bt] : [])]) t.dispose();
    return out;
  }
  const batchShape = broadcastShapes(at.shape.slice(0, -2), bt.shape.slice(0, -2), 'matmul (batch dimensions)');
  const batch = batchShape.reduce((p, d) => p * d, 1);
  if (columnSums && batch !== 1)
    throw new ShapeError(
      `matmul: columnSums needs one product (a 2-D a, or a contiguous one), got a ${formatShape(a.shape)}`,
    );
  const out = empty([...batchShape, M, N], dtype, a.device);
  const temps: Tensor[] = [...(options.transA ? [at] : []), ...(options.transB ? [bt] : [])];
  const operand = (t: Tensor, rows: number, cols: number): MatrixOperand => {
    const e = t.expand([...batchShape, rows, cols]);
    temps.push(e);
    const op = asOperand(e, rows, cols);
    if (op) return op;
    const c = e.contiguous();
    temps.push(c);
    return asOperand(c, rows, cols)!;
  };
  try {
    const kernels = a.device.backend.kernels;
    if (columnSums && (out.size === 0 || K === 0) && N > 0) {
      // No product to fuse the sums into: b's column sums on their own.
      if (K === 0) kernels.fill(columnSums, 0);
      else kernels.reduce('sum', b, 1, K, N, columnSums);
    }
    if (out.size === 0) return out;
    const bias = options.bias ? options.bias.contiguous() : null;
    if (bias) temps.push(bias);
    if (K === 0) {
      if (bias) throw new ShapeError('matmul: a bias with K = 0 is not supported');
      kernels.fill(out, 0);
      return out;
    }
    const bOperand = operand(bt, K, N);
    kernels.matmul({ batch, M, N, K, a: operand(at, M, K), b: bOperand, bias, out, columnSums: columnSums ?? null });
    return out;
  } finally {
    for (const t of temps) t.dispose();
  }
}
