// The PyTorch-compatible generator (torch-random.ts) against Debian's torch 1.13
// (test/fixtures/torch-rng.json, written by scripts/golden_torch_rng.py).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/torch-rng.json', import.meta.url), 'utf8'));

interface Summary {
  n: number;
  first: number[];
  last: number[];
  sum: number;
  sha256: string;
  values?: number[];
  strided?: number[];
  stride?: number;
}

const sha = (a: Float32Array) =>
  createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');
const sum64 = (a: Float32Array) => a.reduce((s, v) => s + v, 0);

/** Elements that differ from the fixture's and the largest difference, over the values it stores. */
function compareStored(a: Float32Array, s: Summary): { compared: number; differ: number; worst: number } {
  const pairs: Array<[number, number]> = [];
  if (s.values) s.values.forEach((v, i) => pairs.push([a[i]!, v]));
  else {
    s.first.forEach((v, i) => pairs.push([a[i]!, v]));
    s.last.forEach((v, i) => pairs.push([a[a.length - s.last.length + i]!, v]));
    s.strided?.forEach((v, i) => pairs.push([a[i * s.stride!]!, v]));
  }
  let differ = 0;
  let worst = 0;
  for (const [x, y] of pairs) {
    if (x !== y) differ++;
    worst = Math.max(worst, Math.abs(x - y));
  }
  return { compared: pairs.length, differ, worst };
}

