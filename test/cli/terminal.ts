/**
 * Runs the built CLI in a pseudo-terminal (node-pty), as a person meets it, and replays what
 * it wrote through a headless terminal emulator (@xterm/headless), so a test can read the
 * screen a person would see (lines, cursor visibility, line wrapping) rather than raw bytes.
 */
import { spawn as spawnPty } from 'node-pty';
import xterm from '@xterm/headless';
import { BIN } from './run-cli.js';

export interface TerminalRun {
  code: number;
  /** Everything the program wrote, escape sequences included. */
  raw: string;
  /** The screen and its scrollback after the run, one string per line (rows that wrapped joined), trailing blanks removed. */
  lines: string[];
  /** Whether the cursor is visible and lines wrap when the program has exited. */
  cursorVisible: boolean;
  wraparound: boolean;
  /** Milliseconds from the first `interrupt` or `kill` to the exit. */
  msAfterInterrupt: number | null;
}

export interface TerminalOptions {
  cols?: number;
  rows?: number;
  env?: Record<string, string>;
  /**
   * Called with all output so far; call `interrupt()` to press Ctrl-C, `kill(signal)` to send a
   * signal (SIGTERM, SIGHUP, SIGTSTP), `resize(cols, rows)` to change the window (SIGWINCH).
   */
  onOutput?: (
    raw: string,
    interrupt: () => void,
    kill: (signal: string) => void,
    resize: (cols: number, rows: number) => void,
  ) => void;
  /** A shell command line run instead of the CLI (`$MINI_GPT` is the CLI), e.g. to pipe its stdout. */
  shell?: string;
}

/** The last of two DEC private mode switches (`ESC[?Nh` / `ESC[?Nl`) in `raw`, or `initial`. */
function lastMode(raw: string, mode: number, initial: boolean): boolean {
  const on = raw.lastIndexOf(`\x1b[?${mode}h`);
  const off = raw.lastIndexOf(`\x1b[?${mode}l`);
  return on === -1 && off === -1 ? initial : on > off;
}

export function runInTerminal(args: string[], options: TerminalOptions = {}): Promise<TerminalRun> {
  const cols = options.cols ?? 120;
  const rows = options.rows ?? 40;
  const screen = new xterm.Terminal({ cols, rows, scrollback: 5000, allowProposedApi: true });
  const env = { ...process.env, MINI_GPT_DEVICE: 'cpu', TERM: 'xterm-256color', ...options.env } as Record<
    string,
    string
  >;
  delete env.NO_COLOR;
  const child = options.shell
    ? spawnPty('/bin/sh', ['-c', options.shell], {
        cols,
        rows,
        env: { ...env, MINI_GPT: `${process.execPath} ${BIN}` },
        name: env.TERM ?? 'xterm-256color', // node-pty sets TERM to this name
      })
    : spawnPty(process.execPath, [BIN, ...args], { cols, rows, env, name: env.TERM ?? 'xterm-256color' });
  let raw = '';
  let interruptedAt: number | null = null;
  const interrupt = () => {
    interruptedAt ??= performance.now();
    child.write('\x03'); // the terminal's line discipline turns this into SIGINT
  };
  const kill = (signal: string) => {
    interruptedAt ??= performance.now();
    child.kill(signal);
  };
  const resize = (c: number, r: number) => {
    screen.resize(c, r);
    child.resize(c, r);
  };
  child.onData((data) => {
    raw += data;
    screen.write(data);
    options.onOutput?.(raw, interrupt, kill, resize);
  });
  return new Promise((resolve) => {
    child.onExit(({ exitCode }) => {
      const exitedAt = performance.now();
      // Let the emulator finish parsing what was written before reading its buffer.
      screen.write('', () => {
        const buffer = screen.buffer.active;
        const lines: string[] = [];
        for (let i = 0; i < buffer.length; i++) {
          const row = buffer.getLine(i)!;
          if (row.isWrapped && lines.length > 0) lines[lines.length - 1] += row.translateToString(true);
          else lines.push(row.translateToString(true));
        }
        while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
        resolve({
          code: exitCode,
          raw,
          lines,
          cursorVisible: lastMode(raw, 25, true),
          wraparound: screen.modes.wraparoundMode,
          msAfterInterrupt: interruptedAt === null ? null : exitedAt - interruptedAt,
        });
        screen.dispose();
      });
    });
  });
}
