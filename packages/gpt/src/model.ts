/**
 * The GPT-2 model: token + position embeddings, dropout, pre-LayerNorm transformer blocks
 * (causal multi-head attention, GELU feed-forward 4x wide or config.mlpDim, residual connections), a final
 * LayerNorm and the output head.
 *
 * Parameters are named and laid out as Hugging Face's GPT-2 (`h.0.attn.c_attn.weight`, ...):
 * linear weights are stored (in, out) like its Conv1D, q/k/v fused in `c_attn`, so checkpoints
 * load and save without transposes. An untied head is `lm_head.weight` (V, C).
 * Shapes: B = batch, T = tokens, C = embedDim, V = vocabSize, nh = heads, hs = C / nh.
 */
import { MiniGptError } from '@mini/tensor';
import * as A from '@mini/autograd';
import type { Variable } from '@mini/autograd';
import * as T from '@mini/tensor';
import type { DType, Device, QuantizedTensor, Tensor } from '@mini/tensor';
import { ConfigError, type GPTConfig, mlpWidth, resolveConfig } from './config.js';
import { type InitScheme, initialParameters, torchInitialParameters } from './init.js';
import type { KVCache } from './kv-cache.js';
import { parameterShapes } from './parameters.js';
import { runSeeds } from './seeds.js';

export interface ForwardOptions {
  /** Attend over (and append to) this cache: each call then costs only its new positions. */
  cache?: KVCache;
  /** Compute logits for the last position only (B, 1, V): what decoding needs. */
  lastPositionOnly?: boolean;
}

/** A model built or used wrongly: a parameter missing, or asked for by a name it does not have. */
export class ModelError extends MiniGptError {
  override name = 'ModelError';
}

/**
 * Which random numbers a run draws: 'torch', PyTorch's CPU stream (MT19937, drawn in the book's
 * order: the book's numbers, digit for digit), or 'fast', mini-gpt's counter-based Threefry
 * streams (any device, any order, masks made inside the kernels).
 */
export type RandomStream = 'torch' | 'fast';

/**
 * The stream a run draws when none is named (GPTModel.create, and so trainModel; the CLI's
 * `--rng`): 'torch' on the CPU devices with the 'pytorch' initialisation, so the book's run
 * prints the book's numbers; 'fast' on WebGPU, whose kernels draw their masks in place (a
 * host-drawn torch mask would be uploaded every call), and with the 'gpt2' scheme, which the
 * book does not draw. The library prints nothing; the CLI says which stream a run uses.
 */
export function defaultRandomStream(device: Pick<Device, 'kind'>, init: InitScheme = 'pytorch'): RandomStream {
  return device.kind === 'webgpu' || init !== 'pytorch' ? 'fast' : 'torch';
}

/** Where the dropout masks' random numbers stand: a generator seed and its next stream. */
const CREATE_OPTIONS = ['device', 'seed', 'init', 'rng'];
const INIT_SCHEMES: readonly InitScheme[] = ['pytorch', 'gpt2'];
const RANDOM_STREAMS: readonly RandomStream[] = ['torch', 'fast'];

/** Elements of one weight matrix: 2^29 float32 values are 2 GiB, past what one typed array or GPU buffer reliably holds. */
const MAX_ELEMENTS = 2 ** 29;

/**
 * Each weight matrix is one typed array: a size past what one can hold is refused by name,
 * instead of as the engine's "Invalid typed array length" halfway through allocating. (Not in
 * resolveConfig: the CLI's memory admission names the flag that made a model too big.)
 */
function checkMatrixSizes(c: GPTConfig): void {
  const widest = Math.max(c.vocabSize, c.contextLength, mlpWidth(c), 3 * c.embedDim) * c.embedDim;
  if (widest > MAX_ELEMENTS)
    throw new ConfigError(
      `GPTModel.create: a weight matrix of ${widest} elements (vocabSize ${c.vocabSize}, contextLength ${c.contextLength}, embedDim ${c.embedDim}) exceeds the ${MAX_ELEMENTS} one array can hold`,
    );
}

