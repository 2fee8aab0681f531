/* pixiu-wasm-runner: runs one compiled task, once per group of its input,
 * in one process.
 *
 *   pixiu-wasm-runner OBJECT CPU_MS MEM_PAGES STDERR_MAX CLOCK SEED
 *                     NGROUPS TOTAL_CPU_MS MAX_OUTPUT
 *   pixiu-wasm-runner --warm    the same, arguments and descriptors
 *                               handed over later (warm.c)
 *
 * fd 0 is the input (a pipe the parent fills while the runs go, see
 * input.c), fd 4 holds NGROUPS little-endian u64 lengths that cut it into
 * consecutive groups (their sum is its size); run i reads group i. fd 1
 * is the output, fd 2 the (bounded) stderr, fd 3 a status channel to the
 * parent, which receives one line per run
 *   "run <end> <code> <grow_refused> <pages> <out_bytes> <cpu_us>"
 *       end: exit (code = status), trap (code = wasm_rt_trap_t),
 *            cpu (the run's CPU limit), output (more than MAX_OUTPUT bytes)
 * then "done"; or, ending the batch early,
 *   "cpu-total"        TOTAL_CPU_MS used up
 *   "syscall <nr>"     the seccomp filter caught a call
 *   "error <message>"  the host failed (setup, or a reset)
 *
 * Order matters: everything that needs the kernel (loading the object,
 * reserving linear memory, the first instantiation, the signal alternate
 * stack, limits) happens first; then the seccomp filter is entered and
 * only runs happen, which read their input from fd 0 as they go. Every run
 * gets a fresh instance: memory.c reuses the reservation and the table
 * without system calls the filter forbids. A run ends by returning,
 * proc_exit, a trap, its CPU timer (SIGPROF) or its output limit; each
 * long-jumps back here and ends only that run.
 *
 * Built without sanitizers and without libpixiu: their runtimes make
 * system calls the filter forbids. It exports the WASI host (wasi.c),
 * wabt's runtime and the reusing allocators (memory.c) to the object.
 */
#include <dlfcn.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>
#include <sodium.h>

#include "runner.h"

#define RESERVE_BYTES (8ull << 30)    /* wabt reserves 8 GiB per memory */
#define OVERHEAD_BYTES (256ull << 20) /* runner, libc, loaded object */
#define GROUPS_MAX (1u << 22)
/* Runner work per run besides the task (reset, status), in the CPU
 * backstop: 100 us. */
#define PER_RUN_SLACK_US 100u

/* The functions the generated glue exports (see sandbox_compile.c). */
typedef struct glue {
    unsigned (*abi)(void);
    size_t (*instance_size)(void);
    void (*instantiate)(void *inst, host_t *host);
    wasm_rt_memory_t *(*memory)(void *inst);
    void (*start)(void *inst);
} glue_t;

volatile sig_atomic_t g_critical, g_cpu_pending;
static volatile sig_atomic_t g_in_run;

/* ---- status reporting (async-signal-safe) ------------------------------ */

static void put_status(const char *line) {
    size_t n = strlen(line);
    while (n > 0) {
        ssize_t w = write(STATUS_FD, line, n);
        if (w <= 0)
            return;
        line += w;
        n -= (size_t)w;
    }
}

/* Run status lines are collected and written in blocks, like the output
 * (see wasi.c); lines that end the batch are written at once. */
static char g_status[(32u << 10) + 1];
static size_t g_status_len;

static void flush_status(void) {
    size_t n = g_status_len;
    g_status[n] = '\0';
    g_status_len = 0;
    put_status(g_status);
}

static void queue_status(const char *line) {
    size_t n = strlen(line);
    if (n > sizeof g_status - 1 - g_status_len)
        flush_status();
    memcpy(g_status + g_status_len, line, n);
    g_status_len += n;
}

