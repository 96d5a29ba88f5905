/**
 * Decoding: greedy, temperature, top-k, top-p (nucleus) and seeded multinomial sampling,
 * stopping at an end-of-text id or after maxNewTokens, cropping the context to the model's
 * length. With the KV cache (default) each new token costs one position; without it, the whole
 * (cropped) context is recomputed each step, as the book's generate_text_simple does.
 */
import { MiniGptError } from '@mini/tensor';
import * as A from '@mini/autograd';
import * as T from '@mini/tensor';
import { ConfigError } from './config.js';
import { KVCache } from './kv-cache.js';
import { nextTask } from './next-task.js';
import type { GPTModel } from './model.js';
import { idsToText, textToIds } from './tokenizer.js';

export interface GenerateOptions {
  /** New tokens to make (default 50, the book's); fewer when `eosId` comes first. */
  maxNewTokens?: number;
  /** 0 (default): greedy (argmax). Above 0: logits / temperature, then sample. */
  temperature?: number;
  /** Keep only the k most likely tokens before sampling. */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p (nucleus sampling). */
  topP?: number;
  /** Seed of the sampling generator (default 0): the same seed gives the same text. */
  seed?: number;
  /**
   * The sampling draws: 'fast' (default), mini-gpt's counter-based stream (one uniform per
   * token, inverse CDF); 'torch', what the book's generate draws after torch.manual_seed(seed):
   * torch.multinomial(probs, 1) on float32 probabilities (so its sampling listings print the
   * book's text on the book's weights). Greedy decoding draws nothing either way.
   */
  rng?: 'torch' | 'fast';
  /** Stop (without emitting it) when this id is produced, e.g. 50256 for <|endoftext|>. */
  eosId?: number;
  /** Reuse keys/values of earlier positions (default true). */
  useCache?: boolean;
  /**
   * On a WebGPU device, greedy decoding picks the token there (an argmax kernel; 8 bytes read a
   * token instead of the 201 KB logits row), and top-k sampling with the 'fast' stream (k below
   * the vocabulary and at most DEVICE_TOP_K_MAX) selects its candidates there and draws on the
   * host from those (4 + 8 (k + 16) bytes read): the same token as from the whole row. Default
   * true; false reads the row and picks on the host (the tests compare the two).
   */
  pickOnDevice?: boolean;
}

/**
 * Decoding stopped because the model's logits were not finite (NaN or ±Infinity): no token is
 * chosen from such scores. `step` is the 0-based index of the token being generated, `tokenId`
 * the first id whose logit was `value`.
 */
export class NonFiniteLogitsError extends MiniGptError {
  override name = 'NonFiniteLogitsError';
  constructor(
    readonly step: number,
    readonly tokenId: number,
    readonly value: number,
  ) {
    super(
      `the model's logits are not finite at generation step ${step} (token id ${tokenId} has logit ${value}); the model's weights may be corrupt`,
    );
  }
}

const GENERATE_KEYS = [
  'maxNewTokens',
  'temperature',
  'topK',
  'topP',
  'seed',
  'rng',
  'eosId',
  'useCache',
  'pickOnDevice',
];

/**
 * What generate uses for options not given: 50 new tokens, greedy (the book's sampling). Given
 * options are read over these ({temperature: 0.5} makes 50 tokens), as PyTorch's keyword
 * arguments and transformers' generation config fall back to their defaults.
 */
export const DEFAULT_GENERATE_OPTIONS: Readonly<GenerateOptions & { maxNewTokens: number }> = { maxNewTokens: 50 };

/**
 * Checks every option's range; each value it accepts keeps every stage of sampleNext finite.
 * An unknown key ({top_k: 1}, {topk: 1}) is refused, as resolveConfig refuses one, rather than
 * ignored.
 * @throws ConfigError naming the option and its value (an unknown key: it and the known ones)
 */
export function validateGenerateOptions(o: GenerateOptions): void {
  checkSampling(o);
  if (o.maxNewTokens !== undefined && !(Number.isInteger(o.maxNewTokens) && o.maxNewTokens >= 0))
    throw new ConfigError(`maxNewTokens must be an integer >= 0, got ${o.maxNewTokens}`);
  if (o.rng !== undefined && o.rng !== 'torch' && o.rng !== 'fast')
    throw new ConfigError(`rng must be torch or fast, got ${o.rng}`);
  if (o.seed !== undefined && !(Number.isSafeInteger(o.seed) && o.seed >= 0))
    throw new ConfigError(`seed must be an integer >= 0, got ${o.seed}`);
  if (o.eosId !== undefined && !(Number.isInteger(o.eosId) && o.eosId >= 0))
    throw new ConfigError(`eosId must be an integer >= 0, got ${o.eosId}`);
}

