/**
 * The signals that stop a command: Ctrl-C (SIGINT), SIGTERM (what `docker stop`, systemd,
 * Kubernetes and SLURM send before they kill) and SIGHUP (the terminal went away). Training
 * treats all three alike: the first finishes the step in flight and saves, a second of any of
 * them exits at once. The exit code is the shell's for a death by that signal, 128 + its number
 * (130, 143, 129), so a job scheduler reads it as a stop by signal.
 */
import { constants } from 'node:os';
import { stopProgress } from './ui.js';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP. */
export function signalExitCode(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

/** How messages name the signal: "Ctrl-C" for SIGINT (what a person pressed), else its name. */
export function signalLabel(signal: StopSignal): string {
  return signal === 'SIGINT' ? 'Ctrl-C' : signal;
}

/**
 * Calls `handler` with the signal's name on each of SIGINT, SIGTERM and SIGHUP (Node's default
 * for them, exiting at once, is off while the handler is on). Returns the function that takes
 * the handler off again.
 */
export function onStopSignals(handler: (signal: StopSignal) => void): () => void {
  const listeners = STOP_SIGNALS.map((signal) => {
    const listener = () => handler(signal);
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) process.off(signal, listener);
  };
}

/**
 * For commands with nothing to save (eval, generate): a stop signal ends the process at once
 * with one line on stderr and the signal's exit code, never a stack trace. Returns the function
 * that takes the handlers off.
 */
export function exitOnStopSignals(command: string): () => void {
  return onStopSignals((signal) => {
    stopProgress();
    process.stderr.write(`\n${signalLabel(signal)}: ${command} stopped\n`);
    process.exit(signalExitCode(signal));
  });
}