/* Decimal formatting without stdio, usable in a signal handler. */
static char *fmt_u64(char *end, uint64_t v) {
    *--end = '\0';
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

static void setup_failed(const char *what, const char *detail) {
    char line[512];
    snprintf(line, sizeof line, "error %s%s%s\n", what, detail ? ": " : "",
             detail ? detail : "");
    for (char *p = line; *p && p[1]; p++)
        if (*p == '\n')
            *p = ' ';
    put_status(line);
    _exit(125);
}

void runner_fail(const char *what) {
    char line[160] = "error ";
    strncat(line, what, sizeof line - 8);
    strcat(line, "\n");
    put_status(line);
    _exit(125);
}

void runner_end_run(int how) { siglongjmp(wasm_rt_jmp_buf, how); }

/* SIGSYS from the filter (SCMP_ACT_TRAP): report the call and stop. */
static void on_sigsys(int sig, siginfo_t *si, void *uc) {
    char line[48], num[24];
    line[0] = '\0';
    strcat(line, "syscall ");
    strcat(line, fmt_u64(num + sizeof num, (uint64_t)(unsigned)si->si_syscall));
    strcat(line, "\n");
    put_status(line);
    _exit(126);
}

/* The run's CPU timer: ends the run, unless the host is in the middle of
 * writing and counting output (then right after). Outside a run (the
 * timer raced its disarming) it does nothing. */
static void on_sigprof(int sig) {
    if (!g_in_run)
        return;
    if (g_critical) {
        g_cpu_pending = 1;
        return;
    }
    siglongjmp(wasm_rt_jmp_buf, END_CPU);
}

/* ---- loading and limits ------------------------------------------------ */

static void *sym(void *so, const char *name) {
    void *p = dlsym(so, name);
    if (!p)
        setup_failed("object lacks", name);
    return p;
}

static void load(const char *path, glue_t *g) {
    void *so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!so)
        setup_failed("loading the object failed", dlerror());
    g->abi = (unsigned (*)(void))sym(so, "px_glue_abi");
    if (g->abi() != GLUE_ABI)
        setup_failed("object was built for another runner version", NULL);
    g->instance_size = (size_t (*)(void))sym(so, "px_glue_instance_size");
    g->instantiate = (void (*)(void *, host_t *))sym(so, "px_glue_instantiate");
    g->memory = (wasm_rt_memory_t * (*)(void *)) sym(so, "px_glue_memory");
    g->start = (void (*)(void *))sym(so, "px_glue_start");
}

/* Limits only ever go down from what the parent allows; a parent whose
 * hard limit is below what the run needs (wabt's 8 GiB address-space
 * reservation, above all) gets an error naming the numbers. */
static void limit(int resource, rlim_t soft, rlim_t hard, const char *name) {
    struct rlimit cur, rl = {soft, hard};
    if (getrlimit(resource, &cur) == 0 && cur.rlim_max != RLIM_INFINITY &&
        cur.rlim_max < hard) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s hard limit %llu is below the %llu the "
                 "run needs", name, (unsigned long long)cur.rlim_max,
                 (unsigned long long)hard);
        setup_failed("resource limit too low", msg);
    }
    if (setrlimit(resource, &rl))
        setup_failed("setrlimit failed", strerror(errno));
}

/* CPU: each run has a profiling timer with millisecond precision (SIGPROF
 * ends the run); RLIMIT_CPU is a backstop for the whole process a little
 * after the total. Memory: the linear-memory page cap is the real limit;
 * RLIMIT_DATA bounds what is made writable and RLIMIT_AS the whole address
 * space, including wabt's 8 GiB reservation (the input is never mapped:
 * it streams through fd 0). */
static void set_limits(uint64_t total_ms, uint64_t ngroups, uint64_t mem_pages) {
    uint64_t cpu_s = (total_ms + ngroups * PER_RUN_SLACK_US / 1000 + 999) /
                         1000 + 1;
    limit(RLIMIT_CPU, cpu_s, cpu_s + 1, "RLIMIT_CPU");
    rlim_t data = mem_pages * PAGE_BYTES + OVERHEAD_BYTES;
    rlim_t as = RESERVE_BYTES + mem_pages * PAGE_BYTES + 2 * OVERHEAD_BYTES;
    limit(RLIMIT_DATA, data, data, "RLIMIT_DATA");
    limit(RLIMIT_AS, as, as, "RLIMIT_AS");
    limit(RLIMIT_FSIZE, 0, 0, "RLIMIT_FSIZE");
    limit(RLIMIT_CORE, 0, 0, "RLIMIT_CORE");
    limit(RLIMIT_NOFILE, 8, 8, "RLIMIT_NOFILE");
}

