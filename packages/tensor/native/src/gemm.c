/*
 * Native single-precision GEMM for the fast CPU backend: AVX-512 or AVX2+FMA micro-kernels
 * (gemm-isa.h, compiled once per instruction set with target attributes and chosen at run
 * time, so a build on one x86-64 CPU runs on any other), split over a persistent thread pool.
 * B may be float16 (widened with F16C's vcvtph2ps) or bfloat16 (a 16-bit shift): decoding a
 * 16-bit model then reads half the bytes, and decoding is bound by those bytes.
 */
#include "gemm.h"
#include "pool.h"
#include <stdlib.h>
#include <string.h>

/* M up to this runs the unpacked small-M kernels (decoding's matvec, a few rows). */
#define SMALL_M 4
#define GEMV_STRIP 8192
#define KC 256
#define NC 1024
/* Below this many multiply-adds a product runs on one thread: waking workers costs more. */
#define PARALLEL_MIN_WORK (1 << 20)

static int element_bytes(int kind) { return kind == KIND_F32 ? 4 : 2; }

/* float16 bits -> float32, subnormals, infinities and NaN included (the reference: src/dtype.ts). */
static float half_to_float(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  const uint32_t em = h & 0x7fff;
  uint32_t bits;
  if (em >= 0x7c00) bits = sign | 0x7f800000 | ((em & 0x3ff) << 13);
  else {
    float f;
    uint32_t shifted = em << 13;
    memcpy(&f, &shifted, 4);
    f *= 5.192296858534828e33f; /* 2^112 rebiases the exponent; float16 subnormals become normal float32 */
    memcpy(&bits, &f, 4);
    bits |= sign;
  }
  float out;
  memcpy(&out, &bits, 4);
  return out;
}

/* B's element e (an element index) as float32. */
static inline float read_b(const gemm_args *g, int64_t e) {
  if (g->bKind == KIND_F32) return ((const float *)g->b)[e];
  const uint16_t h = ((const uint16_t *)g->b)[e];
  if (g->bKind == KIND_F16) return half_to_float(h);
  const uint32_t bits = (uint32_t)h << 16;
  float out;
  memcpy(&out, &bits, 4);
  return out;
}

static void fill_bias(const gemm_args *g) {
  for (int64_t i = 0; i < g->M; i++) for (int64_t j = 0; j < g->N; j++) g->c[i * g->ldc + j] = g->bias ? g->bias[j] : 0.0f;
}

/* Per-thread packing buffers, kept between calls and grown when a call needs more. */
static float *scratch(float **buffer, size_t *size, size_t floats) {
  if (*size < floats) {
    free(*buffer);
    *buffer = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
    if (!*buffer) abort(); /* a few MB; a process that cannot get them cannot go on either */
    *size = floats;
  }
  return *buffer;
}
static _Thread_local float *buffer_a, *buffer_b;
static _Thread_local size_t size_a, size_b;
static float *scratch_a(size_t floats) { return scratch(&buffer_a, &size_a, floats); }
static float *scratch_b(size_t floats) { return scratch(&buffer_b, &size_b, floats); }

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

