/** Messages between the page (main.ts) and the worker that runs the library (worker.ts). */
import type { GenerateOptions, LossRecord, PresetName, TrainRecipe } from '@mini/gpt';

export type { DeviceChoice } from '@mini/tensor';
import type { DeviceChoice } from '@mini/tensor';

/** The Train view's settings: a preset, the model overrides and the book's training settings. */
export interface TrainSettings extends TrainRecipe {
  preset: PresetName;
}

export type Request =
  | { type: 'init'; device: DeviceChoice }
  | { type: 'train'; text: string; settings: TrainSettings }
  | { type: 'continue'; epochs: number }
  | { type: 'stop' }
  | { type: 'load'; config: Blob; configName: string; model: Blob; modelName: string }
  | { type: 'loadUrl'; url: string }
  | { type: 'generate'; prompt: string; options: GenerateOptions }
  | { type: 'save' };

export interface DeviceReport {
  kind: string; // 'cpu' or 'webgpu' (a device kind: @mini/tensor's kinds are open)
  description: string;
  /** CPU: threads the kernels may use (1 when the page is not cross-origin isolated). */
  threads: number;
  crossOriginIsolated: boolean;
  /** What navigator.gpu offered: an adapter's description, or why there is none. */
  webgpu: string;
  /** A sentence for the user (why this device was picked, what is limited). */
  note: string;
}

export interface ModelReport {
  source: string;
  parameters: number;
  contextLength: number;
  layers: number;
  embedDim: number;
  /** Whether Continue can resume it (a model trained in this page, with its optimizer). */
  trainable: boolean;
}

export type Reply =
  | { type: 'device'; device: DeviceReport }
  | { type: 'model'; model: ModelReport }
  | { type: 'trainStart'; epochs: number; stepsPerEpoch: number; trainTokens: number; validationTokens: number }
  | {
      type: 'step';
      epoch: number;
      epochs: number;
      step: number;
      totalSteps: number;
      loss: number;
      tokensSeen: number;
      tokensPerSecond: number;
      etaSeconds: number;
    }
  | { type: 'eval'; record: LossRecord; chart: string }
  | { type: 'sample'; epoch: number; text: string }
  | {
      type: 'trainEnd';
      stopped: boolean;
      steps: number;
      tokensSeen: number;
      epoch: number;
      epochs: number;
      seconds: number;
      tokensPerSecond: number;
      cpuThreads: number;
    }
  | { type: 'text'; text: string }
  | { type: 'generated'; tokens: number; seconds: number; stopped: boolean }
  | { type: 'saved'; model: Blob; config: string }
  | { type: 'error'; message: string }
  | { type: 'idle' };
