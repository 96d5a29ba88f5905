// mini-gpt train --profile: the run's time split into steps, evaluations, samples and
// checkpoints, with counts that follow from the run's settings, and nothing counted twice.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QUICK, runCli } from './run-cli.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'mini-gpt-cli-')), 'run');

describe('mini-gpt train --profile', () => {
  it('--json gives each phase its count and seconds, adding up to at most the wall time', async () => {
    const r = await runCli(['train', ...QUICK, '--out', fresh(), '--json', '--profile']);
    expect(r.code, r.stderr).toBe(0);
    const { steps, profile } = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const { phases, wallSeconds, otherSeconds, stepTokensPerSecond } = profile;
    expect(phases.steps.count).toBe(steps);
    expect(phases.evaluations.count).toBe(Math.ceil(steps / 2)); // --eval-freq 2, from step 0
    expect(phases.samples.count).toBe(2); // one per epoch
    expect(phases.checkpoints.count).toBe(2); // one per epoch
    const inPhases = Object.values(phases as Record<string, { seconds: number }>).reduce((s, p) => s + p.seconds, 0);
    for (const p of Object.values(phases as Record<string, { seconds: number }>)) expect(p.seconds).toBeGreaterThan(0);
    expect(inPhases + otherSeconds).toBeCloseTo(wallSeconds, 6);
    expect(inPhases).toBeLessThanOrEqual(wallSeconds);
    expect(stepTokensPerSecond).toBeCloseTo((steps * 2 * 32) / phases.steps.seconds, 6); // batch 2 x context 32
  });

  it('prints the summary after the run, one line per phase', async () => {
    const r = await runCli(['train', ...QUICK, '--out', fresh(), '--profile']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/profile: \d+\.\d s wall/);
    for (const phase of ['steps', 'evaluations', 'samples', 'checkpoints', 'other'])
      expect(r.stdout).toMatch(new RegExp(`^  ${phase} +.* s +\\d+ %`, 'm'));
    expect(r.stdout).toMatch(/^ {2}steps +\d+ x \d+\.\d\d s .* tokens\/s$/m);
  });
});
