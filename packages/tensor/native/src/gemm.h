/* The native kernels' C interface (gemm.c), used by the Node-API binding (addon.c). */
#ifndef MINI_GPT_GEMM_H
#define MINI_GPT_GEMM_H
#include <stdint.h>

enum { KIND_F32 = 0, KIND_F16 = 1, KIND_BF16 = 2 };

/*
 * One product C = A @ B [+ bias]. Strides in elements; A and C float32; B float32, float16 or
 * bfloat16 (bKind, the same codes as the WebAssembly kernels' wasm/half.ts); bias NULL or N floats.
 */
typedef struct {
  int64_t M, N, K;
  const float *a;
  int64_t aRow, aCol;
  const char *b;
  int64_t bRow, bCol;
  int bKind;
  float *c;
  int64_t ldc;
  const float *bias;
} gemm_args;

/* The instruction set the kernels use: "avx512", "avx2" or NULL (none usable: the caller falls back). */
const char *gemm_isa(void);
/* Picks "avx512" or "avx2" when this CPU has it; returns 0 when it does not. */
int gemm_set_isa(const char *name);
/* batch products, matrix p at a + p*aBatch, b + p*bBatch (elements), c + p*cBatch, on `threads` threads. */
void gemm_batched(const gemm_args *g, int64_t batch, int64_t aBatch, int64_t bBatch, int64_t cBatch, int threads);

#endif
