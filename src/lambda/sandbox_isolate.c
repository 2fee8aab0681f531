/* Isolation for the compilers: wasm2c and the C compiler read a module a
 * stranger wrote, so a bug in either must not become the node's. Each
 * compile step runs (besides its rlimits, sandbox_compile.c):
 *
 *   - under a seccomp deny-list: no sockets, no ptrace or other processes'
 *     memory, no mounts or namespaces, no kernel keys, modules, BPF or
 *     perf, no io_uring, no clock or system changes; each answers EPERM;
 *   - under Landlock (Linux 5.13+): the toolchain's directories read and
 *     execute only, its own work directory read and write, nothing else of
 *     the file system (no node state, no keys, no other compile); no TCP;
 *     no signals to or abstract sockets of processes outside.
 *
 * Both are built in the parent before fork (the seccomp program once per
 * process) and applied in the child with system calls only, so the child
 * stays async-signal-safe. A kernel without Landlock keeps the rest and
 * the result says so (px_sb_isolation_bits).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lambda/sandbox_int.h"

/* Landlock ABI additions newer than some distributions' headers; the
 * values are the kernel's ABI. */
#define LL_FS_TRUNCATE (1ULL << 14)
#define LL_FS_IOCTL_DEV (1ULL << 15)
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_attr {
    uint64_t fs, net, scoped;
};

#define LL_FS_ABI1                                                                                     \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |        \
     LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |     \
     LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |         \
     LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |      \
     LANDLOCK_ACCESS_FS_MAKE_SYM)
#define LL_READ_EXEC (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_WORK                                                                                        \
    (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |       \
     LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_DIR |        \
     LANDLOCK_ACCESS_FS_REMOVE_DIR | LL_FS_TRUNCATE)

/* System calls a compiler never needs. */
static const char *const denied[] = {
    "socket", "socketpair", "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2",
    "pivot_root", "chroot", "unshare", "setns", "move_mount", "open_tree", "fsopen", "fsmount", "fsconfig",
    "fspick", "mount_setattr", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot", "swapon",
    "swapoff", "io_uring_setup", "io_uring_enter", "io_uring_register", "open_by_handle_at",
    "name_to_handle_at", "personality", "acct", "quotactl", "syslog", "vhangup", "iopl", "ioperm",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname",
    "kcmp", "fanotify_init", "lookup_dcookie", "pidfd_getfd", "memfd_secret", "landlock_create_ruleset",
};

static struct {
    pthread_once_t once;
    struct sock_filter *prog;
    unsigned short len;
    int ll_abi; /* Landlock ABI version, or 0 */
} g = {PTHREAD_ONCE_INIT, NULL, 0, 0};

/* The deny-list as a BPF program, exported once through a memfd (this
 * libseccomp has no export to memory). */
static void build_once(void) {
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    g.ll_abi = abi > 0 ? (int)abi : 0;
    scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
    if (!f)
        return;
    int ok = 1;
    for (size_t i = 0; i < sizeof denied / sizeof denied[0] && ok; i++) {
        int nr = seccomp_syscall_resolve_name(denied[i]);
        if (nr != __NR_SCMP_ERROR)
            ok = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), nr, 0) == 0;
    }
    int fd = ok ? memfd_create("pixiu-compile-filter", MFD_CLOEXEC) : -1;
    if (fd >= 0 && seccomp_export_bpf(f, fd) == 0) {
        off_t n = lseek(fd, 0, SEEK_END);
        struct sock_filter *p = n > 0 && n % (off_t)sizeof *p == 0 ? malloc((size_t)n) : NULL;
        if (p && pread(fd, p, (size_t)n, 0) == n) {
            g.prog = p;
            g.len = (unsigned short)(n / (off_t)sizeof *p);
        } else {
            free(p);
        }
    }
    if (fd >= 0)
        close(fd);
    seccomp_release(f);
}

