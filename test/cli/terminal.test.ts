// The CLI in a real pseudo-terminal: Ctrl-C on the CPU device, a second Ctrl-C, the terminal
// restored on every way out, lines above the progress bar, a bar that fits, known values only.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor';
import { QUICK, VERDICT } from './run-cli.js';
import { runInTerminal } from './terminal.js';

// The CLI's progress-line helpers, from its build (the CLI tests run the built CLI too).
const ui = (await import(new URL('../../packages/cli/dist/ui.js', import.meta.url).href)) as {
  progressLine(
    width: number,
    progress: number,
    label: string,
    count: string,
    fields: string[],
    eta: string,
    options: object,
  ): string;
  etaSeconds(p: {
    startValue: number;
    value: number;
    total: number;
    startedAt: number;
    updatedAt: number;
    now: number;
  }): number | null;
  formatDuration(seconds: number): string;
};
const { etaSeconds, formatDuration, progressLine } = ui;

const fresh = () => join(mkdtempSync(join(tmpdir(), 'mini-gpt-tty-')), 'run');
/** Many short steps per epoch (stride 64: 35 batches), so an epoch's end is far from any step. */
const MANY_STEPS = [
  '--preset',
  'tiny',
  '--data',
  VERDICT,
  '--context-length',
  '32',
  '--stride',
  '64',
  '--epochs',
  '1',
  '--eval-freq',
  '2',
  '--eval-iter',
  '1',
  '--sample-tokens',
  '3',
];
/** Every frame of the progress bar that was drawn (cli-progress starts each at column 1). */
const barFrames = (raw: string) =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the terminal's escape sequences are the subject
  [...raw.matchAll(/\x1b\[1G([^\x1b\r\n]*)\x1b\[0K/g)].map((m) => m[1]!).filter((f) => f.length > 0);
const stoppedAt = (lines: string[]) =>
  Number(lines.find((l) => l.startsWith('stopped at step'))?.match(/step (\d+)/)?.[1]);

describe('mini-gpt train in a terminal', () => {
  it('Ctrl-C on the CPU stops after the step in flight: saves, prints the resume command, exits 130, terminal restored', async () => {
    const out = fresh();
    let sentAt = -1;
    const r = await runInTerminal(['train', ...MANY_STEPS, '--out', out], {
      onOutput: (raw, interrupt) => {
        const frames = barFrames(raw);
        const step = Number(frames[frames.length - 1]?.match(/step (\d+)\//)?.[1] ?? 0);
        if (sentAt < 0 && step >= 3) {
          sentAt = step;
          interrupt();
        }
      },
    });
    expect(r.code, r.lines.join('\n')).toBe(130);
    expect(sentAt).toBeGreaterThan(0);
    // The step in flight finishes (and its evaluation, if one is due); not the rest of the epoch.
    expect(stoppedAt(r.lines)).toBeLessThanOrEqual(sentAt + 2);
    expect(r.lines).toContain(`resume with:  npx mini-gpt train --resume ${out}`);
    expect(r.cursorVisible).toBe(true);
    expect(r.wraparound).toBe(true);
    // The plot's epoch axis covers what was trained (a few of 35 steps), not the planned epoch.
    const ticks = [
      ...readFileSync(join(out, 'loss.svg'), 'utf8').matchAll(
        /<text x="[\d.]+" y="362" text-anchor="middle">([^<]*)</g,
      ),
    ].map((m) => Number(m[1]));
    expect(Math.max(...ticks)).toBeLessThanOrEqual(stoppedAt(r.lines) / 35);
    const state = await G.loadCheckpoint(join(out, 'checkpoint'), T.cpu);
    expect(state.state.steps).toBe(stoppedAt(r.lines));
    state.model.dispose();
    state.optimizer.dispose();
  });

  it('a second Ctrl-C exits at once, keeps the last whole checkpoint and leaves no unfinished save', async () => {
    const out = fresh();
    let first = false;
    let second = false;
    const r = await runInTerminal(['train', ...QUICK, '--epochs', '4', '--out', out], {
      onOutput: (raw, interrupt) => {
        // After epoch 1's checkpoint (saved before the evaluation at step 4), stop during the next save.
        if (!first && raw.includes('Step 000004')) {
          first = true;
          interrupt();
        }
        if (first && !second && raw.includes('saving a checkpoint')) {
          second = true;
          interrupt();
        }
      },
    });
    expect(r.code, r.lines.join('\n')).toBe(130);
    expect(r.lines.some((l) => l.startsWith('second Ctrl-C: exiting now'))).toBe(true);
    expect(r.cursorVisible).toBe(true);
    expect(readdirSync(out).filter((name) => name.includes('.saving-'))).toEqual([]);
    const loaded = await G.loadCheckpoint(join(out, 'checkpoint'), T.cpu);
    expect(loaded.state.steps).toBeGreaterThanOrEqual(4);
    loaded.model.dispose();
    loaded.optimizer.dispose();
  });

  it('at 80 columns: log lines and samples scroll above the bar, the summary comes last, the bar fits, no placeholders', async () => {
    const out = fresh();
    const r = await runInTerminal(['train', ...QUICK, '--sample-tokens', '40', '--out', out], { cols: 80 });
    expect(r.code, r.lines.join('\n')).toBe(0);
    const frames = barFrames(r.raw);
    expect(frames.length).toBeGreaterThan(3);
    for (const frame of frames) {
      expect(frame.length, frame).toBeLessThanOrEqual(80 - 2);
      expect(frame).toMatch(/step \d+\/8 .*ETA /);
    }
    expect(r.raw).not.toMatch(/\{(epoch|epochs|loss|rate|value|total|bar)\}/);
    const tail = r.lines.slice(-4);
    expect(tail[0]).toMatch(/^done: 8 steps, [\d,]+ tokens seen in \d+ s$/);
    expect(tail[1]).toBe(`checkpoint: ${join(out, 'checkpoint')} (13.0 MB model + 25.9 MB optimizer state)`);
    expect(tail[2]).toBe(`losses: ${join(out, 'losses.csv')}`);
    expect(tail[3]).toBe(`plot: ${join(out, 'loss.png')} (and loss.svg)`);
    const evals = r.lines.filter((l) => /^Ep \d \(Step \d{6}\): Train loss \d+\.\d{3}, Val loss \d+\.\d{3}$/.test(l));
    expect(evals).toHaveLength(4);
    // A sample longer than the terminal wraps (one logical line of more than 80 characters).
    const sample = r.lines.find((l) => l.startsWith('sample after epoch 2: Every effort moves you'));
    expect(sample!.length).toBeGreaterThan(80);
    // Nothing of the bar is left on screen.
    expect(r.lines.some((l) => l.includes('|') && l.includes('ETA'))).toBe(false);
    expect(r.cursorVisible).toBe(true);
  });

  it('an error during training restores the terminal', async () => {
    const r = await runInTerminal(['train', ...QUICK, '--lr', '1e30', '--out', fresh()]);
    expect(r.code).toBe(1);
    expect(r.lines.some((l) => /^error: the training loss became NaN at step \d+/.test(l))).toBe(true);
    expect(r.cursorVisible).toBe(true);
    expect(r.raw).toContain('\x1b[?25l'); // the bar did hide it
  });
});

describe('the progress line', () => {
  it('fits any width, dropping the last fields first, then the bar', () => {
    const opts = { barCompleteString: '='.repeat(100), barIncompleteString: '-'.repeat(100), barGlue: '' };
    const fields = ['loss 10.975', '1,234 tok/s'];
    for (const width of [200, 80, 60, 45, 30, 12]) {
      const line = progressLine(width, 0.5, 'epoch 1/10', 'step 5/10', fields, 'ETA 3m 10s', opts);
      expect(line.length, line).toBeLessThanOrEqual(width);
    }
    expect(progressLine(200, 0.5, 'epoch 1/10', 'step 5/10', fields, 'ETA 3m 10s', opts)).toBe(
      `epoch 1/10 |${'='.repeat(20)}${'-'.repeat(20)}| step 5/10 | loss 10.975 | 1,234 tok/s | ETA 3m 10s`,
    );
    expect(progressLine(65, 0.5, 'epoch 1/10', 'step 5/10', fields, 'ETA 3m 10s', opts)).toBe(
      `epoch 1/10 |${'='.repeat(8)}${'-'.repeat(7)}| step 5/10 | loss 10.975 | ETA 3m 10s`,
    );
    expect(progressLine(30, 0.5, 'epoch 1/10', 'step 5/10', fields, 'ETA 3m 10s', opts)).toBe(
      'epoch 1/10 step 5/10 | ETA 3m ',
    );
  });

  it('ETA: from the rate since this process started, so a resumed run is not off by the steps before it', () => {
    // Resumed at step 100 of 200; 10 steps in 20 s: 90 steps left at 2 s each.
    expect(etaSeconds({ startValue: 100, value: 110, total: 200, startedAt: 0, updatedAt: 20_000, now: 20_000 })).toBe(
      180,
    );
    expect(etaSeconds({ startValue: 100, value: 110, total: 200, startedAt: 0, updatedAt: 20_000, now: 25_000 })).toBe(
      175,
    );
    expect(etaSeconds({ startValue: 100, value: 100, total: 200, startedAt: 0, updatedAt: 0, now: 5_000 })).toBeNull();
    expect([formatDuration(45), formatDuration(75), formatDuration(4000)]).toEqual(['45s', '1m 15s', '1h 06m']);
  });

  it('the first frame shows known values only', async () => {
    const r = await runInTerminal(['train', ...QUICK, '--epochs', '1', '--out', fresh()]);
    expect(r.code).toBe(0);
    expect(barFrames(r.raw)[0]).toMatch(/^epoch 1\/1 \|-+\| step 0\/4 \| ETA after the first step$/);
  });
});
