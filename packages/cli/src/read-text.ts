/**
 * Reading a text file that a flag names (train's and eval's --data): a missing file, a folder or
 * device (/dev/zero never ends: reading it whole filled the machine's memory), bytes that are
 * not UTF-8, or a NUL byte (a binary file: an executable, an archive) are usage errors that
 * name the flag, the file and the byte offset, instead of training on noise.
 */
import { readFile } from 'node:fs/promises';
import * as G from '@mini/gpt/node';
import { UsageError } from './ui.js';

/**
 * The text of a regular UTF-8 file without NUL bytes. Throws UsageError naming `flag` and the
 * file: missing, not a regular file (a folder, a device, a pipe), not UTF-8 (with the offset of
 * the first bad byte), or with a NUL byte (a binary file; with its offset).
 */
export async function readTextFile(path: string, flag: string): Promise<string> {
  await G.regularFileSize(path).catch((e: Error) => {
    throw new UsageError(`${flag} ${e.message}${e instanceof G.FileError && e.notAFile ? '; give a text file' : ''}`);
  });
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
