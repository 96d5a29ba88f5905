/**
 * WebGPU glue for adamw.wgsl (one tensor) and adamw_multi.wgsl (many tensors a dispatch): the
 * fused AdamW step, a flat elementwise kernel over contiguous data.
 */
import type { AdamWEntry, AdamWStep, View } from '../backend.js';
import type { BoundRange, WebGPUBackend } from './backend.js';
import { flatParts } from './elementwise.js';
import { shaders } from './shaders.generated.js';
import { Uniforms } from './uniforms.js';

const WG = 256;
/** Entries per multi-tensor dispatch: the table's size in adamw_multi.wgsl (two vec4s each). */
const MAX_ENTRIES = 12;

const floatBits = new Float32Array(1);
const wordOfFloat = new Uint32Array(floatBits.buffer);

/**
 * The float32 bits of a word named in AdamW's uniforms, for `s`: 'lr/c1' (lr / (1 - beta1^t)),
 * 'sqrt(c2)' (sqrt(1 - beta2^t)), 'decay:<weight decay>' (1 - lr * weight decay). The glue
 * writes these words by name, so a replayed update (webgpu/capture.ts) recomputes them for its
 * own step and learning rate exactly as an eager one writes them.
 * @throws RangeError for another name
 */
export function adamwWord(name: string, s: AdamWStep): number {
  let value: number;
  if (name === 'lr/c1') value = s.lr / (1 - s.beta1 ** s.step);
  else if (name === 'sqrt(c2)') value = Math.sqrt(1 - s.beta2 ** s.step);
  else if (name.startsWith('decay:')) value = 1 - s.lr * Number(name.slice(6));
  else throw new RangeError(`adamw: no uniform word named ${name}`);
  floatBits[0] = value;
  return wordOfFloat[0]!;
}

/** The step's scalars as both kernels take them (float64 on the host, rounded once to f32); the learning-rate terms named. */
function stepScalars(u: Uniforms, s: AdamWStep): Uniforms {
  return u
    .f32(s.beta1, s.beta2, 1 - s.beta1, 1 - s.beta2)
    .named('lr/c1', s.lr / (1 - s.beta1 ** s.step))
    .named('sqrt(c2)', Math.sqrt(1 - s.beta2 ** s.step))
    .f32(s.eps);
}

export function adamw(ctx: WebGPUBackend, param: View, grad: View, m: View, v: View, s: AdamWStep): void {
  const total = param.shape.reduce((a, d) => a * d, 1);
  for (const [start, count] of flatParts(ctx, total)) {
    const [pr, mr, vr, gr] = [param, m, v, grad].map((t) => ctx.bind(t.storage, t.offset + start, count));
    const grid = ctx.grid(Math.ceil(count / WG));
    const u = new Uniforms().u32(count, grid[0] * WG).named(`decay:${s.weightDecay}`, 1 - s.lr * s.weightDecay);
    stepScalars(u, s).u32(pr!.base, mr!.base, vr!.base, gr!.base);
    ctx.dispatch('adamw', { WG }, u, [pr!.resource, mr!.resource, vr!.resource, gr!.resource], grid);
  }
}

/** The WGSL of adamw_multi with `slots` storage bindings and the switch that picks one. */
function multiShader(slots: number): { name: string; code: string } {
  const k = [...Array(slots).keys()];
  const bindings = k.map((i) => `@group(0) @binding(${i + 1}) var<storage, read_write> s${i}: array<f32>;`);
  const ld = k.map((i) => `    case ${i}u: { return s${i}[i]; }`);
  const st = k.map((i) => `    case ${i}u: { s${i}[i] = x; }`);
  const code = `${shaders.adamw_multi}
${bindings.join('\n')}
fn ld(slot: u32, i: u32) -> f32 {
  switch slot {
${ld.join('\n')}
    default: { return 0.0; }
  }
}
fn st(slot: u32, i: u32, x: f32) {
  switch slot {
${st.join('\n')}
    default: {}
  }
}
`;
  return { name: `adamw_multi_${slots}`, code };
}

const multiShaders = new Map<number, { name: string; code: string }>();

interface Slot {
  readonly resource: GPUBufferBinding;
  readonly start: number;
  readonly end: number;
}

