/** Runs the built CLI as a user would: a child process, stdout and stderr captured. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../packages/cli/bin/mini-gpt.js', import.meta.url));
export const VERDICT = fileURLToPath(new URL('../../../shared/data/the-verdict.txt', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: {
    env?: Record<string, string>;
    onStdout?: (text: string, child: ReturnType<typeof spawn>) => void;
    onSpawn?: (child: ReturnType<typeof spawn>) => void;
    prefix?: string[];
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const [command, ...rest] = [...(options.prefix ?? []), process.execPath, BIN, ...args];
    const child = spawn(command!, rest, {
      env: { ...process.env, NO_COLOR: '1', MINI_GPT_DEVICE: 'cpu', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** runCli under `prefix`: a command that runs the rest of its arguments (setpriv, prlimit). */
export const runCliUnder = (prefix: string[], args: string[]): Promise<CliResult> => runCli(args, { prefix });

/**
 * runCli, sending `signal` once `path` exists (polled every `everyMs`): a stop during set-up,
 * after the command made its output folder and before its work is done.
 */
export function signalOnceExists(
  args: string[],
  path: string,
  signal: NodeJS.Signals,
  everyMs = 20,
): Promise<CliResult> {
  let poll: ReturnType<typeof setInterval> | undefined;
  return runCli(args, {
    onSpawn: (child) => {
      poll = setInterval(() => {
        if (existsSync(path)) {
          clearInterval(poll);
          child.kill(signal);
        }
      }, everyMs);
    },
  }).finally(() => clearInterval(poll));
}

/** The quick training flags the tests share: tiny model, short windows, few batches. */
export const QUICK = [
  '--preset',
  'tiny',
  '--data',
  VERDICT,
  '--context-length',
  '32',
  '--stride',
  '512',
  '--epochs',
  '2',
  '--eval-freq',
  '2',
  '--eval-iter',
  '1',
  '--lr',
  '0.004',
  '--sample-tokens',
  '5',
];

/** Past this resident memory runWatched kills the CLI: a missing check must fail a test, not fill the machine. */
export const RSS_CAP_BYTES = 1.5e9;

/**
 * The CLI as a child process (stdout ignored), killed with SIGKILL once its resident memory passes
 * RSS_CAP_BYTES (killedForMemory) or after `timeoutMs` (timedOut: a command that hangs).
 */
export function runWatched(
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<{ code: number | null; stderr: string; killedForMemory: boolean; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, NO_COLOR: '1', MINI_GPT_DEVICE: 'cpu' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let killedForMemory = false;
    let timedOut = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const watch = setInterval(() => {
      try {
        const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (rss && Number(rss[1]) * 1024 > RSS_CAP_BYTES) {
          killedForMemory = true;
          child.kill('SIGKILL');
        }
      } catch {
        /* the child has exited */
      }
    }, 50);
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, options.timeoutMs)
      : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(watch);
      clearTimeout(timer);
      resolve({ code, stderr, killedForMemory, timedOut });
    });
  });
}
