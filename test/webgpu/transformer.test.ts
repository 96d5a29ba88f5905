// The composite check on WebGPU: every parameter gradient of a 2-layer, 2-head transformer
// (float32) against the CPU reference's, and the loss itself.
// Tolerance: 1e-5 absolute + 1e-4 relative: float32 through ~40 ops in different orders.
import { describe, expect, it } from 'vitest';
import * as A from '@mini/autograd';
import * as T from '@mini/tensor/node';
import { expectAllClose } from '../helpers/allclose.js';
import { webgpuForTests } from '../helpers/devices.js';
import { loss, parameterShapes, parameterValues } from '../helpers/mini-transformer.js';

const gpu = await webgpuForTests();
if (gpu) console.log(`WebGPU adapter under test: ${gpu.info.description}`);

async function run(device: T.Device) {
  const values = parameterValues(4);
  const params = Object.fromEntries(Object.entries(parameterShapes()).map(([name, shape]) =>
    [name, A.parameter(T.tensor(Float32Array.from(values[name]!), { shape, device }))]));
  const l = T.tidy(() => {
    const out = loss(params, device);
    out.backward();
    return out.data;
  });
  const grads: Record<string, Float32Array> = {};
  for (const [name, p] of Object.entries(params)) grads[name] = (await p.grad!.toArray()) as Float32Array;
  return { loss: await l.item(), grads };
}

describe.runIf(gpu)('composite gradient check: 2-layer 2-head transformer on WebGPU', () => {
  it('loss and every parameter gradient match the CPU reference', async () => {
    const expected = await run(T.cpu);
    const actual = await run(gpu!);
    expect(actual.loss).toBeCloseTo(expected.loss, 5);
    for (const name of Object.keys(expected.grads)) {
      expectAllClose(actual.grads[name]!, expected.grads[name]!, { atol: 1e-5, rtol: 1e-4 }, `d loss / d ${name}`);
    }
  });
});