/** GPTModel.create's options, checked before anything is drawn or allocated. */
function checkCreateOptions(options: Record<string, unknown>): void {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError(`GPTModel.create: options must be an object, got ${String(options)}`);
  const unknown = Object.keys(options).filter((k) => !CREATE_OPTIONS.includes(k));
  if (unknown.length > 0)
    throw new ConfigError(
      `GPTModel.create: unknown option(s) ${unknown.join(', ')}; known: ${CREATE_OPTIONS.join(', ')}`,
    );
  const { init, rng, seed } = options;
  if (init !== undefined && !INIT_SCHEMES.includes(init as InitScheme))
    throw new ConfigError(`GPTModel.create: unknown init ${JSON.stringify(init)}; use ${INIT_SCHEMES.join(' or ')}`);
  if (rng !== undefined && !RANDOM_STREAMS.includes(rng as RandomStream))
    throw new ConfigError(`GPTModel.create: unknown rng ${JSON.stringify(rng)}; use ${RANDOM_STREAMS.join(' or ')}`);
  if (seed !== undefined && !(Number.isSafeInteger(seed) && (seed as number) >= 0))
    throw new ConfigError(`GPTModel.create: seed must be a non-negative safe integer, got ${String(seed)}`);
}

export interface DropoutState {
  readonly seed: number;
  readonly stream: number;
}

/**
 * Whether parameter `name` is quantized in a model with quantized weights: every linear weight
 * of the blocks and an untied head (`lm_head.weight`); not the embeddings (float16), biases or
 * layer norms (float32). A tied model's quantized head is its own `lm_head.weight` matrix
 * beside the float16 `wte.weight` the embedding gathers from.
 */
export function isQuantizedParameter(name: string): boolean {
  return /^h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/.test(name) || name === 'lm_head.weight';
}

/**
 * The (N, K) shape a quantized parameter is held in: the product's weight as N rows of K
 * (blocks along K). Linear weights (in, out) are held transposed, (out, in); the head (V, C) as is.
 */
export function quantizedShape(name: string, shape: readonly number[]): [number, number] {
  return name === 'lm_head.weight' ? [shape[0]!, shape[1]!] : [shape[1]!, shape[0]!];
}

export class GPTModel {
  readonly params = new Map<string, Variable>();
  /**
   * Quantized weight matrices (inference only; weight-dtype.ts), by parameter name, each held
   * as in quantizedShape; such a parameter is not in `params`. Empty for float models.
   */
  readonly quantized = new Map<string, QuantizedTensor>();
  /** Dropout on (train mode) or off (eval mode), as PyTorch's model.train() / model.eval(). */
  training = true;
  /**
   * Attention as one fused kernel (true, the default: no (B, nh, T, T) scores in memory) or as
   * matmul, softmax, dropout and matmul (false): the same values and, in training, the same
   * dropout masks; the unfused path is the oracle the tests compare against.
   */
  fusedAttention = true;
  /**
   * Cached decoding of one token per sequence (at most 4 sequences, no quantized weights, no
   * dropout) through T.decodeAttention and T.decodeLinear: 4 kernels a block on WebGPU
   * instead of 12, and the final layer norm inside the head's. The same ops composed on the CPU
   * devices (bit-identical); false runs the unfused block, the oracle the tests compare against.
   */
  fusedDecode = true;
  /** Draws dropout masks; its state is saved with checkpoints (dropoutState). */
  private dropoutGenerator: T.Generator;
  /**
   * PyTorch's stream (the `torch` RNG, CPU devices): when set, the dropout masks come from it,
   * in the book's order, and the trainer's loaders draw their seeds and shuffles from it too;
   * the counter-based dropoutGenerator is then unused. Its state is saved with checkpoints.
   */
  torchGenerator: T.TorchGenerator | null = null;

