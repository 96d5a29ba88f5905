// The entry of the WebAssembly module the fast CPU backend runs (scripts/build-wasm.mjs builds
// it twice: plain SIMD 128, and relaxed SIMD). One module, so one instance per thread serves
// every kernel over the shared memory.
export { sgemm, sgemmSmallM } from './sgemm';
export { adamw } from './adamw';
export { dropout } from './dropout';
export { uniformFill } from './random';
export { gelu, geluBackward } from './gelu';
export { widenHalf, narrowHalf } from './half';
export { softmaxRows, softmaxBackwardRows } from './softmax';
export { attentionBlocks, attentionBackwardHeads } from './attention';
export { logSumExpRows, softmaxScaledRows } from './cross-entropy';
export { layerNormRows, layerNormBackwardRows } from './layernorm';
export { sumMiddle } from './reduce';
export { copyStrided } from './copy';
export { binaryArith, scalarArith } from './arith';
export { gatherRows, scatterAddColumns } from './embedding';
export { quantizeActivations, quantMatvec, quantMatvecShared, quantDecodeRows, relaxedDotProbe } from './quant';
