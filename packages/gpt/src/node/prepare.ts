/**
 * prepareCorpus: text files -> GPT-2 token shards (llm.c's .bin layout, see shards.ts) and a
 * JSON manifest, written while the files are read: the text goes in chunks of about
 * `chunkChars` characters, cut where GPT-2's pre-tokenizer always splits (a non-space
 * character followed by whitespace), so the ids equal those of the whole text; the chunks are
 * tokenized on worker threads and written in order. Memory holds a few chunks per worker, not
 * the corpus.
 *
 * Documents: each input file is one; every document starts with the end-of-text id (50256), as
 * llm.c's preprocessing does, so there is one between any two documents.
 * Validation split: the last `valShare` of the corpus's bytes (files in the order given), cut
 * at a word boundary, as the book splits its text (the last 10 % of its characters).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { brokenLink, makeDirs } from './files.js';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ShardWriter } from './shards.js';
import { END_OF_TEXT_ID } from '../tokenizer.js';
import { TextFileError } from '../text.js';

/** Options of prepareCorpus. */
export interface PrepareOptions {
  /** Folder for the shards and manifest.json (created). */
  out: string;
  /** Share of the corpus's bytes held out for validation (the last part), in [0, 1). Default 0.01. */
  valShare?: number;
  /** Tokens per shard (llm.c: 100M). */
  shardTokens?: number;
  /**
   * Worker threads (default and cap: the cores available). More threads than cores tokenize no
   * faster, and each holds its own heap: 1,000 of them took 17 GB here.
   */
  workers?: number;
  /** Characters per chunk handed to a worker (default 1M). */
  chunkChars?: number;
}

/** What prepareCorpus reports after each chunk it writes. */
export interface PrepareProgress {
  /** Bytes of input tokenized and written, of `totalBytes`. */
  bytes: number;
  totalBytes: number;
  tokens: number;
  seconds: number;
}

/** manifest.json of a shard folder: the tokenizer, the layout, the split, the shards and the inputs. */
export interface CorpusManifest {
  format: 'mini-gpt-shards/1';
  tokenizer: { name: 'gpt2'; library: string; vocabSize: 50257; endOfText: 50256 };
  shard: { layout: string; magic: number; version: number; headerBytes: number; dtype: 'uint16' };
  split: { rule: string; valShare: number };
  train: { tokens: number; shards: { file: string; tokens: number }[] };
  val: { tokens: number; shards: { file: string; tokens: number }[] };
  documents: number;
  bytes: number;
  inputs: { path: string; bytes: number; sha256: string }[];
  seconds: number;
}

/**
 * The files that `inputs` name: files as they are, folders searched recursively (hidden
 * entries skipped), in sorted order within a folder. Globs are expanded by the caller.
 * Throws an Error naming a missing input.
 */
export function expandInputs(inputs: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  for (const input of inputs) {
    const path = resolve(input);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) throw new Error(`${input}: ${brokenLink(path) ?? 'no such file or folder'}`);
    if (stat.isDirectory()) walk(path);
    else files.push(path);
  }
  return files;
}

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9 || c === 11 || c === 12 || c === 0xa0;

/**
 * The last index p in (from, text.length) where text[p - 1] is not whitespace and text[p] is:
 * GPT-2's pre-tokenizer always ends a piece there, and the pieces after it depend on the text
 * after it only. -1 when there is none.
 */
export function safeCut(text: string, from = 0): number {
  for (let p = text.length - 1; p > from; p--) {
    if (isSpace(text.charCodeAt(p)) && !isSpace(text.charCodeAt(p - 1)) && !/\s/.test(text[p - 1]!)) return p;
  }
  return -1;
}

/** The first such index at or after `at` (see safeCut); -1 when there is none. */
function safeCutAfter(text: string, at: number): number {
  for (let p = Math.max(1, at); p < text.length; p++) {
    if (isSpace(text.charCodeAt(p)) && !isSpace(text.charCodeAt(p - 1)) && !/\s/.test(text[p - 1]!)) return p;
  }
  return -1;
}

