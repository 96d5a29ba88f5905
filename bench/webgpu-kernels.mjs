// `npm run bench -- --webgpu`: the WebGPU figures of issue 22, each line naming the adapter.
// - decodeLines: cached greedy decoding of the book's 124M-shaped model (random weights) on
//   WebGPU and on the CPU device, in the same process one after the other, and their ratio.
// - kernelLines: each matmul/matvec shape of a 124M training step (batch 2 x 256) and of
//   decoding (one row), timed over repeated dispatches with timestamp queries where the
//   device has `timestamp-query` (the figure is GPU time), else wall time to the end of the
//   work (said on the line); GFLOP/s, and for one-row products the GB/s of weight read.
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';

const PROMPT = 'Every effort moves you';

/**
 * Tokens/s of cached greedy decoding of `tokens` tokens after a warm-up of 2, for the book's
 * 124M model created on `device` with seed 123.
 */
async function decodeRate(device, tokens) {
  const model = G.GPTModel.create(G.resolveConfig('gpt2-small', G.BOOK_CONFIG_OVERRIDES), { device, seed: 123 });
  const prompt = G.textToIds(PROMPT);
  await G.generate(model, prompt, { maxNewTokens: 2, temperature: 0 });
  const t = performance.now();
  await G.generate(model, prompt, { maxNewTokens: tokens, temperature: 0 });
  const rate = tokens / ((performance.now() - t) / 1000);
  model.dispose();
  return rate;
}

/** generate_cache_124m lines for WebGPU and the CPU device, and WebGPU's ratio to the CPU's. */
export async function decodeLines(report, cpu, gpu, { gpuTokens = 20, cpuTokens = 50 } = {}) {
  const adapter = gpu.info.description;
  const g = await decodeRate(gpu, gpuTokens);
  report('generate_cache_124m', 'webgpu', g, 'tokens/s', `${gpuTokens} tokens after "${PROMPT}"; ${adapter}`);
  const c = await decodeRate(cpu, cpuTokens);
  report('generate_cache_124m', 'cpu', c, 'tokens/s', `${cpuTokens} tokens, same run; ${cpu.info.description}`);
  report('generate_cache_124m_ratio', 'webgpu/cpu', g / c, 'x', `issue 22 goal: at least 0.02; ${adapter}`);
}

// [name, M, K, N, transA, transB]: the products of one training step of the book's 124M model
// (batch 2 x 256 = 512 rows, 12 layers of each), forward, input gradients (g @ W^T) and weight
// gradients (x^T @ g); then one decoded token's (M = 1) products.
export const STEP_SHAPES = [
  ['step_qkv', 512, 768, 2304, false, false],
  ['step_attn_proj', 512, 768, 768, false, false],
  ['step_mlp_fc', 512, 768, 3072, false, false],
  ['step_mlp_proj', 512, 3072, 768, false, false],
  ['step_head', 512, 768, 50257, false, true],
  ['step_qkv_dx', 512, 2304, 768, false, true],
  ['step_attn_proj_dx', 512, 768, 768, false, true],
  ['step_mlp_fc_dx', 512, 3072, 768, false, true],
  ['step_mlp_proj_dx', 512, 768, 3072, false, true],
  ['step_head_dx', 512, 50257, 768, false, false],
  ['step_qkv_dw', 768, 512, 2304, true, false],
  ['step_attn_proj_dw', 768, 512, 768, true, false],
  ['step_mlp_fc_dw', 768, 512, 3072, true, false],
  ['step_mlp_proj_dw', 3072, 512, 768, true, false],
  ['step_head_dw', 50257, 512, 768, true, false],
];
export const DECODE_SHAPES = [
  ['decode_qkv', 1, 768, 2304, false, false],
  ['decode_attn_proj', 1, 768, 768, false, false],
  ['decode_mlp_fc', 1, 768, 3072, false, false],
  ['decode_mlp_proj', 1, 3072, 768, false, false],
  ['decode_head', 1, 768, 50257, false, true],
];

/**
 * A matmul profile that always runs the tiles of `spec` (`--matmul-tiles`): comma-separated
 * `XxYxRxC` = X x Y invocations of R x C outputs (R and C 4 or 8), e.g. `16x8x8x8`.
 */
