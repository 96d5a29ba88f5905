// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// Single-precision GEMM, GotoBLAS-style: C (M x N, row stride ldc) = A (M x K) @ B (K x N),
// A and B read through any strides (so transposed views need no copy). K is walked in blocks
// of KC and M in blocks of MC; each block of A and each K-block of B are packed into panels
// (MR = 4 rows of A, NR = 8 columns of B) so the micro-kernel streams both from contiguous
// memory. The micro-kernel keeps a 4 x 8 tile of C in eight f32x4 registers: per k, two vector
// loads of B, four broadcast loads of A and eight multiply-adds (fused with relaxed SIMD).
// That uses 14 of the 16 vector registers; V8 keeps 4 x 8 in registers where 5 x 8 and 6 x 8
// spill (measured: 43 GFLOP/s for one thread against 20 and 23), and unrolling k spills too.
// Pointers are byte offsets into this module's memory; the caller lays out A, B, C and the
// packing buffers (see packages/tensor/src/cpu-fast/matmul.ts).
//
// B may be a 16-bit weight (`bKind`: 0 float32, 1 float16, 2 bfloat16, wasm/half.ts): it is
// widened to float32 as it is read (when packing, or four at a time in the small-M paths), and
// everything after that, the accumulation included, is float32. Each entry branches on bKind
// once, into an inlined copy of its loops with the kind a constant, so the float32 loops are
// unchanged and the 16-bit ones have no per-element branch.

import { BF16, F16, F32, widen1, widen4 } from './half';

// a * b + c: one fused instruction where the build has relaxed SIMD (scripts/build-wasm.mjs
// builds both), a multiply and an add otherwise.
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 128;

// B(k, j) as float32, from element index e of a B of `kind`.
// @ts-ignore: decorator
@inline function loadB(b: usize, e: i32, kind: i32): f32 {
  if (kind == F32) return load<f32>(b + (<usize>e << 2));
  return widen1(<u32>load<u16>(b + (<usize>e << 1)), kind);
}

// packB[(panel * kc + k) * NR + c] = B(k0 + k, panel * NR + c), zero past N.
// @ts-ignore: decorator
@inline function packBOf(b: usize, bRow: i32, bCol: i32, k0: i32, kc: i32, N: i32, out: usize, kind: i32): void {
  const panels = (N + NR - 1) / NR;
  for (let p = 0; p < panels; p++) {
    for (let k = 0; k < kc; k++) {
      const dst = out + ((<usize>(p * kc + k) * NR) << 2);
      const row = (k0 + k) * bRow;
      for (let c = 0; c < NR; c++) {
        const j = p * NR + c;
        store<f32>(dst + (<usize>c << 2), j < N ? loadB(b, row + j * bCol, kind) : 0);
      }
    }
  }
}

function packB(b: usize, bRow: i32, bCol: i32, k0: i32, kc: i32, N: i32, out: usize, kind: i32): void {
  if (kind == F16) packBOf(b, bRow, bCol, k0, kc, N, out, F16);
  else if (kind == BF16) packBOf(b, bRow, bCol, k0, kc, N, out, BF16);
  else packBOf(b, bRow, bCol, k0, kc, N, out, F32);
}

// packA[(panel * kc + k) * MR + r] = A(i0 + panel * MR + r, k0 + k), zero past the block.
function packA(a: usize, aRow: i32, aCol: i32, i0: i32, mc: i32, k0: i32, kc: i32, out: usize): void {
  const panels = (mc + MR - 1) / MR;
  for (let p = 0; p < panels; p++) {
    for (let k = 0; k < kc; k++) {
      const dst = out + ((<usize>(p * kc + k) * MR) << 2);
      const col = a + (<usize>((k0 + k) * aCol) << 2);
      for (let r = 0; r < MR; r++) {
        const i = p * MR + r;
        store<f32>(dst + (<usize>r << 2), i < mc ? load<f32>(col + (<usize>((i0 + i) * aRow) << 2)) : 0);
      }
    }
  }
}

