/**
 * The WebGPU backend. Work is recorded into one command encoder and one compute pass and
 * submitted only when something must reach the device (a read, an upload into a buffer the
 * queued work uses, or a full uniform arena), so a training step is a handful of submits.
 *
 * Storage bindings larger than `maxStorageBufferBindingSize` (128 MiB on llvmpipe and many GPUs;
 * GPT-2's token embedding is 154 MB) are handled by `bind()`, which binds a window of a buffer:
 * kernels split their work (by rows) so that each dispatch's windows fit.
 */
import type { Backend, BackendStorage, View } from '../backend.js';
import { type DType, type TypedArray, bytesPerElement, typedArrayFor } from '../dtype.js';
import { DeviceError } from '../errors.js';
import { contiguousStrides } from '../shape.js';
import { BufferPool, type PoolStats } from './pool.js';
import { type ShaderName, shaders } from './shaders.generated.js';
import type { Uniforms } from './uniforms.js';
import { webgpuKernels } from './kernels.js';

export class GpuStorage implements BackendStorage {
  /** `elementBytes`: 4, or 2 for float16/bfloat16 (two elements per 32-bit word, lib_half.wgsl). */
  constructor(
    readonly buffer: GPUBuffer,
    readonly byteLength: number,
    readonly elementBytes = 4,
  ) {}
}

/** A bound window of a buffer, and where the requested first element sits inside it. */
export interface BoundRange {
  readonly resource: GPUBufferBinding;
  /** Element index (4-byte words) of the requested first element within the window. */
  readonly base: number;
}

export interface WebGPUBackendOptions {
  /** Lower the storage binding limit (tests use this to exercise the splitting paths). */
  maxBindingBytes?: number;
}

const UNIFORM_ARENA_BYTES = 64 * 1024;
const MAX_WORKGROUPS_PER_DIMENSION = 65535;

/** A shader: the name of packages/tensor/shaders/<name>.wgsl, or code generated at run time under a unique name. */
export type Shader = ShaderName | { readonly name: string; readonly code: string };

export class WebGPUBackend implements Backend {
  readonly kind = 'webgpu' as const;
  readonly kernels = webgpuKernels(this);
  readonly maxBindingBytes: number;
  /** Largest element count that one binding window can always hold, whatever its alignment. */
  readonly bindableElements: number;
  private readonly pool: BufferPool;
  private readonly storageAlign: number;
  private readonly uniformAlign: number;
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly arena: GPUBuffer;
  private readonly arenaData = new Uint8Array(UNIFORM_ARENA_BYTES);
  private arenaUsed = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly touched = new Set<GPUBuffer>();
  private firstError: Error | null = null;
  /** Counters for the benchmark and tests: what one step costs. */
  readonly counters = { dispatches: 0, submits: 0, pipelines: 0, reads: 0, uploads: 0 };
  readonly dummy: GPUBufferBinding;

  constructor(
    /** The GPU object this device came from: it must stay referenced while the device lives. */
    readonly gpu: GPU,
    readonly device: GPUDevice,
    options: WebGPUBackendOptions = {},
  ) {
    const limits = device.limits;
    this.maxBindingBytes = Math.min(limits.maxStorageBufferBindingSize, options.maxBindingBytes ?? Infinity);
    this.storageAlign = limits.minStorageBufferOffsetAlignment;
    this.uniformAlign = limits.minUniformBufferOffsetAlignment;
    this.bindableElements = Math.floor((this.maxBindingBytes - this.storageAlign) / 4);
    this.pool = new BufferPool(device, limits.maxBufferSize);
    this.arena = device.createBuffer({
      size: UNIFORM_ARENA_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.dummy = { buffer: device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE }) };
    device.addEventListener('uncapturederror', (event) => {
      const e = (event as GPUUncapturedErrorEvent).error;
      this.firstError ??= new DeviceError(`WebGPU error: ${e.message}`);
    });
  }

  supports(dtype: DType): boolean {
    return dtype !== 'float64';
  }

