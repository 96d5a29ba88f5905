/*
 * The native quantized matvec (packages/tensor/native/src/qgemv.c) streaming gpt2-xl's block
 * matrices from memory in the model's order: L layers of qkv 4800 x 1600, proj 1600 x 1600,
 * fc 6400 x 1600 and fc_proj 1600 x 6400, one activation row, rows claimed as the addon claims
 * them (about 16 chunks a thread). Prints the best of 15 passes as GB/s of weights and scales
 * read. What docs/quantized-weights.md's prefetch figures came from; build and run:
 *
 *   S=packages/tensor/native/src
 *   cc -O3 -std=gnu11 -fno-strict-aliasing -I$S -o /tmp/qgemv-stream bench/ceilings/qgemv-stream.c \
 *     $S/qgemv.c $S/pool.c $S/gemm.c -lpthread -lm
 *   /tmp/qgemv-stream FORMAT LAYERS THREADS     (FORMAT 0 q8_0, 1 q4_0; e.g. 1 24 2)
 *
 * 24 layers are 415 MB of q4_0 or 785 MB of q8_0: memory, not cache; 1 layer fits in L3.
 */
#include "gemm.h"
#include "qgemv.h"
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: qgemv-stream FORMAT(0 q8_0, 1 q4_0) LAYERS THREADS\n");
    return 2;
  }
  const int format = atoi(argv[1]), L = atoi(argv[2]), threads = atoi(argv[3]);
  const int shapes[4][2] = {{4800, 1600}, {1600, 1600}, {6400, 1600}, {1600, 6400}};
  const int bb = format == 0 ? 32 : 16;
  if ((format != 0 && format != 1) || L < 1 || L > 64 || threads < 1 || !qgemv_isa()) {
    fprintf(stderr, "qgemv-stream: FORMAT 0 or 1, LAYERS 1..64, THREADS >= 1, and a CPU with AVX2 or AVX-512\n");
    return 2;
  }
  size_t total = 0;
  for (int s = 0; s < 4; s++) total += (size_t)shapes[s][0] * (shapes[s][1] / 32) * (bb + 2);
  total *= L;
  /* Shared anonymous memory in 4 KB pages, as the WebAssembly heap the addon reads. */
  uint8_t *heap = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (heap == MAP_FAILED) return 1;
  for (size_t i = 0; i < total; i++) heap[i] = (uint8_t)((i * 2654435761u) >> 24) & (format ? 0xff : 0x7f);
  static uint8_t aq[200 * QGEMV_ABLOCK] __attribute__((aligned(64)));
  static float ad[200], c[6400];
  for (int i = 0; i < 200 * QGEMV_ABLOCK; i++) aq[i] = (uint8_t)(i * 7);
  for (int i = 0; i < 200; i++) ad[i] = 0.01f;
  qgemv_args g[4 * 64];
  size_t at = 0;
  for (int l = 0; l < L; l++)
    for (int s = 0; s < 4; s++) {
      const int N = shapes[s][0], nb = shapes[s][1] / 32;
      qgemv_args *q = &g[l * 4 + s];
      q->format = format, q->M = 1, q->N = N, q->nb = nb, q->aq = aq, q->ad = ad;
      q->w = heap + at;
      at += (size_t)N * nb * bb;
      q->ws = (uint16_t *)(heap + at);
      for (size_t k = 0; k < (size_t)N * nb; k++) ((uint16_t *)(heap + at))[k] = 0x2000; /* float16 2^-7 */
      at += (size_t)N * nb * 2;
      q->c = c, q->ldc = N, q->bias = NULL;
    }
  double best = 1e9;
  for (int pass = 0; pass < 15; pass++) {
    const double t = now();
    for (int i = 0; i < 4 * L; i++) {
      /* the addon's claim size (cpu-fast/matmul-quantized.ts sharedChunk) */
      int64_t chunk = (g[i].N + 16 * threads - 1) / (16 * threads);
      chunk = (chunk + 3) / 4 * 4;
      if (chunk > 256) chunk = 256;
      if (qgemv(&g[i], chunk, threads) != 0) return 1;
    }
    const double s = now() - t;
    if (s < best) best = s;
  }
  printf("%s %s, %d layers (%.0f MB), %d threads: best of 15 %.2f ms, %.1f GB/s\n", qgemv_isa(),
         format ? "q4_0" : "q8_0", L, total / 1e6, threads, best * 1e3, total / best / 1e9);
  return 0;
}
