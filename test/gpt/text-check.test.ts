// decodeTextFile is the one UTF-8 check of a training text, shared by the CLI's --data and the
// web page's text file: bad UTF-8 and NUL bytes are refused with the offset, text passes.
import * as G from '@mini/gpt';
import { describe, expect, it } from 'vitest';

const bytes = (...b: number[]) => new Uint8Array(b);

describe('decodeTextFile', () => {
  it('refuses a PNG with the offset of the first bad byte', () => {
    expect(() => G.decodeTextFile(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a), 'picture.png')).toThrow(
      'picture.png: not UTF-8 text (byte 0x89 at offset 0); give a text file',
    );
  });

  it('finds a bad byte after multi-byte characters, and a literal U+FFFD is text', () => {
    const text = new TextEncoder().encode('é\uFFFDx');
    expect(() => G.decodeTextFile(new Uint8Array([...text, 0xff]), 'f')).toThrow(/byte 0xff at offset 6/);
    expect(G.decodeTextFile(text, 'f')).toBe('é\uFFFDx');
  });

  it('refuses a NUL byte, and drops a byte-order mark', () => {
    expect(() => G.decodeTextFile(bytes(0x61, 0x00, 0x62), 'f')).toThrow(
      'f: a NUL byte at offset 1: a binary file, not text',
    );
    expect(G.decodeTextFile(bytes(0xef, 0xbb, 0xbf, 0x61), 'f')).toBe('a');
  });
});