int px_sb_isolation_prepare(px_sb_isolation *iso, const px_sandbox *sb, const char *work_dir, px_err *err) {
    pthread_once(&g.once, build_once);
    memset(iso, 0, sizeof *iso);
    if (!g.prog)
        return px_fail(err, PX_E_INTERNAL, "the compilers' seccomp filter could not be built");
    iso->prog = g.prog;
    iso->prog_len = g.len;
    iso->ll_abi = g.ll_abi;
    /* What the tools may read and run: the system's toolchain trees, the
     * loader's cache, and the trees the resolved tools live in. */
    static const char *const sys[] = {"/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc/ld.so.cache",
                                       "/etc/alternatives"};
    for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++)
        px_sb_isolation_allow(iso, sys[i], LL_READ_EXEC);
    const char *tools[] = {sb->wasm2c, sb->cc};
    for (size_t i = 0; i < 2; i++) {
        char d[PX_SANDBOX_PATH_MAX];
        snprintf(d, sizeof d, "%s", tools[i]);
        for (int up = 0; up < 2; up++) { /* <tree>/bin/tool -> <tree> */
            char *slash = strrchr(d, '/');
            if (!slash || slash == d)
                break;
            *slash = '\0';
        }
        if (d[0] == '/' && d[1])
            px_sb_isolation_allow(iso, d, LL_READ_EXEC);
    }
    px_sb_isolation_allow(iso, "/dev/null", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE);
    px_sb_isolation_allow(iso, work_dir, LL_WORK);
    return 0;
}

void px_sb_isolation_allow(px_sb_isolation *iso, const char *path, uint64_t access) {
    if (iso->npaths < PX_SB_ISO_PATHS_MAX && strlen(path) < PX_SANDBOX_PATH_MAX) {
        snprintf(iso->paths[iso->npaths], PX_SANDBOX_PATH_MAX, "%s", path);
        iso->access[iso->npaths++] = access;
    }
}

/* The rights a kernel of this Landlock ABI knows, of those wanted. */
static uint64_t fs_known(int abi) {
    uint64_t a = LL_FS_ABI1;
    if (abi >= 2)
        a |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        a |= LL_FS_TRUNCATE;
    if (abi >= 5)
        a |= LL_FS_IOCTL_DEV;
    return a;
}

/* In the child, after fork: system calls only. */
static int landlock_enter(const px_sb_isolation *iso) {
    if (iso->ll_abi <= 0)
        return -1;
    struct ll_attr attr = {fs_known(iso->ll_abi), LL_NET_BIND_TCP | LL_NET_CONNECT_TCP,
                           LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL};
    size_t size = iso->ll_abi >= 6 ? sizeof attr : iso->ll_abi >= 4 ? 2 * sizeof(uint64_t) : sizeof(uint64_t);
    int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (rs < 0)
        return -1;
    for (size_t i = 0; i < iso->npaths; i++) {
        int fd = open(iso->paths[i], O_PATH | O_CLOEXEC);
        if (fd < 0)
            continue; /* a tree this system does not have */
        struct landlock_path_beneath_attr pb = {.allowed_access = iso->access[i] & attr.fs, .parent_fd = fd};
        struct stat st;
        /* Directory-only rights on a file are refused: keep the file ones. */
        if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
            pb.allowed_access &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                 LANDLOCK_ACCESS_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV;
        syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
        close(fd);
    }
    int rc = (int)syscall(SYS_landlock_restrict_self, rs, 0);
    close(rs);
    return rc;
}

unsigned px_sb_isolation_enter(const px_sb_isolation *iso) {
    unsigned bits = 0;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        return 0;
    if (landlock_enter(iso) == 0)
        bits |= PX_SB_ISO_LANDLOCK;
    struct sock_fprog fp = {iso->prog_len, (struct sock_filter *)iso->prog};
    if (iso->prog && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) == 0)
        bits |= PX_SB_ISO_SECCOMP;
    return bits;
}
