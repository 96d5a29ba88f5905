// Threefry-2x32, 20 rounds (Salmon et al. 2011), bit for bit the generator in
// packages/tensor/src/random.ts: only 32-bit add, rotate and xor, which WGSL's u32 does
// exactly (wrapping), so every backend draws the same numbers for the same (key, counter).
const THREEFRY_ROTATIONS = array<u32, 8>(13u, 15u, 26u, 6u, 17u, 29u, 16u, 24u);

fn rotl(x: u32, r: u32) -> u32 {
  return (x << r) | (x >> (32u - r));
}

fn threefry2x32(key: vec2<u32>, counter: vec2<u32>) -> vec2<u32> {
  let ks = array<u32, 3>(key.x, key.y, 0x1bd11bdau ^ key.x ^ key.y);
  var x0 = counter.x + ks[0];
  var x1 = counter.y + ks[1];
  for (var round = 0u; round < 20u; round++) {
    x0 += x1;
    x1 = rotl(x1, THREEFRY_ROTATIONS[round % 8u]);
    x1 ^= x0;
    if (round % 4u == 3u) {
      let inject = (round + 1u) / 4u;
      x0 += ks[inject % 3u];
      x1 += ks[(inject + 1u) % 3u] + inject;
    }
  }
  return vec2<u32>(x0, x1);
}