/** A bound window's byte range in its buffer. */
function range(b: BoundRange): [number, number] {
  const start = b.resource.offset ?? 0;
  return [start, start + b.bytes];
}

/**
 * Many tensors' AdamW steps in few dispatches: entries are packed greedily into groups whose
 * distinct buffers (a flat m or v shared by many entries takes one slot) fit the adapter's
 * storage bindings; an entry larger than one binding window goes through `adamw` on its own.
 * Two windows of one buffer that overlap but differ cannot share a bind group (WebGPU forbids
 * aliased writable bindings): the second starts a new group.
 */
export function adamwMany(ctx: WebGPUBackend, entries: readonly AdamWEntry[], s: AdamWStep): void {
  const maxSlots = Math.min(ctx.device.limits.maxStorageBuffersPerShaderStage, 4 * MAX_ENTRIES);
  let slots: Slot[] = [];
  let table: number[] = [];
  /** Table index of each entry's decay word -> its name (a replay recomputes it). */
  let decayNames = new Map<number, string>();
  let workgroups = 0;
  const flush = () => {
    if (workgroups === 0) return;
    const n = table.length / 8;
    let shader = multiShaders.get(slots.length);
    if (!shader) multiShaders.set(slots.length, (shader = multiShader(slots.length)));
    const grid = ctx.grid(workgroups);
    const u = stepScalars(new Uniforms().u32(grid[0], n), s).u32Array(table, 2 * MAX_ENTRIES, decayNames);
    ctx.dispatch(
      shader,
      { WG },
      u,
      slots.map((slot) => slot.resource),
      grid,
    );
    slots = [];
    table = [];
    decayNames = new Map();
    workgroups = 0;
  };
  const decayBits = new DataView(new ArrayBuffer(4));
  for (const e of entries) {
    const count = e.param.shape.reduce((a, d) => a * d, 1);
    if (count > ctx.bindableElements) {
      adamw(ctx, e.param, e.grad, e.m, e.v, { ...s, weightDecay: e.weightDecay });
      continue;
    }
    const bound = [e.param, e.grad, e.m, e.v].map((t) => ctx.bind(t.storage, t.offset, count));
    // The slot of each operand in the current group (reused, new, or a conflict).
    const place = (group: Slot[]): number[] | null => {
      // Slots 0..group.length - 1 are the group's, then the ones this entry adds (no copies of
      // the lists: this runs for every parameter of every step).
      const added: Slot[] = [];
      const ids: number[] = [];
      const slotAt = (i: number): Slot => (i < group.length ? group[i]! : added[i - group.length]!);
      for (const b of bound) {
        const [start, end] = range(b);
        const buffer = b.resource.buffer;
        const n = group.length + added.length;
        let same = -1;
        let clash = false;
        for (let i = 0; i < n; i++) {
          const x = slotAt(i);
          if (x.resource.buffer !== buffer) continue;
          if (x.start === start && x.end === end) {
            same = i;
            break;
          }
          if (x.start < end && start < x.end) clash = true;
        }
        if (same >= 0) {
          ids.push(same);
          continue;
        }
        if (clash) return null;
        added.push({ resource: b.resource, start, end });
        ids.push(n);
      }
      return group.length + added.length <= maxSlots ? ids : null;
    };
    let ids = table.length / 8 < MAX_ENTRIES ? place(slots) : null;
    if (!ids) {
      flush();
      ids = place(slots)!;
    }
    for (let k = 0; k < 4; k++) {
      const id = ids[k]!;
      if (id === slots.length) {
        const [start, end] = range(bound[k]!);
        slots.push({ resource: bound[k]!.resource, start, end });
      }
    }
    decayBits.setFloat32(0, 1 - s.lr * e.weightDecay, true);
    decayNames.set(table.length + 2, `decay:${e.weightDecay}`);
    table.push(
      workgroups,
      count,
      decayBits.getUint32(0, true),
      (ids[0]! | (ids[1]! << 8) | (ids[2]! << 16) | (ids[3]! << 24)) >>> 0,
      bound[0]!.base,
      bound[1]!.base,
      bound[2]!.base,
      bound[3]!.base,
    );
    workgroups += Math.ceil(count / WG);
  }
  flush();
}