/* 8 consecutive B elements at p (float32 or 16-bit) as floats. */
static __attribute__((target("avx2,fma,f16c"))) inline __m256 load8(const char *p, int kind) {
  if (kind == KIND_F16) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
  if (kind == KIND_BF16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
  return _mm256_loadu_ps((const float *)p);
}

/*
 * Packs 8 columns of a column-major B (bRow == 1: a transposed weight, each column contiguous
 * in k) by 8 x 8 register transposes: out[k * stride + c] = B(k0 + k, j0 + c), c < 8, for the
 * first kc / 8 * 8 rows; returns how many rows it packed (the caller packs the rest).
 */
static __attribute__((target("avx2,fma,f16c"))) int64_t pack_columns8(const gemm_args *g, int64_t k0, int64_t kc, int64_t j0, float *out, int64_t stride) {
  const int size = g->bKind == KIND_F32 ? 4 : 2;
  const char *col[8];
  for (int c = 0; c < 8; c++) col[c] = g->b + size * ((j0 + c) * g->bCol + k0);
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    __m256 r0 = load8(col[0] + size * k, g->bKind), r1 = load8(col[1] + size * k, g->bKind);
    __m256 r2 = load8(col[2] + size * k, g->bKind), r3 = load8(col[3] + size * k, g->bKind);
    __m256 r4 = load8(col[4] + size * k, g->bKind), r5 = load8(col[5] + size * k, g->bKind);
    __m256 r6 = load8(col[6] + size * k, g->bKind), r7 = load8(col[7] + size * k, g->bKind);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
    float *o = out + k * stride;
    _mm256_storeu_ps(o + 0 * stride, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(o + 1 * stride, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(o + 2 * stride, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(o + 3 * stride, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(o + 4 * stride, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(o + 5 * stride, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(o + 6 * stride, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(o + 7 * stride, _mm256_permute2f128_ps(u3, u7, 0x31));
  }
  return k;
}

/* AVX-512: 32 vector registers hold a 12 x 32 tile (24 accumulators, 2 of B, 1 broadcast). */
#define ISA_TARGET __attribute__((target("avx512f,fma,f16c")))
#define ISA_NAME(x) avx512_##x
#define VEC __m512
#define VLEN 16
#define MR 12
#define NR 32
#define MC (MR * 12)
#define ZERO() _mm512_setzero_ps()
#define SET1(x) _mm512_set1_ps(x)
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define ADD(a, b) _mm512_add_ps(a, b)
#define LOAD_F32(p) _mm512_loadu_ps((const float *)(p))
#define STORE(p, v) _mm512_storeu_ps(p, v)
#define LOAD_F16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))
#define LOAD_BF16(p) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(p))), 16))
#define HSUM(v) _mm512_reduce_add_ps(v)
#include "gemm-isa.h"
#undef ISA_TARGET
#undef ISA_NAME
#undef VEC
#undef VLEN
#undef MR
#undef NR
#undef MC
#undef ZERO
#undef SET1
#undef FMA
#undef ADD
#undef LOAD_F32
#undef STORE
#undef LOAD_F16
#undef LOAD_BF16
#undef HSUM

/* AVX2 + FMA: 16 registers hold a 6 x 16 tile (12 accumulators, 2 of B, 1 broadcast). */
#define ISA_TARGET __attribute__((target("avx2,fma,f16c")))
#define ISA_NAME(x) avx2_##x
#define VEC __m256
#define VLEN 8
#define MR 6
#define NR 16
#define MC (MR * 24)
#define ZERO() _mm256_setzero_ps()
#define SET1(x) _mm256_set1_ps(x)
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define ADD(a, b) _mm256_add_ps(a, b)
#define LOAD_F32(p) _mm256_loadu_ps((const float *)(p))
#define STORE(p, v) _mm256_storeu_ps(p, v)
#define LOAD_F16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#define LOAD_BF16(p) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p))), 16))
static __attribute__((target("avx2,fma,f16c"))) inline float avx2_hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
#define HSUM(v) avx2_hsum(v)
#include "gemm-isa.h"

typedef void (*gemm_fn)(const gemm_args *);
static gemm_fn kernel = NULL;
static const char *kernel_isa = NULL;

int gemm_set_isa(const char *name) {
  __builtin_cpu_init();
  const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  if (strcmp(name, "avx512") == 0 && avx2 && __builtin_cpu_supports("avx512f")) { kernel = avx512_gemm; kernel_isa = "avx512"; return 1; }
  if (strcmp(name, "avx2") == 0 && avx2) { kernel = avx2_gemm; kernel_isa = "avx2"; return 1; }
  return 0;
}

const char *gemm_isa(void) {
  if (!kernel && !gemm_set_isa("avx512")) gemm_set_isa("avx2");
  return kernel_isa;
}
#else
/* No x86-64 kernels here: gemm_isa() says none, and the caller keeps the WebAssembly kernels. */
typedef void (*gemm_fn)(const gemm_args *);
static gemm_fn kernel = NULL;
int gemm_set_isa(const char *name) { (void)name; return 0; }
const char *gemm_isa(void) { return NULL; }
#endif

/* A batched product split into `parts` pieces by rows (many rows) or by columns. */
typedef struct {
  gemm_args g;
  int64_t batch, aBatch, bBatch, cBatch;
  int parts, byRows;
  int64_t step;
} gemm_job;

static void gemm_part(void *context, int part) {
  const gemm_job *job = context;
  const int64_t extent = job->byRows ? job->g.M : job->g.N;
  const int64_t start = part * job->step;
  if (start >= extent) return;
  const int64_t size = extent - start < job->step ? extent - start : job->step;
  const int bytes = element_bytes(job->g.bKind);
  for (int64_t p = 0; p < job->batch; p++) {
    gemm_args g = job->g;
    g.a += p * job->aBatch;
    g.b += bytes * p * job->bBatch;
    g.c += p * job->cBatch;
    if (job->byRows) {
      g.M = size;
      g.a += start * g.aRow;
      g.c += start * g.ldc;
    } else {
      g.N = size;
      g.b += bytes * start * g.bCol;
      g.c += start;
      if (g.bias) g.bias += start;
    }
    kernel(&g);
  }
}

void gemm_batched(const gemm_args *g, int64_t batch, int64_t aBatch, int64_t bBatch, int64_t cBatch, int threads) {
  if (!gemm_isa() || batch == 0) return;
  const double work = (double)g->M * g->N * g->K;
  if (threads < 1 || work < PARALLEL_MIN_WORK) threads = 1;
  gemm_job job = { *g, batch, aBatch, bBatch, cBatch, threads, g->M >= 32 * threads, 0 };
  const int64_t extent = job.byRows ? g->M : g->N;
  /* Parts start at multiples of 32: whole micro-tiles (and whole vectors in the small-M kernels). */
  job.step = (extent + threads - 1) / threads;
  job.step = (job.step + 31) / 32 * 32;
  pool_run(threads, gemm_part, &job);
}
