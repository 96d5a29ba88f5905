// The register-tiled matmul (matmul.wgsl) in every tile of the table (matmul-tiles.ts), on this
// adapter, against the CPU reference: every transpose combination, sizes that divide the tile
// (FULL, no bounds checks; vec4 loads) and sizes that do not (1, 5, 7, 63, 65), the widths of
// GPT-2 (768, 3,072, a 50,257-wide head), K above the old 16,384 cap, 16-bit weights, bias and
// the split-K path. Each tile runs on this one device by replacing its matmul profile.
import { afterAll, describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import type { WebGPUBackend } from '../../packages/tensor/src/webgpu/backend.js';
import {
  MATMUL_PROFILES,
  type MatmulProfile,
  type MatmulTile,
  matmulProfileFor,
  pickTile,
  tileCols,
  tileIsValid,
  tileRows,
} from '../../packages/tensor/src/webgpu/matmul-tiles.js';
import { webgpuForTests } from '../helpers/devices.js';
import { expectParity } from '../helpers/parity.js';

const gpu = await webgpuForTests();
const backend = gpu ? (gpu.backend as WebGPUBackend) : null;
const original = backend?.matmulProfile;
if (gpu) console.log(`WebGPU adapter under test: ${gpu.info.description}; matmul profile ${original!.name}`);

// float32 sums of K products of N(0,1) values, in another order than the reference's: the
// error grows with K (about eps * K in the worst case), so the tolerance does too.
const tol = (K: number) => ({ atol: 1e-5 + 2e-7 * K, rtol: 1e-5 });

/** Every distinct tile of the table. */
const TILES: MatmulTile[] = [];
for (const profile of Object.values(MATMUL_PROFILES) as MatmulProfile[])
  for (const tile of profile.tiles)
    if (!TILES.some((t) => JSON.stringify(t) === JSON.stringify(tile))) TILES.push(tile);

const name = (t: MatmulTile) =>
  `${tileRows(t)}x${tileCols(t)} (${t.threadsY}x${t.threadsX} invocations of ${t.wideM ? 8 : 4}x${t.wideN ? 8 : 4})`;

/** A profile that always runs `tile`, never splits K, with this adapter's K cap. */
function only(tile: MatmulTile, splitKBelow = 0): MatmulProfile {
  return {
    name: name(tile),
    tiles: [tile],
    minWorkgroups: 1,
    splitKBelow,
    maxKPerDispatch: original!.maxKPerDispatch,
    matvecSplitK: original!.matvecSplitK,
  };
}

function product(M: number, K: number, N: number, transA: boolean, transB: boolean, dtype?: 'float16' | 'bfloat16') {
  return (device: T.Device, g: T.Generator) => {
    const a = T.randn(transA ? [K, M] : [M, K], { device, generator: g });
    const w = T.randn(transB ? [N, K] : [K, N], { device, generator: g });
    return T.matmul(a, dtype ? w.astype(dtype) : w, { transA, transB });
  };
}

describe('the tile table', () => {
  it('has only tiles matmul.wgsl can run in 16 KiB of workgroup memory', () => {
    for (const tile of TILES) expect(tileIsValid(tile), name(tile)).toBe(true);
    expect(tileIsValid({ threadsX: 16, threadsY: 16, wideM: true, wideN: false })).toBe(true);
    expect(tileIsValid({ threadsX: 32, threadsY: 16, wideM: true, wideN: true }), '32 KiB of slabs').toBe(false);
    expect(tileIsValid({ threadsX: 4, threadsY: 4, wideM: true, wideN: true }), '8 loads a slab').toBe(false);
  });

  it('picks the row by adapter name, and the K cap only on llvmpipe', () => {
    expect(matmulProfileFor('Google SwiftShader Device (Subzero)').name).toBe('swiftshader');
    expect(matmulProfileFor('mesa llvmpipe (LLVM 15.0.6, 256 bits)').name).toBe('llvmpipe');
    expect(matmulProfileFor('nvidia hopper NVIDIA H100 80GB HBM3').name).toBe('hardware');
    expect(MATMUL_PROFILES.llvmpipe.maxKPerDispatch).toBe(16384);
    expect(MATMUL_PROFILES.swiftshader.maxKPerDispatch).toBe(Number.POSITIVE_INFINITY);
    expect(MATMUL_PROFILES.hardware.maxKPerDispatch).toBe(Number.POSITIVE_INFINITY);
  });

  it('gives a small output a smaller tile so that it still fills the GPU', () => {
    const hw = MATMUL_PROFILES.hardware;
    expect(pickTile(hw, 4096, 4096, 1)).toEqual(hw.tiles[0]);
    expect(tileRows(pickTile(hw, 512, 768, 1)) * tileCols(pickTile(hw, 512, 768, 1))).toBeLessThan(128 * 128);
  });
});

describe.runIf(gpu)('the register-tiled matmul in every tile matches the CPU reference', () => {
  afterAll(() => backend?.setMatmulProfile(original!));

  // [M, K, N]: off the tile in every way, one element, and whole tiles (no bounds checks, vec4).
  const cases: Array<[number, number, number]> = [
    [5, 7, 63],
    [65, 63, 7],
    [63, 65, 65],
    [7, 1, 5],
    [128, 64, 128],
    [256, 32, 128],
  ];
  for (const tile of TILES) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`${name(tile)}, transA=${transA}, transB=${transB}`, async () => {
          backend!.setMatmulProfile(only(tile));
          for (const [M, K, N] of cases)
            await expectParity(gpu!, product(M, K, N, transA, transB), tol(K), `${M}x${K}x${N}`);
        });
      }
    }
  }

  for (const tile of TILES) {
    it(`${name(tile)}: GPT-2's widths, bias, batches, float16 and bfloat16 weights`, async () => {
      backend!.setMatmulProfile(only(tile));
      await expectParity(gpu!, product(65, 768, 3072, false, false), tol(768), '65x768x3072');
      await expectParity(gpu!, product(63, 3072, 768, false, true), tol(3072), '63x3072x768 (dx)');
      await expectParity(gpu!, product(768, 65, 768, true, false), tol(65), '768x65x768 (dw)');
      await expectParity(
        gpu!,
        (device, g) =>
          T.matmul(T.randn([70, 40], { device, generator: g }), T.randn([128, 40], { device, generator: g }), {
            transB: true,
            bias: T.randn([128], { device, generator: g }),
          }),
        tol(40),
        'bias',
      );
      await expectParity(
        gpu!,
        (device, g) =>
          T.matmul(
            T.randn([2, 3, 65, 16], { device, generator: g }),
            T.randn([2, 3, 65, 16], { device, generator: g }).transpose(-2, -1),
          ),
        tol(16),
        'batched q @ k^T',
      );
      for (const dtype of ['float16', 'bfloat16'] as const) {
        await expectParity(gpu!, product(64, 128, 128, false, false, dtype), tol(128), `${dtype} B, whole tiles`);
        await expectParity(gpu!, product(7, 65, 63, false, true, dtype), tol(65), `${dtype} B^T, ragged`);
      }
    });
  }

  it("a 50,257-wide output (GPT-2's head) and its gradients, in this adapter's own tiles", async () => {
    backend!.setMatmulProfile(original!);
    await expectParity(gpu!, product(7, 64, 50257, false, true), tol(64), 'head 7x64x50257');
    await expectParity(gpu!, product(64, 50257, 5, false, false), tol(50257), 'head dx, K = 50257 (split K)');
    await expectParity(gpu!, product(65, 33, 64, true, false), tol(33), 'dw');
  });

  it('K above the old 16,384 cap in one dispatch (llvmpipe: cut at its cap and accumulated)', async () => {
    const tile = original!.tiles[0]!;
    backend!.setMatmulProfile(only(tile));
    await expectParity(gpu!, product(9, 20000, 17, false, false), tol(20000), '9x20000x17');
    await expectParity(gpu!, product(9, 20000, 17, true, true), tol(20000), '9x20000x17, both transposed');
    const a = T.randn([9, 20000], { device: gpu! });
    const b = T.randn([20000, 17], { device: gpu! });
    const before = backend!.counters.dispatches;
    const c = T.matmul(a, b);
    const dispatches = backend!.counters.dispatches - before;
    expect(dispatches, 'one dispatch, or one per 16,384 of K on llvmpipe').toBe(
      original!.maxKPerDispatch === 16384 ? 2 : 1,
    );
    for (const t of [a, b, c]) t.dispose();
    // And split K, for a small output over a long K.
    backend!.setMatmulProfile(only(tile, 16));
    await expectParity(gpu!, product(9, 20000, 17, false, true), tol(20000), 'split K');
  });
});
