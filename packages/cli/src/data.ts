/**
 * The book's training text, The Verdict (Edith Wharton, 1908; public domain): downloaded from
 * the book's repository once and cached. Offline, the copy shipped in this package
 * (packages/cli/data/the-verdict.txt, the same text) is used, and the command says so.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { downloadFile } from '@mini/gpt/node';
import { EnvironmentError, environmentValue } from '@mini/tensor';
import { cacheDir } from './paths.js';

export const VERDICT_URL =
  'https://raw.githubusercontent.com/rasbt/LLMs-from-scratch/main/ch02/01_main-chapter-code/the-verdict.txt';
const SHIPPED = fileURLToPath(new URL('../data/the-verdict.txt', import.meta.url));

/**
 * MINI_GPT_DATA_URL (an http or https URL; empty is unset), else the book's repository.
 * @throws EnvironmentError for anything else
 */
function dataUrl(): string {
  const value = environmentValue('MINI_GPT_DATA_URL');
  if (value === undefined) return VERDICT_URL;
  let protocol = '';
  try {
    protocol = new URL(value).protocol;
  } catch {}
  if (protocol !== 'http:' && protocol !== 'https:')
    throw new EnvironmentError(
      `MINI_GPT_DATA_URL=${JSON.stringify(value)}: use an http:// or https:// URL of the text, or leave it unset`,
    );
  return value;
}

export async function defaultData(): Promise<string> {
  const path = join(cacheDir(), 'data', 'the-verdict.txt');
  if (existsSync(path)) return path;
  const url = dataUrl(); // a bad MINI_GPT_DATA_URL is refused, not replaced by the shipped copy
  process.stderr.write(`downloading the book's text (The Verdict) to ${path}\n`);
  try {
    await downloadFile(url, path);
    return path;
  } catch (e) {
    process.stderr.write(`could not download it (${(e as Error).message}); using the copy shipped with mini-gpt\n`);
    return SHIPPED;
  }
}
