// One measured training step for `npm run bench -- --big` (train_step_medium), in its own
// process so its peak RSS is the step's alone: node train-step-child.mjs <preset> <steps>.
// The model is the book's layout of <preset> (untied head, context 1024, dropout 0.1), batch
// 2 x 256, AdamW; the first step warms up (allocations, the heap's growth), the last is timed.
// Prints one JSON line: tokens/s, seconds, peak RSS (MB), the heap, bytes of tensors outside it.
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';
import { trainingStep } from './train-step.mjs';

const [preset, stepsArg] = process.argv.slice(2);
const device = await T.getDevice('cpu');
const config = G.resolveConfig(preset, G.BOOK_CONFIG_OVERRIDES);
// Weights, gradients and AdamW's moments (16 bytes a parameter): the heap's size hint, as `mini-gpt train` gives it.
device.backend.reserve?.(16 * G.parameterCount(config));
const model = G.GPTModel.create(config, { device, seed: 123 });
const optimizer = new G.AdamW(model.params, { lr: 4e-4, weightDecay: 0.1 });
const step = trainingStep(model, optimizer, device);
let seconds = 0;
for (let i = 0; i < Number(stepsArg ?? 2); i++) {
  const t = performance.now();
  await step();
  seconds = (performance.now() - t) / 1000;
}
const backend = device.backend;
process.stdout.write(
  `${JSON.stringify({
    tokensPerSecond: 512 / seconds,
    seconds,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    node: process.version,
    heap: `${backend.addressing} heap, ${(backend.heapBytes() / 1e9).toFixed(2)} GB`,
    outsideHeapMB: backend.outsideHeapBytes() / 1e6,
  })}\n`,
);
