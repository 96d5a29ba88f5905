/**
 * The book's training text, The Verdict (Edith Wharton, 1908; public domain): downloaded from
 * the book's repository once and cached. Offline, the copy shipped in this package
 * (packages/cli/data/the-verdict.txt, the same text) is used, and the command says so.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { downloadFile } from '@mini/gpt/node';
import { dataUrlSetting } from './environment.js';
import { cacheDir } from './paths.js';

const SHIPPED = fileURLToPath(new URL('../data/the-verdict.txt', import.meta.url));

export async function defaultData(): Promise<string> {
  const path = join(cacheDir(), 'data', 'the-verdict.txt');
  if (existsSync(path)) return path;
  const url = dataUrlSetting(); // a bad MINI_GPT_DATA_URL is refused, not replaced by the shipped copy
  process.stderr.write(`downloading the book's text (The Verdict) to ${path}\n`);
  try {
    await downloadFile(url, path);
    return path;
  } catch (e) {
    process.stderr.write(`could not download it (${(e as Error).message}); using the copy shipped with mini-gpt\n`);
    return SHIPPED;
  }
}
