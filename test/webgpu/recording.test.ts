// How the WebGPU backend records dispatches (docs/webgpu-host.md): the uniforms' words as WGSL
// lays them out, and a pass that sets its pipeline only when it changes (dispatches of one
// kernel in a row, each reading what the one before wrote; a new pass after a read, a submit
// or a timed pass must set the pipeline again, or Dawn refuses the dispatch).
import { describe, expect, it } from 'vitest';
import * as T from '@mini/tensor/node';
import type { WebGPUBackend } from '../../packages/tensor/src/webgpu/backend.js';
import { Uniforms } from '../../packages/tensor/src/webgpu/uniforms.js';
import { webgpuForTests } from '../helpers/devices.js';

const gpu = await webgpuForTests();

/** The struct written with a DataView, field by field: what Uniforms wrote before it kept words. */
function reference(fields: Array<['u32' | 'i32' | 'f32', number] | ['align', number]>): Uint8Array {
  const view = new DataView(new ArrayBuffer(512));
  let at = 0;
  for (const [kind, v] of fields) {
    if (kind === 'align') at = Math.ceil(at / v) * v;
    else {
      if (kind === 'u32') view.setUint32(at, v, true);
      if (kind === 'i32') view.setInt32(at, v, true);
      if (kind === 'f32') view.setFloat32(at, v, true);
      at += 4;
    }
  }
  return new Uint8Array(view.buffer, 0, Math.ceil(at / 16) * 16);
}

describe('Uniforms', () => {
  it('writes the bytes a DataView writes, aligned as WGSL lays the struct out', () => {
    const floats = [0.1, -0, 1 / 3, 3.4e38, 1e-45, -Infinity, 2 ** -130, 16777217];
    const u = new Uniforms()
      .u32(7, 2 ** 32 - 1)
      .f32(...floats)
      .i32(-1, -(2 ** 31), 5.7)
      .vec2u32(3, 4)
      .u32(9)
      .u32Array([1, 2, 3, 4, 5], 2)
      .f32(0.5);
    const expected = reference([
      ['u32', 7],
      ['u32', 2 ** 32 - 1],
      ...floats.map((f) => ['f32', f] as ['f32', number]),
      ['i32', -1],
      ['i32', -(2 ** 31)],
      ['i32', 5.7],
      ['align', 8],
      ['u32', 3],
      ['u32', 4],
      ['u32', 9],
      ['align', 16],
      ...[1, 2, 3, 4, 5, 0, 0, 0].map((v) => ['u32', v] as ['u32', number]),
      ['f32', 0.5],
    ]);
    expect(u.byteLength).toBe(expected.length);
    expect([...u.bytes()]).toEqual([...expected]);
    const arena = new Uint32Array(64).fill(0xdeadbeef);
    u.writeTo(arena, 4);
    expect([...new Uint8Array(arena.buffer, 16, u.byteLength)]).toEqual([...expected]);
    expect(arena[3]).toBe(0xdeadbeef);
    expect(arena[4 + u.byteLength / 4]).toBe(0xdeadbeef);
  });

  it('rounds the size up to 16 bytes and refuses past 512', () => {
    expect(new Uniforms().u32(1).byteLength).toBe(16);
    expect(new Uniforms().byteLength).toBe(0);
    expect(() => new Uniforms().u32(-1)).toThrow(RangeError);
    expect(() => new Uniforms().u32(...new Array(129).fill(0))).toThrow(RangeError);
    expect(new Uniforms().u32(...new Array(128).fill(0)).byteLength).toBe(512);
  });
});

describe.runIf(gpu)('WebGPU recording: the pipeline set once per run of one kernel', () => {
  it('gives the CPU values across runs of one kernel, other kernels, reads and submits', async () => {
    const device = gpu!;
    const backend = device.backend as unknown as WebGPUBackend;
    const cpu = await T.getDevice('cpu');
    const values = [1, -2, 3.5, 4, 0.25, -6, 7, 8];
    const run = (d: T.Device) => {
      const a = T.tensor(values, { device: d });
      const b = T.tensor(
        values.map((v) => v * 3 - 1),
        { device: d },
      );
      // add, add (reads the first add's output, written in the same pass), mul, add
      const x = T.add(T.add(T.add(a, b), b), T.mul(a, b));
      return { a, b, x };
    };
    const g = run(device);
    const c = run(cpu);
    expect(await g.x.toArray()).toEqual(await c.x.toArray());
    // After the read the pass is new: its first dispatch (the kernel the old pass ended with)
    // must set the pipeline again.
    let gy = T.add(g.x, g.b);
    let cy = T.add(c.x, c.b);
    expect(await gy.toArray()).toEqual(await cy.toArray());
    // 130 adds in a row: submits every 48 dispatches start new passes mid-run.
    const submits = backend.counters.submits;
    for (let i = 0; i < 130; i++) {
      gy = T.add(gy, g.a);
      cy = T.add(cy, c.a);
    }
    expect(backend.counters.submits - submits).toBeGreaterThanOrEqual(2);
    expect(await gy.toArray()).toEqual(await cy.toArray());
    for (const t of [g.a, g.b, g.x, gy, c.a, c.b, c.x, cy]) t.dispose();
  });
});
