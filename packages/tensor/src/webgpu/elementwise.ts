/**
 * WebGPU glue for the elementwise kernels (unary.wgsl, binary.wgsl, copy.wgsl, fill.wgsl).
 * Dimensions are coalesced first, so contiguous operands arrive as one flat range; work is
 * split along the first remaining dimension when an operand exceeds one binding window.
 */
import type { BinaryOp, UnaryOp, View } from '../backend.js';
import { binaryOpTable, unaryOpTable } from '../elementwise-ops.js';
import { DeviceError, formatShape } from '../errors.js';
import { coalesce } from '../shape.js';
import { GpuStorage, type Shader, type WebGPUBackend } from './backend.js';
import { isHalf, numberToHalf } from '../dtype.js';
import { shaders } from './shaders.generated.js';
import { Uniforms } from './uniforms.js';

const WG = 256;
const MAX_RANK = 8;

/**
 * Runs an elementwise shader over `out` and `inputs` (any strides). Only copy.wgsl honours
 * a strided `out`; the others are given contiguous outputs by the op layer. Where every operand
 * is contiguous (no broadcasting), 32-bit and starts at a multiple of 4 elements, `shader4` (the
 * vec4 variant) runs the first count - count % 4 elements and `shader` the rest.
 */
function runElementwise(
  ctx: WebGPUBackend,
  shader: Shader,
  shader4: Shader,
  constants: Record<string, number>,
  out: View,
  inputs: View[],
  scalar: number,
): void {
  const operands = [out, ...inputs];
  const { shape, strides } = coalesce(out.shape, [out.strides, ...inputs.map((v) => v.strides)]);
  if (
    shape.length === 1 &&
    shape[0]! >= 4 &&
    strides.every((s) => s[0] === 1) &&
    operands.every((v) => v.offset % 4 === 0 && (v.storage as GpuStorage).elementBytes === 4)
  ) {
    const done = runVec4(ctx, shader4, constants, operands, Math.floor(shape[0]! / 4), scalar);
    if (done === shape[0]) return;
    runParts(
      ctx,
      shader,
      constants,
      operands,
      [shape[0]! - done],
      strides,
      operands.map((v) => v.offset + done),
      scalar,
    );
    return;
  }
  if (shape.length > MAX_RANK)
    throw new DeviceError(
      `WebGPU ${typeof shader === 'string' ? shader : shader.name}: views of ${formatShape(out.shape)} need more than ${MAX_RANK} dimensions after merging`,
    );
  runParts(
    ctx,
    shader,
    constants,
    operands,
    shape,
    strides,
    operands.map((v) => v.offset),
    scalar,
  );
}

/** Elements one operand's window spans for `rows` rows of `shape` (all strides >= 0). */
function span(shape: number[], s: number[], rows: number): number {
  return (rows - 1) * s[0]! + shape.slice(1).reduce((p, d, i) => p + (d - 1) * s[i + 1]!, 0) + 1;
}

/**
 * Dispatches `shape` in parts of whole rows (first dimension) whose windows fit a binding;
 * when even one row is too large, each row becomes a sub-problem of one dimension less.
 */
function runParts(
  ctx: WebGPUBackend,
  shader: Shader,
  constants: Record<string, number>,
  operands: View[],
  shape: number[],
  strides: number[][],
  offsets: number[],
  scalar: number,
): void {
  const rows = shape[0]!;
  const inner = shape.slice(1).reduce((p, d) => p * d, 1);
  let rowsPerPart = rows;
  for (const s of strides) {
    if (s[0] === 0) continue;
    rowsPerPart = Math.min(rowsPerPart, Math.floor((ctx.bindableElements - span(shape, s, 1)) / s[0]!) + 1);
  }
  if (rowsPerPart < 1) {
    for (let r = 0; r < rows; r++) {
      runParts(
        ctx,
        shader,
        constants,
        operands,
        shape.slice(1),
        strides.map((s) => s.slice(1)),
        offsets.map((o, k) => o + r * strides[k]![0]!),
        scalar,
      );
    }
    return;
  }
  for (let r0 = 0; r0 < rows; r0 += rowsPerPart) {
    const partRows = Math.min(rowsPerPart, rows - r0);
    const count = partRows * inner;
    const bound = operands.map((v, k) =>
      ctx.bind(v.storage, offsets[k]! + r0 * strides[k]![0]!, span(shape, strides[k]!, partRows)),
    );
    const workgroups = ctx.grid(Math.ceil(count / WG));
    const u = new Uniforms()
      .u32Array([partRows, ...shape.slice(1)], 2)
      .u32Array(
        strides.flatMap((s) => [...s, ...new Array<number>(MAX_RANK - s.length).fill(0)]),
        6,
      )
      .u32Array(
        bound.map((b) => b.base),
        1,
      )
      .u32(shape.length, count)
      .f32(scalar)
      .u32(workgroups[0] * WG);
    ctx.dispatch(
      shader,
      { ...constants, WG },
      u,
      bound.map((b) => b.resource),
      workgroups,
    );
  }
}

