/**
 * Ctrl-C, SIGTERM and SIGHUP during train. Before the first step: stop, give the run folder
 * back, save nothing. During the run: the first one finishes the step in flight and saves a
 * checkpoint; a second one exits at once, keeping the last whole checkpoint.
 */
import * as G from '@mini/gpt/node';
import { type StopCause, onOutputLost, onStopSignals, signalExitCode, signalLabel, stopNotice } from '../signals.js';
import { notice, stopProgress } from '../ui.js';

/**
 * Ctrl-C while the device opens and the model is made (seconds) would otherwise kill the
 * process in silence and leave the new folder behind: say so and take the folder back
 * (`giveBack`). Returns the handler's removal.
 */
export function stopBeforeTraining(giveBack: () => void): () => void {
  return onStopSignals((signal) => {
    stopProgress();
    giveBack();
    stopNotice(`${signalLabel(signal)} before the first step: stopped, nothing saved`);
    process.exit(signalExitCode(signal));
  });
}

/** The run's stop requests and the save in flight, for checkpoints in `checkpointDir`. */
export class RunStop {
  /** The first signal received (or SIGPIPE: stdout's reader left), null until then: the loop stops after its step. */
  requested: StopCause | null = null;
  /** Aborts a save in flight (a second signal). */
  readonly abortSave = new AbortController();
  private saving: Promise<void> | null = null;

  constructor(private readonly checkpointDir: string) {}

  /** Tracks `save` so that a second signal waits for it to stop before exiting. */
  track(save: Promise<void>): Promise<void> {
    this.saving = save;
    return save.finally(() => {
      this.saving = null;
    });
  }

  /** Takes over the stop signals from the set-up's handler; returns the removal. */
  async listen(): Promise<() => void> {
    // Set-up (the device, the model's random initialisation) runs without turning the event loop:
    // a Ctrl-C pressed meanwhile is read in the loop's next poll for I/O and must reach the
    // set-up's handler (stop, nothing saved) rather than this one (finish a step, save). Two
    // setImmediate turns: the first may run before that poll, the second runs after it.
    for (let turn = 0; turn < 2; turn++)
      await new Promise<void>((resolve) => {
        setImmediate(resolve);
      });
    const offSignals = onStopSignals((signal) => this.onSignal(signal));
    const offOutput = onOutputLost(() => this.onSignal('SIGPIPE'));
    return () => {
      offSignals();
      offOutput();
    };
  }

  private onSignal(signal: StopCause): void {
    if (this.requested) {
      stopProgress();
      const second =
        signal === this.requested
          ? `second ${signalLabel(signal)}`
          : `${signalLabel(signal)} after ${signalLabel(this.requested)}`;
      stopNotice(`${second}: exiting now; the last whole checkpoint is kept`);
      // A save in flight stops at its next write and removes its staging folder: wait for that
      // (milliseconds), so that no file is written after the clean-up below.
      this.abortSave.abort(new Error(second));
      const exit = () => {
        G.removeUnfinishedSaves(this.checkpointDir);
        process.exit(signalExitCode(signal));
      };
      if (this.saving) this.saving.then(exit, exit);
      else exit();
      return;
    }
    this.requested = signal;
    const again = signal === 'SIGPIPE' ? 'Ctrl-C' : signalLabel(signal);
    notice(`${signalLabel(signal)}: finishing this step, then saving a checkpoint (${again} again to exit at once)`);
  }
}
