/* The quantized matvec's C interface (qgemv.c), used by the Node-API binding (addon.c). */
#ifndef MINI_GPT_QGEMV_H
#define MINI_GPT_QGEMV_H
#include <stdint.h>

/*
 * c[m, n] (row stride ldc) = sum over K's nb blocks of 32 of W row n's scale * a row m's scale *
 * the blocks' integer product, + bias[n], for m < M, n < N: wasm/quant.ts quantMatvec's
 * arguments and result, bit for bit. format 0 q8_0 (32 bytes a block), 1 q4_0 (16); aq / ad
 * from wasm quantizeActivations with rdot 1 (128 bytes and one float32 a block); ws: N x nb
 * float16 scales; bias NULL or N floats.
 */
typedef struct {
  int format;
  int64_t M, N, nb;
  const uint8_t *aq;
  const float *ad;
  const uint8_t *w;
  const uint16_t *ws;
  float *c;
  int64_t ldc;
  const float *bias;
} qgemv_args;

/* Bytes of one quantized activation block. */
#define QGEMV_ABLOCK 128

/* "avx512-vnni", "avx2" or NULL (no usable instructions: the caller keeps WebAssembly). Follows gemm_set_isa. */
const char *qgemv_isa(void);
/* The product on `threads` threads, each claiming `chunk` rows (a multiple of 4) at a time: 0, or -1 out of memory. */
int qgemv(const qgemv_args *g, int64_t chunk, int threads);

#endif
