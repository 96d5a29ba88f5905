/**
 * The page: three views (Train, Generate, Device) over one worker that runs the library
 * (worker.ts). This file only reads forms, sends requests and shows replies; no model code
 * runs on the main thread, so the page stays responsive while the worker computes.
 */
import verdict from '../../cli/data/the-verdict.txt?raw';
import { decodeTextFile } from '@mini/gpt/text';
import { pickCheckpoint, filesFromDrop, type PickedFile } from './files.js';
import type { DeviceChoice, Reply, Request, TrainSettings } from './protocol.js';

const $ = <E extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as E;
const input = (id: string) => $<HTMLInputElement>(id);
const button = (id: string) => $<HTMLButtonElement>(id);

// ---- Views: an ARIA tab list (arrow keys move between tabs) ----
const tabs = ['train', 'generate', 'device'].map((name) => ({ tab: button(`tab-${name}`), view: $(`view-${name}`) }));
function selectTab(index: number): void {
  tabs.forEach(({ tab, view }, i) => {
    tab.setAttribute('aria-selected', String(i === index));
    tab.tabIndex = i === index ? 0 : -1;
    view.hidden = i !== index;
  });
}
tabs.forEach(({ tab }, i) => {
  tab.addEventListener('click', () => selectTab(i));
  tab.addEventListener('keydown', (e) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    const next = (i + step + tabs.length) % tabs.length;
    selectTab(next);
    tabs[next]!.tab.focus();
  });
});

// ---- Errors: one readable line, dismissable; the page keeps working ----
function showError(message: string): void {
  $('error-text').textContent = message;
  $('error').hidden = false;
}
function clearError(): void {
  $('error').hidden = true;
}
button('error-close').addEventListener('click', clearError);
window.addEventListener('error', (e) => showError(e.message));
window.addEventListener('unhandledrejection', (e) => showError(String((e.reason as Error)?.message ?? e.reason)));

// ---- The worker and what it is doing ----
type Task = Request['type'] | null;
let task: Task = null;
let hasModel = false;
let canContinue = false;
let modelLine = 'No model yet: train one, or open a checkpoint.';

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'mini-gpt' });
worker.addEventListener('error', (e) => {
  showError(`the worker failed: ${e.message || 'it could not start (see the browser console)'}`);
  task = null;
  render();
});

function send(request: Request): void {
  if (request.type !== 'stop') {
    clearError();
    task = request.type;
  }
  worker.postMessage(request);
  render();
}

/** Buttons follow the state: one task at a time, Stop only while something runs. */
function render(): void {
  const idle = task === null;
  button('start').disabled = !idle;
  button('continue').disabled = !idle || !canContinue;
  button('stop-train').disabled = task !== 'train' && task !== 'continue';
  button('generate').disabled = !idle || !hasModel;
  button('stop-generate').disabled = task !== 'generate';
  for (const id of ['save-train', 'save-generate']) button(id).disabled = !idle || !hasModel;
  button('load-url').disabled = !idle;
  for (const id of ['open-files', 'open-folder']) input(id).disabled = !idle;
  $<HTMLSelectElement>('device-choice').disabled = !idle;
  document.body.dataset.task = task ?? 'idle';
}

// ---- Train view ----
/** The book's chapter-5 run (the CLI's defaults); the preset stays the user's choice. */
const BOOK: Omit<TrainSettings, 'preset'> = {
  contextLength: 256,
  dropout: 0.1,
  qkvBias: false,
  tiedHead: false,
  epochs: 10,
  batchSize: 2,
  lr: 0.0004,
  weightDecay: 0.1,
  evalFreq: 5,
  evalIter: 5,
  trainRatio: 0.9,
  seed: 123,
  startContext: 'Every effort moves you',
  sampleTokens: 50,
};
const booleanKeys = ['qkvBias', 'tiedHead'] as const;
const textKeys = ['startContext'] as const;

