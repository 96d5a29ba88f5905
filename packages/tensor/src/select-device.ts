/**
 * Finding a device. `auto` takes a hardware GPU (core WebGPU) when there is one and the CPU
 * otherwise: software rasterizers (SwiftShader, llvmpipe) run WebGPU correctly but far slower
 * than the CPU backend, so they are used only when WebGPU is asked for by name. Asked for by
 * name, `webgpu` tries a hardware adapter, then SwiftShader over Vulkan (core), then Mesa's
 * llvmpipe over OpenGL (compatibility mode).
 *
 * Overrides: the `kind` argument, else MINI_GPT_DEVICE=cpu|webgpu|auto; MINI_GPT_WEBGPU_BACKEND
 * (vulkan, opengl, opengles, metal, d3d12) forces one Dawn backend; MINI_GPT_WEBGPU_SUBGROUPS=0 (or the
 * request's `subgroups: false`) leaves the adapter's `subgroups` feature off. Kinds by name come from a
 * table that `registerDeviceKind` extends.
 */
import { fastCpu } from './defaults.js';
import { type AdapterLimits, Device, type DeviceKind } from './device.js';
import { DeviceError, describeValue } from './errors.js';
import { WebGPUBackend, type WebGPUBackendOptions } from './webgpu/backend.js';
import { deviceSetting, webgpuBackendSetting, webgpuSubgroupsSetting } from './environment.js';
import { matmulProfileFor } from './webgpu/matmul-tiles.js';

/** Returns a GPU object for Dawn-style backend flags (ignored by browsers' navigator.gpu). */
export type GPUProvider = (flags: string[]) => GPU | undefined;

