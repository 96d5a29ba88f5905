/**
 * The worker that runs the library, so the page never freezes: training, loading, generating
 * and saving all happen here, on WebGPU (navigator.gpu) or the WebAssembly CPU backend, whose
 * kernels may block this thread (Atomics.wait) while their Web Workers run parts of a kernel.
 * One request at a time; Stop is read between steps and tokens, when the loop yields.
 */
import * as G from '@mini/gpt';
import * as T from '@mini/tensor/web';
import type { DeviceChoice, DeviceReport, Reply, Request, TrainSettings } from './protocol.js';

interface Run {
  settings: TrainSettings;
  optimizer: G.AdamW;
  trainLoader: G.DataLoader;
  valLoader: G.DataLoader;
  state: G.TrainState;
}

let device: T.Device | null = null;
let model: G.GPTModel | null = null;
let modelSource = '';
let run: Run | null = null;
let busy = false;
let stopRequested = false;

const post = (reply: Reply) => (self as unknown as { postMessage(message: Reply): void }).postMessage(reply);

/** Lets queued messages (Stop) and worker start-ups run: one turn of the event loop. */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

async function describeWebGPU(): Promise<string> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu)
    return globalThis.isSecureContext
      ? 'not offered by this browser'
      : 'not offered: the page is not a secure context (use https or localhost)';
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return 'navigator.gpu gave no adapter';
  const info = adapter.info;
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
  return `${name}${info.isFallbackAdapter ? ' (software fallback)' : ''}`;
}

async function openDevice(choice: DeviceChoice): Promise<DeviceReport> {
  const webgpu = await describeWebGPU();
  try {
    device = await T.getDevice(choice);
  } catch (e) {
    // The library's hint names Node packages; here the browser decides.
    if (e instanceof T.DeviceError && choice === 'webgpu')
      throw new Error(`no WebGPU adapter in this browser (${webgpu}): choose Auto or CPU`);
    throw e;
  }
  const isolated = globalThis.crossOriginIsolated === true;
  const threads = device.kind === 'cpu' && T.webThreadsAvailable() ? navigator.hardwareConcurrency : 1;
  let note: string;
  if (device.kind === 'webgpu') note = 'Kernels run as WGSL compute shaders on the WebGPU adapter.';
  else if (!isolated)
    note =
      'The page is not cross-origin isolated (no COOP/COEP headers), so there is no SharedArrayBuffer: the CPU kernels run on one thread.';
  else
    note = `The CPU kernels run on ${threads} thread${threads === 1 ? '' : 's'} (this worker and ${threads - 1} Web Worker${threads === 2 ? '' : 's'}).`;
  if (choice === 'auto' && device.kind === 'cpu' && webgpu.includes('software')) {
    note +=
      ' Auto skips software WebGPU adapters, which are slower than the CPU backend; choose WebGPU to use it anyway.';
  }
  return {
    kind: device.kind,
    description: device.info.description,
    threads,
    crossOriginIsolated: isolated,
    webgpu,
    adapter:
      device.kind === 'webgpu'
        ? [device.info.vendor || '?', device.info.architecture || '?', device.info.description].join(' / ')
        : '',
    note,
  };
}

function reportModel(trainable: boolean): void {
  const c = model!.config;
  post({
    type: 'model',
    model: {
      source: modelSource,
      parameters: G.parameterCount(c),
      contextLength: c.contextLength,
      layers: c.nLayers,
      embedDim: c.embedDim,
      trainable,
    },
  });
}

function replaceModel(next: G.GPTModel | null, source: string): void {
  run?.optimizer.dispose();
  run = null;
  model?.dispose();
  model = next;
  modelSource = source;
}

/** model.safetensors in memory (chunks as they are written). */
async function modelBytes(m: G.GPTModel): Promise<Blob> {
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  await G.saveHFModel(
    {
      write: async (bytes) => {
        chunks.push(bytes.slice());
      },
    },
    m,
  );
  return new Blob(chunks, { type: 'application/octet-stream' });
}

/** Opens the device; a model moves over through its safetensors bytes (the optimizer's state does not). */
async function init(choice: DeviceChoice): Promise<void> {
  const previous = device;
  post({ type: 'device', device: await openDevice(choice) }); // on failure the old device and model stay
  if (model && device !== previous) {
    const source = modelSource;
    replaceModel(await G.loadHFModel(G.blobSource(await modelBytes(model), source), model.config, device!), source);
    reportModel(false);
  }
}