/** The options sampleNext reads, temperature, topK and topP, and that every key is known (validateGenerateOptions checks the rest). */
function checkSampling(o: GenerateOptions): void {
  if (typeof o !== 'object' || o === null)
    throw new ConfigError(`generate options must be an object, got ${String(o)}`);
  const unknown = Object.keys(o).filter((k) => !GENERATE_KEYS.includes(k));
  if (unknown.length > 0)
    throw new ConfigError(`unknown generate option(s) ${unknown.join(', ')}; known: ${GENERATE_KEYS.join(', ')}`);
  const { temperature, topK, topP } = o;
  if (
    temperature !== undefined &&
    !(typeof temperature === 'number' && Number.isFinite(temperature) && temperature >= 0)
  )
    throw new ConfigError(`temperature must be a finite number >= 0, got ${String(temperature)}`);
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1))
    throw new ConfigError(`topK must be an integer >= 1, got ${String(topK)}`);
  if (topP !== undefined && !(typeof topP === 'number' && topP > 0 && topP <= 1))
    throw new ConfigError(`topP must be in (0, 1], got ${String(topP)}`);
}

/**
 * Picks the next id from one row of logits (host side: V floats). Greedy (argmax) at
 * temperature 0, else a seeded draw from softmax(logits / temperature) cut by top-k and top-p.
 * A -Infinity logit is a masked token (as PyTorch allows): it is never picked.
 * @throws ConfigError for temperature, topK or topP out of range (as validateGenerateOptions),
 *   an empty row, or no generator to sample with (temperature > 0); NonFiniteLogitsError (with `step`) when a logit is NaN or +Infinity, or
 *   every logit is -Infinity
 */
export function sampleNext(
  logits: Float32Array | Float64Array,
  o: GenerateOptions,
  random: T.Generator | T.TorchGenerator,
  step = 0,
): number {
  checkSampling(o);
  const V = logits.length;
  if (V === 0) throw new ConfigError('sampleNext: the logits row is empty');
  let finite = 0;
  for (let i = 0; i < V; i++) {
    const x = logits[i]!;
    if (Number.isFinite(x)) finite++;
    else if (x !== Number.NEGATIVE_INFINITY) throw new NonFiniteLogitsError(step, i, x);
  }
  // Masked tokens only: no token is left to choose.
  if (finite === 0) throw new NonFiniteLogitsError(step, 0, logits[0]!);
  // The constructor, not Float64Array.from: from() walks the iterator, 30 times slower on a
  // 50,257-logit row (0.8 ms a token, against 26 microseconds).
  const scores = new Float64Array(logits);
  if (o.topK !== undefined && o.topK < V) {
    const kth = scores.slice().sort().reverse()[o.topK - 1]!;
    for (let i = 0; i < V; i++) if (scores[i]! < kth) scores[i] = -Infinity; // the book's torch.where(logits < min_val, -inf, ...)
  }
  let best = 0;
  for (let i = 1; i < V; i++) if (scores[i]! > scores[best]!) best = i;
  const temperature = o.temperature ?? 0;
  if (temperature === 0) return best;
  // Greedy draws nothing; sampling needs the generator (without one it failed reading uniform).
  if (!(random instanceof T.Generator || random instanceof T.TorchGenerator))
    throw new ConfigError(`sampleNext: random must be a Generator or a TorchGenerator, got ${String(random)}`);
  // softmax((s - max) / t): the exponents are <= 0 for any t > 0 (dividing before subtracting
  // overflows to Infinity for a tiny t), so the largest term is exp(0) = 1 and the sum is in [1, V].
  const max = scores[best]!;
  const probs = new Float64Array(V);
  let sum = 0;
  for (let i = 0; i < V; i++) sum += probs[i] = Math.exp((scores[i]! - max) / temperature);
  for (let i = 0; i < V; i++) probs[i]! /= sum;
  if (o.topP !== undefined && o.topP < 1) {
    const byProb = [...probs.keys()].sort((a, b) => probs[b]! - probs[a]!);
    let cumulative = 0;
    let keep = 0;
    while (keep < V && cumulative < o.topP) cumulative += probs[byProb[keep++]!]!; // at least the top token, whose probability is >= 1/V
    for (let r = keep; r < V; r++) probs[byProb[r]!] = 0;
    for (let i = 0; i < V; i++) probs[i]! /= cumulative;
  }
  if (random instanceof T.TorchGenerator) {
    // The book: probs = softmax(logits / T) in float32, then torch.multinomial(probs, 1). The
    // division is float32's; exp and the sum are float64 here (PyTorch's vectorised expf
    // differs in the last bit at most, which moves a draw only on a near-tie of p / q).
    if (o.topP !== undefined && o.topP < 1) return random.multinomial1(new Float32Array(probs));
    const t = Math.fround(temperature);
    const x = Float32Array.from(scores, (s) => (s === -Infinity ? -Infinity : Math.fround(Math.fround(s) / t)));
    // The book's division in float32 overflows for a tiny temperature (PyTorch's multinomial
    // then raises on the NaN probabilities): refuse it by name rather than draw from NaN.
    if (scores.some((s, i) => s !== -Infinity && !Number.isFinite(x[i]!)))
      throw new RangeError(
        `temperature ${temperature} is too small for these logits: logits / temperature overflows float32 (the book's arithmetic); use 0 for greedy decoding`,
      );
    const top = x.reduce((a, b) => Math.max(a, b), -Infinity);
    const e = Float32Array.from(x, (v) => Math.fround(Math.exp(Math.fround(v - top))));
    const total = Math.fround(e.reduce((a, b) => a + b, 0));
    return random.multinomial1(e.map((v) => Math.fround(v / total)));
  }
  const u = random.uniform(1)[0]!;
  let acc = 0;
  let last = best;
  for (let i = 0; i < V; i++) {
    if (probs[i]! === 0) continue;
    acc += probs[i]!;
    last = i;
    if (u < acc) return i;
  }
  return last; // u rounded past the total: the last token that had probability
}

