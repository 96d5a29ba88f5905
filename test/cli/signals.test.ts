// SIGTERM and SIGHUP (docker stop, systemd, Kubernetes, SLURM, a closed terminal) stop training
// as the first Ctrl-C does: the step in flight finishes, the checkpoint is saved, the resume
// command printed, exit 128 + the signal's number; a second signal exits at once. eval and
// generate exit with one line and the signal's code. Through a pseudo-terminal and through pipes.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor';
import { BIN, QUICK, VERDICT, runCli, signalOnceExists } from './run-cli.js';
import { runInTerminal } from './terminal.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'mini-gpt-signal-')), 'run');
const stoppedAt = (text: string) => Number(text.match(/stopped at step (\d+)/)?.[1]);
/** Many short steps per epoch, so that no epoch end (a save of its own) is near the signal. */
const MANY_STEPS = QUICK.map((arg, i) => (QUICK[i - 1] === '--stride' ? '64' : arg));

describe('stop signals in training', () => {
  it('SIGTERM in a terminal: finishes the step, saves, prints the resume command, exits 143, terminal restored', async () => {
    const out = fresh();
    let sent = false;
    const r = await runInTerminal(['train', ...MANY_STEPS, '--epochs', '1', '--out', out], {
      onOutput: (raw, _interrupt, kill) => {
        if (!sent && raw.includes('Step 000002')) {
          sent = true;
          kill('SIGTERM');
        }
      },
    });
    const text = r.lines.join('\n');
    expect(r.code, text).toBe(143);
    expect(text).toContain('SIGTERM: finishing this step, then saving a checkpoint');
    expect(r.lines).toContain(`resume with:  npx mini-gpt train --resume ${out}`);
    expect(r.cursorVisible).toBe(true);
    expect(text).not.toMatch(/at .*\.js:\d+/);
    const loaded = await G.loadCheckpoint(join(out, 'checkpoint'), T.cpu);
    expect(loaded.state.steps).toBe(stoppedAt(text));
    expect(loaded.state.steps).toBeLessThanOrEqual(5);
    loaded.model.dispose();
    loaded.optimizer.dispose();
  });

  it('SIGHUP then SIGTERM in a terminal: the second signal exits at once, no unfinished save is left', async () => {
    const out = fresh();
    let first = false;
    let second = false;
    const r = await runInTerminal(['train', ...QUICK, '--epochs', '4', '--out', out], {
      onOutput: (raw, _interrupt, kill) => {
        if (!first && raw.includes('Step 000004')) {
          first = true;
          kill('SIGHUP');
        }
        if (first && !second && raw.includes('saving a checkpoint')) {
          second = true;
          kill('SIGTERM');
        }
      },
    });
    const text = r.lines.join('\n');
    expect(second, text).toBe(true);
    expect(r.code, text).toBe(143);
    expect(text).toContain('SIGTERM after SIGHUP: exiting now; the last whole checkpoint is kept');
    expect(r.cursorVisible).toBe(true);
    expect(readdirSync(out).filter((name) => name.includes('.saving-'))).toEqual([]);
  });

  it('SIGHUP without a terminal: saves, exits 129, and --resume reaches the losses of an uninterrupted run', async () => {
    const straight = fresh();
    expect((await runCli(['train', ...QUICK, '--out', straight])).code).toBe(0);
    const out = fresh();
    let sent = false;
    const stopped = await runCli(['train', ...QUICK, '--out', out], {
      onStdout: (text, child) => {
        if (!sent && text.includes('Step 000002')) {
          sent = true;
          child.kill('SIGHUP');
        }
      },
    });
    expect(stopped.code, stopped.stderr).toBe(129);
    expect(stopped.stderr).toContain('SIGHUP: finishing this step');
    expect(stopped.stderr).toContain(`resume with:  npx mini-gpt train --resume ${out}`);
    const resumed = await runCli(['train', '--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const losses = (dir: string) => readFileSync(join(dir, 'losses.csv'), 'utf8').trim().split('\n').slice(1);
    expect(losses(out).map((l) => l.split(',')[0])).toEqual(losses(straight).map((l) => l.split(',')[0]));
    losses(out).forEach((row, i) =>
      row
        .split(',')
        .slice(3)
        .forEach((v, k) => expect(Number(v)).toBeCloseTo(Number(losses(straight)[i]!.split(',')[3 + k]), 5)),
    );
  });

  it("stdout's reader goes away (train | head): finishes the step, saves, exits 141", async () => {
    // It exited 0 at the first line the pipe refused, losing every step since the last save.
    const out = fresh();
    const child = spawn(process.execPath, [BIN, 'train', ...MANY_STEPS, '--epochs', '1', '--out', out], {
      env: { ...process.env, NO_COLOR: '1', MINI_GPT_DEVICE: 'cpu' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // As `head -2` does: read what it wants, then close its end of the pipe.
      if (stdout.includes('Step 000002')) child.stdout.destroy();
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(141);
    expect(stderr).toContain('the output pipe closed (SIGPIPE): finishing this step, then saving a checkpoint');
    expect(stderr).not.toMatch(/at .*\.js:\d+/);
    const loaded = await G.loadCheckpoint(join(out, 'checkpoint'), T.cpu);
    expect(loaded.state.steps).toBeGreaterThanOrEqual(3);
    expect(loaded.state.steps).toBe(stoppedAt(stderr));
    loaded.model.dispose();
    loaded.optimizer.dispose();
  }, 120_000);

  it('SIGTERM before the first step: one line, exit 143, the new folder taken back', async () => {
    const out = fresh();
    const { code, stderr } = await signalOnceExists(['train', '--data', VERDICT, '--out', out], out, 'SIGTERM');
    expect(code, stderr).toBe(143);
    expect(stderr).toContain('SIGTERM before the first step: stopped, nothing saved');
    expect(readdirSync(join(out, '..'))).toEqual([]);
  }, 120_000);
});

describe('stop signals in eval and generate', () => {
  it('SIGTERM ends eval with one line and 143; SIGHUP ends generate with 129; no stack trace', async () => {
    const run = fresh();
    expect((await runCli(['train', ...QUICK, '--epochs', '1', '--sample-tokens', '0', '--out', run])).code).toBe(0);
    const big = join(mkdtempSync(join(tmpdir(), 'mini-gpt-signal-')), 'big.txt');
    writeFileSync(big, readFileSync(VERDICT, 'utf8').repeat(20));
    for (const [args, signal, code, line] of [
      [['eval', '--model', run, '--data', big, '--batch-size', '1'], 'SIGTERM', 143, 'SIGTERM: eval stopped'],
      [
        ['generate', '--model', run, '--prompt', 'Every effort', '--max-new-tokens', '100000', '--no-stop-at-eos'],
        'SIGHUP',
        129,
        'SIGHUP: generate stopped',
      ],
    ] as const) {
      const child = spawn(process.execPath, [BIN, ...args], {
        env: { ...process.env, NO_COLOR: '1', MINI_GPT_DEVICE: 'cpu' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.stdout.on('data', () => {});
      const timer = setTimeout(() => child.kill(signal), 2500);
      const exit = await new Promise((resolve) => child.on('close', resolve));
      clearTimeout(timer);
      expect(exit, stderr).toBe(code);
      expect(stderr.trim().split('\n')).toEqual([line]);
    }
  }, 120_000);
});

describe('handing the stop signals over to a new handler', () => {
  it('loses no signal received during the hand-over (prepare, before its folder is made)', async () => {
    // The signal arrives while the first handler is on and is handled at the loop's next turn,
    // after prepare has swapped handlers in the same turn. Taking the first off before putting
    // the second on (the old order) dropped it: prepare then ran to the end and exited 0.
    const dist = join(dirname(BIN), '..', 'dist');
    const out = join(mkdtempSync(join(tmpdir(), 'mini-gpt-handover-')), 'corpus');
    const script = `
      const { exitOnStopSignals } = await import(${JSON.stringify(`${dist}/signals.js`)});
      const { removeOutOnStop } = await import(${JSON.stringify(`${dist}/out-folder.js`)});
      const off = exitOnStopSignals('prepare');
      process.kill(process.pid, 'SIGINT');
      removeOutOnStop('prepare', ${JSON.stringify(out)}, false, 'corpus', off);
      setTimeout(() => { process.stderr.write('signal lost\\n'); process.exit(0); }, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(130);
    expect(stderr).toBe(`Ctrl-C: prepare stopped; the unfinished corpus in ${out} was removed\n`);
  });
});