function applySettings(settings: Partial<TrainSettings>): void {
  for (const [key, value] of Object.entries(settings)) {
    const el = $<HTMLInputElement | HTMLSelectElement>(key);
    if (el instanceof HTMLInputElement && el.type === 'checkbox') el.checked = Boolean(value);
    else el.value = String(value);
  }
}

function readSettings(): TrainSettings {
  const out: Record<string, unknown> = { preset: $<HTMLSelectElement>('preset').value };
  for (const key of Object.keys(BOOK) as (keyof typeof BOOK)[]) {
    const el = input(key);
    if ((booleanKeys as readonly string[]).includes(key)) out[key] = el.checked;
    else if ((textKeys as readonly string[]).includes(key)) out[key] = el.value;
    else {
      if (!el.checkValidity() || el.value.trim() === '')
        throw new Error(`${el.labels?.[0]?.textContent?.trim() ?? key}: ${el.validationMessage || 'enter a number'}`);
      out[key] = Number(el.value);
    }
  }
  // Tokens between window starts, as train --stride: empty is the context length.
  const stride = input('stride');
  if (stride.value.trim() !== '') {
    if (!stride.checkValidity()) throw new Error(`Stride: ${stride.validationMessage || 'enter a number'}`);
    out.stride = Number(stride.value);
  }
  return out as unknown as TrainSettings;
}

const text = $<HTMLTextAreaElement>('text');
function showTextInfo(): void {
  $('text-info').textContent = `(${text.value.length.toLocaleString('en-US')} characters)`;
}
text.value = verdict;
showTextInfo();
text.addEventListener('input', showTextInfo);
async function takeTextFile(file: File | undefined): Promise<void> {
  if (!file) return;
  // The CLI's check (UTF-8, no NUL byte): a picture chosen as the text is refused, not trained on.
  try {
    text.value = decodeTextFile(new Uint8Array(await file.arrayBuffer()), file.name);
  } catch (error) {
    showError((error as Error).message);
    return;
  }
  showTextInfo();
}
input('text-file').addEventListener('change', () => void takeTextFile(input('text-file').files?.[0]));
text.addEventListener('dragover', (e) => e.preventDefault());
text.addEventListener('drop', (e) => {
  if (!e.dataTransfer?.files.length) return; // dropped text is inserted by the browser
  e.preventDefault();
  void takeTextFile(e.dataTransfer.files[0]);
});

applySettings({ preset: 'tiny', ...BOOK });
button('book-settings').addEventListener('click', () => {
  applySettings(BOOK);
  input('stride').value = ''; // the book's windows do not overlap
});

