#!/usr/bin/env node
// npm run bench [-- --quick] [-- --json] [-- --train-step] [-- --attention] [-- --big ...]: the figures users
// compare, one per line with units; --train-step: only the training step and its PyTorch peer;
// --decode [--no-peer]: only decoding of the book's model (float32 beside PyTorch's, then bfloat16, float16, int8 and int4;
// the full run takes these lines from a child process with --decode);
// --webgpu [--quick]: only WebGPU, no CPU, tfjs or PyTorch lines but the CPU device's decoding beside
// WebGPU's: each matmul/matvec shape of a 124M step and of decoding timed with timestamp queries
// (bench/webgpu-kernels.mjs), then dispatches, host time, reads, the training step and cached decoding
// (bench/webgpu-host.mjs); the adapter named on each line.
// --corpus [--corpus-sizes 50,200]: only prepare and train on a generated corpus (bench/corpus.mjs).
// --attention: only attention, fused and unfused (gpt2-xl's at 1024 tokens, the book's; bench/attention.mjs).
// --webgpu-attention [--decode-model]: only the WebGPU attention kernels (bench/webgpu-attention.mjs).
// --webgpu-matmul [--matmul-tiles 16x8x8x8,...] [--budget S]: only the matmul lines of --webgpu for a
// training step's shapes, in the adapter's own tiles or in the given ones (bench/webgpu-kernels.mjs).
// --book-run [--epochs N] [--book-data FILE] [--book-out DIR] [--seed S]: only the book's whole run, `npx mini-gpt
// train`'s wall time beside PyTorch's (bench/pytorch_book_run.py book) on the same text (default: The
// Verdict) and recipe, and the two loss tables side by side with whether every line matches
// (bench/book-table.mjs); slow (N = 10: tens of minutes each on 2 cores), so only when asked.
// --big adds the 16-bit weights' accuracy (bench/half-quality.mjs) and GPT-2 medium/large/xl load,
// first token, decode and peak RSS per dtype, and the gpt2-medium training step (bench/big-models.mjs;
// --sizes, --dtypes, --tokens, --train medium|none, --node: by default Node 24 from tools/node24, memory64).
// Each figure is measured here, in this run, on this machine (see README "Performance").
// Backends: the CPU device (matmul in the native addon where it was built, else WebAssembly SIMD;
// threads), cpu-wasm (the same device with matmul in WebAssembly, when the addon runs), the CPU reference kernels,
// WebGPU when an adapter is found (software adapters are correctness targets: their figures
// say so), @tensorflow/tfjs-backend-wasm as a peer line for matmul, and PyTorch (bench/peers/
// pytorch.mjs, skipped without a Python with torch) beside the training step. Without --quick,
// the FMA ceilings per core and one thread's matmul against them (bench/ceilings.mjs).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';
import { loadavg } from 'node:os';
import { attentionLines } from './attention.mjs';
import { pytorchLines, sideBySide, transcriptLines } from './book-table.mjs';
import { bigModelLines } from './big-models.mjs';
import { ceilingLines } from './ceilings.mjs';
import { corpusLines } from './corpus.mjs';
import { halfQualityLines } from './half-quality.mjs';
import { quantQualityLines } from './quant-quality.mjs';
import { pytorchGenerate, pytorchTrainStep, runPytorch } from './peers/pytorch.mjs';
import { trainingStep } from './train-step.mjs';
import { STEP_SHAPES, kernelLines, matmulProfileFromSpec, webgpuLines } from './webgpu-kernels.mjs';
import { webgpuAttentionLines } from './webgpu-attention.mjs';
import { adapterName, webgpuHostLines } from './webgpu-host.mjs';

const args = new Set(process.argv.slice(2));
const big = args.has('--big');
const quick = args.has('--quick');
const json = args.has('--json');
const trainStepOnly = args.has('--train-step');
const attentionOnly = args.has('--attention');
const decodeOnly = args.has('--decode');
const bookRun = args.has('--book-run');
const webgpuOnly = args.has('--webgpu');
const argValue = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};