/* ---- the seccomp filter ------------------------------------------------ */

static void allow(scmp_filter_ctx f, int nr, unsigned n,
                  const struct scmp_arg_cmp *args, int *bad) {
    if (seccomp_rule_add_array(f, SCMP_ACT_ALLOW, nr, n, args))
        *bad = 1;
}

/* Everything the runs may do. Anything else traps into on_sigsys, which
 * reports the call and exits. NULL if it cannot be built. */
static scmp_filter_ctx build_filter(int clock_granted) {
    scmp_filter_ctx f = seccomp_init(SCMP_ACT_TRAP);
    if (!f)
        return NULL;
    int bad = 0;
    struct scmp_arg_cmp fd0 = SCMP_A0(SCMP_CMP_EQ, 0);
    struct scmp_arg_cmp fd1 = SCMP_A0(SCMP_CMP_EQ, 1);
    struct scmp_arg_cmp fd2 = SCMP_A0(SCMP_CMP_EQ, 2);
    struct scmp_arg_cmp fd3 = SCMP_A0(SCMP_CMP_EQ, STATUS_FD);
    struct scmp_arg_cmp noexec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
    struct scmp_arg_cmp query = SCMP_A0(SCMP_CMP_EQ, 0);
    struct scmp_arg_cmp prof = SCMP_A0(SCMP_CMP_EQ, ITIMER_PROF);
    struct scmp_arg_cmp dontneed = SCMP_A2(SCMP_CMP_EQ, MADV_DONTNEED);
    struct scmp_arg_cmp thread_cpu = SCMP_A0(SCMP_CMP_EQ, CLOCK_THREAD_CPUTIME_ID);
    allow(f, SCMP_SYS(read), 1, &fd0, &bad); /* the input stream (input.c) */
    allow(f, SCMP_SYS(write), 1, &fd1, &bad);
    allow(f, SCMP_SYS(write), 1, &fd2, &bad);
    allow(f, SCMP_SYS(write), 1, &fd3, &bad);
    /* memory.grow makes reserved pages RW, a reset makes them PROT_NONE
     * again; never executable. */
    allow(f, SCMP_SYS(mprotect), 1, &noexec, &bad);
    /* A reset discards the pages a run used (they read as zero again). */
    allow(f, SCMP_SYS(madvise), 1, &dontneed, &bad);
    allow(f, SCMP_SYS(setitimer), 1, &prof, &bad); /* each run's CPU timer */
    allow(f, SCMP_SYS(clock_gettime), 1, &thread_cpu, &bad); /* its CPU time */
    allow(f, SCMP_SYS(rt_sigprocmask), 0, NULL, &bad); /* siglongjmp */
    allow(f, SCMP_SYS(rt_sigreturn), 0, NULL, &bad);
    /* glibc's fortified longjmp queries (never sets) the alternate stack
     * when it leaves the signal handler of a trap. */
    allow(f, SCMP_SYS(sigaltstack), 1, &query, &bad);
    allow(f, SCMP_SYS(exit_group), 0, NULL, &bad);
    allow(f, SCMP_SYS(exit), 0, NULL, &bad);
    if (clock_granted) /* only if the vDSO falls back to the kernel */
        allow(f, SCMP_SYS(clock_gettime), 0, NULL, &bad);
    if (bad) {
        seccomp_release(f);
        return NULL;
    }
    return f;
}

