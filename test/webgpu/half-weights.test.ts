// Loading a float32 checkpoint into float16/bfloat16 on WebGPU (converted on the host, one
// tensor at a time, then uploaded) gives the same bits as on the CPU, and the model decodes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';
import { webgpuForTests } from '../helpers/devices.js';

const gpu = await webgpuForTests();

describe.runIf(gpu)('16-bit weights on WebGPU', () => {
  it.each(['float16', 'bfloat16'] as const)(
    "a float32 file loads as %s with the CPU loader's bits, and decodes greedily like the CPU",
    async (dtype) => {
      const dir = join(mkdtempSync(join(tmpdir(), 'mini-gpt-gpu-half-')), 'model');
      const source = G.GPTModel.create(G.resolveConfig({ ...G.presets.tiny, vocabSize: 200 }), {
        device: T.cpu,
        seed: 9,
      });
      await G.saveModel(dir, source);
      source.dispose();
      const onGpu = await G.loadModel(dir, gpu!, { dtype });
      const onCpu = await G.loadModel(dir, T.fastCpu, { dtype });
      for (const [name, p] of onGpu.params) {
        expect(p.data.dtype, name).toBe(onCpu.param(name).data.dtype);
        expect(Array.from(await p.data.toBits()), name).toEqual(Array.from(await onCpu.param(name).data.toBits()));
      }
      const prompt = [3, 1, 4, 1, 5];
      expect(await G.generate(onGpu, prompt, { maxNewTokens: 6, temperature: 0 })).toEqual(
        await G.generate(onCpu, prompt, { maxNewTokens: 6, temperature: 0 }),
      );
      onGpu.dispose();
      onCpu.dispose();
    },
  );
});
