// AssemblyScript, compiled to WebAssembly (SIMD) by scripts/build-wasm.mjs.
//
// A strided copy of 4-byte elements over at most four (coalesced) dimensions: what
// `contiguous()` of attention's permuted heads, (B, T, nh, hs) <-> (B, nh, T, hs), and
// copyInto need. Where both innermost strides are 1 a run is one memory.copy.

/** dst[i0 d0 + ... + i3 d3] = src[i0 s0 + ... + i3 s3] over (n0, n1, n2, n3); strides in elements. */
export function copyStrided(src: usize, dst: usize, n0: i32, n1: i32, n2: i32, n3: i32,
  s0: i32, s1: i32, s2: i32, s3: i32, d0: i32, d1: i32, d2: i32, d3: i32): void {
  const contiguousRuns = s3 == 1 && d3 == 1;
  for (let i0 = 0; i0 < n0; i0++) {
    for (let i1 = 0; i1 < n1; i1++) {
      for (let i2 = 0; i2 < n2; i2++) {
        const from = src + (<usize>(i0 * s0 + i1 * s1 + i2 * s2) << 2);
        const to = dst + (<usize>(i0 * d0 + i1 * d1 + i2 * d2) << 2);
        if (contiguousRuns) {
          memory.copy(to, from, <usize>n3 << 2);
        } else {
          for (let i3 = 0; i3 < n3; i3++) store<u32>(to + (<usize>(i3 * d3) << 2), load<u32>(from + (<usize>(i3 * s3) << 2)));
        }
      }
    }
  }
}
