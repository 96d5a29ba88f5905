/**
 * WebGPU glue for matmul.wgsl. A product whose operands exceed one binding window (GPT-2's
 * tied output head reads the 154 MB token embedding) is cut into blocks of batch, M, N and K:
 * each operand's window must hold its block, and K blocks after the first accumulate into C.
 * B may be float16/bfloat16 (matmul.wgsl widens it); windows are counted in its elements.
 * A float16 B on a device with `shader-f16` runs matmul_f16.wgsl (native f16 loads) instead.
 * Products of at most 4 rows run on matvec.wgsl (matvec.ts), block by block like the rest.
 * The others run the register-tiled kernel in the tile the adapter's row of matmul-tiles.ts
 * picks for the block's shape, specialised per dispatch: bounds checks only where the sizes do
 * not divide the tile (FULL), vec4 loads where an operand's alignment allows (VEC_A, VEC_B).
 */
import type { MatmulArgs, MatrixOperand, View } from '../backend.js';
import { DeviceError } from '../errors.js';
import type { BoundRange, WebGPUBackend } from './backend.js';
import { halfKind } from './half.js';
import { MATVEC_MAX_ROWS, matvecLaunch } from './matvec.js';
import { type MatmulTile, pickTile, tileCols, tileRows } from './matmul-tiles.js';
import { Uniforms } from './uniforms.js';

/**
 * The matmul kernel for B's dtype on this device, and its B constant: matmul_f16.wgsl for a
 * float16 B where the device has `shader-f16` (requested in select-device.ts whenever the
 * adapter offers it); matmul.wgsl otherwise (unpack2x16float: every adapter).
 */
export function matmulKernel(
  features: { has(name: string): boolean },
  bDType: View['dtype'],
): { shader: 'matmul' | 'matmul_f16'; constants: Record<string, number> } {
  if (bDType === 'float16' && features.has('shader-f16')) return { shader: 'matmul_f16', constants: {} };
  return { shader: 'matmul', constants: { B_KIND: halfKind(bDType) } };
}

interface Block {
  batch: number;
  M: number;
  N: number;
  K: number;
}

/** Elements an operand's window spans for a block: (rows - 1) * ld + cols, per batch entry. */
function extent(op: MatrixOperand, rowsLogical: number, colsLogical: number, batch: number): number {
  const [outer, inner] = op.transposed ? [colsLogical, rowsLogical] : [rowsLogical, colsLogical];
  return (batch - 1) * op.batchStride + (outer - 1) * op.ld + inner;
}

function blockSize(ctx: WebGPUBackend, args: MatmulArgs): Block {
  const block: Block = {
    batch: Math.min(args.batch, 65535),
    M: args.M,
    N: args.N,
    K: Math.min(args.K, ctx.matmulProfile.maxKPerDispatch),
  };
  const limit = ctx.bindableElements;
  const halve = (key: keyof Block): boolean => {
    if (block[key] <= 1) return false;
    block[key] = Math.ceil(block[key] / 2);
    return true;
  };
  for (;;) {
    if (extent(args.a, block.M, block.K, block.batch) > limit) {
      if (halve('batch') || halve(args.a.transposed ? 'K' : 'M')) continue;
    } else if (extent(args.b, block.K, block.N, block.batch) > limit) {
      if (halve('batch') || halve(args.b.transposed ? 'N' : 'K')) continue;
    } else if ((block.batch - 1) * args.M * args.N + (block.M - 1) * args.N + block.N > limit) {
      if (halve('batch') || halve('M')) continue;
    } else {
      return block;
    }
    throw new DeviceError(
      `WebGPU matmul: one row of an operand exceeds the storage binding limit (${ctx.maxBindingBytes} bytes)`,
    );
  }
}

/** First element of a block of an operand: logical (row, col) in its untransposed form. */
function firstElement(op: MatrixOperand, batch: number, row: number, col: number): number {
  return op.view.offset + batch * op.batchStride + (op.transposed ? col * op.ld + row : row * op.ld + col);
}

/** Split K (below the profile's workgroup count) only when K is at least this long. */
const SPLIT_K_MIN_K = 2048;
const SPLIT_K_CHUNK = 1024;

