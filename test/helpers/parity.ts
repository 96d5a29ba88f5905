/**
 * Runs one computation on the CPU reference and on a WebGPU device from the same seeded
 * inputs (random creation is identical on every device) and compares every output.
 */
import { type Device, Generator, type Tensor, cpu, tidy } from '@mini/tensor/node';
import { type Tolerance, expectAllClose } from './allclose.js';

export type Build = (device: Device, generator: Generator) => Tensor | Tensor[];

export async function expectParity(
  gpu: Device,
  build: Build,
  tolerance: Tolerance,
  what: string,
  seed = 7,
): Promise<void> {
  const run = async (device: Device) => {
    const outs = tidy(() => {
      const r = build(device, new Generator(seed));
      return Array.isArray(r) ? r : [r];
    });
    const values = await Promise.all(outs.map((t) => t.toArray()));
    const shapes = outs.map((t) => t.shape.join('x'));
    const dtypes = outs.map((t) => t.dtype);
    for (const t of outs) t.dispose();
    return { values, shapes, dtypes };
  };
  const expected = await run(cpu);
  const actual = await run(gpu);
  if (actual.shapes.join() !== expected.shapes.join())
    throw new Error(`${what}: shapes ${actual.shapes} vs ${expected.shapes}`);
  if (actual.dtypes.join() !== expected.dtypes.join())
    throw new Error(`${what}: dtypes ${actual.dtypes} vs ${expected.dtypes}`);
  expected.values.forEach((e, i) =>
    expectAllClose(actual.values[i]!, e, tolerance, `${what} (output ${i}, shape ${expected.shapes[i]})`),
  );
}