export function matmulProfileFromSpec(spec, maxKPerDispatch) {
  const tiles = spec.split(',').map((s) => {
    const [x, y, r, c] = s.split('x').map(Number);
    if (![x, y].every((v) => v > 0) || ![r, c].every((v) => v === 4 || v === 8))
      throw new Error(`--matmul-tiles: "${s}" is not XxYxRxC with R and C 4 or 8`);
    return { threadsX: x, threadsY: y, wideM: r === 8, wideN: c === 8 };
  });
  // matvecSplitK: read when a backend opens (setMatmulProfile leaves its matvec layout alone).
  return { name: spec, tiles, minWorkgroups: 1, splitKBelow: 16, maxKPerDispatch, matvecSplitK: false };
}

/** Seconds of GPU time between a pass's start and end timestamps, over `fn`'s dispatches; null if the pass was cut. */
export async function timedOnGpu(gpu, fn) {
  const backend = gpu.backend;
  const device = backend.device;
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolve = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    backend.flush();
    const submits = backend.counters.submits;
    backend.beginTimedPass({ querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 });
    fn();
    // A flush inside fn (a full uniform arena) would have ended the timed pass early.
    const cut = backend.counters.submits !== submits;
    backend.flush();
    const encoder = device.createCommandEncoder();
    encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
    encoder.copyBufferToBuffer(resolve, 0, read, 0, 16);
    device.queue.submit([encoder.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const [start, end] = new BigInt64Array(read.getMappedRange().slice(0));
    read.unmap();
    return cut ? null : Number(end - start) / 1e9;
  } finally {
    querySet.destroy();
    resolve.destroy();
    read.destroy();
  }
}

/** Wall-clock seconds from an idle device until `fn`'s work has finished. */
export async function timedOnWall(gpu, fn) {
  await gpu.backend.sync();
  const t = performance.now();
  fn();
  await gpu.backend.sync();
  return (performance.now() - t) / 1000;
}

/**
 * GPU seconds (timestamp queries where the device has them, else wall time) per call of `op` on
 * the inputs `make(device)` returns, over `reps` calls after one warm-up; disposes the inputs
 * (nested arrays too). Returns `{ seconds, clock }`.
 */
export async function kernelSeconds(device, make, op, reps = 2) {
  const inputs = make(device);
  const run = () => {
    for (let i = 0; i < reps; i++) T.tidy(() => op(...inputs));
  };
  T.tidy(() => op(...inputs));
  await device.backend.sync();
  const timestamps = device.backend.device.features.has('timestamp-query');
  const s = (timestamps ? await timedOnGpu(device, run) : null) ?? (await timedOnWall(device, run));
  for (const t of inputs.flat()) if (t instanceof T.Tensor) t.dispose();
  return { seconds: s / reps, clock: timestamps ? 'timestamp queries' : 'wall time' };
}

/**
 * One line per shape: seconds per product from `reps` back-to-back products (reps chosen from a
 * first product so that a shape takes about `budget` seconds, at most 64), GFLOP/s, the GB/s of
 * weight read for one-row products, dispatches per product, and the clock and adapter used.
 */
export async function kernelLines(report, gpu, { budget = 1, shapes = [...STEP_SHAPES, ...DECODE_SHAPES] } = {}) {
  const adapter = gpu.info.description;
  const backend = gpu.backend;
  const timestamps = backend.device.features.has('timestamp-query');
  const clock = timestamps ? 'timestamp queries' : 'wall time (no timestamp-query)';
  const decodeDtypes = ['float32', 'float16', 'bfloat16'];
  for (const [name, M, K, N, transA, transB] of shapes) {
    for (const dtype of M <= 4 ? decodeDtypes : ['float32']) {
      const a = T.randn(transA ? [K, M] : [M, K], { device: gpu });
      const w = T.randn(transB ? [N, K] : [K, N], { device: gpu });
      const b = dtype === 'float32' ? w : w.astype(dtype);
      if (b !== w) w.dispose();
      const run = (reps) => () => {
        for (let i = 0; i < reps; i++) T.matmul(a, b, { transA, transB }).dispose();
      };
      // One product first (a product that takes longer than half the budget is reported from
      // it: a training shape takes tens of seconds on a software adapter), then enough for the budget.
      const time = async (reps) => {
        const s = timestamps ? await timedOnGpu(gpu, run(reps)) : null;
        return s === null ? { s: await timedOnWall(gpu, run(reps)), used: 'wall time' } : { s, used: clock };
      };
      const before = backend.counters.dispatches;
      let { s: seconds, used } = await time(1);
      const dispatches = backend.counters.dispatches - before;
      let reps = 1;
      if (seconds < budget / 2) {
        reps = Math.min(64, Math.floor(budget / seconds));
        ({ s: seconds, used } = await time(reps));
      }
      const per = seconds / reps;
      const bytes = K * N * (dtype === 'float32' ? 4 : 2);
      const note = [
        `${(per * 1e3).toPrecision(3)} ms`,
        M <= 4 ? `${(bytes / per / 1e9).toPrecision(3)} GB/s of ${dtype} weight` : '',
        `${dispatches} dispatch${dispatches === 1 ? '' : 'es'}, ${reps} reps, ${used}`,
        adapter,
      ];
      const label = `${name}_${M}x${K}x${N}${transA ? '_tA' : ''}${transB ? '_tB' : ''}${dtype === 'float32' ? '' : `_${dtype}`}`;
      report(label, 'webgpu', (2 * M * K * N) / per / 1e9, 'GFLOP/s', note.filter(Boolean).join('; '));
      a.dispose();
      b.dispose();
    }
  }
}

// [name, elements, build]: the elementwise kernels of a 124M training step (batch 2 x 256 rows),
// each returning the tensors it made: a residual add (768 wide), GELU and its backward (3,072
// wide), a scaled copy (mulScalar), and the residual add fused with dropout 0.1.
const ELEMENTWISE = [
  ['elementwise_add', 512 * 768, (x, y) => [T.add(x, y)]],
  ['elementwise_mul_scalar', 512 * 768, (x) => [T.mul(x, 0.5)]],
  ['elementwise_gelu', 512 * 3072, (x) => [T.gelu(x)]],
  ['elementwise_gelu_backward', 512 * 3072, (x, y) => [T.geluBackward(x, y)]],
  ['elementwise_residual_dropout', 512 * 768, (x, y) => [T.residualDropout(x, y, 0.1, new T.Generator(3)).out]],
];

/**
 * One line per elementwise kernel of ELEMENTWISE: GB/s of operands read and written, from
 * timestamp queries over `reps` back-to-back calls (wall time where the device has none).
 */
export async function elementwiseLines(report, gpu, { reps = 16 } = {}) {
  const adapter = gpu.info.description;
  const backend = gpu.backend;
  const timestamps = backend.device.features.has('timestamp-query');
  for (const [name, n, build] of ELEMENTWISE) {
    const [x, y] = [0, 1].map(() => T.randn([n], { device: gpu }));
    const run = () => {
      for (let i = 0; i < reps; i++) for (const t of build(x, y)) t.dispose();
    };
    run(); // pipelines compiled
    const before = backend.counters.dispatches;
    const s = (timestamps ? await timedOnGpu(gpu, run) : null) ?? (await timedOnWall(gpu, run));
    const dispatches = (backend.counters.dispatches - before) / reps;
    const used = timestamps ? 'timestamp queries' : 'wall time';
    const per = s / reps;
    const bytes = n * 4 * (build.length + 1); // inputs read, output written
    report(
      `${name}_${n}`,
      'webgpu',
      bytes / per / 1e9,
      'GB/s',
      `${(per * 1e3).toPrecision(3)} ms; ${dispatches} dispatch${dispatches === 1 ? '' : 'es'}, ${reps} reps, ${used}; ${adapter}`,
    );
    x.dispose();
    y.dispose();
  }
}

/**
 * `npm run bench -- --webgpu [--quick]`: decoding beside the CPU device, then the kernel table
 * (--quick: only the decoding products, and 5 tokens decoded on WebGPU).
 */
export async function webgpuLines(report, cpu, { quick = false } = {}) {
  const gpu = await T.getDevice('webgpu').catch((e) => {
    process.stderr.write(`no WebGPU adapter (${e.message}): WebGPU figures skipped\n`);
    return null;
  });
  if (!gpu) return;
  await decodeLines(report, cpu, gpu, quick ? { gpuTokens: 5, cpuTokens: 20 } : {});
  await kernelLines(report, gpu, quick ? { shapes: DECODE_SHAPES, budget: 0.3 } : {});
  await elementwiseLines(report, gpu, quick ? { reps: 4 } : {});
}

// Run alone: node bench/webgpu-kernels.mjs --elementwise (the elementwise lines only)
if (import.meta.url === `file://${process.argv[1]}` && process.argv.includes('--elementwise')) {
  const gpu = await T.getDevice('webgpu');
  const report = (name, backend, value, unit, note = '') =>
    process.stdout.write(`${name} ${backend}: ${Number(value.toPrecision(4))} ${unit}${note ? ` (${note})` : ''}\n`);
  await elementwiseLines(report, gpu);
  process.exit(0);
}
