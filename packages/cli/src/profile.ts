/**
 * `mini-gpt train --profile`: where the run's wall-clock time went, from trainModel's phase
 * times (steps, evaluations, samples; its epoch ends are this command's checkpoint saves) and
 * the command's own clock: the rest is setup (device, data, model) and the final reports.
 */
import type { TrainTimes } from '@mini/gpt';

export interface RunProfile {
  wallSeconds: number;
  phases: Record<'steps' | 'evaluations' | 'samples' | 'checkpoints', { count: number; seconds: number }>;
  /** Wall time outside the phases. */
  otherSeconds: number;
  /** Training tokens per second of step time. */
  stepTokensPerSecond: number;
}

/** The profile of a run: `extraCheckpoint` is a save made after trainModel returned (a stopped run's). */
export function runProfile(
  times: TrainTimes,
  wallSeconds: number,
  tokensPerStep: number,
  extraCheckpoint = { count: 0, seconds: 0 },
): RunProfile {
  const phases = {
    steps: times.steps,
    evaluations: times.evaluations,
    samples: times.samples,
    checkpoints: {
      count: times.epochEnds.count + times.saves.count + extraCheckpoint.count,
      seconds: times.epochEnds.seconds + times.saves.seconds + extraCheckpoint.seconds,
    },
  };
  const inPhases = Object.values(phases).reduce((sum, p) => sum + p.seconds, 0);
  const stepTokensPerSecond = times.steps.seconds > 0 ? (times.steps.count * tokensPerStep) / times.steps.seconds : 0;
  return { wallSeconds, phases, otherSeconds: Math.max(0, wallSeconds - inPhases), stepTokensPerSecond };
}

/** The summary's lines: one per phase with its count, mean, total and share of the wall time. */
export function formatProfile(p: RunProfile): string[] {
  const share = (s: number) => `${((100 * s) / Math.max(p.wallSeconds, 1e-9)).toFixed(0).padStart(3)} %`;
  const lines = [`profile: ${p.wallSeconds.toFixed(1)} s wall`];
  for (const [name, { count, seconds }] of Object.entries(p.phases)) {
    const mean = count > 0 ? `${count} x ${(seconds / count).toFixed(2)} s` : '0';
    const extra = name === 'steps' && count > 0 ? `  ${p.stepTokensPerSecond.toFixed(1)} tokens/s` : '';
    lines.push(`  ${name.padEnd(12)} ${mean.padEnd(16)} ${seconds.toFixed(1).padStart(8)} s ${share(seconds)}${extra}`);
  }
  lines.push(
    `  ${'other'.padEnd(12)} ${'setup, reports'.padEnd(16)} ${p.otherSeconds.toFixed(1).padStart(8)} s ${share(p.otherSeconds)}`,
  );
  return lines;
}
