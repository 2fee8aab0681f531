/* The `process` backend: software isolation by the host OS, level 1.
 *
 * Before exec the child gets fresh user, network and IPC namespaces (no
 * network links, no shared IPC), no new privileges, resource limits, and
 * only its channel on fd PX_TEE_WORKER_FD (stdin/stdout are /dev/null).
 * After it has generated its keys the worker calls lockdown(): it becomes
 * non-dumpable (no ptrace, no /proc/<pid>/mem for other processes of the
 * same user) and enters a seccomp allow-list that kills it on any other
 * system call. The evidence is signed by the node's platform key, so it is
 * exactly as trustworthy as the node's operator: see docs/tee.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pixiu/tee.h"

#define PROCESS_LEVEL PX_TEE_LEVEL_PROCESS
#define DEFAULT_MEM_BYTES (4ull << 30)
#define DEFAULT_CPU_SECONDS 600
#define WORKER_MAX_FILES 32
#define ENV_MAX 12

/* AddressSanitizer reserves terabytes of shadow address space, so an
 * address-space limit cannot be applied to a sanitizer build; the evidence
 * then simply does not list "rlimit-mem". */
#if defined(__SANITIZE_ADDRESS__)
#define PX_HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PX_HAVE_ASAN 1
#endif
#endif

static int process_available(void) {
    return 1;
}

/* Only what a worker needs is passed on: sanitizer settings, and the PATH
 * and HOME the compilers it starts expect. Which runner, compilers and
 * object cache it uses the node tells it (INIT), from the build it
 * measured: nothing else of the node's environment reaches it. */
static void build_env(char **env) {
    static const char *const keep[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "PATH", "HOME"};
    size_t n = 0;
    extern char **environ;
    for (char **e = environ; e && *e && n < ENV_MAX - 1; e++)
        for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) {
            size_t kl = strlen(keep[k]);
            if (!strncmp(*e, keep[k], kl) && (*e)[kl] == '=')
                env[n++] = *e;
        }
    env[n] = NULL;
}

static unsigned enter_namespaces(void) {
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC) == 0)
        return PX_ISO_USERNS | PX_ISO_NETNS | PX_ISO_IPCNS;
    /* Without user namespaces a privileged host can still cut the network. */
    if (unshare(CLONE_NEWNET | CLONE_NEWIPC) == 0)
        return PX_ISO_NETNS | PX_ISO_IPCNS;
    return 0;
}

static unsigned apply_limits(const px_tee_spawn_req *req) {
    unsigned bits = 0;
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = req->cpu_seconds ? req->cpu_seconds : DEFAULT_CPU_SECONDS;
    if (setrlimit(RLIMIT_CPU, &rl) == 0)
        bits |= PX_ISO_RLIMIT_CPU;
    rl.rlim_cur = rl.rlim_max = WORKER_MAX_FILES;
    struct rlimit core = {0, 0};
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0 && setrlimit(RLIMIT_CORE, &core) == 0)
        bits |= PX_ISO_RLIMIT_FILES;
#ifndef PX_HAVE_ASAN
    rl.rlim_cur = rl.rlim_max = req->mem_bytes ? req->mem_bytes : DEFAULT_MEM_BYTES;
    if (setrlimit(RLIMIT_AS, &rl) == 0)
        bits |= PX_ISO_RLIMIT_MEM;
#endif
    return bits;
}

/* In the child between fork and exec: only async-signal-safe calls. The
 * isolation bits go to the parent over the channel before exec. */
