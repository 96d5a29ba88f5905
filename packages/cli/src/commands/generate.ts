/** mini-gpt generate: text from a model, printed as it is made. */
import * as G from '@mini/gpt/node';
import { openDevice } from '../device.js';
import { loadForInference, resolveModel } from '../models.js';
import { exitOnStopSignals } from '../signals.js';
import { UsageError, notice } from '../ui.js';
import type { GenerateOptions } from '../main.js';

/** generate's flags (with the global --verbose), typed by their definitions in main.ts. */
export type GenerateFlags = GenerateOptions;

/** Sampling flags that greedy decoding (temperature 0, the book's rule) does not use. */
const SAMPLING_ONLY = [
  ['topK', '--top-k'],
  ['topP', '--top-p'],
  ['seed', '--seed'],
  ['rng', '--rng'],
] as const;

export async function generate(flags: GenerateFlags, typed: ReadonlySet<string> = new Set()): Promise<number> {
  // Nothing to save: Ctrl-C, SIGTERM or SIGHUP end it at once with one line (no stack trace).
  exitOnStopSignals('generate');
  const options: G.GenerateOptions = {
    maxNewTokens: flags.maxNewTokens,
    temperature: flags.temperature,
    topK: flags.topK,
    topP: flags.topP,
    seed: flags.seed,
    rng: flags.rng as G.GenerateOptions['rng'],
    useCache: flags.cache,
    eosId: flags.stopAtEos ? G.END_OF_TEXT_ID : undefined,
  };
  try {
    G.validateGenerateOptions(options);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (flags.prompt === '') throw new UsageError('--prompt is empty: give some text to continue');
  if (flags.temperature === 0) {
    const unused = SAMPLING_ONLY.filter(([key]) => typed.has(key)).map(([, flag]) => flag);
    if (unused.length > 0)
      notice(
        `note: ${unused.join(', ')} ${unused.length > 1 ? 'have' : 'has'} no effect: decoding is greedy at temperature 0 (the book's rule); add --temperature to sample`,
      );
  }
  const dir = await resolveModel(flags.model, flags.revision);
  const device = await openDevice(flags.device, Boolean(flags.verbose));
  const model = await loadForInference(dir, device, flags.dtype);
  const prompt = G.textToIds(flags.prompt);
  process.stdout.write(flags.prompt);
  // Decoded token by token (a character spanning tokens is printed once whole).
  const decoder = new G.TokenDecoder();
  try {
    for await (const id of G.generateTokens(model, prompt, options)) {
      const fresh = decoder.push(id);
      if (fresh) process.stdout.write(fresh);
    }
  } catch (e) {
    process.stdout.write('\n'); // the error goes on a line of its own
    model.dispose();
    throw e;
  }
  process.stdout.write(`${decoder.end()}\n`);
  model.dispose();
  return 0;
}
