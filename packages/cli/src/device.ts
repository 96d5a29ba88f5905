/**
 * The device a command runs on. `--device auto` (the default) takes a hardware GPU, else the
 * CPU; finding out means asking Dawn for adapters, and Dawn writes its diagnostics for every
 * adapter it turns down (a multi-line Vulkan warning ending in a C++ source line that reads
 * like a crash) straight to the process's stderr, where JavaScript cannot catch them. So, for
 * `auto` without --verbose, the probe runs in a child process whose stderr is dropped, and
 * WebGPU is opened here only when that found a hardware adapter. Opening WebGPU here (auto
 * after a hardware find, or `--device webgpu`) hides Dawn's writes to stderr too
 * (native-stderr.ts); --verbose shows them.
 */
import { spawnSync } from 'node:child_process';
import type { Device, DeviceChoice } from '@mini/tensor';
import { deviceChoices, deviceSetting, getDevice } from '@mini/tensor/node';
import { quietNativeStderr } from './native-stderr.js';

/** Whether `--device auto` finds a hardware GPU, asked in a child process (its stderr dropped). */
function hardwareGpuFound(): boolean {
  const tensor = import.meta.resolve('@mini/tensor/node');
  const probe = `const T = await import(${JSON.stringify(tensor)}); const d = await T.getDevice('auto'); process.stdout.write(d.kind); process.exit(0);`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 60_000,
  });
  return result.stdout === 'webgpu';
}

export async function openDevice(flag: DeviceChoice, verbose: boolean): Promise<Device> {
  const kind = flag !== 'auto' ? flag : (deviceSetting(deviceChoices.filter((c) => c !== 'auto')) ?? 'auto');
  if (kind === 'auto' && !verbose && !hardwareGpuFound()) return getDevice('cpu');
  return verbose || kind === 'cpu' ? getDevice(flag) : quietNativeStderr(() => getDevice(flag));
}

/** "device: <description>", with a warning when WebGPU runs on a software rasterizer. */
export function deviceDescription(device: Device): string {
  const slow = device.info.software ? ' (a software rasterizer, slower than --device cpu)' : '';
  return `${device.info.description}${slow}`;
}
