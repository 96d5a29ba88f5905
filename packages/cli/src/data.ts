/** The book's training text, The Verdict: downloaded from the book's repository once, then cached. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { downloadFile } from '@mini/gpt';
import { cacheDir } from './paths.js';

export const VERDICT_URL = 'https://raw.githubusercontent.com/rasbt/LLMs-from-scratch/main/ch02/01_main-chapter-code/the-verdict.txt';

export async function defaultData(): Promise<string> {
  const path = join(cacheDir(), 'data', 'the-verdict.txt');
  if (!existsSync(path)) {
    process.stderr.write(`downloading the book's text (The Verdict) to ${path}\n`);
    await downloadFile(process.env.MINI_GPT_DATA_URL ?? VERDICT_URL, path).catch((e: Error) => {
      throw new Error(`could not download The Verdict (${e.message}); give a text file with --data FILE`);
    });
  }
  return path;
}
