/** Matmul with a block-quantized weight: x (..., K) @ W^T -> (..., N), W a QuantizedTensor (N, K). */
import { DTypeError, DeviceError, ShapeError, formatShape } from '../errors.js';
import type { QuantizedTensor } from '../quantized.js';
import { type Tensor, assertSameDevice, empty } from '../tensor.js';
import { assertShape } from './util.js';

/**
 * x (..., K) float32 @ W^T (+ bias (N) float32) -> (..., N) float32, where W is a quantized
 * (N, K) matrix (quantized.ts). Nothing is differentiated: quantized weights are for inference.
 * The CPU devices compute it (the fast one quantizes x to 8 bits a block for its integer dot
 * products; see cpu-fast/matmul-quantized.ts); a device without the kernel throws DeviceError.
 * Throws ShapeError when x's last dimension is not K, DTypeError when x is not float32.
 */
export function matmulQuantized(x: Tensor, w: QuantizedTensor, options: { bias?: Tensor } = {}): Tensor {
  const { bias } = options;
  if (x.dtype !== 'float32')
    throw new DTypeError(`matmulQuantized: x must be float32, got ${x.dtype} of shape ${formatShape(x.shape)}`);
  if (x.rank < 1 || x.shape[x.rank - 1] !== w.K)
    throw new ShapeError(
      `matmulQuantized: x ${formatShape(x.shape)} does not end in the weight's K = ${w.K} (weight ${w.format} (${w.N}, ${w.K}))`,
    );
  assertSameDevice('matmulQuantized', x, w.data, ...(bias ? [bias] : []));
  if (bias) {
    assertShape('matmulQuantized', 'bias', bias, [w.N]);
    if (bias.dtype !== 'float32') throw new DTypeError(`matmulQuantized: bias must be float32, got ${bias.dtype}`);
  }
  const kernel = x.device.backend.kernels.matmulQuantized;
  if (!kernel)
    throw new DeviceError(
      `matmulQuantized: the ${x.device.kind} device has no kernels for quantized (${w.format}) weights`,
    );
  const M = x.size / w.K;
  const out = empty([...x.shape.slice(0, -1), w.N], 'float32', x.device);
  if (out.size === 0) return out;
  const xc = x.contiguous();
  const b = bias?.contiguous() ?? null;
  try {
    kernel({ M, N: w.N, K: w.K, format: w.format, a: xc, data: w.data, scales: w.scales, bias: b, out });
    return out;
  } finally {
    xc.dispose();
    b?.dispose();
  }
}
