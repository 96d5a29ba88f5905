// Flags as a person types them: --resume with other flags, flags that have no effect, --help,
// and bad values (binary text, unwritable folders, empty prompts, non-finite logits).
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor';
import { spawnSync } from 'node:child_process';
import { BIN, QUICK, VERDICT, runCli } from './run-cli.js';
import { runInTerminal } from './terminal.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'mini-gpt-flags-'));
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error:'));
const losses = (dir: string) =>
  readFileSync(join(dir, 'losses.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').map(Number));

describe('train --resume with other flags', () => {
  let run: string;
  beforeAll(async () => {
    run = join(fresh(), 'run');
    const r = await runCli(['train', ...QUICK, '--out', run]); // 2 epochs of 4 steps
    expect(r.code, r.stderr).toBe(0);
  });

  it('a finished run without a larger --epochs is a usage error, not a silent no-op', async () => {
    const r = await runCli(['train', '--resume', run]);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([
      `error: --resume ${run}: the run already trained 2 epochs; give --epochs above 2 to train further`,
    ]);
    // A smaller --epochs than the run trained names what it did train, not the number typed.
    const fewer = await runCli(['train', '--resume', run, '--epochs', '1']);
    expect(fewer.code).toBe(2);
    expect(errorLines(fewer.stderr)).toEqual([
      `error: --resume ${run}: the run already trained 2 epochs (more than --epochs 1); give --epochs above 2 to train further`,
    ]);
  });

  it('a larger --epochs extends the run, says so and what the learning-rate schedule does', async () => {
    const copy = join(fresh(), 'run');
    mkdirSync(join(copy, 'checkpoint'), { recursive: true });
    for (const f of readdirSync(join(run, 'checkpoint')))
      copyFileSync(join(run, 'checkpoint', f), join(copy, 'checkpoint', f));
    copyFileSync(join(run, 'losses.csv'), join(copy, 'losses.csv'));
    const r = await runCli(['train', '--resume', copy, '--epochs', '3', '--eval-freq', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('resuming: epoch 3, step 8 of 12');
    expect(r.stdout).toContain('changed: --epochs 2 -> 3');
    expect(r.stdout).toContain('changed: --eval-freq 2 -> 1');
    expect(r.stdout).toContain('schedule: the learning rate stays 0.004 (no decay) for the added 4 steps');
    expect(r.stdout).toMatch(/done: 12 steps/);
    const steps = losses(copy).map((row) => row[0]);
    expect(steps.slice(-4)).toEqual([8, 9, 10, 11]); // the new --eval-freq is honoured
  });

  it('a flag the run cannot change, typed with a different value, exits 2 naming the flag and both values', async () => {
    const cases: [string[], string][] = [
      [['--batch-size', '4'], '--batch-size cannot change when resuming: the run was started with 2, you typed 4'],
      [
        ['--preset', 'gpt2-small'],
        '--preset cannot change when resuming: the run was started with "tiny", you typed "gpt2-small"',
      ],
      [
        ['--context-length', '64'],
        '--context-length cannot change when resuming: the run was started with 32, you typed 64',
      ],
      [['--seed', '7'], '--seed cannot change when resuming: the run was started with 123, you typed 7'],
      [['--init', 'gpt2'], '--init cannot change when resuming: the run was started with "pytorch", you typed "gpt2"'],
      // --data: the content is compared, not the path (test/cli/resume-identity.test.ts)
    ];
    for (const [flags, message] of cases) {
      const r = await runCli(['train', '--resume', run, '--epochs', '3', ...flags]);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(errorLines(r.stderr)).toEqual([`error: ${message}`]);
    }
    // The same value as saved is fine (here: the run's own --batch-size), and the run is untouched by the refusals.
    expect(losses(run).map((row) => row[0])).toEqual([0, 2, 4, 6]);
  });

  it('--resume of a missing folder, or of a folder that holds no run, is a usage error that says which', async () => {
    const missing = await runCli(['train', '--resume', '/no/such/run']);
    expect(missing.code).toBe(2);
    expect(errorLines(missing.stderr)).toEqual(['error: --resume /no/such/run: no such folder']);
    const empty = fresh();
    const notRun = await runCli(['train', '--resume', empty]);
    expect(notRun.code).toBe(2);
    expect(errorLines(notRun.stderr)).toEqual([
      `error: --resume ${empty}: not a training run (no checkpoint/trainer_state.json in it)`,
    ]);
  });

  it('--no-optimizer-state saves the model only, which generate loads and --resume refuses', async () => {
    const out = join(fresh(), 'run');
    const r = await runCli(['train', ...QUICK, '--epochs', '1', '--no-optimizer-state', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(out, 'checkpoint')).sort()).toEqual([
      'config.json',
      'model.safetensors',
      'trainer_state.json',
    ]);
    expect(r.stdout).toContain(`checkpoint: ${join(out, 'checkpoint')} (13.0 MB model)`);
    expect((await runCli(['generate', '--model', out, '--prompt', 'I', '--max-new-tokens', '2'])).code).toBe(0);
    const resumed = await runCli(['train', '--resume', out, '--epochs', '2']);
    expect(resumed.code).toBe(2); // a usage error: the folder cannot be resumed, whatever the machine
    expect(errorLines(resumed.stderr)).toEqual([
      `error: --resume ${out}: the run was saved without its optimizer state (--no-optimizer-state), so it cannot be resumed; start a new run, or use its model with generate or eval`,
    ]);
  });
});

describe('bad values are caught', () => {
  it('a binary file as --data is refused (train and eval), naming the file and the byte offset', async () => {
    const dir = fresh();
    const binary = join(dir, 'program');
    writeFileSync(binary, readFileSync(process.execPath).subarray(0, 30_000));
    const train = await runCli(['train', '--preset', 'tiny', '--data', binary, '--out', join(dir, 'run')]);
    expect(train.code).toBe(2);
    expect(errorLines(train.stderr)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^error: --data ${binary}: (not UTF-8 text \\(byte 0x[0-9a-f]{2} at offset \\d+\\)|a NUL byte at offset \\d+)`,
        ),
      ),
    ]);
    const latin1 = join(dir, 'latin1.txt');
    writeFileSync(latin1, Buffer.from('caf\xe9 au lait', 'latin1'));
    const model = join(dir, 'm');
    const tiny = G.GPTModel.create(G.resolveConfig('tiny'), { device: T.cpu, seed: 1 });
    await G.saveModel(model, tiny);
    tiny.dispose();
    const evalRun = await runCli(['eval', '--model', model, '--data', latin1]);
    expect(evalRun.code).toBe(2);
    expect(errorLines(evalRun.stderr)).toEqual([
      `error: --data ${latin1}: not UTF-8 text (byte 0xe9 at offset 3); give a text file`,
    ]);
  });

  it('an empty validation split is named in the header and the plot, which draws no NaN', async () => {
    const out = join(fresh(), 'run');
    const r = await runCli(['train', ...QUICK, '--epochs', '1', '--train-ratio', '0.999', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('no validation: the split is too short for one window, so the validation loss is NaN');
    const svg = readFileSync(join(out, 'loss.svg'), 'utf8');
    expect(svg).not.toMatch(/NaN/);
    expect(svg).toContain('no validation loss: the validation split is empty');
  });

  it('--out that cannot be created names --out; an empty --prompt is a usage error', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'a-file'), 'x');
    const out = join(dir, 'a-file', 'run');
    const r = await runCli(['train', ...QUICK, '--out', out]);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([
      `error: --out ${out}: cannot create or write this folder (${join(dir, 'a-file')} is a file, not a folder)`,
    ]);
    const empty = await runCli(['generate', '--model', 'gpt2', '--prompt', '']);
    expect(empty.code).toBe(2);
    expect(errorLines(empty.stderr)).toEqual(['error: --prompt is empty: give some text to continue']);
  });

  it('sampling flags without --temperature say in one line that decoding is greedy', async () => {
    const dir = fresh();
    const tiny = G.GPTModel.create(G.resolveConfig('tiny'), { device: T.cpu, seed: 1 });
    await G.saveModel(dir, tiny);
    tiny.dispose();
    const greedy = await runCli(['generate', '--model', dir, '--prompt', 'I', '--max-new-tokens', '3']);
    const withTopK = await runCli([
      'generate',
      '--model',
      dir,
      '--prompt',
      'I',
      '--max-new-tokens',
      '3',
      '--top-k',
      '5',
      '--top-p',
      '0.9',
    ]);
    expect(withTopK.code).toBe(0);
    expect(withTopK.stdout).toBe(greedy.stdout);
    expect(withTopK.stderr.trim()).toBe(
      "note: --top-k, --top-p have no effect: decoding is greedy at temperature 0 (the book's rule); add --temperature to sample",
    );
    expect(greedy.stderr).toBe('');
    const sampled = await runCli([
      'generate',
      '--model',
      dir,
      '--prompt',
      'I',
      '--max-new-tokens',
      '3',
      '--top-k',
      '5',
      '--temperature',
      '1',
    ]);
    expect(sampled.stderr).toBe('');
  });

  it('non-finite logits stop generate with one line naming the step (exit 1), greedy or sampled', async () => {
    for (const bad of [NaN, Infinity]) {
      const dir = fresh();
      const tiny = G.GPTModel.create(G.resolveConfig('tiny'), { device: T.cpu, seed: 1 });
      await G.saveModel(dir, tiny);
      tiny.dispose();
      // Write the bad value into the first element of ln_f.bias, in place.
      const file = join(dir, 'model.safetensors');
      const source = await G.fileSource(file);
      const header = await G.readHeader(source);
      await source.close();
      const entry = [...header.tensors.values()].find((t) => t.name.endsWith('ln_f.bias'))!;
      const fd = openSync(file, 'r+');
      writeSync(fd, new Uint8Array(new Float32Array([bad]).buffer), 0, 4, entry.start);
      closeSync(fd);
      for (const sampling of [[], ['--temperature', '1', '--top-k', '40']]) {
        const r = await runCli([
          'generate',
          '--model',
          dir,
          '--prompt',
          'Every effort',
          '--max-new-tokens',
          '5',
          ...sampling,
        ]);
        expect(r.code, `${bad} ${sampling.join(' ')}`).toBe(1);
        expect(errorLines(r.stderr)).toEqual([
          expect.stringMatching(
            /^error: the model's logits are not finite at generation step 0 \(token id \d+ has logit (NaN|Infinity|-Infinity)\)/,
          ),
        ]);
        expect(r.stdout).toBe('Every effort\n');
      }
    }
  });
});

describe('--help', () => {
  it('marks required options, shows --verbose, the environment and the files train writes', async () => {
    const help = async (command: string) => (await runCli([command, '--help'])).stdout;
    for (const command of ['train', 'generate', 'eval', 'download', 'info']) {
      const text = await help(command);
      expect(text, command).toMatch(/--verbose\s+print stack traces/);
      // which variables each command lists: errors.test.ts
      for (const name of ['MINI_GPT_CACHE', 'NO_COLOR', '~/.cache/mini-gpt'])
        expect(text, `${command} ${name}`).toContain(name);
    }
    expect(await help('generate')).toMatch(/--model <model>\s+\(required\) run folder/);
    expect(await help('generate')).toMatch(/--prompt <text>\s+\(required\) text to continue/);
    expect(await help('eval')).toMatch(/--data <file>\s+\(required\) text to evaluate on/);
    const train = await help('train');
    for (const file of [
      'checkpoint/',
      'model.safetensors',
      'optimizer.safetensors',
      'trainer_state.json',
      'losses.csv',
      'loss.svg, loss.png',
      '--no-optimizer-state',
    ])
      expect(train).toContain(file);
  });
});

describe('the device probe', () => {
  it("--device auto keeps Dawn's adapter diagnostics off stderr, on every command", async () => {
    // No MINI_GPT_DEVICE and a Vulkan loader with no driver it can use: Dawn warns on the probe.
    const env = { MINI_GPT_DEVICE: '', VK_ICD_FILENAMES: '' };
    const r = await runCli(['info'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^device: (cpu|webgpu), /);
    expect(r.stderr).toBe('');
    const usage = await runCli(['train', '--preset', 'gpt5', '--data', VERDICT], { env });
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim().split('\n')).toEqual([
      'error: unknown preset "gpt5": use one of gpt2-small, gpt2-medium, gpt2-large, gpt2-xl, tiny',
    ]);
  });

  it('--device webgpu keeps them off a terminal and a shell pipe too; --verbose shows them', async () => {
    const env = { MINI_GPT_DEVICE: '', VK_ICD_FILENAMES: '' };
    const screen = await runInTerminal(['info', '--device', 'webgpu'], { env });
    expect(screen.code).toBe(0);
    expect(screen.lines[0]).toMatch(/^device: webgpu, /);
    expect(screen.lines.filter((l) => /Warning|vulkan|\.cpp/i.test(l))).toEqual([]);
    // stderr into a shell pipe (a FIFO), stdout dropped: nothing comes through.
    const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" info --device webgpu 2>&1 >/dev/null | cat`], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    expect(piped.status).toBe(0);
    expect(piped.stdout).toBe('');
    // The same with --verbose: Dawn does warn on this machine, so the checks above mean something.
    const verbose = await runInTerminal(['info', '--device', 'webgpu', '--verbose'], { env });
    expect(verbose.code).toBe(0);
    expect(verbose.lines.filter((l) => l.startsWith('Warning: ')).length).toBeGreaterThan(0);
  });

  it('--device webgpu on a software adapter says it is a software rasterizer, slower than the CPU', async () => {
    const r = await runCli(['info', '--device', 'webgpu'], { env: { MINI_GPT_DEVICE: '' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^device: webgpu, .*\(a software rasterizer, slower than --device cpu\)$/m);
  });
});
