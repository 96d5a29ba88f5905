/** Runs the built CLI as a user would: a child process, stdout and stderr captured. */
import { spawn } from 'node:child_process';
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
  options: { env?: Record<string, string>; onStdout?: (text: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, NO_COLOR: '1', MINI_GPT_DEVICE: 'cpu', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
