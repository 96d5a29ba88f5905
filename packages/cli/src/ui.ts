/**
 * Output for people and for pipes: colours only where the stream is a terminal (NO_COLOR and
 * FORCE_COLOR honoured; TERM=dumb and the CI variable do not colour a pipe or a file),
 * a progress bar only when stderr is a terminal, one-line errors.
 *
 * The bar (cli-progress) sits on the last line of the terminal. Lines printed while it runs
 * (`say` on stdout, `notice` on stderr) clear it, scroll above it, and it is drawn again
 * below them. It always fits the terminal's width, and the terminal is restored (cursor shown)
 * on every way out: `stopProgress` at a normal end or an error, and a process 'exit' hook for
 * process.exit and uncaught exceptions.
 */
import { fstatSync } from 'node:fs';
import { MiniGptError } from '@mini/tensor';
import cliProgress, { type Options, type Params } from 'cli-progress';
import pc from 'picocolors';

/**
 * Whether lines written to `stream` may carry colour codes: NO_COLOR (any value) turns them off,
 * FORCE_COLOR (any value but 0) on; otherwise only a terminal that is not TERM=dumb gets them.
 * picocolors' own rule also colours whenever CI is set, which puts escape codes into piped logs.
 */
export function colorsEnabled(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if ('NO_COLOR' in env) return false;
  if ('FORCE_COLOR' in env) return env.FORCE_COLOR !== '0';
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** Colours for lines on stdout. */
export const colors = pc.createColors(colorsEnabled(process.stdout));
/** Colours for lines on stderr (errors, notes). */
export const errorColors = pc.createColors(colorsEnabled(process.stderr));

interface ActiveBar {
  multi: cliProgress.MultiBar;
  redraw(): void;
}

let active: ActiveBar | null = null;
/** Removes the bar's signal and resize listeners. */
let detach = (): void => {};

/** Whether `stream` and the bar share the terminal (a line there must clear the bar first). */
const sharesTerminal = (stream: NodeJS.WriteStream) => active !== null && stream.isTTY;

function writeAbove(stream: NodeJS.WriteStream, line: string): void {
  if (!sharesTerminal(stream)) {
    stream.write(`${line}\n`);
    return;
  }
  process.stderr.write('\r\x1b[2K');
  stream.write(`${line}\n`);
  active!.redraw();
}

/** Writes a line to stdout, above the progress bar if one runs. */
export function say(line: string): void {
  writeAbove(process.stdout, line);
}

/** Writes a line to stderr (notes, Ctrl-C messages), above the progress bar if one runs. */
export function notice(line: string): void {
  writeAbove(process.stderr, line);
}

export interface Progress {
  /** Moves the bar to `value` (e.g. steps done) and shows `label` before it and `fields` after it. */
  update(value: number, label: string, fields: string[]): void;
}

/** 75 -> "1m 15s"; 4000 -> "1h 06m". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Seconds left at the rate measured since this process started (`startedAt`, at `startValue`;
 * times in ms), counting down from the last update; null before the first one. A resumed run
 * starts at its saved step, so the steps done before it do not inflate the rate.
 */
export function etaSeconds(p: {
  startValue: number;
  value: number;
  total: number;
  startedAt: number;
  updatedAt: number;
  now: number;
}): number | null {
  if (p.value <= p.startValue) return null;
  const msPerUnit = (p.updatedAt - p.startedAt) / (p.value - p.startValue);
  return Math.max(0, msPerUnit * (p.total - p.value) - (p.now - p.updatedAt)) / 1000;
}

const MIN_BAR = 10;
const MAX_BAR = 40;

/**
 * One line: `label |bar| value/total | field | field | ETA 3m 10s`, cut to `width` by dropping
 * the last fields first, then the bar. `fields` are in order of importance.
 */
export function progressLine(
  width: number,
  progress: number,
  label: string,
  count: string,
  fields: string[],
  eta: string,
  options: Options,
): string {
  const kept = [...fields];
  for (;;) {
    const text = [count, ...kept, eta].join(' | ');
    const room = width - label.length - text.length - 4; // ' |' + '| '
    if (room >= MIN_BAR || kept.length === 0) {
      if (room < MIN_BAR) return `${label} ${text}`.slice(0, width);
      const bar = cliProgress.Format.BarFormat(progress, { ...options, barsize: Math.min(MAX_BAR, room) });
      return `${label} |${bar}| ${text}`;
    }
    kept.pop();
  }
}

/**
 * Whether a bar may draw on stderr: it is a terminal that moves a cursor (not TERM=dumb), and
 * stdout cannot land on the same line unseen: stdout is that terminal too (lines clear the bar
 * first), or a file or /dev/null. A pipe (`| tee log.txt`) may print onto the terminal behind
 * the bar's back, so it gets no bar.
 */
export function barAllowed(): boolean {
  if (!process.stderr.isTTY || process.env.TERM === 'dumb') return false;
  if (process.stdout.isTTY) return true;
  try {
    const out = fstatSync(1);
    return out.isFile() || out.isCharacterDevice();
  } catch {
    return false;
  }
}

const SHOW_CURSOR = '\x1b[?25h';
const HIDE_CURSOR = '\x1b[?25l';

/**
 * A progress bar on stderr where barAllowed() (a no-op otherwise). `startValue` is where
 * this process starts (a resumed run's steps): the ETA comes from the rate measured since then.
 */
export function startProgress(total: number, startValue: number, unit: string, label = ''): Progress {
  if (!barAllowed()) return { update() {} };
  const startedAt = performance.now();
  let updatedAt = startedAt;
  let state = { value: startValue, label, fields: [] as string[] };
  const eta = () => {
    const left = etaSeconds({ startValue, value: state.value, total, startedAt, updatedAt, now: performance.now() });
    return left === null ? 'ETA after the first step' : `ETA ${formatDuration(left)}`;
  };
  // Two columns spare: the terminal echoes Ctrl-C as "^C" after the bar, and must not wrap it.
  let drawn = 0; // the length of the line last drawn, for a resize to know how many rows it now takes
  const format = (options: Options, params: Params) => {
    const line = progressLine(
      params.maxWidth - 3,
      total > 0 ? state.value / total : 0,
      state.label,
      `${unit ? `${unit} ` : ''}${state.value}/${total}`,
      state.fields,
      eta(),
      options,
    );
    drawn = line.length;
    return line;
  };
  const multi = new cliProgress.MultiBar({
    format,
    hideCursor: true,
    linewrap: true,
    clearOnComplete: true,
    gracefulExit: false,
    fps: 2,
    stream: process.stderr,
  });
  // render(true) draws even when the text is unchanged (after a line cleared it); the typings omit the argument.
  const bar = multi.create(total, startValue) as unknown as {
    update(value: number): void;
    render(force: boolean): void;
  };
  active = { multi, redraw: () => bar.render(true) };
  process.once('exit', stopProgress);
  // Ctrl-Z: the shell's prompt must get its cursor back; on `fg` the bar hides it and draws again.
  const suspend = () => {
    process.stderr.write(`\r\x1b[2K${SHOW_CURSOR}`);
    process.kill(process.pid, 'SIGSTOP');
  };
  const resume = () => {
    if (!active) return;
    process.stderr.write(HIDE_CURSOR);
    active.redraw();
  };
  // A narrower window reflows the bar's line into several rows: clear them all, not only the last.
  const resize = () => {
    if (!active) return;
    const rows = Math.max(1, Math.ceil(drawn / Math.max(1, process.stderr.columns)));
    process.stderr.write(`${rows > 1 ? `\x1b[${rows - 1}A` : ''}\r\x1b[J`);
    active.redraw();
  };
  process.on('SIGTSTP', suspend);
  process.on('SIGCONT', resume);
  process.stderr.on('resize', resize);
  detach = () => {
    process.off('SIGTSTP', suspend);
    process.off('SIGCONT', resume);
    process.stderr.off('resize', resize);
  };
  // Drawn at once, not at the first timer tick, and only now: a Ctrl-Z that follows the first
  // frame must find the handler (a SIGTSTP before it is discarded where the process group is
  // orphaned, and leaves the cursor hidden elsewhere).
  bar.render(true);
  return {
    update(value, label, fields) {
      updatedAt = performance.now();
      state = { value, label, fields };
      bar.update(value);
      bar.render(true);
    },
  };
}

/**
 * The older template form (`name |{bar}| {done} / {size} | ETA {eta_formatted}`, as the
 * download command uses): the text before `|{bar}|` is the label, the `|`-separated parts
 * after it are the fields; `{eta_formatted}` and `{value}`/`{total}` are drawn by the bar.
 */
export function progressBar(
  total: number,
  format: string,
): { update(value: number, payload: Record<string, string | number>): void; stop(): void } {
  const progress = startProgress(total, 0, '');
  const fill = (text: string, payload: Record<string, string | number>) =>
    text.replace(/\{(\w+)\}/g, (m, key: string) => String(payload[key] ?? m));
  const [label = '', rest = ''] = format.split('|{bar}|');
  const fields = rest
    .split('|')
    .map((f) => f.trim())
    .filter((f) => f && !f.includes('{eta_formatted}'));
  return {
    update: (value, payload) =>
      progress.update(
        value,
        fill(label.trim(), payload),
        fields.map((f) => fill(f, payload)),
      ),
    stop: stopProgress,
  };
}

/** Removes the progress bar and restores the cursor (safe to call at any time, and twice). */
export function stopProgress(): void {
  if (!active) return;
  const { multi } = active;
  active = null;
  multi.stop();
  process.off('exit', stopProgress);
  detach();
  detach = () => {};
}

/**
 * A path as a POSIX shell word, for commands the user copies: as is when it has no character
 * the shell treats specially, else in single quotes ("/tmp/my runs/a" -> '/tmp/my runs/a').
 */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** A usage error: exit code 2. */
export class UsageError extends MiniGptError {
  override name = 'UsageError';
  override readonly exitCode = 2;
}

let verboseOn = false;
/** --verbose, set once by main before a command runs. */
export const isVerbose = (): boolean => verboseOn;
export function setVerbose(on: boolean): void {
  verboseOn = on;
}
