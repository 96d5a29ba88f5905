/*
 * The native kernels' threads: started once and kept (unlike a thread per call, which costs
 * tens of microseconds each). A job is published under a mutex with a new generation number;
 * workers sleep on a condition variable between jobs, so an idle process spends no CPU.
 * Only one job runs at a time (the mutex `busy`): the kernels are called from one JS thread.
 * Decoding calls the pool a few hundred times a token for matvecs of tens of microseconds
 * each, and a futex wake-up costs about as much: so a worker that finished a job, and the caller
 * waiting for the workers, first watch the generation (or the count of parts left) for up to
 * SPIN_NS before sleeping. An idle process still spends no CPU after that.
 */
#include "pool.h"
#include <pthread.h>
#include <time.h>
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define PAUSE() _mm_pause()
#else
#define PAUSE() ((void)0)
#endif

#define MAX_THREADS 256
/* How long a thread watches for the next job (or the last part) before it sleeps. */
#define SPIN_NS 200000

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Waits up to SPIN_NS for *word to differ from `from` (no lock: the caller rechecks under it). */
static void spin_while(const volatile unsigned *word, unsigned from) {
  const long long end = now_ns() + SPIN_NS;
  for (int i = 0; __atomic_load_n(word, __ATOMIC_ACQUIRE) == from; i++) {
    PAUSE();
    if ((i & 63) == 63 && now_ns() > end) return;
  }
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t busy = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static int started = 0;
static unsigned generation = 0;
static int job_parts = 0;
static unsigned remaining = 0;
static pool_task job_task;
static void *job_context;

static void *worker(void *arg) {
  const int part = (int)(long)arg;
  unsigned seen = 0;
  pthread_mutex_lock(&lock);
  for (;;) {
    if (generation == seen) {
      pthread_mutex_unlock(&lock);
      spin_while(&generation, seen);
      pthread_mutex_lock(&lock);
    }
    while (generation == seen) pthread_cond_wait(&wake, &lock);
    seen = generation;
    if (part >= job_parts) continue;
    pool_task task = job_task;
    void *context = job_context;
    pthread_mutex_unlock(&lock);
    task(context, part);
    pthread_mutex_lock(&lock);
    if (__atomic_sub_fetch(&remaining, 1, __ATOMIC_RELEASE) == 0) pthread_cond_signal(&done);
  }
  return 0;
}

void pool_run(int parts, pool_task task, void *context) {
  if (parts > MAX_THREADS) parts = MAX_THREADS;
  if (parts <= 1) { task(context, 0); return; }
  pthread_mutex_lock(&busy);
  pthread_mutex_lock(&lock);
  while (started < parts - 1) {
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    // Worker `started + 1` runs part started + 1 (the caller runs part 0).
    if (pthread_create(&thread, &attr, worker, (void *)(long)(started + 1)) != 0) { pthread_attr_destroy(&attr); break; }
    pthread_attr_destroy(&attr);
    started++;
  }
  // Parts without a worker (one failed to start) run on the caller after part 0.
  const int workers = parts - 1 < started ? parts - 1 : started;
  job_parts = workers + 1;
  job_task = task;
  job_context = context;
  remaining = workers;
  __atomic_add_fetch(&generation, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&lock);
  task(context, 0);
  for (int part = workers + 1; part < parts; part++) task(context, part);
  if (__atomic_load_n(&remaining, __ATOMIC_ACQUIRE) > 0) {
    const long long end = now_ns() + SPIN_NS;
    for (int i = 0; __atomic_load_n(&remaining, __ATOMIC_ACQUIRE) > 0; i++) {
      PAUSE();
      if ((i & 63) == 63 && now_ns() > end) break;
    }
  }
  pthread_mutex_lock(&lock);
  while (remaining > 0) pthread_cond_wait(&done, &lock);
  pthread_mutex_unlock(&lock);
  pthread_mutex_unlock(&busy);
}
