/**
 * Initial parameter values.
 * - 'pytorch' (default): what the book's PyTorch model gets by default: embeddings N(0, 1),
 *   linear weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (nn.Linear's kaiming-uniform
 *   with a = sqrt(5)), layer norms weight 1, bias 0.
 * - 'gpt2': GPT-2's scheme: weights and embeddings N(0, 0.02), biases 0, the residual
 *   projections (attn.c_proj, mlp.c_proj) N(0, 0.02 / sqrt(2 * nLayers)), layer norms 1 / 0.
 */
import * as T from '@mini/tensor';
import type { Device, Generator, Tensor, TorchGenerator } from '@mini/tensor';
import { type GPTConfig, mlpWidth } from './config.js';
import { parameterShapes } from './parameters.js';

export type InitScheme = 'pytorch' | 'gpt2';

/** fan_in of a linear layer's weight stored (in, out), or of the (V, C) untied head. */
function fanIn(name: string, shape: number[]): number {
  return name === 'lm_head.weight' ? shape[1]! : shape[0]!;
}

export function initialParameters(
  config: GPTConfig,
  device: Device,
  generator: Generator,
  scheme: InitScheme,
): Map<string, Tensor> {
  const shapes = parameterShapes(config);
  const out = new Map<string, Tensor>();
  for (const [name, shape] of Object.entries(shapes)) {
    const opts = { device, generator };
    let t: Tensor;
    if (/ln_\d\.|ln_f\./.test(name)) {
      t = name.endsWith('weight') ? T.ones(shape, { device }) : T.zeros(shape, { device });
    } else if (name === 'wte.weight' || name === 'wpe.weight') {
      t = T.randn(shape, { ...opts, std: scheme === 'gpt2' ? 0.02 : 1 });
    } else if (scheme === 'gpt2') {
      const residual = /c_proj\.weight$/.test(name);
      t = name.endsWith('bias')
        ? T.zeros(shape, { device })
        : T.randn(shape, { ...opts, std: residual ? 0.02 / Math.sqrt(2 * config.nLayers) : 0.02 });
    } else {
      // A bias has the fan_in of its weight.
      const weightShape = shapes[name.replace(/bias$/, 'weight')]!;
      const bound = 1 / Math.sqrt(fanIn(name.replace(/bias$/, 'weight'), weightShape));
      t = T.rand(shape, { ...opts, low: -bound, high: bound });
    }
    out.set(name, t);
  }
  return out;
}

/** nn.Linear's kaiming_uniform_(a = sqrt(5)) bound for its weight, in float64 as PyTorch computes it. */
export function torchLinearBound(fanIn: number): number {
  const a = Math.sqrt(5);
  const gain = Math.sqrt(2 / (1 + a * a));
  return Math.sqrt(3) * (gain / Math.sqrt(fanIn));
}

/**
 * The book's GPTModel initialised by PyTorch after torch.manual_seed(seed), drawn from
 * `generator` (a TorchGenerator) in the book's construction order: tok_emb and pos_emb
 * normal_(0, 1), then per block W_query, W_key, W_value (each weight, then its bias when
 * qkvBias), out_proj, ff.layers.0 and ff.layers.2 (weight uniform_(+-torchLinearBound(fan_in)),
 * then bias uniform_(+-1/sqrt(fan_in))), then out_head (no bias; none when the head is tied).
 * Layer norms are 1 and 0 and draw nothing. PyTorch's (out, in) weights are transposed into
 * mini-gpt's (in, out) layout; q, k and v fill c_attn's column blocks in that order.
 */
export function torchInitialParameters(
  config: GPTConfig,
  device: Device,
  generator: TorchGenerator,
): Map<string, Tensor> {
  const shapes = parameterShapes(config);
  const host = new Map<string, Float32Array>();
  for (const [name, shape] of Object.entries(shapes))
    host.set(name, new Float32Array(shape.reduce((a, b) => a * b, 1)));
  const C = config.embedDim;
  // One nn.Linear(fanIn, fanOut): its (fanOut, fanIn) weight into columns [col, col + fanOut)
  // of the (fanIn, width) matrix `weight`, then its bias into bias[col ..].
  const linear = (fanIn: number, fanOut: number, weight: string, col: number, bias: string | null) => {
    const w = new Float32Array(fanOut * fanIn);
    const bound = torchLinearBound(fanIn);
    generator.uniform_(w, -bound, bound);
    const dst = host.get(weight)!;
    const width = shapes[weight]![1]!;
    for (let o = 0; o < fanOut; o++) for (let i = 0; i < fanIn; i++) dst[i * width + col + o] = w[o * fanIn + i]!;
    if (bias !== null)
      generator.uniform_(host.get(bias)!.subarray(col, col + fanOut), -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
  };
  generator.normal_(host.get('wte.weight')!);
  generator.normal_(host.get('wpe.weight')!);
  for (let l = 0; l < config.nLayers; l++) {
    const p = `h.${l}`;
    for (let j = 0; j < 3; j++)
      linear(C, C, `${p}.attn.c_attn.weight`, j * C, config.qkvBias ? `${p}.attn.c_attn.bias` : null);
    linear(C, C, `${p}.attn.c_proj.weight`, 0, `${p}.attn.c_proj.bias`);
    linear(C, mlpWidth(config), `${p}.mlp.c_fc.weight`, 0, `${p}.mlp.c_fc.bias`);
    linear(mlpWidth(config), C, `${p}.mlp.c_proj.weight`, 0, `${p}.mlp.c_proj.bias`);
    host.get(`${p}.ln_1.weight`)!.fill(1);
    host.get(`${p}.ln_2.weight`)!.fill(1);
  }
  host.get('ln_f.weight')!.fill(1);
  // out_head (V, C) is stored as PyTorch stores it.
  if (!config.tiedHead) generator.uniform_(host.get('lm_head.weight')!, -torchLinearBound(C), torchLinearBound(C));
  const out = new Map<string, Tensor>();
  for (const [name, data] of host) out.set(name, T.tensor(data, { shape: shapes[name]!, device }));
  return out;
}
