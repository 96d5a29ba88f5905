/**
 * Initial parameter values.
 * - 'pytorch' (default): what the book's PyTorch model gets by default: embeddings N(0, 1),
 *   linear weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (nn.Linear's kaiming-uniform
 *   with a = sqrt(5)), layer norms weight 1, bias 0.
 * - 'gpt2': GPT-2's scheme: weights and embeddings N(0, 0.02), biases 0, the residual
 *   projections (attn.c_proj, mlp.c_proj) N(0, 0.02 / sqrt(2 * nLayers)), layer norms 1 / 0.
 */
import * as T from '@mini/tensor';
import type { Device, Generator, Tensor } from '@mini/tensor';
import type { GPTConfig } from './config.js';
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
