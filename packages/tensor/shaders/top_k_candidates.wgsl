// Top-k candidates of each row (the sampler's cut, packages/gpt/src/generate.ts sampleNext):
// every score >= the row's k-th largest (ties at the k-th all kept), in index order. Row r of
// out is [count, ids[capacity], scores[capacity]], all float32: count the number of candidates
// (it may exceed capacity: only the first `capacity` are written), or -1 when the row holds a
// NaN or an infinity (then no candidate is written); ids are exact as floats (n <= 2^24);
// scores are the input's bits; unused slots hold id -1 and score -Infinity.
// Bindings: 0 params, 1 out, 2 x. Both are read and written as u32 words, so no float
// arithmetic (or flushing of subnormals) touches a score.
//
// One workgroup per row. The k-th largest is found by a radix select on an order-preserving
// key of the float bits (4 passes of 8 bits, a histogram in workgroup atomics, invocation 0
// walking the 256 bins from the top); -0 and +0 get one key, as `>=` treats them. Then each
// invocation counts the candidates of its own contiguous chunk of the row, invocation 0 turns
// the counts into offsets, and each invocation writes its chunk's candidates at its offset:
// index order without sorting. Every pass gets its own workgroup memory (lib_rows.wgsl's note
// on llvmpipe reordering reads past barriers).

struct Params {
  rows: u32,
  n: u32,
  k: u32,          // 1..n (the host clamps k > n to n: then every element is a candidate)
  capacity: u32,
  x_base: u32,
  out_base: u32,
  groups_x: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<u32>;

const WG: u32 = 256u;
const NEG_INF: u32 = 0xff800000u;

var<workgroup> hist: array<atomic<u32>, 1024>;   // 4 passes x 256 bins
var<workgroup> bad: atomic<u32>;
var<workgroup> bad_seen: u32;
var<workgroup> prefix: array<u32, 5>;             // the k-th key's bits known before digit i
var<workgroup> remaining: array<u32, 5>;          // its rank among the keys matching prefix[i]
var<workgroup> chunk_count: array<u32, WG>;
var<workgroup> chunk_offset: array<u32, WG>;
var<workgroup> total: u32;

// Larger float, larger key (sign flipped for positives, all bits for negatives); -0 is +0.
fn key_of(bits: u32) -> u32 {
  if ((bits & 0x7fffffffu) == 0u) { return 0x80000000u; }
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

fn write_slots(ob: u32, first: u32, t: u32) {
  for (var s = first + t; s < p.capacity; s += WG) {
    out[ob + 1u + s] = bitcast<u32>(-1.0);
    out[ob + 1u + p.capacity + s] = NEG_INF;
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.x + wg.y * p.groups_x;
  if (row >= p.rows) { return; }
  let t = lid.x;
  let xb = p.x_base + row * p.n;
  let ob = p.out_base + row * (1u + 2u * p.capacity);
  for (var i = t; i < 1024u; i += WG) { atomicStore(&hist[i], 0u); }
  if (t == 0u) {
    atomicStore(&bad, 0u);
    prefix[0] = 0u;
    remaining[0] = p.k;
  }
  workgroupBarrier();

  for (var digit = 0u; digit < 4u; digit++) {
    let shift = 24u - 8u * digit;
    let mask = ~(0xffffffffu >> (8u * digit)); // the bits fixed by earlier passes
    let want = prefix[digit] & mask;
    for (var i = t; i < p.n; i += WG) {
      let bits = x[xb + i];
      if (digit == 0u && (bits & 0x7f800000u) == 0x7f800000u) { atomicStore(&bad, 1u); }
      let key = key_of(bits);
      if ((key & mask) == want) { atomicAdd(&hist[digit * 256u + ((key >> shift) & 255u)], 1u); }
    }
    workgroupBarrier();
    if (t == 0u) {
      if (digit == 0u) { bad_seen = atomicLoad(&bad); }
      // The bin holding the remaining-th largest key, counting down from bin 255.
      var need = remaining[digit];
      var bin = 255u;
      loop {
        let c = atomicLoad(&hist[digit * 256u + bin]);
        if (c >= need || bin == 0u) { break; }
        need -= c;
        bin -= 1u;
      }
      prefix[digit + 1u] = prefix[digit] | (bin << shift);
      remaining[digit + 1u] = need;
    }
    if (digit == 0u) {
      // A NaN or an infinity: count -1 and empty slots (the host reads the row and names it).
      if (workgroupUniformLoad(&bad_seen) != 0u) {
        if (t == 0u) { out[ob] = bitcast<u32>(-1.0); }
        write_slots(ob, 0u, t);
        return;
      }
    } else {
      workgroupBarrier();
    }
  }

  let threshold = workgroupUniformLoad(&prefix[4]);
  let chunk = (p.n + WG - 1u) / WG;
  let start = min(p.n, t * chunk);
  let end = min(p.n, start + chunk);
  var c = 0u;
  for (var i = start; i < end; i++) {
    if (key_of(x[xb + i]) >= threshold) { c += 1u; }
  }
  chunk_count[t] = c;
  workgroupBarrier();
  if (t == 0u) {
    var sum = 0u;
    for (var j = 0u; j < WG; j++) {
      chunk_offset[j] = sum;
      sum += chunk_count[j];
    }
    total = sum;
    out[ob] = bitcast<u32>(f32(sum));
  }
  let count = workgroupUniformLoad(&total);
  var at = chunk_offset[t];
  for (var i = start; i < end && at < p.capacity; i++) {
    let bits = x[xb + i];
    if (key_of(bits) >= threshold) {
      out[ob + 1u + at] = bitcast<u32>(f32(i));
      out[ob + 1u + p.capacity + at] = bits;
      at += 1u;
    }
  }
  write_slots(ob, min(count, p.capacity), t);
}
