// Every gradient-check case on WebGPU against the CPU reference: same float32 inputs, same
// upstream gradient, every input gradient compared.
// Tolerance (float32 on both sides, different summation orders and WGSL's few-ulp exp/log):
// 2e-5 absolute + 1e-4 relative unless a case states its own.
import { afterAll, describe, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { differentiableOps } from '@mini/autograd';
import { expectAllClose, maxAbsDiff } from '../helpers/allclose.js';
import { webgpuForTests } from '../helpers/devices.js';
import { float32Gradients, gradCases } from '../helpers/grad-cases.js';

const gpu = await webgpuForTests();
if (gpu) console.log(`WebGPU adapter under test: ${gpu.info.description}`);

const DEFAULT = { atol: 2e-5, rtol: 1e-4 };

const worst = new Map<string, number>();

describe.runIf(gpu)('WebGPU gradients match the CPU reference for every differentiable op', () => {
  afterAll(() => console.log(`largest |WebGPU - CPU| gradient difference per op: ${[...worst].map(([op, d]) => `${op} ${d.toExponential(1)}`).join(', ')}`));
  for (const op of differentiableOps) {
    for (const c of gradCases[op]) {
      it(`${op}: ${c.name}`, async () => {
        const expected = await float32Gradients(c, T.cpu);
        const actual = await float32Gradients(c, gpu!);
        expected.forEach((e, k) => {
          expectAllClose(actual[k]!, e, c.parity ?? DEFAULT, `${op} (${c.name}) gradient of input ${k}`);
          worst.set(op, Math.max(worst.get(op) ?? 0, maxAbsDiff(actual[k]!, e)));
        });
      });
    }
  }
});
