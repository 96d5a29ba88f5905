// train --max-steps / --save-every / --grad-accum through the CLI, and --resume of such a run.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QUICK, runCli } from './run-cli.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'mini-gpt-steps-')), 'run');
const state = (out: string) => JSON.parse(readFileSync(join(out, 'checkpoint', 'trainer_state.json'), 'utf8'));
const MANY = QUICK.map((arg, i) => (QUICK[i - 1] === '--stride' ? '64' : arg)).filter(
  (arg, i, all) => arg !== '--epochs' && all[i - 1] !== '--epochs',
);

describe('train --max-steps, --save-every, --grad-accum', () => {
  it('stops at --max-steps mid-epoch with a checkpoint; --resume --max-steps goes on; a finished run says so', async () => {
    const out = fresh();
    let savedAt4: unknown = null;
    const r = await runCli(['train', ...MANY, '--max-steps', '7', '--save-every', '4', '--out', out], {
      onStdout: (text) => {
        // The save at step 4 is on disk before the evaluation at step 6 is printed.
        if (savedAt4 === null && text.includes('Step 000006')) savedAt4 = state(out);
      },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('done: 7 steps');
    expect((savedAt4 as { state: { steps: number } } | null)?.state.steps).toBe(4);
    expect(state(out).state.steps).toBe(7);
    expect(state(out).state.batch).toBe(7);
    const again = await runCli(['train', '--resume', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already finished its 7 steps; give --max-steps above 7');
    const more = await runCli(['train', '--resume', out, '--max-steps', '9']);
    expect(more.code, more.stderr).toBe(0);
    expect(more.stdout).toMatch(/resuming: epoch 1, step 7 of 9/);
    expect(more.stdout).toContain('done: 9 steps');
  });

  it('--grad-accum 2: the data line says the steps, tokens count both micro-batches, and it cannot change on --resume', async () => {
    const out = fresh();
    const r = await runCli(['train', ...MANY, '--max-steps', '3', '--grad-accum', '2', '--json', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.steps).toBe(3);
    expect(summary.tokensSeen).toBe(3 * 2 * 2 * 32);
    const change = await runCli(['train', '--resume', out, '--grad-accum', '4', '--max-steps', '5']);
    expect(change.code).toBe(2);
    expect(change.stderr).toContain('--grad-accum cannot change when resuming');
  });
});
