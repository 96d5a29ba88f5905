/** The names and shapes of a GPT-2's parameters, in Hugging Face's layout. */
import { type GPTConfig, mlpWidth } from './config.js';

/** Every parameter's name and shape, in Hugging Face GPT-2 layout. */
export function parameterShapes(c: GPTConfig): Record<string, number[]> {
  const C = c.embedDim;
  const H = mlpWidth(c); // (C, H) then (H, C): the MLP's two projections
  const shapes: Record<string, number[]> = { 'wte.weight': [c.vocabSize, C], 'wpe.weight': [c.contextLength, C] };
  for (let i = 0; i < c.nLayers; i++) {
    const p = `h.${i}`;
    shapes[`${p}.ln_1.weight`] = [C];
    shapes[`${p}.ln_1.bias`] = [C];
    shapes[`${p}.attn.c_attn.weight`] = [C, 3 * C];
    if (c.qkvBias) shapes[`${p}.attn.c_attn.bias`] = [3 * C];
    shapes[`${p}.attn.c_proj.weight`] = [C, C];
    shapes[`${p}.attn.c_proj.bias`] = [C];
    shapes[`${p}.ln_2.weight`] = [C];
    shapes[`${p}.ln_2.bias`] = [C];
    shapes[`${p}.mlp.c_fc.weight`] = [C, H];
    shapes[`${p}.mlp.c_fc.bias`] = [H];
    shapes[`${p}.mlp.c_proj.weight`] = [H, C];
    shapes[`${p}.mlp.c_proj.bias`] = [C];
  }
  shapes['ln_f.weight'] = [C];
  shapes['ln_f.bias'] = [C];
  if (!c.tiedHead) shapes['lm_head.weight'] = [c.vocabSize, C];
  return shapes;
}
