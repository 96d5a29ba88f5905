/* A small persistent thread pool (pool.c): the caller runs part 0, workers the others. */
#ifndef MINI_GPT_POOL_H
#define MINI_GPT_POOL_H

typedef void (*pool_task)(void *context, int part);

/* Runs task(context, p) for p in [0, parts) on parts threads (workers started on first use); returns when all are done. */
void pool_run(int parts, pool_task task, void *context);

#endif
