#!/usr/bin/env node
// node bench/profile-step.mjs [--top 30] [--write step.cpuprofile] [--js-row-kernels] [--unfused-attention]: a V8 CPU profile of one
// training step of the book's 124M-layout model (batch 2 x 256, AdamW) on the CPU device, after a
// warm-up step, summarised as self time per function and per kernel group (issue 16).
// --decode N [--dtype float32|float16|bfloat16]: instead, N greedy tokens of cached decoding
// from "Every effort moves you" (after a warm-up of 5), weights in that dtype. The
// profile is of the calling thread: a kernel split over the threads shows as its part 0 plus the
// wait for the others (Atomics.wait), so the groups add up to the step's wall time.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';
import { kernelModule } from '../packages/tensor/dist/cpu-fast/wasm-runtime.js';
import { referenceKernels } from '../packages/tensor/dist/cpu/backend.js';
import { binary, copy, unary } from '../packages/tensor/dist/cpu-fast/elementwise.js';

const { values } = parseArgs({
  options: {
    top: { type: 'string', default: '30' },
    write: { type: 'string' },
    'js-row-kernels': { type: 'boolean' },
    'unfused-attention': { type: 'boolean' },
    decode: { type: 'string' },
    dtype: { type: 'string', default: 'float32' },
  },
});

// A sample counts for the kernel group of the nearest frame, itself or a caller, that belongs to
// a kernel: a WebAssembly export (by name), or a kernel module of the fast or reference backend
// (by file). So a kernel's wait for its other threads (the runner's Atomics.wait) and the
// module's internal functions count for the kernel; what has no kernel frame is the tape,
// autograd and the rest ("other JavaScript").
// Fused attention runs sgemm inside its kernels: a frame below it counts for attention.
const ENCLOSING = [['attention', /attentionBlocks|attentionBackwardHeads|cpu-fast\/attention\.js|cpu\/attention\.js/]];
const GROUPS = [
  ['matmul', /sgemm|\/matmul\.js/],
  ['cross-entropy', /logSumExpRows|softmaxScaledRows|cross-entropy\.js/],
  ['softmax', /softmax(Backward)?Rows|\/softmax\.js/],
  ['layer norm', /layerNorm(Backward)?Rows|layernorm\.js/],
  ['embedding', /embedding\.js/],
  ['reduce', /sumMiddle|reduce\.js/],
  ['gelu', /gelu/],
  ['dropout', /dropout/],
  ['adamw', /adamw/],
  ['copy / elementwise', /copyStrided|\/copy\.js|elementwise\.js/],
];

/** Export names of the kernel module's functions, by function index (imports first, as V8 numbers them). */
function wasmExportNames(bytes) {
  const names = new Map();
  let at = 8;
  const u32 = () => {
    let r = 0,
      shift = 0,
      b;
    do {
      b = bytes[at++];
      r |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return r >>> 0;
  };
  const skipName = () => {
    const n = u32();
    const s = new TextDecoder().decode(bytes.subarray(at, at + n));
    at += n;
    return s;
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = u32();
    const end = at + size;
    if (id === 7) {
      for (let count = u32(); count > 0; count--) {
        const name = skipName();
        const kind = bytes[at++];
        const index = u32();
        if (kind === 0) names.set(index, name);
      }
    }
    at = end;
  }
  return names;
}
const exportNames = wasmExportNames(kernelModule(true).bytes);

function frameKey({ functionName, url }) {
  const wasm = /^wasm-function\[(\d+)\]$/.exec(functionName);
  if (wasm) return exportNames.get(Number(wasm[1])) ?? '';
  return `${url} ${functionName}`;
}

const device = await T.getDevice('cpu');
if (values['js-row-kernels']) {
  const { softmax, softmaxBackward, layerNorm, layerNormBackward, crossEntropy, crossEntropyBackward, reduce } =
    referenceKernels;
  Object.assign(device.backend.kernels, {
    softmax,
    softmaxBackward,
    layerNorm,
    layerNormBackward,
    crossEntropy,
    crossEntropyBackward,
    reduce,
    copy,
    unary,
    binary,
  });
}
const config = G.resolveConfig('gpt2-small', G.BOOK_CONFIG_OVERRIDES);
let model = G.GPTModel.create(config, { device, seed: 123 });
const decodeTokens = values.decode === undefined ? 0 : Number(values.decode);
if (values.dtype !== 'float32') model = G.convertModel(model, values.dtype);
model.fusedAttention = !values['unfused-attention'];
const optimizer = decodeTokens ? null : new G.AdamW(model.params, { lr: 4e-4, weightDecay: 0.1 });
const prompt = G.textToIds('Every effort moves you');
const step = decodeTokens
  ? async (warmUp) => {
      await G.generate(model, prompt, { maxNewTokens: warmUp ? 5 : decodeTokens });
    }
  : async () => {
      model.zeroGrad();
      const batch = {
        inputs: T.randint(0, 50257, [2, 256], { device }),
        targets: T.randint(0, 50257, [2, 256], { device }),
      };
      const loss = T.tidy(() => {
        const l = G.batchLoss(model, batch);
        l.backward();
        return l.data;
      });
      await loss.item();
      optimizer.update();
      for (const t of [loss, batch.inputs, batch.targets]) t.dispose();
    };

await step(true); // warm-up: the heap grows, V8 compiles
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
const parent = new Map();
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
function groupOf(id) {
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const key = frameKey(byId.get(at).callFrame);
    for (const [name, re] of ENCLOSING) if (re.test(key)) return name;
  }
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const key = frameKey(byId.get(at).callFrame);
    for (const [name, re] of GROUPS) if (re.test(key)) return name;
  }
  const own = byId.get(id).callFrame.functionName;
  return /garbage collector/.test(own)
    ? 'garbage collection'
    : /^\((idle|program)\)$/.test(own)
      ? own
      : 'other JavaScript';
}
const byFunction = new Map();
const byGroup = new Map();
for (const node of profile.nodes) {
  const ms = selfMs.get(node.id) ?? 0;
  if (ms === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const exported = frameKey(node.callFrame);
  const wasm = functionName.startsWith('wasm-function');
  const name = wasm
    ? `${functionName} (${exported || `inside ${groupOf(node.id)}`})`
    : `${functionName || '(anonymous)'} ${url ? `${url.split('/').slice(-2).join('/')}:${lineNumber + 1}` : ''}`.trim();
  byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  const group = groupOf(node.id);
  byGroup.set(group, (byGroup.get(group) ?? 0) + ms);
}
const rows = (map, n) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, ms]) => `${(ms / 1000).toFixed(2).padStart(7)} s  ${k}`)
    .join('\n');
const what = decodeTokens
  ? `${decodeTokens} tokens of cached greedy decoding, ${values.dtype} weights`
  : 'one training step, batch 2 x 256';
const rate = (decodeTokens || 512) / wall;
console.log(
  `${what}, book's 124M layout, CPU device (${device.backend.runtime().runner?.threads ?? 1} threads, ${model.fusedAttention ? 'fused' : 'unfused'} attention, ${T.nativeStatus().summary}): ${wall.toFixed(2)} s wall under the profiler, ${rate.toFixed(1)} tokens/s`,
);
console.log(`\nself time by group:\n${rows(byGroup, 20)}`);
console.log(`\nself time by function (top ${values.top}):\n${rows(byFunction, Number(values.top))}`);
console.log(`\npeak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
model.dispose();
optimizer?.dispose();
