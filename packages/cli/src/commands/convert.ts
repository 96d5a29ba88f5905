/**
 * mini-gpt convert: a model folder in another weight dtype, written as config.json +
 * model.safetensors. int8 / int4 write the quantized layout (docs/quantized-weights.md), which
 * loads with no conversion; the float dtypes write a Hugging Face file of that dtype. The model
 * is converted tensor by tensor as it loads (on the CPU device), never whole in float32.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import * as G from '@mini/gpt/node';
import { getDevice } from '@mini/tensor/node';
import type { ConvertOptions } from '../main.js';
import { resolveModel } from '../models.js';
import { makeOutFolder, refuseUsedFolder, removeOutOnStop, sameFolder, writeOrTakeBack } from '../out-folder.js';
import { UsageError, formatBytes, say } from '../ui.js';

/** convert's flags, typed by their definitions in main.ts. */
export async function convert(flags: ConvertOptions): Promise<number> {
  if (flags.dtype === 'auto') throw new UsageError('convert: give --dtype int8, int4, float16, bfloat16 or float32');
  const dir = await resolveModel(flags.model, flags.revision);
  const out = resolve(flags.out);
  // Through a link or `..` too: a link to a run's checkpoint once had its float32 weights replaced.
  if (resolve(dir) === out || sameFolder(dir, out))
    throw new UsageError(`convert: --out ${flags.out} is the model's own folder`);
  refuseUsedFolder(out, '--out', flags.out);
  // Ctrl-C once left the new folder behind, with config.json and a half-written temp file in it.
  const existed = existsSync(out);
  const onCreated = removeOutOnStop('convert', out, existed, 'model');
  const made = await makeOutFolder(out, '--out ', '', onCreated);
  const device = await getDevice('cpu');
  const started = performance.now();
  // A failure (a bad model, a full disk) leaves --out as it was, not a folder a retry refuses.
  const model = await writeOrTakeBack(out, existed, made, 'model', async () => {
    const loaded = await G.loadModel(dir, device, { dtype: flags.dtype });
    await G.saveModel(out, loaded);
    return loaded;
  });
  const { bytes } = await G.inspectModel(out);
  say(
    `${out}: ${flags.dtype} weights, model.safetensors ${formatBytes(bytes)} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
  model.dispose();
  device.backend.destroy();
  return 0;
}
