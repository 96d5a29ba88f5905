/**
 * A training step captured once and replayed (docs/webgpu-host.md, "Capture and replay"): on
 * WebGPU the JavaScript of the ops (shape checks, views, the tape) costs more than the dispatches
 * it records, so trainModel runs the step's forward, backward and gradient clipping eagerly once,
 * with the backend capturing what it sends to the queue, and later steps send that again.
 *
 * What varies between steps is put in place around the replay: the batch is copied into the
 * persistent input tensors the captured step read, and the dropout masks' streams move with the
 * generator (the backend adds the streams drawn since the capture to every marked stream word).
 * The captured step's own outputs (the parameters' gradients, the losses) are kept: a replay
 * rewrites them, and each step's losses are copied out of them into a fresh tensor.
 */
import * as T from '@mini/tensor';
import type { Batch } from './data.js';
import type { GPTModel } from './model.js';
import type { AdamW } from './optimizer.js';

/** What a StepCapture did: steps run eagerly, captured, and replayed. */
export interface StepCaptureCounts {
  eager: number;
  captured: number;
  replayed: number;
  /** Optimizer updates (update()) replayed. */
  updatesReplayed: number;
}

/**
 * Runs a model's training steps (forward, backward and what follows on the device) eagerly for
 * the first `warmup` steps, then captures one and replays it while the step keeps its structure
 * (the batches' shapes, the model's parameters and their gradients, the dropout seed, `key`);
 * any change captures anew. Where the backend cannot capture (the CPU devices), every step runs
 * eagerly. dispose() when done: the recording pins the buffers the step used.
 */
export class StepCapture {
  readonly counts: StepCaptureCounts = { eager: 0, captured: 0, replayed: 0, updatesReplayed: 0 };
  private recording: T.CaptureRecording | null = null;
  /** The captured step's inputs: each step's batches are copied into them. */
  private inputs: Batch[] = [];
  /** The captured step's losses: a replay rewrites them; each step returns a copy. */
  private losses: T.Tensor | null = null;
  /** Each parameter's gradient when the capture ended (a replay rewrites them). */
  private grads: (T.Tensor | null)[] = [];
  private signature = '';
  private seed = 0;
  private streamStart = 0;
  private streamsPerStep = 0;
  private seen = 0;
  /** Whether the last run() was captured or replayed (its gradients are the recording's). */
  private fresh = false;
  /** The optimizer's update, captured after a captured step, and the optimizer it updates. */
  private updateRecording: T.CaptureRecording | null = null;
  private updateOptimizer: AdamW | null = null;

  constructor(
    readonly model: GPTModel,
    readonly enabled: boolean,
    readonly warmup = 1,
  ) {}

  /**
   * One step: `body(batches)` records it (zeroGrad, forward, backward, clipping; no reads) and
   * returns its losses tensor; run eagerly, captured, or replayed in place of `body`. Returns a
   * losses tensor the caller owns. The batches are the caller's (not disposed here).
   * `key` names whatever else decides the step's work (gradAccum, the clipping norm).
   */
  run(batches: readonly Batch[], key: string, body: (batches: readonly Batch[]) => T.Tensor): T.Tensor {
    const backend = this.model.device.backend;
    this.fresh = false;
    if (!this.enabled || !backend.beginCapture || !backend.endCapture || !backend.replay) {
      this.counts.eager++;
      return body(batches);
    }
    const signature = `${key}|${batches.map((b) => `${b.inputs.shape}/${b.targets.shape}`).join(';')}`;
    if (this.seen++ < this.warmup) {
      this.counts.eager++;
      return body(batches);
    }
    if (this.replayable(signature)) {
      for (const [k, b] of batches.entries()) {
        T.copyInto(this.inputs[k]!.inputs, b.inputs);
        T.copyInto(this.inputs[k]!.targets, b.targets);
      }
      const { seed, stream } = this.model.dropoutState;
      backend.replay(this.recording!, stream - this.streamStart);
      this.model.dropoutState = { seed, stream: stream + this.streamsPerStep };
      this.counts.replayed++;
      this.fresh = true;
      return copyOf(this.losses!);
    }
    return this.capture(batches, signature, body);
  }

