/*
 * Native matvec with block-quantized weights (q8_0, q4_0; packages/tensor/src/quantized.ts) for
 * decoding on the fast CPU backend. It computes what wasm/quant.ts quantMatvec computes, bit for
 * bit (the same exact integer block products, then the same float32 operations in the same
 * order), so a model decodes the same tokens with or without the addon, but on 256-bit vectors:
 * a block's 32 products are one instruction with AVX-512 VNNI (vpdpbusd on 256-bit registers)
 * or two with AVX2 (vpmaddubsw + vpmaddwd), where WebAssembly's 128-bit relaxed dot product
 * takes two to six. Decoding a quantized gpt2-xl is these products and the memory they read.
 * Threads claim rows a chunk at a time from a shared counter (as quantMatvecShared does), so a
 * thread that starts late takes fewer rows.
 */
/* The float32 steps must stay separate multiplies and adds where WebAssembly's are (row1's tail):
 * no contraction into fused multiply-adds beyond the explicit _mm_fmadd_ps. */
#pragma GCC optimize("fp-contract=off")
#include "qgemv.h"
#include "gemm.h"
#include "pool.h"
#include <stdlib.h>
#include <string.h>

#define Q8 0
#define ABLOCK QGEMV_ABLOCK
/*
 * Bytes ahead of each of the four rows in hand that rows4 asks the cache for, and into which
 * level. Into L2 (T1/T2: on Zen 4 a prefetch into L1 waits for one of L1's few miss buffers, so
 * at most ~10 GB/s a core come from memory that way) and 8 KB ahead: the development VM (Zen 4,
 * 2.6 GHz), scratch harness over 24 gpt2-xl layers' matrices in model order (415 MB of q4_0, 785
 * of q8_0: memory, not cache), best of 15 passes, a few alternations: 2 threads q8_0 19.7 ->
 * 29-34 GB/s, q4_0 19.3 -> 22.5-25 GB/s; 1 thread q8_0 12.1 -> 19 GB/s, q4_0 10.3 -> 13 GB/s
 * (against 4 KB into L1). 16 and 32 KB, and a second prefetch into L1 1-2 KB ahead, no better.
 */
#ifndef PREFETCH
#define PREFETCH 8192
#endif
#ifndef PREFETCH_HINT
#define PREFETCH_HINT _MM_HINT_T2
#endif

/* The q4_0 correction of one block: 8 * sum(q). */
static inline int32_t offset8(int format, const uint8_t *x) {
  int32_t v;
  if (format == Q8) return 0;
  memcpy(&v, x + 96, 4);
  return v;
}

/*
 * Per activation block, what every group of four rows applies alike, laid out four times over
 * so a 256-bit load gives two blocks' worth: d4[4b + r] = the block's scale, o4[4b + r] = its
 * q4_0 correction 8 * sum(q) (0 for q8_0). Made once a call (M * nb blocks, a few KB).
 */
typedef struct {
  float *d4;
  int32_t *o4;
} qgemv_pre;

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define ISA_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni")))
#define ISA_NAME(x) vnni_##x
#define DOT_U8S8(u, s) _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s)
#define DOT_ACC(acc, u, s) _mm256_dpbusd_epi32(acc, u, s)
#include "qgemv-isa.h"
#undef ISA_TARGET
#undef ISA_NAME
#undef DOT_U8S8
#undef DOT_ACC

/* |q| <= 127 and |w| <= 127 (q8_0) or w <= 15 (q4_0): a pair's sum stays below int16's limit. */
#define ISA_TARGET __attribute__((target("avx2,fma,f16c")))
#define ISA_NAME(x) avx2_##x
#define DOT_U8S8(u, s) _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1))
#define DOT_ACC(acc, u, s) _mm256_add_epi32(acc, DOT_U8S8(u, s))
#include "qgemv-isa.h"

typedef void (*rows_fn)(const qgemv_args *, const qgemv_pre *, int64_t, int64_t);

/* VNNI where the matmul runs AVX-512 and the CPU has it; AVX2 where the matmul runs AVX2. */
static rows_fn pick(const char **name) {
  const char *isa = gemm_isa();
  if (!isa) return NULL;
  if (strcmp(isa, "avx512") == 0 && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl")
      && __builtin_cpu_supports("avx512bw")) {
    *name = "avx512-vnni";
    return vnni_rows;
  }
  *name = "avx2";
  return avx2_rows;
}
#else
typedef void (*rows_fn)(const qgemv_args *, const qgemv_pre *, int64_t, int64_t);
static rows_fn pick(const char **name) { (void)name; return NULL; }
#endif

const char *qgemv_isa(void) {
  const char *name = NULL;
  return pick(&name) ? name : NULL;
}

typedef struct {
  const qgemv_args *g;
  const qgemv_pre *pre;
  rows_fn rows;
  int64_t chunk;
  int64_t next; /* the next unclaimed row, taken with an atomic add */
} qgemv_job;

static void qgemv_part(void *context, int part) {
  (void)part;
  qgemv_job *job = context;
  for (int64_t n0 = __atomic_fetch_add(&job->next, job->chunk, __ATOMIC_RELAXED); n0 < job->g->N;
       n0 = __atomic_fetch_add(&job->next, job->chunk, __ATOMIC_RELAXED)) {
    const int64_t count = job->g->N - n0 < job->chunk ? job->g->N - n0 : job->chunk;
    job->rows(job->g, job->pre, n0, count);
  }
}

int qgemv(const qgemv_args *g, int64_t chunk, int threads) {
  const char *name = NULL;
  const rows_fn rows = pick(&name);
  if (!rows || g->N == 0 || g->M == 0) return 0;
  const int64_t blocks = g->M * g->nb;
  float *d4 = malloc((size_t)blocks * 4 * (sizeof(float) + sizeof(int32_t)));
  if (!d4) return -1;
  qgemv_pre pre = { d4, (int32_t *)(d4 + blocks * 4) };
  for (int64_t i = 0; i < blocks; i++) {
    const int32_t o = offset8(g->format, g->aq + i * ABLOCK);
    for (int r = 0; r < 4; r++) pre.d4[4 * i + r] = g->ad[i], pre.o4[4 * i + r] = o;
  }
  qgemv_job job = { g, &pre, rows, chunk < 4 ? 4 : (chunk + 3) / 4 * 4, 0 };
  pool_run(threads < 1 ? 1 : threads, qgemv_part, &job);
  free(d4);
  return 0;
}
