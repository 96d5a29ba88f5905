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
