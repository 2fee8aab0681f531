/* The WASI preview1 subset the validator allows (see docs/sandbox.md),
 * hosted for the loaded module. Input comes from the run's group of the
 * input stream (input.c), output goes to fd 1 up to the run's limit,
 * stderr to fd 2 up to its limit; nothing else reaches the kernel. */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "runner.h"

#define CLOCK_GRAIN_NS 10000000ull   /* granted clocks tick in 10 ms */

/* WASI preview1 errno values. */
enum { WASI_OK = 0, WASI_EBADF = 8, WASI_EFAULT = 21, WASI_EINVAL = 28,
       WASI_ENOSYS = 52, WASI_ESPIPE = 70 };

/* ---- guest memory access ----------------------------------------------- */

static uint8_t *guest(host_t *h, uint32_t ptr, uint64_t len) {
    if ((uint64_t)ptr + len > h->mem->size)
        return NULL;
    return h->mem->data + ptr;
}

static int put_u32(host_t *h, uint32_t ptr, uint32_t v) {
    uint8_t *p = guest(h, ptr, 4);
    if (!p)
        return -1;
    memcpy(p, &v, 4); /* wasm is little-endian, as is x86-64 */
    return 0;
}

static int put_u64(host_t *h, uint32_t ptr, uint64_t v) {
    uint8_t *p = guest(h, ptr, 8);
    if (!p)
        return -1;
    memcpy(p, &v, 8);
    return 0;
}

/* ---- WASI preview1: the allowed subset --------------------------------- */

#define WASI(name) Z_wasi_snapshot_preview1Z_##name

/* A run reads its own group of the input stream, with end of file at the
 * group's end; a read returns everything asked for up to there, as a file
 * would (input.c). */
uint32_t WASI(fd_read)(host_t *h, uint32_t fd, uint32_t iovs, uint32_t n,
                       uint32_t nread_ptr) {
    if (fd != 0)
        return WASI_EBADF;
    uint8_t *vec = guest(h, iovs, (uint64_t)n * 8);
    if (!vec)
        return WASI_EFAULT;
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t buf, len;
        memcpy(&buf, vec + 8 * i, 4);
        memcpy(&len, vec + 8 * i + 4, 4);
        uint8_t *dst = guest(h, buf, len);
        if (!dst)
            return WASI_EFAULT;
        uint32_t r = (uint32_t)runner_input_read(h, dst, len);
        total += r;
        if (r < len)
            break;
    }
    return put_u32(h, nread_ptr, total) ? WASI_EFAULT : WASI_OK;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Standard output is collected in a buffer and written in large blocks
 * (runner_flush_output), not per call: a system call costs several
 * microseconds here, and a batch of small runs would pay it per run. A
 * batch that fails is discarded whole, so nothing needs to reach the
 * parent before the batch ends.
 *
 * Counted exactly: the parent splits the output among the runs by these
 * counts. The CPU timer must not end the run between taking bytes and
 * counting them, so it only marks itself pending here (see on_sigprof in
 * wasm_runner.c). */
#define OUT_BUF (64u << 10)
static uint8_t g_out[OUT_BUF];
static size_t g_out_len;

int runner_flush_output(void) {
    int rc = write_all(1, g_out, g_out_len);
    g_out_len = 0;
    return rc;
}

static int write_out(host_t *h, const uint8_t *p, size_t n) {
    int rc = 0;
    g_critical = 1;
    if (n > OUT_BUF - g_out_len)
        rc = runner_flush_output();
    if (!rc && n >= OUT_BUF) {
        rc = write_all(1, p, n);
    } else if (!rc) {
        memcpy(g_out + g_out_len, p, n);
        g_out_len += n;
    }
    if (!rc)
        h->out_bytes += n;
    g_critical = 0;
    if (g_cpu_pending)
        runner_end_run(END_CPU);
    return rc;
}

uint32_t WASI(fd_write)(host_t *h, uint32_t fd, uint32_t iovs, uint32_t n,
                        uint32_t nwritten_ptr) {
    if (fd != 1 && fd != 2)
        return WASI_EBADF;
    uint8_t *vec = guest(h, iovs, (uint64_t)n * 8);
    if (!vec)
        return WASI_EFAULT;
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t buf, len;
        memcpy(&buf, vec + 8 * i, 4);
        memcpy(&len, vec + 8 * i + 4, 4);
        uint8_t *src = guest(h, buf, len);
        if (!src)
            return WASI_EFAULT;
        if (fd == 2) { /* bounded; the excess is dropped silently */
            uint64_t keep = len < h->stderr_left ? len : h->stderr_left;
            if (keep && write_all(2, src, keep) == 0)
                h->stderr_left -= keep;
            total += len;
            continue;
        }
        /* Past the run's output limit the run ends, before writing. */
        if (len > h->max_output - h->out_bytes)
            runner_end_run(END_OUTPUT);
        if (write_out(h, src, len))
            return WASI_EINVAL;
        total += len;
    }
    return put_u32(h, nwritten_ptr, total) ? WASI_EFAULT : WASI_OK;
}

