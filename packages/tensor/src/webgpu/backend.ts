/**
 * The WebGPU backend. Work is recorded into a command encoder and a compute pass and submitted
 * every `submitEvery` dispatches (so the GPU starts while JavaScript records the rest) and when
 * something must reach the device (a read, an upload into a buffer the queued work uses).
 *
 * Recording is cheap per dispatch (docs/webgpu-host.md): pipelines are found through nested maps
 * keyed by the shader and its constants' values (no string built per dispatch); every shader's
 * bind group layout is explicit, read once from its WGSL, with binding 0 (the uniforms) a
 * dynamic offset into one arena, so a bind group depends only on the buffers bound and is
 * cached per layout and buffer set; staging buffers for reads are pooled.
 *
 * Storage bindings larger than `maxStorageBufferBindingSize` (128 MiB on llvmpipe and many GPUs;
 * GPT-2's token embedding is 154 MB) are handled by `bind()`, which binds a window of a buffer:
 * kernels split their work (by rows) so that each dispatch's windows fit.
 */
import type { Backend, BackendStorage, View } from '../backend.js';
import { type DType, type TypedArray, bytesPerElement, typedArrayFor } from '../dtype.js';
import { DeviceError } from '../errors.js';
import { contiguousStrides } from '../shape.js';
import { MATMUL_PROFILES, type MatmulProfile, tileIsValid } from './matmul-tiles.js';
import { BufferPool, type PoolStats, sizeClass } from './pool.js';
import { CaptureLog, DISPATCH, Recording, SUBMIT, UPLOAD, replayPlan } from './capture.js';
import { type ShaderName, shaders, subgroupShaders } from './shaders.generated.js';
import type { Uniforms } from './uniforms.js';
import { webgpuKernels } from './kernels.js';

export class GpuStorage implements BackendStorage {
  /**
   * `elementBytes`: 4, or 2 for float16/bfloat16 (two elements per 32-bit word, lib_half.wgsl).
   * `bufferBytes`: `buffer.size`, kept here because reading `GPUBuffer.size` is a call into Dawn
   * (bind() and the pool need it several times a dispatch).
   */
  constructor(
    readonly buffer: GPUBuffer,
    readonly byteLength: number,
    readonly elementBytes: number,
    readonly bufferBytes: number,
  ) {}
}

/** A bound window of a buffer, and where the requested first element sits inside it. */
export interface BoundRange {
  readonly resource: GPUBufferBinding;
  /** Element index (4-byte words) of the requested first element within the window. */
  readonly base: number;
  /** Bytes of the buffer the window spans (its `size`, or the whole buffer's). */
  readonly bytes: number;
}

export interface WebGPUBackendOptions {
  /** Lower the storage binding limit (tests use this to exercise the splitting paths). */
  maxBindingBytes?: number;
  /** Submit after this many dispatches (default 48). */
  submitEvery?: number;
  /**
   * The matmul's tile table row (matmul-tiles.ts): select-device.ts picks it from the adapter's
   * name; tests and the bench pass one to run a given tile. Default: the hardware row.
   */
  matmulProfile?: MatmulProfile;
  /**
   * False: leave the adapter's `subgroups` feature off (select-device.ts does not request it),
   * so the row kernels run their workgroup-memory trees. Default: MINI_GPT_WEBGPU_SUBGROUPS,
   * else on where the adapter offers it.
   */
  subgroups?: boolean;
  /**
   * Decoding's matvec layout (products of at most 4 rows): true, matvec_splitk.wgsl's split-K
   * layout; false, matvec.wgsl's column layout. Default: the matmul profile's `matvecSplitK`
   * (select-device.ts: true on hardware adapters, false on software ones). Tests force either.
   */
  matvecSplitK?: boolean;
}

const UNIFORM_ARENA_BYTES = 64 * 1024;
/**
 * Bytes of the arena buffer: more than eager recording fills between submits, so that a replay
 * can lay out the uniforms of several captured command buffers side by side and submit them as
 * one (capture.ts, replayPlan).
 */
