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
/**
 * What stops a training run: a stop signal, or SIGPIPE: standard output's reader went away
 * (`train | head`). Node ignores the signal itself and reports an EPIPE error instead
 * (`outputLost`).
 */
export type StopCause = StopSignal | 'SIGPIPE';

/** 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP, 141 for SIGPIPE. */
export function signalExitCode(signal: StopCause): number {
  return 128 + constants.signals[signal];
}

/**
 * Writes a stop message line on stderr. On a terminal it starts on a new line: the cursor sits
 * after the "^C" the terminal echoed, or after generate's unfinished line of text. Elsewhere (a
 * log file, a pipe) there is no such line to end, and a leading newline was a blank line.
 */
export function stopNotice(line: string): void {
  process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}${line}\n`);
}

/** How messages name the cause: "Ctrl-C" for SIGINT (what a person pressed), else its name. */
export function signalLabel(signal: StopCause): string {
  if (signal === 'SIGPIPE') return 'the output pipe closed (SIGPIPE)';
  return signal === 'SIGINT' ? 'Ctrl-C' : signal;
}

let outputLostHandler: (() => void) | null = null;
let outputWasLost = false;

/**
 * While a run is training: `handler` runs the first time standard output's reader goes away,
 * so the run stops as on SIGHUP (finishes its step, saves) instead of exiting with the steps
 * since the last save lost. Returns the function that takes the handler off.
 */
export function onOutputLost(handler: () => void): () => void {
  outputLostHandler = handler;
  return () => {
    if (outputLostHandler === handler) outputLostHandler = null;
  };
}

/**
 * Called by the command's entry (bin/mini-gpt.js) on an EPIPE of standard output: true when a
 * training run takes it as a stop request (the first time; the writes that fail after it are
 * ignored), false when nothing is training (the caller exits quietly, as Unix tools do).
 */
export function outputLost(): boolean {
  if (!outputLostHandler) return false;
  if (!outputWasLost) {
    outputWasLost = true;
    outputLostHandler();
  }
  return true;
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
    stopNotice(`${signalLabel(signal)}: ${command} stopped`);
    process.exit(signalExitCode(signal));
  });
}
