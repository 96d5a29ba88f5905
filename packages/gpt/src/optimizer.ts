/**
 * AdamW as torch.optim.AdamW computes it (fused kernel in @mini/tensor), the book's appendix-D
 * learning-rate schedule (linear warmup, then cosine decay) and gradient clipping by global norm.
 * Nothing here reads from the device: the clipping scale is computed as a tensor.
 */
import { type Variable, noGrad } from '@mini/autograd';
import * as T from '@mini/tensor';
import { ModelError } from './model.js';
import type { Tensor } from '@mini/tensor';

export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class AdamW {
  readonly lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  /** Steps taken (the bias corrections use it). */
  step = 0;
  readonly m = new Map<string, Tensor>();
  readonly v = new Map<string, Tensor>();

  constructor(
    readonly params: Map<string, Variable>,
    options: AdamWOptions,
  ) {
    this.lr = options.lr;
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01; // torch.optim.AdamW's default
    // torch.optim.AdamW's own checks: a negative or NaN rate would train silently to garbage.
    const check = (ok: boolean, what: string, value: unknown) => {
      if (!ok) throw new RangeError(`AdamW: ${what}, got ${value}`);
    };
    check(Number.isFinite(this.lr) && this.lr >= 0, 'lr must be a finite number >= 0', this.lr);
    for (const [i, b] of this.betas.entries())
      check(Number.isFinite(b) && b >= 0 && b < 1, `betas[${i}] must be in [0, 1)`, b);
    check(Number.isFinite(this.eps) && this.eps >= 0, 'eps must be a finite number >= 0', this.eps);
    check(
      Number.isFinite(this.weightDecay) && this.weightDecay >= 0,
      'weightDecay must be a finite number >= 0',
      this.weightDecay,
    );
    for (const [name, p] of params) {
      if (T.isHalfDType(p.data.dtype))
        throw new ModelError(
          `AdamW: parameter ${name} is ${p.data.dtype}; training needs float32 weights (load the model with dtype float32)`,
        );
    }
    // The moments take the parameter's dtype and device (a float64 model keeps float64 moments).
    for (const [name, p] of params) {
      this.m.set(name, T.keep(T.zerosLike(p.data)));
      this.v.set(name, T.keep(T.zerosLike(p.data)));
    }
  }

  /** One update of every parameter with a gradient, at learning rate `lr` (default: the base). */
  update(lr = this.lr): void {
    this.step++;
    const hyper = {
      lr,
      beta1: this.betas[0],
      beta2: this.betas[1],
      eps: this.eps,
      weightDecay: this.weightDecay,
      step: this.step,
    };
    for (const [name, p] of this.params) {
      if (!p.grad) continue;
      T.adamwUpdate(p.data, p.grad, this.m.get(name)!, this.v.get(name)!, hyper);
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

export interface ScheduleOptions {
  /** Peak learning rate. */
  lr: number;
  /** Steps of linear warmup from initialLr to lr (0: none). */
  warmupSteps?: number;
  initialLr?: number;
  /** Cosine decay from lr to minLr over the steps after warmup (the book's appendix D). */
  cosine?: boolean;
  minLr?: number;
  totalSteps?: number;
}

/** The learning rate at 0-based `step`. */
export function learningRate(step: number, o: ScheduleOptions): number {
  const warmup = o.warmupSteps ?? 0;
  if (step < warmup) {
    const initial = o.initialLr ?? 0;
    return initial + ((o.lr - initial) * (step + 1)) / warmup;
  }
  if (!o.cosine) return o.lr;
  const total = o.totalSteps ?? step + 1;
  const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  const min = o.minLr ?? 0.1 * o.lr;
  return min + (o.lr - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/**
 * Scales every gradient so their global L2 norm is at most maxNorm (torch's clip_grad_norm_:
 * scale = min(1, maxNorm / (norm + 1e-6))). Returns the norm before clipping, as a [] tensor.
 */
export function clipGradNorm(params: Iterable<Variable>, maxNorm: number): Tensor {
  return noGrad(() => {
    const grads = [...params].map((p) => p.grad).filter((g): g is Tensor => g !== null);
    if (grads.length === 0) return T.zeros([]);
    const norm = T.tidy(() => T.sqrt(grads.map((g) => T.sum(T.square(g))).reduce((a, b) => T.add(a, b))));
    T.tidy(() => {
      const scale = T.minimum(T.rdiv(maxNorm, T.add(norm, 1e-6)), 1);
      for (const g of grads) T.copyInto(g, T.mul(g, scale));
    });
    return norm;
  });
}