// C tile (rows x cols, at most 4 x 8) = (first ? bias : C) + panelA @ panelB over kc, where
// bias (a pointer to the tile's first column of it) is 0 for none.
function micro(kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, rows: i32, cols: i32, first: bool, bias: usize, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    pa += 16;
    pb += 32;
  }
  // The tile goes through a scratch 4 x 8 block so edge tiles write only their valid part.
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  for (let r = 0; r < rows; r++) {
    const dst = c + (<usize>(r * ldc) << 2);
    const src = tile + (<usize>(r * NR) << 2);
    for (let j = 0; j < cols; j++) {
      const at = dst + (<usize>j << 2);
      const v = load<f32>(src + (<usize>j << 2));
      const start = first ? (bias ? load<f32>(bias + (<usize>j << 2)) : 0) : load<f32>(at);
      store<f32>(at, start + v);
    }
  }
}

/**
 * C = A @ B (+ bias on every row). Strides are in elements: A(i, k) is at a + 4 (i aRow + k aCol),
 * B(k, j) at b + 4 (k bRow + j bCol); bias is a pointer to N floats, or 0 for none.
 * scratch needs 4 (MC KC + KC ceil(N / 8) 8 + 32) bytes.
 */
export function sgemm(M: i32, N: i32, K: i32, a: usize, aRow: i32, aCol: i32, b: usize, bRow: i32, bCol: i32, c: usize, ldc: i32, bias: usize, scratch: usize, bKind: i32): void {
  const pa = scratch;
  const tile = pa + (<usize>(MC * KC) << 2);
  const pb = tile + 128;
  if (K == 0) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) store<f32>(c + (<usize>(i * ldc + j) << 2), bias ? load<f32>(bias + (<usize>j << 2)) : 0);
    }
    return;
  }
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    packB(b, bRow, bCol, k0, kc, N, pb, bKind);
    for (let i0 = 0; i0 < M; i0 += MC) {
      const mc = min(MC, M - i0);
      packA(a, aRow, aCol, i0, mc, k0, kc, pa);
      for (let jp = 0; jp * NR < N; jp++) {
        const cols = min(NR, N - jp * NR);
        const panelB = pb + (<usize>(jp * kc * NR) << 2);
        for (let ip = 0; ip * MR < mc; ip++) {
          const rows = min(MR, mc - ip * MR);
          const cTile = c + (<usize>((i0 + ip * MR) * ldc + jp * NR) << 2);
          const tileBias = bias ? bias + (<usize>(jp * NR) << 2) : 0;
          micro(kc, pa + (<usize>(ip * kc * MR) << 2), panelB, cTile, ldc, rows, cols, k0 == 0, tileBias, tile);
        }
      }
    }
  }
}

/**
 * C = A @ B for a few rows of A (decoding: M = 1), without packing: packing B would cost as
 * much as the product. B with contiguous rows is streamed as axpy updates of C's row; B with
 * contiguous columns (x @ W^T) as dot products. Other layouts go through sgemm.
 */
export function sgemmSmallM(M: i32, N: i32, K: i32, a: usize, aRow: i32, aCol: i32, b: usize, bRow: i32, bCol: i32, c: usize, ldc: i32, bias: usize, scratch: usize, bKind: i32): void {
  if (bCol == 1 || (bRow == 1 && aCol == 1)) {
    if (bKind == F16) smallM(M, N, K, a, aRow, aCol, b, bRow, bCol, c, ldc, bias, F16);
    else if (bKind == BF16) smallM(M, N, K, a, aRow, aCol, b, bRow, bCol, c, ldc, bias, BF16);
    else smallM(M, N, K, a, aRow, aCol, b, bRow, bCol, c, ldc, bias, F32);
  } else {
    sgemm(M, N, K, a, aRow, aCol, b, bRow, bCol, c, ldc, bias, scratch, bKind);
  }
}

