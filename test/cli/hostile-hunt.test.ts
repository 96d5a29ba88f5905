// The second new-user hunt of issue 27 (docs/hostile-input.md, "A second hunt"): convert
// writing over the model it reads (through a link) or into a folder holding other files, --out
// under /proc (prepare hung), --workers 1000 (17 GB), a --val-share that leaves nothing to
// train on, links in a loop (raw ELOOP, "which does not exist"), hex flag values, and output
// that cannot be written (a stack trace).
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor';
import { BIN, VERDICT, runCli, runWatched, signalOnceExists } from './run-cli.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'mini-gpt-hunt-'));
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error:'));
const root = fresh();
const source = join(root, 'model');
const model = G.GPTModel.create(G.resolveConfig(G.presets.tiny), { device: T.cpu, seed: 1 });
await G.saveModel(source, model);
model.dispose();
const text = join(root, 'small.txt');
writeFileSync(text, readFileSync(VERDICT, 'utf8').slice(0, 4000));
/** Two links that point at each other. */
const loop = join(root, 'loop-a');
symlinkSync(join(root, 'loop-b'), loop);
symlinkSync(loop, join(root, 'loop-b'));

describe('convert --out', () => {
  it("refuses a link to the model's own folder and keeps its weights", async () => {
    const before = readFileSync(join(source, 'model.safetensors'));
    const alias = join(root, 'alias');
    symlinkSync(source, alias);
    const r = await runCli(['convert', '--model', source, '--dtype', 'float16', '--out', alias]);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([`error: convert: --out ${alias} is the model's own folder`]);
    // Before: the float32 weights were replaced by float16 ones (a run's checkpoint could not resume).
    expect(readFileSync(join(source, 'model.safetensors')).equals(before)).toBe(true);
  });

  it('refuses a folder that holds files, and leaves them as they were', async () => {
    const project = join(fresh(), 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'config.json'), '{"mine": true}');
    const r = await runCli(['convert', '--model', source, '--dtype', 'int8', '--out', project]);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([`error: --out ${project}: not an empty folder; choose a new one`]);
    expect(readFileSync(join(project, 'config.json'), 'utf8')).toBe('{"mine": true}');
    expect(existsSync(join(project, 'model.safetensors'))).toBe(false);
  });

  it('an --out it cannot create is one line naming --out, exit 2, for convert and prepare', async () => {
    // Under /proc every mkdir fails with ENOENT; Node's recursive mkdir never returned there (prepare hung).
    const out = '/proc/mini-gpt-hunt/out';
    for (const args of [
      ['convert', '--model', source, '--dtype', 'int8', '--out', out],
      ['prepare', text, '--out', out],
    ]) {
      const r = await runWatched(args, { timeoutMs: 30_000 });
      expect(r.timedOut, args[0]).toBe(false);
      expect(r.code, r.stderr).toBe(2);
      expect(errorLines(r.stderr)).toEqual([`error: --out ${out}: cannot create or write this folder (ENOENT)`]);
    }
  }, 70_000);
});

describe('prepare', () => {
  it('--workers above the core count is capped (1,000 workers took 17 GB)', async () => {
    const out = join(fresh(), 'shards');
    const r = await runWatched(['prepare', text, '--out', out, '--workers', '1000'], { timeoutMs: 60_000 });
    expect(r.killedForMemory).toBe(false);
    expect(r.timedOut).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(out, 'manifest.json'))).toBe(true);
  }, 70_000);

  it('a --val-share that holds out every byte is refused before writing anything', async () => {
    const out = join(fresh(), 'shards');
    const r = await runCli(['prepare', text, '--out', out, '--val-share', '0.999999']);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([
      'error: --val-share 0.999999 holds out all 4.0 kB of the input: nothing is left to train on',
    ]);
    expect(existsSync(out)).toBe(false);
  });
});

describe('links in a loop', () => {
  it('are named as such, in one line, by train, prepare, generate and --resume', async () => {
    // each in the same words (brokenLink), which name the link it leads to
    const why = `a link to ${join(root, 'loop-b')} that leads back to itself (a loop of links)`;
    const data = await runCli(['train', '--data', loop, '--preset', 'tiny', '--out', join(fresh(), 'run')]);
    expect(data.code).toBe(2);
    expect(errorLines(data.stderr)).toEqual([`error: --data ${loop}: ${why}`]);
    const resume = await runCli(['train', '--resume', loop]);
    expect(resume.code).toBe(2);
    expect(errorLines(resume.stderr)).toEqual([`error: --resume ${loop}: ${why}`]);
    const prepare = await runCli(['prepare', loop, '--out', join(fresh(), 'shards')]);
    expect(prepare.code).toBe(2);
    expect(errorLines(prepare.stderr)).toEqual([`error: ${loop}: ${why}`]);
    const generate = await runCli(['generate', '--model', loop, '--prompt', 'Hi']);
    expect(generate.code).toBe(1);
    expect(errorLines(generate.stderr)).toEqual([`error: ${loop}: ${why}`]);
  });
});

describe('flag values', () => {
  it('hexadecimal, binary and octal numbers are refused (--lr 0x1 trained at 1)', async () => {
    const cases: [string, string][] = [
      ['--lr', '0x1'],
      ['--seed', '0b11'],
      ['--epochs', '0o7'],
    ];
    for (const [flag, value] of cases) {
      const r = await runCli(['train', '--data', text, '--preset', 'tiny', flag, value, '--out', join(fresh(), 'r')]);
      expect(r.code, `${flag} ${value}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`option '${flag} <\\w+>' argument '${value}' is invalid`));
    }
    // Decimal forms Python's float() reads still pass: an exponent, a leading point, a sign.
    const ok = await runCli([
      'generate',
      '--model',
      source,
      '--prompt',
      'Hi',
      '--max-new-tokens',
      '2e0',
      '--temperature',
      '+.5',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
  });
});

describe('output that cannot be written', () => {
  it('is one line naming the output, exit 1, never a stack trace', () => {
    const full = openSync('/dev/full', 'w');
    try {
      const r = spawnSync(
        process.execPath,
        [BIN, 'generate', '--model', source, '--prompt', 'Hi', '--max-new-tokens', '3'],
        {
          env: { ...process.env, NO_COLOR: '1', MINI_GPT_DEVICE: 'cpu' },
          stdio: ['ignore', full, 'pipe'],
          encoding: 'utf8',
        },
      );
      expect(r.status).toBe(1);
      expect(r.stderr).toBe('error: cannot write the output: ENOSPC: no space left on device, write\n');
    } finally {
      closeSync(full);
    }
  });
});

describe('a stop while prepare writes its shards', () => {
  it('SIGTERM takes the unfinished corpus back: exit 143, one line, no --out folder left', async () => {
    // It left the --out folder behind (empty or with partial shards) that no command could use.
    const dir = fresh();
    const text = join(dir, 'big.txt');
    writeFileSync(text, readFileSync(VERDICT, 'utf8').repeat(120)); // about 2.5 MB: seconds of tokenizing
    const out = join(dir, 'corpus');
    const { code, stderr } = await signalOnceExists(
      ['prepare', text, '--out', out, '--workers', '1'],
      out,
      'SIGTERM',
      5,
    );
    expect(code, stderr).toBe(143);
    expect(stderr).toContain(`SIGTERM: prepare stopped; the unfinished corpus in ${out} was removed`);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
