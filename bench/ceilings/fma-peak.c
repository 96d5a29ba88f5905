/*
 * This CPU's fused multiply-add ceiling per core, native: independent FMA chains (more than
 * latency x units, so the units never wait) on 256-bit (AVX2+FMA) and 512-bit (AVX-512)
 * vectors, one thread, timed in this thread's CPU time (a loaded machine shares its cores:
 * wall time would measure the other processes). Prints "avx2 <GFLOP/s>" and "avx512 <GFLOP/s>" for the sets this CPU has.
 * Built and run by bench/ceilings.mjs with the system compiler (no -march: target attributes).
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Twelve named accumulators (an array may be kept on the stack), each its own dependency chain. */
#define CHAINS 12
#define EACH(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define PEAK(NAME, TARGET, VEC, SET1, FMA, ADD, LANES, REDUCE)                                  \
  static TARGET double NAME(long iterations, float *sink) {                                        \
    VEC x = SET1(0.9999999f), y = SET1(1e-7f);                                                      \
    EACH(DECLARE)                                                                                   \
    const double start = now();                                                                     \
    for (long i = 0; i < iterations; i++) {                                                         \
      EACH(STEP)                                                                                    \
    }                                                                                               \
    const double seconds = now() - start;                                                           \
    VEC s = acc0;                                                                                   \
    EACH(SUM)                                                                                       \
    *sink = REDUCE(s);                                                                              \
    return 2.0 * LANES * CHAINS * iterations / seconds / 1e9;                                       \
  }
#define DECLARE(c) __typeof__(x) acc##c = ADD_OP(x, SET1_OP(0.01f * c));
#define STEP(c) acc##c = FMA_OP(acc##c, x, y);
#define SUM(c) s = ADD_OP(s, acc##c);

static __attribute__((target("avx2"))) float reduce8(__m256 v) {
  float out[8];
  _mm256_storeu_ps(out, v);
  return out[0] + out[7];
}
#define FMA_OP _mm256_fmadd_ps
#define SET1_OP _mm256_set1_ps
#define ADD_OP _mm256_add_ps
PEAK(peak_avx2, __attribute__((target("avx2,fma"))), __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, 8, reduce8)
#undef FMA_OP
#undef ADD_OP
#undef SET1_OP
#define SET1_OP _mm512_set1_ps
#define FMA_OP _mm512_fmadd_ps
#define ADD_OP _mm512_add_ps
PEAK(peak_avx512, __attribute__((target("avx512f"))), __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, 16, _mm512_reduce_add_ps)

int main(void) {
  float sink = 0;
  __builtin_cpu_init();
  const long iterations = 40000000;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    peak_avx2(iterations / 10, &sink);
    printf("avx2 %.2f\n", peak_avx2(iterations, &sink));
  }
  if (__builtin_cpu_supports("avx512f")) {
    peak_avx512(iterations / 10, &sink);
    printf("avx512 %.2f\n", peak_avx512(iterations, &sink));
  }
  return sink == 12345.0f;
}
