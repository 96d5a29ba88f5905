// Block-quantized weights (q8_0, q4_0): the block format on the host (round trip, K not a
// multiple of 32, zero and subnormal scales) and matmulQuantized on every device against the
// exact product with the decoded weights (float64 on the host).
// Tolerances:
// - encoding: q8_0 within half a step (|x - decoded| <= d / 2 of its block's float16 scale d);
//   q4_0 within one step (the largest-magnitude element maps to -8 exactly; elements of the
//   other sign past 7.5 steps clamp to 7, at most one step off).
// - matmul, exact decoded weights (reference CPU, the fast CPU's large-M sgemm path, WebGPU):
//   float32 rounding, |diff| <= 1e-5 * sum |a w| + 1e-6.
// - the fast CPU's small-M path (M <= 8) also rounds a to 8 bits a block (scale max|a| / 127):
//   |diff| <= sum over blocks of (max|a| / 254) * sum |w| (the rounding's worst case), plus the
//   float32 term above. Its two block products (relaxed-SIMD 8-bit dot, plain-SIMD 16-bit dot)
//   give the same integers, so their outputs are compared bit for bit; the plain-SIMD build
//   runs as one more device in the core project.
// Exclusions: none.
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { DTypeError, ShapeError } from '@mini/tensor/node';
import { devicesUnderTest } from '../helpers/devices.js';
import { sharedChunk } from '../../packages/tensor/src/cpu-fast/matmul-quantized.js';
import { loadNativeKernels } from '../../packages/tensor/src/node-native.js';

