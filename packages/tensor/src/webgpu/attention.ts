/**
 * WebGPU glue for attention.wgsl, attention_backward_q.wgsl and attention_backward_kv.wgsl
 * (shared code in lib_attention.wgsl): one workgroup per R rows of one (batch, head), R chosen
 * so that the kernel's tiles fit the device's workgroup memory.
 */
import type { AttentionArgs, AttentionBackwardArgs, DropoutMask, View } from '../backend.js';
import { maskConstants } from '../dropout-mask.js';
import { DeviceError } from '../errors.js';
import type { BoundRange, Shader, WebGPUBackend } from './backend.js';
import { shaders } from './shaders.generated.js';
import { Uniforms } from './uniforms.js';

const WG = 64;
/** Largest tile: R x R scores per workgroup step; more gains little on the adapters here. */
const MAX_R = 16;

/** Tiles of R x HD floats and of R x R floats each kernel keeps in workgroup memory. */
const TILES = { attention: [4, 1], attention_backward_q: [5, 1], attention_backward_kv: [6, 2] } as const;
type AttentionShader = keyof typeof TILES;

/** The largest R <= MAX_R whose tiles (and 3 rows of R floats) fit the workgroup memory. */
function tileRows(ctx: WebGPUBackend, shader: AttentionShader, hd: number): number {
  const limit = ctx.device.limits.maxComputeWorkgroupStorageSize;
  const [rowTiles, squareTiles] = TILES[shader];
  for (let R = MAX_R; R >= 1; R--) if (4 * (rowTiles * R * hd + squareTiles * R * R + 3 * R) <= limit) return R;
  throw new DeviceError(
    `WebGPU: attention with head size ${hd} needs more than the device's ${limit} bytes of workgroup memory; use the unfused path`,
  );
}

/** Binds the elements a (B, nh, T, hd) view reaches (any strides), from its first. */
function bindHeads(ctx: WebGPUBackend, view: View) {
  const span = view.shape.reduce((s, d, i) => s + (d - 1) * view.strides[i]!, 0) + 1;
  return ctx.bind(view.storage, view.offset, span);
}

function bindAll(ctx: WebGPUBackend, view: View) {
  return ctx.bind(
    view.storage,
    view.offset,
    view.shape.reduce((a, d) => a * d, 1),
  );
}

/**
 * The uniforms of lib_attention.wgsl's Params; `bases` are those of out/dout, lse, delta, g1, g2;
 * `strided` the backward's dout, g1 and g2 views (strides over B, nh, T), absent in the forward.
 */
function params(
  args: AttentionArgs | AttentionBackwardArgs,
  heads: Array<{ base: number }>,
  bases: number[],
  blocks: number,
  groupsX: number,
  strided: View[] = [],
  outBase = 0,
): Uniforms {
  const { B, nh, Tq, Tk, causal, scale, dropout } = args;
  const u = new Uniforms().u32(B * nh, nh, Tq, Tk);
  [args.q, args.k, args.v].forEach((view, i) =>
    u.u32(heads[i]!.base, view.strides[0]!, view.strides[1]!, view.strides[2]!),
  );
  const [o, lse, delta, g1, g2] = [...bases, 0, 0, 0, 0, 0];
  const drop: DropoutMask = dropout ?? { p: 0, key: [0, 0], stream: 0 };
  if (drop.keep)
    throw new DeviceError('attention: a host-drawn mask (the torch random stream) runs on the CPU devices only');
  const { threshold, scale: dropScale } = maskConstants(drop.p);
  u.u32(o!, lse!, delta!, g1!, g2!, causal ? 1 : 0)
    .f32(scale)
    .u32(dropout ? 1 : 0);
  u.vec2u32(drop.key[0], drop.key[1]);
  // Marked only with a mask: a replayed capture moves the streams of masks, not a 0 placeholder.
  if (dropout) u.stream(drop.stream);
  else u.u32(0);
  u.u32(threshold).f32(dropScale).u32(blocks, groupsX);
  for (let i = 0; i < 3; i++) {
    const view = strided[i];
    u.u32(...(view ? view.strides.slice(0, 3) : [0, 0, 0]));
  }
  return u.u32(outBase);
}

function checkIndexRange(args: AttentionArgs | AttentionBackwardArgs): void {
  // The dropout counter is the weight's index in u32 (as dropout.wgsl's within one dispatch).
  if (args.dropout && args.B * args.nh * args.Tq * args.Tk >= 2 ** 32) {
    throw new DeviceError(
      `WebGPU: attention dropout over ${args.B * args.nh * args.Tq * args.Tk} weights exceeds 2^32; use a smaller batch`,
    );
  }
}

