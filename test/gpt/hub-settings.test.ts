// The hub settings come from the environment variables Python's huggingface_hub reads, with its
// spellings and precedence; the cache folder agrees with @huggingface/hub's getHFHubCachePath.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHFHubCachePath } from '@huggingface/hub';
import * as G from '@mini/gpt/node';
import { afterEach, describe, expect, it } from 'vitest';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('hubSettings', () => {
  it('HF_HUB_OFFLINE is on for 1, ON, YES, TRUE in any case, off otherwise', () => {
    for (const on of ['1', 'on', 'Yes', 'TRUE']) expect(G.hubSettings({ HF_HUB_OFFLINE: on }).offline, on).toBe(true);
    for (const off of ['0', '', 'false', 'no', undefined])
      expect(G.hubSettings({ HF_HUB_OFFLINE: off }).offline, String(off)).toBe(false);
  });

  it('the cache folder: HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub; empty is unset', () => {
    expect(G.hubCacheDir({ HF_HUB_CACHE: '/c', HF_HOME: '/h', XDG_CACHE_HOME: '/x' })).toBe('/c');
    expect(G.hubCacheDir({ HF_HUB_CACHE: '', HF_HOME: '/h', XDG_CACHE_HOME: '/x' })).toBe('/h/hub');
    expect(G.hubCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/huggingface/hub');
    expect(G.hubCacheDir({})).toBe(join(homedir(), '.cache', 'huggingface', 'hub'));
    for (const env of [{ HF_HUB_CACHE: '/c' }, { HF_HOME: '/h' }, { XDG_CACHE_HOME: '/x' }]) {
      process.env = { ...env };
      expect(G.hubCacheDir(process.env)).toBe(getHFHubCachePath());
    }
  });

  it('the token: HF_TOKEN, else the file at HF_TOKEN_PATH, else $HF_HOME/token; the endpoint without a trailing slash', () => {
    const home = mkdtempSync(join(tmpdir(), 'hf-home-'));
    writeFileSync(join(home, 'token'), 'hf_fromfile\n');
    writeFileSync(join(home, 'other'), 'hf_frompath\n');
    expect(G.hubSettings({ HF_TOKEN: 'hf_env', HF_HOME: home }).token).toBe('hf_env');
    expect(G.hubSettings({ HF_HOME: home, HF_TOKEN_PATH: join(home, 'other') }).token).toBe('hf_frompath');
    expect(G.hubSettings({ HF_HOME: home }).token).toBe('hf_fromfile');
    expect(G.hubSettings({ HF_HOME: join(home, 'none') }).token).toBeUndefined();
    expect(G.hubSettings({ HF_ENDPOINT: 'http://mirror.example/' }).endpoint).toBe('http://mirror.example');
    expect(G.hubSettings({}).endpoint).toBe('https://huggingface.co');
  });
});

describe('modelRepository', () => {
  it('maps GPT-2 short names to openai-community and takes owner/name ids as they are', () => {
    expect(G.modelRepository('gpt2')).toBe('openai-community/gpt2');
    expect(G.modelRepository('gpt2-xl')).toBe('openai-community/gpt2-xl');
    expect(G.modelRepository('openai-community/gpt2-medium')).toBe('openai-community/gpt2-medium');
    for (const bad of ['gpt3', 'a/b/c', '../x', 'a/..', '/abs', 'toString'])
      expect(G.modelRepository(bad), bad).toBeNull();
  });
});
