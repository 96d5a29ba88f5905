/**
 * The one interface between tensors and the machines that hold them. A backend allocates,
 * uploads, reads back (asynchronously), frees, and runs kernels. Every kernel takes `View`s:
 * a backend storage plus the shape/strides/offset to read it through. The op layer (ops/)
 * checks shapes and dtypes once, then calls these; kernels trust their inputs.
 *
 * Conventions: `out` views are contiguous and freshly allocated unless a kernel says it
 * updates in place. Shapes in comments: N = rows, C = channels, V = vocab, M/N/K = matmul.
 */
import type { DType, TypedArray } from './dtype.js';
import type { DeviceKind } from './device.js';
import type { Shape } from './shape.js';

export interface BackendStorage {
  readonly byteLength: number;
}

export interface View {
  readonly storage: BackendStorage;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly strides: readonly number[];
  readonly offset: number;
}

/** The elementwise ops are rows of one table (elementwise-ops.ts). */
export { type UnaryOp, type BinaryOp, unaryOps, binaryOps } from './elementwise-ops.js';
import type { BinaryOp, UnaryOp } from './elementwise-ops.js';

export const reduceOps = ['sum', 'mean', 'max', 'argmax'] as const;
export type ReduceOp = (typeof reduceOps)[number];

/** One operand of a (batched) matmul: rows x cols of each matrix, row stride `ld`, inner stride 1. */
export interface MatrixOperand {
  readonly view: View;
  /** The stored matrix is the transpose of the operand (a permuted view of a row-major matrix). */
  readonly transposed: boolean;
  /** Elements between consecutive stored rows. */
  readonly ld: number;
  /** Elements between consecutive matrices of the batch; 0 broadcasts one matrix. */
  readonly batchStride: number;
}

export interface MatmulArgs {
  readonly batch: number;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly a: MatrixOperand; // (M, K) after its transpose flag
  /** (K, N) after its transpose flag; float32, or float16/bfloat16 (a weight: widened, float32 accumulation). */
  readonly b: MatrixOperand;
  readonly bias: View | null; // (N), added to every row
  readonly out: View; // (batch, M, N) contiguous
  /**
   * (N) contiguous: also write the column sums of B over K (a linear layer's bias gradient
   * beside its weight gradient x^T g: B is g). Only with batch 1 and B a contiguous,
   * untransposed (K, N) view; the CPU backends run the reduction `reduce('sum', b, 1, K, N)`
   * that T.sum would (the same bits), WebGPU sums B's slabs inside the matmul kernel.
   */
  readonly columnSums?: View | null;
}

/**
 * a (M, K) float32 contiguous @ W^T (+ bias (N)) -> out (M, N) float32 contiguous, W a quantized
 * (N, K) matrix (quantized.ts): `data` its packed integers (raw bytes in a float16-typed view),
 * `scales` its float16 scales (N, blocks), both contiguous.
 */
export interface QuantMatmulArgs {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly format: 'q8_0' | 'q4_0';
  readonly a: View;
  readonly data: View;
  readonly scales: View;
  readonly bias: View | null;
  readonly out: View;
}

/** A layer norm fused into a decoding kernel: weight and bias (C) float32, contiguous. */
export interface FusedNorm {
  readonly weight: View;
  readonly bias: View;
  readonly eps: number;
}

/**
 * Decoding's fused linear (ops/decode.ts): out = residual + gelu(LN(x) @ W + bias) (residual, GELU and LN optional), x (M, K)
 * float32 contiguous with M <= 4; W (K, N) after its transpose flag (batchStride 0), float32,
 * float16 or bfloat16; residual and out (M, N) contiguous.
 */
export interface DecodeLinearArgs {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly x: View;
  readonly weight: MatrixOperand;
  readonly bias: View | null;
  readonly norm: FusedNorm | null;
  readonly gelu: boolean;
  readonly residual: View | null;
  readonly out: View;
}

/**
 * One decoding step of attention (ops/decode.ts): for B <= 4 rows x (B, C), q|k|v = LN(x) W +
 * bias (W (C, 3C) float32/float16/bfloat16 contiguous), k and v written into keys / values
 * (B, nh, maxT, hd) contiguous at `position`, out (B, C) = attention of q over positions
 * 0..position, heads side by side.
 */
export interface DecodeAttentionArgs {
  readonly B: number;
  readonly C: number;
  readonly nh: number;
  readonly hd: number;
  readonly maxT: number;
  readonly position: number;
  readonly scale: number;
  readonly x: View;
  readonly norm: FusedNorm;
  readonly weight: View;
  readonly bias: View | null;
  readonly keys: View;
  readonly values: View;
  readonly out: View;
}