function run(
  ctx: WebGPUBackend,
  shader: AttentionShader,
  args: AttentionArgs | AttentionBackwardArgs,
  rows: number,
  outputs: View[],
): void {
  checkIndexRange(args);
  const R = tileRows(ctx, shader, args.hd);
  const blocks = Math.ceil(rows / R);
  const grid = ctx.grid(args.B * args.nh * blocks);
  const heads = [args.q, args.k, args.v].map((view) => bindHeads(ctx, view));
  const others = outputs.map((view) => bindAll(ctx, view));
  const u = params(
    args,
    heads,
    others.map((b) => b.base),
    blocks,
    grid[0],
  );
  ctx.dispatch(
    shader,
    { WG, R, HD: args.hd },
    u,
    [...heads, ...others].map((b) => b.resource),
    grid,
  );
}

/** Query rows per head up to which the forward runs attention_decode.wgsl (decoding, a prompt's last rows). */
export const DECODE_MAX_ROWS = 4;
/** Workgroups the split-K decode aims to fill (a GPU's cores several times over); chunks stay at least WG keys. */
const DECODE_TARGET_WORKGROUPS = 256;

/** The number of key chunks (S) per query row: enough workgroups to fill the device, whole tiles of WG keys. */
export function decodeSplits(rows: number, Tk: number): number {
  const tiles = Math.ceil(Tk / WG);
  const wanted = Math.max(1, Math.ceil(DECODE_TARGET_WORKGROUPS / rows));
  const chunk = Math.ceil(Math.ceil(Tk / Math.min(tiles, wanted)) / WG) * WG;
  // The shader derives the chunk from Tk and S the same way: ceil(ceil(Tk / S) / WG) WG.
  return Math.ceil(Tk / chunk);
}

/**
 * The forward for Tq <= DECODE_MAX_ROWS: attention_decode.wgsl over S key chunks per row, then
 * (S > 1) attention_decode_combine.wgsl merging the chunks' partial results from a scratch buffer.
 */
function decode(ctx: WebGPUBackend, args: AttentionArgs): void {
  checkIndexRange(args);
  const rows = args.B * args.nh * args.Tq;
  const S = decodeSplits(rows, args.Tk);
  const heads = [args.q, args.k, args.v].map((view) => bindHeads(ctx, view));
  const out = bindAll(ctx, args.out);
  const lse = bindAll(ctx, args.lse);
  const grid = ctx.grid(rows * S);
  if (S === 1) {
    const u = params(args, heads, [out.base, lse.base], 1, grid[0]);
    ctx.dispatch(
      'attention_decode',
      { WG, R: 1, HD: args.hd, DIRECT: true },
      u,
      [...heads, out, lse].map((b) => b.resource),
      grid,
    );
    return;
  }
  // Partials o (rows, S, hd) and (m, l) (rows, S, 2), in two buffers: Dawn refuses two writable
  // bindings of one buffer that overlap, and a buffer that fits is bound whole.
  const partials = [ctx.scratch(rows * S * args.hd), ctx.scratch(rows * S * 2)];
  const [po, pml] = [ctx.bind(partials[0]!, 0, rows * S * args.hd), ctx.bind(partials[1]!, 0, rows * S * 2)] as const;
  ctx.dispatch(
    'attention_decode',
    { WG, R: 1, HD: args.hd, DIRECT: false },
    params(args, heads, [po.base, pml.base], S, grid[0]),
    [...heads, po, pml].map((b) => b.resource),
    grid,
  );
  const rowGrid = ctx.grid(rows);
  const u = new Uniforms().u32(rows, S, po.base, pml.base, out.base, lse.base, rowGrid[0]);
  ctx.dispatch(
    'attention_decode_combine',
    { WG, HD: args.hd },
    u,
    [po, pml, out, lse].map((b) => b.resource),
    rowGrid,
  );
  for (const b of partials) ctx.release(b);
}

/**
 * Largest head size attention_flash.wgsl keeps in registers (q and o: 2 x 64 floats a thread);
 * above, attention.wgsl. At 128, llvmpipe spent minutes on one forward (its register arrays spill).
 */
export const FLASH_MAX_HD = 64;

const flashShaders = new Map<string, Shader>();