/**
 * Top-k sampling on WebGPU selects the candidates on the device for k up to this (8 bytes a
 * candidate read back); a larger k reads the row (4 bytes a token of the vocabulary), which is
 * as cheap once 8k nears 4V and leaves the host's sort as the cost either way.
 */
export const DEVICE_TOP_K_MAX = 1024;
/** Slots past k for scores tied with the k-th: more ties than this read the row instead. */
const TIE_SLOTS = 16;

/**
 * The next id from the last position's logits (1, 1, V), which it disposes.
 * On WebGPU (unless pickOnDevice is false), with a finite row:
 * - greedy: reads only the argmax (int32, first maximum as the host's loop) and the row's sum: a
 *   sum that is not finite (a NaN or infinite logit, or, rarely, finite logits overflowing it)
 *   sends the row to the host, whose sampleNext names the bad logit or picks the same argmax;
 * - top-k with the 'fast' stream (k < V, k <= DEVICE_TOP_K_MAX): reads the candidates (every
 *   logit >= the k-th largest, in index order) and runs sampleNext on them: the same token and
 *   the same draw as on the whole row, because every other token's probability is exactly 0
 *   (exp(-Infinity)), and adding 0 changes no float64 sum nor the stable order of top-p's sort.
 *   A row with a NaN or an infinity, or more ties at the k-th logit than TIE_SLOTS, is read
 *   whole (the host names the bad logit as before).
 * Temperature alone, top-p alone and the 'torch' stream (whose draw takes 2V words) read the
 * row: their softmax needs every logit's float64 exp, which WGSL cannot compute.
 */
