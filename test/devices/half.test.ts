// float16 and bfloat16 weight storage on every device: conversions (astype both ways, the raw
// bits), upload/read, views (odd offsets, transposes, copies), fill, and the two kernels that
// read 16-bit weights: matmul's B operand and the embedding gather, against the float32 CPU
// reference on the exactly widened weights, on awkward shapes.
// Tolerances:
// - narrowing float32 -> 16 bits: CPU devices bit-identical to the reference rounding
//   (nearest even); WebGPU's pack2x16float may round differently: one float16 ulp (rtol 2^-10);
//   bfloat16 is integer arithmetic in WGSL too: bit-identical.
// - widening: exact everywhere (inputs here are normal numbers: an adapter may flush float16
//   subnormals; the CPU devices are checked on subnormals separately).
// - matmul: the float32 product's rounding, |diff| <= 2e-6 * K + 1e-6 relative to the scale (the
//   same bound as float32 matmul), since the widened weights are exact.
// - gather: exact.
// Exclusions: none (the reference is checked against an independent decoding of the bits).
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { DTypeError } from '@mini/tensor/node';
import { expectAllClose } from '../helpers/allclose.js';
import { devicesUnderTest } from '../helpers/devices.js';
import { bfloat16Bits, float16Bits, widenHalf, narrowToHalf } from '../../packages/tensor/src/dtype.js';

const devices = await devicesUnderTest();
const HALVES = ['float16', 'bfloat16'] as const;

/** Decodes 16-bit patterns from the formats' definitions (the oracle for widenHalf). */
function decode(h: number, dtype: 'float16' | 'bfloat16'): number {
  const [expBits, mantBits, bias] = dtype === 'float16' ? [5, 10, 15] : [8, 7, 127];
  const sign = h >> 15 ? -1 : 1;
  const exp = (h >> mantBits) & ((1 << expBits) - 1);
  const mant = h & ((1 << mantBits) - 1);
  if (exp === (1 << expBits) - 1) return mant ? NaN : sign * Infinity;
  if (exp === 0) return sign * mant * 2 ** (1 - bias - mantBits);
  return sign * (1 + mant / 2 ** mantBits) * 2 ** (exp - bias);
}

const bitsOf = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0]!;

describe('16-bit conversions (the reference)', () => {
  it.each(HALVES)(
    '%s: widening every bit pattern matches its definition, and narrowing gives the pattern back',
    (dtype) => {
      const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
      const wide = new Float32Array(65536);
      widenHalf(all, dtype, wide);
      const back = new Uint16Array(65536);
      narrowToHalf(wide, dtype, back);
      for (let h = 0; h < 65536; h++) {
        const expected = decode(h, dtype);
        if (Number.isNaN(expected)) {
          expect(Number.isNaN(wide[h]!)).toBe(true);
          expect(Number.isNaN(decode(back[h]!, dtype))).toBe(true);
          continue;
        }
        if (wide[h] !== expected || back[h] !== h)
          expect.fail(
            `${dtype} 0x${h.toString(16)}: widened ${wide[h]} (expected ${expected}), narrowed back to 0x${back[h]!.toString(16)}`,
          );
      }
    },
  );

  it('float16 rounds to nearest even, with subnormals and overflow', () => {
    const cases: Array<[number, number]> = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65519, 0x7bff],
      [65520, 0x7c00],
      [1e6, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000],
      [3 * 2 ** -26, 0x0001],
      [2 ** -14, 0x0400],
      [2 ** -14 - 2 ** -25, 0x0400],
      [1 + 2 ** -11, 0x3c00],
      [1 + 3 * 2 ** -11, 0x3c02],
      [-0, 0x8000],
    ];
    for (const [v, bits] of cases) expect(float16Bits(bitsOf(v)), `float16(${v})`).toBe(bits);
    expect(float16Bits(bitsOf(NaN)) & 0x7fff).toBeGreaterThan(0x7c00);
  });

  it('bfloat16 rounds to nearest even and keeps NaN', () => {
    expect(bfloat16Bits(bitsOf(1))).toBe(0x3f80);
    expect(bfloat16Bits(bitsOf(1 + 2 ** -8))).toBe(0x3f80); // tie to even
    expect(bfloat16Bits(bitsOf(1 + 3 * 2 ** -8))).toBe(0x3f82);
    expect(bfloat16Bits(0x7f800001) & 0x7fff).toBeGreaterThan(0x7f80);
    expect(bfloat16Bits(bitsOf(3.4e38))).toBe(0x7f80); // rounds up to infinity
  });
});