const ARENA_BUFFER_BYTES = 1024 * 1024;
/** Dispatches per submit of a replay at most: fewer submits than eager recording, still a few a step. */
const REPLAY_SUBMIT_EVERY = 256;
/** Bytes of the arena each dispatch's uniform binding spans (Uniforms holds at most 512). */
const UNIFORM_BINDING_BYTES = 512;
/** Dispatches per submit by default: enough to amortise a submit, few enough that the GPU starts early. */
const SUBMIT_EVERY = 48;
/** Cached bind groups before the cache starts over (buffer sets churn only when the pool does). */
const MAX_BIND_GROUPS = 8192;
/** Free staging buffers kept per size. */
const STAGING_PER_SIZE = 4;

/** A pipeline with its explicit layout. */
interface PipelineEntry {
  readonly pipeline: GPUComputePipeline;
  readonly layout: LayoutEntry;
}

/** One bind group layout (by its bindings' kinds) and the bind groups made for it, keyed buffer by buffer. */
interface LayoutEntry {
  readonly layout: GPUBindGroupLayout;
  readonly pipelineLayout: GPUPipelineLayout;
  /** Storage bindings after the uniforms (bindings 1..n). */
  readonly storage: number;
  /** Nested maps: buffer of binding 1 → buffer of binding 2 → … → bind group. */
  groups: Map<GPUBuffer, unknown>;
  /** The bind group when the layout has no storage bindings. */
  only: GPUBindGroup | null;
}

/** Pipelines by constants: for each constant in order, its name, then its value. */
interface PipelineNode {
  entry: PipelineEntry | null;
  next: Map<string, Map<number | boolean, PipelineNode>> | null;
}
const MAX_WORKGROUPS_PER_DIMENSION = 65535;

/** A shader: the name of packages/tensor/shaders/<name>.wgsl, or code generated at run time under a unique name. */
export type Shader = ShaderName | { readonly name: string; readonly code: string };