  constructor(
    readonly config: GPTConfig,
    readonly device: Device,
    weights: Map<string, Tensor>,
    dropout: DropoutState = { seed: runSeeds(0).dropout, stream: 0 },
    quantized: ReadonlyMap<string, QuantizedTensor> = new Map(),
  ) {
    resolveConfig(config); // the same check create and loadConfig make; throws ConfigError
    this.dropoutGenerator = new T.Generator(dropout.seed);
    this.dropoutGenerator.streamPosition = dropout.stream;
    const shapes = parameterShapes(config);
    const vocabByEmbed = [config.vocabSize, config.embedDim];
    for (const [name, q] of quantized) {
      const shape = shapes[name] ?? (name === 'lm_head.weight' ? vocabByEmbed : undefined);
      if (!shape || !isQuantizedParameter(name)) throw new ModelError(`GPTModel: ${name} cannot be quantized`);
      const [N, K] = quantizedShape(name, shape);
      if (q.N !== N || q.K !== K)
        throw new T.ShapeError(`GPTModel: quantized ${name} is (${q.N}, ${q.K}), expected (${N}, ${K})`);
      this.quantized.set(name, q);
    }
    for (const [name, shape] of Object.entries(shapes)) {
      if (this.quantized.has(name)) continue;
      const t = weights.get(name);
      if (!t) throw new ModelError(`GPTModel: missing parameter ${name}`);
      if (!T.shapesEqual(t.shape, shape))
        throw new T.ShapeError(
          `GPTModel: parameter ${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`,
        );
      this.params.set(name, A.parameter(T.keep(t)));
    }
  }

  /**
   * A freshly initialised model (see init.ts for the two schemes). `rng` (default:
   * defaultRandomStream(device, init), 'torch' on the CPU devices with the 'pytorch' scheme,
   * 'fast' on WebGPU or with 'gpt2'): 'torch' draws what PyTorch draws after
   * torch.manual_seed(seed): the book's initial weights, and then its dropout masks and loader
   * shuffles from the same generator (torchGenerator), which trainModel follows; 'fast' draws
   * from the counter-based streams of runSeeds(seed). Throws RangeError for 'torch' with the
   * 'gpt2' scheme or on WebGPU.
   * @throws ConfigError for a config resolveConfig refuses (unknown keys, sizes that are not
   *   positive safe integers, embedDim not divisible by nHeads, layerNormEps not > 0), a weight
   *   matrix past 2^29 elements, an unknown option, `init` or `rng`, or a seed that is not a non-negative safe integer
   */
  static create(
    config: GPTConfig,
    options: { device?: Device; seed?: number; init?: InitScheme; rng?: RandomStream } = {},
  ): GPTModel {
    checkCreateOptions(options);
    config = resolveConfig(config);
    checkMatrixSizes(config);
    const device = options.device ?? T.getDefaultDevice();
    const seeds = runSeeds(options.seed ?? 0);
    if ((options.rng ?? defaultRandomStream(device, options.init)) === 'torch') {
      if ((options.init ?? 'pytorch') !== 'pytorch')
        throw new RangeError("GPTModel.create: the torch random stream draws the 'pytorch' initialisation only");
      if (device.kind === 'webgpu')
        throw new RangeError('GPTModel.create: the torch random stream runs on the CPU devices only');
      const generator = new T.TorchGenerator(options.seed ?? 0);
      const model = new GPTModel(config, device, torchInitialParameters(config, device, generator), {
        seed: seeds.dropout,
        stream: 0,
      });
      model.torchGenerator = generator;
      return model;
    }
    const weights = initialParameters(config, device, new T.Generator(seeds.init), options.init ?? 'pytorch');
    return new GPTModel(config, device, weights, { seed: seeds.dropout, stream: 0 });
  }

