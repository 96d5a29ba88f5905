/**
 * @mini/gpt: the chapter-5 workflow of "Build a Large Language Model (From Scratch)" as a
 * library: GPT-2 model, data pipeline, pretraining loop, decoding and GPT-2 weights.
 * This entry point is for Node (checkpoints use the file system, in node/); the other modules
 * are portable.
 */
export { type GPTConfig, type PresetName, presets, BOOK_CONFIG_OVERRIDES, resolveConfig, parameterCount, ConfigError } from './config.js';
export { GPTModel, ModelError, type DropoutState, type ForwardOptions } from './model.js';
export { parameterShapes } from './parameters.js';
export { type InitScheme, initialParameters } from './init.js';
export { KVCache } from './kv-cache.js';
export { textToIds, idsToText, END_OF_TEXT, END_OF_TEXT_ID } from './tokenizer.js';
export { splitText, SlidingWindowDataset, DataLoader, createDataLoader, type LoaderOptions, type Batch } from './data.js';
export { batchLoss, loaderLoss, perplexity, type LoaderLossOptions } from './loss.js';
export { AdamW, type AdamWOptions, type ScheduleOptions, learningRate, clipGradNorm } from './optimizer.js';
export { trainModel, evaluate, initialTrainState, NonFiniteLossError, type TrainOptions, type TrainState, type TrainEvents, type LossRecord, type TrainPhase, type TrainTimes } from './train.js';
export { generate, generateTokens, generateText, sampleNext, validateGenerateOptions, type GenerateOptions } from './generate.js';
export { SafetensorsError, readHeader, readTensor, writeSafetensors, bytesSource, MAX_HEADER_BYTES, type ByteSource, type ByteSink, type TensorEntry, type SafetensorsHeader, type TensorToWrite } from './safetensors.js';
export { toHFConfig, fromHFConfig, loadHFModel, saveHFModel } from './hf.js';
export { fileSource, writeFileAtomic, writeTextAtomic } from './node/files.js';
export { saveCheckpoint, loadCheckpoint, saveModel, loadModel, CheckpointError, type LoadedCheckpoint } from './node/checkpoint.js';
export { lossPlotSvg, lossesCsv } from './plot.js';
export { downloadFile, downloadModel, modelRepository, GPT2_REPOSITORIES, DownloadError, type GPT2Name, type DownloadProgress, type ModelDownloadOptions, type DownloadedModel } from './node/download.js';
export { hubSettings, hubCacheDir, describeEndpoint, HubError, type HubSettings } from './node/hub.js';
export { MODEL_FILES, repoFolder, cachedCommit, cachedSnapshot, scanModelCache, removeCachedModel, type CachedModel, type CachedRevision } from './node/hub-cache.js';