function report(name, backend, value, unit, note = '') {
  if (json)
    process.stdout.write(
      `${JSON.stringify({ name, backend, value: Number(value.toPrecision(4)), unit, ...(note ? { note } : {}) })}\n`,
    );
  else process.stdout.write(`${name} ${backend}: ${Number(value.toPrecision(4))} ${unit}${note ? ` (${note})` : ''}\n`);
}

/** Median seconds of `fn` (async, must wait for its own result) over `reps` runs after a warm-up. */
async function seconds(fn, reps) {
  await fn();
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    times.push((performance.now() - t) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const SHAPES = [
  ['matmul_1024', 1024, 1024, 1024],
  ['matmul_512x768x2304', 512, 768, 2304],
  ['matmul_512x768x3072', 512, 768, 3072],
  ['matmul_512x3072x768', 512, 3072, 768],
  ['matvec_768x50257', 1, 768, 50257],
];
// Decoding gpt2-xl in float16: its MLP's matvec, memory-bound (GB/s of weight read is the figure).
const HALF_MATVEC = ['matvec_1600x6400_f16', 1, 1600, 6400];

async function matmuls(device, backend, shapes, reps) {
  for (const [name, M, K, N] of shapes) {
    const a = T.randn([M, K], { device });
    const b = T.randn([K, N], { device });
    const s = await seconds(async () => {
      const c = T.matmul(a, b);
      await c.toArray();
      c.dispose();
    }, reps);
    // A matvec reads its whole weight once: the figure to hold against the read_bandwidth line.
    const read = M === 1 ? `${((4 * K * N) / s / 1e9).toFixed(1)} GB/s of weight read` : '';
    report(
      name,
      backend,
      (2 * M * N * K) / s / 1e9,
      'GFLOP/s',
      [read, backend === 'webgpu' ? adapterName(device) : ''].filter(Boolean).join('; '),
    );
    a.dispose();
    b.dispose();
  }
}

/** The float16-weight matvec: GB/s of weight streamed (decoding reads every weight once per token). */
async function halfMatvec(device, backend, reps) {
  const [name, M, K, N] = HALF_MATVEC;
  const a = T.randn([M, K], { device });
  const b = T.randn([K, N], { device }).astype('float16');
  const s =
    (await seconds(async () => {
      for (let i = 0; i < 10; i++) T.matmul(a, b).dispose();
    }, reps)) / 10;
  report(name, backend, (2 * K * N) / s / 1e9, 'GB/s', `${((2 * M * N * K) / s / 1e9).toFixed(1)} GFLOP/s`);
  a.dispose();
  b.dispose();
}

async function tfjsMatmuls(shapes, reps) {
  let tf;
  let setWasmPaths;
  try {
    tf = await import('@tensorflow/tfjs-core');
    ({ setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm'));
  } catch {
    // A development dependency: the benchmark bundle (npm run bench:bundle) leaves it out.
    process.stderr.write('tfjs-wasm peer skipped: @tensorflow/tfjs-backend-wasm is not installed\n');
    return;
  }
  const require = createRequire(import.meta.url);
  setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}/`);
  await tf.setBackend('wasm');
  await tf.ready();
  for (const [name, M, K, N] of shapes) {
    const a = tf.randomNormal([M, K]);
    const b = tf.randomNormal([K, N]);
    const s = await seconds(async () => {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    }, reps);
    const read = M === 1 ? `; ${((4 * K * N) / s / 1e9).toFixed(1)} GB/s of weight read` : '';
    report(
      name,
      'tfjs-wasm',
      (2 * M * N * K) / s / 1e9,
      'GFLOP/s',
      `@tensorflow/tfjs-backend-wasm 4.22, SIMD on 1 thread: its threaded build does not run in Node${read}`,
    );
    a.dispose();
    b.dispose();
  }
}

/** One training step of the book's model (batch 2 x 256, untied head, AdamW): tokens/s and peak RSS (the process's: CPU only). */
async function trainStep(device, backend, { rss = true } = {}) {
  const config = G.resolveConfig('gpt2-small', G.BOOK_CONFIG_OVERRIDES);
  const started = performance.now();
  const model = G.GPTModel.create(config, { device, seed: 123 });
  const made = (performance.now() - started) / 1000;
  report(
    'init_124m',
    backend,
    made,
    's',
    `the book's model's random initialisation (${(G.parameterCount(config) / 1e6).toFixed(0)} M parameters: uniform on the device's kernel, normal on the host)`,
  );
  const optimizer = new G.AdamW(model.params, { lr: 4e-4, weightDecay: 0.1 });
  const s = await seconds(trainingStep(model, optimizer, device), 1);
  report('train_step_124m', backend, 512 / s, 'tokens/s', `${s.toFixed(1)} s per step`);
  if (rss) report('peak_rss_train_124m', backend, process.resourceUsage().maxRSS / 1024, 'MB');
  // The moments and gradients (2.6 GB of the heap) go before whatever the run measures next.
  optimizer.dispose();
  model.zeroGrad();
  return model;
}

/** PyTorch's step on the same model, batch and optimizer, run right after ours (bench/peers/pytorch.mjs). */
function pytorchStep(steps) {
  const step = pytorchTrainStep({ steps });
  if (!step) return;
  const note = `PyTorch ${step.torch}, ${step.threads} threads, BLAS ${step.blas}; ${step.seconds.toFixed(1)} s per step`;
  report('train_step_124m', 'pytorch', step.tokensPerSecond, 'tokens/s', note);
  report('peak_rss_train_124m', 'pytorch', step.peakRssMB, 'MB');
}

/**
 * Greedy generation of 50 tokens from "Every effort moves you", with and without the KV cache;
 * `peer`: PyTorch's cached greedy decoding of the same model right after (bench/pytorch_generate.py,
 * float32; one warm-up run each side), with the ratio (the goal: at least 2x); then, cached, the same model's weights in
 * bfloat16 and float16 (decoding reads every weight once a token: half the bytes), each with its
 * ratio to that PyTorch figure.
 */
async function generation(model, backend, { withoutCache = false, peer = false } = {}) {
  const prompt = G.textToIds('Every effort moves you');
  const tokensPerSecond = async (m, useCache) => {
    await G.generate(m, prompt, { maxNewTokens: 5, useCache }); // warm-up, as PyTorch's run has one
    const t = performance.now();
    await G.generate(m, prompt, { maxNewTokens: 50, useCache });
    return 50 / ((performance.now() - t) / 1000);
  };
  let torch = null;
  for (const useCache of withoutCache ? [true, false] : [true]) {
    const rate = await tokensPerSecond(model, useCache);
    report(`generate_50_${useCache ? 'cache' : 'nocache'}_124m`, backend, rate, 'tokens/s');
    if (!useCache || !peer) continue;
    torch = pytorchGenerate({ promptIds: prompt, tokens: 50 });
    if (!torch) continue;
    const note = `PyTorch ${torch.torch} with a KV cache, ${torch.threads} threads, BLAS ${torch.blas}; ${backend} / pytorch = ${(rate / torch.tokensPerSecond).toFixed(2)}x`;
    report('generate_50_cache_124m', 'pytorch', torch.tokensPerSecond, 'tokens/s', note);
  }
  for (const [dtype, short] of [
    ['bfloat16', 'bf16'],
    ['float16', 'f16'],
  ]) {
    const half = G.convertModel(model, dtype);
    const rate = await tokensPerSecond(half, true);
    report(
      `generate_50_cache_124m_${short}`,
      backend,
      rate,
      'tokens/s',
      `${dtype} weights${torch ? `; ${backend} / pytorch (float32) = ${(rate / torch.tokensPerSecond).toFixed(2)}x` : ''}`,
    );
    half.dispose();
  }
  for (const [dtype, short] of [
    ['int8', 'i8'],
    ['int4', 'i4'],
  ]) {
    const quantized = await G.quantizeModel(model, dtype);
    const rate = await tokensPerSecond(quantized, true);
    report(
      `generate_50_cache_124m_${short}`,
      backend,
      rate,
      'tokens/s',
      `${dtype} weights (${dtype === 'int8' ? 'q8_0' : 'q4_0'}, embeddings float16)${torch ? `; ${backend} / pytorch (float32) = ${(rate / torch.tokensPerSecond).toFixed(2)}x` : ''}`,
    );
    quantized.dispose();
  }
}

/**
 * The decoding lines (`--decode`) from a child process, reported as `backend`: a process whose
 * heap held a training step's tensors could not place a 16-bit copy of the model in it (the
 * size-class allocator's free blocks were the wrong sizes: 87 MB of weights outside the heap,
 * copied in by every matmul, and bfloat16 decoding at half its speed), which measured the heap,
 * not decoding. `env`: the child's (MINI_GPT_NATIVE=0 for the WebAssembly matmul).
 */
function decodeInChild(backend, env, peer) {
  const child = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), '--decode', '--json', ...(peer ? [] : ['--no-peer'])],
    { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (child.status !== 0) throw new Error(`bench --decode exited with ${child.status}`);
  for (const line of child.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))) {
    if (!line.name.startsWith('generate_')) continue;
    report(
      line.name,
      line.backend === 'pytorch' ? 'pytorch' : backend,
      line.value,
      line.unit,
      (line.note ?? '').replace(/\bcpu \/ pytorch/g, `${backend} / pytorch`),
    );
  }
}