  allocate(dtype: DType, size: number): BackendStorage {
    if (!this.supports(dtype)) throw new DeviceError(`WebGPU: dtype ${dtype} is not supported (use float32)`);
    const elementBytes = bytesPerElement[dtype];
    const bytes = Math.max(4, Math.ceil((size * elementBytes) / 4) * 4);
    return new GpuStorage(this.pool.acquire(bytes), size * elementBytes, elementBytes);
  }

  /** A scratch buffer for one kernel's intermediates; release it right after the dispatch. */
  scratch(elements: number): GpuStorage {
    return this.allocate('float32', elements) as GpuStorage;
  }

  upload(storage: BackendStorage, data: TypedArray): void {
    const { buffer } = storage as GpuStorage;
    // queue.writeBuffer runs before work still being recorded: if that work uses this buffer
    // (a pooled buffer reused after its last reader was disposed), submit that work first.
    if (this.touched.has(buffer)) this.flush();
    if (data.byteLength % 4 !== 0) {
      // writeBuffer moves whole words: an odd count of 16-bit elements gets a pad
      const padded = new Uint8Array(data.byteLength + 2);
      padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      data = new Uint16Array(padded.buffer);
    }
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    this.counters.uploads++;
  }

  async read(view: View): Promise<TypedArray> {
    let size = 1;
    for (const d of view.shape) size *= d;
    const out = typedArrayFor(view.dtype, size);
    if (size === 0) return out;
    this.throwIfFailed();
    let source = view;
    let copy: GpuStorage | null = null;
    const elementBytes = bytesPerElement[view.dtype];
    // Buffer copies move whole words: a 16-bit view starting mid-word is first copied to offset 0.
    if (!isContiguous(view) || (view.offset * elementBytes) % 4 !== 0) {
      copy = this.allocate(view.dtype, size) as GpuStorage;
      source = {
        storage: copy,
        dtype: view.dtype,
        shape: view.shape,
        strides: contiguousStrides(view.shape),
        offset: 0,
      };
      this.kernels.copy(view, source);
    }
    const bytes = Math.ceil((size * elementBytes) / 4) * 4;
    const staging = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(
      (source.storage as GpuStorage).buffer,
      source.offset * elementBytes,
      staging,
      0,
      bytes,
    );
    if (copy) this.release(copy);
    this.flush();
    this.counters.reads++;
    try {
      await staging.mapAsync(GPUMapMode.READ);
      this.throwIfFailed();
      out.set(new (out.constructor as typeof Float32Array)(staging.getMappedRange().slice(0, size * elementBytes)));
      staging.unmap();
    } finally {
      staging.destroy();
    }
    return out;
  }

  release(storage: BackendStorage): void {
    this.pool.release((storage as GpuStorage).buffer);
  }

  liveBytes(): number {
    return this.pool.stats().liveBytes;
  }

  peakBytes(): number {
    return this.pool.stats().peakBytes;
  }

  resetPeakBytes(): void {
    this.pool.resetPeak();
  }

  poolStats(): PoolStats {
    return this.pool.stats();
  }

  /**
   * Binds elements [first, first + count) of a storage: the whole buffer when it fits. Elements
   * are the storage's (4 bytes, or 2 for 16-bit floats, whose windows still start on a word).
   */
  bind(storage: BackendStorage, first: number, count: number): BoundRange {
    const { buffer, elementBytes } = storage as GpuStorage;
    if (buffer.size <= this.maxBindingBytes) return { resource: { buffer }, base: first };
    const offset = Math.floor((first * elementBytes) / this.storageAlign) * this.storageAlign;
    const size = Math.max(4, Math.ceil(((first + count) * elementBytes - offset) / 4) * 4);
    if (size > this.maxBindingBytes) {
      throw new DeviceError(
        `WebGPU: internal error: a window of ${size} bytes exceeds the binding limit ${this.maxBindingBytes}`,
      );
    }
    return { resource: { buffer, offset, size }, base: first - offset / elementBytes };
  }