export function matmul(ctx: WebGPUBackend, args: MatmulArgs): void {
  const { a, b, bias, out, M, N, K } = args;
  const kernel = matmulKernel(ctx.device.features, b.view.dtype);
  const block = blockSize(ctx, args);
  const whole = block.batch === args.batch && block.M === M && block.N === N && block.K === K;
  const tile = pickTile(ctx.matmulProfile, block.M, block.N, block.batch);
  const tiles = Math.ceil(M / tileRows(tile)) * Math.ceil(N / tileCols(tile)) * args.batch;
  const vector = M <= MATVEC_MAX_ROWS;
  const split = !vector && whole && args.batch === 1 && tiles < ctx.matmulProfile.splitKBelow && K >= SPLIT_K_MIN_K;
  const { columnSums } = args;
  if (columnSums && (vector || split || args.batch !== 1 || b.transposed)) {
    // Paths without the tiled kernel's column sums: the product, then one reduction over B's
    // rows (B is (K, N) contiguous there: MatmulArgs.columnSums).
    matmul(ctx, { ...args, columnSums: null });
    ctx.kernels.reduce('sum', b.view, 1, K, N, columnSums);
    return;
  }
  if (split) {
    splitK(ctx, args, tile);
    return;
  }
  for (let p0 = 0; p0 < args.batch; p0 += block.batch) {
    const batch = Math.min(block.batch, args.batch - p0);
    for (let m0 = 0; m0 < M; m0 += block.M) {
      const m = Math.min(block.M, M - m0);
      for (let n0 = 0; n0 < N; n0 += block.N) {
        const n = Math.min(block.N, N - n0);
        for (let k0 = 0; k0 < K; k0 += block.K) {
          const k = Math.min(block.K, K - k0);
          const aRange = ctx.bind(a.view.storage, firstElement(a, p0, m0, k0), extent(a, m, k, batch));
          const bRange = ctx.bind(b.view.storage, firstElement(b, p0, k0, n0), extent(b, k, n, batch));
          const cFirst = out.offset + p0 * M * N + m0 * N + n0;
          const cRange = ctx.bind(out.storage, cFirst, (batch - 1) * M * N + (m - 1) * N + n);
          const biasRange = bias && k0 === 0 ? ctx.bind(bias.storage, bias.offset + n0, n) : null;
          // The column sums of this block's columns, from the blocks of the first rows (K blocks add up).
          const sumsRange = columnSums && m0 === 0 ? ctx.bind(columnSums.storage, columnSums.offset + n0, n) : null;
          const u = new Uniforms()
            .u32(m, n, k, a.ld, b.ld, N)
            .u32(aRange.base, bRange.base, cRange.base, biasRange?.base ?? 0)
            .u32(a.batchStride, b.batchStride, M * N, sumsRange?.base ?? 0);
          const epilogue = { HAS_BIAS: biasRange !== null, ACCUMULATE: k0 > 0 };
          const resources = [cRange.resource, aRange.resource, bRange.resource, biasRange?.resource ?? ctx.dummy];
          if (vector) {
            const launch = matvecLaunch(args, m, n, bRange.base, ctx.matvecSplitK);
            const constants = { ...launch.constants, ...epilogue };
            const [x, y] = launch.shader === 'matvec' ? [launch.workgroups, 1] : ctx.grid(launch.workgroups);
            if (launch.shader === 'matvec_splitk') ctx.counters.splitKMatvecs++;
            ctx.dispatch(launch.shader, constants, u, resources, [x, y, batch]);
            continue;
          }
          const shape = { m, n, k, aBatch: a.batchStride, bBatch: b.batchStride };
          const spec = tileConstants(ctx, args, tile, shape, aRange, bRange);
          ctx.dispatch(
            kernel.shader,
            {
              TRANS_A: a.transposed,
              TRANS_B: b.transposed,
              ...kernel.constants,
              ...epilogue,
              COL_SUMS: sumsRange !== null,
              ...spec.constants,
            },
            u,
            [...resources, ...spec.resources, sumsRange?.resource ?? ctx.writableDummy],
            [Math.ceil(n / tileCols(tile)), Math.ceil(m / tileRows(tile)), batch],
          );
        }
      }
    }
  }
}

/**
 * Whether an operand can be read as vectors of 4 stored elements (matmul.wgsl's VEC_A / VEC_B):
 * its first element, row stride and batch stride are multiples of 4, so every vector starts on
 * a vector boundary; its stored rows' length (`contiguous`) too, so a vector is wholly inside
 * or wholly outside the bounds; and the binding holds whole vectors (`vectorBytes` each).
 */
function vectorReadable(
  range: BoundRange,
  ld: number,
  batchStride: number,
  contiguous: number,
  vectorBytes: number,
): boolean {
  return (
    range.base % 4 === 0 &&
    ld % 4 === 0 &&
    batchStride % 4 === 0 &&
    contiguous % 4 === 0 &&
    range.bytes % vectorBytes === 0
  );
}

/**
 * The override constants of a tile for one dispatch of m x n x k (and the vector bindings 5 and
 * 6: the operand again, or a dummy where it is read element by element).
 */
