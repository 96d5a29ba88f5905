/**
 * What train --data names, read through @mini/gpt/node's readTrainingSource and
 * openTrainingData (the web page's worker shares the rest of the set-up, prepareTrainingRun):
 * a text file (read whole, split at --train-ratio of its characters), a folder of prepared
 * token shards, or a folder of text files (and a text file of 32 MB or more), which is
 * tokenized once into the run folder's data/ as shards, with the same progress as prepare,
 * and reused by --resume. Errors name --data.
 */
import { join } from 'node:path';
import * as G from '@mini/gpt/node';
import { tokenizeWithProgress } from './commands/prepare.js';
import { readTextFile } from './read-text.js';

export type DataSource = G.TrainingSource;

/** Classifies and checks --data (usage errors name the flag), reading a small text file whole. */
export function readData(path: string): Promise<DataSource> {
  return G.readTrainingSource(path, { label: `--data ${path}`, readText: (p) => readTextFile(p, '--data') });
}

/**
 * The training and validation windows of `source`. Text folders are tokenized into
 * `<out>/data` (validation: the last 1 - trainRatio of the bytes) unless a manifest there lists
 * the same inputs with the same sizes; a changed input is a usage error (a resumed run would
 * not see the data it started on).
 */
export function openDatasets(
  source: DataSource,
  out: string,
  trainRatio: number,
  maxLength: number,
  stride: number,
  quiet: boolean,
): Promise<G.TrainingData> {
  return G.openTrainingData(source, {
    trainRatio,
    maxLength,
    stride,
    shardDir: join(out, 'data'),
    label: `--data ${source.path}`,
    tokenize: (files, dir, valShare) => tokenizeWithProgress(files, dir, valShare, quiet),
  });
}