static void child(const px_tee_spawn_req *req, int fd, int devnull, char **env) {
    if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0)
        _exit(127);
    if (fd != PX_TEE_WORKER_FD) {
        if (dup2(fd, PX_TEE_WORKER_FD) < 0)
            _exit(127);
    } else if (fcntl(fd, F_SETFD, 0) < 0) {
        _exit(127);
    }
    syscall(SYS_close_range, PX_TEE_WORKER_FD + 1, ~0u, 0);
    unsigned bits = enter_namespaces();
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)
        bits |= PX_ISO_NONEWPRIVS;
    bits |= apply_limits(req);
    uint8_t msg[4] = {(uint8_t)bits, (uint8_t)(bits >> 8), (uint8_t)(bits >> 16), (uint8_t)(bits >> 24)};
    if (write(PX_TEE_WORKER_FD, msg, sizeof msg) != (ssize_t)sizeof msg)
        _exit(127);
    char *const def_argv[] = {(char *)req->worker_path, NULL};
    execve(req->worker_path, req->argv ? req->argv : def_argv, env);
    _exit(127);
}

static int read_full(int fd, uint8_t *p, size_t n) {
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int process_spawn(const px_tee_spawn_req *req, px_tee_worker *w, px_err *err) {
    if (access(req->worker_path, X_OK) != 0)
        return px_fail(err, PX_E_NOTFOUND, "worker %s is not an executable file", req->worker_path);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return px_fail(err, PX_E_IO, "socketpair failed: %s", strerror(errno));
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) {
        close(sv[0]);
        close(sv[1]);
        return px_fail(err, PX_E_IO, "cannot open /dev/null: %s", strerror(errno));
    }
    char *env[ENV_MAX];
    build_env(env);
    pid_t pid = fork();
    if (pid == 0)
        child(req, sv[1], devnull, env);
    close(sv[1]);
    close(devnull);
    if (pid < 0) {
        close(sv[0]);
        return px_fail(err, PX_E_IO, "fork failed: %s", strerror(errno));
    }
    px_tee_worker nw = {pid, sv[0], 0};
    uint8_t msg[4];
    if (read_full(sv[0], msg, sizeof msg)) {
        px_tee_worker_finish(&nw, 1, NULL, NULL);
        return px_fail(err, PX_E_INTERNAL, "worker %s died before it started", req->worker_path);
    }
    nw.isolation = px_load_u32le(msg);
    *w = nw;
    return 0;
}

/* Threads, so that a built-in stage can use every core it is given (the
 * prover verifies signatures on two): a new thread, and nothing that makes
 * a process. clone is admitted only with the flags of a thread, which
 * shares this process's memory and signal handlers and sends no signal at
 * its end: CLONE_THREAD, CLONE_VM and CLONE_SIGHAND set, and no exit
 * signal, CLONE_VFORK, CLONE_PTRACE or new namespace; fork (clone with
 * SIGCHLD), vfork and posix_spawn (CLONE_VM|CLONE_VFORK|SIGCHLD) still
 * kill. clone3 passes its flags in memory, where a filter cannot look, so
 * it fails with ENOSYS and glibc falls back to clone. A new thread
 * registers its robust futex list and its rseq area; glibc reads the CPU
 * affinity (the thread count, pthread_getattr_np), and gives a finished
 * thread's stack back with madvise and munmap, already allowed. glibc's
 * first pthread_create in a process installs the handler of its internal
 * set-id signal (SIGSETXID, kernel signal 33): rt_sigaction is admitted
 * for that signal only. */
#define THREAD_FLAGS_SET (CLONE_THREAD | CLONE_VM | CLONE_SIGHAND)
#define THREAD_FLAGS_MASK                                                                                      \
    (THREAD_FLAGS_SET | CSIGNAL | CLONE_VFORK | CLONE_PTRACE | CLONE_UNTRACED | CLONE_NEWNS | CLONE_NEWCGROUP | \
     CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

#define GLIBC_SIGSETXID 33 /* __SIGRTMIN + 1, below the SIGRTMIN applications see */

static int add_thread_rules(scmp_filter_ctx ctx) {
    static const int plain[] = {SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(sched_getaffinity)};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, plain[i], 0) != 0)
            return -1;
    if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                         SCMP_A0(SCMP_CMP_MASKED_EQ, THREAD_FLAGS_MASK, THREAD_FLAGS_SET)) != 0 ||
        seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) != 0 ||
        seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(rt_sigaction), 1, SCMP_A0(SCMP_CMP_EQ, GLIBC_SIGSETXID)) != 0)
        return -1;
    return 0;
}

