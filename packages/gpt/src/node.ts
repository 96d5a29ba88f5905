/**
 * The Node entry point of @mini/gpt: everything in index.ts, plus what needs the file system
 * or Node's crypto: file byte sources and atomic writes, checkpoint folders, downloads.
 *
 * @module @mini/gpt/node
 */
export * from './index.js';
export {
  FileError,
  brokenLink,
  fileProblem,
  fileSource,
  makeDirs,
  regularFileSize,
  writeFileAtomic,
  writeTextAtomic,
} from './node/files.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  readCheckpointSummary,
  type CheckpointSummary,
  removeUnfinishedSaves,
  saveModel,
  loadModel,
  admitWeights,
  loadConfig,
  inspectModel,
  resolveWeightDType,
  CheckpointError,
  type LoadedCheckpoint,
  type LoadModelOptions,
} from './node/checkpoint.js';
export { availableMemory } from './node/memory.js';
export {
  downloadFile,
  downloadModel,
  modelRepository,
  GPT2_REPOSITORIES,
  DownloadError,
  type GPT2Name,
  type DownloadProgress,
  type ModelDownloadOptions,
  type DownloadedModel,
} from './node/download.js';
export { inspectHubModel, type HubModelSummary } from './node/hub-inspect.js';
export { hubSettings, hubCacheDir, describeEndpoint, HubError, type HubSettings } from './node/hub.js';
export {
  MODEL_FILES,
  repoFolder,
  cachedCommit,
  cachedSnapshot,
  scanModelCache,
  removeCachedModel,
  type CachedModel,
  type CachedRevision,
} from './node/hub-cache.js';
export {
  SHARD_MAGIC,
  SHARD_VERSION,
  SHARD_HEADER_BYTES,
  ShardError,
  ShardWriter,
  ShardDataset,
  shardHeader,
  readShardHeader,
  shardFiles,
} from './node/shards.js';
export {
  prepareCorpus,
  expandInputs,
  safeCut,
  type PrepareOptions,
  type PrepareProgress,
  type CorpusManifest,
} from './node/prepare.js';
export {
  readTrainingSource,
  openTrainingData,
  TrainingDataError,
  SHARD_TEXT_BYTES,
  type TrainingSource,
  type TrainingSourceOptions,
  type OpenTrainingDataOptions,
} from './node/training-data.js';