describe('TorchGenerator (MT19937 as torch.manual_seed)', () => {
  it("draws the sheet's first five words after seed 123", () => {
    const g = new T.TorchGenerator(123);
    expect(Array.from(g.words(5))).toEqual([0xb24bcdfe, 0xb6843d6d, 0x49406d7e, 0x6db04542, 0x3a12efdc]);
  });

  it('int64 random_() after several seeds (only the low 32 bits of a seed count)', () => {
    for (const { seed, values } of fixture.int64) {
      const g = new T.TorchGenerator(seed);
      expect(values.map(() => g.randomInt64().toString())).toEqual(values);
    }
  });

  it('uniform_ of sizes 1, 15, 16, 17 and 1000003 bit for bit, and the next draw after it', () => {
    for (const u of fixture.uniform) {
      const g = new T.TorchGenerator(u.seed);
      const a = new Float32Array(u.n);
      g.uniform_(a, u.low, u.high);
      expect(sha(a), `seed ${u.seed} n ${u.n}`).toBe(u.sha256);
      expect(sum64(a)).toBe(u.sum);
      const next = new Float32Array(1);
      g.uniform_(next);
      expect(next[0]).toBe(u.after);
    }
  });

  it('normal_ (the scalar build) within 2e-6 of the AVX2 build, and the same words used', () => {
    const report: string[] = [];
    for (const u of fixture.normal) {
      const g = new T.TorchGenerator(u.seed);
      const a = new Float32Array(u.n);
      if (u.n < 16) {
        expect(() => g.normal_(a, u.mean, u.std)).toThrow(RangeError);
        continue;
      }
      g.normal_(a, u.mean, u.std);
      const { compared, differ, worst } = compareStored(a, u);
      report.push(`n ${u.n}: ${differ}/${compared} differ, worst ${worst.toExponential(1)}`);
      expect(worst, `seed ${u.seed} n ${u.n}`).toBeLessThanOrEqual(2e-6 * u.std * 4);
      expect(Math.abs(sum64(a) - u.sum)).toBeLessThan(1e-6 * u.n);
      const next = new Float32Array(1);
      g.uniform_(next);
      expect(next[0]).toBe(u.after);
    }
    expect(report.length).toBeGreaterThan(0);
  });

  it('randperm with a generator seeded from an int64 (as the DataLoader seeds its sampler)', () => {
    for (const { seed, n, perm } of fixture.randperm) expect(new T.TorchGenerator(seed).randperm(n)).toEqual(perm);
  });

  it("dropout's keep mask, every element drawing two words (p = 0 included)", () => {
    for (const d of fixture.dropout) {
      const g = new T.TorchGenerator(d.seed);
      const n = d.shape.reduce((a: number, b: number) => a * b, 1);
      const keep = g.dropoutKeep(n, d.p);
      expect(Array.from(keep).join('')).toBe(d.keep);
      const next = new Float32Array(1);
      g.uniform_(next);
      expect(next[0]).toBe(d.after);
      if (d.p > 0) expect(d.scale).toBe(Math.fround(1 / (1 - d.p)));
    }
  });

  it('the WebAssembly bulk draws equal the JavaScript ones: odd start words, chunk edges, awkward sizes', () => {
    // Both paths from the same state; the fixture holds the JavaScript path to PyTorch.
    const draw = (wasm: boolean, skip: number, f: (g: T.TorchGenerator) => ArrayLike<number>) => {
      const saved = T.TorchGenerator.useWasm;
      T.TorchGenerator.useWasm = wasm;
      try {
        const g = new T.TorchGenerator(77);
        for (let i = 0; i < skip; i++) g.random();
        return [Array.from(f(g)), g.random()];
      } finally {
        T.TorchGenerator.useWasm = saved;
      }
    };
    // Chunks: 16,384 elements (32,768 words) a call; 624 words a twist.
    for (const skip of [0, 1, 311, 623]) {
      for (const n of [64, 65, 623, 625, 16_383, 16_384, 16_385, 32_768 + 17, 100_003]) {
        expect(
          draw(true, skip, (g) => g.dropoutKeep(n, 0.1)),
          `keep ${skip} ${n}`,
        ).toEqual(draw(false, skip, (g) => g.dropoutKeep(n, 0.1)));
        expect(
          draw(true, skip, (g) => g.words(n)),
          `words ${skip} ${n}`,
        ).toEqual(draw(false, skip, (g) => g.words(n)));
      }
    }
    // Thresholds whose low word is near its ends, and one (1 - p below 1/2) that is no integer.
    for (const p of [0.5, 0.7, 1e-12, 1 - 1e-12, 0.3]) {
      expect(
        draw(true, 5, (g) => g.dropoutKeep(4099, p)),
        `p ${p}`,
      ).toEqual(draw(false, 5, (g) => g.dropoutKeep(4099, p)));
    }
    const uniform = (g: T.TorchGenerator) => {
      const out = new Float32Array(70_001);
      g.uniform_(out, -0.5, 0.25);
      return out;
    };
    expect(draw(true, 3, uniform)).toEqual(draw(false, 3, uniform));
  });

  it('a host-drawn keep mask: the fast CPU applies it to the bit as the reference does', async () => {
    // NaN, infinities and signed zeros where dropped (0 * x), odd sizes, and a view at an offset.
    for (const n of [1, 7, 1000, 393_217]) {
      const values = Array.from({ length: n }, (_, i) =>
        i % 97 === 0 ? Number.NaN : i % 89 === 0 ? -Infinity : i % 83 === 0 ? -0 : Math.sin(i) * 3,
      );
      for (const p of [0.1, 0.5, 0.99]) {
        const mask = T.drawDropoutMask(p, new T.TorchGenerator(n), n);
        const [a, b] = await Promise.all(
          [T.cpu, T.fastCpu].map(async (device) => {
            const x = T.tensor([0, ...values], { device }).slice(0, 1, n + 1);
            return Array.from(await T.applyDropoutMask(x, mask).toArray(), (v) =>
              Object.is(v, -0) ? '-0' : String(v),
            );
          }),
        );
        expect(b, `n ${n} p ${p}`).toEqual(a);
      }
    }
  });

  it('multinomial(probs, 1): 20 draws of rows of 10, 1000 and 50257 probabilities', () => {
    for (const m of fixture.multinomial) {
      const bytes = Buffer.from(m.probs, 'base64');
      const probs = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      expect(sha(probs)).toBe(m.probsSha256);
      const g = new T.TorchGenerator(m.seed);
      expect(m.picks.map(() => g.multinomial1(probs))).toEqual(m.picks);
    }
  });

  it('saves and restores its state mid-block', () => {
    const g = new T.TorchGenerator(9);
    g.words(1000);
    const saved = JSON.parse(JSON.stringify(g.state));
    const a = g.words(700);
    const h = new T.TorchGenerator(0);
    h.state = saved;
    expect(h.words(700)).toEqual(a);
    expect(() => {
      h.state = { ...saved, words: [1, 2] };
    }).toThrow(RangeError);
  });

  it('rejects bad seeds with one clear error', () => {
    expect(() => new T.TorchGenerator(-1)).toThrow(/seed must be/);
    expect(() => new T.TorchGenerator(1.5)).toThrow(/seed must be/);
  });
});
