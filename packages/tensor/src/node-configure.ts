/**
 * configureNode: every MINI_GPT_* variable of @mini/tensor read and checked at once, so that a
 * program (the CLI, before a command runs) refuses a bad value in one line before any work,
 * instead of when a kernel first needs it. The library reads the variables again where it uses
 * them (environment.ts), so a program that does not call this gets the same checks, later.
 */
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { globals } from 'webgpu';
import {
  type CpuHeapChoice,
  cpuHeapSetting,
  nativeSetting,
  threadsSetting,
  webgpuBackendSetting,
  webgpuSubgroupsSetting,
  webgpuCaptureSetting,
} from './environment.js';
import { kindFromEnvironment } from './select-device.js';

/** The settings the MINI_GPT_* variables give (unset: the defaults). */
export interface NodeConfiguration {
  /** MINI_GPT_DEVICE: the device `auto` and an unnamed getDevice() mean (undefined: unset). */
  device: string | undefined;
  /** MINI_GPT_WEBGPU_BACKEND: the one Dawn backend to try (undefined: all). */
  webgpuBackend: string | undefined;
  /** MINI_GPT_WEBGPU_SUBGROUPS: whether WebGPU devices request `subgroups` where offered (default true). */
  webgpuSubgroups: boolean;
  /** MINI_GPT_WEBGPU_CAPTURE: whether trainModel on WebGPU captures a step and replays it. */
  webgpuCapture: boolean;
  /** MINI_GPT_CPU_HEAP: the fast CPU backend's WebAssembly heap. */
  cpuHeap: CpuHeapChoice;
  /** MINI_GPT_THREADS: threads of the fast CPU kernels (default: the cores). */
  threads: number;
  /** MINI_GPT_NATIVE: whether the native addon's kernels may run (where built). */
  native: boolean;
  /** MINI_GPT_NATIVE_ISA: the addon's instruction set when asked for (undefined: the best). */
  nativeIsa: 'avx512' | 'avx2' | undefined;
}

/**
 * Sets up this process for Dawn (prepareNodeProcess), then reads and checks MINI_GPT_DEVICE, MINI_GPT_WEBGPU_BACKEND, MINI_GPT_WEBGPU_SUBGROUPS, MINI_GPT_WEBGPU_CAPTURE, MINI_GPT_CPU_HEAP,
 * MINI_GPT_THREADS, MINI_GPT_NATIVE and MINI_GPT_NATIVE_ISA from this process's environment.
 * @throws EnvironmentError (exit code 2) for the first bad value: one line naming the variable,
 *   the value and what it accepts
 */
export function configureNode(): NodeConfiguration {
  prepareNodeProcess();
  const { native, isa } = nativeSetting(process.env);
  return {
    device: kindFromEnvironment(),
    webgpuBackend: webgpuBackendSetting(),
    webgpuSubgroups: webgpuSubgroupsSetting(),
    webgpuCapture: webgpuCaptureSetting(),
    cpuHeap: cpuHeapSetting(),
    threads: threadsSetting(availableParallelism()),
    native,
    nativeIsa: isa,
  };
}

let prepared = false;

/**
 * What Dawn needs from this process, done once (configureNode, or the first WebGPU device): the
 * WebGPU globals (GPUBufferUsage, ...) and, on Linux without a display, EGL_PLATFORM=surfaceless
 * for Mesa's OpenGL adapter and a XDG_RUNTIME_DIR (Mesa prints "XDG_RUNTIME_DIR is invalid" on
 * every adapter probe without one), each only when unset.
 */
export function prepareNodeProcess(): void {
  if (prepared) return;
  prepared = true;
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    process.env.EGL_PLATFORM ??= 'surfaceless';
    process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), 'mini-gpt-xdg-'));
  }
  Object.assign(globalThis, globals);
}
