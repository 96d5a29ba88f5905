/**
 * Output for people and for pipes: colours only on a terminal (picocolors honours NO_COLOR),
 * progress bars only when stdout is a terminal, one-line errors.
 */
import { SingleBar } from 'cli-progress';
import pc from 'picocolors';

export const isTerminal = (): boolean => Boolean(process.stdout.isTTY);
export const colors = pc;

/** Writes a line to stdout (above a running progress bar, if any). */
export function say(line: string): void {
  if (activeBar) {
    activeBar.clearLine();
  }
  process.stdout.write(`${line}\n`);
  activeBar?.render();
}

interface Bar {
  update(value: number, payload: Record<string, string | number>): void;
  clearLine(): void;
  render(): void;
  stop(): void;
}

let activeBar: Bar | null = null;

/** A progress bar on a terminal, nothing otherwise. `format` uses cli-progress placeholders. */
export function progressBar(total: number, format: string): Bar {
  if (!isTerminal()) return { update() {}, clearLine() {}, render() {}, stop() {} };
  const bar = new SingleBar({ format, hideCursor: true, clearOnComplete: true, etaBuffer: 20, fps: 5 });
  bar.start(total, 0, {});
  const handle: Bar = {
    update: (value, payload) => bar.update(value, payload),
    clearLine: () => { process.stdout.write('\r\x1b[2K'); },
    render: () => bar.render(),
    stop: () => { bar.stop(); activeBar = null; },
  };
  activeBar = handle;
  return handle;
}

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** A usage error: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

let verboseOn = false;
/** --verbose, set once by main before a command runs. */
export const isVerbose = (): boolean => verboseOn;
export function setVerbose(on: boolean): void {
  verboseOn = on;
}
