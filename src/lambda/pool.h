/* The host side's view of a warm pool (src/lambda/pool.c). */
#ifndef PX_LAMBDA_POOL_H
#define PX_LAMBDA_POOL_H

#include "pixiu/lambda.h"

/* The worker process's limits for a kind, from the request's (0: the
 * platform's): the same for a cold spawn and for the pool's profiles. */
void px_lambda_worker_limits(const char *kind, uint64_t mem_bytes, uint64_t cpu_seconds, uint64_t *mem_out,
                             uint64_t *cpu_out);

/* Take a warm worker started with exactly sr's executable and limits under
 * backend, whose running executable is the file `exe` describes (the
 * build's "worker", just refreshed). 1: *out is the caller's; 0: none
 * (start one cold). A worker that died or whose executable is not that
 * file is killed, reaped and skipped. */
int px_lambda_pool_take(px_lambda_pool *p, const px_tee_backend *backend, const px_tee_spawn_req *sr,
                        const px_lambda_file *exe, px_tee_worker *out);

#endif
