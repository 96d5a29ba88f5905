// parseJsonStrict (packages/gpt/src/json.ts): the JSON reader of config.json, trainer_state.json
// and safetensors headers: a key given twice is refused, and a broken file's message says what
// is wrong with it (a cut file "ends early", not "unexpected comma").
import { describe, expect, it } from 'vitest';
import { parseJsonStrict } from '../../packages/gpt/src/json.js';

describe('parseJsonStrict', () => {
  it('parses JSON and refuses a key given twice, saying where', () => {
    expect(parseJsonStrict('{"a": 1, "b": [true, null]}')).toEqual({ value: { a: 1, b: [true, null] } });
    expect(parseJsonStrict('{"a": 1, "a": 2}')).toEqual({ error: 'names "a" twice (the second at character 9)' });
  });

  it('a file cut short says it ends early', () => {
    for (const cut of ['{"n_layer": 2,', '{"n_layer": 2', '{"a": [1, 2', '']) {
      expect(parseJsonStrict(cut)).toEqual({
        error: `is not valid JSON: it ends early, after ${cut.length} characters (a cut or unfinished file?)`,
      });
    }
  });

  it('other syntax errors name the place', () => {
    expect(parseJsonStrict('{"a": 1,, "b": 2}')).toEqual({
      error: expect.stringMatching(/^is not valid JSON: .*position 8/),
    });
  });
});
