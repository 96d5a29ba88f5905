/**
 * Step-based runs: --max-steps (instead of or beside --epochs), --save-every and --grad-accum.
 * The plan of a run in optimizer steps, from its flags and the training loader's length.
 */
import * as G from '@mini/gpt/node';
import { UsageError } from './ui.js';

export interface StepFlags {
  epochs: number;
  /** Stop after this many optimizer steps in all (a resumed run counts the steps before it). */
  maxSteps?: number;
  /** Save the checkpoint every this many steps, besides each epoch's end. */
  saveEvery?: number;
  /** Micro-batches per optimizer step (default 1). */
  gradAccum?: number;
  batchSize: number;
}

export interface StepPlan {
  /** Optimizer steps per epoch: floor(batches / gradAccum). */
  perEpoch: number;
  /** Steps of the whole run: epochs x perEpoch, or --max-steps when that comes first. */
  totalSteps: number;
}

/**
 * The run's plan in steps. With --max-steps and no --epochs typed, the epochs become as many as
 * --max-steps needs (rounded up), so the step count rules; with both, whichever ends first.
 * Mutates `flags.epochs` (it is saved with the run). Throws a UsageError when the training split
 * has fewer batches than one step needs.
 */
export function planSteps(
  flags: StepFlags,
  batches: number,
  typed: ReadonlySet<string>,
  dataPath: string,
  windowTokens: number,
): StepPlan {
  const accum = flags.gradAccum ?? 1;
  const perEpoch = G.stepsPerEpoch({ length: batches }, accum);
  if (perEpoch === 0)
    throw new UsageError(
      `the training split of ${dataPath} has ${batches} batch${batches === 1 ? '' : 'es'} of ${flags.batchSize} x ${windowTokens} tokens, fewer than the ${accum} one step accumulates (--grad-accum)`,
    );
  if (flags.maxSteps !== undefined && !typed.has('epochs')) flags.epochs = Math.ceil(flags.maxSteps / perEpoch);
  return { perEpoch, totalSteps: Math.min(flags.epochs * perEpoch, flags.maxSteps ?? Infinity) };
}