// In the core project also the fast CPU with its plain-SIMD build, and (where the relaxed 8-bit
// dot product runs) with the relaxed build but the plain dot product.
const plainDevice = (name: string, options: { relaxedSimd?: boolean; relaxedDot?: boolean }) => ({
  name,
  device: new T.Device(T.createFastCpuBackend({ ...options, native: false }), { kind: 'cpu', description: name }),
  dtype: 'float32' as const,
  isReference: false,
});
const fastRuntime = () => (T.fastCpu.backend as T.FastCpuBackend).runtime();
const cpuProject = process.env.MINI_GPT_TEST_DEVICES !== 'webgpu';
const devices = [
  ...(await devicesUnderTest()),
  ...(cpuProject ? [plainDevice('fast CPU, plain SIMD', { relaxedSimd: false })] : []),
  ...(cpuProject && fastRuntime().relaxedDot ? [plainDevice('fast CPU, plain dot', { relaxedDot: false })] : []),
];
const FORMATS = ['q8_0', 'q4_0'] as const;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** float16 bits -> number, from the format's definition. */
function halfValue(h: number): number {
  const sign = h >> 15 ? -1 : 1;
  const exp = (h >> 10) & 31;
  const mant = h & 1023;
  if (exp === 0) return sign * mant * 2 ** -24;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Deterministic values in [-scale, scale). */
function values(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

function roundTrip(format: T.QuantFormat, x: Float32Array, N: number, K: number) {
  const nb = T.blocksPerRow(K);
  const data = new Uint8Array(N * nb * T.blockBytes(format));
  const scales = new Uint16Array(N * nb);
  T.quantizeRows(format, x, 0, K, 1, N, K, data, scales, 0);
  const back = new Float32Array(N * K);
  T.dequantizeRows(format, data, scales, K, 0, N, back);
  return { data, scales, back, nb };
}

describe('block format (host)', () => {
  it.each(FORMATS)(
    '%s: round trip within its step, K = 45 and 77 (padded blocks), every scale decoded exactly',
    (format) => {
      for (const K of [32, 45, 77]) {
        const N = 5;
        const x = values(N * K, K, 3);
        const { scales, back, nb } = roundTrip(format, x, N, K);
        for (let n = 0; n < N; n++) {
          for (let k = 0; k < K; k++) {
            const d = Math.abs(halfValue(scales[n * nb + (k >> 5)]!));
            const step = format === 'q8_0' ? d / 2 : d;
            const err = Math.abs(back[n * K + k]! - x[n * K + k]!);
            if (err > step * (1 + 1e-6))
              expect.fail(`${format} K=${K} [${n}, ${k}]: ${back[n * K + k]} vs ${x[n * K + k]}`);
          }
        }
      }
    },
  );

  it.each(FORMATS)(
    '%s: values on the grid come back exactly; re-encoding the decoded matrix is the identity',
    (format) => {
      const K = 70;
      const x = values(3 * K, 7, 2);
      const first = roundTrip(format, x, 3, K);
      const second = roundTrip(format, first.back, 3, K);
      expect(Array.from(second.back)).toEqual(Array.from(first.back));
      expect(Array.from(second.scales)).toEqual(Array.from(first.scales));
    },
  );

  it.each(FORMATS)(
    '%s: an all-zero block has scale 0 and decodes to zeros; tiny blocks get subnormal scales',
    (format) => {
      const K = 96;
      const x = new Float32Array(K);
      // max 1e-3 (q8_0: scale 7.9e-6) or 1e-4 (q4_0: 1.25e-5): below float16's smallest normal 6.1e-5
      const top = format === 'q8_0' ? 1e-3 : 1e-4;
      for (let i = 32; i < 64; i++) x[i] = (((i % 2 ? 1 : -1) * top * ((i % 7) + 1)) / 7) * (i === 33 ? 7 / 2 : 1);
      for (let i = 64; i < 96; i++) x[i] = 1e-9 * (i - 80); // below half float16's smallest subnormal after / 127
      const { scales, back } = roundTrip(format, x, 1, K);
      expect(scales[0]).toBe(0);
      for (let i = 0; i < 32; i++) expect(back[i]).toBe(0);
      expect((scales[1]! >> 10) & 31, 'subnormal exponent field').toBe(0);
      expect(scales[1]! & 1023, 'subnormal mantissa').not.toBe(0);
      const d = Math.abs(halfValue(scales[1]!));
      for (let i = 32; i < 64; i++)
        expect(Math.abs(back[i]! - x[i]!)).toBeLessThanOrEqual((format === 'q8_0' ? d / 2 : d) * (1 + 1e-6));
      // The third block's scale underflows float16: zero, and its elements decode to zero.
      expect(scales[2]! & 0x7fff).toBe(0);
      for (let i = 64; i < 96; i++) expect(back[i]).toBe(0);
    },
  );

  it('q4_0 packs element j low and j + 16 high in byte j, stored + 8', () => {
    const x = new Float32Array(32);
    x[0] = -8;
    x[16] = 7;
    x[1] = 1;
    const { data, scales } = roundTrip('q4_0', x, 1, 32);
    expect(halfValue(scales[0]!)).toBe(1);
    expect(data[0]).toBe(0 | (15 << 4));
    expect(data[1]).toBe(9 | (8 << 4));
  });
});

/** Exact product with the decoded weights, and the two error scales of the header. */
function oracle(a: Float32Array, w: Float32Array, bias: Float32Array | null, M: number, N: number, K: number) {
  const out = new Float64Array(M * N);
  const absSum = new Float64Array(M * N);
  const actBound = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      let abs = 0;
      let act = 0;
      for (let b = 0; b * 32 < K; b++) {
        let amax = 0;
        let wabs = 0;
        for (let k = b * 32; k < Math.min(K, b * 32 + 32); k++) {
          s += a[m * K + k]! * w[n * K + k]!;
          abs += Math.abs(a[m * K + k]! * w[n * K + k]!);
          amax = Math.max(amax, Math.abs(a[m * K + k]!));
          wabs += Math.abs(w[n * K + k]!);
        }
        act += (amax / 254) * wabs;
      }
      out[m * N + n] = s + (bias ? bias[n]! : 0);
      absSum[m * N + n] = abs;
      actBound[m * N + n] = act;
    }
  }
  return { out, absSum, actBound };
}

