/* Internal to pixiu-wasm-runner: what the run loop (wasm_runner.c), the
 * WASI host (wasi.c) and the instance memory (memory.c) share. The runner
 * is one process running one batch of runs, single-threaded; state a
 * signal handler or a long jump needs lives in globals declared here. */
#ifndef PIXIU_RUNNER_H
#define PIXIU_RUNNER_H

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>

#include <wasm-rt.h>

#define STATUS_FD 3
#define GROUPS_FD 4
#define GLUE_ABI 2u
#define PAGE_BYTES 65536ull
#define SEED_BYTES 32

/* Ways a run ends besides a wasm trap (wasm_rt_trap_t values are 1..8):
 * the long-jump codes back to the run loop. */
enum run_end { END_EXIT = 64, END_OUTPUT, END_CPU };

/* wabt 1.0.32's runtime (libwasm-rt-impl.a) keeps the jump buffer that
 * wasm_rt_trap() long-jumps to in this global; its private header, which
 * declares it, is not shipped. The run loop sets it for every run, and the
 * runner's own ends of a run (exit, output cap, CPU timer) jump there too. */
extern jmp_buf wasm_rt_jmp_buf;

/* The host instance handed to the module: wasm2c passes it to every
 * imported function. Per-run fields are set by the run loop before each
 * run. */
struct Z_wasi_snapshot_preview1_instance_t {
    wasm_rt_memory_t *mem;
    /* per process */
    int clock_granted;
    int random_granted;
    uint8_t seed[SEED_BYTES];
    uint64_t stderr_left; /* bytes of stderr still passed on */
    uint64_t max_output;  /* stdout bytes a run may write */
    /* per run */
    uint64_t in_len;      /* this run's input (its group) */
    uint64_t in_left;     /* of it, not yet read (input.c) */
    uint64_t out_bytes;   /* stdout bytes this run wrote */
    uint64_t run_index;   /* nonce of the granted random stream */
    uint64_t random_block;
    uint32_t exit_code;   /* END_EXIT */
};
typedef struct Z_wasi_snapshot_preview1_instance_t host_t;

/* Set while the host writes standard output and counts it; the CPU timer
 * then only sets g_cpu_pending, and the run ends right after. */
extern volatile sig_atomic_t g_critical, g_cpu_pending;

/* Report "error <what>" on the status channel and exit: the host failed
 * (the parent names it internal). */
__attribute__((noreturn)) void runner_fail(const char *what);

/* End the current run: long-jump back to the run loop. */
__attribute__((noreturn)) void runner_end_run(int how);

/* wasi.c: write the buffered standard output to fd 1 (-1 on failure). */
int runner_flush_output(void);

/* input.c: the input stream on fd 0, total bytes in all groups. */
void runner_input_init(uint64_t total);
/* Up to len bytes of the run's input into dst (in linear memory); fewer
 * only at the end of its group. */
uint64_t runner_input_read(host_t *h, uint8_t *dst, uint64_t len);
/* Discard what the run left unread of its group (outside any run). */
void runner_input_skip(host_t *h);

/* memory.c: linear memory and tables that survive from run to run, so
 * that instantiating again makes no system call the filter forbids. */
void runner_memory_reset_flags(void);
int runner_grow_refused(void);
uint32_t runner_memory_pages(void);

/* wasm_runner.c: build both seccomp filters now (a warm runner, before
 * its run is due); the run then only loads its own. */
void runner_build_filters(void);

/* warm.c: `--warm`: wait on fd 3 for a run's arguments and descriptors,
 * place the descriptors on 0..5 and fill argv[1..9] (argv[0] is kept). */
void runner_warm_wait(char **argv);

#endif
