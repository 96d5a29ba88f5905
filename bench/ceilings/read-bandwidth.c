/*
 * The memory read bandwidth that bounds decoding (every weight is read once per token): 1 GiB
 * (far past the caches) summed with 256-bit loads by 1, then 2, ... up to argv[1] threads, each
 * its own contiguous part, best of 5 passes; prints "threads GB/s" lines (wall time: run it
 * on a quiet machine). Built and run by bench/ceilings.mjs.
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BYTES (1L << 30)
static float *data;
typedef struct { long first, count; float sum; } part;

static __attribute__((target("avx2"))) void *sum_part(void *arg) {
  part *p = arg;
  __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a;
  const float *x = data + p->first;
  for (long i = 0; i + 32 <= p->count; i += 32) {
    a = _mm256_add_ps(a, _mm256_load_ps(x + i));
    b = _mm256_add_ps(b, _mm256_load_ps(x + i + 8));
    c = _mm256_add_ps(c, _mm256_load_ps(x + i + 16));
    d = _mm256_add_ps(d, _mm256_load_ps(x + i + 24));
  }
  float out[8];
  _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d)));
  p->sum = out[0] + out[7];
  return NULL;
}

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(int argc, char **argv) {
  const int most = argc > 1 ? atoi(argv[1]) : 2;
  data = aligned_alloc(64, BYTES);
  if (!data) return 1;
  memset(data, 0, BYTES); /* touch every page first */
  const long floats = BYTES / 4;
  float sink = 0;
  for (int threads = 1; threads <= most; threads++) {
    double best = 1e9;
    for (int pass = 0; pass < 5; pass++) {
      pthread_t id[64];
      part parts[64];
      const double t = now();
      for (int i = 0; i < threads; i++) {
        parts[i].first = floats / threads * i / 32 * 32;
        parts[i].count = (i == threads - 1 ? floats : floats / threads * (i + 1) / 32 * 32) - parts[i].first;
        pthread_create(&id[i], NULL, sum_part, &parts[i]);
      }
      for (int i = 0; i < threads; i++) { pthread_join(id[i], NULL); sink += parts[i].sum; }
      const double s = now() - t;
      if (s < best) best = s;
    }
    printf("%d %.2f\n", threads, BYTES / best / 1e9);
  }
  return sink == 12345.0f; /* keeps the sums alive */
}
