// CRLF line endings (issue 27, item 10): the book reads its text with Python's open(...).read(),
// whose universal newlines turn "\r\n" and a lone "\r" into "\n"; a Windows copy of The Verdict
// must give the book's token ids, not 160 more.
import { readFileSync } from 'node:fs';
import * as G from '@mini/gpt/node';
import { describe, expect, it } from 'vitest';
import { VERDICT } from '../cli/run-cli.js';

describe('decodeTextFile and line endings', () => {
  it('reads "\\r\\n" and a lone "\\r" as "\\n", as Python does', () => {
    expect(G.decodeTextFile(new TextEncoder().encode('a\r\nb\rc\n\r\n'), 'x')).toBe('a\nb\nc\n\n');
  });

  it('The Verdict with CRLF gives the same ids as with LF', () => {
    const lf = readFileSync(VERDICT, 'utf8');
    const crlf = G.decodeTextFile(new TextEncoder().encode(lf.replaceAll('\n', '\r\n')), 'verdict');
    expect(G.textToIds(crlf)).toEqual(G.textToIds(lf));
  });
});
