// The native CPU kernels (packages/tensor/native, a Node-API addon) against the CPU reference,
// with each instruction set this CPU has (AVX-512, AVX2+FMA): matmul on sizes off the micro-tiles
// (12 x 32 and 6 x 16), the cache blocks (KC 256, MC 144, NC 1024) and the small-M strip (8192),
// K = 0, every transpose, batches with a broadcast operand, products split over the
// threads, and float16/bfloat16 weights; the addon reading the heap's SharedArrayBuffer in place
// and refusing an operand outside it; and the fallback to WebAssembly when the addon is off or
// missing. MINI_GPT_REQUIRE_NATIVE=1 (CI) makes a missing addon a failure, not a skip.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { loadNativeKernels } from '../../packages/tensor/src/node-native.js';
import { expectAllClose } from '../helpers/allclose.js';

const required = process.env.MINI_GPT_REQUIRE_NATIVE === '1';
const loaded = loadNativeKernels({});
if (!loaded.kernels) {
  if (required) throw new Error(`MINI_GPT_REQUIRE_NATIVE=1 but ${loaded.summary}`);
  console.warn(`Skipping the native kernel tests: ${loaded.summary}`);
}
const isas = loaded.kernels
  ? ['avx512', 'avx2'].filter((isa) => loadNativeKernels({ MINI_GPT_NATIVE_ISA: isa }).kernels)
  : [];
const original = T.nativeStatus();

/** A fast CPU device whose matmul runs the addon with `isa` (the addon's choice is process-wide). */
function nativeDevice(isa: string): T.Device {
  const status = loadNativeKernels({ MINI_GPT_NATIVE_ISA: isa });
  T.setNativeKernels(status);
  const device = new T.Device(T.createFastCpuBackend(), { kind: 'cpu', description: `fast CPU, native ${isa}` });
  (device.backend as T.FastCpuBackend).runtime(); // binds the kernels now
  T.setNativeKernels(original);
  return device;
}

const TOL = { atol: 2e-4, rtol: 1e-5 };

interface Case {
  transA?: boolean;
  transB?: boolean;
  bias?: number;
  dtype?: 'float16' | 'bfloat16';
}

async function compare(device: T.Device, sa: number[], sb: number[], options: Case = {}): Promise<void> {
  const build = (d: T.Device, half: boolean) => {
    const g = new T.Generator(5);
    const a = T.randn(sa, { device: d, generator: g });
    let b = T.randn(sb, { device: d, generator: g });
    // The 16-bit weight, and for the oracle the same weight widened back (exact).
    if (options.dtype) b = half ? b.astype(options.dtype) : b.astype(options.dtype).astype('float32');
    const bias = options.bias !== undefined ? T.randn([options.bias], { device: d, generator: g }) : undefined;
    return T.matmul(a, b, { transA: options.transA, transB: options.transB, bias });
  };
  const expected = await build(T.cpu, false).toArray();
  const actual = await build(device, true).toArray();
  expectAllClose(
    actual,
    expected,
    TOL,
    `matmul ${sa} @ ${sb} ${JSON.stringify(options)} on ${device.info.description}`,
  );
}

describe.skipIf(!loaded.kernels)('the native addon', () => {
  it('is what the fast CPU device runs, and says so in its device line', () => {
    expect((T.fastCpu.backend as T.FastCpuBackend).runtime().native).not.toBeNull();
    expect(T.fastCpu.info.description).toMatch(/native (AVX-512|AVX2\+FMA) matmul/);
  });
  it("reads and writes the heap's SharedArrayBuffer in place, and refuses an operand outside it", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
    expect(memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    const heap = new Uint8Array(memory.buffer);
    const f = new Float32Array(memory.buffer);
    f.set([1, 2, 3, 4], 0); // A (2 x 2)
    f.set([5, 6, 7, 8], 4); // B (2 x 2)
    f.set([0.5, -0.5], 12); // bias
    loaded.kernels!.sgemm(heap, [2, 2, 2, 0, 2, 1, 16, 2, 1, 0, 32, 2, 48, 1, 0, 0, 0], 1);
    expect(Array.from(f.subarray(8, 12))).toEqual([19.5, 21.5, 43.5, 49.5]);
    loaded.kernels!.sgemm(heap, [2, 2, 0, 0, 0, 1, 16, 2, 1, 0, 32, 2, 48, 1, 0, 0, 0], 1); // K = 0: the bias alone
    expect(Array.from(f.subarray(8, 12))).toEqual([0.5, -0.5, 0.5, -0.5]);
    expect(() => loaded.kernels!.sgemm(heap, [2, 2, 2, 0, 2, 1, 65530, 2, 1, 0, 32, 2, -1, 1, 0, 0, 0], 1)).toThrow(
      /outside the heap/,
    );
    expect(() => loaded.kernels!.sgemm(heap, [2, 2, 2, 0, 2, 1, 16, 2, 1, 3, 32, 2, -1, 1, 0, 0, 0], 1)).toThrow(
      /bKind/,
    );
    expect(() => loaded.kernels!.sgemm(heap, [2, 2, 2, 0.5, 2, 1, 16, 2, 1, 0, 32, 2, -1, 1, 0, 0, 0], 1)).toThrow(
      /whole number/,
    );
  });
});

