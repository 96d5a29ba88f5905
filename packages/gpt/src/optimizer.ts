/**
 * AdamW as torch.optim.AdamW computes it (fused kernel in @mini/tensor), the book's appendix-D
 * learning-rate schedule (linear warmup, then cosine decay) and gradient clipping by global norm.
 * Nothing here reads from the device: the clipping scale is computed as a tensor.
 */
import { type Variable, noGrad } from '@mini/autograd';
import * as T from '@mini/tensor';
import { ConfigError } from './config.js';
import { ModelError } from './model.js';
import type { Tensor } from '@mini/tensor';

export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** A value as an error message shows it: strings quoted, so '0.1' is not read as 0.1. */
function describe(value: unknown): string {
  return typeof value === 'string' || Array.isArray(value) ? JSON.stringify(value) : String(value);
}

/** A learning rate: a finite number >= 0 (a string such as '0.1' is refused, not coerced). */
function checkRate(what: string, lr: unknown): void {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0)
    throw new ConfigError(`${what} must be a finite number >= 0, got ${describe(lr)}`);
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
      if (!ok) throw new ConfigError(`AdamW: ${what}, got ${describe(value)}`);
    };
    checkRate('AdamW: lr', this.lr);
    // [0.9] would read betas[1] as undefined and turn every weight NaN at the first update.
    check(Array.isArray(this.betas) && this.betas.length === 2, 'betas must be two numbers', this.betas);
    for (const [i, b] of this.betas.entries())
      check(typeof b === 'number' && b >= 0 && b < 1, `betas[${i}] must be in [0, 1)`, b);
    check(
      typeof this.eps === 'number' && Number.isFinite(this.eps) && this.eps >= 0,
      'eps must be a finite number >= 0',
      this.eps,
    );
    check(
      typeof this.weightDecay === 'number' && Number.isFinite(this.weightDecay) && this.weightDecay >= 0,
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
    // Each moment is a view into one flat tensor per dtype and device, so a GPU updates many
    // parameters per dispatch (the moments share two bindings); offsets are multiples of 64
    // elements (256 bytes, WebGPU's binding alignment), so no two views share a window.
    const groups: Array<Array<[string, Variable]>> = [];
    for (const entry of params) {
      const { dtype, device } = entry[1].data;
      const group = groups.find((g) => g[0]![1].data.dtype === dtype && g[0]![1].data.device === device);
      if (group) group.push(entry);
      else groups.push([entry]);
    }
    for (const group of groups) {
      const first = group[0]![1].data;
      const offsets: number[] = [];
      let total = 0;
      for (const [, p] of group) {
        offsets.push(total);
        total += Math.ceil(p.data.size / 64) * 64;
      }
      for (const target of [this.m, this.v]) {
        const flat = T.zeros([Math.max(total, 1)], { dtype: first.dtype, device: first.device });
        group.forEach(([name, p], i) => {
          const part = flat.slice(0, offsets[i]!, offsets[i]! + p.data.size);
          target.set(name, T.keep(part.reshape(p.data.shape)));
          part.dispose();
        });
        flat.dispose();
      }
    }
  }

  /**
   * The hyperparameters one update passes to the AdamW kernels: learning rate `lr`, the betas,
   * eps, weight decay, and the step count the bias corrections use (this.step, 1-based after
   * the update's increment). A replayed update (StepCapture) recomputes its words from these.
   */
  hyperparameters(lr: number): T.AdamWStep {
    return {
      lr,
      beta1: this.betas[0],
      beta2: this.betas[1],
      eps: this.eps,
      weightDecay: this.weightDecay,
      step: this.step,
    };
  }

  /**
   * One update of every parameter with a gradient, at learning rate `lr` (default: the base).
   * @throws ConfigError for an `lr` that is not a finite number >= 0 (NaN would write NaN into
   *   every weight, a negative rate would climb the loss), before anything changes
   */
  update(lr = this.lr): void {
    checkRate('AdamW.update: lr', lr);
    this.step++;
    const hyper = this.hyperparameters(lr);
    const entries: T.AdamWUpdateEntry[] = [];
    for (const [name, p] of this.params) {
      if (p.grad) entries.push({ param: p.data, grad: p.grad, m: this.m.get(name)!, v: this.v.get(name)! });
    }
    // One call per device (a model lives on one; the loop keeps a mixed map working).
    const byDevice = new Map<T.Device, T.AdamWUpdateEntry[]>();
    for (const e of entries) {
      if (!byDevice.has(e.param.device)) byDevice.set(e.param.device, []);
      byDevice.get(e.param.device)!.push(e);
    }
    for (const group of byDevice.values()) T.adamwUpdateMany(group, hyper);
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

const SCHEDULE_KEYS = ['lr', 'warmupSteps', 'initialLr', 'cosine', 'minLr', 'totalSteps'];

/**
 * Checks a schedule before any step uses it: known keys only; lr, initialLr and minLr finite
 * numbers >= 0 with initialLr and minLr at most lr (above it the schedule climbs where it
 * should fall); warmupSteps and totalSteps integers >= 0; cosine a boolean.
 * @throws ConfigError naming the key and its value
 */
export function checkSchedule(o: ScheduleOptions): void {
  if (typeof o !== 'object' || o === null) throw new ConfigError(`schedule must be an object, got ${String(o)}`);
  const unknown = Object.keys(o).filter((k) => !SCHEDULE_KEYS.includes(k));
  if (unknown.length > 0)
    throw new ConfigError(`schedule: unknown key(s) ${unknown.join(', ')}; known: ${SCHEDULE_KEYS.join(', ')}`);
  checkRate('schedule.lr', o.lr);
  for (const key of ['initialLr', 'minLr'] as const) {
    const value = o[key];
    if (value === undefined) continue;
    checkRate(`schedule.${key}`, value);
    if (value > o.lr) throw new ConfigError(`schedule.${key} ${value} is above schedule.lr ${o.lr}`);
  }
  for (const key of ['warmupSteps', 'totalSteps'] as const) {
    const value = o[key];
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0))
      throw new ConfigError(`schedule.${key} must be an integer >= 0, got ${describe(value)}`);
  }
  if (o.cosine !== undefined && typeof o.cosine !== 'boolean')
    throw new ConfigError(`schedule.cosine must be a boolean, got ${describe(o.cosine)}`);
}

/**
 * The learning rate at 0-based `step`.
 * @throws ConfigError for a schedule checkSchedule refuses, or a step that is not an integer >= 0
 */
export function learningRate(step: number, o: ScheduleOptions): number {
  checkSchedule(o);
  if (!(Number.isSafeInteger(step) && step >= 0))
    throw new ConfigError(`learningRate: step must be an integer >= 0, got ${describe(step)}`);
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