let provider: GPUProvider = () => (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;

/** Node entry points register Dawn here (see node.ts); browsers use navigator.gpu. */
export function setGPUProvider(p: GPUProvider): void {
  provider = p;
}

export interface DeviceRequest extends WebGPUBackendOptions {
  /** A registered device kind ('cpu', 'webgpu', ...) or 'auto'. */
  kind?: DeviceKind;
  /** A Dawn backend to use only (vulkan, opengl, opengles, metal, d3d12). */
  webgpuBackend?: string;
}

interface Attempt {
  flags: string[];
  options: GPURequestAdapterOptions;
  api: string;
}

/** MINI_GPT_WEBGPU_BACKEND, checked. @throws EnvironmentError for a backend Dawn does not have */
const backendFromEnvironment = webgpuBackendSetting;

/** MINI_GPT_DEVICE, checked against the kinds registered. @throws EnvironmentError for another value */
export function kindFromEnvironment(): DeviceKind | undefined {
  return deviceSetting([...openers.keys()]);
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render/i;

function isSoftware(adapter: GPUAdapter): boolean {
  const info = adapter.info;
  return (
    Boolean((info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter) ||
    SOFTWARE.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`)
  );
}

function attempts(forced: string | undefined): Attempt[] {
  const compat = (api: string) => api.startsWith('opengl');
  if (forced)
    return [
      { flags: [`backend=${forced}`], options: compat(forced) ? { featureLevel: 'compatibility' } : {}, api: forced },
    ];
  return [
    { flags: [], options: { powerPreference: 'high-performance' }, api: 'default' },
    { flags: ['backend=vulkan'], options: {}, api: 'vulkan' },
    { flags: ['backend=opengl'], options: { featureLevel: 'compatibility' }, api: 'opengl' },
    { flags: ['backend=opengles'], options: { featureLevel: 'compatibility' }, api: 'opengles' },
  ];
}

async function findAdapter(
  allowSoftware: boolean,
  forced: string | undefined,
): Promise<{ gpu: GPU; adapter: GPUAdapter; api: string } | null> {
  for (const attempt of attempts(forced)) {
    const gpu = provider(attempt.flags);
    if (!gpu) return null;
    const adapter = await gpu.requestAdapter(attempt.options).catch(() => null);
    if (adapter && (allowSoftware || !isSoftware(adapter))) return { gpu, adapter, api: attempt.api };
    if (!allowSoftware) return null; // the default backend gives the best adapter first
  }
  return null;
}

const LIMITS: (keyof AdapterLimits | 'maxComputeWorkgroupSizeX')[] = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupStorageSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupSizeX',
];

async function openWebGPU(
  found: { gpu: GPU; adapter: GPUAdapter; api: string },
  options: WebGPUBackendOptions,
): Promise<Device> {
  const { gpu, adapter, api } = found;
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS) requiredLimits[name] = adapter.limits[name];
  // shader-f16 where the adapter has it: the float16-weight matmul then reads f16 natively (matmul_f16.wgsl).
  // timestamp-query where the adapter has it: the kernel bench times dispatches on the GPU (bench/webgpu-kernels.mjs).
  // subgroups where the adapter has it, unless turned off (options.subgroups, else MINI_GPT_WEBGPU_SUBGROUPS):
  // the row kernels then reduce with subgroupAdd/subgroupMax (lib_rows_subgroups.wgsl).
  const subgroups = options.subgroups ?? webgpuSubgroupsSetting();
  const wanted = ['shader-f16', 'timestamp-query', ...(subgroups ? ['subgroups'] : [])] as GPUFeatureName[];
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const core = adapter.features.has('core-features-and-limits');
  const info = adapter.info;
  const software = isSoftware(adapter);
  // Browsers may leave description and device empty (Chromium gives vendor "google", architecture "swiftshader").
  const name =
    [info.description, info.device && `[${info.device}]`].filter(Boolean).join(' ') ||
    [info.vendor, info.architecture].filter(Boolean).join(' ') ||
    'unknown adapter';
  const limits: AdapterLimits = {
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    maxBufferSize: device.limits.maxBufferSize,
    maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
    maxStorageBuffersPerShaderStage: device.limits.maxStorageBuffersPerShaderStage,
  };
  // The matmul's tile table row for this adapter (matmul-tiles.ts), unless the caller gave one.
  const matmulProfile =
    options.matmulProfile ?? matmulProfileFor(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`);
  // Decoding's matvec layout: split-K on hardware, the column layout on a software adapter even
  // where its name matched no row of the table (matmul-tiles.ts, MatmulProfile.matvecSplitK).
  const matvecSplitK = options.matvecSplitK ?? (matmulProfile.matvecSplitK && !software);
  return new Device(new WebGPUBackend(gpu, device, { ...options, matmulProfile, matvecSplitK }), {
    kind: 'webgpu',
    description: `${name} (${api === 'default' ? 'default backend' : api}, ${core ? 'core' : 'compatibility'}${software ? ', software' : ''}${requiredFeatures.includes('shader-f16') ? ', shader-f16' : ''}${requiredFeatures.includes('subgroups') ? ', subgroups' : ''})`,
    vendor: info.vendor,
    architecture: info.architecture,
    api,
    featureLevel: core ? 'core' : 'compatibility',
    software,
    limits,
  });
}

/** Opens a device of one kind for a request; throws DeviceError when it cannot. */
export type DeviceOpener = (request: DeviceRequest) => Promise<Device>;

const openers = new Map<DeviceKind, DeviceOpener>([
  ['cpu', async () => fastCpu],
  ['webgpu', (req) => openWebGPUDevice(req)],
]);

/** Makes `getDevice(kind)` (and MINI_GPT_DEVICE=kind) open devices with `open`. */
export function registerDeviceKind(kind: DeviceKind, open: DeviceOpener): void {
  if (kind === 'auto') throw new DeviceError('registerDeviceKind: "auto" is not a device kind');
  openers.set(kind, open);
}

/**
 * The device to run on; see the module comment for the order and the overrides. Throws
 * DeviceError for an unknown kind, a request that is neither a kind nor an object, or a
 * device that cannot be opened.
 */
export async function getDevice(request: DeviceRequest | DeviceKind = {}): Promise<Device> {
  const plain = typeof request === 'object' && request !== null && !Array.isArray(request);
  if (typeof request !== 'string' && !plain)
    throw new DeviceError(
      `getDevice: expected a device kind (a string) or a request ({ kind, ... }), got ${describeValue(request)}`,
    );
  const req: DeviceRequest = typeof request === 'string' ? { kind: request } : request;
  // The environment is read (and checked) only when the argument leaves the kind open.
  const kind = req.kind && req.kind !== 'auto' ? req.kind : (kindFromEnvironment() ?? 'auto');
  if (kind === 'auto') {
    // A hardware GPU if there is one (software adapters are slower than the CPU backend).
    const found = await findAdapter(false, req.webgpuBackend ?? backendFromEnvironment());
    return found ? openWebGPU(found, req) : fastCpu;
  }
  const open = openers.get(kind);
  if (!open) {
    const names = ['auto', ...openers.keys()];
    const choices = `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
    throw new DeviceError(`unknown device "${kind}": use ${choices}`);
  }
  return open(req);
}

/** WebGPU asked for by name: a hardware adapter, else a software one (see the module comment). */
async function openWebGPUDevice(req: DeviceRequest): Promise<Device> {
  const forced = req.webgpuBackend ?? backendFromEnvironment();
  const found = await findAdapter(true, forced);
  if (found) return openWebGPU(found, req);
  throw new DeviceError(
    `no WebGPU adapter found${forced ? ` on the ${forced} backend` : ''}. Without a GPU, install SwiftShader ` +
      '(Debian: chromium-common libvulkan1; VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json) or Mesa ' +
      '(libegl1 libegl-mesa0 libgles2; EGL_PLATFORM=surfaceless), or use the cpu device',
  );
}
