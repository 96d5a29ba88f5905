/**
 * Captured work (WebGPUBackend.beginCapture / endCapture / replay): what a stretch of recording
 * sent to the queue, kept so that it can be sent again without running the ops' JavaScript, as
 * CUDA graphs and tinygrad's TinyJit do. docs/webgpu-host.md, "Capture and replay".
 *
 * The log holds, in order, three kinds of event: a dispatch (its pipeline, its bind group, the
 * offset of its uniforms in the arena, its workgroups), an upload (the buffer and a copy of the
 * bytes written) and a submit (a copy of the uniform arena as it was written, and which of its
 * words are dropout streams). A capture starts and ends with a submit, so a replay sends the
 * same command buffers, uploads and arena writes, in the same queue order, as the capture did.
 */

/** Event kinds in CaptureLog.kinds. */
export const DISPATCH = 0;
export const UPLOAD = 1;
export const SUBMIT = 2;

/** What a capture records (backend.ts fills it while `capture` is set). */
export class CaptureLog {
  readonly kinds: number[] = [];
  readonly pipelines: GPUComputePipeline[] = [];
  readonly groups: GPUBindGroup[] = [];
  /** Each dispatch's uniform offset in the arena (bytes). */
  readonly offsets: number[] = [];
  /** Three workgroup counts per dispatch. */
  readonly grids: number[] = [];
  readonly uploads: { buffer: GPUBuffer; data: Uint8Array }[] = [];
  /** The arena's words at each submit. */
  readonly images: Uint32Array[] = [];
  /**
   * Per submit: triples (arena word index, what the word is, its captured value): -1 for a
   * dropout stream id, else the index in `names` of a named word (Uniforms.named).
   */
  readonly patches: number[][] = [];
  /** Marked words of the command buffer being recorded (moved to `patches` at its submit). */
  pending: number[] = [];
  /** Names of the named words, each once. */
  readonly names: string[] = [];
  private readonly nameIds = new Map<string, number>();

  /** The index of `name` in `names`. */
  nameId(name: string): number {
    let id = this.nameIds.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.nameIds.set(name, id);
    }
    return id;
  }
  /** Every buffer a dispatch bound or an upload wrote: pinned while the recording lives. */
  readonly buffers = new Set<GPUBuffer>();
}

/**
 * How a replay sends a log: the capture's command buffers merged into fewer (a submit costs
 * tens of µs of host time, as much as a dozen dispatches), each merged one's uniforms laid out
 * one after the other in the arena (the arena buffer is larger than what eager recording fills
 * between submits). A command buffer that follows an upload starts a new one, so every upload
 * still reaches the queue before exactly the work it preceded.
 */
export interface ReplayPlan {
  readonly kinds: Uint8Array;
  readonly pipelines: readonly GPUComputePipeline[];
  readonly groups: readonly GPUBindGroup[];
  /** Each dispatch's uniform offset in the arena buffer (bytes): its merged image's place plus `base`. */
  readonly offsets: Uint32Array;
  readonly grids: Uint32Array;
  readonly uploads: readonly { buffer: GPUBuffer; data: Uint8Array }[];
  /** Per merged command buffer: the arena's words, written at byte `base` of the arena buffer. */
  readonly images: Uint32Array[];
  /** Where the images go in the arena buffer: past the part eager recording fills. */
  readonly base: number;
  /**
   * Whether an upload comes before the first merged command buffer's submit: then work queued
   * before the replay must be submitted first (it would otherwise run after the upload).
   */
  readonly leadingUpload: boolean;
  /** Per merged command buffer: triples as CaptureLog.patches's, word indices in the merged arena. */
  readonly patches: number[][];
}

/**
 * The plan of `log`: command buffers merged while their uniforms fit `arenaBytes` and their
 * dispatches `maxDispatches`, their images placed at byte `base` of the arena buffer.
 */
export function replayPlan(log: CaptureLog, base: number, arenaBytes: number, maxDispatches: number): ReplayPlan {
  const kinds: number[] = [];
  const offsets: number[] = [];
  const images: Uint32Array[] = [];
  const patches: number[][] = [];
  let parts: Uint32Array[] = [];
  let patch: number[] = [];
  let bytes = 0;
  let dispatches = 0;
  const close = () => {
    if (parts.length === 0) return;
    const image = new Uint32Array(bytes / 4);
    let at = 0;
    for (const part of parts) {
      image.set(part, at);
      at += part.length;
    }
    images.push(image);
    patches.push(patch);
    kinds.push(SUBMIT);
    parts = [];
    patch = [];
    bytes = 0;
    dispatches = 0;
  };
  let event = 0;
  let d = 0;
  for (let f = 0; f < log.images.length; f++) {
    // One captured command buffer: its events up to its submit.
    let end = event;
    let uploads = false;
    let count = 0;
    while (log.kinds[end] !== SUBMIT) {
      if (log.kinds[end] === UPLOAD) uploads = true;
      else count++;
      end++;
    }
    const image = log.images[f]!;
    if (uploads || bytes + image.byteLength > arenaBytes || dispatches + count > maxDispatches) close();
    const at = bytes;
    for (let i = event; i < end; i++) {
      kinds.push(log.kinds[i]!);
      if (log.kinds[i] === DISPATCH) offsets.push(base + at + log.offsets[d++]!);
    }
    const list = log.patches[f]!;
    for (let k = 0; k < list.length; k += 3) patch.push(at / 4 + list[k]!, list[k + 1]!, list[k + 2]!);
    parts.push(image);
    bytes += image.byteLength;
    dispatches += count;
    event = end + 1;
  }
  close();
  return {
    kinds: Uint8Array.from(kinds),
    pipelines: log.pipelines,
    groups: log.groups,
    offsets: Uint32Array.from(offsets),
    grids: Uint32Array.from(log.grids),
    uploads: log.uploads,
    images,
    patches,
    base,
    leadingUpload: kinds.indexOf(UPLOAD) !== -1 && kinds.indexOf(UPLOAD) < kinds.indexOf(SUBMIT),
  };
}

/**
 * A captured stretch of work: replay it with WebGPUBackend.replay. While it lives, the buffers
 * it used are pinned (a tensor freed in or after the capture does not give its buffer to another
 * tensor): dispose() when it is no longer replayed, and they go back to the pool.
 */
export class Recording {
  /** Dispatches a replay sends. */
  readonly dispatches: number;
  /** Dropout stream words a replay moves (streams the captured work drew). */
  readonly streamWords: number;
  /** Names of the words a replay recomputes (Uniforms.named: AdamW's learning-rate terms). */
  readonly names: readonly string[];
  /** The largest stream id captured (a replay checks that the moved ones stay below 2^32). */
  readonly maxStream: number;
  private released = false;

  constructor(
    readonly log: CaptureLog,
    readonly plan: ReplayPlan,
    private readonly unpin: (buffers: Iterable<GPUBuffer>) => void,
  ) {
    this.dispatches = log.pipelines.length;
    let words = 0;
    let max = 0;
    for (const list of log.patches) {
      for (let i = 0; i < list.length; i += 3) {
        if (list[i + 1] !== -1) continue;
        words++;
        max = Math.max(max, list[i + 2]!);
      }
    }
    this.streamWords = words;
    this.names = log.names;
    this.maxStream = max;
  }

  get isDisposed(): boolean {
    return this.released;
  }

  /** Unpins its buffers (idempotent). */
  dispose(): void {
    if (this.released) return;
    this.released = true;
    this.unpin(this.log.buffers);
  }
}