/**
 * `vec4s` vec4s of contiguous operands (element offsets multiples of 4) through a vec4 shader
 * (lib_elementwise4.wgsl), in parts that fit a binding; returns the elements done (4 vec4s).
 */
function runVec4(
  ctx: WebGPUBackend,
  shader: Shader,
  constants: Record<string, number>,
  operands: View[],
  vec4s: number,
  scalar: number,
): number {
  const size = Math.floor(ctx.bindableElements / 4);
  for (let start = 0; start < vec4s; start += size) {
    const count = Math.min(size, vec4s - start);
    // Windows start at multiples of the storage offset alignment (256 bytes), so bases stay multiples of 4.
    const bound = operands.map((v) => ctx.bind(v.storage, v.offset + 4 * start, 4 * count));
    const workgroups = ctx.grid(Math.ceil(count / WG));
    const u = new Uniforms()
      .u32Array(
        bound.map((b) => b.base / 4),
        1,
      )
      .u32(count)
      .f32(scalar)
      .u32(workgroups[0] * WG);
    ctx.dispatch(
      shader,
      { ...constants, WG },
      u,
      bound.map((b) => b.resource),
      workgroups,
    );
  }
  return 4 * vec4s;
}

export function copy(ctx: WebGPUBackend, x: View, out: View): void {
  runElementwise(ctx, 'copy', 'copy4', {}, out, [x], 0);
}

const generated = new Map<string, Shader>();

/** `template`.wgsl with `apply` generated from the op table's WGSL expression (made once per op). */
function withApply(
  template: 'unary' | 'binary' | 'unary4' | 'binary4',
  op: string,
  signature: string,
  expression: string,
): Shader {
  const name = `${template}:${op}`;
  let shader = generated.get(name);
  if (!shader)
    generated.set(
      name,
      (shader = { name, code: `${shaders[template]}\nfn apply(${signature}) -> f32 { return ${expression}; }\n` }),
    );
  return shader;
}

export const unaryShader = (op: UnaryOp): Shader => withApply('unary', op, 'x: f32, s: f32', unaryOpTable[op].wgsl);
export const binaryShader = (op: BinaryOp): Shader => withApply('binary', op, 'a: f32, b: f32', binaryOpTable[op].wgsl);

const unary4Shader = (op: UnaryOp): Shader => withApply('unary4', op, 'x: f32, s: f32', unaryOpTable[op].wgsl);
const binary4Shader = (op: BinaryOp): Shader => withApply('binary4', op, 'a: f32, b: f32', binaryOpTable[op].wgsl);

export function unary(ctx: WebGPUBackend, op: UnaryOp, x: View, out: View, scalar: number): void {
  runElementwise(ctx, unaryShader(op), unary4Shader(op), {}, out, [x], scalar);
}

export function binary(ctx: WebGPUBackend, op: BinaryOp, a: View, b: View, out: View): void {
  runElementwise(ctx, binaryShader(op), binary4Shader(op), {}, out, [a, b], 0);
}

/** Splits [0, count) into parts whose windows fit a binding; `even` keeps parts at even starts. */
export function flatParts(ctx: WebGPUBackend, count: number, even = false): Array<[number, number]> {
  let size = ctx.bindableElements;
  if (even) size -= size % 2;
  const parts: Array<[number, number]> = [];
  for (let start = 0; start < count; start += size) parts.push([start, Math.min(size, count - start)]);
  return parts;
}

const words = new DataView(new ArrayBuffer(4));

export function fill(ctx: WebGPUBackend, out: View, value: number): void {
  if (out.dtype === 'int32') words.setInt32(0, value, true);
  else words.setFloat32(0, value, true);
  let word = words.getUint32(0, true);
  let total = out.shape.reduce((p, d) => p * d, 1);
  if (isHalf(out.dtype)) {
    // Two elements per word: fill whole words of a view that owns them (a fresh tensor).
    const { elementBytes, byteLength, buffer, bufferBytes } = out.storage as GpuStorage;
    if (out.offset % 2 !== 0 || (total % 2 !== 0 && (out.offset + total) * elementBytes !== byteLength)) {
      throw new DeviceError(
        `WebGPU: filling a ${out.dtype} view that shares words with other elements is not supported`,
      );
    }
    const bits = numberToHalf(value, out.dtype);
    word = (bits | (bits << 16)) >>> 0;
    total = Math.ceil(total / 2);
    out = {
      ...out,
      dtype: 'float32',
      storage: new GpuStorage(buffer, Math.ceil(byteLength / 4) * 4, 4, bufferBytes),
      offset: out.offset / 2,
    };
  }
  for (const [start, count] of flatParts(ctx, total)) {
    const bound = ctx.bind(out.storage, out.offset + start, count);
    const workgroups = ctx.grid(Math.ceil(count / WG));
    const u = new Uniforms().u32(bound.base, count, word, workgroups[0] * WG);
    ctx.dispatch('fill', { WG }, u, [bound.resource], workgroups);
  }
}
