// Every gradient-check case on every device against the CPU reference: same float32 inputs
// and upstream gradient; the forward output and every input gradient compared
// (test/helpers/check-op.ts). The reference's own correctness is the float64
// finite-difference suite, test/autograd/gradcheck.test.ts.
// Exclusions: the CPU reference itself (it is the oracle here). No op is excluded.
import { afterAll, describe, it } from 'vitest';
import { differentiableOps } from '@mini/autograd';
import { checkCase } from '../helpers/check-op.js';
import { devicesUnderTest } from '../helpers/devices.js';
import { gradCases } from '../helpers/grad-cases.js';

const devices = (await devicesUnderTest()).filter((d) => !d.isReference);

describe.runIf(devices.length > 0)('gradients of every differentiable op match the CPU reference', () => {
  describe.each(devices)('$name', ({ name, device }) => {
    const worst = new Map<string, number>();
    afterAll(() =>
      console.log(
        `${name}: largest |device - reference| per op: ${[...worst].map(([op, d]) => `${op} ${d.toExponential(1)}`).join(', ')}`,
      ),
    );
    for (const op of differentiableOps) {
      for (const c of gradCases[op]) {
        it(`${op}: ${c.name}`, async () => {
          const d = await checkCase(c, device);
          worst.set(op, Math.max(worst.get(op) ?? 0, d));
        });
      }
    }
  });
});
