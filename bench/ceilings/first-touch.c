/*
 * What a page fault costs: the rate at which fresh anonymous memory takes its first write
 * (512 MiB, memset), with 4 kB pages and with transparent huge pages asked for (madvise
 * MADV_HUGEPAGE, as the native addon asks over large heap tensors). Loading a model writes
 * every weight into fresh heap memory once, so this bounds the load where reading the file from
 * the page cache is faster. Prints "4k GB/s" and "2m GB/s" lines, best of argv[1] passes
 * (default 3), alternated. Linux only. Built and run by bench/ceilings.mjs.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define BYTES (512L << 20)

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* GB/s of the first write over fresh memory; `huge` asks for 2 MB pages first. -1 when mmap fails. */
static double first_touch(int huge) {
  char *p = mmap(NULL, BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return -1;
#ifdef MADV_HUGEPAGE
  if (huge) madvise(p, BYTES, MADV_HUGEPAGE);
#endif
  const double start = now();
  memset(p, 1, BYTES);
  const double rate = BYTES / 1e9 / (now() - start);
  munmap(p, BYTES);
  return rate;
}

int main(int argc, char **argv) {
  const int passes = argc > 1 ? atoi(argv[1]) : 3;
  double best[2] = { 0, 0 };
  for (int i = 0; i < passes; i++)
    for (int huge = 0; huge < 2; huge++) {
      const double r = first_touch(huge);
      if (r > best[huge]) best[huge] = r;
    }
  printf("4k %.3f\n2m %.3f\n", best[0], best[1]);
  return 0;
}