  /** A 2-D grid for `workgroups` (at most 65535 per dimension); kernels fold it back. */
  grid(workgroups: number): [number, number, number] {
    if (workgroups <= MAX_WORKGROUPS_PER_DIMENSION) return [Math.max(1, workgroups), 1, 1];
    const y = Math.ceil(workgroups / MAX_WORKGROUPS_PER_DIMENSION);
    if (y > MAX_WORKGROUPS_PER_DIMENSION)
      throw new DeviceError(`WebGPU: ${workgroups} workgroups are too many for one dispatch`);
    return [MAX_WORKGROUPS_PER_DIMENSION, y, 1];
  }

  /** Records one dispatch of shaders/<shader>.wgsl (or generated code); binding 0 is `uniforms`, then `resources`. */
  dispatch(
    shader: Shader,
    constants: Record<string, number | boolean>,
    uniforms: Uniforms,
    resources: GPUBufferBinding[],
    workgroups: readonly [number, number, number],
  ): void {
    const pipeline = this.pipeline(shader, constants);
    const bytes = uniforms.bytes();
    if (this.arenaUsed + bytes.byteLength > UNIFORM_ARENA_BYTES) this.flush();
    const uniformOffset = this.arenaUsed;
    this.arenaData.set(bytes, uniformOffset);
    this.arenaUsed = Math.ceil((uniformOffset + bytes.byteLength) / this.uniformAlign) * this.uniformAlign;
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.arena, offset: uniformOffset, size: bytes.byteLength } },
    ];
    resources.forEach((resource, i) => {
      entries.push({ binding: i + 1, resource });
      this.touched.add(resource.buffer);
    });
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
    this.counters.dispatches++;
  }

  private pipeline(shader: Shader, constants: Record<string, number | boolean>): GPUComputePipeline {
    const name = typeof shader === 'string' ? shader : shader.name;
    const key = `${name}:${JSON.stringify(constants)}`;
    let pipeline = this.pipelines.get(key);
    if (pipeline) return pipeline;
    let module = this.modules.get(name);
    if (!module) {
      const code = typeof shader === 'string' ? shaders[shader] : shader.code;
      if (code === undefined) throw new DeviceError(`WebGPU: no shader named ${name} (shaders/${name}.wgsl)`);
      module = this.device.createShaderModule({ label: name, code });
      this.modules.set(name, module);
    }
    const numeric = Object.fromEntries(
      Object.entries(constants).map(([k, v]) => [k, typeof v === 'boolean' ? Number(v) : v]),
    );
    pipeline = this.device.createComputePipeline({
      label: key,
      layout: 'auto',
      compute: { module, entryPoint: 'main', constants: numeric },
    });
    this.pipelines.set(key, pipeline);
    this.counters.pipelines++;
    return pipeline;
  }

  /**
   * Bench hook (bench/webgpu-kernels.mjs): ends the current compute pass and opens one that
   * writes `timestampWrites` (the device needs `timestamp-query`), so the dispatches recorded
   * next are timed together, until the pass ends at the next flush, read or copy.
   */
  beginTimedPass(timestampWrites: GPUComputePassTimestampWrites): void {
    this.endPass();
    this.pass = this.commandEncoder().beginComputePass({ timestampWrites });
  }

  private commandEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  private computePass(): GPUComputePassEncoder {
    return (this.pass ??= this.commandEncoder().beginComputePass());
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    if (this.arenaUsed > 0) this.device.queue.writeBuffer(this.arena, 0, this.arenaData, 0, this.arenaUsed);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.arenaUsed = 0;
    this.touched.clear();
    this.counters.submits++;
  }

  /** Waits until the device has finished all submitted work. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.firstError) throw this.firstError;
  }

  destroy(): void {
    this.pool.trim();
    this.device.destroy();
  }
}

function isContiguous(view: View): boolean {
  const expected = contiguousStrides(view.shape);
  return view.shape.every((d, i) => d === 1 || view.strides[i] === expected[i]);
}
