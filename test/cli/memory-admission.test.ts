// A model larger than the machine is refused before loading, with the sizes: generate and eval
// (exit 1, one line), info (a note), the library (MemoryError); a --batch-size whose logits
// cannot be allocated is refused naming the flag. The model is a consistent safetensors file
// of 65 GB whose weights are a hole (a sparse file: no disk used), and the CLI runs as a child
// watched by its resident memory: past 1.5 GB it is killed, so that a missing check fails the
// test instead of filling the machine.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor';
import { describe, expect, it } from 'vitest';
import { BIN, runWatched } from './run-cli.js';

/** A model folder whose config and safetensors header are a consistent float16 GPT-2 of about 65 GB, the data a hole. */
function hugeModel(): { dir: string; config: G.GPTConfig } {
  const config = G.resolveConfig({
    vocabSize: 50257,
    contextLength: 1024,
    embedDim: 8192,
    nLayers: 40,
    nHeads: 64,
    dropRate: 0,
    qkvBias: true,
    tiedHead: true,
    layerNormEps: 1e-5,
  });
  const dir = mkdtempSync(join(tmpdir(), 'huge-model-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(G.toHFConfig(config)));
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of Object.entries(G.parameterShapes(config))) {
    const bytes = 2 * shape.reduce((p, d) => p * d, 1);
    header[name] = { dtype: 'F16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const fd = openSync(join(dir, 'model.safetensors'), 'w');
  writeSync(fd, length);
  writeSync(fd, json);
  ftruncateSync(fd, 8 + json.length + offset); // a hole: reads as zeros, takes no disk
  closeSync(fd);
  return { dir, config };
}

const SIZES = /needs 6\d\.\d GB for weights \(float16\), \d+\.\d GB available/;

describe('memory admission', () => {
  const { dir, config } = hugeModel();

  it('the fake model is 65 GB of float16 weights', () => {
    expect(G.weightBytes(config, 'float16') / 1e9).toBeGreaterThan(60);
    expect(G.weightBytes(config, 'float16')).toBeGreaterThan(G.availableMemory());
  });

  it('generate refuses before loading, with the sizes', async () => {
    const r = await runWatched(['generate', '--model', dir, '--prompt', 'Hi', '--dtype', 'float16']);
    expect(r.killedForMemory, r.stderr).toBe(false);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(SIZES);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('eval refuses before loading, with the sizes', async () => {
    const text = join(dir, 'text.txt');
    writeFileSync(text, 'Hello world. '.repeat(500));
    const r = await runWatched(['eval', '--model', dir, '--data', text, '--dtype', 'float16', '--batch-size', '1']);
    expect(r.killedForMemory, r.stderr).toBe(false);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(SIZES);
  });

  it('info says in a note that it would not fit, and exits 0', async () => {
    const r = await runWatched(['info', '--model', dir, '--dtype', 'float16']);
    expect(r.killedForMemory).toBe(false);
    expect(r.code, r.stderr).toBe(0);
  });

  it('info prints the note (stdout)', async () => {
    const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'info', '--model', dir, '--dtype', 'float16', '--json'], {
        env: { ...process.env, MINI_GPT_DEVICE: 'cpu' },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.on('close', (c) => resolve({ stdout: out, code: c }));
    });
    expect(code).toBe(0);
    expect(JSON.parse(stdout).model.memory.note).toMatch(SIZES);
  });

  it('the library throws MemoryError before allocating', async () => {
    await expect(G.loadModel(dir, T.cpu, { dtype: 'float16' })).rejects.toThrow(G.MemoryError);
  });

  it('eval --batch-size whose logits cannot exist names the flag and the largest that fits', async () => {
    const small = mkdtempSync(join(tmpdir(), 'small-model-'));
    const model = G.GPTModel.create(G.resolveConfig('tiny', { contextLength: 32, vocabSize: 50257 }), { seed: 1 });
    await G.saveModel(small, model);
    model.dispose();
    const text = join(small, 'text.txt');
    writeFileSync(text, 'Hello world. '.repeat(500));
    const r = await runWatched(['eval', '--model', small, '--data', text, '--batch-size', '5000000']);
    expect(r.killedForMemory).toBe(false);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /^error: --batch-size 5000000: one batch's logits need \d+\.\d GB .*; use --batch-size \d+ or less\n$/,
    );
  });
});

describe('training admission', () => {
  it('train --batch-size whose logits cannot exist is one line naming the flag, before training', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'train-batch-')), 'run');
    const text = join(tmpdir(), `train-batch-${process.pid}.txt`);
    writeFileSync(text, 'Hello world. '.repeat(2000));
    const r = await runWatched([
      'train',
      '--preset',
      'tiny',
      '--data',
      text,
      '--out',
      out,
      '--batch-size',
      '100000000',
    ]);
    expect(r.killedForMemory).toBe(false);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /error: --batch-size 100000000: one batch's logits need .* use --batch-size \d+ or less\n$/,
    );
  });

  it('train --context-length past memory names the flag that made the model big, not only the preset', async () => {
    // It said "--preset gpt2-small: needs 12290.6 GB", blaming the preset for a typed context length.
    const out = join(mkdtempSync(join(tmpdir(), 'train-context-')), 'run');
    const text = join(tmpdir(), `train-context-${process.pid}.txt`);
    writeFileSync(text, 'Hello world. '.repeat(2000));
    const r = await runWatched(['train', '--data', text, '--out', out, '--context-length', '1e9']);
    expect(r.killedForMemory).toBe(false);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /^error: --preset gpt2-small with --context-length 1000000000: needs [\d.]+ GB for float32 weights/,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });
});