/* Both filters as BPF, built by a warm runner while it waits (libseccomp
 * takes a while to build one; the run then only loads it). Loading the
 * exported program is what seccomp_load does: no new privileges, then the
 * filter without flags. A filter that cannot be built ahead is built at
 * its load, as without warming. */
static struct sock_fprog g_built[2]; /* by clock_granted */

void runner_build_filters(void) {
    for (int c = 0; c < 2; c++) {
        scmp_filter_ctx f = build_filter(c);
        int fd = f ? memfd_create("pixiu-runner-filter", MFD_CLOEXEC) : -1;
        off_t n = fd >= 0 && seccomp_export_bpf(f, fd) == 0 ? lseek(fd, 0, SEEK_END) : -1;
        struct sock_filter *p = n > 0 && n % (off_t)sizeof *p == 0 && n / (off_t)sizeof *p <= USHRT_MAX
                                    ? malloc((size_t)n)
                                    : NULL;
        if (p && pread(fd, p, (size_t)n, 0) == n) {
            g_built[c].filter = p;
            g_built[c].len = (unsigned short)(n / (off_t)sizeof *p);
        } else {
            free(p);
        }
        if (fd >= 0)
            close(fd);
        seccomp_release(f);
    }
}

static void enter_filter(int clock_granted) {
    struct sock_fprog *built = &g_built[clock_granted ? 1 : 0];
    if (built->filter) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, built) != 0)
            setup_failed("loading the seccomp filter failed", NULL);
        return;
    }
    scmp_filter_ctx f = build_filter(clock_granted);
    if (!f)
        setup_failed("building the seccomp filter failed", NULL);
    if (seccomp_load(f))
        setup_failed("loading the seccomp filter failed", NULL);
    seccomp_release(f);
}

static uint64_t parse_num(const char *s, uint64_t max, const char *what) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *s < '0' || *s > '9' || *end || v > max)
        setup_failed("bad argument", what);
    return v;
}

static void on_signal(int sig, void (*h)(int), void (*hi)(int, siginfo_t *, void *)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    if (hi) {
        sa.sa_sigaction = hi;
        sa.sa_flags = SA_SIGINFO;
    } else {
        sa.sa_handler = h;
        /* On the alternate stack: the run may have used up its stack. */
        sa.sa_flags = SA_ONSTACK | SA_NODEFER;
    }
    if (sigaction(sig, &sa, NULL))
        setup_failed("sigaction failed", strerror(errno));
}

/* The handlers that end a run by a long jump (wabt's SIGSEGV/SIGBUS trap
 * handler, on_sigprof) do not block their signal while they run
 * (SA_NODEFER), so no signal is left blocked after the jump, and the jump
 * buffer need not save and restore the signal mask: that would be a
 * system call per run. */
static void no_defer(int sig) {
    struct sigaction sa;
    if (sigaction(sig, NULL, &sa))
        setup_failed("sigaction failed", strerror(errno));
    sa.sa_flags |= SA_NODEFER;
    if (sigaction(sig, &sa, NULL))
        setup_failed("sigaction failed", strerror(errno));
}

/* ---- the batch ---------------------------------------------------------- */

typedef struct batch {
    glue_t glue;
    host_t host;
    void *inst;
    size_t inst_size;
    uint32_t cap_pages;
    uint64_t *lens, ngroups;
    uint64_t cpu_us, total_left_us;
    uint64_t cpu_mark; /* cpu_now_us() at the end of the previous run */
    int first_trap; /* the instantiation before the filter trapped */
} batch_t;

static void report_run(const char *end, uint64_t code, uint64_t out_bytes,
                       uint64_t cpu_us) {
    char line[160], num[24];
    strcpy(line, "run ");
    strcat(line, end);
    strcat(line, " ");
    strcat(line, fmt_u64(num + sizeof num, code));
    strcat(line, runner_grow_refused() ? " 1 " : " 0 ");
    strcat(line, fmt_u64(num + sizeof num, runner_memory_pages()));
    strcat(line, " ");
    strcat(line, fmt_u64(num + sizeof num, out_bytes));
    strcat(line, " ");
    strcat(line, fmt_u64(num + sizeof num, cpu_us));
    strcat(line, "\n");
    queue_status(line);
}