  train(on = true): this {
    this.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  param(name: string): Variable {
    const p = this.params.get(name);
    if (!p) throw new ModelError(`GPTModel: no parameter ${name}`);
    return p;
  }

  /** The dropout generator's seed and position: what a checkpoint saves so a resumed run drops the same elements. */
  get dropoutState(): DropoutState {
    return { seed: this.dropoutGenerator.seed, stream: this.dropoutGenerator.streamPosition };
  }

  /** Restores a saved dropoutState (a seed and a stream position). */
  set dropoutState({ seed, stream }: DropoutState) {
    const generator = new T.Generator(seed);
    generator.streamPosition = stream;
    this.dropoutGenerator = generator;
  }

  /** The dtype of the weight matrices (weight-dtype.ts); biases and layer norms are float32. */
  get dtype(): DType {
    return this.param('wte.weight').data.dtype;
  }

  /** The block format of the quantized matrices, or null for a float model. */
  get quantFormat(): T.QuantFormat | null {
    return this.quantized.values().next().value?.format ?? null;
  }

  numParameters(): number {
    let n = 0;
    for (const p of this.params.values()) n += p.data.size;
    for (const [name, q] of this.quantized) if (!(name === 'lm_head.weight' && this.config.tiedHead)) n += q.N * q.K;
    return n;
  }

  zeroGrad(): void {
    for (const p of this.params.values()) p.zeroGrad();
  }

  dispose(): void {
    for (const p of this.params.values()) {
      p.zeroGrad();
      p.data.dispose();
    }
    for (const q of this.quantized.values()) q.dispose();
  }

  private dropout(x: Variable): Variable {
    const p = this.config.dropRate;
    return this.training && p > 0 ? A.dropout(x, p, this.torchGenerator ?? this.dropoutGenerator) : x;
  }

  /** residual + dropout(x) in one kernel: the same mask (one stream) and bits as add after dropout. */
  private residual(residual: Variable, x: Variable): Variable {
    const p = this.config.dropRate;
    if (!this.training || p === 0) return A.add(residual, x);
    // The torch stream's masks are drawn on the host by the dropout op (the fused kernel draws
    // counter-based bits in place), so that stream keeps add after dropout.
    if (this.torchGenerator) return A.add(residual, A.dropout(x, p, this.torchGenerator));
    return A.residualDropout(residual, x, p, this.dropoutGenerator);
  }

  /**
   * Logits (B, T, V) for token ids (B, T) int32.
   * @throws ShapeError for ids that are not an int32 (B, T) tensor (a plain array included),
   *   more positions than the context length, or a KV cache made for another layout or batch
   */
  forward(ids: Tensor, options: ForwardOptions = {}): Variable {
    const { contextLength } = this.config;
    // A plain array ([[1, 2]]) failed inside with "reading 'join'".
    if (!(ids instanceof T.Tensor))
      throw new T.ShapeError(
        `GPTModel.forward: ids must be an int32 (B, T) tensor (T.tensor(ids, { dtype: 'int32' })), got ${Array.isArray(ids) ? 'an array' : String(ids)}`,
      );
    if (ids.rank !== 2 || ids.dtype !== 'int32')
      throw new T.ShapeError(`GPTModel.forward: ids must be int32 (B, T), got ${ids.dtype} [${ids.shape.join(', ')}]`);
    const cache = options.cache;
    if (cache) {
      const { nLayers, nHeads, embedDim } = cache.layout;
      const c = this.config;
      if (nLayers !== c.nLayers || nHeads !== c.nHeads || embedDim !== c.embedDim)
        throw new T.ShapeError(
          `GPTModel.forward: the KV cache was made for ${nLayers} layers, ${nHeads} heads, embedDim ${embedDim}; this model has ${c.nLayers}, ${c.nHeads}, ${c.embedDim}`,
        );
      if (cache.batch !== ids.shape[0])
        throw new T.ShapeError(
          `GPTModel.forward: the KV cache holds a batch of ${cache.batch}, the ids a batch of ${ids.shape[0]}`,
        );
    }
    const [, Tn] = ids.shape as [number, number];
    const past = options.cache?.length ?? 0;
    if (past + Tn > contextLength) {
      throw new T.ShapeError(
        `GPTModel.forward: ${past + Tn} positions exceed the context length ${contextLength}; crop the input`,
      );
    }
    const positions = T.arange(past, past + Tn, 1, { device: this.device });
    let x = A.add(A.embedding(this.param('wte.weight'), ids), A.embedding(this.param('wpe.weight'), positions)); // (B, T, C)
    x = this.dropout(x);
    const decode = this.decodes(ids, options.cache);
    for (let layer = 0; layer < this.config.nLayers; layer++) {
      if (decode && options.cache) {
        const input = x;
        x = A.constant(this.decodeBlock(input.data, layer, options.cache)); // (B, 1, C)
        input.data.dispose();
        continue;
      }
      if (A.isGradEnabled()) {
        x = this.block(x, layer, options.cache);
        continue;
      }
      // No graph to keep (evaluation, sampling): each block's intermediates, and the block's
      // input, are freed as soon as its output exists, so a forward holds one block's worth.
      const input = x;
      x = A.constant(T.tidy(() => this.block(input, layer, options.cache).data)); // (B, T, C)
      input.data.dispose();
    }
    options.cache?.advance(Tn);
    if (options.lastPositionOnly) x = A.slice(x, 1, Tn - 1); // (B, 1, C)
    const [B] = ids.shape as [number, number];
    if (this.fusedDecode && !A.isGradEnabled() && this.quantized.size === 0 && B * x.shape[1]! <= 4) {
      // ln_f inside the head's matvec (the prompt's last position, and every decoded token)
      const head = this.config.tiedHead ? this.param('wte.weight') : this.param('lm_head.weight'); // (V, C)
      const norm = {
        weight: this.param('ln_f.weight').data,
        bias: this.param('ln_f.bias').data,
        eps: this.config.layerNormEps,
      };
      return A.constant(T.decodeLinear(x.data, head.data, { transB: true, norm })); // (B, 1, V)
    }
    x = A.layerNorm(x, this.param('ln_f.weight'), this.param('ln_f.bias'), this.config.layerNormEps);
    const quantizedHead = this.quantized.get('lm_head.weight');
    if (quantizedHead) return A.constant(T.matmulQuantized(x.data, quantizedHead)); // (B, T, V)
    const head = this.config.tiedHead ? this.param('wte.weight') : this.param('lm_head.weight'); // (V, C)
    return A.matmul(x, head, { transB: true }); // (B, T, V)
  }

  private linear(x: Variable, prefix: string, hasBias = true): Variable {
    const bias = hasBias ? this.param(`${prefix}.bias`) : undefined;
    const q = this.quantized.get(`${prefix}.weight`);
    if (q) return A.constant(T.matmulQuantized(x.data, q, { bias: bias?.data })); // weight held (out, in)
    return A.matmul(x, this.param(`${prefix}.weight`), { bias }); // weight (in, out)
  }

  /** Whether this forward runs decodeBlock: see fusedDecode. */
  private decodes(ids: Tensor, cache: KVCache | undefined): boolean {
    const [B, Tn] = ids.shape as [number, number];
    const dropping = this.training && this.config.dropRate > 0;
    return (
      this.fusedDecode && !!cache && Tn === 1 && B <= 4 && !A.isGradEnabled() && !dropping && this.quantized.size === 0
    );
  }

  /**
   * block() for one cached token per sequence, x (B, 1, C): attention (ln_1, c_attn, the cache
   * append, attention) in one op, c_proj with the residual add, ln_2 + c_fc + GELU, c_proj with
   * the residual add: the same ops as block() composes, fused where the backend can.
   */
  private decodeBlock(x: Tensor, layer: number, cache: KVCache): Tensor {
    const p = `h.${layer}`;
    const eps = this.config.layerNormEps;
    const data = (name: string) => this.param(name).data;
    const norm = (name: string) => ({ weight: data(`${p}.${name}.weight`), bias: data(`${p}.${name}.bias`), eps });
    const [keys, values] = cache.buffers(layer);
    return T.tidy(() => {
      const heads = T.decodeAttention(x, {
        norm: norm('ln_1'),
        weight: data(`${p}.attn.c_attn.weight`),
        bias: this.config.qkvBias ? data(`${p}.attn.c_attn.bias`) : undefined,
        keys,
        values,
        position: cache.length,
      }); // (B, 1, C)
      const attn = T.decodeLinear(heads, data(`${p}.attn.c_proj.weight`), {
        bias: data(`${p}.attn.c_proj.bias`),
        residual: x,
      });
      const hidden = T.decodeLinear(attn, data(`${p}.mlp.c_fc.weight`), {
        bias: data(`${p}.mlp.c_fc.bias`),
        norm: norm('ln_2'),
        gelu: true,
      }); // (B, 1, 4C)
      return T.decodeLinear(hidden, data(`${p}.mlp.c_proj.weight`), {
        bias: data(`${p}.mlp.c_proj.bias`),
        residual: attn,
      });
    });
  }

  private block(x: Variable, layer: number, cache: KVCache | undefined): Variable {
    const p = `h.${layer}`;
    const eps = this.config.layerNormEps;
    const attn = this.attention(
      A.layerNorm(x, this.param(`${p}.ln_1.weight`), this.param(`${p}.ln_1.bias`), eps),
      layer,
      cache,
    );
    x = this.residual(x, attn);
    const hidden = A.gelu(
      this.linear(A.layerNorm(x, this.param(`${p}.ln_2.weight`), this.param(`${p}.ln_2.bias`), eps), `${p}.mlp.c_fc`),
    ); // (B, T, 4C)
    return this.residual(x, this.linear(hidden, `${p}.mlp.c_proj`));
  }

  private attention(x: Variable, layer: number, cache: KVCache | undefined): Variable {
    const { embedDim: C, nHeads: nh, qkvBias } = this.config;
    const [B, Tn] = x.shape as [number, number, number];
    const hs = C / nh;
    const qkv = this.linear(x, `h.${layer}.attn.c_attn`, qkvBias); // (B, T, 3C)
    if (this.fusedAttention && !cache) {
      // q, k, v read as views of qkv, and the backward writes one (B, T, 3C) gradient
      const p = this.training ? this.config.dropRate : 0;
      const generator = this.torchGenerator ?? this.dropoutGenerator;
      const y = A.reshape(A.permute(A.attentionQKV(qkv, nh, { dropout: p, generator }), [0, 2, 1, 3]), [B, Tn, C]);
      return this.linear(y, `h.${layer}.attn.c_proj`);
    }
    const head = (i: number) =>
      A.permute(A.reshape(A.slice(qkv, 2, i * C, (i + 1) * C), [B, Tn, nh, hs]), [0, 2, 1, 3]); // (B, nh, T, hs)
    const q = head(0);
    let k = head(1);
    let v = head(2);
    if (cache) [k, v] = cache.append(layer, k, v); // (B, nh, past + T, hs)
    const y = A.reshape(A.permute(this.fusedAttention ? this.fused(q, k, v) : this.unfused(q, k, v), [0, 2, 1, 3]), [
      B,
      Tn,
      C,
    ]); // (B, T, C)
    return this.linear(y, `h.${layer}.attn.c_proj`);
  }

  /** softmax(q k^T / sqrt(hs), causal) -> dropout -> @ v in one kernel: q (B, nh, T, hs), k, v (B, nh, past + T, hs). */
  private fused(q: Variable, k: Variable, v: Variable): Variable {
    const p = this.training ? this.config.dropRate : 0;
    return A.attention(q, k, v, { dropout: p, generator: this.torchGenerator ?? this.dropoutGenerator }); // (B, nh, T, hs)
  }

  /** The same as matmul, scale, causal softmax, dropout (drawing the same mask) and matmul. */
  private unfused(q: Variable, k: Variable, v: Variable): Variable {
    const scores = A.mulScalar(A.matmul(q, k, { transB: true }), 1 / Math.sqrt(q.shape[3]!)); // (B, nh, T, past + T)
    const weights = this.dropout(A.softmax(scores, { causal: true }));
    return A.matmul(weights, v); // (B, nh, T, hs)
  }
}