/* The worker's allow-list: its channel, memory without execute permission,
 * randomness, clocks (and sleeping until a time: a POD-side instance waits
 * out its pad, docs/lambda.md) and orderly death. Everything else kills it.
 * sysinfo is there because glibc's qsort asks for the machine's memory size
 * (sysconf(_SC_PHYS_PAGES)) before sorting more than a kilobyte: without it
 * a stage that sorts (the prover counting users, the DP stage's keys) dies. */
static int add_rules(scmp_filter_ctx ctx) {
    static const int plain[] = {
        SCMP_SYS(read),         SCMP_SYS(write),           SCMP_SYS(readv), SCMP_SYS(sendto),
        SCMP_SYS(writev),       SCMP_SYS(close),           SCMP_SYS(exit),
        SCMP_SYS(exit_group),   SCMP_SYS(brk),             SCMP_SYS(munmap),
        SCMP_SYS(mremap),       SCMP_SYS(madvise),         SCMP_SYS(getrandom),
        SCMP_SYS(futex),        SCMP_SYS(rt_sigreturn),    SCMP_SYS(rt_sigprocmask),
        SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),   SCMP_SYS(fstat),
        SCMP_SYS(newfstatat),   SCMP_SYS(lseek),           SCMP_SYS(getpid),
        SCMP_SYS(gettid),       SCMP_SYS(tgkill),          SCMP_SYS(sched_yield),
        SCMP_SYS(sigaltstack),  SCMP_SYS(restart_syscall), SCMP_SYS(sysinfo),
        SCMP_SYS(nanosleep),    SCMP_SYS(clock_nanosleep),
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, plain[i], 0) != 0)
            return -1;
    /* Writable or readable memory yes, executable memory never. */
    if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0 ||
        seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
                         SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0)
        return -1;
    return add_thread_rules(ctx);
}

/* The spawn profile: what a worker and the compilers and sandbox runner it
 * starts never need, above all the network and other processes' memory. */
static int add_denials(scmp_filter_ctx ctx) {
    static const int deny[] = {
        SCMP_SYS(connect),       SCMP_SYS(bind),           SCMP_SYS(listen),
        SCMP_SYS(accept),        SCMP_SYS(accept4),        SCMP_SYS(ptrace),
        SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev), SCMP_SYS(pidfd_getfd),
        SCMP_SYS(kcmp),          SCMP_SYS(mount),          SCMP_SYS(umount2),
        SCMP_SYS(pivot_root),    SCMP_SYS(chroot),         SCMP_SYS(setns),
        SCMP_SYS(unshare),       SCMP_SYS(open_by_handle_at), SCMP_SYS(name_to_handle_at),
        SCMP_SYS(kexec_load),    SCMP_SYS(kexec_file_load), SCMP_SYS(init_module),
        SCMP_SYS(finit_module),  SCMP_SYS(delete_module),  SCMP_SYS(bpf),
        SCMP_SYS(perf_event_open), SCMP_SYS(keyctl),       SCMP_SYS(add_key),
        SCMP_SYS(request_key),   SCMP_SYS(userfaultfd),    SCMP_SYS(io_uring_setup),
        SCMP_SYS(reboot),        SCMP_SYS(swapon),         SCMP_SYS(swapoff),
        SCMP_SYS(settimeofday),  SCMP_SYS(clock_settime),  SCMP_SYS(clock_adjtime),
        SCMP_SYS(adjtimex),      SCMP_SYS(acct),           SCMP_SYS(quotactl),
        SCMP_SYS(syslog),        SCMP_SYS(iopl),           SCMP_SYS(ioperm),
        SCMP_SYS(fanotify_init), SCMP_SYS(personality),    SCMP_SYS(vhangup),
    };
    for (size_t i = 0; i < sizeof deny / sizeof deny[0]; i++)
        if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), deny[i], 0) != 0)
            return -1;
    /* Unix socketpairs only: no network sockets of any family. */
    struct scmp_arg_cmp not_unix = {0, SCMP_CMP_NE, AF_UNIX, 0};
    return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1, not_unix);
}