static void set_timer(uint64_t us) {
    struct itimerval it = {{0, 0}, {(time_t)(us / 1000000),
                                    (suseconds_t)(us % 1000000)}};
    if (setitimer(ITIMER_PROF, &it, NULL))
        runner_fail("setitimer failed");
}

/* CPU time of the runner so far. The timer's own remaining value is
 * sampled at scheduler ticks (4 ms and more), too coarse for runs of
 * microseconds; this clock is exact. */
static uint64_t cpu_now_us(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
        runner_fail("clock_gettime failed");
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

/* One run. Locals the long jump must not lose are static or volatile.
 * Its CPU time runs from the end of the previous run (so it includes the
 * reset of the instance) to its own end. */
static void run_one(batch_t *b, uint64_t i) {
    static batch_t *sb;
    static volatile uint64_t armed;
    sb = b;
    host_t *h = &b->host;
    h->in_len = b->lens[i];
    h->in_left = b->lens[i];
    h->out_bytes = 0;
    h->run_index = i;
    h->random_block = 0;
    h->exit_code = 0;
    if (b->first_trap) { /* instantiation is deterministic: same trap */
        if (i + 1 < b->ngroups)
            runner_input_skip(h);
        report_run("trap", (uint64_t)b->first_trap, 0, 0);
        return;
    }
    if (b->total_left_us == 0) {
        put_status("cpu-total\n");
        _exit(0);
    }
    runner_memory_reset_flags();
    g_cpu_pending = 0;
    armed = b->cpu_us < b->total_left_us ? b->cpu_us : b->total_left_us;
    set_timer(armed);
    g_in_run = 1;
    int end = sigsetjmp(wasm_rt_jmp_buf, 0); /* no mask: see no_defer */
    if (end == 0) {
        if (i > 0) { /* run 0 uses the instance made before the filter */
            memset(sb->inst, 0, sb->inst_size);
            sb->glue.instantiate(sb->inst, &sb->host);
        }
        sb->host.mem = sb->glue.memory(sb->inst);
        if (sb->host.mem->max_pages > sb->cap_pages)
            sb->host.mem->max_pages = sb->cap_pages;
        sb->glue.start(sb->inst);
        sb->host.exit_code = 0;
        end = END_EXIT;
    }
    g_in_run = 0;
    /* The timer is left running: the next run re-arms it, and if it fires
     * before, on_sigprof ignores it (one system call less per run). */
    b = sb;
    /* What the run left of its group is dropped on its own CPU time (after
     * the last run, nobody reads further: the parent stops feeding). */
    if (i + 1 < b->ngroups)
        runner_input_skip(&b->host);
    uint64_t now = cpu_now_us(), used = now - b->cpu_mark;
    b->cpu_mark = now;
    b->total_left_us -= used < b->total_left_us ? used : b->total_left_us;
    if (end == END_CPU && armed < b->cpu_us) {
        put_status("cpu-total\n"); /* the total ran out, not the run's own */
        _exit(0);
    }
    uint64_t out = b->host.out_bytes;
    if (end == END_EXIT)
        report_run("exit", b->host.exit_code, out, used);
    else if (end == END_OUTPUT)
        report_run("output", 0, out, used);
    else if (end == END_CPU)
        report_run("cpu", 0, out, used);
    else
        report_run("trap", (uint64_t)end, out, used);
}

/* The group lengths, read before the filter; *total gets their sum. */
static uint64_t *read_groups(uint64_t n, uint64_t *total) {
    uint64_t *lens = calloc(n ? n : 1, sizeof *lens);
    if (!lens)
        setup_failed("out of memory", NULL);
    uint8_t *p = (uint8_t *)lens;
    size_t left = n * sizeof *lens;
    while (left > 0) {
        ssize_t r = read(GROUPS_FD, p, left);
        if (r <= 0)
            setup_failed("reading the group table failed", NULL);
        p += r;
        left -= (size_t)r;
    }
    close(GROUPS_FD);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (lens[i] > UINT64_MAX - sum)
            setup_failed("bad group table", NULL);
        sum += lens[i];
    }
    *total = sum;
    return lens;
}