/** Threads the CPU kernels run on now (Web Workers join once started), 0 on WebGPU. */
function cpuThreads(): number {
  return device?.backend instanceof T.FastCpuBackend ? (device.backend.runtime().runner?.threads ?? 1) : 0;
}

function need<T>(value: T | null, what: string): T {
  if (value === null) throw new Error(what);
  return value;
}

async function train(text: string, s: TrainSettings): Promise<void> {
  const dev = need(device, 'no device yet');
  const config = G.resolveConfig(s.preset, {
    contextLength: s.contextLength,
    dropRate: s.dropout,
    qkvBias: s.qkvBias,
    tiedHead: s.tiedHead,
  });
  if (!text.trim()) throw new Error('the training text is empty: paste or drop a text');
  // The set-up the CLI's train shares (@mini/gpt's prepareTrainingRun), --stride included.
  const data = G.textTrainingData(text, {
    trainRatio: s.trainRatio,
    maxLength: config.contextLength,
    stride: s.stride,
  });
  const prepared = G.prepareTrainingRun({
    config,
    data,
    batchSize: s.batchSize,
    seed: s.seed,
    device: dev,
    lr: s.lr,
    weightDecay: s.weightDecay,
    check: ({ trainLoader, valLoader }) => {
      const windowTokens = `${s.batchSize} x ${config.contextLength} tokens`;
      if (trainLoader.length === 0)
        throw new Error(
          `the training split is too short for one batch of ${windowTokens}: use a longer text, a smaller context length or batch size`,
        );
      if (valLoader.length === 0)
        throw new Error(
          `the validation split is too short for one window of ${config.contextLength} tokens: use a longer text, a lower train ratio or a smaller context length`,
        );
    },
  });
  replaceModel(prepared.model, `trained here (${s.preset})`);
  run = {
    settings: s,
    optimizer: prepared.optimizer,
    trainLoader: prepared.trainLoader,
    valLoader: prepared.valLoader,
    state: prepared.state,
  };
  reportModel(false);
  post({
    type: 'trainStart',
    epochs: s.epochs,
    stepsPerEpoch: prepared.trainLoader.length,
    trainTokens: data.tokens.train,
    validationTokens: data.tokens.validation,
  });
  await resume();
}

async function resume(): Promise<void> {
  const r = need(run, 'nothing to continue: start a run first');
  const m = model!;
  const s = r.settings;
  const totalSteps = s.epochs * r.trainLoader.length;
  const started = performance.now();
  const startTokens = r.state.tokensSeen;
  const startSteps = r.state.steps;
  let tokensPerSecond = 0;
  const history = [...r.state.history]; // the chart's points (trainModel keeps its own copy)
  const result = await G.trainModel(
    m,
    r.optimizer,
    r.trainLoader,
    r.valLoader,
    {
      epochs: s.epochs,
      evalFreq: s.evalFreq,
      evalIter: s.evalIter,
      startContext: s.startContext,
      sampleTokens: s.sampleTokens,
      schedule: { lr: s.lr, totalSteps },
      shouldStop: async () => {
        await yieldToEvents();
        return stopRequested;
      },
    },
    {
      onStep: (info) => {
        const seconds = (performance.now() - started) / 1000;
        tokensPerSecond = (info.tokensSeen - startTokens) / seconds;
        const stepsDone = info.step + 1 - startSteps;
        post({
          type: 'step',
          epoch: info.epoch,
          epochs: s.epochs,
          step: info.step,
          totalSteps,
          loss: info.loss,
          tokensSeen: info.tokensSeen,
          tokensPerSecond,
          etaSeconds: (totalSteps - info.step - 1) * (seconds / stepsDone),
        });
      },
      onEval: (record) => {
        history.push(record);
        post({
          type: 'eval',
          record,
          chart: G.lossPlotSvg(history, { epochs: s.epochs, stepsPerEpoch: r.trainLoader.length }),
        });
      },
      onSample: (sample) => post({ type: 'sample', ...sample }),
      onEpochEnd: (state) => {
        r.state = state;
      },
    },
    r.state,
  );
  r.state = result.state;
  const seconds = (performance.now() - started) / 1000;
  post({
    type: 'trainEnd',
    stopped: result.stopped,
    steps: r.state.steps,
    tokensSeen: r.state.tokensSeen,
    epoch: r.state.epoch,
    epochs: s.epochs,
    seconds,
    tokensPerSecond,
    cpuThreads: cpuThreads(),
  });
  reportModel(true);
}

