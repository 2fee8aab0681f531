/* pixiu-wasm-runner: runs one compiled task in a fresh process.
 *
 *   pixiu-wasm-runner OBJECT CPU_MS MEM_PAGES STDERR_MAX CLOCK SEED
 *
 * fd 0 is the task's input, fd 1 its output, fd 2 its (bounded) stderr and
 * fd 3 a status channel to the parent, which receives exactly one line:
 *   "exit <code> <grow_refused> <pages>"   the task returned or called exit
 *   "trap <kind> <grow_refused> <pages>"   a wasm trap (wasm_rt_trap_t)
 *   "syscall <nr>"                         the seccomp filter caught a call
 *   "error <message>"                      setup failed before the task ran
 *
 * Order matters: everything that needs the kernel (loading the object,
 * reserving linear memory, the signal alternate stack, timers) happens
 * first; then the seccomp filter is entered and only the task runs. This
 * program is built without sanitizers and without libpixiu: their runtimes
 * make system calls the filter forbids. It hosts the WASI preview1 subset
 * the validator allows (see docs/sandbox.md) and exports those functions and
 * wabt's runtime to the loaded object.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>
#include <sodium.h>
#include <wasm-rt.h>

#define STATUS_FD 3
#define GLUE_ABI 1u
#define PAGE_BYTES 65536ull
#define RESERVE_BYTES (8ull << 30)   /* wabt reserves 8 GiB per memory */
#define OVERHEAD_BYTES (256ull << 20) /* runner, libc, loaded object */
#define CLOCK_GRAIN_NS 10000000ull   /* granted clocks tick in 10 ms */
#define SEED_BYTES 32

/* WASI preview1 errno values. */
enum { WASI_OK = 0, WASI_EBADF = 8, WASI_EFAULT = 21, WASI_EINVAL = 28,
       WASI_ENOSYS = 52, WASI_ESPIPE = 70 };

/* wabt 1.0.32's runtime (libwasm-rt-impl.a) keeps the jump buffer that
 * wasm_rt_trap() long-jumps to in this global; its private header, which
 * declares it, is not shipped. */
extern jmp_buf wasm_rt_jmp_buf;

/* The host instance handed to the module: wasm2c passes it to every
 * imported function. */
struct Z_wasi_snapshot_preview1_instance_t {
    wasm_rt_memory_t *mem;
    uint64_t stderr_left;
    int clock_granted;
    int random_granted;
    uint8_t seed[SEED_BYTES];
    uint64_t random_block; /* next ChaCha20 block of the seeded stream */
    uint64_t input_size;   /* bytes on fd 0, taken before the filter */
};
typedef struct Z_wasi_snapshot_preview1_instance_t host_t;

/* The functions the generated glue exports (see sandbox_compile.c). */
typedef struct glue {
    unsigned (*abi)(void);
    size_t (*instance_size)(void);
    void (*instantiate)(void *inst, host_t *host);
    wasm_rt_memory_t *(*memory)(void *inst);
    void (*start)(void *inst);
    int (*grow_refused)(void);
} glue_t;

/* Set once before the task runs, read by the exit paths: the runner is
 * single-threaded and runs one task, and a signal handler cannot be given
 * arguments. */
static const glue_t *g_glue;
static host_t *g_host;

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