function tileConstants(
  ctx: WebGPUBackend,
  args: MatmulArgs,
  tile: MatmulTile,
  shape: { m: number; n: number; k: number; aBatch: number; bBatch: number },
  aRange: BoundRange,
  bRange: BoundRange,
): { constants: Record<string, number | boolean>; resources: GPUBufferBinding[] } {
  const { a, b } = args;
  const { m, n, k } = shape;
  const vecA = vectorReadable(aRange, a.ld, shape.aBatch, a.transposed ? m : k, 16);
  const bDType = b.view.dtype;
  const bVectorBytes = bDType === 'float32' ? 16 : 8;
  // A vector of a 16-bit B: only matmul_f16.wgsl's vec4<f16>; matmul.wgsl widens words one by one.
  const bVectors = bDType === 'float32' || (bDType === 'float16' && ctx.device.features.has('shader-f16'));
  const vecB = bVectors && vectorReadable(bRange, b.ld, shape.bBatch, b.transposed ? k : n, bVectorBytes);
  const full = m % tileRows(tile) === 0 && n % tileCols(tile) === 0 && k % 16 === 0;
  return {
    constants: {
      WG_X: tile.threadsX,
      WG_Y: tile.threadsY,
      WIDE_M: tile.wideM,
      WIDE_N: tile.wideN,
      FULL: full,
      VEC_A: vecA,
      VEC_B: vecB,
    },
    resources: [vecA ? aRange.resource : ctx.dummy, vecB ? bRange.resource : ctx.dummy],
  };
}

/**
 * Split-K for small outputs with a long inner dimension (e.g. dx = dlogits @ wte: 512 x 768
 * from K = 50257): S slices of K run in parallel as the batch dimension of one dispatch, each
 * writing its partial product to scratch (S, M, N); a reduction then sums the slices.
 */
function splitK(ctx: WebGPUBackend, args: MatmulArgs, tile: MatmulTile): void {
  const { a, b, bias, out, M, N, K } = args;
  const kernel = matmulKernel(ctx.device.features, b.view.dtype);
  const chunk = Math.ceil(K / Math.min(64, Math.ceil(K / SPLIT_K_CHUNK)) / 16) * 16;
  const full = Math.floor(K / chunk);
  const slices = Math.ceil(K / chunk);
  const partial = ctx.scratch(slices * M * N);
  const kStride = (op: MatrixOperand, aSide: boolean) => chunk * (op.transposed === aSide ? op.ld : 1);
  const launch = (first: number, count: number, k: number) => {
    const k0 = first * chunk;
    const aRange = ctx.bind(
      a.view.storage,
      firstElement(a, 0, 0, k0),
      (count - 1) * kStride(a, true) + extent(a, M, k, 1),
    );
    const bRange = ctx.bind(
      b.view.storage,
      firstElement(b, 0, k0, 0),
      (count - 1) * kStride(b, false) + extent(b, k, N, 1),
    );
    const cRange = ctx.bind(partial, first * M * N, count * M * N);
    const u = new Uniforms()
      .u32(M, N, k, a.ld, b.ld, N)
      .u32(aRange.base, bRange.base, cRange.base, 0)
      .u32(kStride(a, true), kStride(b, false), M * N, 0);
    const shape = { m: M, n: N, k, aBatch: kStride(a, true), bBatch: kStride(b, false) };
    const spec = tileConstants(ctx, args, tile, shape, aRange, bRange);
    const constants = {
      TRANS_A: a.transposed,
      TRANS_B: b.transposed,
      ...kernel.constants,
      HAS_BIAS: false,
      ACCUMULATE: false,
      ...spec.constants,
    };
    ctx.dispatch(
      kernel.shader,
      constants,
      u,
      [cRange.resource, aRange.resource, bRange.resource, ctx.dummy, ...spec.resources, ctx.writableDummy],
      [Math.ceil(N / tileCols(tile)), Math.ceil(M / tileRows(tile)), count],
    );
  };
  if (full > 0) launch(0, full, chunk);
  if (slices > full) launch(full, 1, K - full * chunk);
  const partialView: View = {
    storage: partial,
    dtype: 'float32',
    shape: [slices, M * N],
    strides: [M * N, 1],
    offset: 0,
  };
  if (!bias) {
    ctx.kernels.reduce('sum', partialView, 1, slices, M * N, out);
  } else {
    const sums = ctx.scratch(M * N);
    const sumsView: View = { storage: sums, dtype: 'float32', shape: [M, N], strides: [N, 1], offset: 0 };
    ctx.kernels.reduce('sum', partialView, 1, slices, M * N, sumsView);
    ctx.kernels.binary(
      'add',
      sumsView,
      { storage: bias.storage, dtype: bias.dtype, shape: [M, N], strides: [0, 1], offset: bias.offset },
      out,
    );
    ctx.release(sums);
  }
  ctx.release(partial);
}