async function load(configText: string, configName: string, source: G.ByteSource): Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(configText);
  } catch (e) {
    throw new Error(`${configName}: not valid JSON (${(e as Error).message})`);
  }
  const config = G.fromHFConfig(json, configName);
  replaceModel(await G.loadHFModel(source, config, need(device, 'no device yet')), source.name);
  reportModel(false);
}

/** A URL of model.safetensors (config.json beside it) or of a folder holding both. */
async function loadUrl(url: string): Promise<void> {
  const base = new URL(url, self.location.href);
  const modelUrl = base.pathname.endsWith('.safetensors')
    ? base
    : new URL('model.safetensors', base.href.endsWith('/') ? base : `${base.href}/`);
  const configUrl = new URL('config.json', modelUrl);
  let response: Response;
  try {
    response = await fetch(configUrl);
  } catch (e) {
    throw new Error(`${configUrl.href}: ${(e as Error).message}`);
  }
  if (!response.ok)
    throw new Error(
      `${configUrl.href}: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`,
    );
  await load(await response.text(), configUrl.href, await G.fetchSource(modelUrl.href));
}

async function generate(prompt: string, options: G.GenerateOptions): Promise<void> {
  const m = need(model, 'no model: train one or open a checkpoint first');
  G.validateGenerateOptions(options);
  const started = performance.now();
  // Decoded token by token (a character spanning tokens is sent once whole).
  const decoder = new G.TokenDecoder();
  let tokens = 0;
  let stopped = false;
  for await (const id of G.generateTokens(m, G.textToIds(prompt), options)) {
    tokens++;
    const text = decoder.push(id);
    if (text) post({ type: 'text', text, tokens, seconds: (performance.now() - started) / 1000 });
    await yieldToEvents();
    if (stopRequested) {
      stopped = true;
      break;
    }
  }
  const rest = decoder.end();
  if (rest) post({ type: 'text', text: rest, tokens, seconds: (performance.now() - started) / 1000 });
  post({ type: 'generated', tokens, seconds: (performance.now() - started) / 1000, stopped });
}

async function handle(request: Request): Promise<void> {
  switch (request.type) {
    case 'init':
      return init(request.device);
    case 'train':
      return train(request.text, request.settings);
    case 'continue': {
      const r = need(run, 'nothing to continue: start a run first');
      if (request.epochs <= r.state.epoch)
        throw new Error(
          `the run has done its ${r.state.epoch} epoch${r.state.epoch === 1 ? '' : 's'}: raise Epochs to continue it`,
        );
      r.settings = { ...r.settings, epochs: request.epochs };
      return resume();
    }
    case 'load':
      return load(await request.config.text(), request.configName, G.blobSource(request.model, request.modelName));
    case 'loadUrl':
      return loadUrl(request.url);
    case 'generate':
      return generate(request.prompt, request.options);
    case 'save': {
      const m = need(model, 'no model to save: train one or open a checkpoint first');
      post({
        type: 'saved',
        model: await modelBytes(m),
        config: `${JSON.stringify(G.toHFConfig(m.config), null, 2)}\n`,
      });
      return;
    }
    case 'stop':
      return;
  }
}

self.onmessage = async ({ data }: MessageEvent<Request>) => {
  if (data.type === 'stop') {
    stopRequested = true;
    return;
  }
  if (busy) {
    post({ type: 'error', message: `busy: wait for the current task to finish (or stop it) before "${data.type}"` });
    return;
  }
  busy = true;
  stopRequested = false;
  try {
    await handle(data);
  } catch (e) {
    post({ type: 'error', message: (e as Error).message || String(e) });
  } finally {
    busy = false;
    post({ type: 'idle' });
  }
};

self.addEventListener('unhandledrejection', (event) =>
  post({
    type: 'error',
    message: String((event as PromiseRejectionEvent).reason?.message ?? (event as PromiseRejectionEvent).reason),
  }),
);