// Huge pages (NativeKernels.hugePages): 2 MB pages inside large heap tensors, never past a
// tensor's bytes. Linux's setting decides whether the system takes the advice.
const thp = (() => {
  try {
    return /\[(always|madvise)\]/.test(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'));
  } catch {
    return false;
  }
})();
/** This process's resident anonymous huge pages, in bytes (Linux), or 0. */
function anonHugeBytes(): number {
  try {
    return Number(/AnonHugePages:\s+(\d+) kB/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

describe.skipIf(!loaded.kernels)('huge pages in the heap', () => {
  const MB = 2 ** 20;
  it('hugePages advises whole 2 MB pages inside the range only, and checks its arguments', () => {
    const memory = new WebAssembly.Memory({ initial: 160, maximum: 160, shared: true }); // 10 MB
    const heap = new Uint8Array(memory.buffer);
    // 6 MB holds at least two whole 2 MB pages wherever the buffer starts; 2 MB - 1 byte none.
    expect(loaded.kernels!.hugePages!(heap, 64, 6 * MB)).toBe(thp && process.platform === 'linux');
    expect(loaded.kernels!.hugePages!(heap, 0, 2 * MB - 1)).toBe(false);
    expect(() => loaded.kernels!.hugePages!(heap, 4 * MB, 7 * MB)).toThrow(/outside the heap/);
    expect(() => loaded.kernels!.hugePages!(heap, -1, 10)).toThrow(/outside the heap/);
    expect(() => (loaded.kernels!.hugePages as unknown as (h: unknown) => boolean)(heap)).toThrow(/expected/);
  });
  it.runIf(thp)('a large tensor written in the heap is backed by huge pages', async () => {
    const device = new T.Device(T.createFastCpuBackend(), { kind: 'cpu', description: 'fast CPU, huge pages' });
    const before = anonHugeBytes();
    const t = T.full([16 * MB], 1.5, { device }); // 64 MB, written whole
    expect(anonHugeBytes() - before).toBeGreaterThanOrEqual(32 * MB);
    expect(await T.sum(t).item()).toBe(1.5 * 16 * MB);
    t.dispose();
  });
});

describe.each(isas)('native %s matmul matches the reference', (isa) => {
  const device = nativeDevice(isa);
  it('general shapes, tile and block edges', async () => {
    await compare(device, [1, 1], [1, 1]);
    await compare(device, [13, 7], [7, 33], { bias: 33 });
    await compare(device, [145, 257], [257, 31]);
    await compare(device, [25, 300], [300, 1025], { bias: 1025 });
    await compare(device, [7, 5], [5, 17]);
    await compare(device, [2, 22], [22, 8200], { bias: 8200 }); // past one small-M strip (8192 columns)
  });
  it('K = 0 gives zeros; empty M and N give empty results', async () => {
    await compare(device, [5, 0], [0, 3]);
    await compare(device, [0, 4], [4, 3]);
    await compare(device, [3, 4], [4, 0]);
  });
  it('every transpose combination, in the packed and the small-M kernels', async () => {
    for (const [transA, transB] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      for (const M of [1, 3, 70])
        await compare(device, transA ? [130, M] : [M, 130], transB ? [37, 130] : [130, 37], {
          transA,
          transB,
          bias: 37,
        });
    }
  });
  it('split over threads by rows and by columns; batched with a broadcast operand', async () => {
    await compare(device, [257, 300], [300, 130], { bias: 130 });
    await compare(device, [1, 2000], [2000, 701]);
    await compare(device, [3, 2000], [901, 2000], { transB: true });
    await compare(device, [1, 2000], [901, 2000], { transB: true, bias: 901 }); // decoding's head: four partial sums a row, then the tail
    await compare(device, [4, 6, 40, 64], [4, 6, 64, 40]);
    await compare(device, [2, 1, 6, 7], [3, 7, 4]);
    await compare(device, [4, 5, 6], [4, 7, 6], { transB: true });
  });
  for (const dtype of ['float16', 'bfloat16'] as const) {
    it(`${dtype} weights, widened in registers`, async () => {
      for (const M of [1, 2, 5, 40]) {
        await compare(device, [M, 129], [129, 530], { dtype, bias: 530 });
        await compare(device, [M, 129], [35, 129], { dtype, transB: true });
      }
      await compare(device, [1, 10], [10, 8201], { dtype });
      await compare(device, [2, 3, 20], [20, 17], { dtype, transA: false });
      await compare(device, [20, 6], [20, 9], { dtype, transA: true });
    });
  }
});

describe('the WebAssembly fallback', () => {
  it('MINI_GPT_NATIVE=0 and a missing addon leave no native kernels, with the reason', () => {
    expect(loadNativeKernels({ MINI_GPT_NATIVE: '0' })).toEqual({
      kernels: null,
      summary: 'native kernels off (MINI_GPT_NATIVE=0)',
    });
    expect(loadNativeKernels({}, '/nonexistent/mini_gpt_native.node').summary).toMatch(/not built/);
  });
  it('a backend made without the addon runs matmul in WebAssembly and matches the reference', async () => {
    T.setNativeKernels(loadNativeKernels({ MINI_GPT_NATIVE: '0' }));
    const device = new T.Device(T.createFastCpuBackend(), { kind: 'cpu', description: 'fast CPU, WebAssembly only' });
    expect((device.backend as T.FastCpuBackend).runtime().native).toBeNull();
    T.setNativeKernels(original);
    await compare(device, [129, 257], [257, 33], { bias: 33, transB: false });
    await compare(device, [3, 300], [77, 300], { transB: true });
    await compare(device, [1, 129], [129, 40], { dtype: 'float16' });
    const optOut = new T.Device(T.createFastCpuBackend({ native: false }), {
      kind: 'cpu',
      description: 'native: false',
    });
    expect((optOut.backend as T.FastCpuBackend).runtime().native).toBeNull();
  });
});
