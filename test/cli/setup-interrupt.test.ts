// Ctrl-C during a long set-up step (issue 27, items 3 and 10): tokenizing a text read whole
// (tens of MB, seconds) once blocked the event loop, so Ctrl-C did nothing until it ended. Now
// the process stops within moments, with one line, and takes back the run folder it made.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as G from '@mini/gpt/node';
import { describe, expect, it } from 'vitest';
import { BIN, VERDICT } from './run-cli.js';

describe('Ctrl-C while a long text is tokenized', () => {
  it('textToIdsAsync gives the ids of textToIds', async () => {
    const text = `${readFileSync(VERDICT, 'utf8')}<|endoftext|>${'='.repeat(3000)} tail`;
    expect(await G.textToIdsAsync(text, 7)).toEqual(G.textToIds(text));
  });

  it('stops within moments with one line, and leaves no run folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'setup-interrupt-'));
    const data = join(dir, 'big.txt');
    const words = readFileSync(VERDICT, 'utf8');
    writeFileSync(data, words.repeat(Math.ceil(24e6 / words.length)).slice(0, 24e6));
    const out = join(dir, 'run');
    const child = spawn(
      process.execPath,
      [BIN, 'train', '--preset', 'tiny', '--data', data, '--context-length', '32', '--out', out],
      { env: { ...process.env, NO_COLOR: '1', MINI_GPT_DEVICE: 'cpu' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.resume();
    let sentAt = 0;
    // Tokenizing 24 MB takes well over the 4 s waited here on this machine's cores.
    const timer = setTimeout(() => {
      sentAt = performance.now();
      child.kill('SIGINT');
    }, 4000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    const ms = performance.now() - sentAt;
    expect(sentAt, stderr).toBeGreaterThan(0);
    expect(code, stderr).toBe(130);
    expect(ms).toBeLessThan(2000);
    expect(stderr.trim().split('\n').at(-1)).toBe('Ctrl-C before the first step: stopped, nothing saved');
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