/** attention_flash.wgsl with its register arrays sized: HDV vec4s a row, BC keys a tile (made once per pair). */
function flashShader(hdv: number, bc: number): Shader {
  const name = `attention_flash:${hdv}:${bc}`;
  let shader = flashShaders.get(name);
  if (!shader) {
    const code = shaders.attention_flash
      .replace(/^const HDV: u32 = \d+u;$/m, `const HDV: u32 = ${hdv}u;`)
      .replace(/^const BC: u32 = \d+u;$/m, `const BC: u32 = ${bc}u;`);
    flashShaders.set(name, (shader = { name, code }));
  }
  return shader;
}

/**
 * The forward for Tq > DECODE_MAX_ROWS and hd <= FLASH_MAX_HD: attention_flash.wgsl, one query
 * row a thread, WG rows a workgroup, key tiles of BC keys (32, or fewer where the two vec4 tiles
 * would not fit the device's workgroup memory).
 */
function flash(ctx: WebGPUBackend, args: AttentionArgs): void {
  checkIndexRange(args);
  const hdv = Math.ceil(args.hd / 4);
  const limit = ctx.device.limits.maxComputeWorkgroupStorageSize;
  let bc = 32;
  while (bc > 1 && 2 * bc * hdv * 16 > limit) bc /= 2;
  const blocks = Math.ceil(args.Tq / WG);
  const grid = ctx.grid(args.B * args.nh * blocks);
  const heads = [args.q, args.k, args.v].map((view) => bindHeads(ctx, view));
  const others = [args.out, args.lse].map((view) => bindAll(ctx, view));
  const u = params(
    args,
    heads,
    others.map((b) => b.base),
    blocks,
    grid[0],
  );
  ctx.dispatch(
    flashShader(hdv, bc),
    { WG, R: 1, HD: args.hd },
    u,
    [...heads, ...others].map((b) => b.resource),
    grid,
  );
}

export function attention(ctx: WebGPUBackend, args: AttentionArgs): void {
  if (args.Tq <= DECODE_MAX_ROWS) decode(ctx, args);
  else if (args.hd <= FLASH_MAX_HD) flash(ctx, args);
  else run(ctx, 'attention', args, args.Tq, [args.out, args.lse]);
}

/**
 * attention_backward_q.wgsl (dq) then attention_backward_kv.wgsl (dk, dv). dout, dq, dk and dv go
 * through their strides (views into the fused qkv gradient need no copy); dk and dv share one
 * storage and are bound once (their rows interleave there, and two writable bindings of one
 * buffer must not overlap).
 */
export function attentionBackward(ctx: WebGPUBackend, args: AttentionBackwardArgs): void {
  const { dout, lse, delta, dq, dk, dv } = args;
  if (dk.storage !== dv.storage)
    throw new DeviceError('WebGPU: internal error: attention backward needs dk and dv in one storage');
  checkIndexRange(args);
  const heads = [args.q, args.k, args.v].map((view) => bindHeads(ctx, view));
  const [bdout, blse, bdelta] = [bindHeads(ctx, dout), bindAll(ctx, lse), bindAll(ctx, delta)];
  const inputs = [bdout, blse, bdelta];
  const bases = inputs.map((b) => b.base);
  // The q kernel computes delta from dout and out (binding 8, at `out_base`) and writes it for
  // the kv kernel.
  const bout = bindAll(ctx, args.out);
  const dispatch = (
    shader: AttentionShader,
    rows: number,
    grads: View[],
    bound: BoundRange,
    gbases: number[],
    extra: BoundRange[],
  ) => {
    const R = tileRows(ctx, shader, args.hd);
    const blocks = Math.ceil(rows / R);
    const grid = ctx.grid(args.B * args.nh * blocks);
    const u = params(args, heads, [...bases, ...gbases], blocks, grid[0], [dout, ...grads], bout.base);
    ctx.dispatch(
      shader,
      { WG, R, HD: args.hd },
      u,
      [...heads, ...inputs, bound, ...extra].map((b) => b.resource),
      grid,
    );
  };
  const bq = bindHeads(ctx, dq);
  dispatch('attention_backward_q', args.Tq, [dq], bq, [bq.base], [bout]);
  // One window over dk and dv; their bases inside it.
  const spanOf = (view: View) => view.shape.reduce((s, d, i) => s + (d - 1) * view.strides[i]!, 0) + 1;
  const first = Math.min(dk.offset, dv.offset);
  const end = Math.max(dk.offset + spanOf(dk), dv.offset + spanOf(dv));
  const bkv = ctx.bind(dk.storage, first, end - first);
  dispatch(
    'attention_backward_kv',
    args.Tk,
    [dk, dv],
    bkv,
    [bkv.base + dk.offset - first, bkv.base + dv.offset - first],
    [],
  );
}
