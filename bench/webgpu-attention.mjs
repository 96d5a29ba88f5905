// Attention kernels on WebGPU (issue 22, item 3): the median wall time of fused attention at the
// 124M model's shapes (12 heads, head size 64), each figure the mean over `repeat` calls recorded
// back to back and waited for once (backend.sync), so the per-call host and readback costs are
// spread: decoding's forward (one query row against caches of 64, 256 and 1,024 keys, the KV
// cache's strided views), the training step's forward and backward (batch 2, 256 tokens,
// dropout 0.1), and the dispatches of one backward. With --decode-model, cached greedy decoding
// of the 124M-shaped model (bench/run.mjs's generation, a few tokens: a software adapter spends
// seconds on each token's matmuls). The layer lines: one layer's attention from the fused qkv
// projection and back, copied-out heads against A.attentionQKV. Every line names the adapter.
import * as A from '@mini/autograd';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';
import { timedOnGpu, timedOnWall } from './webgpu-kernels.mjs';

const [NH, HD] = [12, 64];

/** Median seconds per call of `fn` (records kernels; returns tensors to dispose) over `reps` rounds of `repeat` calls. */
async function perCall(device, fn, { reps = 3, repeat = 5 } = {}) {
  const round = async () => {
    const t = performance.now();
    const made = [];
    for (let i = 0; i < repeat; i++) made.push(...fn());
    await device.backend.sync();
    const s = (performance.now() - t) / 1000 / repeat;
    for (const x of made) x.dispose();
    return s;
  };
  await round(); // pipelines compiled, buffers pooled
  const times = [];
  for (let i = 0; i < reps; i++) times.push(await round());
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

/** Reports the attention lines for `device` (a WebGPU device) as `backend`. */
export async function webgpuAttentionLines(report, device, backend, { decodeModel = false } = {}) {
  const adapter = `adapter: ${device.info.description}`;
  const g = new T.Generator(1);
  // Decoding: q (1, nh, 1, hd) against the first Tk positions of a (1, nh, 1024, hd) cache.
  const cache = [0, 1].map(() => T.keep(T.randn([1, NH, 1024, HD], { device, generator: g })));
  const q = T.keep(T.randn([1, NH, 1, HD], { device, generator: g }));
  for (const Tk of [64, 256, 1024]) {
    const [k, v] = cache.map((c) => c.slice(2, 0, Tk));
    const s = await perCall(device, () => {
      const { out, lse } = T.attention(q, k, v);
      return [out, lse];
    });
    const bytes = 2 * NH * Tk * HD * 4; // keys and values read once
    report(
      `webgpu_attention_decode_${Tk}`,
      backend,
      s * 1e6,
      'us',
      `forward, 1 query row, ${NH} heads, ${Tk} cached keys, hd ${HD}; ${(bytes / s / 1e9).toFixed(2)} GB/s of K and V; ${adapter}`,
    );
    k.dispose();
    v.dispose();
  }
  for (const t of [...cache, q]) t.dispose();
  // Training: (2, 12, 256, 64), causal, dropout 0.1; FLOPs counted for the visible half of the scores.
  const [B, Tn] = [2, 256];
  const flops = (B * NH * Tn * Tn * HD * 2 * 2) / 2; // q k^T and p v, causal half
  const [tq, tk, tv, dout] = [0, 1, 2, 3].map(() => T.keep(T.randn([B, NH, Tn, HD], { device, generator: g })));
  const mask = T.drawDropoutMask(0.1, g);
  const fwd = await perCall(
    device,
    () => {
      const { out, lse } = T.attention(tq, tk, tv, { dropout: mask });
      return [out, lse];
    },
    { repeat: 2 },
  );
  report(
    'webgpu_attention_forward_124m',
    backend,
    fwd * 1000,
    'ms',
    `B ${B}, ${NH} heads, T ${Tn}, hd ${HD}, causal, dropout 0.1; ${(flops / fwd / 1e9).toFixed(2)} GFLOP/s; ${adapter}`,
  );
  const { out, lse } = T.attention(tq, tk, tv, { dropout: mask });
  const before = device.backend.counters?.dispatches ?? 0;
  const grads = T.attentionBackward(dout, tq, tk, tv, out, lse, { dropout: mask });
  const dispatches = (device.backend.counters?.dispatches ?? 0) - before;
  for (const t of Object.values(grads)) t.dispose();
  const bwd = await perCall(
    device,
    () => Object.values(T.attentionBackward(dout, tq, tk, tv, out, lse, { dropout: mask })),
    { repeat: 2 },
  );
  report(
    'webgpu_attention_backward_124m',
    backend,
    bwd * 1000,
    'ms',
    `dq, dk, dv of the forward above (delta included); ${((2 * flops * 1.25) / bwd / 1e9).toFixed(2)} GFLOP/s at 2.5x the forward's FLOPs; ${dispatches} dispatches; ${adapter}`,
  );
  for (const t of [tq, tk, tv, dout, out, lse]) t.dispose();
  await layerLines(report, device, backend, adapter, g);
  if (decodeModel) await decodeLine(report, device, backend, adapter);
}

/**
 * One layer's attention as the model records it, forward and backward, from the fused projection
 * qkv (B, T, 3C) to y (B, T, C) and back to qkv's gradient: `heads` copies q, k, v out (slice,
 * reshape, permute) and adds up three zero-filled slice gradients (the path before issue 22's
 * item 3); `qkv` is A.attentionQKV (views in, one gradient written in place). Dispatches of one
 * forward and backward, and its time from timestamp queries (wall time without them).
 */
async function layerLines(report, device, backend, adapter, g) {
  const [B, Tn, C] = [2, 256, NH * HD];
  const values = T.keep(T.randn([B, Tn, 3 * C], { device, generator: g }));
  const dy = T.keep(T.randn([B, Tn, C], { device, generator: g }));
  const timestamps = device.backend.device.features.has('timestamp-query');
  for (const path of ['heads', 'qkv']) {
    const step = () =>
      T.tidy(() => {
        const qkv = A.parameter(values.slice(0, 0));
        const generator = new T.Generator(5);
        let att;
        if (path === 'qkv') att = A.attentionQKV(qkv, NH, { dropout: 0.1, generator });
        else {
          const head = (i) => A.permute(A.reshape(A.slice(qkv, 2, i * C, (i + 1) * C), [B, Tn, NH, HD]), [0, 2, 1, 3]);
          att = A.attention(head(0), head(1), head(2), { dropout: 0.1, generator });
        }
        A.reshape(A.permute(att, [0, 2, 1, 3]), [B, Tn, C]).backward(dy);
        qkv.grad.dispose();
      });
    step(); // pipelines compiled, buffers pooled
    await device.backend.sync();
    const before = device.backend.counters?.dispatches ?? 0;
    const s = (timestamps ? await timedOnGpu(device, step) : null) ?? (await timedOnWall(device, step));
    const dispatches = (device.backend.counters?.dispatches ?? 0) - before;
    report(
      `webgpu_attention_layer_124m_${path}`,
      backend,
      s * 1000,
      'ms',
      `qkv (${B}, ${Tn}, ${3 * C}) -> y (${B}, ${Tn}, ${C}) and back, dropout 0.1; ${dispatches} dispatches; ${timestamps ? 'timestamp queries' : 'wall time'}; ${adapter}`,
    );
  }
  values.dispose();
  dy.dispose();
}

/** Cached greedy decoding of the 124M-shaped model (random weights): tokens/s over a few tokens after a warm-up. */
async function decodeLine(report, device, backend, adapter) {
  const model = G.GPTModel.create(G.resolveConfig('gpt2-small', G.BOOK_CONFIG_OVERRIDES), { device, seed: 123 }).eval();
  const prompt = G.textToIds('Every effort moves you');
  const tokens = Number(process.env.MINI_GPT_BENCH_DECODE_TOKENS) || 3;
  await G.generate(model, prompt, { maxNewTokens: 1, useCache: true });
  const t = performance.now();
  await G.generate(model, prompt, { maxNewTokens: tokens, useCache: true });
  const s = (performance.now() - t) / 1000;
  report(
    'webgpu_generate_cache_124m',
    backend,
    tokens / s,
    'tokens/s',
    `${tokens} tokens after a ${prompt.length}-token prompt (prompt included), KV cache; ${adapter}`,
  );
  model.dispose();
}

// Run alone: node bench/webgpu-attention.mjs [--decode-model | --decode-model-only]
if (import.meta.url === `file://${process.argv[1]}`) {
  const device = await T.getDevice('webgpu');
  const report = (name, backend, value, unit, note = '') =>
    process.stdout.write(`${name} ${backend}: ${Number(value.toPrecision(4))} ${unit}${note ? ` (${note})` : ''}\n`);
  if (process.argv.includes('--decode-model-only'))
    await decodeLine(report, device, 'webgpu', `adapter: ${device.info.description}`);
  else await webgpuAttentionLines(report, device, 'webgpu', { decodeModel: process.argv.includes('--decode-model') });
  process.exit(0);
}
