/**
 * The matmul's tile table: which tile shapes matmul.wgsl is specialised to (its WG_X, WG_Y,
 * WIDE_M and WIDE_N override constants), per adapter, and how a product's shape picks one.
 * docs/webgpu-kernels.md explains the figures behind each row.
 */

/** One tile: `threadsX` x `threadsY` invocations, each owning 4 or 8 rows by 4 or 8 columns of C. */
export interface MatmulTile {
  readonly threadsX: number;
  readonly threadsY: number;
  /** 8 rows per invocation (else 4). */
  readonly wideM: boolean;
  /** 8 columns per invocation (else 4). */
  readonly wideN: boolean;
}

/** How one adapter runs the matmul. */
export interface MatmulProfile {
  /** For messages and the bench: which row of the table this is. */
  readonly name: string;
  /** Tiles from the most work per invocation to the least: the first that makes `minWorkgroups` workgroups is used, else the last. */
  readonly tiles: readonly MatmulTile[];
  /** Fewer workgroups than this with the largest tile: try the next tile. */
  readonly minWorkgroups: number;
  /** Fewer workgroups than this with the chosen tile and K >= 2048: split K (matmul.ts). */
  readonly splitKBelow: number;
  /** Largest K one dispatch may loop over (llvmpipe's loop-iteration cap); Infinity elsewhere. */
  readonly maxKPerDispatch: number;
  /**
   * Products of at most 4 rows (decoding) in matvec_splitk.wgsl's split-K layout (a workgroup a
   * few columns, its invocations striding over K): GPUs need that many loads in flight. False
   * on software adapters, which keep matvec.wgsl's layout (an invocation walks K for its own
   * columns, no barriers): they run invocations as CPU loops and a barrier costs more there
   * than the arithmetic (docs/webgpu-kernels.md, "The split-K matvec").
   */
  readonly matvecSplitK: boolean;
}

/** Rows and columns of C a tile computes. */
export function tileRows(tile: MatmulTile): number {
  return tile.threadsY * 4 * (tile.wideM ? 2 : 1);
}
export function tileCols(tile: MatmulTile): number {
  return tile.threadsX * 4 * (tile.wideN ? 2 : 1);
}

const T128x128: MatmulTile = { threadsX: 16, threadsY: 16, wideM: true, wideN: true };
const T64x128: MatmulTile = { threadsX: 16, threadsY: 8, wideM: true, wideN: true };
const T64x64_8x8: MatmulTile = { threadsX: 8, threadsY: 8, wideM: true, wideN: true };
const T64x64_4x4: MatmulTile = { threadsX: 16, threadsY: 16, wideM: false, wideN: false };

/**
 * The table. Hardware GPUs: 8x8 outputs per invocation (16 FMAs per 4 shared-memory vec4 loads,
 * twice the old 4x4 kernel's ratio) in the largest tile that still gives a wave of workgroups
 * (128, about one workgroup per SM of a large GPU: an H100 has 132; a guess, no GPU has run
 * this yet). SwiftShader: measured with the kernel bench (docs/webgpu-kernels.md): 8x8 blocks
 * run the 124M step's products 1.4-1.5x faster than the old 4x4 kernel and 1.8x faster than
 * this kernel's 4x4 tile (fewer workgroup-memory reads and barriers per FMA: SwiftShader runs
 * 4 invocations per SIMD vector and switches coroutines at every barrier); 64x128 and 64x64
 * were within noise of each other, and the smaller one serves outputs of fewer than 4 tiles.
 * llvmpipe: the same tiles (a CPU too, 8 invocations per SIMD vector; measured 1.6-1.8x the old
 * kernel on three products), plus its loop cap.
 * On hardware the last resort is the old kernel's shape, 64x64 from 256 invocations of 4x4:
 * as many workgroups as a 64x64 tile of 8x8 blocks, with 4 times the invocations each.
 */
export const MATMUL_PROFILES = {
  hardware: {
    name: 'hardware',
    tiles: [T128x128, T64x128, T64x64_4x4],
    minWorkgroups: 128,
    splitKBelow: 32,
    maxKPerDispatch: Number.POSITIVE_INFINITY,
    matvecSplitK: true,
  },
  swiftshader: {
    name: 'swiftshader',
    tiles: [T64x128, T64x64_8x8],
    minWorkgroups: 4,
    splitKBelow: 16,
    maxKPerDispatch: Number.POSITIVE_INFINITY,
    matvecSplitK: false,
  },
  llvmpipe: {
    name: 'llvmpipe',
    tiles: [T64x128, T64x64_8x8],
    minWorkgroups: 4,
    splitKBelow: 16,
    // llvmpipe stops a loop after 65535 iterations per invocation; the K loop runs K / 16 times
    // a dispatch, and 16,384 keeps it and the smaller loops far from the cap.
    maxKPerDispatch: 16384,
    matvecSplitK: false,
  },
} as const satisfies Record<string, MatmulProfile>;

/** The row of the table for an adapter, from its vendor, architecture, device and description text. */
export function matmulProfileFor(adapterText: string): MatmulProfile {
  if (/llvmpipe|softpipe/i.test(adapterText)) return MATMUL_PROFILES.llvmpipe;
  if (/swiftshader/i.test(adapterText)) return MATMUL_PROFILES.swiftshader;
  return MATMUL_PROFILES.hardware;
}

/** Vector loads per invocation per slab of 16 (1, 2 or 4: what matmul.wgsl unrolls), or 0 for a tile it cannot run. */
function loadsPerSlab(rowsOrCols: number, threads: number): number {
  const loads = (rowsOrCols * 4) / threads;
  return loads === 1 || loads === 2 || loads === 4 ? loads : 0;
}

/** Whether matmul.wgsl can run `tile` within `maxWorkgroupBytes` of workgroup memory. */
export function tileIsValid(tile: MatmulTile, maxWorkgroupBytes = 16384): boolean {
  const threads = tile.threadsX * tile.threadsY;
  const bytes = (tileRows(tile) + tileCols(tile)) * 16 * 4;
  return (
    loadsPerSlab(tileRows(tile), threads) > 0 && loadsPerSlab(tileCols(tile), threads) > 0 && bytes <= maxWorkgroupBytes
  );
}

/** The tile for an M x N product of `batch` entries (see MatmulProfile.tiles). */
export function pickTile(profile: MatmulProfile, M: number, N: number, batch: number): MatmulTile {
  const workgroups = (t: MatmulTile) => Math.ceil(M / tileRows(t)) * Math.ceil(N / tileCols(t)) * batch;
  for (const tile of profile.tiles) if (workgroups(tile) >= profile.minWorkgroups) return tile;
  return profile.tiles[profile.tiles.length - 1]!;
}
