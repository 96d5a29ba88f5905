// Every gradient-check case on the fast CPU device (WebAssembly kernels, tensors in its heap)
// against the CPU reference: same float32 inputs and upstream gradient, every input gradient.
// Tolerance: float32 on both sides with different summation orders (matmul) and GELU's float32
// tanh: the WebGPU suite's 2e-5 absolute + 1e-4 relative unless a case states its own.
import { describe, it } from 'vitest';
import * as T from '@mini/tensor/node';
import { differentiableOps } from '@mini/autograd';
import { expectAllClose } from '../helpers/allclose.js';
import { float32Gradients, gradCases } from '../helpers/grad-cases.js';

const DEFAULT = { atol: 2e-5, rtol: 1e-4 };

describe('fast CPU gradients match the CPU reference for every differentiable op', () => {
  for (const op of differentiableOps) {
    for (const c of gradCases[op]) {
      it(`${op}: ${c.name}`, async () => {
        const expected = await float32Gradients(c, T.cpu);
        const actual = await float32Gradients(c, T.fastCpu);
        expected.forEach((e, k) => expectAllClose(actual[k]!, e, c.parity ?? DEFAULT, `${op} (${c.name}) gradient of input ${k}`));
      });
    }
  }
});
