#!/usr/bin/env node
// node bench/profile-step.mjs [--top 30] [--write step.cpuprofile]: a V8 CPU profile of one
// training step of the book's 124M-layout model (batch 2 x 256, AdamW) on the CPU device, after a
// warm-up step, summarised as self time per function and per kernel group (issue 16). The
// profile is of the calling thread: a kernel split over the threads shows as its part 0 plus the
// wait for the others (Atomics.wait), so the groups add up to the step's wall time.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import * as G from '@mini/gpt';
import * as T from '@mini/tensor/node';

const { values } = parseArgs({ options: { top: { type: 'string', default: '30' }, write: { type: 'string' } } });

// Self time is grouped by the source file a function comes from (a kernel module of the fast
// or reference backend), else by the function's name; wasm functions by their export name.
const GROUPS = [
  ['matmul', /cpu-fast\/matmul|sgemm|^matmul$/],
  ['cross-entropy', /cross-entropy|crossEntropy/i],
  ['softmax', /softmax/i],
  ['layer norm', /layernorm|layerNorm/i],
  ['embedding', /embedding|gather|scatter/i],
  ['reduce', /reduce/],
  ['gelu', /gelu/i],
  ['dropout', /dropout/i],
  ['adamw', /adamw/i],
  ['copy / elementwise', /elementwise|copy|eachRun|stridedIndices|gatherElements|fill/],
  ['waiting for worker threads', /^\(?(idle|program)\)?$|Atomics|wait/],
  ['garbage collection', /garbage collector/],
];

function groupOf(node) {
  const { functionName, url } = node.callFrame;
  const key = `${url} ${functionName}`;
  for (const [name, re] of GROUPS) if (re.test(url.split('/').slice(-2).join('/')) || re.test(functionName)) return name;
  return key.includes('node:') ? 'node internals' : 'other JavaScript';
}

const device = await T.getDevice('cpu');
const config = G.resolveConfig('gpt2-small', G.BOOK_CONFIG_OVERRIDES);
const model = G.GPTModel.create(config, { device, seed: 123 });
const optimizer = new G.AdamW(model.params, { lr: 4e-4, weightDecay: 0.1 });
const step = async () => {
  model.zeroGrad();
  const batch = { inputs: T.randint(0, 50257, [2, 256], { device }), targets: T.randint(0, 50257, [2, 256], { device }) };
  const loss = T.tidy(() => { const l = G.batchLoss(model, batch); l.backward(); return l.data; });
  await loss.item();
  optimizer.update();
  for (const t of [loss, batch.inputs, batch.targets]) t.dispose();
};

await step(); // warm-up: the heap grows, V8 compiles
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 500 });
await session.post('Profiler.start');
const started = performance.now();
await step();
const wall = (performance.now() - started) / 1000;
const { profile } = await session.post('Profiler.stop');
session.disconnect();
if (values.write) writeFileSync(values.write, JSON.stringify(profile));

// Self time per node: samples x the interval between them.
const selfMs = new Map();
const deltas = profile.timeDeltas;
profile.samples.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + (deltas[i + 1] ?? 0) / 1000));
const byFunction = new Map();
const byGroup = new Map();
for (const node of profile.nodes) {
  const ms = selfMs.get(node.id) ?? 0;
  if (ms === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const name = `${functionName || '(anonymous)'} ${url ? `${url.split('/').slice(-2).join('/')}:${lineNumber + 1}` : ''}`.trim();
  byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  const group = groupOf(node);
  byGroup.set(group, (byGroup.get(group) ?? 0) + ms);
}
const rows = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, ms]) => `${(ms / 1000).toFixed(2).padStart(7)} s  ${k}`).join('\n');
console.log(`one training step, book's 124M layout, batch 2 x 256, CPU device (${device.backend.runtime().runner?.threads ?? 1} threads): ${wall.toFixed(2)} s wall under the profiler, ${(512 / wall).toFixed(1)} tokens/s`);
console.log(`\nself time by group:\n${rows(byGroup, 20)}`);
console.log(`\nself time by function (top ${values.top}):\n${rows(byFunction, Number(values.top))}`);
console.log(`\npeak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
model.dispose();
optimizer.dispose();
