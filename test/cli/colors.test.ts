// When the CLI may write colour codes: a terminal only, whatever CI says (picocolors' own rule
// colours whenever CI is set, which put escape codes into piped and redirected logs).
import { describe, expect, it } from 'vitest';

const ui = (await import(new URL('../../packages/cli/dist/ui.js', import.meta.url).href)) as {
  colorsEnabled(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean;
};
const tty = { isTTY: true };
const pipe = { isTTY: false };

describe('colorsEnabled', () => {
  it('colours a terminal, not a pipe or a file, with or without CI', () => {
    expect(ui.colorsEnabled(tty, { TERM: 'xterm-256color' })).toBe(true);
    expect(ui.colorsEnabled(pipe, { TERM: 'xterm-256color' })).toBe(false);
    expect(ui.colorsEnabled(pipe, { TERM: 'xterm-256color', CI: 'true' })).toBe(false);
  });

  it('TERM=dumb and NO_COLOR turn colours off; FORCE_COLOR (not 0) turns them on', () => {
    expect(ui.colorsEnabled(tty, { TERM: 'dumb' })).toBe(false);
    expect(ui.colorsEnabled(tty, { TERM: 'xterm', NO_COLOR: '' })).toBe(false);
    expect(ui.colorsEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(ui.colorsEnabled(tty, { TERM: 'xterm', FORCE_COLOR: '0' })).toBe(false);
  });
});