export interface AdamWStep {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** 1-based step count, for the bias corrections. */
  readonly step: number;
}

/** One tensor of a multi-tensor AdamW step (Kernels.adamwMany): its own weight decay, the rest shared. */
export interface AdamWEntry {
  readonly param: View;
  readonly grad: View;
  readonly m: View;
  readonly v: View;
  /** This tensor's decoupled weight decay (0 for a no-decay group). */
  readonly weightDecay: number;
}

/** One Generator stream's uniforms in [low, high) (random.ts: fillUniform). */
export interface UniformDraw {
  readonly key: readonly [number, number];
  readonly stream: number;
  readonly low: number;
  readonly high: number;
}

/** Dropout's mask is Threefry(key, (element pair, stream)), identical on every backend. */
export interface DropoutMask {
  readonly p: number;
  readonly key: readonly [number, number];
  readonly stream: number;
  /**
   * The mask itself, drawn on the host by a TorchGenerator (PyTorch's stream, which is
   * sequential): element i (row-major) is kept iff keep[i] is 1, scaled by float32(1 / (1 - p)).
   * When present, key and stream are unused. The CPU backends take it; WebGPU refuses it.
   */
  readonly keep?: Uint8Array;
}

/** x (N, C), weight/bias (C) -> out (N, C), mean (N), rstd (N). */
export interface LayerNormArgs {
  readonly x: View;
  readonly weight: View;
  readonly bias: View;
  readonly out: View;
  readonly mean: View;
  readonly rstd: View;
  readonly N: number;
  readonly C: number;
  readonly eps: number;
}

/**
 * dy, x (N, C), weight (C), the forward's mean/rstd (N) -> dx (N, C), dweight (C), dbias (C).
 * With `accumulate` (contiguous, (N, C)), dx = accumulate + the layer norm's dx, in the same
 * kernel where a backend can (the bits of add(accumulate, dx)): the residual stream's other
 * gradient, added where the two meet.
 */
export interface LayerNormBackwardArgs {
  readonly dy: View;
  readonly x: View;
  readonly weight: View;
  readonly mean: View;
  readonly rstd: View;
  readonly dx: View;
  readonly dweight: View;
  readonly dbias: View;
  readonly N: number;
  readonly C: number;
  readonly accumulate?: View;
}

/** table (V, C), ids (N) int32 -> out (N, C). The table may be float16/bfloat16 (out is then float32). */
export interface GatherArgs {
  readonly table: View;
  readonly ids: View;
  readonly out: View;
  readonly N: number;
  readonly V: number;
  readonly C: number;
}

/** dout (N, C), ids (N) int32 -> dtable (V, C), added to in place. */
export interface ScatterAddArgs {
  readonly dout: View;
  readonly ids: View;
  readonly dtable: View;
  readonly N: number;
  readonly V: number;
  readonly C: number;
}

/** logits (N, V), targets (N) int32 -> loss (1), logsumexp (N), count (1) of rows counted. */
export interface CrossEntropyArgs {
  readonly logits: View;
  readonly targets: View;
  readonly loss: View;
  readonly logsumexp: View;
  readonly count: View;
  readonly N: number;
  readonly V: number;
  readonly ignoreIndex: number;
}

/** logits (N, V), targets (N), the forward's logsumexp (N) and count (1), dloss (1) -> dlogits (N, V). */
export interface CrossEntropyBackwardArgs {
  readonly logits: View;
  readonly targets: View;
  readonly logsumexp: View;
  readonly count: View;
  readonly dloss: View;
  readonly dlogits: View;
  readonly N: number;
  readonly V: number;
  readonly ignoreIndex: number;
}

/**
 * Fused attention, B = batch, nh = heads, Tq = queries, Tk = keys, hd = head size:
 * q (B, nh, Tq, hd), k and v (B, nh, Tk, hd), each with any strides over its first three axes
 * and unit stride over hd (the model's permuted views of the qkv projection, slices of the KV
 * cache) -> out (B, nh, Tq, hd) and lse (B, nh, Tq), contiguous and fresh. Row i of a head:
 * s_j = scale q_i . k_j over the visible keys j (causal: j <= i + Tk - Tq), lse_i = log sum_j
 * exp(s_j), out_i = sum_j exp(s_j - lse_i) drop_ij v_j, where drop_ij is the dropout mask of
 * element ((b nh + h) Tq + i) Tk + j of the (B, nh, Tq, Tk) weights, as `dropout` draws it on
 * those weights (1 without dropout). The (Tq, Tk) weights are never stored whole.
 */