/* Decimal formatting without stdio, usable in a signal handler. */
static char *fmt_u64(char *end, uint64_t v) {
    *--end = '\0';
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

static void finish(const char *kind, uint64_t code) {
    char line[96], num[24];
    uint64_t pages = g_host && g_host->mem ? g_host->mem->pages : 0;
    int refused = g_glue ? g_glue->grow_refused() : 0;
    line[0] = '\0';
    strcat(line, kind);
    strcat(line, " ");
    strcat(line, fmt_u64(num + sizeof num, code));
    strcat(line, refused ? " 1 " : " 0 ");
    strcat(line, fmt_u64(num + sizeof num, pages));
    strcat(line, "\n");
    put_status(line);
    _exit(0);
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
        ssize_t r = read(0, dst, len);
        if (r < 0)
            return WASI_EINVAL;
        total += (uint32_t)r;
        if ((uint32_t)r < len)
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
        } else if (write_all(1, src, len)) {
            return WASI_EINVAL;
        }
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
    uint64_t size = fd == 0 ? h->input_size : 0;
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

/* A deterministic stream (ChaCha20 keyed by the granted seed), so that a
 * step can be re-run and checked. */
uint32_t WASI(random_get)(host_t *h, uint32_t buf, uint32_t len) {
    if (!h->random_granted)
        return WASI_ENOSYS;
    uint8_t *p = guest(h, buf, len);
    if (!p)
        return WASI_EFAULT;
    static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
    memset(p, 0, len);
    crypto_stream_chacha20_xor_ic(p, p, len, nonce, h->random_block, h->seed);
    h->random_block += ((uint64_t)len + 63) / 64;
    return WASI_OK;
}

void WASI(proc_exit)(host_t *h, uint32_t code) { finish("exit", code); }

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
    g->instance_size = (size_t (*)(void))sym(so, "px_glue_instance_size");
    g->instantiate = (void (*)(void *, host_t *))sym(so, "px_glue_instantiate");
    g->memory = (wasm_rt_memory_t * (*)(void *)) sym(so, "px_glue_memory");
    g->start = (void (*)(void *))sym(so, "px_glue_start");
    g->grow_refused = (int (*)(void))sym(so, "px_glue_grow_refused");
    if (g->abi() != GLUE_ABI)
        setup_failed("object was built for another runner version", NULL);
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

/* CPU: a profiling timer with millisecond precision (SIGPROF ends the
 * run), RLIMIT_CPU as a backstop a little later. Memory: the linear-memory
 * page cap is the real limit; RLIMIT_DATA bounds what is made writable and
 * RLIMIT_AS the whole address space including wabt's 8 GiB reservation. */
static void set_limits(uint64_t cpu_ms, uint64_t mem_pages) {
    uint64_t cpu_s = (cpu_ms + 999) / 1000 + 1;
    limit(RLIMIT_CPU, cpu_s, cpu_s + 1, "RLIMIT_CPU");
    rlim_t data = mem_pages * PAGE_BYTES + OVERHEAD_BYTES;
    rlim_t as = RESERVE_BYTES + mem_pages * PAGE_BYTES + 2 * OVERHEAD_BYTES;
    limit(RLIMIT_DATA, data, data, "RLIMIT_DATA");
    limit(RLIMIT_AS, as, as, "RLIMIT_AS");
    limit(RLIMIT_FSIZE, 0, 0, "RLIMIT_FSIZE");
    limit(RLIMIT_CORE, 0, 0, "RLIMIT_CORE");
    limit(RLIMIT_NOFILE, 8, 8, "RLIMIT_NOFILE");
    struct itimerval it = {{0, 0}, {(time_t)(cpu_ms / 1000),
                                    (suseconds_t)(cpu_ms % 1000) * 1000}};
    if (setitimer(ITIMER_PROF, &it, NULL))
        setup_failed("setitimer failed", strerror(errno));
}

/* ---- the seccomp filter ------------------------------------------------ */

static void allow(scmp_filter_ctx f, int nr, unsigned n,
                  const struct scmp_arg_cmp *args) {
    if (seccomp_rule_add_array(f, SCMP_ACT_ALLOW, nr, n, args))
        setup_failed("building the seccomp filter failed", NULL);
}

/* Everything the task may do once it runs. Anything else traps into
 * on_sigsys, which reports the call and exits. */
static void enter_filter(int clock_granted) {
    scmp_filter_ctx f = seccomp_init(SCMP_ACT_TRAP);
    if (!f)
        setup_failed("seccomp_init failed", NULL);
    struct scmp_arg_cmp fd0 = SCMP_A0(SCMP_CMP_EQ, 0);
    struct scmp_arg_cmp fd1 = SCMP_A0(SCMP_CMP_EQ, 1);
    struct scmp_arg_cmp fd2 = SCMP_A0(SCMP_CMP_EQ, 2);
    struct scmp_arg_cmp fd3 = SCMP_A0(SCMP_CMP_EQ, STATUS_FD);
    struct scmp_arg_cmp noexec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
    struct scmp_arg_cmp query = SCMP_A0(SCMP_CMP_EQ, 0);
    allow(f, SCMP_SYS(read), 1, &fd0);
    allow(f, SCMP_SYS(write), 1, &fd1);
    allow(f, SCMP_SYS(write), 1, &fd2);
    allow(f, SCMP_SYS(write), 1, &fd3);
    allow(f, SCMP_SYS(mprotect), 1, &noexec); /* memory.grow: RW only */
    allow(f, SCMP_SYS(rt_sigprocmask), 0, NULL); /* siglongjmp on a trap */
    allow(f, SCMP_SYS(rt_sigreturn), 0, NULL);
    /* glibc's fortified longjmp queries (never sets) the alternate stack
     * when it leaves the signal handler of a trap. */
    allow(f, SCMP_SYS(sigaltstack), 1, &query);
    allow(f, SCMP_SYS(exit_group), 0, NULL);
    allow(f, SCMP_SYS(exit), 0, NULL);
    if (clock_granted) /* only if the vDSO falls back to the kernel */
        allow(f, SCMP_SYS(clock_gettime), 0, NULL);
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

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: pixiu-wasm-runner OBJECT CPU_MS MEM_PAGES "
                        "STDERR_MAX CLOCK SEED|-\n");
        return 2;
    }
    static host_t host;
    uint64_t cpu_ms = parse_num(argv[2], UINT32_MAX, "CPU_MS");
    uint64_t pages = parse_num(argv[3], 65536, "MEM_PAGES");
    host.stderr_left = parse_num(argv[4], UINT32_MAX, "STDERR_MAX");
    host.clock_granted = (int)parse_num(argv[5], 1, "CLOCK");
    if (strcmp(argv[6], "-") != 0) {
        if (sodium_hex2bin(host.seed, sizeof host.seed, argv[6],
                           strlen(argv[6]), NULL, NULL, NULL) ||
            strlen(argv[6]) != 2 * SEED_BYTES)
            setup_failed("bad argument", "SEED");
        host.random_granted = 1;
    }
    if (sodium_init() < 0)
        setup_failed("sodium_init failed", NULL);
    struct stat st;
    if (fstat(0, &st) == 0 && S_ISREG(st.st_mode))
        host.input_size = (uint64_t)st.st_size;

    static glue_t glue;
    load(argv[1], &glue);
    wasm_rt_init(); /* SIGSEGV/SIGBUS handler on an alternate stack */
    void *inst = calloc(1, glue.instance_size());
    if (!inst)
        setup_failed("out of memory", NULL);
    set_limits(cpu_ms, pages);
    /* Instantiation copies data and element segments and traps if one lies
     * outside its memory or table: catch that too. */
    int trap = sigsetjmp(wasm_rt_jmp_buf, 1);
    if (trap)
        finish("trap", (uint64_t)trap);
    glue.instantiate(inst, &host);
    host.mem = glue.memory(inst);
    if (host.mem->pages > pages)
        setup_failed("initial memory exceeds the limit", NULL);
    if (host.mem->max_pages > pages)
        host.mem->max_pages = (uint32_t)pages;
    g_glue = &glue;
    g_host = &host;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(SIGSYS, &sa, NULL))
        setup_failed("sigaction failed", strerror(errno));
    enter_filter(host.clock_granted);

    trap = sigsetjmp(wasm_rt_jmp_buf, 1);
    if (trap == 0) {
        glue.start(inst);
        finish("exit", 0);
    }
    finish("trap", (uint64_t)trap);
    return 0;
}
