// config.json's n_inner (the MLP's hidden width; null: 4 × n_embd) is honoured as transformers'
// GPT2MLP does: the config, the parameters' shapes, loading, saving (n_inner written back when
// it differs), the forward pass (against a float64 reference written from the maths here),
// training, and the CLI's info, train and generate.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor';
import { describe, expect, it } from 'vitest';
import { QUICK, runCli } from '../cli/run-cli.js';

const base = { model_type: 'gpt2', vocab_size: 50257, n_positions: 16, n_embd: 32, n_layer: 2, n_head: 2 };

describe('n_inner', () => {
  it('sets the MLP width; null or absent is 4 × n_embd; a bad value names n_inner', () => {
    expect(G.fromHFConfig({ ...base, n_inner: 64 }).mlpDim).toBe(64);
    expect(G.mlpWidth(G.fromHFConfig({ ...base, n_inner: null }))).toBe(128);
    expect(G.mlpWidth(G.fromHFConfig(base))).toBe(128);
    expect(() => G.fromHFConfig({ ...base, n_inner: 0 })).toThrow(
      /config\.json: n_inner must be a positive integer, got 0/,
    );
    expect(() => G.fromHFConfig({ ...base, n_inner: '64' })).toThrow(/"n_inner" must be a number/);
    expect(G.toHFConfig(G.fromHFConfig({ ...base, n_inner: 64 })).n_inner).toBe(64);
    expect(G.toHFConfig(G.fromHFConfig({ ...base, n_inner: 128 })).n_inner).toBe(null);
    const c = G.fromHFConfig({ ...base, n_inner: 64 });
    expect(G.parameterShapes(c)['h.0.mlp.c_fc.weight']).toEqual([32, 64]);
    expect(G.parameterShapes(c)['h.1.mlp.c_proj.weight']).toEqual([64, 32]);
    // Per layer the MLP loses 2 × 32 × 64 weights and 64 biases against the 128-wide one.
    expect(G.parameterCount(G.fromHFConfig(base)) - G.parameterCount(c)).toBe(2 * (2 * 32 * 64 + 64));
  });

  it('a saved and reloaded n_inner 64 model computes the logits of a float64 reference', async () => {
    const config = G.fromHFConfig({ ...base, n_inner: 64 });
    const dir = mkdtempSync(join(tmpdir(), 'mlp-width-'));
    const created = G.GPTModel.create(config, { seed: 5 });
    await G.saveModel(dir, created);
    created.dispose();
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).n_inner).toBe(64);
    const device = await T.getDevice('cpu');
    const model = (await G.loadModel(dir, device)).eval();
    expect(model.config.mlpDim).toBe(64);
    const ids = [464, 3290, 286, 262, 11, 50256];
    const logits = await model
      .forward(T.tensor(new Int32Array(ids), { shape: [1, ids.length], device }))
      .data.toArray();
    const weights = new Map<string, Float64Array>();
    for (const name of Object.keys(G.parameterShapes(config)))
      weights.set(name, Float64Array.from(await model.param(name).data.toArray()));
    const expected = referenceLogits(weights, ids, { C: 32, H: 64, nh: 2, layers: 2, V: 50257 });
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(logits[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-4);
    model.dispose();
  });

  it('trains: gradients of the MLP have its width and a step lowers the loss', async () => {
    const model = G.GPTModel.create(G.fromHFConfig({ ...base, n_inner: 48 }), { seed: 2 });
    const optimizer = new G.AdamW(model.params, { lr: 1e-2 });
    const batch = {
      inputs: T.tensor(new Int32Array([1, 2, 3, 4, 5, 6, 7, 8]), { shape: [1, 8] }),
      targets: T.tensor(new Int32Array([2, 3, 4, 5, 6, 7, 8, 9]), { shape: [1, 8] }),
    };
    const losses: number[] = [];
    for (let step = 0; step < 3; step++) {
      model.zeroGrad();
      const loss = G.batchLoss(model, batch);
      loss.backward();
      losses.push((await loss.data.toArray())[0]!);
      expect(model.param('h.0.mlp.c_fc.weight').grad!.shape).toEqual([32, 48]);
      optimizer.update();
    }
    expect(losses[2]!).toBeLessThan(losses[0]!);
  });

  it('the CLI trains with --mlp-dim, then info and generate use the run', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mlp-run-')), 'run');
    const trained = await runCli(['train', ...QUICK, '--mlp-dim', '48', '--max-steps', '1', '--out', out]);
    expect(trained.code, trained.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'checkpoint', 'config.json'), 'utf8')).n_inner).toBe(48);
    const info = await runCli(['info', '--model', out]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toContain('32 dims, MLP 48 wide');
    const generated = await runCli(['generate', '--model', out, '--prompt', 'Every effort', '--max-new-tokens', '3']);
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stdout).toMatch(/^Every effort/);
  });
});

