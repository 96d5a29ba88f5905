/**
 * Reading a text file that a flag names (train's and eval's --data): a missing file, a folder or
 * device (/dev/zero never ends: reading it whole filled the machine's memory), bytes that are
 * not UTF-8, or a NUL byte (a binary file: an executable, an archive) are usage errors that
 * name the flag, the file and the byte offset, instead of training on noise.
 */
import { readFile } from 'node:fs/promises';
import * as G from '@mini/gpt/node';
import { isUtf8 } from 'node:buffer';
import { UsageError } from './ui.js';

/** The largest text file read whole (eval --data, train --data under 32 MB). */
export const MAX_TEXT_BYTES = 256e6;

/** Byte offset of the first bytes that are not UTF-8 (`bytes` must fail isUtf8). */
function firstInvalidByte(bytes: Uint8Array): number {
  // The standard decoder marks each bad sequence with U+FFFD; walk the text, counting the
  // UTF-8 length of each character, to the first U+FFFD that the file did not spell out.
  const text = new TextDecoder('utf-8').decode(bytes);
  let offset = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code === 0xfffd && !(bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd))
      return offset;
    offset += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return offset;
}

/**
 * The text of a regular UTF-8 file without NUL bytes. Throws UsageError naming `flag` and the
 * file: missing, not a regular file (a folder, a device, a pipe), not UTF-8 (with the offset of
 * the first bad byte), with a NUL byte (a binary file; with its offset), or larger than
 * MAX_TEXT_BYTES.
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
  if (!isUtf8(bytes)) {
    const at = firstInvalidByte(bytes);
    throw new UsageError(
      `${flag} ${path}: not UTF-8 text (byte 0x${bytes[at]!.toString(16).padStart(2, '0')} at offset ${at}); give a text file`,
    );
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) throw new UsageError(`${flag} ${path}: a NUL byte at offset ${nul}: a binary file, not text`);
  return new TextDecoder('utf-8').decode(bytes); // drops a leading byte-order mark
}
