// scripts/pytorch_continue.py under torchrun (2 processes, gloo on CPU): it continues a
// mini-gpt run (its first loss where mini-gpt's ended, far below a fresh model's), and the run
// folder it writes resumes in mini-gpt and loads in generate. Skipped, saying why, only where
// python3 with torch or torchrun is missing (CI installs python3-torch).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VERDICT, runCli } from './run-cli.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/pytorch_continue.py', import.meta.url));

/** The python3 with torch and the torchrun beside it, or why there is none. */
function findTorch(): { torchrun: string } | { missing: string } {
  for (const python of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    for (const torchrun of [join(python === 'python3' ? '' : '/usr/bin', 'torchrun'), 'torchrun']) {
      if (spawnSync(torchrun, ['--help'], { encoding: 'utf8' }).status === 0) return { torchrun };
    }
    return { missing: `${python} has torch, but no torchrun was found` };
  }
  return { missing: 'no python3 with torch and numpy (install python3-torch)' };
}
const torch = findTorch();
if ('missing' in torch) console.warn(`skipping the torchrun round trip: ${torch.missing}`);

// CI installs python3-torch and sets MINI_GPT_REQUIRE_TORCH=1: there a missing torch fails
// rather than skipping the round trip.
describe.runIf(process.env.MINI_GPT_REQUIRE_TORCH === '1')('torchrun is required here', () => {
  it('python3 with torch and torchrun are found', () => {
    expect('missing' in torch ? torch.missing : 'found').toBe('found');
  });
});

const safetensorsMetadata = (path: string) => {
  const fd = openSync(path, 'r');
  const size = Buffer.alloc(8);
  readSync(fd, size, 0, 8, 0);
  const header = Buffer.alloc(Number(size.readBigUInt64LE()));
  readSync(fd, header, 0, header.length, 8);
  return JSON.parse(header.toString()).__metadata__;
};

describe.skipIf('missing' in torch)('torchrun --nproc_per_node 2 scripts/pytorch_continue.py', () => {
  it('continues a mini-gpt run and hands it back: mini-gpt resumes it, generate loads it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mini-gpt-torch-'));
    const shards = join(root, 'shards');
    expect((await runCli(['prepare', VERDICT, '--out', shards, '--val-share', '0.1'])).code).toBe(0);
    const run = join(root, 'run');
    const flags = ['--preset', 'tiny', '--context-length', '32', '--dropout', '0', '--lr', '0.004'];
    const first = await runCli([
      'train',
      ...flags,
      '--data',
      shards,
      '--max-steps',
      '40',
      '--eval-freq',
      '39',
      '--eval-iter',
      '2',
      '--sample-tokens',
      '0',
      '--out',
      run,
    ]);
    expect(first.code, first.stderr).toBe(0);
    const history = JSON.parse(readFileSync(join(run, 'checkpoint', 'trainer_state.json'), 'utf8')).state.history;
    const [initial, last] = [history[0].trainLoss, history[history.length - 1].trainLoss];
    expect(last).toBeLessThan(initial - 1);

    const out = join(root, 'continued');
    // --redirects 1 --tee 1: Debian's torchrun 1.13 on Python 3.11 cannot parse its own default "0" (an IntFlag change).
    const stdout = execFileSync(
      'torchrun' in torch ? torch.torchrun : 'torchrun',
      [
        '--standalone',
        '--nproc_per_node',
        '2',
        '--redirects',
        '1',
        '--tee',
        '1',
        SCRIPT,
        '--run',
        run,
        '--data',
        shards,
        '--out',
        out,
        '--max-steps',
        '44',
      ],
      { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const steps = stdout
      .split('\n')
      .map((line) => line.replace(/^\[[^\]]*\]:/, ''))
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { step: number; loss: number; tokens_per_s: number });
    expect(steps.map((s) => s.step)).toEqual([40, 41, 42, 43]);
    // The weights came over: the first loss is near mini-gpt's last, far below a fresh model's.
    expect(Math.abs(steps[0]!.loss - last)).toBeLessThan(1);
    expect(steps[0]!.loss).toBeLessThan(initial - 1);
    expect(steps.every((s) => s.tokens_per_s > 0)).toBe(true);

    const checkpoint = join(out, 'checkpoint');
    expect(safetensorsMetadata(join(checkpoint, 'model.safetensors'))).toEqual({ format: 'pt' });
    const state = JSON.parse(readFileSync(join(checkpoint, 'trainer_state.json'), 'utf8'));
    expect(state.state.steps).toBe(44);
    expect(state.optimizer.step).toBe(44); // AdamW's step (its bias corrections) went on from mini-gpt's
    expect(existsSync(join(checkpoint, 'optimizer.safetensors'))).toBe(true);

    const resumed = await runCli(['train', '--resume', out, '--max-steps', '46']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('resuming: epoch 1, step 44 of 46');
    expect(resumed.stdout).toContain('done: 46 steps');
    const generated = await runCli(['generate', '--model', out, '--prompt', 'Every effort', '--max-new-tokens', '3']);
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stdout.startsWith('Every effort')).toBe(true);
  }, 300_000);
});
