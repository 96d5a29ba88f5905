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
#include <string.h>

#define Q8 0
#define ABLOCK QGEMV_ABLOCK
/*
 * Bytes ahead of each of the four rows in hand that rows4 asks the cache for. Measured on the
 * development VM (Zen 4; 50,257 x 1,600 weights, 2 threads, 3 alternations): q8_0 18-19 GB/s
 * without, 22-24 with 4,096 (8,192 and 16,384 no better); q4_0 14-15 -> 26-29 GB/s.
 */
#define PREFETCH 4096

/* The q4_0 correction of one block: 8 * sum(q). */
static inline int32_t offset8(int format, const uint8_t *x) {
  int32_t v;
  if (format == Q8) return 0;
  memcpy(&v, x + 96, 4);
  return v;
}

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define ISA_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni")))
#define ISA_NAME(x) vnni_##x
#define DOT_U8S8(u, s) _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s)
#include "qgemv-isa.h"
#undef ISA_TARGET
#undef ISA_NAME
#undef DOT_U8S8

/* |q| <= 127 and |w| <= 127 (q8_0) or w <= 15 (q4_0): a pair's sum stays below int16's limit. */
#define ISA_TARGET __attribute__((target("avx2,fma,f16c")))
#define ISA_NAME(x) avx2_##x
#define DOT_U8S8(u, s) _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1))
#include "qgemv-isa.h"

typedef void (*rows_fn)(const qgemv_args *, int64_t, int64_t);

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
typedef void (*rows_fn)(const qgemv_args *, int64_t, int64_t);
static rows_fn pick(const char **name) { (void)name; return NULL; }
#endif

const char *qgemv_isa(void) {
  const char *name = NULL;
  return pick(&name) ? name : NULL;
}

typedef struct {
  const qgemv_args *g;
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
    job->rows(job->g, n0, count);
  }
}

void qgemv(const qgemv_args *g, int64_t chunk, int threads) {
  const char *name = NULL;
  const rows_fn rows = pick(&name);
  if (!rows || g->N == 0 || g->M == 0) return;
  qgemv_job job = { g, rows, chunk < 4 ? 4 : (chunk + 3) / 4 * 4, 0 };
  pool_run(threads < 1 ? 1 : threads, qgemv_part, &job);
}
