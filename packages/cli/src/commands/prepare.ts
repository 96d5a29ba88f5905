/**
 * mini-gpt prepare INPUT... --out DIR: text files, folders (recursively) and globs in, GPT-2
 * token shards (llm.c's .bin layout) and manifest.json out, for `train --data DIR`. Progress in
 * MB and MB/s: a bar on a terminal, a line every few seconds otherwise.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import * as G from '@mini/gpt/node';
import { makeOutFolder, missingInput, refuseUsedFolder, removeOutOnStop, writeOrTakeBack } from '../out-folder.js';
import { exitOnStopSignals } from '../signals.js';
import {
  UsageError,
  barAllowed,
  colors,
  formatBytes,
  notice,
  say,
  shellQuote,
  startProgress,
  stopProgress,
} from '../ui.js';
import type { PrepareOptions } from '../main.js';

/** prepare's flags (with the global --verbose), typed by their definitions in main.ts. */
export type PrepareFlags = PrepareOptions;

const GLOB = /[*?[]/;

/** A glob (`*`, `?`, `[...]` within a name, `**` for any folders) as a RegExp over a path. */
function globRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i);
      if (end < 0) re += '\\[';
      else {
        re += `[${pattern.slice(i + 1, end).replace(/^!/, '^')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The files a glob matches, sorted; the folder before its first wildcard is searched. */
function expandGlob(pattern: string): string[] {
  const absolute = resolve(pattern);
  const parts = absolute.split(sep);
  const firstWild = parts.findIndex((p) => GLOB.test(p));
  const base = parts.slice(0, firstWild).join(sep) || sep;
  const re = globRegExp(parts.slice(firstWild).join('/'));
  const found: string[] = [];
  const walk = (dir: string, rel: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(dir, e.name), path);
      else if (e.isFile() && re.test(path)) found.push(join(dir, e.name));
    }
  };
  walk(base, '');
  return found.sort();
}

/**
 * prepareCorpus with its progress: a bar in MB with MB/s on a terminal, else a line every 5 s
 * and at the end (on stderr); nothing when `quiet`.
 */
export async function tokenizeWithProgress(
  files: readonly string[],
  out: string,
  valShare: number,
  quiet: boolean,
  options: { shardTokens?: number; workers?: number } = {},
): Promise<G.CorpusManifest> {
  const totalBytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
  const mb = (n: number) => (n / 1e6).toFixed(1);
  if (!quiet)
    say(
      `${colors.bold('tokenizing')}: ${files.length} file${files.length === 1 ? '' : 's'}, ${formatBytes(totalBytes)}, into ${out}`,
    );
  const bar = quiet ? null : startProgress(Math.max(1, Math.round(totalBytes / 1e6)), 0, 'MB', 'tokenizing');
  let lastLine = performance.now();
  try {
    return await G.prepareCorpus(files, { out, valShare, ...options }, (p) => {
      const rate = `${(p.bytes / 1e6 / Math.max(p.seconds, 1e-9)).toFixed(1)} MB/s`;
      bar?.update(Math.round(p.bytes / 1e6), 'tokenizing', [rate, `${p.tokens.toLocaleString('en-US')} tokens`]);
      // Without a terminal (a log file, CI), a line every 5 s and at the end.
      if (!quiet && !barAllowed() && (performance.now() - lastLine > 5000 || p.bytes === p.totalBytes)) {
        lastLine = performance.now();
        notice(`tokenizing: ${mb(p.bytes)} / ${mb(p.totalBytes)} MB, ${rate}, ${p.tokens} tokens`);
      }
    });
  } finally {
    stopProgress();
  }
}

export async function prepare(inputs: string[], flags: PrepareFlags): Promise<number> {
  const offStop = exitOnStopSignals('prepare');
  const named: string[] = [];
  for (const input of inputs) {
    if (GLOB.test(input) && !existsSync(input)) {
      const matched = expandGlob(input);
      if (matched.length === 0) throw new UsageError(`${input}: the pattern matches no file`);
      named.push(...matched);
    } else {
      const missing = missingInput(input);
      if (missing) throw new UsageError(`${input}: ${missing}`);
      named.push(input);
    }
  }
  const files = G.expandInputs(named);
  if (files.length === 0) throw new UsageError(`${inputs.join(' ')}: no files in it`);
  // Empty input once made an empty corpus and exited 0; `train --data` then failed far from the cause.
  if (files.every((file) => statSync(file).size === 0))
    throw new UsageError(
      `${files.length === 1 ? files[0] : `${inputs.join(' ')}: all ${files.length} files`} ${files.length === 1 ? 'is' : 'are'} empty (0 bytes): nothing to tokenize`,
    );
  // The split holds out the last share of the bytes: all of them made a corpus with no training
  // token, and the advice to train on it.
  const inputBytes = files.reduce((sum, file) => sum + statSync(file).size, 0);
  if (Math.floor((1 - flags.valShare) * inputBytes) === 0)
    throw new UsageError(
      `--val-share ${flags.valShare} holds out all ${formatBytes(inputBytes)} of the input: nothing is left to train on`,
    );
  const out = resolve(flags.out);
  refuseUsedFolder(out, '--out', flags.out);
  const existed = existsSync(out);
  // A stop from here on would leave a folder of partial shards that no command can use (worker
  // threads may still write a shard until the process ends: removed again at exit). The new
  // handler goes on before the first comes off: a signal received meanwhile was once dropped.
  const onCreated = removeOutOnStop('prepare', out, existed, 'corpus', offStop);
  const made = await makeOutFolder(out, '--out ', '', onCreated);
  // A failure (a binary file among the inputs, a full disk) leaves no partial corpus behind.
  const manifest = await writeOrTakeBack(out, existed, made, 'corpus', () =>
    tokenizeWithProgress(files, out, flags.valShare, Boolean(flags.json), {
      shardTokens: flags.shardTokens,
      workers: flags.workers,
    }),
  );
  const totalBytes = manifest.bytes;
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ out, ...manifest, inputs: manifest.inputs.length })}\n`);
    return 0;
  }
  say(
    `done: ${manifest.train.tokens.toLocaleString('en-US')} training tokens in ${manifest.train.shards.length} shard${manifest.train.shards.length === 1 ? '' : 's'}, ${manifest.val.tokens.toLocaleString('en-US')} validation tokens (the last ${flags.valShare * 100} % of the bytes), ${(totalBytes / 1e6 / manifest.seconds).toFixed(1)} MB/s`,
  );
  say(`manifest: ${join(out, 'manifest.json')}`);
  say(`train on it with:  npx mini-gpt train --data ${shellQuote(out)}`);
  return 0;
}