static scmp_filter_ctx build_filter(int compute) {
    scmp_filter_ctx ctx = seccomp_init(compute ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ALLOW);
    if (ctx && (compute ? add_rules(ctx) : add_denials(ctx)) != 0) {
        seccomp_release(ctx);
        return NULL;
    }
    return ctx;
}

/* Both profiles' filters as BPF, built before the worker's INIT
 * (process_prepare): libseccomp takes some 200 us to build one, which was
 * on the path of every instance's start, for a program that depends on
 * nothing the instance brings. Loading the exported program is what
 * seccomp_load does with it: no new privileges, then the filter without
 * flags. This libseccomp exports only to a descriptor: a memfd. */
typedef struct bpf_prog {
    struct sock_filter *insn;
    unsigned short len;
} bpf_prog;
static bpf_prog compiled[2]; /* [0] compute, [1] spawn */

static int export_filter(scmp_filter_ctx ctx, bpf_prog *out) {
    int fd = memfd_create("pixiu-worker-filter", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    struct sock_filter *p = NULL;
    off_t n = seccomp_export_bpf(ctx, fd) == 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (n > 0 && n % (off_t)sizeof *p == 0 && n / (off_t)sizeof *p <= USHRT_MAX)
        p = malloc((size_t)n);
    if (p && pread(fd, p, (size_t)n, 0) == n) {
        out->insn = p;
        out->len = (unsigned short)(n / (off_t)sizeof *p);
        p = NULL;
    }
    close(fd);
    free(p);
    return out->insn ? 0 : -1;
}

static int process_prepare(px_err *err) {
    for (int i = 0; i < 2; i++) {
        if (compiled[i].insn)
            continue;
        scmp_filter_ctx ctx = build_filter(i == 0);
        int rc = ctx ? export_filter(ctx, &compiled[i]) : -1;
        seccomp_release(ctx);
        if (rc)
            return px_fail(err, PX_E_INTERNAL, "cannot build the worker's seccomp filters ahead");
    }
    return 0;
}

static int load_filter(int compute) {
    const bpf_prog *p = &compiled[compute ? 0 : 1];
    if (p->insn) {
        struct sock_fprog fp = {p->len, p->insn};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
            return -1;
        return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) == 0 ? 0 : -1;
    }
    scmp_filter_ctx ctx = build_filter(compute);
    int rc = ctx ? seccomp_load(ctx) : -1;
    seccomp_release(ctx);
    return rc ? -1 : 0;
}

static int process_lockdown(px_tee_profile profile, unsigned *isolation, px_err *err) {
    if (profile != PX_TEE_PROFILE_COMPUTE && profile != PX_TEE_PROFILE_SPAWN)
        return px_fail(err, PX_E_INVALID, "the process backend has no lockdown profile %d", (int)profile);
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return px_fail(err, PX_E_INTERNAL, "cannot make the worker non-dumpable: %s", strerror(errno));
    *isolation |= PX_ISO_NODUMP;
    int compute = profile == PX_TEE_PROFILE_COMPUTE;
    if (load_filter(compute) != 0)
        return px_fail(err, PX_E_INTERNAL, "cannot load the worker's seccomp filter");
    *isolation |= compute ? PX_ISO_SECCOMP : PX_ISO_SECCOMP_SPAWN;
    return 0;
}

static int process_attest(px_evidence *claims, const px_signer *platform, px_buf *out, px_err *err) {
    snprintf(claims->backend, sizeof claims->backend, "%s", "process");
    claims->level = PROCESS_LEVEL;
    if (!claims->issued)
        claims->issued = px_now_ms();
    return px_evidence_sign(out, claims, platform, err);
}

const px_tee_backend px_tee_process = {
    .name = "process",
    .level = PROCESS_LEVEL,
    .available = process_available,
    .spawn = process_spawn,
    .prepare = process_prepare,
    .lockdown = process_lockdown,
    .attest = process_attest,
};