const formatNumber = (n: number) => n.toLocaleString('en-US');
function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '–';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m} min ${Math.round(s % 60)} s` : `${s.toFixed(s < 10 ? 1 : 0)} s`;
}

function resetTrainView(): void {
  $('chart').innerHTML = '';
  $('chart').setAttribute('aria-label', 'Training and validation loss: no evaluation yet');
  $('eval-line').textContent = 'Training and validation loss appear here as the run evaluates.';
  $('samples').replaceChildren();
  $('train-summary').textContent = '';
  for (const id of ['epoch', 'step', 'tokens', 'loss', 'rate', 'eta']) $(`stat-${id}`).textContent = '–';
  $<HTMLProgressElement>('train-progress').value = 0;
}

$('train-form').addEventListener('submit', (e) => {
  e.preventDefault();
  try {
    const settings = readSettings();
    resetTrainView();
    send({ type: 'train', text: text.value, settings });
  } catch (error) {
    showError((error as Error).message);
  }
});
button('stop-train').addEventListener('click', () => send({ type: 'stop' }));
button('continue').addEventListener('click', () => send({ type: 'continue', epochs: Number(input('epochs').value) }));

// ---- Generate view ----
function generateOptions() {
  const optional = (id: string) => (input(id).value.trim() === '' ? undefined : Number(input(id).value));
  return {
    maxNewTokens: Number(input('maxNewTokens').value),
    temperature: Number(input('temperature').value),
    topK: optional('topK'),
    topP: optional('topP'),
    seed: Number(input('gen-seed').value),
    eosId: 50256, // stop at <|endoftext|>, as the CLI does
  };
}

$('generate-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const prompt = $<HTMLTextAreaElement>('prompt').value;
  const output = $('output');
  output.replaceChildren(Object.assign(document.createElement('strong'), { textContent: prompt }));
  $('generate-stats').textContent = '';
  send({ type: 'generate', prompt, options: generateOptions() });
});
button('stop-generate').addEventListener('click', () => send({ type: 'stop' }));

function loadFiles(files: PickedFile[]): void {
  try {
    const { model, config } = pickCheckpoint(files);
    $('model-status').textContent = `Loading ${model.path}…`;
    send({ type: 'load', model: model.file, modelName: model.path, config: config.file, configName: config.path });
  } catch (error) {
    showError((error as Error).message);
  }
}
for (const id of ['open-files', 'open-folder']) {
  const el = input(id);
  el.addEventListener('change', () => {
    loadFiles([...(el.files ?? [])].map((file) => ({ file, path: file.webkitRelativePath || file.name })));
    el.value = ''; // the same files can be picked again
  });
}
const dropZone = $('drop-model');
dropZone.addEventListener('dragover', (e) => {
  e.preventDefault();
  dropZone.classList.add('over');
});
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('over'));
dropZone.addEventListener('drop', (e) => {
  e.preventDefault();
  dropZone.classList.remove('over');
  if (e.dataTransfer) filesFromDrop(e.dataTransfer).then(loadFiles, (error: Error) => showError(error.message));
});
$('url-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const url = input('model-url').value.trim();
  if (!url)
    return showError('enter the URL of a model.safetensors file or of a folder with model.safetensors and config.json');
  $('model-status').textContent = `Loading ${url}…`;
  send({ type: 'loadUrl', url });
});

for (const id of ['save-train', 'save-generate']) button(id).addEventListener('click', () => send({ type: 'save' }));

function download(blob: Blob, name: string): void {
  const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(blob), download: name });
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}

// ---- Device view ----
const deviceChoice = $<HTMLSelectElement>('device-choice');
const requested = new URLSearchParams(location.search).get('device');
// The menu's options are the choices (DeviceChoice); an unknown ?device= keeps the default.
if ([...deviceChoice.options].some((o) => o.value === requested)) deviceChoice.value = requested!;
deviceChoice.addEventListener('change', () => {
  $('device-status').textContent = 'Switching device…';
  send({ type: 'init', device: deviceChoice.value as DeviceChoice });
});

// ---- Replies ----
worker.addEventListener('message', ({ data }: MessageEvent<Reply>) => {
  switch (data.type) {
    case 'device': {
      const d = data.device;
      const summary =
        d.kind === 'webgpu'
          ? `WebGPU: ${d.description}`
          : `CPU (WebAssembly), ${d.threads} thread${d.threads === 1 ? '' : 's'}`;
      $('device-status').textContent = `Device: ${summary}`;
      // The adapter line: which GPU runs the kernels (vendor / architecture / description).
      $('adapter').textContent = d.adapter ? `Adapter: ${d.adapter}` : 'Adapter: none (CPU device)';
      document.body.dataset.device = d.kind;
      const rows: [string, string][] = [
        ['Device', d.kind === 'webgpu' ? 'WebGPU' : 'CPU (WebAssembly SIMD)'],
        ['Description', d.description],
        ['CPU threads', d.kind === 'cpu' ? String(d.threads) : 'not used (WebGPU)'],
        [
          'Cross-origin isolated',
          d.crossOriginIsolated ? 'yes (SharedArrayBuffer available)' : 'no (single-threaded CPU kernels)',
        ],
        ['WebGPU adapter', d.webgpu],
      ];
      $('device-info').replaceChildren(
        ...rows.map(([term, value]) => {
          const row = document.createElement('div');
          row.append(
            Object.assign(document.createElement('dt'), { textContent: term }),
            Object.assign(document.createElement('dd'), { textContent: value }),
          );
          return row;
        }),
      );
      $('device-note').textContent = d.note;
      break;
    }
    case 'model': {
      const m = data.model;
      hasModel = true;
      canContinue = m.trainable;
      modelLine = `${m.source}: ${formatNumber(m.parameters)} parameters, ${m.layers} layers, ${m.embedDim} wide, context ${m.contextLength}`;
      $('model-status').textContent = modelLine;
      break;
    }
    case 'trainStart':
      $('train-summary').textContent =
        `${formatNumber(data.trainTokens)} training tokens, ${formatNumber(data.validationTokens)} validation tokens, ${data.stepsPerEpoch} steps per epoch`;
      break;
    case 'step':
      $('stat-epoch').textContent = `${data.epoch} / ${data.epochs}`;
      $('stat-step').textContent = `${data.step + 1} / ${data.totalSteps}`;
      $('stat-tokens').textContent = formatNumber(data.tokensSeen);
      $('stat-loss').textContent = data.loss.toFixed(3);
      $('stat-rate').textContent = formatNumber(Math.round(data.tokensPerSecond));
      $('stat-eta').textContent = formatSeconds(data.etaSeconds);
      $<HTMLProgressElement>('train-progress').value = (data.step + 1) / data.totalSteps;
      break;
    case 'eval': {
      const r = data.record;
      const line = `Ep ${r.epoch} (Step ${String(r.step).padStart(6, '0')}): Train loss ${r.trainLoss.toFixed(3)}, Val loss ${r.valLoss.toFixed(3)}`;
      $('chart').innerHTML = data.chart; // SVG made by lossPlotSvg (numbers and fixed labels only)
      $('chart').setAttribute('aria-label', `Training and validation loss chart. Last point: ${line}`);
      $('eval-line').textContent = line;
      break;
    }
    case 'sample':
      $('samples').append(
        Object.assign(document.createElement('li'), { textContent: `Epoch ${data.epoch}: ${data.text}` }),
      );
      break;
    case 'trainEnd':
      canContinue = true;
      $('train-summary').textContent =
        `${data.stopped ? 'Stopped' : 'Done'}: ${data.steps} steps, ${formatNumber(data.tokensSeen)} tokens seen, ${formatSeconds(data.seconds)} this session, ${formatNumber(Math.round(data.tokensPerSecond))} tokens/s${data.cpuThreads ? ` on ${data.cpuThreads} CPU thread${data.cpuThreads === 1 ? '' : 's'}` : ''}.` +
        (data.stopped ? ' Continue resumes the run.' : ' Raise Epochs and Continue to train on.');
      break;
    case 'text':
      $('output').append(data.text);
      // Live decoding speed, as the training view's tokens/s.
      $('generate-stats').textContent =
        `${data.tokens} tokens, ${(data.tokens / Math.max(data.seconds, 1e-9)).toFixed(1)} tokens/s so far`;
      break;
    case 'generated':
      $('generate-stats').textContent =
        `${data.tokens} tokens in ${formatSeconds(data.seconds)} (${(data.tokens / Math.max(data.seconds, 1e-9)).toFixed(1)} tokens/s)${data.stopped ? ', stopped' : ''}`;
      break;
    case 'saved':
      download(data.model, 'model.safetensors');
      download(new Blob([data.config], { type: 'application/json' }), 'config.json');
      break;
    case 'error':
      showError(data.message);
      if (task === 'load' || task === 'loadUrl') $('model-status').textContent = modelLine;
      break;
    case 'idle':
      task = null;
      break;
  }
  render();
});

render();
send({ type: 'init', device: deviceChoice.value as DeviceChoice });
