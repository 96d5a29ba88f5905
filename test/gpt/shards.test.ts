// prepareCorpus and the shard reader: ids equal js-tiktoken's on a mixed text cut into many
// chunks, llm.c headers, the manifest (sizes, hashes, split), windows across shard boundaries.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt/node';

const verdict = readFileSync(new URL('../../../shared/data/the-verdict.txt', import.meta.url), 'utf8');
const MIXED =
  'const x = { a: 1, "ü": [2, 3] }; // 日本語のテキスト — émigré naïve café 😀👍🏽\n\t  spaces   and tabs\r\n\n' +
  "  it's they're I'll 1234567 3.14159 $$$ ... ¿Qué? Ünïcödé\u00a0nbsp\u2003em-space ";

/** The shards of a split as one array of ids, their headers checked. */
function readSplit(dir: string, split: string): number[] {
  const ids: number[] = [];
  for (const file of G.shardFiles(dir, split)) {
    const bytes = readFileSync(file);
    const header = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 1024));
    expect([header[0], header[1]]).toEqual([20240520, 1]);
    expect(bytes.length).toBe(1024 + 2 * header[2]!);
    expect(Array.from(header.subarray(3)).every((v) => v === 0)).toBe(true);
    ids.push(...new Uint16Array(bytes.buffer.slice(bytes.byteOffset + 1024, bytes.byteOffset + bytes.length)));
  }
  return ids;
}

describe('prepareCorpus', () => {
  const root = mkdtempSync(join(tmpdir(), 'mini-gpt-prepare-'));
  mkdirSync(join(root, 'in', 'sub'), { recursive: true });
  const docs = [verdict.slice(0, 9000), (verdict.slice(9000, 13000) + MIXED).repeat(4), MIXED.repeat(3)];
  writeFileSync(join(root, 'in', 'a.txt'), docs[0]!);
  writeFileSync(join(root, 'in', 'sub', 'b.txt'), docs[1]!);
  writeFileSync(join(root, 'in', 'sub', 'c.txt'), docs[2]!);
  const files = G.expandInputs([join(root, 'in')]);

  it('finds files in folders recursively, in sorted order', () => {
    expect(files.map((f) => f.slice(root.length))).toEqual(['/in/a.txt', '/in/sub/b.txt', '/in/sub/c.txt']);
  });

  it('writes ids equal to js-tiktoken (GPT-2) with end-of-text before each document, in small chunks on 2 workers', async () => {
    const out = join(root, 'out');
    const progress: G.PrepareProgress[] = [];
    const manifest = await G.prepareCorpus(
      files,
      { out, valShare: 0.1, shardTokens: 3000, workers: 2, chunkChars: 500 },
      (p) => progress.push(p),
    );
    const expected = docs.flatMap((d) => [50256, ...G.textToIds(d)]);
    const ids = [...readSplit(out, 'train'), ...readSplit(out, 'val')];
    expect(ids.length).toBe(expected.length);
    expect(ids).toEqual(expected);
    // Shards of at most 3000 tokens, the counts in the manifest.
    expect(manifest.train.shards.length).toBeGreaterThan(2);
    expect(manifest.train.shards.every((s) => s.tokens <= 3000)).toBe(true);
    expect(manifest.train.tokens + manifest.val.tokens).toBe(expected.length);
    expect(manifest.train.tokens).toBe(readSplit(out, 'train').length);
    // Validation: the last 10 % of the bytes, cut at a word boundary (about 10 % of the tokens).
    const share = manifest.val.tokens / expected.length;
    expect(share).toBeGreaterThan(0.05);
    expect(share).toBeLessThan(0.15);
    expect(manifest.split.valShare).toBe(0.1);
    expect(manifest.split.rule).toContain('last valShare of the bytes');
    // Inputs with sizes and hashes; the manifest on disk equals the one returned.
    expect(manifest.inputs.map((i) => i.bytes)).toEqual(docs.map((d) => Buffer.byteLength(d)));
    expect(manifest.inputs[1]!.sha256).toBe(createHash('sha256').update(docs[1]!).digest('hex'));
    expect(manifest.tokenizer).toMatchObject({ name: 'gpt2', endOfText: 50256 });
    expect(manifest.documents).toBe(3);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).toEqual(manifest);
    expect(progress.length).toBeGreaterThan(10);
    expect(progress[progress.length - 1]!.bytes).toBe(manifest.bytes);
    expect(readdirSync(out).every((f) => f === 'manifest.json' || /^(train|val)_\d{6}\.bin$/.test(f))).toBe(true);
  });

  it('safeCut only cuts where GPT-2 pieces end: before whitespace that follows a non-space', () => {
    for (const text of [verdict.slice(0, 3000), MIXED.repeat(5)]) {
      for (let from = 1; from < text.length; from += 97) {
        const cut = G.safeCut(text.slice(0, from + 50), from);
        if (cut < 0) continue;
        expect([...G.textToIds(text.slice(0, cut)), ...G.textToIds(text.slice(cut))]).toEqual(G.textToIds(text));
      }
    }
  });
});

describe('ShardDataset', () => {
  it('windows across shard boundaries equal those of the ids in memory; a DataLoader batches them alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mini-gpt-shards-'));
    const ids = Uint16Array.from({ length: 1000 }, (_, i) => (i * 7919) % 50257);
    const writer = new G.ShardWriter(dir, 'train', 137);
    writer.write(ids.subarray(0, 300));
    writer.write(ids.subarray(300));
    writer.close();
    const files = G.shardFiles(dir, 'train');
    expect(files.length).toBe(Math.ceil(1000 / 137));
    for (const [maxLength, stride] of [
      [16, 16],
      [50, 7],
      [136, 137],
      [200, 200],
    ] as const) {
      const fromShards = new G.ShardDataset(files, maxLength, stride);
      const inMemory = new G.SlidingWindowDataset(Array.from(ids), maxLength, stride);
      expect(fromShards.length).toBe(inMemory.length);
      for (let i = 0; i < inMemory.length; i++) expect(fromShards.item(i)).toEqual(inMemory.item(i));
      const a = new G.DataLoader(fromShards, { batchSize: 3, shuffle: true, seed: 9, dropLast: true });
      const b = new G.DataLoader(inMemory, { batchSize: 3, shuffle: true, seed: 9, dropLast: true });
      // Resuming at batch 2 of epoch 1 (or the last, for [200, 200]'s one batch: batch() now
      // refuses an index past the last instead of returning an empty batch) reads the same
      // windows as the run in memory.
      const index = Math.min(2, a.length - 1);
      const batchA = a.batch(1, index);
      const batchB = b.batch(1, index);
      expect(Array.from(await batchA.inputs.toArray())).toEqual(Array.from(await batchB.inputs.toArray()));
      expect(Array.from(await batchA.targets.toArray())).toEqual(Array.from(await batchB.targets.toArray()));
      fromShards.close();
    }
  });

  it('refuses a file that is not a shard, or one cut short, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mini-gpt-shards-'));
    writeFileSync(join(dir, 'train_000000.bin'), 'hello');
    expect(() => G.readShardHeader(join(dir, 'train_000000.bin'))).toThrow(/not a token shard/);
    const header = G.shardHeader(10);
    writeFileSync(join(dir, 'train_000001.bin'), Buffer.concat([header, Buffer.alloc(8)]));
    expect(() => G.readShardHeader(join(dir, 'train_000001.bin'))).toThrow(/says 10 tokens/);
  });
});
