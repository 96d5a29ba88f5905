/**
 * @mini/tensor: tensors, their ops, and the backends that run them (CPU reference, WebGPU).
 * Portable: nothing here imports Node modules. Node programs import '@mini/tensor/node',
 * which also registers Dawn (the `webgpu` package) as the WebGPU provider.
 *
 * @module @mini/tensor
 */
export type {
  Backend,
  BackendStorage,
  CaptureRecording,
  View,
  Kernels,
  UnaryOp,
  BinaryOp,
  ReduceOp,
  AdamWEntry,
  AdamWStep,
  DropoutMask,
  MatmulArgs,
  QuantMatmulArgs,
  MatrixOperand,
  LayerNormArgs,
  LayerNormBackwardArgs,
  GatherArgs,
  ScatterAddArgs,
  CrossEntropyArgs,
  CrossEntropyBackwardArgs,
  AttentionArgs,
  AttentionBackwardArgs,
} from './backend.js';
export { unaryOps, binaryOps, reduceOps } from './backend.js';
export {
  unaryOpTable,
  binaryOpTable,
  type UnaryDef,
  type BinaryDef,
  type ElementwiseOps,
  type DifferentiableUnaryOp,
  type DifferentiableBinaryOp,
} from './elementwise-ops.js';
export {
  type DType,
  type HalfDType,
  type TypedArray,
  bytesPerElement,
  dtypes,
  isHalf as isHalfDType,
  narrowToHalf,
  widenHalf,
} from './dtype.js';
export {
  MiniGptError,
  ShapeError,
  DTypeError,
  DeviceError,
  DisposedError,
  ValueError,
  AllocationError,
  describeValue,
} from './errors.js';
export {
  EnvironmentError,
  decimalNumber,
  environmentChoice,
  environmentCount,
  environmentValue,
  cpuHeapChoices,
  type CpuHeapChoice,
  cpuHeapSetting,
  webgpuBackends,
  webgpuBackendSetting,
  webgpuSubgroupsSetting,
  webgpuCaptureSetting,
  deviceSetting,
  threadsSetting,
  nativeSetting,
} from './environment.js';
export { type Shape, sizeOf, broadcastShapes, contiguousStrides, shapesEqual } from './shape.js';
export { Generator, manualSeed, defaultGenerator, threefry2x32, foldIn } from './random.js';
export { TorchGenerator, type TorchGeneratorState } from './torch-random.js';
export {
  Device,
  type DeviceInfo,
  type DeviceKind,
  type AdapterLimits,
  type DeviceChoice,
  deviceChoices,
  parseDeviceChoice,
} from './device.js';
export { cpu, fastCpu, getDefaultDevice, setDefaultDevice } from './defaults.js';
export { FastCpuBackend, createFastCpuBackend } from './cpu-fast/backend.js';
export type { WasmRuntimeOptions } from './cpu-fast/wasm-runtime.js';
export { type NativeKernels, type NativeStatus, nativeStatus, setNativeKernels } from './cpu-fast/native.js';
export { setParallelRunnerFactory } from './cpu-fast/threads.js';
export { tidy, keep } from './memory.js';
export { Tensor, empty, emptyLike, fromTypedArray, hostData } from './tensor.js';
export * from './ops/creation.js';
export * from './ops/elementwise.js';
export * from './ops/matmul.js';
export * from './ops/matmul-quantized.js';
export {
  type QuantFormat,
  quantFormats,
  QUANT_BLOCK,
  QuantizedTensor,
  blockBytes,
  blocksPerRow,
  quantizedBytes,
  quantizeRows,
  encodeBlock,
  dequantizeRows,
  emptyQuantized,
  quantizedHost,
  quantizedFromHost,
  quantizeMatrix,
} from './quantized.js';
export * from './ops/reduce.js';
export * from './ops/softmax.js';
export * from './ops/top-k.js';
export * from './ops/attention.js';
export * from './ops/decode.js';
export * from './ops/layernorm.js';
export * from './ops/embedding.js';
export * from './ops/cross-entropy.js';
export * from './ops/dropout.js';
export * from './ops/adamw.js';
export { adamwWord } from './webgpu/adamw.js';
export {
  getDevice,
  registerDeviceKind,
  type DeviceOpener,
  type DeviceRequest,
  setGPUProvider,
  type GPUProvider,
} from './select-device.js';
export {
  MATMUL_PROFILES,
  type MatmulProfile,
  type MatmulTile,
  matmulProfileFor,
  tileCols,
  tileRows,
} from './webgpu/matmul-tiles.js';