export interface AttentionArgs {
  readonly q: View;
  readonly k: View;
  readonly v: View;
  readonly out: View;
  readonly lse: View;
  readonly B: number;
  readonly nh: number;
  readonly Tq: number;
  readonly Tk: number;
  readonly hd: number;
  readonly scale: number;
  readonly causal: boolean;
  readonly dropout: DropoutMask | null;
}

/**
 * The backward of `attention`, the probabilities recomputed from lse: dout (B, nh, Tq, hd),
 * delta (B, nh, Tq) = sum over hd of dout * out -> dq (B, nh, Tq, hd), dk and dv (B, nh, Tk, hd),
 * written, not added to. dout, dq, dk and dv are contiguous, except on a backend with
 * `stridedAttentionBackward`: there they may have any strides over (B, nh, T) with unit stride
 * over hd (dq, dk, dv views into one fused qkv gradient), and dk and dv share one storage;
 * there delta is a fresh (B, nh, Tq) tensor that the kernel fills from dout and out itself.
 */
export interface AttentionBackwardArgs {
  readonly q: View;
  readonly k: View;
  readonly v: View;
  /** The forward's output (B, nh, Tq, hd), contiguous: a backend with `stridedAttentionBackward` computes delta from it. */
  readonly out: View;
  readonly dout: View;
  readonly lse: View;
  readonly delta: View;
  readonly dq: View;
  readonly dk: View;
  readonly dv: View;
  readonly B: number;
  readonly nh: number;
  readonly Tq: number;
  readonly Tk: number;
  readonly hd: number;
  readonly scale: number;
  readonly causal: boolean;
  readonly dropout: DropoutMask | null;
}

/** Every kernel of a backend. Kernels with more than a few operands take one named-argument object. */
export interface Kernels {
  /** out = x, any strides in and out (also int32); out's elements must not overlap. Same dtype. */
  copy(x: View, out: View): void;
  /**
   * out = x converted between float dtypes (float32, float64, float16, bfloat16): narrowing
   * rounds to nearest even, widening is exact. x any strides; out contiguous, fresh.
   */
  cast(x: View, out: View): void;
  fill(out: View, value: number): void;
  unary(op: UnaryOp, x: View, out: View, scalar: number): void;
  /** a and b are already broadcast (stride 0) to out's shape. Comparisons give 0/1. */
  binary(op: BinaryOp, a: View, b: View, out: View): void;
  /**
   * GPT-2's GELU, the op table's `gelu` row, as its own entry: the MLP's hot elementwise op,
   * which a backend may run natively (the fast CPU backend's WebAssembly) or as `unary('gelu')`.
   */
  gelu(x: View, out: View): void;
  /** dx = dy * gelu'(x), the table's `gelu_backward` row; x and dy already broadcast to dx's shape. */
  geluBackward(x: View, dy: View, dx: View): void;
  matmul(args: MatmulArgs): void;
  /** Matmul with a block-quantized weight (QuantMatmulArgs). Optional: a backend without it refuses quantized weights. */
  matmulQuantized?(args: QuantMatmulArgs): void;
  /**
   * Decoding's fused kernels (ops/decode.ts): true when the backend ran it, false when it
   * cannot (a size past its limits); absent on backends where the op composes the plain ops.
   */
  decodeLinear?(args: DecodeLinearArgs): boolean;
  decodeAttention?(args: DecodeAttentionArgs): boolean;
  /** x contiguous, seen as (outer, R, inner); out (outer, inner); argmax writes int32. */
  reduce(op: ReduceOp, x: View, outer: number, R: number, inner: number, out: View): void;
  /**
   * The top-k candidates of each of `rows` rows of n scores (ops/top-k.ts topKCandidates): out
   * (rows, 1 + 2 capacity) in x's dtype, per row [count or -1, ids, scores]. x contiguous.
   */
  topKCandidates(x: View, out: View, rows: number, n: number, k: number, capacity: number): void;
  /** Rows of length n; with `causal`, row r of each (tq, tk) block sees columns <= r % tq + tk - tq. */
  softmax(x: View, out: View, rows: number, n: number, causal: { tq: number; tk: number } | null): void;
  /** dx = y * (dy - sum(dy * y)) per row. */
  softmaxBackward(y: View, dy: View, dx: View, rows: number, n: number): void;
  /** Fused (flash) attention: scores, mask, softmax, dropout and the sum of values, per block of rows. */
  attention(args: AttentionArgs): void;
  attentionBackward(args: AttentionBackwardArgs): void;
  /** Layer norm over the last axis, writing its caches mean and rstd. */
  layerNorm(args: LayerNormArgs): void;
  layerNormBackward(args: LayerNormBackwardArgs): void;
  /** out[i, :] = table[ids[i], :]. */
  gather(args: GatherArgs): void;
  /** dtable[ids[i], :] += dout[i, :], in place; repeated ids add up. */
  scatterAdd(args: ScatterAddArgs): void;
  /** Mean negative log-likelihood over rows whose target is not `ignoreIndex`. */
  crossEntropy(args: CrossEntropyArgs): void;
  /** dlogits = (softmax(logits) - onehot(target)) * dloss / count; zero rows where ignored. */
  crossEntropyBackward(args: CrossEntropyBackwardArgs): void;
  /**
   * out = x * keep / (1 - p), keep = uniform >= p from the mask's stream; with `residual`
   * (contiguous, x's shape) out = residual + that, in the same kernel (the bits of add after
   * dropout). x contiguous.
   */
  dropout(x: View, out: View, mask: DropoutMask, residual?: View): void;
  /**
   * out (float32, contiguous) = the draw's uniforms, the values Generator.uniform gives (random.ts:
   * fillUniform). Optional: where a backend has none (WebGPU), rand draws on the host and uploads.
   */
  uniform?(out: View, draw: UniformDraw): void;
  /** PyTorch's AdamW, in place on param, m and v. All contiguous, same size. */
  adamw(param: View, grad: View, m: View, v: View, step: AdamWStep): void;
  /**
   * `adamw` on every entry (step.weightDecay ignored: each entry has its own), with the same
   * bits as one `adamw` call per entry; a GPU updates many tensors per dispatch.
   */
  adamwMany(entries: readonly AdamWEntry[], step: AdamWStep): void;
}