int main(int argc, char **argv) {
    static char *warm_argv[10];
    if (argc == 2 && strcmp(argv[1], "--warm") == 0) {
        /* It dies with the worker that started it (which cannot ask for
         * that between its spawn and this exec, sandbox_warm.c); a worker
         * gone before this line leaves the end of file on fd 3. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
            return 127;
        warm_argv[0] = argv[0];
        if (sodium_init() < 0) /* what does not depend on the run, first */
            return 127;
        runner_build_filters();
        runner_warm_wait(warm_argv);
        argc = 10;
        argv = warm_argv;
    }
    if (argc != 10) {
        fprintf(stderr, "usage: pixiu-wasm-runner OBJECT CPU_MS MEM_PAGES "
                        "STDERR_MAX CLOCK SEED|- NGROUPS TOTAL_CPU_MS "
                        "MAX_OUTPUT\n");
        return 2;
    }
    static batch_t b;
    host_t *h = &b.host;
    b.cpu_us = parse_num(argv[2], UINT32_MAX, "CPU_MS") * 1000;
    b.cap_pages = (uint32_t)parse_num(argv[3], 65536, "MEM_PAGES");
    h->stderr_left = parse_num(argv[4], UINT32_MAX, "STDERR_MAX");
    h->clock_granted = (int)parse_num(argv[5], 1, "CLOCK");
    if (strcmp(argv[6], "-") != 0) {
        if (strlen(argv[6]) != 2 * SEED_BYTES ||
            sodium_hex2bin(h->seed, sizeof h->seed, argv[6], strlen(argv[6]),
                           NULL, NULL, NULL))
            setup_failed("bad argument", "SEED");
        h->random_granted = 1;
    }
    b.ngroups = parse_num(argv[7], GROUPS_MAX, "NGROUPS");
    uint64_t total_ms = parse_num(argv[8], UINT64_MAX / 1000, "TOTAL_CPU_MS");
    b.total_left_us = total_ms * 1000;
    h->max_output = parse_num(argv[9], UINT64_MAX, "MAX_OUTPUT");
    if (sodium_init() < 0)
        setup_failed("sodium_init failed", NULL);

    /* The input is read as the runs go (input.c); only its size and the
     * groups' lengths are known now. */
    uint64_t input_size;
    b.lens = read_groups(b.ngroups, &input_size);
    runner_input_init(input_size);

    load(argv[1], &b.glue);
    wasm_rt_init(); /* SIGSEGV/SIGBUS handler on an alternate stack */
    no_defer(SIGSEGV);
    no_defer(SIGBUS);
    b.inst_size = b.glue.instance_size();
    b.inst = calloc(1, b.inst_size);
    if (!b.inst)
        setup_failed("out of memory", NULL);
    set_limits(total_ms, b.ngroups, b.cap_pages);
    /* The first instantiation allocates the memory reservation and the
     * table (memory.c). It copies data and element segments and traps if
     * one lies outside its memory or table; that trap is every run's. */
    int trap = sigsetjmp(wasm_rt_jmp_buf, 0);
    if (trap == 0) {
        b.glue.instantiate(b.inst, h);
        if (b.glue.memory(b.inst)->pages > b.cap_pages)
            setup_failed("initial memory exceeds the limit", NULL);
    } else {
        b.first_trap = trap;
    }

    b.cpu_mark = cpu_now_us();
    on_signal(SIGSYS, NULL, on_sigsys);
    on_signal(SIGPROF, on_sigprof, NULL);
    enter_filter(h->clock_granted);

    for (uint64_t i = 0; i < b.ngroups; i++)
        run_one(&b, i);
    if (runner_flush_output())
        runner_fail("writing the output failed");
    queue_status("done\n");
    flush_status();
    _exit(0);
}
