// The fast CPU backend against the reference, on awkward shapes (its elementwise kernels and
// GELU are in test/devices/elementwise.test.ts, with every device): for matmul, sizes off the
// 4 x 8 micro-tile and the 128 x 256 cache blocks, K beyond one block, the small-M (decoding)
// paths, transposed views, broadcast batches, the bias epilogue, and products large enough to
// be split across worker threads (by rows, and by columns for a single row); both builds of
// the kernel (relaxed-SIMD fused multiply-add, plain SIMD); and the WebAssembly heap the
// backend keeps its tensors in, with the typed-array fallback past its limit.
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { expectAllClose } from '../helpers/allclose.js';

// float32 accumulation against the reference's float64: error ~ sqrt(K) eps |terms|.
const TOL = { atol: 2e-4, rtol: 1e-5 };

interface MatmulCase {
  transA?: boolean;
  transB?: boolean;
  bias?: number;
  device?: T.Device;
}

async function compareOn(sa: number[], sb: number[], options: MatmulCase = {}): Promise<void> {
  const build = (device: T.Device) => {
    const g = new T.Generator(3);
    const a = T.randn(sa, { device, generator: g });
    const b = T.randn(sb, { device, generator: g });
    const bias = options.bias ? T.randn([options.bias], { device, generator: g }) : undefined;
    return T.matmul(a, b, { transA: options.transA, transB: options.transB, bias });
  };
  const expected = await build(T.cpu).toArray();
  const actual = await build(options.device ?? T.fastCpu).toArray();
  expectAllClose(
    actual,
    expected,
    TOL,
    `matmul ${sa} @ ${sb} ${JSON.stringify({ ...options, device: options.device?.info.description })}`,
  );
}

// The WebAssembly kernels themselves: a backend without the native addon (test/tensor/native.test.ts has the addon's).
const wasmOnly = new T.Device(T.createFastCpuBackend({ native: false }), {
  kind: 'cpu',
  description: 'fast CPU, WebAssembly matmul',
});

