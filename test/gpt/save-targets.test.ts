// saveModel and saveCheckpoint check what they are given before writing (library-API hunt,
// findings 9 and 10): saveModel('') wrote into the working folder, replacing its files; a path
// under /proc or under a file gave Node's raw error; a save failing before writing (a null
// model, an aborted signal) left a new empty folder; saveCheckpoint accepted another model's
// optimizer and a null or garbage state, writing a checkpoint loadCheckpoint failed on with a
// TypeError.
import { existsSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor';
import { afterAll, describe, expect, it } from 'vitest';

const config = G.resolveConfig('tiny', { contextLength: 8, nLayers: 1 });
const model = G.GPTModel.create(config, { device: T.cpu, seed: 1 });
const optimizer = new G.AdamW(model.params, { lr: 1e-3 });
const other = G.GPTModel.create(config, { device: T.cpu, seed: 2 });
const otherOptimizer = new G.AdamW(other.params, { lr: 1e-3 });
const root = mkdtempSync(join(tmpdir(), 'save-targets-'));
afterAll(() => {
  for (const m of [model, other]) m.dispose();
});

describe('saveModel', () => {
  it('refuses an empty path instead of writing into the working folder', async () => {
    await expect(G.saveModel('', model)).rejects.toThrow(G.FileError);
    await expect(G.saveModel('', model)).rejects.toThrow('saveModel: the folder path is empty');
  });

  it('names a path under a file as a FileError', async () => {
    writeFileSync(join(root, 'file'), 'x');
    const target = join(root, 'file', 'model');
    await expect(G.saveModel(target, model)).rejects.toThrow(G.FileError);
    await expect(G.saveModel(target, model)).rejects.toThrow(`${target}: a part of the path is not a folder`);
  });

  it('names a link that leads nowhere, and a refusal of the file system, in words', async () => {
    const link = join(root, 'gone');
    symlinkSync('/no/such/target', link);
    await expect(G.saveModel(join(link, 'model'), model)).rejects.toThrow(
      `${join(link, 'model')}: ${link} is a link to /no/such/target, which does not exist`,
    );
    for (const [code, words] of [
      ['EPERM', 'operation not permitted'],
      ['EROFS', 'a read-only file system'],
      ['ENOSPC', 'no space left on the device'],
    ])
      expect(G.fileProblem(Object.assign(new Error(`${code}: raw`), { code }))).toBe(words);
  });

  it('leaves no folder behind when it fails', async () => {
    await expect(G.saveModel(join(root, 'null'), null as never)).rejects.toThrow('saveModel: not a GPTModel');
    const aborted = new AbortController();
    aborted.abort();
    await expect(G.saveModel(join(root, 'aborted', 'deep'), model, aborted.signal)).rejects.toThrow();
    expect(existsSync(join(root, 'null'))).toBe(false);
    expect(existsSync(join(root, 'aborted'))).toBe(false);
  });
});

describe('saveCheckpoint', () => {
  it.each([
    ['another model’s optimizer', () => otherOptimizer, () => G.initialTrainState(), 'belongs to another model'],
    ['a null state', () => optimizer, () => null, 'the state is not a training state'],
    ['a garbage state', () => optimizer, () => ({ epoch: 'x' }), 'state.epoch must be an integer >= 0, got "x"'],
  ])('refuses %s before writing', async (what, opt, state, message) => {
    const dir = join(root, `ck-${what.length}`);
    const save = () => G.saveCheckpoint(dir, model, opt(), state() as never);
    await expect(save()).rejects.toThrow(G.CheckpointError);
    await expect(save()).rejects.toThrow(message);
    expect(existsSync(dir)).toBe(false);
  });

  it('still writes a checkpoint loadCheckpoint reads', async () => {
    const dir = join(root, 'ck-good');
    await G.saveCheckpoint(dir, model, optimizer, G.initialTrainState());
    const loaded = await G.loadCheckpoint(dir, T.cpu);
    expect(loaded.state.steps).toBe(0);
    loaded.model.dispose();
    loaded.optimizer.dispose();
  });
});
