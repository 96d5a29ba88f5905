/** Reference softmax over rows of length n, with an optional causal mask, and its backward. */
import type { View } from '../backend.js';
import { dataOf } from './storage.js';

/** Columns a row may see: all, or (causal) those <= its query position shifted by tk - tq. */
export function visibleColumns(row: number, n: number, causal: { tq: number; tk: number } | null): number {
  if (!causal) return n;
  return Math.min(n, Math.max(0, (row % causal.tq) + causal.tk - causal.tq + 1));
}

export function softmax(x: View, out: View, rows: number, n: number, causal: { tq: number; tk: number } | null): void {
  const src = dataOf(x);
  const dst = dataOf(out);
  for (let r = 0; r < rows; r++) {
    const base = x.offset + r * n;
    const obase = out.offset + r * n;
    const visible = visibleColumns(r, n, causal);
    let max = -Infinity;
    for (let j = 0; j < visible; j++) max = Math.max(max, src[base + j]!);
    let sum = 0;
    for (let j = 0; j < visible; j++) sum += Math.exp(src[base + j]! - max);
    for (let j = 0; j < n; j++) dst[obase + j] = j < visible ? Math.exp(src[base + j]! - max) / sum : 0;
  }
}

export function softmaxBackward(y: View, dy: View, dx: View, rows: number, n: number): void {
  const dy_ = dataOf(dy);
  const y_ = dataOf(y);
  const dx_ = dataOf(dx);
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    for (let j = 0; j < n; j++) dot += y_[y.offset + r * n + j]! * dy_[dy.offset + r * n + j]!;
    for (let j = 0; j < n; j++) {
      const yj = y_[y.offset + r * n + j]!;
      dx_[dx.offset + r * n + j] = yj * (dy_[dy.offset + r * n + j]! - dot);
    }
  }
}
