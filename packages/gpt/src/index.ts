/**
 * @mini/gpt: the chapter-5 workflow of "Build a Large Language Model (From Scratch)" as a
 * library: GPT-2 model, data pipeline, pretraining loop, decoding and GPT-2 weights.
 * Portable: nothing reachable from here imports a Node built-in (test/gpt/portable.test.ts
 * bundles it for the browser to prove it). Files, checkpoint folders and downloads are in
 * '@mini/gpt/node'; a page reads checkpoints through blobSource and fetchSource.
 *
 * @module @mini/gpt
 */
export {
  type GPTConfig,
  type PresetName,
  presets,
  BOOK_CONFIG_OVERRIDES,
  resolveConfig,
  mlpWidth,
  parameterCount,
  ConfigError,
} from './config.js';
export {
  GPTModel,
  ModelError,
  type DropoutState,
  type ForwardOptions,
  type RandomStream,
  defaultRandomStream,
  isQuantizedParameter,
  quantizedShape,
} from './model.js';
export { parameterShapes } from './parameters.js';
export { decodeTextFile, TextFileError } from './text.js';
export { weightBytes, admitMemory, formatGB, MemoryError } from './memory.js';
export { type InitScheme, initialParameters, torchInitialParameters, torchLinearBound } from './init.js';
export { type RunSeeds, runSeeds } from './seeds.js';
export { KVCache } from './kv-cache.js';
export {
  textToIds,
  textToIdsAsync,
  idsToText,
  END_OF_TEXT,
  END_OF_TEXT_ID,
  TOKENIZER_VOCAB_SIZE,
  TokenDecoder,
  encodeOrdinary,
} from './tokenizer.js';
export {
  splitText,
  SlidingWindowDataset,
  DataLoader,
  createDataLoader,
  type LoaderOptions,
  type Batch,
  type WindowDataset,
} from './data.js';
export { batchLoss, batchLosses, loaderLoss, meanLoss, perplexity, type LoaderLossOptions } from './loss.js';
export {
  AdamW,
  type AdamWOptions,
  type ScheduleOptions,
  learningRate,
  checkSchedule,
  clipGradNorm,
} from './optimizer.js';
export type { TrainRecipe } from './recipe.js';
export {
  prepareTrainingRun,
  textTrainingData,
  textTrainingDataAsync,
  type TrainingData,
  type TrainingRun,
  type TrainingRunOptions,
  type SavedRun,
  type WindowOptions,
} from './training-run.js';
export {
  trainModel,
  evaluate,
  initialTrainState,
  NonFiniteLossError,
  stepsPerEpoch,
  type TrainOptions,
  type TrainState,
  type TrainEvents,
  type LossRecord,
  type TrainPhase,
  type TrainTimes,
} from './train.js';
export { StepCapture, type StepCaptureCounts } from './step-capture.js';
export {
  generate,
  generateTokens,
  generateText,
  sampleNext,
  DEVICE_TOP_K_MAX,
  validateGenerateOptions,
  DEFAULT_GENERATE_OPTIONS,
  NonFiniteLogitsError,
  type GenerateOptions,
} from './generate.js';
export {
  SafetensorsError,
  readHeader,
  readTensor,
  writeSafetensors,
  bytesSource,
  MAX_HEADER_BYTES,
  type ByteSource,
  type ByteSink,
  type TensorEntry,
  type SafetensorsHeader,
  type TensorToWrite,
} from './safetensors.js';
export {
  toHFConfig,
  fromHFConfig,
  matchHFTensors,
  inspectHFModel,
  loadHFModel,
  saveHFModel,
  type HFTensor,
  type LoadOptions,
} from './hf.js';
export {
  QUANT_METADATA_KEY,
  QUANT_LAYOUT_KEY,
  QUANT_LAYOUT,
  QWEIGHT,
  QSCALE,
  fileQuantFormat,
  quantizedModelBytes,
  quantizeModel,
  loadQuantizedTensor,
  saveQuantizedModel,
} from './quantize.js';
export { blobSource, fetchSource, ByteSourceError, type FetchSourceOptions } from './sources.js';
export { lossPlotSvg, lossesCsv, type LossPlotOptions } from './plot.js';
export { parseJsonStrict } from './json.js';
export {
  type WeightDType,
  type WeightDTypeChoice,
  type DTypeChoice,
  type QuantDType,
  type ModelDType,
  quantDTypes,
  modelDTypes,
  isQuantDType,
  quantFormatOf,
  quantDTypeOf,
  bytesPerParameter,
  weightDTypes,
  storageDType,
  chooseWeightDType,
  assertFloat32Weights,
  convertModel,
} from './weight-dtype.js';
