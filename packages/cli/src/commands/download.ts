/** mini-gpt download: a GPT-2 size from the Hugging Face hub (HF_ENDPOINT) into the cache. */
import * as G from '@mini/gpt/node';
import { modelCacheDir } from '../paths.js';
import { UsageError, formatBytes, progressBar, say } from '../ui.js';

export async function download(name: string): Promise<number> {
  if (!(name in G.GPT2_REPOSITORIES)) throw new UsageError(`unknown model "${name}": use one of ${Object.keys(G.GPT2_REPOSITORIES).join(', ')}`);
  const dir = modelCacheDir(name);
  let bar: ReturnType<typeof progressBar> | null = null;
  let current = '';
  await G.downloadGPT2(name as G.GPT2Name, dir, (p) => {
    if (p.file !== current) {
      bar?.stop();
      current = p.file;
      bar = progressBar(p.total ?? 0, `${p.file.split('/').pop()} |{bar}| {done} / {size} | {speed}/s | ETA {eta_formatted}`);
    }
    bar!.update(p.bytes, { done: formatBytes(p.bytes), size: p.total === null ? '?' : formatBytes(p.total), speed: formatBytes(p.bytes / Math.max(1e-3, process.uptime())) });
  });
  (bar as ReturnType<typeof progressBar> | null)?.stop();
  say(`${name}: ${dir}`);
  return 0;
}
