/** Fused cross-entropy: log-softmax + negative log-likelihood, mean over counted rows. */
import { ShapeError, formatShape } from '../errors.js';
import { type Tensor, empty } from '../tensor.js';
import { assertDType, assertFloat, assertShape, withContiguous } from './util.js';

/** PyTorch's default ignore_index. */
export const IGNORE_INDEX = -100;

export interface CrossEntropyResult {
  loss: Tensor; // [] mean loss
  logsumexp: Tensor; // (N) per row, kept for the backward
  count: Tensor; // [] rows counted (targets != ignoreIndex), float
}

function rowsOf(op: string, logits: Tensor, targets: Tensor): [number, number] {
  const V = logits.shape[logits.rank - 1]!;
  if (logits.rank < 1 || targets.rank !== logits.rank - 1 || targets.shape.some((d, i) => d !== logits.shape[i])) {
    throw new ShapeError(
      `${op}: targets ${formatShape(targets.shape)} must be the logits' shape ${formatShape(logits.shape)} without its last (vocabulary) dimension`,
    );
  }
  return [targets.size, V];
}

export function crossEntropy(logits: Tensor, targets: Tensor, ignoreIndex = IGNORE_INDEX): CrossEntropyResult {
  assertFloat('crossEntropy', logits);
  assertDType('crossEntropy', 'targets', targets, 'int32');
  const [N, V] = rowsOf('crossEntropy', logits, targets);
  const loss = empty([], logits.dtype, logits.device);
  const logsumexp = empty([N], logits.dtype, logits.device);
  const count = empty([], logits.dtype, logits.device);
  if (N === 0) {
    logits.device.backend.kernels.fill(loss, NaN);
    logits.device.backend.kernels.fill(count, 0);
  } else {
    withContiguous([logits, targets], (cl, ct) =>
      logits.device.backend.kernels.crossEntropy({
        logits: cl!,
        targets: ct!,
        loss,
        logsumexp,
        count,
        N,
        V,
        ignoreIndex,
      }),
    );
  }
  return { loss, logsumexp, count };
}

/**
 * d loss / d logits, given the upstream gradient `dloss` ([] tensor) of the mean loss and the
 * forward's cache of these logits (logsumexp (N), count []). Throws ShapeError when targets,
 * dloss or the cache do not match the logits, DTypeError on non-float logits, cache or dloss.
 */
export function crossEntropyBackward(
  logits: Tensor,
  targets: Tensor,
  cache: Omit<CrossEntropyResult, 'loss'>,
  dloss: Tensor,
  ignoreIndex = IGNORE_INDEX,
): Tensor {
  assertFloat('crossEntropyBackward', logits, cache.logsumexp, cache.count, dloss);
  assertDType('crossEntropyBackward', 'targets', targets, 'int32');
  const [N, V] = rowsOf('crossEntropyBackward', logits, targets);
  assertShape('crossEntropyBackward', 'dloss', dloss, []);
  // The cache is read per row of these logits: one from other logits would be read past its end.
  assertShape('crossEntropyBackward', 'cache.logsumexp', cache.logsumexp, [N]);
  assertShape('crossEntropyBackward', 'cache.count', cache.count, []);
  const dlogits = empty(logits.shape, logits.dtype, logits.device);
  if (N === 0) return dlogits;
  withContiguous([logits, targets, cache.logsumexp, cache.count, dloss], (cl, ct, cs, cc, cd) =>
    logits.device.backend.kernels.crossEntropyBackward({
      logits: cl!,
      targets: ct!,
      logsumexp: cs!,
      count: cc!,
      dloss: cd!,
      dlogits,
      N,
      V,
      ignoreIndex,
    }),
  );
  return dlogits;
}