async function pickNext(
  logits: T.Tensor,
  o: GenerateOptions,
  random: Parameters<typeof sampleNext>[2],
  step: number,
  device: T.Device,
): Promise<number> {
  try {
    const V = logits.size;
    const onDevice = device.kind === 'webgpu' && o.pickOnDevice !== false;
    if (onDevice && (o.temperature ?? 0) === 0) {
      const [best, total] = T.tidy(() => {
        const row = logits.reshape([V]);
        return [T.argmax(row, 0), T.sum(row)];
      });
      try {
        // Both reads are queued before either is awaited: one wait for the device.
        const [id, sum] = await Promise.all([best.item(), total.item()]);
        if (Number.isFinite(sum)) return id;
      } finally {
        best.dispose();
        total.dispose();
      }
    } else if (onDevice && o.rng !== 'torch' && o.topK !== undefined && o.topK < V && o.topK <= DEVICE_TOP_K_MAX) {
      const capacity = o.topK + TIE_SLOTS;
      const packed = T.tidy(() => T.topKCandidates(logits.reshape([V]), o.topK!, capacity));
      let data: Float32Array;
      try {
        data = (await packed.toArray()) as Float32Array;
      } finally {
        packed.dispose();
      }
      const { count, ids, scores } = T.unpackTopKCandidates(data, capacity)[0]!;
      if (count >= 0 && count <= capacity) return ids[sampleNext(scores, o, random, step)]!;
    }
    return sampleNext((await logits.toArray()) as Float32Array, o, random, step);
  } finally {
    logits.dispose();
  }
}

/**
 * Yields new token ids as they are made (for streaming text). Options not given are
 * DEFAULT_GENERATE_OPTIONS' (50 tokens, greedy).
 * @throws ConfigError for options validateGenerateOptions refuses (an unknown key included);
 *   RangeError for an empty prompt or a prompt id outside the vocabulary
 */
export async function* generateTokens(
  model: GPTModel,
  promptIds: readonly number[],
  options: GenerateOptions = DEFAULT_GENERATE_OPTIONS,
): AsyncGenerator<number> {
  validateGenerateOptions(options);
  if (promptIds.length === 0) throw new RangeError('generate: the prompt has no tokens');
  const V = model.config.vocabSize;
  const bad = promptIds.findIndex((id) => !(Number.isInteger(id) && id >= 0 && id < V));
  if (bad >= 0)
    throw new RangeError(
      `generate: prompt token ${bad} is ${promptIds[bad]}, not a token id (an integer in [0, ${V}))`,
    );
  const context = model.config.contextLength;
  const maxNewTokens = options.maxNewTokens ?? DEFAULT_GENERATE_OPTIONS.maxNewTokens;
  const random = options.rng === 'torch' ? new T.TorchGenerator(options.seed ?? 0) : new T.Generator(options.seed ?? 0);
  const ids = [...promptIds];
  const useCache = options.useCache ?? true;
  // float32 whatever the weights' dtype: k and v come out of float32 matmuls and feed float32
  // attention, so a 16-bit cache would add a rounding per step for memory the weights dwarf;
  // sized to what this call can fill (gpt2-xl: 1.3 MB a position, 630 MB for all 1024).
  const cache = useCache
    ? new KVCache(model.config, model.device, 1, Math.min(context, promptIds.length + maxNewTokens))
    : null;
  const wasTraining = model.training;
  model.eval();
  try {
    for (let step = 0; step < maxNewTokens; step++) {
      let feed: number[];
      if (cache && cache.length > 0 && cache.length + 1 <= cache.maxLength) {
        feed = ids.slice(-1);
      } else {
        cache?.reset();
        feed = ids.slice(-context); // crop to the supported context
      }
      const logits = A.noGrad(() =>
        T.tidy(() => {
          const input = T.tensor(Int32Array.from(feed), { shape: [1, feed.length], device: model.device });
          return model.forward(input, { cache: cache ?? undefined, lastPositionOnly: true }).data;
        }),
      );
      const next = await pickNext(logits, options, random, step, model.device);
      if (next === options.eosId) return;
      ids.push(next);
      yield next;
      await nextTask(); // a Ctrl-C handler may run between tokens (see next-task.ts)
    }
  } finally {
    cache?.dispose();
    model.train(wasTraining);
  }
}

/** The prompt followed by the generated ids (options and errors as generateTokens). */
export async function generate(
  model: GPTModel,
  promptIds: readonly number[],
  options: GenerateOptions = DEFAULT_GENERATE_OPTIONS,
): Promise<number[]> {
  const out = [...promptIds];
  for await (const id of generateTokens(model, promptIds, options)) out.push(id);
  return out;
}

/** Text in, text out (prompt included), with GPT-2's tokenizer (options and errors as generateTokens). */
export async function generateText(
  model: GPTModel,
  prompt: string,
  options: GenerateOptions = DEFAULT_GENERATE_OPTIONS,
): Promise<string> {
  return idsToText(await generate(model, textToIds(prompt), options));
}