describe.each(devices)('matmulQuantized on $name', ({ device, isReference, name }) => {
  const fastSmallM = (M: number) => name.startsWith('fast CPU') && M <= 8;
  it.each(FORMATS)('%s: awkward shapes, with and without bias, against the exact decoded product', async (format) => {
    const cases: [number, number, number][] = [
      [1, 1, 32],
      [1, 7, 45],
      [3, 33, 100],
      [8, 130, 273],
      [1, 1000, 300],
      [2, 50, 1601],
      [1, 50257, 45],
      [9, 37, 64],
      [20, 260, 77],
    ];
    for (const [M, N, K] of cases) {
      const wHost = values(N * K, N + K, 0.5);
      const aHost = values(M * K, M * 31 + K, 2);
      const biasHost = N % 2 ? values(N, 5) : null;
      const q = T.quantizeMatrix(format, wHost, N, K, device);
      const decoded = await q.dequantize();
      const a = T.tensor(aHost, { device, shape: [M, K] });
      const bias = biasHost ? T.tensor(biasHost, { device }) : undefined;
      const out = T.matmulQuantized(a, q, { bias });
      expect(out.shape).toEqual([M, N]);
      const got = await out.toArray();
      const { out: want, absSum, actBound } = oracle(aHost, decoded, biasHost, M, N, K);
      for (let i = 0; i < M * N; i++) {
        const tol = 1e-5 * absSum[i]! + 1e-6 + (fastSmallM(M) ? actBound[i]! : 0);
        const err = Math.abs(got[i]! - want[i]!);
        if (!(err <= tol)) expect.fail(`${format} (${M}, ${N}, ${K}) [${i}]: ${got[i]} vs ${want[i]} (tol ${tol})`);
      }
      for (const t of [q, a, out, ...(bias ? [bias] : [])]) t.dispose();
    }
    void isReference;
  });

  it('a batched x (B, T, K) keeps its leading dimensions', async () => {
    const q = T.quantizeMatrix('q8_0', values(6 * 40, 3), 6, 40, device);
    const x = T.tensor(values(2 * 3 * 40, 4), { device, shape: [2, 3, 40] });
    const out = T.matmulQuantized(x, q);
    expect(out.shape).toEqual([2, 3, 6]);
    for (const t of [q, x, out]) t.dispose();
  });

  it('bad input: one clear error', () => {
    const q = T.quantizeMatrix('q4_0', values(4 * 40, 3), 4, 40, device);
    const x = T.zeros([2, 41], { device });
    expect(() => T.matmulQuantized(x, q)).toThrow(ShapeError);
    expect(() => T.matmulQuantized(x, q)).toThrow(/does not end in the weight's K = 40/);
    const i = T.zeros([2, 40], { device, dtype: 'int32' });
    expect(() => T.matmulQuantized(i, q)).toThrow(DTypeError);
    for (const t of [q, x, i]) t.dispose();
  });
});

describe.runIf(cpuProject)('the fast CPU small-M block products', () => {
  /** One i32x4.relaxed_dot_i8x16_i7x16_add_s run by a module written here, on operands in its defined range. */
  async function engineDotIsExact(): Promise<boolean | null> {
    // (func (export "f") (v128.store (i32.const 48) (dot_add (v128.load 0) (v128.load 16) (v128.load 32))))
    const body = [0, 0x41, 48, 0x41, 0, 0xfd, 0, 4, 0, 0x41, 16, 0xfd, 0, 4, 0, 0x41, 32, 0xfd, 0, 4, 0];
    body.push(0xfd, 0x93, 0x02, 0xfd, 0x0b, 4, 0, 0x0b);
    const bytes = new Uint8Array([
      ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
      ...[1, 4, 1, 0x60, 0, 0],
      ...[3, 2, 1, 0],
      ...[5, 3, 1, 0, 1],
      ...[7, 9, 2, 1, 0x6d, 2, 0, 1, 0x66, 0, 0],
      ...[10, body.length + 2, 1, body.length, ...body],
    ]);
    if (!WebAssembly.validate(bytes)) return null;
    const { instance } = await WebAssembly.instantiate(bytes);
    const { m, f } = instance.exports as { m: WebAssembly.Memory; f: () => void };
    const a = new Int8Array(m.buffer, 0, 16);
    const b = new Int8Array(m.buffer, 16, 16);
    const c = new Int32Array(m.buffer, 32, 4);
    const values = [-127, -100, -3, 0, 1, 7, 50, 127];
    for (let i = 0; i < 16; i++) {
      a[i] = values[(i * 5) % 8]!;
      b[i] = Math.abs(values[(i * 3 + 1) % 8]!);
    }
    c.set([1000, -7, 0, 123456]);
    f();
    const got = new Int32Array(m.buffer, 48, 4);
    for (let l = 0; l < 4; l++) {
      let want = c[l]!;
      for (let j = 0; j < 4; j++) want += a[4 * l + j]! * b[4 * l + j]!;
      if (got[l] !== want) return false;
    }
    return true;
  }

  it('the relaxed 8-bit dot product is used exactly where this engine computes it right', async () => {
    const rt = fastRuntime();
    const exact = await engineDotIsExact();
    expect(rt.relaxedDot).toBe(rt.relaxedSimd && exact === true);
  });

  it.runIf(fastRuntime().relaxedDot).each(FORMATS)(
    '%s: the relaxed and the plain dot product give the same outputs, bit for bit',
    async (format) => {
      const plain = plainDevice('plain dot', { relaxedDot: false }).device;
      for (const [M, N, K] of [
        [1, 7, 45],
        [1, 515, 1600],
        [4, 66, 6400],
      ] as const) {
        const wHost = values(N * K, N * 7 + K, 0.1);
        const aHost = values(M * K, K, 3);
        const got: Float32Array[] = [];
        for (const device of [T.fastCpu, plain]) {
          const q = T.quantizeMatrix(format, wHost, N, K, device);
          const a = T.tensor(aHost, { device, shape: [M, K] });
          const out = T.matmulQuantized(a, q);
          got.push((await out.toArray()) as Float32Array);
          for (const t of [q, a, out]) t.dispose();
        }
        expect(Array.from(got[0]!)).toEqual(Array.from(got[1]!));
      }
    },
  );
});

// The native addon's matvec (native/src/qgemv.c) with each instruction set this CPU has, against
// the WebAssembly kernel of the relaxed-SIMD build (whose multiply-add is fused on x86-64, as the
// addon's is): the same bits. The devices above already check it against the exact product.
const nativeIsas =
  cpuProject && loadNativeKernels({}).kernels
    ? ['avx512', 'avx2'].filter((isa) => loadNativeKernels({ MINI_GPT_NATIVE_ISA: isa }).kernels)
    : [];
const wasmRelaxed = plainDevice('fast CPU, WebAssembly relaxed', {}).device;
describe.runIf(cpuProject && process.env.MINI_GPT_REQUIRE_NATIVE !== '0')('the native quantized matvec', () => {
  it('is there wherever the native matmul is (MINI_GPT_REQUIRE_NATIVE=1 in CI)', () => {
    if (process.env.MINI_GPT_REQUIRE_NATIVE === '1') expect(nativeIsas.length).toBeGreaterThan(0);
    const kernels = loadNativeKernels({}).kernels;
    if (kernels) expect(['avx512-vnni', 'avx2']).toContain(kernels.qgemvIsa);
  });

  it.each(nativeIsas.flatMap((isa) => FORMATS.map((format) => [isa, format] as const)))(
    "%s, %s: the WebAssembly kernel's bits, any M <= 8, rows past the last four, tails of blocks, one thread and all",
    async (isa, format) => {
      const status = loadNativeKernels({ MINI_GPT_NATIVE_ISA: isa });
      const original = T.nativeStatus();
      T.setNativeKernels(status);
      const native = new T.Device(T.createFastCpuBackend(), { kind: 'cpu', description: `native ${isa}` });
      (native.backend as T.FastCpuBackend).runtime();
      T.setNativeKernels(original);
      expect((native.backend as T.FastCpuBackend).runtime().native?.qgemvIsa).toBe(
        isa === 'avx512' ? status.kernels!.qgemvIsa : 'avx2',
      );
      const fused = (wasmRelaxed.backend as T.FastCpuBackend).runtime().relaxedSimd;
      for (const [M, N, K, bias] of [
        [1, 1, 32, false],
        [1, 7, 45, true],
        [2, 515, 1600, true], // rows past the last group of four; 50 blocks (a tail of 2 past 48)
        [3, 66, 6400, false],
        [8, 13, 100, true],
        [4, 12, 160, true], // an odd count of blocks: a group of four blocks, then one
        [1, 9, 224, true], // 7 blocks: a group of four, then three one by one
        [1, 2053, 768, false], // more work than one thread's: both threads claim rows
      ] as const) {
        const wHost = values(N * K, N * 7 + K, 0.1);
        const aHost = values(M * K, K + M, 3);
        const biasHost = values(N, N);
        const got: Uint32Array[] = [];
        for (const device of [native, wasmRelaxed]) {
          const q = T.quantizeMatrix(format, wHost, N, K, device);
          const a = T.tensor(aHost, { device, shape: [M, K] });
          const b = bias ? T.tensor(biasHost, { device }) : undefined;
          const out = T.matmulQuantized(a, q, { bias: b });
          got.push(new Uint32Array(((await out.toArray()) as Float32Array).buffer));
          for (const t of [q, a, out, ...(b ? [b] : [])]) t.dispose();
        }
        if (fused) expect(Array.from(got[0]!), `(${M}, ${N}, ${K})`).toEqual(Array.from(got[1]!));
        else expect(got[0]!.length).toBe(M * N); // the plain build rounds another way; the exact-product test covers it
      }
    },
  );

  it('refuses an operand outside the heap', () => {
    const kernels = loadNativeKernels({}).kernels;
    if (!kernels) return;
    const heap = new Uint8Array(4096);
    expect(() => kernels.qgemv(heap, [0, 1, 4, 1, 0, 512, 1024, 2048, 3072, 4, -1, 4], 1)).not.toThrow();
    expect(() => kernels.qgemv(heap, [0, 1, 4, 40, 0, 512, 1024, 2048, 3072, 4, -1, 4], 1)).toThrow(/outside the heap/);
    expect(() => kernels.qgemv(heap, [2, 1, 4, 1, 0, 512, 1024, 2048, 3072, 4, -1, 4], 1)).toThrow(/format/);
    expect(() => kernels.qgemv(heap, [0, 1.5, 4, 1, 0, 512, 1024, 2048, 3072, 4, -1, 4], 1)).toThrow(/M must be/);
  });
});

/** Scratch in a fast CPU runtime's heap: take(bytes) -> address; free() gives back all taken. */
function heapScratch(rt: ReturnType<typeof fastRuntime>) {
  const held: [number, number][] = [];
  return {
    take(bytes: number): number {
      const p = rt.heap.allocate(bytes)!;
      held.push([p, bytes]);
      return p;
    },
    free(): void {
      for (const [p, bytes] of held.splice(0)) rt.heap.release(p, bytes);
    },
  };
}

/** quantizeActivations' rule for one row, element by element (f32 arithmetic, ties to even). */
function quantizeReference(row: Float32Array, rdot: number): { blocks: Uint8Array; scales: Float32Array } {
  const f = Math.fround;
  const nb = Math.ceil(row.length / 32);
  const blocks = new Uint8Array(nb * 128);
  const view = new DataView(blocks.buffer);
  const scales = new Float32Array(nb);
  const nearestEven = (v: number) => {
    const r = Math.floor(v);
    const d = v - r;
    return d > 0.5 || (d === 0.5 && r % 2 !== 0) ? r + 1 : r;
  };
  for (let b = 0; b < nb; b++) {
    let amax = 0;
    for (let i = 32 * b; i < Math.min(row.length, 32 * b + 32); i++) {
      const v = Math.abs(row[i]!);
      amax = Number.isNaN(v) || Number.isNaN(amax) ? Number.NaN : Math.max(amax, v);
    }
    scales[b] = f(amax / 127);
    const inv = amax > 0 ? f(127 / amax) : 0;
    let sum = 0;
    for (let i = 0; i < 32; i++) {
      const k = 32 * b + i;
      const x = k < row.length ? f(row[k]! * inv) : 0;
      const q = Number.isFinite(x) ? nearestEven(x) : 0;
      if (rdot) {
        view.setUint8(128 * b + i, Math.abs(q));
        view.setUint8(128 * b + 32 + i, q < 0 ? 0xff : 0);
        view.setInt8(128 * b + 64 + i, q);
        sum += q;
      } else view.setInt16(128 * b + 2 * i, q, true);
    }
    if (rdot) view.setInt32(128 * b + 96, sum * 8, true);
  }
  return { blocks, scales };
}

describe.runIf(cpuProject)('the fast CPU activation rounding (quantizeActivations)', () => {
  // Whole blocks take a four-lane path, a partial last block the element loop: both must give
  // the rule's bytes, ties to even, NaN and infinities included.
  it("gives the rule's bytes and scales for whole and partial blocks, both layouts", () => {
    const rt = fastRuntime();
    const ex = rt.exports as unknown as Record<string, (...args: number[]) => number>;
    const specials = [2.5, -3.5, 0.5, -0.5, 126.5, -126.5, 127, 1e-40, -0, 0];
    for (const K of [32, 45, 77, 96, 1600]) {
      for (const M of [1, 3]) {
        const a = Float32Array.from(values(M * K, K + M, 3));
        // a block of max 127 (scale 1: the products are the values, so ties stay ties)
        a.set(
          specials.map((v, i) => (i === 6 ? 127 : v)),
          0,
        );
        if (K >= 64) a.set([Number.NaN, 1, 2], 32); // a NaN block
        if (K >= 96) a.set([Number.POSITIVE_INFINITY, -1, 3], 64); // an infinite block
        for (const rdot of [0, 1]) {
          const nb = Math.ceil(K / 32);
          const { take, free } = heapScratch(rt);
          try {
            const at = take(4 * M * K);
            const aq = take(128 * M * nb);
            const ad = take(4 * M * nb);
            const buf = rt.heap.memory.buffer;
            new Float32Array(buf, at, M * K).set(a);
            new Uint8Array(buf, aq, 128 * M * nb).fill(0);
            ex.quantizeActivations!(M, K, at, K, aq, ad, rdot);
            for (let m = 0; m < M; m++) {
              const want = quantizeReference(a.subarray(m * K, (m + 1) * K), rdot);
              const got = new Uint8Array(buf, aq + 128 * m * nb, 128 * nb);
              const used = rdot ? [0, 100] : [0, 64]; // the bytes each layout defines
              for (let b = 0; b < nb; b++)
                expect(
                  Array.from(got.subarray(128 * b + used[0]!, 128 * b + used[1]!)),
                  `K ${K}, row ${m}, block ${b}, rdot ${rdot}`,
                ).toEqual(Array.from(want.blocks.subarray(128 * b + used[0]!, 128 * b + used[1]!)));
              expect(Array.from(new Float32Array(buf, ad + 4 * m * nb, nb))).toEqual(Array.from(want.scales));
            }
          } finally {
            free();
          }
        }
      }
    }
  });
});

describe.runIf(cpuProject)('the fast CPU shared-row matvec (quantMatvecShared)', () => {
  // Rows claimed a chunk at a time from a counter in the heap, by one thread or all of them:
  // every output must be the bits quantMatvec gives for the whole matrix on one thread.
  it.each(FORMATS)('%s: any chunking and both threads give quantMatvec bits', (format) => {
    const rt = fastRuntime();
    const ex = rt.exports as unknown as Record<string, (...args: number[]) => number>;
    const fmt = format === 'q8_0' ? 0 : 1;
    const bb = format === 'q8_0' ? 32 : 16;
    const rdot = rt.relaxedDot ? 1 : 0;
    const { take, free } = heapScratch(rt);
    try {
      for (const [M, N, K] of [
        [1, 1031, 1600],
        [3, 67, 77],
      ] as const) {
        const nb = Math.ceil(K / 32);
        const w = take(N * nb * bb);
        const ws = take(2 * N * nb);
        const a = take(4 * M * K);
        const aq = take(128 * M * nb);
        const ad = take(4 * M * nb);
        const bias = take(4 * N);
        const counter = take(64);
        const buf = rt.heap.memory.buffer;
        new Uint8Array(buf, w, N * nb * bb).set(Uint8Array.from(values(N * nb * bb, 11), (v) => (v * 127) & 0xff));
        new Uint16Array(buf, ws, N * nb).set(
          Uint16Array.from(values(N * nb, 12), (v) => 0x2000 + Math.abs(v) * 0x1000),
        );
        new Float32Array(buf, a, M * K).set(values(M * K, 13, 3));
        new Float32Array(buf, bias, N).set(values(N, 14));
        ex.quantizeActivations!(M, K, a, K, aq, ad, rdot);
        const want = take(4 * M * N);
        ex.quantMatvec!(fmt, M, N, nb, aq, ad, w, ws, want, N, bias, rdot, 1);
        const wantBits = Array.from(new Uint32Array(buf, want, M * N));
        const got = take(4 * M * N);
        const shared = (chunk: number) => [counter, chunk, fmt, M, N, nb, aq, ad, w, ws, got, N, bias, rdot];
        const reset = () => {
          new Int32Array(buf, counter, 1)[0] = 0;
          new Float32Array(buf, got, M * N).fill(Number.NaN);
        };
        for (const chunk of [4, 12, 256]) {
          reset();
          ex.quantMatvecShared!(...shared(chunk));
          expect(Array.from(new Uint32Array(buf, got, M * N)), `one thread, chunk ${chunk}`).toEqual(wantBits);
        }
        if (rt.runner && rt.runner.threads > 1) {
          reset();
          const call = { kernel: 'quantMatvecShared' as const, args: shared(8) };
          rt.runner.run(
            Array.from({ length: rt.runner.threads }, () => call),
            (c) => ex[c.kernel]!(...c.args),
          );
          expect(Array.from(new Uint32Array(buf, got, M * N)), 'all threads').toEqual(wantBits);
        }
        free();
      }
    } finally {
      free();
    }
  });

  it('claims a multiple of 4 rows, about 16 a thread, at most 256', () => {
    expect(sharedChunk(1600, 2)).toBe(52);
    expect(sharedChunk(6400, 2)).toBe(200);
    expect(sharedChunk(50257, 2)).toBe(256);
    expect(sharedChunk(7, 2)).toBe(4);
  });
});

void f32;
void u32;