export class WebGPUBackend implements Backend {
  readonly kind = 'webgpu' as const;
  readonly stridedAttentionBackward = true;
  readonly kernels = webgpuKernels(this);
  readonly maxBindingBytes: number;
  /** Largest element count that one binding window can always hold, whatever its alignment. */
  readonly bindableElements: number;
  /**
   * The matmul's tiles and K cap on this adapter (matmul-tiles.ts). Tests and the bench replace
   * it (withMatmulProfile) to run every tile on one device.
   */
  matmulProfile: MatmulProfile;
  /** Products of at most 4 rows run matvec_splitk.wgsl (true) or matvec.wgsl (WebGPUBackendOptions.matvecSplitK). */
  matvecSplitK: boolean;
  /**
   * Whether shaders with a subgroup text (subgroupShaders: the row kernels) compile it: the
   * device has `subgroups` (select-device.ts requests it unless told not to) and
   * `options.subgroups` is not false.
   */
  readonly subgroups: boolean;
  private readonly pool: BufferPool;
  private readonly storageAlign: number;
  private readonly uniformAlign: number;
  private readonly modules = new Map<string, { module: GPUShaderModule; layout: LayoutEntry; subgroups: boolean }>();
  private readonly pipelines = new Map<string, PipelineNode>();
  private readonly layouts = new Map<string, LayoutEntry>();
  private bindGroupCount = 0;
  private readonly submitEvery: number;
  private sinceSubmit = 0;
  private readonly staging = new Map<number, GPUBuffer[]>();
  private readonly arena: GPUBuffer;
  private readonly arenaData = new Uint8Array(UNIFORM_ARENA_BYTES);
  private readonly arenaWords = new Uint32Array(this.arenaData.buffer);
  private arenaUsed = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** The pipeline `pass` has set, null for a new pass. */
  private passPipeline: GPUComputePipeline | null = null;
  private readonly touched = new Set<GPUBuffer>();
  private firstError: Error | null = null;
  /** The capture in progress (beginCapture), null when none. */
  private capture: CaptureLog | null = null;
  /** Counters for the benchmark and tests: what one step costs. */
  readonly counters = {
    dispatches: 0,
    submits: 0,
    pipelines: 0,
    reads: 0,
    /** Bytes copied back by reads (what a decoded token costs the bus). */
    bytesRead: 0,
    uploads: 0,
    bindGroups: 0,
    stagingBuffers: 0,
    /** Shader modules compiled from their subgroup text (subgroupShaders): tests check the variant ran. */
    subgroupModules: 0,
    /** Dispatches of the split-K matvec (matvec_splitk.wgsl): tests check the layout ran. */
    splitKMatvecs: 0,
    /** Replays of captured work (replay()); their dispatches count in `dispatches` too. */
    replays: 0,
  };
  readonly dummy: GPUBufferBinding;
  /**
   * A second dummy for an unused read_write binding: Dawn refuses one buffer bound writable and
   * read-only in the same dispatch, and `dummy` may fill read-only bindings there.
   */
  readonly writableDummy: GPUBufferBinding;

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
    this.submitEvery = Math.max(1, options.submitEvery ?? SUBMIT_EVERY);
    this.subgroups = device.features.has('subgroups') && options.subgroups !== false;
    this.matmulProfile = MATMUL_PROFILES.hardware;
    this.setMatmulProfile(options.matmulProfile ?? MATMUL_PROFILES.hardware);
    this.matvecSplitK = options.matvecSplitK ?? this.matmulProfile.matvecSplitK;
    this.pool = new BufferPool(device, limits.maxBufferSize);
    this.arena = device.createBuffer({
      size: ARENA_BUFFER_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.dummy = { buffer: device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE }) };
    this.writableDummy = { buffer: device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE }) };
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
    const bytes = this.pool.sizeFor(Math.max(4, Math.ceil((size * elementBytes) / 4) * 4));
    return new GpuStorage(this.pool.acquire(bytes), size * elementBytes, elementBytes, bytes);
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
    if (this.capture) {
      // A replay writes the same bytes at the same point (a constant made in the step: positions, a fill).
      this.capture.kinds.push(UPLOAD);
      this.capture.uploads.push({
        buffer,
        data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice(),
      });
      this.capture.buffers.add(buffer);
    }
  }

  async read(view: View): Promise<TypedArray> {
    this.refuseInCapture('a read');
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
    const staging = this.acquireStaging(bytes);
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
    this.counters.bytesRead += bytes;
    let mapped = false;
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
      mapped = true;
      this.throwIfFailed();
      out.set(
        new (out.constructor as typeof Float32Array)(staging.getMappedRange(0, bytes).slice(0, size * elementBytes)),
      );
      staging.unmap();
      mapped = false;
      this.releaseStaging(staging);
    } catch (e) {
      if (mapped) staging.unmap();
      staging.destroy();
      throw e;
    }
    return out;
  }

  /** A MAP_READ buffer of at least `bytes` (pooled by size class: a read a token or a step creates none). */
  private acquireStaging(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    const free = this.staging.get(size);
    const reused = free?.pop();
    if (reused) return reused;
    this.counters.stagingBuffers++;
    return this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  private releaseStaging(buffer: GPUBuffer): void {
    let free = this.staging.get(buffer.size);
    if (!free) this.staging.set(buffer.size, (free = []));
    if (free.length < STAGING_PER_SIZE) free.push(buffer);
    else buffer.destroy();
  }

  release(storage: BackendStorage): void {
    const { buffer, bufferBytes } = storage as GpuStorage;
    this.pool.release(buffer, bufferBytes);
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
    const { buffer, elementBytes, bufferBytes } = storage as GpuStorage;
    if (bufferBytes <= this.maxBindingBytes) return { resource: { buffer }, base: first, bytes: bufferBytes };
    const offset = Math.floor((first * elementBytes) / this.storageAlign) * this.storageAlign;
    const size = Math.max(4, Math.ceil(((first + count) * elementBytes - offset) / 4) * 4);
    if (size > this.maxBindingBytes) {
      throw new DeviceError(
        `WebGPU: internal error: a window of ${size} bytes exceeds the binding limit ${this.maxBindingBytes}`,
      );
    }
    return { resource: { buffer, offset, size }, base: first - offset / elementBytes, bytes: size };
  }

  /**
   * Replaces the matmul's tile table row (tests and the bench run each tile this way).
   * @throws DeviceError for a tile matmul.wgsl cannot run within this device's limits
   */
  setMatmulProfile(profile: MatmulProfile): void {
    const limits = this.device.limits;
    for (const tile of profile.tiles) {
      const threads = tile.threadsX * tile.threadsY;
      if (
        !tileIsValid(tile, limits.maxComputeWorkgroupStorageSize) ||
        threads > limits.maxComputeInvocationsPerWorkgroup
      )
        throw new DeviceError(
          `WebGPU: matmul profile ${profile.name} has a tile this device cannot run: ${JSON.stringify(tile)}`,
        );
    }
    this.matmulProfile = profile;
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
    const { pipeline, layout } = this.pipeline(shader, constants);
    if (this.sinceSubmit >= this.submitEvery || this.arenaUsed + UNIFORM_BINDING_BYTES > UNIFORM_ARENA_BYTES)
      this.flush();
    const uniformOffset = this.arenaUsed;
    // Offsets are multiples of minUniformBufferOffsetAlignment (at least 4): whole words.
    uniforms.writeTo(this.arenaWords, uniformOffset / 4);
    this.arenaUsed = Math.ceil((uniformOffset + uniforms.byteLength) / this.uniformAlign) * this.uniformAlign;
    for (let i = 0; i < resources.length; i++) this.touched.add(resources[i]!.buffer);
    const bindGroup = this.bindGroup(layout, resources);
    if (this.capture)
      this.logDispatch(this.capture, pipeline, bindGroup, uniformOffset, uniforms, resources, workgroups);
    const pass = this.computePass();
    // A pass keeps its pipeline between dispatches: set it only when it changes (AdamW's groups,
    // a matmul split in parts, elementwise kernels in a row).
    if (pipeline !== this.passPipeline) {
      pass.setPipeline(pipeline);
      this.passPipeline = pipeline;
    }
    // A plain array: Dawn's Node binding takes it in about half the time of the typed-array
    // overload (setBindGroup(i, g, Uint32Array, start, length)), measured 1.0 against 1.6 µs.
    pass.setBindGroup(0, bindGroup, [uniformOffset]);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
    this.counters.dispatches++;
    this.sinceSubmit++;
  }

  private logDispatch(
    log: CaptureLog,
    pipeline: GPUComputePipeline,
    bindGroup: GPUBindGroup,
    uniformOffset: number,
    uniforms: Uniforms,
    resources: GPUBufferBinding[],
    workgroups: readonly [number, number, number],
  ): void {
    log.kinds.push(DISPATCH);
    log.pipelines.push(pipeline);
    log.groups.push(bindGroup);
    log.offsets.push(uniformOffset);
    log.grids.push(workgroups[0], workgroups[1], workgroups[2]);
    for (let i = 0; i < resources.length; i++) log.buffers.add(resources[i]!.buffer);
    const at = uniformOffset / 4;
    const streams = uniforms.streamWords;
    if (streams) for (const w of streams) log.pending.push(at + w, -1, this.arenaWords[at + w]!);
    const named = uniforms.namedWords;
    if (named)
      for (let k = 0; k < named.length; k += 2) {
        const w = named[k] as number;
        log.pending.push(at + w, log.nameId(named[k + 1] as string), this.arenaWords[at + w]!);
      }
  }

  /**
   * Starts capturing: the work recorded until endCapture() is also kept, so that replay() can
   * send it again without the JavaScript that recorded it. Queued work is submitted first. Inside
   * a capture, a read, a sync or a timed pass throws (they would not be replayed); an upload is
   * kept and replayed (a constant made in the captured work).
   * @throws DeviceError when a capture is already in progress
   */
  beginCapture(): void {
    if (this.capture) throw new DeviceError('WebGPU: internal error: a capture is already in progress');
    this.flush();
    this.capture = new CaptureLog();
  }

  /**
   * Ends the capture and returns its recording; the buffers it used are pinned until the
   * recording is disposed (pool.ts: a tensor freed meanwhile keeps its buffer from other tensors).
   * @throws DeviceError when no capture is in progress
   */
  endCapture(): Recording {
    const log = this.capture;
    if (!log) throw new DeviceError('WebGPU: internal error: endCapture without beginCapture');
    this.flush();
    this.capture = null;
    this.pool.pin(log.buffers);
    // The replay's uniforms go past the part eager recording fills, so that work queued before a
    // replay can go in the replay's first command buffer (replay()).
    const plan = replayPlan(log, UNIFORM_ARENA_BYTES, ARENA_BUFFER_BYTES - UNIFORM_ARENA_BYTES, REPLAY_SUBMIT_EVERY);
    return new Recording(log, plan, (buffers) => this.pool.unpin(buffers));
  }

  /** Drops a capture in progress (its work still runs, as recorded): after an error in captured code. */
  abortCapture(): void {
    if (!this.capture) return;
    this.flush();
    this.capture = null;
  }

  /** Whether a capture is in progress. */
  get capturing(): boolean {
    return this.capture !== null;
  }

  /**
   * Sends a recording's work again: its command buffers, uploads and uniform arena writes, in the
   * order the capture sent them, with every dropout stream word moved by `streamDelta` (the
   * streams the generator advanced by since the capture) and every named word
   * (Uniforms.named: AdamW's learning-rate terms) set to `words(name)`, its 32 bits (required
   * when the recording has named words). Queued work goes first, in the replay's first command
   * buffer (a submit saved: the batch copied in before a step, the losses copied out before the
   * update), or in a submit of its own when the replay starts with an upload. The
   * tensors the captured code made are not made again: the caller keeps those it reads (their
   * buffers are pinned, and hold the replay's results).
   * @throws DeviceError for a disposed recording or inside a capture; RangeError when a moved
   * stream would pass 2^32 - 1
   */
  replay(recording: Recording, streamDelta = 0, words?: (name: string) => number): void {
    this.refuseInCapture('a replay');
    if (recording.isDisposed) throw new DeviceError('WebGPU: internal error: replay of a disposed recording');
    if (!Number.isInteger(streamDelta) || streamDelta < 0 || recording.maxStream + streamDelta >= 2 ** 32)
      throw new RangeError(`WebGPU: replay: stream delta ${streamDelta} moves a stream past 2^32 - 1`);
    if (recording.names.length > 0 && !words)
      throw new DeviceError(`WebGPU: internal error: replay needs the words ${recording.names.join(', ')}`);
    const values = words ? recording.names.map(words) : [];
    this.throwIfFailed();
    const { kinds, pipelines, groups, offsets, grids, uploads, images, patches, base, leadingUpload } = recording.plan;
    const queue = this.device.queue;
    // Work queued before the replay: its encoder becomes the replay's first command buffer, its
    // uniforms written below the replay's (at 0; the replay's at `base`) before that submit.
    if (leadingUpload || images.length === 0) this.flush();
    const queued = this.takeQueued();
    let encoder = queued?.encoder ?? null;
    let queuedBytes = queued?.arenaBytes ?? 0;
    let pass: GPUComputePassEncoder | null = null;
    let current: GPUComputePipeline | null = null;
    let d = 0;
    let u = 0;
    let f = 0;
    for (let i = 0; i < kinds.length; i++) {
      const kind = kinds[i];
      if (kind === DISPATCH) {
        if (!pass) {
          encoder ??= this.device.createCommandEncoder();
          pass = encoder.beginComputePass();
          current = null;
        }
        const pipeline = pipelines[d]!;
        if (pipeline !== current) {
          pass.setPipeline(pipeline);
          current = pipeline;
        }
        pass.setBindGroup(0, groups[d]!, [offsets[d]!]); // a plain array: see dispatch()
        pass.dispatchWorkgroups(grids[3 * d]!, grids[3 * d + 1]!, grids[3 * d + 2]!);
        d++;
      } else if (kind === UPLOAD) {
        const { buffer, data } = uploads[u++]!;
        queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
        this.counters.uploads++;
      } else if (kind === SUBMIT) {
        pass?.end();
        pass = null;
        const image = images[f]!;
        const list = patches[f]!;
        for (let k = 0; k < list.length; k += 3) {
          const what = list[k + 1]!;
          image[list[k]!] = what === -1 ? list[k + 2]! + streamDelta : values[what]!;
        }
        if (queuedBytes > 0) queue.writeBuffer(this.arena, 0, this.arenaData, 0, queuedBytes);
        queuedBytes = 0;
        if (image.length > 0) queue.writeBuffer(this.arena, base, image.buffer, image.byteOffset, image.byteLength);
        if (encoder) queue.submit([encoder.finish()]);
        encoder = null;
        this.counters.submits++;
        f++;
      }
    }
    this.counters.dispatches += d;
    this.counters.replays++;
  }

  private refuseInCapture(what: string): void {
    if (this.capture)
      throw new DeviceError(
        `WebGPU: internal error: ${what} inside a captured step (a replay would not repeat it); capture only work that stays on the device`,
      );
  }

  /**
   * The bind group of `layout` for `resources` (bindings 1..n; bindings a shader declares past
   * them get a dummy buffer): cached when every resource binds a whole buffer, made afresh for
   * windows of large buffers (rare: only tensors above the binding limit).
   */
  private bindGroup(layout: LayoutEntry, resources: GPUBufferBinding[]): GPUBindGroup {
    if (resources.length > layout.storage)
      throw new DeviceError(
        `WebGPU: internal error: ${resources.length} resources for a shader with ${layout.storage} storage bindings`,
      );
    let whole = true;
    for (let i = 0; i < resources.length; i++) {
      const r = resources[i]!;
      if (r.offset !== undefined || r.size !== undefined) whole = false;
    }
    if (!whole) return this.createBindGroup(layout, resources);
    if (layout.storage === 0) return (layout.only ??= this.createBindGroup(layout, resources));
    let node = layout.groups;
    const last = layout.storage - 1;
    for (let i = 0; i < last; i++) {
      const buffer = (resources[i] ?? this.dummy).buffer;
      let next = node.get(buffer) as Map<GPUBuffer, unknown> | undefined;
      if (!next) node.set(buffer, (next = new Map()));
      node = next;
    }
    const key = (resources[last] ?? this.dummy).buffer;
    let group = node.get(key) as GPUBindGroup | undefined;
    if (!group) {
      if (this.bindGroupCount >= MAX_BIND_GROUPS) {
        for (const l of this.layouts.values()) l.groups = new Map();
        this.bindGroupCount = 0;
        return this.bindGroup(layout, resources);
      }
      group = this.createBindGroup(layout, resources);
      node.set(key, group);
      this.bindGroupCount++;
    }
    return group;
  }

  private createBindGroup(layout: LayoutEntry, resources: GPUBufferBinding[]): GPUBindGroup {
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.arena, offset: 0, size: UNIFORM_BINDING_BYTES } },
    ];
    for (let i = 0; i < layout.storage; i++) entries.push({ binding: i + 1, resource: resources[i] ?? this.dummy });
    this.counters.bindGroups++;
    return this.device.createBindGroup({ layout: layout.layout, entries });
  }

  private pipeline(shader: Shader, constants: Record<string, number | boolean>): PipelineEntry {
    const name = typeof shader === 'string' ? shader : shader.name;
    let node = this.pipelines.get(name);
    if (!node) this.pipelines.set(name, (node = { entry: null, next: null }));
    for (const k in constants) {
      const v = constants[k]!;
      node.next ??= new Map();
      let byValue = node.next.get(k);
      if (!byValue) node.next.set(k, (byValue = new Map()));
      let child = byValue.get(v);
      if (!child) byValue.set(v, (child = { entry: null, next: null }));
      node = child;
    }
    return (node.entry ??= this.createPipeline(shader, name, constants));
  }

  /** Which text a shader was compiled from on this device: 'subgroups', 'plain', or null before its first dispatch. */
  shaderVariant(name: string): 'subgroups' | 'plain' | null {
    const found = this.modules.get(name);
    return found ? (found.subgroups ? 'subgroups' : 'plain') : null;
  }

  private createPipeline(shader: Shader, name: string, constants: Record<string, number | boolean>): PipelineEntry {
    let found = this.modules.get(name);
    if (!found) {
      // The subgroup text where the device has the feature and the shader has one (embed-shaders.mjs).
      const variant = typeof shader === 'string' && this.subgroups ? subgroupShaders[shader] : undefined;
      const code = variant ?? (typeof shader === 'string' ? shaders[shader] : shader.code);
      if (code === undefined) throw new DeviceError(`WebGPU: no shader named ${name} (shaders/${name}.wgsl)`);
      const label = variant ? `${name}+subgroups` : name;
      found = {
        module: this.device.createShaderModule({ label, code }),
        layout: this.layoutFor(name, code),
        subgroups: variant !== undefined,
      };
      this.modules.set(name, found);
      if (variant) this.counters.subgroupModules++;
    }
    const numeric = Object.fromEntries(
      Object.entries(constants).map(([k, v]) => [k, typeof v === 'boolean' ? Number(v) : v]),
    );
    const pipeline = this.device.createComputePipeline({
      label: `${name}${found.subgroups ? '+subgroups' : ''}:${JSON.stringify(constants)}`,
      layout: found.layout.pipelineLayout,
      compute: { module: found.module, entryPoint: 'main', constants: numeric },
    });
    this.counters.pipelines++;
    return { pipeline, layout: found.layout };
  }

  /**
   * The explicit layout of a shader's group 0, read from its declarations: binding 0 the
   * uniforms (dynamic offset), then storage bindings 1..n, read-only or read-write. Shaders with
   * the same kinds share one layout (and its bind groups).
   */
  private layoutFor(name: string, code: string): LayoutEntry {
    const kinds: string[] = [];
    for (const m of code.matchAll(
      /@group\(0\)\s*@binding\((\d+)\)\s*var<\s*(uniform|storage\s*,\s*(read_write|read))\s*>/g,
    )) {
      const binding = Number(m[1]);
      kinds[binding] = m[2] === 'uniform' ? 'u' : m[3] === 'read' ? 'r' : 'w';
    }
    if (kinds[0] !== 'u' || kinds.some((k, i) => i > 0 && k !== 'r' && k !== 'w') || kinds.includes(undefined as never))
      throw new DeviceError(
        `WebGPU: internal error: shader ${name} must declare binding 0 as uniforms, then storage bindings 1..n without gaps`,
      );
    const signature = kinds.join('');
    let layout = this.layouts.get(signature);
    if (!layout) {
      const entries: GPUBindGroupLayoutEntry[] = kinds.map((k, binding) => ({
        binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer:
          k === 'u'
            ? { type: 'uniform', hasDynamicOffset: true }
            : { type: k === 'r' ? 'read-only-storage' : 'storage' },
      }));
      const bindGroupLayout = this.device.createBindGroupLayout({ label: signature, entries });
      layout = {
        layout: bindGroupLayout,
        pipelineLayout: this.device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] }),
        storage: kinds.length - 1,
        groups: new Map(),
        only: null,
      };
      this.layouts.set(signature, layout);
    }
    return layout;
  }

  /**
   * Bench hook (bench/webgpu-kernels.mjs): ends the current compute pass and opens one that
   * writes `timestampWrites` (the device needs `timestamp-query`), so the dispatches recorded
   * next are timed together, until the pass ends at the next flush, read or copy.
   */
  beginTimedPass(timestampWrites: GPUComputePassTimestampWrites): void {
    this.refuseInCapture('a timed pass');
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
    this.passPipeline = null;
  }

  flush(): void {
    if (!this.encoder) return;
    if (this.capture) {
      // The arena as this submit writes it, and where its dropout streams sit.
      this.capture.kinds.push(SUBMIT);
      this.capture.images.push(this.arenaWords.slice(0, this.arenaUsed / 4));
      this.capture.patches.push(this.capture.pending);
      this.capture.pending = [];
    }
    const { encoder, arenaBytes } = this.takeQueued()!;
    if (arenaBytes > 0) this.device.queue.writeBuffer(this.arena, 0, this.arenaData, 0, arenaBytes);
    this.device.queue.submit([encoder.finish()]);
    this.counters.submits++;
  }

  /**
   * The queued work, taken off the backend (its pass ended, nothing queued after): its command
   * encoder and the arena bytes its dispatches wrote (from 0). Null when nothing is queued.
   * flush() submits it; replay() makes it the first command buffer it submits.
   */
  private takeQueued(): { encoder: GPUCommandEncoder; arenaBytes: number } | null {
    const encoder = this.encoder;
    if (!encoder) return null;
    this.endPass();
    const arenaBytes = this.arenaUsed;
    this.encoder = null;
    this.arenaUsed = 0;
    this.sinceSubmit = 0;
    this.touched.clear();
    return { encoder, arenaBytes };
  }

  /** Waits until the device has finished all submitted work. */
  async sync(): Promise<void> {
    this.refuseInCapture('a sync');
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.firstError) throw this.firstError;
  }

  destroy(): void {
    this.pool.trim();
    for (const list of this.staging.values()) for (const b of list) b.destroy();
    this.staging.clear();
    this.device.destroy();
  }
}

function isContiguous(view: View): boolean {
  const expected = contiguousStrides(view.shape);
  return view.shape.every((d, i) => d === 1 || view.strides[i] === expected[i]);
}