describe('fast CPU matmul (WebAssembly SIMD) matches the reference', () => {
  const compare = (sa: number[], sb: number[], options: MatmulCase = {}) =>
    compareOn(sa, sb, { device: wasmOnly, ...options });
  it('general shapes and block edges', async () => {
    expect((wasmOnly.backend as T.FastCpuBackend).runtime().native).toBeNull();
    await compare([1, 1], [1, 1]);
    await compare([9, 13], [13, 17]);
    await compare([130, 300], [300, 45]);
    await compare([129, 257], [257, 9], { bias: 9 });
  });
  it('every transpose combination', async () => {
    for (const [transA, transB] of [
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      await compare(transA ? [70, 33] : [33, 70], transB ? [21, 70] : [70, 21], { transA, transB });
    }
  });
  it('small M (decoding): row-contiguous and column-contiguous B, and the fallback', async () => {
    await compare([1, 300], [300, 77]);
    await compare([2, 7], [7, 13], { bias: 13 }); // K off the four-row step, N off the vector
    await compare([1, 3], [3, 5]);
    await compare([3, 300], [77, 300], { transB: true, bias: 77 });
    await compare([300, 2], [300, 77], { transA: true });
  });
  it('products split across threads: by rows, and by columns for decoding', async () => {
    await compare([257, 300], [300, 130], { bias: 130 });
    await compare([1, 2000], [2000, 701]);
    await compare([3, 2000], [901, 2000], { transB: true });
    await compare([2, 3, 50, 300], [300, 90]);
  });
  it('batched, with a broadcast operand', async () => {
    await compare([2, 3, 9, 8], [8, 5]);
    await compare([2, 1, 6, 7], [3, 7, 4]);
    await compare([4, 5, 6], [4, 7, 6], { transB: true });
  });
});

const fastBackend = (device: T.Device) => device.backend as T.FastCpuBackend;

describe('the two builds of the matmul kernel', () => {
  const plain = new T.Device(T.createFastCpuBackend({ relaxedSimd: false, native: false }), {
    kind: 'cpu',
    description: 'fast CPU, plain SIMD',
  });
  it('runs the relaxed-SIMD (fused multiply-add) build on this Node, the plain one when asked', () => {
    expect(fastBackend(T.fastCpu).runtime().relaxedSimd).toBe(true);
    expect(fastBackend(plain).runtime().relaxedSimd).toBe(false);
  });
  const compare = compareOn;
  it('the plain-SIMD build matches the reference too', async () => {
    await compare([129, 257], [257, 9], { bias: 9, device: plain });
    await compare([70, 33], [21, 70], { transA: true, transB: true, device: plain });
    await compare([1, 2000], [2000, 701], { device: plain });
    await compare([3, 300], [77, 300], { transB: true, bias: 77, device: plain });
  });
});

describe('the WebAssembly heap of the fast CPU backend', () => {
  it('reuses the block of a disposed tensor', () => {
    const backend = fastBackend(T.fastCpu);
    T.zeros([1000, 3], { device: T.fastCpu }).dispose();
    const before = backend.heapBytes();
    for (let i = 0; i < 5; i++) T.ones([3, 1000], { device: T.fastCpu }).dispose();
    expect(backend.heapBytes()).toBe(before);
  });
  it('keeps tensors past its limit in typed arrays, and matmul copies them in', async () => {
    // 512 pages = 32 MiB, of which tensors may take 28 MiB: the fillers take 27.5 (sizes that
    // are their own size class), and the operands below no longer fit.
    const device = new T.Device(T.createFastCpuBackend({ maximumPages: 512 }), {
      kind: 'cpu',
      description: 'fast CPU, 32 MiB heap',
    });
    const fillers = [T.zeros([24 * 2 ** 18], { device }), T.zeros([3.5 * 2 ** 18], { device })];
    const heapBytes = fastBackend(device).heapBytes();
    await compareOn([400, 300], [300, 500], { bias: 500, device });
    await compareOn([2, 150, 300], [2, 300, 77], { device });
    const afterCopies = fastBackend(device).heapBytes();
    expect(afterCopies).toBeGreaterThan(heapBytes); // the copies and packing buffers
    const outside = fastBackend(device).outsideHeapBytes(); // the comparisons' operands (not disposed)
    const extra = T.zeros([2 ** 18], { device });
    expect(fastBackend(device).heapBytes(), 'a 1 MiB tensor past the limit stays out of the heap').toBe(afterCopies);
    expect(fastBackend(device).outsideHeapBytes(), 'and is counted as outside it').toBe(outside + 2 ** 20);
    const total = T.sum(extra);
    expect(await total.item()).toBe(0);
    total.dispose();
    extra.dispose();
    expect(fastBackend(device).outsideHeapBytes()).toBe(outside);
    for (const t of fillers) t.dispose();
  });
  it('at its limit, places tensors of new sizes in the memory tensors of other sizes freed (not outside the heap)', async () => {
    // What a training step then a 16-bit copy of the model does: the step's activations, freed,
    // are in size classes the 16-bit weights do not use. 512 pages: tensors may take 28 MiB.
    const device = new T.Device(T.createFastCpuBackend({ maximumPages: 512 }), {
      kind: 'cpu',
      description: 'fast CPU, 32 MiB heap',
    });
    const step = Array.from({ length: 13 }, () => T.zeros([2 ** 19], { device })); // 13 x 2 MiB
    for (const t of step) t.dispose();
    const heapBytes = fastBackend(device).heapBytes();
    const copies = Array.from({ length: 9 }, () => T.ones([3 * 2 ** 18], { device, dtype: 'bfloat16' })); // 9 x 1.5 MiB
    const filler = T.zeros([3.5 * 2 ** 20], { device }); // 14 MiB more: only the freed memory can hold the rest
    expect(fastBackend(device).outsideHeapBytes()).toBe(0);
    expect(fastBackend(device).heapBytes()).toBeLessThanOrEqual(Math.max(heapBytes, 28 * 2 ** 20 + 65536));
    const total = T.sum(T.add(filler, 1));
    expect(await total.item()).toBe(3.5 * 2 ** 20); // and kernels run on them in place
    for (const t of [...copies, filler, total]) t.dispose();
  });
});

describe("fast CPU dropout and AdamW (WebAssembly) give the reference's bits", () => {
  const same = async (build: (device: T.Device) => T.Tensor | T.Tensor[], what: string) => {
    const expected = [build(T.cpu)].flat();
    const actual = [build(T.fastCpu)].flat();
    for (const [i, t] of actual.entries())
      expectAllClose(await t.toArray(), await expected[i]!.toArray(), { atol: 0, rtol: 0 }, `${what} output ${i}`);
  };
  it('rand (the uniform kernel): the bits of Generator.uniform, sizes off the 8-element vector, split across threads, one stream taken', async () => {
    for (const n of [0, 1, 2, 7, 8, 9, 15, 100_003]) {
      for (const [low, high] of [
        [0, 1],
        [-0.036, 0.036],
        [3, 3.5],
      ] as const) {
        await same(
          (device) => T.rand([n], { device, generator: new T.Generator(n + 7), low, high }),
          `rand n=${n} [${low}, ${high})`,
        );
        // The host draw (what a backend without the kernel uploads) is the same values.
        const host = Float32Array.from(new T.Generator(n + 7).uniform(n, low, high));
        const g = new T.Generator(n + 7);
        const t = T.rand([n], { device: T.fastCpu, generator: g, low, high });
        expectAllClose(await t.toArray(), host, { atol: 0, rtol: 0 }, `rand n=${n} against Generator.uniform`);
        expect(g.streamPosition, 'one stream per call, empty or not').toBe(1);
        t.dispose();
      }
    }
    await same((device) => T.rand([3, 5, 7], { device, generator: new T.Generator(1) }), 'rand of a 3-d shape');
  });
  it('rand into a tensor outside the heap gives the same values (the reference kernel)', async () => {
    const device = new T.Device(T.createFastCpuBackend({ maximumPages: 512 }), {
      kind: 'cpu',
      description: 'fast CPU, 32 MiB heap',
    });
    const filler = T.zeros([7 * 2 ** 20], { device }); // 28 MiB: the heap's tensor space
    const outside = T.rand([1001], { device, generator: new T.Generator(5), low: -2, high: 2 });
    expect(fastBackend(device).outsideHeapBytes()).toBeGreaterThanOrEqual(1001 * 4);
    expectAllClose(
      await outside.toArray(),
      Float32Array.from(new T.Generator(5).uniform(1001, -2, 2)),
      { atol: 0, rtol: 0 },
      'rand outside the heap',
    );
    for (const t of [filler, outside]) t.dispose();
  });
  it('dropout: the same Threefry mask and scaling, sizes off the 8-element vector, split across threads', async () => {
    for (const n of [1, 2, 7, 8, 9, 100_003]) {
      for (const p of [0, 0.1, 0.5, 0.9, 1]) {
        await same((device) => {
          const g = new T.Generator(n);
          return T.dropout(T.randn([n], { device, generator: g }), p, g).out;
        }, `dropout n=${n} p=${p}`);
      }
    }
    // A strided input is made contiguous first; the mask follows the element order.
    await same((device) => {
      const g = new T.Generator(2);
      return T.dropout(T.randn([5, 7], { device, generator: g }).transpose(), 0.3, g).out;
    }, 'dropout of a transpose');
  });
  it('AdamW: three steps, odd sizes, split across threads', async () => {
    for (const n of [1, 3, 100_003]) {
      await same((device) => {
        const g = new T.Generator(7);
        const param = T.randn([n], { device, generator: g });
        const m = T.zeros([n], { device });
        const v = T.zeros([n], { device });
        for (let step = 1; step <= 3; step++) {
          T.adamwUpdate(param, T.randn([n], { device, generator: g }), m, v, {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weightDecay: 0.1,
            step,
          });
        }
        return [param, m, v];
      }, `adamw n=${n}`);
    }
  });
});

describe('tensors on the reference and the fast CPU', () => {
  it('are refused with both devices named (both are kind "cpu")', () => {
    const a = T.zeros([2], { device: T.cpu });
    const b = T.zeros([2], { device: T.fastCpu });
    expect(() => T.add(a, b)).toThrow(
      `add: tensors are on different devices (${T.cpu.info.description} and ${T.fastCpu.info.description})`,
    );
    a.dispose();
    b.dispose();
  });
});