/** Tokenizes `files` into shards in `options.out`; returns the manifest (also written as manifest.json). */
export async function prepareCorpus(
  files: readonly string[],
  options: PrepareOptions,
  onProgress?: (p: PrepareProgress) => void,
): Promise<CorpusManifest> {
  const started = performance.now();
  const valShare = options.valShare ?? 0.01;
  if (!(valShare >= 0 && valShare < 1))
    throw new RangeError(`prepareCorpus: valShare must be in [0, 1), got ${valShare}`);
  const chunkChars = options.chunkChars ?? 1 << 20;
  const shardTokens = options.shardTokens ?? 100_000_000;
  const sizes = files.map((f) => statSync(f).size);
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const valStart = valShare > 0 ? Math.floor((1 - valShare) * totalBytes) : Infinity;
  // Not mkdir's recursive option: in Node 20 and 24 it never returns under /proc (see makeDirs).
  await makeDirs(options.out);
  const writers = {
    train: new ShardWriter(options.out, 'train', shardTokens),
    val: new ShardWriter(options.out, 'val', shardTokens),
  };

  const workerCount = Math.max(1, Math.min(options.workers ?? Number.POSITIVE_INFINITY, availableParallelism()));
  // From the sources (vitest runs the .ts files), the worker is the built one in dist/.
  const here = new URL('./tokenize-worker.js', import.meta.url);
  const workerUrl = existsSync(here) ? here : new URL(here.href.replace('/src/node/', '/dist/node/'));
  const workers = Array.from({ length: workerCount }, () => new Worker(workerUrl));
  const idle = [...workers];
  let failure: Error | null = null;
  // Results by sequence number, written in order; jobs wait for a free worker.
  const done = new Map<number, Uint16Array>();
  const meta = new Map<number, { split: 'train' | 'val'; bytes: number }>();
  let nextToWrite = 0;
  let bytesWritten = 0;
  let wake: (() => void) | null = null;
  const signal = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  for (const worker of workers) {
    worker.on('message', ({ seq, ids }: { seq: number; ids: Uint16Array }) => {
      done.set(seq, ids);
      idle.push(worker);
      // After a failed write, nothing more is written: prepareCorpus is about to reject.
      if (!failure)
        try {
          writeReady();
        } catch (e) {
          // A write that fails (a full disk) rejects prepareCorpus; thrown here it would end the process.
          failure = e as Error;
        }
      signal();
    });
    worker.on('error', (e) => {
      failure = e;
      signal();
    });
  }
  /** Writes the results that are next in order. */
  function writeReady(): void {
    while (done.has(nextToWrite)) {
      const m = meta.get(nextToWrite)!;
      writers[m.split].write(done.get(nextToWrite)!);
      done.delete(nextToWrite);
      meta.delete(nextToWrite);
      bytesWritten += m.bytes;
      nextToWrite++;
      onProgress?.({
        bytes: bytesWritten,
        totalBytes,
        tokens: writers.train.tokens + writers.val.tokens,
        seconds: (performance.now() - started) / 1000,
      });
    }
  }
  // At most 2 results per worker wait to be written (memory stays a few chunks per worker).
  const waitFor = async (ready: () => boolean) => {
    while (!ready()) {
      if (failure) throw failure;
      await new Promise<void>((r) => {
        wake = r;
      });
    }
    if (failure) throw failure;
  };
  let seq = 0;
  let offset = 0; // bytes of the corpus handed out so far
  const dispatch = async (text: string, eot: boolean, bytes: number, split: 'train' | 'val') => {
    await waitFor(() => idle.length > 0 && seq - nextToWrite < 2 * workerCount);
    meta.set(seq, { split, bytes });
    idle.pop()!.postMessage({ seq: seq++, text, eot });
  };
  /** Hands out a chunk, cut in two at the validation split when it crosses it. */
  const emit = async (text: string, eot: boolean) => {
    const bytes = Buffer.byteLength(text);
    if (offset < valStart && offset + bytes > valStart) {
      const at = safeCutAfter(text, Math.floor((text.length * (valStart - offset)) / bytes));
      if (at > 0) {
        const head = text.slice(0, at);
        const headBytes = Buffer.byteLength(head);
        await dispatch(head, eot, headBytes, 'train');
        offset += headBytes;
        const tail = text.slice(at);
        await dispatch(tail, false, bytes - headBytes, 'val');
        offset += bytes - headBytes;
        return;
      }
    }
    await dispatch(text, eot, bytes, offset >= valStart ? 'val' : 'train');
    offset += bytes;
  };

  const inputs: CorpusManifest['inputs'] = [];
  let closing: unknown = null;
  try {
    for (const [i, file] of files.entries()) {
      const hash = createHash('sha256');
      // The CLI's text check, streamed: a binary file (invalid UTF-8, or a NUL byte) in a folder or
      // a glob is refused rather than tokenized.
      const decoder = new TextDecoder('utf-8', { fatal: true });
      const notText = (at: number) =>
        new TextFileError(`${file}: not UTF-8 text (near byte ${at}); give text files only`, at);
      let read = 0;
      let pending = '';
      let first = true;
      for await (const buffer of createReadStream(file, { highWaterMark: 1 << 20 })) {
        const chunk = buffer as Buffer;
        hash.update(chunk);
        const nul = chunk.indexOf(0);
        if (nul !== -1)
          throw new TextFileError(`${file}: a NUL byte at offset ${read + nul}: a binary file, not text`, read + nul);
        try {
          pending += decoder.decode(chunk, { stream: true });
        } catch {
          throw notText(read);
        }
        read += chunk.length;
        while (pending.length >= chunkChars) {
          // Cut in the second half of the chunk; a chunk with no place to cut grows until one comes.
          const cut = safeCut(pending.slice(0, chunkChars * 2), chunkChars >> 1);
          if (cut < 0) {
            if (pending.length < chunkChars * 8) break;
            throw new Error(`${file}: no whitespace in ${chunkChars * 8} characters; not a text corpus`);
          }
          await emit(pending.slice(0, cut), first);
          first = false;
          pending = pending.slice(cut);
        }
      }
      try {
        pending += decoder.decode();
      } catch {
        throw notText(read);
      }
      if (pending.length > 0 || first) await emit(pending, first);
      inputs.push({ path: file, bytes: sizes[i]!, sha256: hash.digest('hex') });
    }
    await waitFor(() => nextToWrite === seq);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    // Both closed whatever happens; a failure to close is thrown only when nothing failed before.
    for (const writer of [writers.train, writers.val])
      try {
        writer.close();
      } catch (e) {
        closing ??= e;
      }
  }
  if (closing) throw closing;
  const manifest: CorpusManifest = {
    format: 'mini-gpt-shards/1',
    tokenizer: { name: 'gpt2', library: 'gpt-tokenizer 4.0.0', vocabSize: 50257, endOfText: END_OF_TEXT_ID as 50256 },
    shard: { layout: 'llm.c .bin', magic: 20240520, version: 1, headerBytes: 1024, dtype: 'uint16' },
    split: {
      rule: 'validation: the last valShare of the bytes of the inputs (in the order given), cut at a word boundary',
      valShare,
    },
    train: { tokens: writers.train.tokens, shards: writers.train.shards },
    val: { tokens: writers.val.tokens, shards: writers.val.shards },
    documents: files.length,
    bytes: totalBytes,
    inputs,
    seconds: (performance.now() - started) / 1000,
  };
  await writeFile(join(options.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
