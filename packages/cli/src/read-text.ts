/**
 * Reading a text file that a flag names (train's and eval's --data): a missing file, a folder or
 * device (/dev/zero never ends: reading it whole filled the machine's memory), bytes that are
 * not UTF-8, or a NUL byte (a binary file: an executable, an archive) are usage errors that
 * name the flag, the file and the byte offset, instead of training on noise.
 */
import { readFile } from 'node:fs/promises';
import * as G from '@mini/gpt/node';
import { UsageError } from './ui.js';

/** The largest text file read whole (eval --data, train --data under 32 MB). */
export const MAX_TEXT_BYTES = 256e6;

/**
 * The text of a regular UTF-8 file without NUL bytes. Throws UsageError naming `flag` and the
 * file: missing, not a regular file (a folder, a device, a pipe), larger than MAX_TEXT_BYTES,
 * not UTF-8 (with the offset of the first bad byte), or with a NUL byte (a binary file; with its offset).
 */
export async function readTextFile(path: string, flag: string): Promise<string> {
  const size = await G.regularFileSize(path).catch((e: Error) => {
    throw new UsageError(`${flag} ${e.message}${e instanceof G.FileError && e.notAFile ? '; give a text file' : ''}`);
  });
  // Read whole, its ids take 8 bytes a token in a JS array, and one string holds at most 2^29
  // characters: past this size the command says so instead of failing inside V8.
  if (size > MAX_TEXT_BYTES)
    throw new UsageError(
      `${flag} ${path}: ${(size / 1e6).toFixed(0)} MB, more than the ${MAX_TEXT_BYTES / 1e6} MB read whole here; tokenize it with \`mini-gpt prepare\` (train --data takes the shard folder, or the text file itself, streamed)`,
    );
  const bytes = await readFile(path).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`${flag} ${path}: ${G.fileProblem(e)}`);
  });
  // The web page makes the same check of a file chosen as the text (@mini/gpt's decodeTextFile).
  try {
    return G.decodeTextFile(bytes, `${flag} ${path}`);
  } catch (e) {
    throw e instanceof G.TextFileError ? new UsageError(e.message) : e;
  }
}