// Four consecutive elements of B from element index e, as float32.
// @ts-ignore: decorator
@inline function loadB4(b: usize, e: i32, kind: i32): v128 {
  if (kind == F32) return v128.load(b + (<usize>e << 2));
  return widen4(b + (<usize>e << 1), kind);
}

// sgemmSmallM's two streaming layouts, for a B of `kind` (a constant after inlining).
// @ts-ignore: decorator
@inline function smallM(M: i32, N: i32, K: i32, a: usize, aRow: i32, aCol: i32, b: usize, bRow: i32, bCol: i32, c: usize, ldc: i32, bias: usize, kind: i32): void {
  if (bCol == 1) {
    const n4 = N & ~3;
    for (let i = 0; i < M; i++) {
      const ci = c + (<usize>(i * ldc) << 2);
      for (let j = 0; j < N; j++) store<f32>(ci + (<usize>j << 2), bias ? load<f32>(bias + (<usize>j << 2)) : 0);
      // Four rows of B per pass over C's row: a quarter of the loads and stores of C.
      let k = 0;
      for (; k + 4 <= K; k += 4) {
        const a0 = load<f32>(a + (<usize>(i * aRow + k * aCol) << 2));
        const a1 = load<f32>(a + (<usize>(i * aRow + (k + 1) * aCol) << 2));
        const a2 = load<f32>(a + (<usize>(i * aRow + (k + 2) * aCol) << 2));
        const a3 = load<f32>(a + (<usize>(i * aRow + (k + 3) * aCol) << 2));
        const v0 = f32x4.splat(a0), v1 = f32x4.splat(a1), v2 = f32x4.splat(a2), v3 = f32x4.splat(a3);
        const b0 = k * bRow;
        const b1 = b0 + bRow, b2 = b1 + bRow, b3 = b2 + bRow;
        for (let j = 0; j < n4; j += 4) {
          const at = ci + (<usize>j << 2);
          v128.store(at, madd(v3, loadB4(b, b3 + j, kind), madd(v2, loadB4(b, b2 + j, kind), madd(v1, loadB4(b, b1 + j, kind), madd(v0, loadB4(b, b0 + j, kind), v128.load(at))))));
        }
        for (let j = n4; j < N; j++) {
          const at = ci + (<usize>j << 2);
          store<f32>(at, load<f32>(at) + a0 * loadB(b, b0 + j, kind) + a1 * loadB(b, b1 + j, kind) + a2 * loadB(b, b2 + j, kind) + a3 * loadB(b, b3 + j, kind));
        }
      }
      for (; k < K; k++) {
        const aik = load<f32>(a + (<usize>(i * aRow + k * aCol) << 2));
        const av = f32x4.splat(aik);
        const bk = k * bRow;
        for (let j = 0; j < n4; j += 4) {
          const at = ci + (<usize>j << 2);
          v128.store(at, madd(av, loadB4(b, bk + j, kind), v128.load(at)));
        }
        for (let j = n4; j < N; j++) {
          const at = ci + (<usize>j << 2);
          store<f32>(at, load<f32>(at) + aik * loadB(b, bk + j, kind));
        }
      }
    }
  } else {
    const k4 = K & ~3;
    for (let i = 0; i < M; i++) {
      const ai = a + (<usize>(i * aRow) << 2);
      for (let j = 0; j < N; j++) {
        const bj = j * bCol;
        let acc = f32x4.splat(0);
        for (let k = 0; k < k4; k += 4) acc = madd(v128.load(ai + (<usize>k << 2)), loadB4(b, bj + k, kind), acc);
        let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
        for (let k = k4; k < K; k++) s += load<f32>(ai + (<usize>k << 2)) * loadB(b, bj + k, kind);
        store<f32>(c + (<usize>(i * ldc + j) << 2), bias ? s + load<f32>(bias + (<usize>j << 2)) : s);
      }
    }
  }
}