  /** Whether the recording can stand for this step. */
  private replayable(signature: string): boolean {
    if (!this.recording || this.recording.isDisposed || signature !== this.signature) return false;
    const { seed, stream } = this.model.dropoutState;
    if (seed !== this.seed || stream < this.streamStart || stream + this.streamsPerStep >= 2 ** 32) return false;
    if (this.losses!.isDisposed) return false;
    let i = 0;
    for (const p of this.model.params.values()) {
      const g = this.grads[i++];
      // zeroGrad, or a parameter replaced, since the capture: its outputs are gone.
      if (p.grad !== g || g?.isDisposed || p.data.isDisposed) return false;
    }
    return i === this.grads.length;
  }

  private capture(batches: readonly Batch[], signature: string, body: (b: readonly Batch[]) => T.Tensor): T.Tensor {
    this.release();
    const backend = this.model.device.backend;
    // The step reads persistent copies of its batches: a replay copies each step's into them.
    this.inputs = batches.map((b) => ({ inputs: T.keep(copyOf(b.inputs)), targets: T.keep(copyOf(b.targets)) }));
    const { seed, stream } = this.model.dropoutState;
    backend.beginCapture!();
    let losses: T.Tensor;
    try {
      losses = body(this.inputs);
    } catch (e) {
      backend.abortCapture?.();
      this.release();
      throw e;
    }
    this.recording = backend.endCapture!();
    this.losses = T.keep(losses);
    this.grads = [...this.model.params.values()].map((p) => p.grad);
    this.signature = signature;
    this.seed = seed;
    this.streamStart = stream;
    this.streamsPerStep = this.model.dropoutState.stream - stream;
    this.counts.captured++;
    this.fresh = true;
    return copyOf(losses);
  }

  /**
   * `optimizer.update(lr)` after run(): eager, or, after a captured or replayed step, captured
   * once and then replayed with the step's own learning-rate terms (AdamW's lr / (1 - beta1^t),
   * sqrt(1 - beta2^t) and 1 - lr * weight decay: T.adamwWord), the optimizer's step counted as
   * update() counts it. The same bits as the eager update.
   */
  update(optimizer: AdamW, lr: number): void {
    const backend = this.model.device.backend;
    if (!this.fresh || !backend.beginCapture || !backend.endCapture || !backend.replay) {
      optimizer.update(lr);
      return;
    }
    this.fresh = false;
    const moments = optimizer.m.values().next().value;
    if (
      this.updateRecording &&
      !this.updateRecording.isDisposed &&
      this.updateOptimizer === optimizer &&
      optimizer.params === this.model.params &&
      moments &&
      !moments.isDisposed
    ) {
      optimizer.step++;
      const hyper = optimizer.hyperparameters(lr);
      backend.replay(this.updateRecording, 0, (name) => T.adamwWord(name, hyper));
      this.counts.updatesReplayed++;
      return;
    }
    this.updateRecording?.dispose();
    this.updateRecording = null;
    backend.beginCapture();
    try {
      optimizer.update(lr);
    } catch (e) {
      backend.abortCapture?.();
      throw e;
    }
    this.updateRecording = backend.endCapture();
    this.updateOptimizer = optimizer;
  }

  /** Frees the recording and the tensors it kept (the gradients stay with the parameters). */
  private release(): void {
    this.recording?.dispose();
    this.recording = null;
    this.updateRecording?.dispose();
    this.updateRecording = null;
    this.updateOptimizer = null;
    this.fresh = false;
    for (const b of this.inputs) {
      b.inputs.dispose();
      b.targets.dispose();
    }
    this.inputs = [];
    this.losses?.dispose();
    this.losses = null;
    this.grads = [];
    this.signature = '';
  }

  /** Ends capturing: unpins the step's buffers. Later steps capture anew. */
  dispose(): void {
    this.release();
    this.seen = 0;
  }
}

/** A new tensor holding `t`'s elements (one copy kernel). */
function copyOf(t: T.Tensor): T.Tensor {
  const out = T.emptyLike(t);
  T.copyInto(out, t);
  return out;
}
