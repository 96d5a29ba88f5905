/** mini-gpt info: a model's config, size and memory needs, and the device that would run it. */
import * as G from '@mini/gpt/node';
import type { Device } from '@mini/tensor';
import { deviceDescription, openDevice } from '../device.js';
import { fromHub, locateModel } from '../models.js';
import { formatBytes, say } from '../ui.js';
import type { InfoOptions } from '../main.js';

interface MemoryNote {
  /** Bytes the weights take in the dtype they load as. */
  needed: number;
  /** Bytes available on this machine (null on WebGPU: the API reports no memory size). */
  available: number | null;
  /** Why generate and eval would refuse the model; null when it fits. */
  note: string | null;
}

/** Whether the weights fit this machine's available memory, as loadModel will check before loading. */
function memoryNote(config: G.GPTConfig, dtype: G.ModelDType, device: Device): MemoryNote {
  // As loadModel counts them: quantized weights as their blocks take, float ones per parameter.
  const needed = G.isQuantDType(dtype) ? G.quantizedModelBytes(config, dtype) : G.weightBytes(config, dtype);
  if (device.kind === 'webgpu') return { needed, available: null, note: null };
  const available = G.availableMemory();
  return {
    needed,
    available,
    note:
      needed > available
        ? `needs ${G.formatGB(needed)} for weights (${dtype}), ${G.formatGB(available)} available: generate and eval would refuse to load it`
        : null,
  };
}

/** info's flags, typed by their definitions in main.ts. */
export async function info(flags: InfoOptions): Promise<number> {
  const device = await openDevice(flags.device, Boolean(flags.verbose));
  const out: Record<string, unknown> = { device: device.info };
  if (flags.model) {
    const at = locateModel(flags.model, flags.revision);
    // The weights file's header too, not config.json alone: a cut or mismatched file is refused
    // here as generate and eval would refuse it. A repository the cache lacks is not downloaded:
    // its config.json and the weights' header are read with ranged requests (a few kilobytes).
    const remote =
      'dir' in at ? null : await fromHub(flags.model, at, () => G.inspectHubModel(at.repo, { revision: at.revision }));
    const { config, fileDType, bytes: fileBytes } = remote ?? (await G.inspectModel((at as { dir: string }).dir));
    const hub = remote && { repo: remote.repo, revision: remote.revision, commit: remote.commit };
    const parameters = G.parameterCount(config);
    const { dtype, reason } = G.resolveWeightDType(flags.dtype, config, device);
    out.model = {
      // null for a repository read on the hub, not downloaded (`hub` says which).
      path: 'dir' in at ? at.dir : null,
      ...(hub ? { hub } : {}),
      config,
      parameters,
      file: { dtype: fileDType, bytes: fileBytes },
      bytes: {
        float32: parameters * 4,
        float16: parameters * 2,
        bfloat16: parameters * 2,
        int8: G.quantizedModelBytes(config, 'int8'),
        int4: G.quantizedModelBytes(config, 'int4'),
      },
      dtype,
      dtypeReason: reason,
      memory: memoryNote(config, dtype, device),
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
          path: string | null;
          hub?: { repo: string; revision: string; commit: string };
          config: G.GPTConfig;
          parameters: number;
          file: { dtype: string; bytes: number };
          bytes: Record<string, number>;
          dtype: string;
          dtypeReason: string | null;
          memory: MemoryNote;
        }
      | undefined;
    if (m) {
      say(
        m.hub
          ? `model: ${m.hub.repo} at ${m.hub.revision} (commit ${m.hub.commit.slice(0, 12)}), read on the hub, not downloaded`
          : `model: ${m.path}`,
      );
      say(`  model.safetensors: ${formatBytes(m.file.bytes)}, weights in ${m.file.dtype}`);
      say(
        `  ${m.config.nLayers} layers, ${m.config.nHeads} heads, ${m.config.embedDim} dims, MLP ${G.mlpWidth(m.config)} wide, context ${m.config.contextLength}, vocab ${m.config.vocabSize}, ${m.config.tiedHead ? 'tied' : 'untied'} head`,
      );
      say(
        `  ${m.parameters.toLocaleString('en-US')} parameters: ${Object.entries(m.bytes)
          .map(([k, v]) => `${formatBytes(v)} in ${k}`)
          .join(', ')}`,
      );
      say(`  weights load as ${m.dtype}${m.dtypeReason ? `; ${m.dtypeReason}` : ''}`);
      if (m.memory.note) say(`  note: ${m.memory.note}`);
    }
  }
  device.backend.destroy();
  return 0;
}
