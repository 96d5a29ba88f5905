/**
 * The key/value cache for decoding: per layer, keys and values (B, nh, maxT, hs) preallocated
 * once; each forward writes its new positions in place and attends over the first
 * past + T positions (a view, no copy). Inference only: cached values carry no gradient.
 */
import * as A from '@mini/autograd';
import type { Variable } from '@mini/autograd';
import * as T from '@mini/tensor';
import type { Tensor } from '@mini/tensor';
import type { GPTConfig } from './config.js';

export class KVCache {
  private readonly keys: Tensor[] = [];
  private readonly values: Tensor[] = [];
  private filled = 0;
  /** What the cache was made for: a model of another layout must not write into it. */
  readonly layout: { nLayers: number; nHeads: number; embedDim: number };

  constructor(
    config: GPTConfig,
    device: T.Device,
    readonly batch: number,
    readonly maxLength = config.contextLength,
  ) {
    this.layout = { nLayers: config.nLayers, nHeads: config.nHeads, embedDim: config.embedDim };
    const hs = config.embedDim / config.nHeads;
    for (let i = 0; i < config.nLayers; i++) {
      this.keys.push(T.keep(T.zeros([batch, config.nHeads, maxLength, hs], { device })));
      this.values.push(T.keep(T.zeros([batch, config.nHeads, maxLength, hs], { device })));
    }
  }

  /** Positions already cached. */
  get length(): number {
    return this.filled;
  }

  /** Writes this step's k, v (B, nh, T, hs) after the cached ones; returns all of them. */
  append(layer: number, k: Variable, v: Variable): [Variable, Variable] {
    if (k.requiresGrad) throw new A.GradError('KVCache: caching is for inference; run under noGrad');
    const Tn = k.shape[2]!;
    const end = this.filled + Tn;
    if (end > this.maxLength) throw new T.ShapeError(`KVCache: ${end} positions exceed the cache's ${this.maxLength}`);
    const all = [this.keys[layer]!, this.values[layer]!].map((cache, i) => {
      const target = cache.slice(2, this.filled, end);
      T.copyInto(target, (i === 0 ? k : v).data);
      target.dispose();
      return A.constant(cache.slice(2, 0, end));
    });
    return all as [Variable, Variable];
  }

  /**
   * Layer `layer`'s whole key and value caches (B, nh, maxT, hs), for a kernel that writes the
   * new position itself (T.decodeAttention); the caller then calls advance as after append.
   */
  buffers(layer: number): [Tensor, Tensor] {
    return [this.keys[layer]!, this.values[layer]!];
  }

  /** Called once per forward, after every layer appended. */
  advance(positions: number): void {
    this.filled += positions;
  }

  reset(): void {
    this.filled = 0;
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t.dispose();
  }
}
