/** mini-gpt generate: text from a model, printed as it is made. */
import * as G from '@mini/gpt';
import { getDevice } from '@mini/tensor/node';
import { loadForInference, resolveModel } from '../models.js';

export interface GenerateFlags {
  model: string;
  revision?: string;
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  seed: number;
  device: 'auto' | 'cpu' | 'webgpu';
  dtype: G.WeightDTypeChoice;
  cache: boolean;
  stopAtEos: boolean;
}

export async function generate(flags: GenerateFlags): Promise<number> {
  const options: G.GenerateOptions = {
    maxNewTokens: flags.maxNewTokens, temperature: flags.temperature, topK: flags.topK, topP: flags.topP,
    seed: flags.seed, useCache: flags.cache, eosId: flags.stopAtEos ? G.END_OF_TEXT_ID : undefined,
  };
  G.validateGenerateOptions(options);
  const dir = await resolveModel(flags.model, flags.revision);
  const device = await getDevice(flags.device);
  const model = await loadForInference(dir, device, flags.dtype);
  const prompt = G.textToIds(flags.prompt);
  process.stdout.write(flags.prompt);
  // Decode the whole continuation each time and print what is new: a character may span tokens.
  const ids: number[] = [];
  let printed = '';
  for await (const id of G.generateTokens(model, prompt, options)) {
    ids.push(id);
    const text = G.idsToText(ids);
    const fresh = text.endsWith('\uFFFD') ? '' : text.slice(printed.length);
    if (fresh) {
      process.stdout.write(fresh);
      printed = text;
    }
  }
  const rest = G.idsToText(ids).slice(printed.length);
  process.stdout.write(`${rest}\n`);
  model.dispose();
  return 0;
}