/**
 * GPT-2's forward pass in float64 plain loops, from the maths (transformers' GPT2Model with
 * gelu_new), for one sequence: the logits (T, V) with a tied head. Weights are (in, out).
 */
function referenceLogits(
  w: Map<string, Float64Array>,
  ids: number[],
  s: { C: number; H: number; nh: number; layers: number; V: number },
): Float64Array {
  const { C, H, nh, V } = s;
  const Tn = ids.length;
  const hs = C / nh;
  const p = (name: string) => w.get(name)!;
  const layerNorm = (x: Float64Array, g: Float64Array, b: Float64Array) => {
    const out = new Float64Array(x.length);
    for (let t = 0; t < Tn; t++) {
      const row = x.subarray(t * C, (t + 1) * C);
      const mean = row.reduce((a, v) => a + v, 0) / C;
      const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / C;
      for (let c = 0; c < C; c++) out[t * C + c] = ((row[c]! - mean) / Math.sqrt(variance + 1e-5)) * g[c]! + b[c]!;
    }
    return out;
  };
  const linear = (x: Float64Array, weight: Float64Array, bias: Float64Array, n: number, m: number) => {
    const out = new Float64Array(Tn * m);
    for (let t = 0; t < Tn; t++)
      for (let j = 0; j < m; j++) {
        let acc = bias[j]!;
        for (let i = 0; i < n; i++) acc += x[t * n + i]! * weight[i * m + j]!;
        out[t * m + j] = acc;
      }
    return out;
  };
  const x = new Float64Array(Tn * C);
  for (let t = 0; t < Tn; t++)
    for (let c = 0; c < C; c++) x[t * C + c] = p('wte.weight')[ids[t]! * C + c]! + p('wpe.weight')[t * C + c]!;
  for (let l = 0; l < s.layers; l++) {
    const h = `h.${l}`;
    const qkv = linear(
      layerNorm(x, p(`${h}.ln_1.weight`), p(`${h}.ln_1.bias`)),
      p(`${h}.attn.c_attn.weight`),
      p(`${h}.attn.c_attn.bias`),
      C,
      3 * C,
    );
    const y = new Float64Array(Tn * C);
    for (let head = 0; head < nh; head++)
      for (let t = 0; t < Tn; t++) {
        const scores = new Float64Array(t + 1);
        for (let u = 0; u <= t; u++) {
          let dot = 0;
          for (let d = 0; d < hs; d++) dot += qkv[t * 3 * C + head * hs + d]! * qkv[u * 3 * C + C + head * hs + d]!;
          scores[u] = dot / Math.sqrt(hs);
        }
        const top = Math.max(...scores);
        const e = scores.map((v) => Math.exp(v - top));
        const sum = e.reduce((a, v) => a + v, 0);
        for (let u = 0; u <= t; u++)
          for (let d = 0; d < hs; d++)
            y[t * C + head * hs + d]! += (e[u]! / sum) * qkv[u * 3 * C + 2 * C + head * hs + d]!;
      }
    const attn = linear(y, p(`${h}.attn.c_proj.weight`), p(`${h}.attn.c_proj.bias`), C, C);
    for (let i = 0; i < x.length; i++) x[i]! += attn[i]!;
    const fc = linear(
      layerNorm(x, p(`${h}.ln_2.weight`), p(`${h}.ln_2.bias`)),
      p(`${h}.mlp.c_fc.weight`),
      p(`${h}.mlp.c_fc.bias`),
      C,
      H,
    );
    const gelu = fc.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
    const mlp = linear(gelu, p(`${h}.mlp.c_proj.weight`), p(`${h}.mlp.c_proj.bias`), H, C);
    for (let i = 0; i < x.length; i++) x[i]! += mlp[i]!;
  }
  const final = layerNorm(x, p('ln_f.weight'), p('ln_f.bias'));
  const logits = new Float64Array(Tn * V);
  for (let t = 0; t < Tn; t++)
    for (let v = 0; v < V; v++) {
      let acc = 0;
      for (let c = 0; c < C; c++) acc += final[t * C + c]! * p('wte.weight')[v * C + c]!;
      logits[t * V + v] = acc;
    }
  return logits;
}
