// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// The elementwise arithmetic of a training step (residual adds, gradient sums, attention's
// 1/sqrt(hs) scale) over contiguous float32 arrays, four lanes at a time. One float32
// operation per element gives the reference's bits: its float64 result of two float32 operands,
// rounded once to float32, is the correctly rounded float32 result (+, -, *, / need 2 x 24 + 2
// <= 53 bits for that).
import { loadTail, storeTail } from './simd-math';

// @ts-ignore: decorator
@inline function apply(op: i32, a: v128, b: v128): v128 {
  if (op == 0) return f32x4.add(a, b);
  if (op == 1) return f32x4.sub(a, b);
  if (op == 2) return f32x4.mul(a, b);
  return f32x4.div(a, b);
}

/** out[i] = a[i] op b[i] for i in [0, n); op 0 add, 1 sub, 2 mul, 3 div. */
export function binaryArith(op: i32, a: usize, b: usize, out: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const at = <usize>i << 2;
    v128.store(out + at, apply(op, v128.load(a + at), v128.load(b + at)));
  }
  if (n4 < n) {
    const at = <usize>n4 << 2;
    storeTail(out + at, apply(op, loadTail(a + at, n - n4), loadTail(b + at, n - n4)), n - n4);
  }
}

/** out[i] = x[i] op s for i in [0, n); op 0 add, 2 mul (binaryArith's codes). */
export function scalarArith(op: i32, x: usize, out: usize, n: i32, s: f32): void {
  const sv = f32x4.splat(s);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const at = <usize>i << 2;
    v128.store(out + at, apply(op, v128.load(x + at), sv));
  }
  if (n4 < n) {
    const at = <usize>n4 << 2;
    storeTail(out + at, apply(op, loadTail(x + at, n - n4), sv), n - n4);
  }
}