function randomValues(n: number, seed: number, scale = 2): Float32Array {
  const g = new T.Generator(seed);
  return Float32Array.from(g.normal(n, 0, scale));
}

const SHAPES = [[1], [257], [3, 5, 67], [0, 4], [2, 1, 3]];

describe.each(devices)('16-bit tensors on $name', ({ device, isReference }) => {
  for (const dtype of HALVES) {
    const narrowTol =
      device.kind === 'webgpu' && dtype === 'float16' ? { atol: 0, rtol: 2 ** -10 } : { atol: 0, rtol: 0 };

    it(`${dtype}: astype from float32 rounds like the reference; back to float32 is exact`, async () => {
      for (const shape of SHAPES) {
        const n = shape.reduce((p, d) => p * d, 1);
        const values = randomValues(n, n + 1);
        const expectedBits = new Uint16Array(n);
        narrowToHalf(values, dtype, expectedBits);
        const expected = new Float32Array(n);
        widenHalf(expectedBits, dtype, expected);
        const x = T.tensor(values, { device, shape });
        const h = x.astype(dtype);
        expect(h.dtype).toBe(dtype);
        expect([...h.shape]).toEqual(shape);
        expectAllClose(await h.toArray(), expected, narrowTol, `${dtype} ${JSON.stringify(shape)}`);
        const back = h.astype('float32');
        expect(back.dtype).toBe('float32');
        expectAllClose(await back.toArray(), await h.toArray(), { atol: 0, rtol: 0 }, 'widened');
        if (narrowTol.rtol === 0) expect(Array.from(await h.toBits())).toEqual(Array.from(expectedBits));
        for (const t of [x, h, back]) t.dispose();
      }
    });

    it(`${dtype}: upload, read and views (odd offsets, transposes, contiguous copies, to())`, async () => {
      const [R, C] = [7, 9];
      const bits = new Uint16Array(R * C);
      narrowToHalf(randomValues(R * C, 5), dtype, bits);
      const wide = new Float32Array(R * C);
      widenHalf(bits, dtype, wide);
      const t = T.tensor(bits, { device, shape: [R, C], dtype });
      expect(Array.from(await t.toBits())).toEqual(Array.from(bits));
      expectAllClose(await t.toArray(), wide, { atol: 0, rtol: 0 }, 'read');
      // Row 3, columns 1..7: starts at an odd element.
      const s = t.slice(0, 3, 4).slice(1, 1, 8);
      expect(Array.from(await s.toBits())).toEqual(Array.from(bits.subarray(3 * C + 1, 3 * C + 8)));
      const tt = t.transpose();
      const c = tt.contiguous();
      const expectedT = Array.from({ length: R * C }, (_, i) => bits[(i % R) * C + Math.floor(i / R)]!);
      expect(Array.from(await tt.toBits())).toEqual(expectedT);
      expect(Array.from(await c.toBits())).toEqual(expectedT);
      const moved = await t.to(T.cpu);
      expect(moved.dtype).toBe(dtype);
      expect(Array.from(await moved.toBits())).toEqual(Array.from(bits));
      const z = T.full([5], 1.5, { device, dtype });
      expect(Array.from(await z.toArray())).toEqual([1.5, 1.5, 1.5, 1.5, 1.5]);
      for (const v of [t, s, tt, c, moved, z]) v.dispose();
    });

    it(`${dtype}: matmul with a 16-bit weight matches float32 matmul on the widened weight`, async () => {
      const cases: Array<[number, number, number, boolean, boolean]> = [
        [1, 1, 1, false, false],
        [1, 257, 65, false, true],
        [1, 64, 129, true, false],
        [3, 17, 7, false, false],
        [9, 33, 65, true, true],
        [33, 257, 31, false, true],
        [70, 40, 130, true, false],
      ];
      for (const [M, K, N, transB, withBias] of cases) {
        const a = T.tensor(randomValues(M * K, M + K), { device, shape: [M, K] });
        const wShape = transB ? [N, K] : [K, N];
        const w16 = T.tensor(randomValues(K * N, N + 7, 0.5), { device, shape: wShape }).astype(dtype);
        const w32 = w16.astype('float32');
        const bias = withBias ? T.tensor(randomValues(N, 3), { device, shape: [N] }) : undefined;
        const got = T.matmul(a, w16, { transB, bias });
        expect(got.dtype).toBe('float32');
        // The oracle: the CPU reference's float32 matmul on the same (exactly widened) weight.
        const ref = T.matmul(await a.to(T.cpu), await w32.to(T.cpu), {
          transB,
          bias: bias ? await bias.to(T.cpu) : undefined,
        });
        const expected = await ref.toArray();
        const scale = Math.max(...Array.from(expected, Math.abs), 1);
        expectAllClose(
          await got.toArray(),
          expected,
          { atol: (2e-6 * K + 1e-6) * scale, rtol: 0 },
          `${M}x${K}x${N} transB=${transB}`,
        );
        // Batched: (2, M, K) @ (K, N) through the flattened path.
        const a3 = T.tensor(randomValues(2 * M * K, 9), { device, shape: [2, M, K] });
        const got3 = T.matmul(a3, w16, { transB });
        const ref3 = T.matmul(await a3.to(T.cpu), await w32.to(T.cpu), { transB });
        expectAllClose(
          await got3.toArray(),
          await ref3.toArray(),
          { atol: (2e-6 * K + 1e-6) * 8, rtol: 1e-5 },
          'batched',
        );
        for (const t of [a, w16, w32, got, ref, a3, got3, ref3, ...(bias ? [bias] : [])]) t.dispose();
      }
    });

    it(`${dtype}: the embedding gather from a 16-bit table widens exactly`, async () => {
      const [V, C] = [11, 13];
      const table = T.tensor(randomValues(V * C, 2), { device, shape: [V, C] }).astype(dtype);
      const ids = T.tensor(
        [
          [3, 0, 10],
          [3, 7, 1],
        ],
        { device, dtype: 'int32' },
      );
      const out = T.embedding(table, ids);
      expect(out.dtype).toBe('float32');
      expect([...out.shape]).toEqual([2, 3, C]);
      const wide = await table.toArray();
      const expected = [3, 0, 10, 3, 7, 1].flatMap((id) => Array.from(wide.subarray(id * C, (id + 1) * C)));
      expectAllClose(await out.toArray(), expected, { atol: 0, rtol: 0 }, 'gathered rows');
      for (const t of [table, ids, out]) t.dispose();
    });

    it(`${dtype}: ops that compute refuse 16-bit tensors with a hint`, () => {
      const h = T.zeros([2, 3], { device, dtype });
      expect(() => T.add(h, h)).toThrow(DTypeError);
      expect(() => T.add(h, h)).toThrow(/hold weights only; convert with astype\('float32'\)/);
      expect(() => T.matmul(h, h.transpose())).toThrow(DTypeError);
      h.dispose();
    });
  }

  it.runIf(device.kind === 'cpu')(
    'float16 subnormals survive upload, widening and the matmul/gather kernels',
    async () => {
      const bits = Uint16Array.from([0x0001, 0x03ff, 0x8001, 0x0200, 0x3c00, 0x0000]);
      const t = T.tensor(bits, { device, shape: [6, 1], dtype: 'float16' });
      const expected = Array.from(bits, (h) => decode(h, 'float16'));
      expect(Array.from(await t.astype('float32').toArray())).toEqual(expected.map(Math.fround));
      const one = T.ones([1, 1], { device });
      const product = T.matmul(one, t.reshape([1, 6]));
      expect(Array.from(await product.toArray())).toEqual(expected.map(Math.fround));
      const rows = T.embedding(t, T.tensor([0, 1, 2], { device, dtype: 'int32' }));
      expect(Array.from(await rows.toArray())).toEqual(expected.slice(0, 3).map(Math.fround));
      void isReference;
    },
  );
});