/** Captured work (Backend.endCapture): replay it with Backend.replay; dispose() unpins its buffers. */
export interface CaptureRecording {
  /** Dispatches a replay sends. */
  readonly dispatches: number;
  /** Dropout stream words a replay moves. */
  readonly streamWords: number;
  /** Names of the words a replay recomputes (Backend.replay's `words`). */
  readonly names: readonly string[];
  readonly isDisposed: boolean;
  dispose(): void;
}

export interface Backend {
  readonly kind: DeviceKind;
  readonly kernels: Kernels;
  /** Whether this backend stores the dtype (float64 is CPU-only). */
  supports(dtype: DType): boolean;
  allocate(dtype: DType, size: number): BackendStorage;
  upload(storage: BackendStorage, data: TypedArray): void;
  /** The view's elements, contiguous, in a new array. Waits for queued work. */
  read(view: View): Promise<TypedArray>;
  release(storage: BackendStorage): void;
  /** The storage's host memory as a typed array, where the backend keeps it on the host (CPU). */
  hostData?(storage: BackendStorage): TypedArray;
  /**
   * A hint before a model's tensors are made: about `bytes` of them will live at once. The fast
   * CPU backend takes its memory64 heap (slower kernels: bounds-checked addresses) only for work
   * that a 4 GiB wasm32 heap cannot hold; backends without such a choice ignore it.
   */
  reserve?(bytes: number): void;
  /** Bytes of tensors the backend can keep in its fastest memory (the CPU's WebAssembly heap), where it has a limit. */
  tensorCapacity?(): number;
  /**
   * Whether `kernels.attentionBackward` reads dout and writes dq, dk, dv through any strides over
   * (B, nh, T) (unit stride over hd), dk and dv in one storage, and computes delta (dout . out
   * per row) itself; otherwise the op passes contiguous ones, computes delta and copies the
   * gradients into the caller's views.
   */
  readonly stridedAttentionBackward?: boolean;
  /** Bytes held by live tensors. */
  liveBytes(): number;
  /** The most bytes live at once since the last `resetPeakBytes()`. */
  peakBytes(): number;
  resetPeakBytes(): void;
  /** Sends queued work to the device (no-op on CPU). */
  flush(): void;
  /**
   * Capture and replay (WebGPU only; docs/webgpu-host.md, "Capture and replay"): the work
   * recorded between beginCapture() and endCapture() is kept, and replay() sends it again
   * without running the JavaScript that recorded it, dropout streams moved by `streamDelta`.
   * Reads, syncs and timed passes throw inside a capture. The recording pins the buffers it used
   * until it is disposed.
   */
  beginCapture?(): void;
  endCapture?(): CaptureRecording;
  /** Drops a capture in progress (after an error in the captured code). */
  abortCapture?(): void;
  /** `words(name)`: the 32 bits of each named word (AdamW's learning-rate terms: adamwWord). */
  replay?(recording: CaptureRecording, streamDelta?: number, words?: (name: string) => number): void;
  destroy(): void;
}