/* Standard streams are reported as unknown files (not terminals, so libc
 * buffers fully) with only the right that matches their direction. */
uint32_t WASI(fd_fdstat_get)(host_t *h, uint32_t fd, uint32_t out) {
    if (fd > 2)
        return WASI_EBADF;
    uint8_t *p = guest(h, out, 24);
    if (!p)
        return WASI_EFAULT;
    uint64_t rights = fd == 0 ? 1u << 1 /* fd_read */ : 1u << 6 /* fd_write */;
    memset(p, 0, 24);
    memcpy(p + 8, &rights, 8);
    return WASI_OK;
}

/* Only the input's size is real: it lets a task allocate once. */
uint32_t WASI(fd_filestat_get)(host_t *h, uint32_t fd, uint32_t out) {
    if (fd > 2)
        return WASI_EBADF;
    uint8_t *p = guest(h, out, 64);
    if (!p)
        return WASI_EFAULT;
    uint64_t size = fd == 0 ? h->in_len : 0;
    memset(p, 0, 64);
    p[16] = fd == 0 ? 4 /* regular file */ : 0 /* unknown */;
    memcpy(p + 32, &size, 8);
    return WASI_OK;
}

uint32_t WASI(fd_seek)(host_t *h, uint32_t fd, uint64_t off, uint32_t whence,
                       uint32_t out) {
    return fd <= 2 ? WASI_ESPIPE : WASI_EBADF;
}

uint32_t WASI(fd_close)(host_t *h, uint32_t fd) { return WASI_ENOSYS; }
uint32_t WASI(fd_fdstat_set_flags)(host_t *h, uint32_t fd, uint32_t f) {
    return WASI_ENOSYS;
}
/* No preopened directories: EBADF ends libc's scan for them. */
uint32_t WASI(fd_prestat_get)(host_t *h, uint32_t fd, uint32_t out) {
    return WASI_EBADF;
}
uint32_t WASI(fd_prestat_dir_name)(host_t *h, uint32_t fd, uint32_t p,
                                   uint32_t n) {
    return WASI_EBADF;
}
uint32_t WASI(poll_oneoff)(host_t *h, uint32_t a, uint32_t b, uint32_t c,
                           uint32_t d) {
    return WASI_ENOSYS;
}
uint32_t WASI(sched_yield)(host_t *h) { return WASI_OK; }

/* Arguments and environment are always empty. */
static uint32_t empty_sizes(host_t *h, uint32_t count_ptr, uint32_t size_ptr) {
    return put_u32(h, count_ptr, 0) || put_u32(h, size_ptr, 0) ? WASI_EFAULT
                                                                : WASI_OK;
}
uint32_t WASI(args_sizes_get)(host_t *h, uint32_t c, uint32_t s) {
    return empty_sizes(h, c, s);
}
uint32_t WASI(environ_sizes_get)(host_t *h, uint32_t c, uint32_t s) {
    return empty_sizes(h, c, s);
}
uint32_t WASI(args_get)(host_t *h, uint32_t a, uint32_t b) { return WASI_OK; }
uint32_t WASI(environ_get)(host_t *h, uint32_t a, uint32_t b) {
    return WASI_OK;
}

/* A coarse clock, only when granted (it is a timing side channel). */
uint32_t WASI(clock_res_get)(host_t *h, uint32_t id, uint32_t out) {
    if (!h->clock_granted)
        return WASI_ENOSYS;
    if (id > 1)
        return WASI_EINVAL;
    return put_u64(h, out, CLOCK_GRAIN_NS) ? WASI_EFAULT : WASI_OK;
}

uint32_t WASI(clock_time_get)(host_t *h, uint32_t id, uint64_t precision,
                              uint32_t out) {
    if (!h->clock_granted)
        return WASI_ENOSYS;
    if (id > 1)
        return WASI_EINVAL;
    struct timespec ts; /* served by the vDSO: no system call */
    clock_gettime(id == 0 ? CLOCK_REALTIME_COARSE : CLOCK_MONOTONIC_COARSE,
                  &ts);
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    return put_u64(h, out, ns - ns % CLOCK_GRAIN_NS) ? WASI_EFAULT : WASI_OK;
}

/* A deterministic stream (ChaCha20 keyed by the granted seed, the run's
 * index as nonce), so that a step can be re-run and checked, and the runs
 * of a batch do not share a stream. */
uint32_t WASI(random_get)(host_t *h, uint32_t buf, uint32_t len) {
    if (!h->random_granted)
        return WASI_ENOSYS;
    uint8_t *p = guest(h, buf, len);
    if (!p)
        return WASI_EFAULT;
    uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
    for (unsigned i = 0; i < sizeof nonce; i++)
        nonce[i] = (uint8_t)(h->run_index >> (8 * i));
    memset(p, 0, len);
    crypto_stream_chacha20_xor_ic(p, p, len, nonce, h->random_block, h->seed);
    h->random_block += ((uint64_t)len + 63) / 64;
    return WASI_OK;
}

void WASI(proc_exit)(host_t *h, uint32_t code) {
    h->exit_code = code;
    runner_end_run(END_EXIT);
}

