/** mini-gpt info: a model's config, size and memory needs, and the device that would run it. */
import type { DeviceChoice } from '@mini/tensor';
import * as G from '@mini/gpt/node';
import { deviceDescription, openDevice } from '../device.js';
import { resolveModel } from '../models.js';
import { formatBytes, say } from '../ui.js';

export async function info(flags: {
  model?: string;
  revision?: string;
  device: DeviceChoice;
  verbose?: boolean;
  dtype: G.WeightDTypeChoice;
  json?: boolean;
}): Promise<number> {
  const device = await openDevice(flags.device, Boolean(flags.verbose));
  const out: Record<string, unknown> = { device: device.info };
  if (flags.model) {
    const dir = await resolveModel(flags.model, flags.revision);
    // The weights file's header too, not config.json alone: a cut or mismatched file is refused
    // here as generate and eval would refuse it.
    const { config, fileDType, bytes: fileBytes } = await G.inspectModel(dir);
    const parameters = G.parameterCount(config);
    const { dtype, reason } = G.resolveWeightDType(flags.dtype, config, device);
    out.model = {
      path: dir,
      config,
      parameters,
      file: { dtype: fileDType, bytes: fileBytes },
      bytes: { float32: parameters * 4, float16: parameters * 2, bfloat16: parameters * 2 },
      dtype,
      dtypeReason: reason,
    };
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    say(`device: ${device.kind}, ${deviceDescription(device)}`);
    if (device.info.limits)
      say(
        `max storage binding: ${formatBytes(device.info.limits.maxStorageBufferBindingSize)}, max buffer: ${formatBytes(device.info.limits.maxBufferSize)}`,
      );
    const m = out.model as
      | {
          path: string;
          config: G.GPTConfig;
          parameters: number;
          file: { dtype: string; bytes: number };
          bytes: Record<string, number>;
          dtype: string;
          dtypeReason: string | null;
        }
      | undefined;
    if (m) {
      say(`model: ${m.path}`);
      say(`  model.safetensors: ${formatBytes(m.file.bytes)}, weights in ${m.file.dtype}`);
      say(
        `  ${m.config.nLayers} layers, ${m.config.nHeads} heads, ${m.config.embedDim} dims, context ${m.config.contextLength}, vocab ${m.config.vocabSize}, ${m.config.tiedHead ? 'tied' : 'untied'} head`,
      );
      say(
        `  ${m.parameters.toLocaleString('en-US')} parameters: ${Object.entries(m.bytes)
          .map(([k, v]) => `${formatBytes(v)} in ${k}`)
          .join(', ')}`,
      );
      say(`  weights load as ${m.dtype}${m.dtypeReason ? `; ${m.dtypeReason}` : ''}`);
    }
  }
  device.backend.destroy();
  return 0;
}
