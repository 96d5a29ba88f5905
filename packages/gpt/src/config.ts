/**
 * GPT-2 configurations. Presets are data; `resolveConfig` validates a preset plus overrides
 * once, where they enter (a file, a flag), rejecting unknown keys.
 */
import { MiniGptError } from '@mini/tensor';

export interface GPTConfig {
  /** Tokens in the vocabulary (GPT-2: 50257). */
  vocabSize: number;
  /** Longest context the position embedding covers (GPT-2: 1024; the book trains with 256). */
  contextLength: number;
  /** Embedding width C. */
  embedDim: number;
  nLayers: number;
  nHeads: number;
  /** Dropout rate on embeddings, attention weights and residual branches (train mode only). */
  dropRate: number;
  /** Bias on the query/key/value projection (off in the book's model, on in OpenAI's). */
  qkvBias: boolean;
  /** Output head shares the token embedding (GPT-2 checkpoints) or has its own (the book). */
  tiedHead: boolean;
  /** Layer-norm epsilon (GPT-2: 1e-5). */
  layerNormEps: number;
  /**
   * The MLP's hidden width (Hugging Face's n_inner); absent: 4 × embedDim, GPT-2's. Optional so
   * that configs and run settings saved before it existed stay valid.
   */
  mlpDim?: number;
}

/** The MLP's hidden width: `mlpDim`, or GPT-2's 4 × embedDim (transformers' n_inner null). */
export const mlpWidth = (c: GPTConfig): number => c.mlpDim ?? 4 * c.embedDim;

const GPT2_COMMON = {
  vocabSize: 50257,
  contextLength: 1024,
  dropRate: 0.1,
  qkvBias: true,
  tiedHead: true,
  layerNormEps: 1e-5,
};

export const presets = {
  /** 124M parameters as OpenAI's checkpoint (tied head, qkv bias). */
  'gpt2-small': { ...GPT2_COMMON, embedDim: 768, nLayers: 12, nHeads: 12 },
  'gpt2-medium': { ...GPT2_COMMON, embedDim: 1024, nLayers: 24, nHeads: 16 },
  'gpt2-large': { ...GPT2_COMMON, embedDim: 1280, nLayers: 36, nHeads: 20 },
  'gpt2-xl': { ...GPT2_COMMON, embedDim: 1600, nLayers: 48, nHeads: 25 },
  /** A few-hundred-thousand-parameter model (mostly its embedding) for tests and quick runs. */
  tiny: { ...GPT2_COMMON, contextLength: 64, embedDim: 32, nLayers: 2, nHeads: 2 },
} as const satisfies Record<string, GPTConfig>;

export type PresetName = keyof typeof presets;

/** The book's chapter-5 model: gpt2-small's layout, context 256, untied head, no qkv bias. */
export const BOOK_CONFIG_OVERRIDES = {
  contextLength: 256,
  qkvBias: false,
  tiedHead: false,
} as const satisfies Partial<GPTConfig>;

export class ConfigError extends MiniGptError {
  override name = 'ConfigError';
  /** A config (or a trainer, optimizer or sampler option) that cannot be used is the user's input: a usage error. */
  override readonly exitCode = 2;
}

const KEYS = Object.keys(presets['gpt2-small']) as Array<keyof GPTConfig>;
const OPTIONAL_KEYS: Array<keyof GPTConfig> = ['mlpDim'];

/**
 * A preset with overrides, checked: unknown keys, wrong types and impossible sizes are errors.
 * This is the one check every GPTConfig passes where it enters (config files, flags,
 * GPTModel.create, prepareTrainingRun); the result is a fresh object.
 * @throws ConfigError naming the key and the value: an unknown preset or key, a size that is
 *   not a positive safe integer, embedDim not divisible by nHeads, dropRate outside [0, 1),
 *   layerNormEps not a finite number > 0
 */
export function resolveConfig(preset: PresetName | GPTConfig, overrides: Partial<GPTConfig> = {}): GPTConfig {
  if (typeof preset !== 'string' && (typeof preset !== 'object' || preset === null))
    throw new ConfigError(`a config must be a preset name or an object, got ${String(preset)}`);
  if (typeof overrides !== 'object' || overrides === null)
    throw new ConfigError(`config overrides must be an object, got ${String(overrides)}`);
  let base: GPTConfig;
  if (typeof preset === 'string') {
    if (!(preset in presets))
      throw new ConfigError(`unknown preset "${preset}": use one of ${Object.keys(presets).join(', ')}`);
    base = presets[preset];
  } else {
    base = preset;
  }
  const config = { ...base, ...overrides } as Record<string, unknown>;
  // An optional key given as undefined is absent (a flag not typed, n_inner null).
  for (const key of OPTIONAL_KEYS) if (config[key] === undefined) delete config[key];
  const unknown = Object.keys(config).filter(
    (k) => !KEYS.includes(k as keyof GPTConfig) && !OPTIONAL_KEYS.includes(k as keyof GPTConfig),
  );
  if (unknown.length > 0) throw new ConfigError(`unknown config key(s): ${unknown.join(', ')}`);
  for (const key of KEYS) {
    const value = config[key];
    const boolean = key === 'qkvBias' || key === 'tiedHead';
    if (boolean ? typeof value !== 'boolean' : typeof value !== 'number' || !Number.isFinite(value)) {
      throw new ConfigError(`config.${key} must be a ${boolean ? 'boolean' : 'number'}, got ${JSON.stringify(value)}`);
    }
  }
  const c = config as unknown as GPTConfig;
  if (c.mlpDim !== undefined && (typeof c.mlpDim !== 'number' || !Number.isSafeInteger(c.mlpDim) || c.mlpDim < 1))
    throw new ConfigError(`config.mlpDim must be a positive integer, got ${JSON.stringify(c.mlpDim)}`);
  for (const key of ['vocabSize', 'contextLength', 'embedDim', 'nLayers', 'nHeads'] as const) {
    if (!Number.isSafeInteger(c[key]) || c[key] < 1)
      throw new ConfigError(`config.${key} must be a positive integer, got ${c[key]}`);
  }
  if (c.embedDim % c.nHeads !== 0)
    throw new ConfigError(`config.embedDim (${c.embedDim}) must be divisible by nHeads (${c.nHeads})`);
  if (!(c.dropRate >= 0 && c.dropRate < 1))
    throw new ConfigError(`config.dropRate must be in [0, 1), got ${c.dropRate}`);
  if (!(c.layerNormEps > 0)) throw new ConfigError(`config.layerNormEps must be > 0, got ${c.layerNormEps}`);
  return c;
}

/** Parameters of a model (124,439,808 for tied gpt2-small; 163,009,536 for the book's model). */
export function parameterCount(c: GPTConfig): number {
  const C = c.embedDim;
  const H = mlpWidth(c);
  const perLayer =
    2 * C /* ln_1 */ +
    C * 3 * C +
    (c.qkvBias ? 3 * C : 0) /* c_attn */ +
    C * C +
    C /* attn.c_proj */ +
    2 * C /* ln_2 */ +
    C * H +
    H /* c_fc */ +
    H * C +
    C; /* mlp.c_proj */
  const embeddings = c.vocabSize * C + c.contextLength * C;
  const head = c.tiedHead ? 0 : c.vocabSize * C;
  return embeddings + c.nLayers * perLayer + 2 * C /* ln_f */ + head;
}
