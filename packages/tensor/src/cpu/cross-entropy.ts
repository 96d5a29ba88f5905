/**
 * Reference fused cross-entropy: per row logsumexp(logits) - logits[target], mean over the
 * rows whose target is not ignoreIndex (NaN if there are none, as in PyTorch).
 */
import type { CrossEntropyArgs, CrossEntropyBackwardArgs, View } from '../backend.js';
import { dataOf } from './storage.js';

/** The target of row i, null when it is the ignore index; a target outside [0, V) is a RangeError. */
export function targetOf(targets: View, i: number, V: number, ignoreIndex: number): number | null {
  const t = dataOf(targets)[targets.offset + i]!;
  if (t === ignoreIndex) return null;
  if (t < 0 || t >= V)
    throw new RangeError(
      `crossEntropy: target ${t} at row ${i} is outside [0, ${V}) and is not the ignore index ${ignoreIndex}`,
    );
  return t;
}

export function crossEntropy({ logits, targets, loss, logsumexp, count, N, V, ignoreIndex }: CrossEntropyArgs): void {
  const x = dataOf(logits);
  let total = 0;
  let counted = 0;
  for (let i = 0; i < N; i++) {
    const base = logits.offset + i * V;
    let max = -Infinity;
    for (let j = 0; j < V; j++) max = Math.max(max, x[base + j]!);
    let sum = 0;
    for (let j = 0; j < V; j++) sum += Math.exp(x[base + j]! - max);
    const lse = max + Math.log(sum);
    dataOf(logsumexp)[logsumexp.offset + i] = lse;
    const t = targetOf(targets, i, V, ignoreIndex);
    if (t === null) continue;
    total += lse - x[base + t]!;
    counted++;
  }
  dataOf(loss)[loss.offset] = total / counted;
  dataOf(count)[count.offset] = counted;
}

export function crossEntropyBackward({
  logits,
  targets,
  logsumexp,
  count,
  dloss,
  dlogits,
  N,
  V,
  ignoreIndex,
}: CrossEntropyBackwardArgs): void {
  const x = dataOf(logits);
  const d = dataOf(dlogits);
  const counted = dataOf(count)[count.offset]!;
  const scale = counted > 0 ? dataOf(dloss)[dloss.offset]! / counted : 0;
  for (let i = 0; i < N; i++) {
    const t = targetOf(targets, i, V, ignoreIndex);
    const lse = dataOf(logsumexp)[logsumexp.offset + i]!;
    for (let j = 0; j < V; j++) {
      const p = Math.exp(x[logits.offset + i * V + j]! - lse);
      d[dlogits.offset + i * V + j] = t === null ? 0 : (p - (j === t ? 1 : 0)) * scale;
    }
  }
}
