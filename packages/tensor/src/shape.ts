import { ShapeError, formatShape } from './errors.js';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Whether `strides` lay `shape` out row-major without gaps (size-1 dimensions ignored). */
export function isContiguousLayout(shape: Shape, strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}

/** Row-major strides of a contiguous tensor of `shape`. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** A value as a shape in an error message: numbers plain, anything else as JSON would show it. */
export function describeShape(shape: unknown): string {
  const show = (v: unknown) => (typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v)));
  return Array.isArray(shape) ? `[${shape.map(show).join(', ')}]` : show(shape);
}

/**
 * The one check of a shape given from outside (creation, views, expand): an array of safe
 * integers >= 0 whose product is a safe integer. Throws ShapeError naming `op` and the value.
 */
export function checkShape(shape: Shape, op: string): void {
  if (!Array.isArray(shape))
    throw new ShapeError(`${op}: the shape must be an array of integers >= 0, got ${describeShape(shape)}`);
  let size = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new ShapeError(`${op}: invalid shape ${describeShape(shape)}: dimensions must be integers >= 0`);
    size *= d;
  }
  if (!Number.isSafeInteger(size))
    throw new ShapeError(`${op}: invalid shape ${describeShape(shape)}: ${size} elements is too many`);
}

/** NumPy broadcasting of two shapes; the error names the op and both shapes. */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (dimension ${i} of the result: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Resolves a possibly negative axis against a rank; names the op on error. */
export function normalizeAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank)
    throw new ShapeError(`${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  return a;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export interface Coalesced {
  shape: number[];
  strides: number[][]; // per operand (out first)
}

/** Drops size-1 dimensions and merges neighbours that are contiguous for every operand. */
export function coalesce(shape: readonly number[], stridesList: readonly (readonly number[])[]): Coalesced {
  const dims = shape.map((_, i) => i).filter((i) => shape[i] !== 1);
  const out: Coalesced = { shape: [], strides: stridesList.map(() => []) };
  for (const d of dims) {
    const last = out.shape.length - 1;
    const mergeable = last >= 0 && stridesList.every((s, k) => out.strides[k]![last] === s[d]! * shape[d]!);
    if (mergeable) {
      out.shape[last] = out.shape[last]! * shape[d]!;
      stridesList.forEach((s, k) => {
        out.strides[k]![last] = s[d]!;
      });
    } else {
      out.shape.push(shape[d]!);
      stridesList.forEach((s, k) => out.strides[k]!.push(s[d]!));
    }
  }
  if (out.shape.length === 0) {
    out.shape.push(1);
    out.strides.forEach((s) => s.push(1));
  }
  return out;
}