/**
 * The book's whole run (`npx mini-gpt train --profile`: 10 epochs by default, evaluations,
 * samples, checkpoints; its transcript shown on stderr as it runs) and PyTorch's
 * (bench/pytorch_book_run.py book: the book's code, same text and recipe), one after the other:
 * wall-clock seconds of each, with the ratio. `keep`: ours' run folder (checkpoint, losses.csv,
 * plots, transcript.txt) goes there instead of a temporary folder.
 */
function bookRunLines(epochs, text, keep, seed = '123') {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const loss = (x) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(3) : 'NaN');
  const dir = mkdtempSync(join(tmpdir(), 'mini-gpt-book-run-'));
  const out = keep ?? join(dir, 'mini-gpt');
  try {
    let t = performance.now();
    const ours = spawnSync(
      process.execPath,
      [
        join(root, 'packages', 'cli', 'bin', 'mini-gpt.js'),
        'train',
        '--data',
        text,
        '--device',
        'cpu',
        '--epochs',
        String(epochs),
        '--seed',
        seed,
        '--out',
        out,
        '--profile',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const oursSeconds = (performance.now() - t) / 1000;
    process.stderr.write(ours.stdout);
    if (ours.status !== 0) throw new Error(`npx mini-gpt train exited with ${ours.status}`);
    writeFileSync(join(out, 'transcript.txt'), ours.stdout);
    // The last evaluation (losses.csv: step, epoch, tokens seen, train loss, val loss) and the --profile table's phases.
    const [step, , , trainLoss, valLoss] = readFileSync(join(out, 'losses.csv'), 'utf8')
      .trim()
      .split('\n')
      .pop()
      .split(',')
      .map(Number);
    const phases = [...ours.stdout.matchAll(/^ {2}(steps|evaluations|samples|checkpoints) .*?([\d.]+) s +\d+ %/gm)]
      .map((m) => `${m[1]} ${Number(m[2]).toFixed(0)} s`)
      .join(', ');
    report(
      `book_run_${epochs}_epochs`,
      'cpu',
      oursSeconds,
      's',
      `npx mini-gpt train --epochs ${epochs}, last evaluation at step ${step}, losses ${loss(trainLoss)} / ${loss(valLoss)}${phases ? `; ${phases}` : ''}`,
    );
    // PyTorch reads mini-gpt's token ids (Debian's Python has no tiktoken): data.json.
    const data = spawnSync(
      process.execPath,
      [join(root, 'bench', 'book-trajectory.mjs'), '--out', dir, '--steps', '0', '--data', text],
      { encoding: 'utf8' },
    );
    if (data.status !== 0)
      throw new Error(`bench/book-trajectory.mjs exited with ${data.status}: ${data.stderr.trim().split('\n').pop()}`);
    t = performance.now();
    const torch = runPytorch('pytorch_book_run.py', ['book', dir, '--seed', seed, '--epochs', String(epochs)], {
      what: 'book run',
    });
    const torchSeconds = (performance.now() - t) / 1000;
    if (!torch) return;
    // Python writes a NaN loss (no validation window) as NaN, which JSON has not.
    const last = JSON.parse(
      readFileSync(join(dir, `pytorch-seed${seed}.jsonl`), 'utf8')
        .trim()
        .split('\n')
        .pop()
        .replace(/\bNaN\b/g, 'null'),
    ).records.at(-1);
    report(
      `book_run_${epochs}_epochs`,
      'pytorch',
      torchSeconds,
      's',
      `bench/pytorch_book_run.py book --epochs ${epochs}, final losses ${loss(last.trainLoss)} / ${loss(last.valLoss)}; pytorch / cpu = ${(torchSeconds / oursSeconds).toFixed(2)}x`,
    );
    // The two tables side by side (bench/book-table.mjs): with the torch stream, line for line.
    const table = sideBySide(
      transcriptLines(ours.stdout),
      pytorchLines(readFileSync(join(dir, `pytorch-seed${seed}.jsonl`), 'utf8')),
    );
    if (!json) process.stdout.write(`seed ${seed}:\n${table.text}\n`);
    report(`book_run_${epochs}_epochs_lines_matching`, 'cpu', table.matching, `of ${table.total}`, `seed ${seed}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Loading a gpt2-small-shaped checkpoint (written here): seconds. */
async function load(device, backend) {
  const dir = mkdtempSync(join(tmpdir(), 'mini-gpt-bench-'));
  const config = G.resolveConfig('gpt2-small');
  await G.writeTextAtomic(join(dir, 'config.json'), JSON.stringify(G.toHFConfig(config)));
  await G.writeFileAtomic(join(dir, 'model.safetensors'), (sink) =>
    G.writeSafetensors(
      sink,
      Object.entries(G.parameterShapes(config)).map(([name, shape]) => ({
        name,
        shape,
        dtype: 'F32',
        data: async () => new Float32Array(shape.reduce((p, d) => p * d, 1)).fill(0.01),
      })),
    ),
  );
  const t = performance.now();
  const loaded = await G.loadModel(dir, device);
  report('load_124m', backend, (performance.now() - t) / 1000, 's');
  loaded.dispose();
  rmSync(dir, { recursive: true, force: true });
}

const reps = quick ? 1 : 3;
if (args.has('--corpus')) {
  corpusLines(report, argValue('--corpus-sizes', '50,200').split(',').map(Number));
  process.exit(0);
}
if (bookRun) {
  bookRunLines(
    Number(argValue('--epochs', '10')),
    argValue('--book-data', fileURLToPath(new URL('../packages/cli/data/the-verdict.txt', import.meta.url))),
    argValue('--book-out', undefined),
    argValue('--seed', '123'),
  );
  process.exit(0);
}
if (webgpuOnly) {
  // Only WebGPU: the matmuls, the host path's counts and timings (bench/webgpu-host.mjs); no CPU,
  // tfjs or PyTorch lines (the GPU bundle's run.sh --webgpu prints these, then its CUDA peer).
  const gpu = await T.getDevice('webgpu').catch((e) => {
    process.stderr.write(`no WebGPU adapter: ${e.message}\n`);
    process.exit(1);
  });
  await matmuls(gpu, 'webgpu', quick ? SHAPES.slice(1, 2) : SHAPES, gpu.info.software ? 1 : reps);
  await webgpuHostLines(report, gpu, { quick, reps });
  // Decoding beside the CPU device's in the same run, then each product timed by timestamps.
  await webgpuLines(report, await T.getDevice('cpu'), { quick });
  process.exit(0);
}
const cpu = await T.getDevice('cpu');
// Where matmul runs natively, the same device with WebAssembly matmul is measured beside it.
const native = cpu.backend.runtime().native;
const wasmCpu = native
  ? new T.Device(T.createFastCpuBackend({ native: false }), { kind: 'cpu', description: 'CPU, WebAssembly matmul' })
  : null;
report(
  'load_average',
  'machine',
  loadavg()[0],
  '',
  `1-minute load average at the start on ${(await import('node:os')).availableParallelism()} cores`,
);
report('native_kernels', 'cpu', native ? 1 : 0, 'flag', T.nativeStatus().summary);
if (trainStepOnly) {
  (await trainStep(cpu, 'cpu')).dispose();
  pytorchStep(reps);
  if (wasmCpu) (await trainStep(wasmCpu, 'cpu-wasm', { rss: false })).dispose();
  report('load_average', 'machine', loadavg()[0], '', '1-minute load average at the end');
  process.exit(0);
}
if (decodeOnly) {
  // Only decoding of the book's model (random weights): float32 with and without the KV cache,
  // PyTorch's (unless --no-peer), then 16-bit.
  const model = G.GPTModel.create(G.resolveConfig('gpt2-small', G.BOOK_CONFIG_OVERRIDES), { device: cpu, seed: 123 });
  await generation(model, 'cpu', { withoutCache: true, peer: !args.has('--no-peer') });
  model.dispose();
  report('load_average', 'machine', loadavg()[0], '', '1-minute load average at the end');
  process.exit(0);
}
if (attentionOnly) {
  await attentionLines(report, cpu, 'cpu', reps);
  process.exit(0);
}
if (args.has('--webgpu-matmul')) {
  // Only the training step's matmuls on WebGPU, optionally in other tiles (docs/webgpu-kernels.md).
  const gpu = await T.getDevice('webgpu');
  const spec = argValue('--matmul-tiles', undefined);
  if (spec) gpu.backend.setMatmulProfile(matmulProfileFromSpec(spec, gpu.backend.matmulProfile.maxKPerDispatch));
  process.stderr.write(`matmul tiles: ${gpu.backend.matmulProfile.name}\n`);
  await kernelLines(report, gpu, { shapes: STEP_SHAPES, budget: Number(argValue('--budget', '1')) });
  process.exit(0);
}
if (args.has('--webgpu-attention')) {
  // Only the WebGPU attention kernels (bench/webgpu-attention.mjs; --decode-model adds cached decoding).
  await webgpuAttentionLines(report, await T.getDevice('webgpu'), 'webgpu', {
    decodeModel: args.has('--decode-model'),
  });
  process.exit(0);
}
report(
  'threads',
  'cpu',
  Number(process.env.MINI_GPT_THREADS) || (await import('node:os')).availableParallelism(),
  'threads',
);
report(
  'relaxed_simd',
  'cpu',
  cpu.backend.runtime().relaxedSimd ? 1 : 0,
  'flag',
  '1: fused multiply-add (relaxed SIMD) build; 0: plain SIMD 128',
);
await matmuls(cpu, 'cpu', SHAPES, reps);
if (wasmCpu) await matmuls(wasmCpu, 'cpu-wasm', SHAPES, reps);
await halfMatvec(cpu, 'cpu', reps);
if (wasmCpu) await halfMatvec(wasmCpu, 'cpu-wasm', reps);
await tfjsMatmuls(SHAPES, reps);
await matmuls(T.cpu, 'cpu-reference', quick ? SHAPES.slice(4) : SHAPES.slice(1, 2).concat(SHAPES.slice(4)), 1);
if (!quick) {
  (await trainStep(cpu, 'cpu')).dispose();
  pytorchStep(reps);
  decodeInChild('cpu', process.env, true);
  if (wasmCpu) {
    (await trainStep(wasmCpu, 'cpu-wasm', { rss: false })).dispose();
    decodeInChild('cpu-wasm', { ...process.env, MINI_GPT_NATIVE: '0' }, false);
  }
  await ceilingLines(report);
}
await load(cpu, 'cpu');
await attentionLines(report, cpu, 'cpu', reps);
const gpu = await T.getDevice('webgpu').catch(() => null);
if (gpu) {
  await matmuls(gpu, 'webgpu', quick ? SHAPES.slice(1, 2) : SHAPES, 1);
  // The timings of the whole model on a GPU only (a software adapter: bench -- --webgpu).
  await webgpuHostLines(report, gpu, { quick, reps, speed: !gpu.info.software });
  await webgpuAttentionLines(report, gpu, 'webgpu');
} else {
  process.stderr.write('no WebGPU adapter: WebGPU figures skipped\n');
}
if (big) {
  await halfQualityLines(report);
  await quantQualityLines(report, process.argv.slice(2));
  await bigModelLines(report, process.argv.slice(2));
}
report('load_average', 'machine', loadavg()[0], '', '1-minute load average at the end');
