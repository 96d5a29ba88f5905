// The run folder (--out) and the order of the checks: a run that cannot start leaves nothing
// behind and downloads nothing; a folder that holds a run is never overwritten.
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { QUICK, runCli } from './run-cli.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'mini-gpt-out-'));
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error:'));

describe('a run that cannot start', () => {
  it('on a --data too short for one batch leaves no --out folder behind', async () => {
    const dir = fresh();
    const short = join(dir, 'short.txt');
    writeFileSync(short, 'Too short to train on.');
    const out = join(dir, 'runs', 'run');
    const r = await runCli(['train', '--preset', 'tiny', '--data', short, '--out', out]);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([
      `error: the training split of ${short} is too short for one batch of 2 x 256 tokens`,
    ]);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  it("on a bad flag is refused before the book's text is downloaded", async () => {
    const cache = fresh();
    const r = await runCli(['train', '--preset', 'huge', '--out', join(cache, 'run')], {
      env: { MINI_GPT_CACHE: cache, MINI_GPT_DATA_URL: 'http://127.0.0.1:9/the-verdict.txt' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'error: unknown preset "huge": use one of gpt2-small, gpt2-medium, gpt2-large, gpt2-xl, tiny',
    ]);
    const init = await runCli(['train', '--init', 'xavier', '--out', join(cache, 'run')], {
      env: { MINI_GPT_CACHE: cache, MINI_GPT_DATA_URL: 'http://127.0.0.1:9/the-verdict.txt' },
    });
    expect(init.code).toBe(2);
    expect(init.stderr.trim().split('\n')).toEqual(['error: --init must be pytorch or gpt2, got "xavier"']);
    expect(existsSync(join(cache, 'run'))).toBe(false);
  });
});

describe('--out naming a folder that holds a run', () => {
  let run: string;
  beforeAll(async () => {
    run = join(fresh(), 'run');
    const r = await runCli(['train', ...QUICK, '--epochs', '1', '--out', run]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('is refused (exit 2), naming the folder, --resume and another --out; the run is untouched', async () => {
    const model = join(run, 'checkpoint', 'model.safetensors');
    const before = { mtime: statSync(model).mtimeMs, losses: readFileSync(join(run, 'losses.csv'), 'utf8') };
    const r = await runCli(['train', ...QUICK, '--out', run]);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([
      `error: --out ${run} already holds a training run (checkpoint/trainer_state.json): continue it with --resume ${run} (with --epochs above 1: it finished its 1 epoch), or choose another folder with --out`,
    ]);
    expect(statSync(model).mtimeMs).toBe(before.mtime);
    expect(readFileSync(join(run, 'losses.csv'), 'utf8')).toBe(before.losses);
  });

  it('a folder with other files but no run is fine', async () => {
    const out = fresh();
    writeFileSync(join(out, 'notes.txt'), 'my notes');
    const r = await runCli([
      'train',
      ...QUICK,
      '--epochs',
      '1',
      '--sample-tokens',
      '0',
      '--start-context',
      '',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('my notes');
    expect(r.stdout).not.toContain('sample after epoch'); // --sample-tokens 0: no sample, not the bare prompt
  });
});
