/**
 * mini-gpt download: a model (GPT-2 short name or hub repository id) from the Hugging Face hub
 * (HF_ENDPOINT, HF_TOKEN) into the shared Hugging Face cache, with a progress bar per file.
 */
import * as G from '@mini/gpt/node';
import { legacyModelDir } from '../paths.js';
import { UsageError, formatBytes, progressBar, say } from '../ui.js';

/** Downloads `repo` at `revision` into the shared cache (moving in what the older mini-gpt cache holds). */
export async function fetchModel(repo: string, revision = 'main', force = false): Promise<G.DownloadedModel> {
  const settings = G.hubSettings();
  let bar: ReturnType<typeof progressBar> | null = null;
  let current = '';
  let started = 0;
  const note = (line: string) => {
    bar?.stop();
    bar = null;
    current = '';
    process.stderr.write(`${line}\n`);
  };
  if (!settings.offline)
    process.stderr.write(`fetching ${repo} (${revision}) from ${settings.endpoint} into ${settings.cacheDir}\n`);
  try {
    return await G.downloadModel(repo, {
      revision,
      settings,
      force,
      adopt: (revision === 'main' && legacyModelDir(repo)) || undefined,
      onNote: note,
      onProgress: (p) => {
        if (p.file !== current) {
          bar?.stop();
          current = p.file;
          started = performance.now();
          bar = progressBar(p.total ?? 0, `${p.file} |{bar}| {done} / {size} | {speed}/s | ETA {eta_formatted}`);
        }
        const seconds = Math.max(1e-3, (performance.now() - started) / 1000);
        bar!.update(p.bytes, {
          done: formatBytes(p.bytes),
          size: p.total === null ? '?' : formatBytes(p.total),
          speed: formatBytes(p.bytes / seconds),
        });
      },
    });
  } finally {
    (bar as ReturnType<typeof progressBar> | null)?.stop();
  }
}

export async function download(name: string, flags: { revision?: string; force?: boolean }): Promise<number> {
  const repo = G.modelRepository(name);
  if (!repo)
    throw new UsageError(
      `unknown model "${name}": use a GPT-2 name (${Object.keys(G.GPT2_REPOSITORIES).join(', ')}) or a hub repository id (owner/name)`,
    );
  const { dir } = await fetchModel(repo, flags.revision, flags.force);
  say(`${name}: ${dir}`);
  return 0;
}
