/* The process backend for real: what a spawned worker sees (namespaces, no
 * new privileges, limits, only its channel), and that lockdown's seccomp
 * filter kills on a forbidden call while allowing the worker's own,
 * threads included. */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/ptrace.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "px_test.h"
#include "pixiu/tee.h"

/* Run a shell snippet as the "worker" and collect what it writes on the
 * channel. */
static void spawn_sh(const char *script, px_tee_worker *w, px_buf *out) {
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
    px_tee_spawn_req req = {"/bin/sh", argv, 0, 5};
    px_err err = {0};
    px_assert_ok(px_tee_process.spawn(&req, w, &err), &err);
    char buf[4096];
    ssize_t n;
    while ((n = read(w->fd, buf, sizeof buf)) > 0)
        px_buf_append(out, buf, (size_t)n, &err);
    int st = 0;
    px_assert_ok(px_tee_worker_finish(w, 0, &st, &err), &err);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    px_buf_cstr(out, &err);
}

static void test_spawn_isolation(void **state) {
    (void)state;
    px_tee_worker w;
    px_buf out = PX_BUF_INIT;
    spawn_sh("grep -E '^(NoNewPrivs)' /proc/self/status >&3; readlink /proc/self/ns/net >&3; "
             "grep -E '^Max (open files|cpu time)' /proc/self/limits >&3; ls /proc/self/fd >&3; true",
             &w, &out);
    const char *s = (const char *)out.data;
    assert_non_null(strstr(s, "NoNewPrivs:\t1"));
    assert_true(w.isolation & PX_ISO_NONEWPRIVS);
    assert_true(w.isolation & PX_ISO_NETNS);
    assert_true(w.isolation & PX_ISO_RLIMIT_CPU);
    assert_true(w.isolation & PX_ISO_RLIMIT_FILES);
    char mine[128] = {0};
    assert_true(readlink("/proc/self/ns/net", mine, sizeof mine - 1) > 0);
    assert_null(strstr(s, mine)); /* another network namespace */
    assert_non_null(strstr(s, "Max cpu time              5"));
    assert_non_null(strstr(s, "Max open files            32"));
    px_buf_free(&out);
}

/* Only the channel crosses into the worker: a descriptor the host left
 * inheritable does not. */
static void test_spawn_fds(void **state) {
    (void)state;
    int leak = fcntl(2, F_DUPFD, 10); /* no close-on-exec */
    assert_true(leak > 3);
    char *argv[] = {"/bin/sleep", "5", NULL};
    px_tee_spawn_req req = {"/bin/sleep", argv, 0, 5};
    px_tee_worker w;
    px_err err = {0};
    px_assert_ok(px_tee_process.spawn(&req, &w, &err), &err);
    char dir[64], seen[64] = {0};
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)w.pid);
    /* Wait for exec to have replaced the child (up to 10 s: a loaded
     * machine can take a while to schedule it). */
    char exe[64], target[256];
    snprintf(exe, sizeof exe, "/proc/%d/exe", (int)w.pid);
    for (int i = 0; i < 5000; i++) {
        ssize_t n = readlink(exe, target, sizeof target - 1);
        if (n > 0 && (target[n] = 0, strstr(target, "sleep")))
            break;
        usleep(2000);
    }
    /* The program itself may open a file for a moment as it starts (its
     * locale): a leaked descriptor is one that stays. */
    for (int i = 0; i < 1000; i++) {
        seen[0] = 0;
        DIR *d = opendir(dir);
        assert_non_null(d);
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.')
                strncat(seen, e->d_name, sizeof seen - strlen(seen) - 2), strcat(seen, " ");
        closedir(d);
        if (!strcmp(seen, "0 1 2 3 "))
            break;
        usleep(2000);
    }
    assert_string_equal(seen, "0 1 2 3 ");
    px_assert_ok(px_tee_worker_finish(&w, 1, NULL, &err), &err);
    close(leak);
}

static void test_spawn_missing(void **state) {
    (void)state;
    px_tee_spawn_req req = {"/nonexistent/worker", NULL, 0, 0};
    px_tee_worker w;
    px_err err = {0};
    px_assert_fails(px_tee_process.spawn(&req, &w, &err), &err, PX_E_NOTFOUND);
}

/* In a forked child: lock down, then do `what`; report how it ended. */
static int locked_child(int what) {
    pid_t pid = fork();
    if (pid == 0) {
        unsigned iso = 0;
        px_err err = {0};
        if (px_tee_process.lockdown(PX_TEE_PROFILE_COMPUTE, &iso, &err))
            _exit(3);
        if (!(iso & PX_ISO_SECCOMP) || !(iso & PX_ISO_NODUMP))
            _exit(4);
        void *p = malloc(1 << 20); /* memory stays available */
        if (!p)
            _exit(5);
        memset(p, 1, 1 << 20);
        uint8_t r[16];
        px_random(r, sizeof r);
        if (what == 1)
            socket(AF_INET, SOCK_STREAM, 0);
        if (what == 2)
            mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (what == 3)
            fork();
        if (what == 4)
            execl("/bin/true", "true", (char *)NULL);
        if (what == 5)
            open("/etc/hostname", O_RDONLY);
        if (what == 6) /* what vfork and posix_spawn ask for: a process */
            syscall(SYS_clone, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL, NULL, NULL, 0);
        if (what == 7) /* thread flags with a namespace (the kernel would refuse it anyway) */
            syscall(SYS_clone, CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | CLONE_NEWUSER, NULL, NULL, NULL, 0);
        if (what == 8) /* thread flags with an exit signal (CLONE_PIDFD: the kernel would refuse it) */
            syscall(SYS_clone, CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | CLONE_PIDFD | SIGCHLD, NULL, NULL, NULL, 0);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return st;
}

static void test_lockdown(void **state) {
    (void)state;
    int st = locked_child(0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    /* a socket, executable memory, fork, exec, a file open, and clone with
     * anything but a thread's flags */
    for (int what = 1; what <= 8; what++) {
        st = locked_child(what);
        if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
            fail_msg("forbidden call %d was not killed (status 0x%x)", what, st);
    }
}

static void *add_up(void *arg) {
    uint64_t *v = arg, sum = 0;
    for (uint64_t i = 1; i <= v[0]; i++)
        sum += i;
    v[1] = sum;
    return NULL;
}

/* Under the compute profile a stage may start threads (the prover checks
 * signatures on every core it may use), glibc's way: clone3 fails with
 * ENOSYS, clone with a thread's flags works, and so does asking for the
 * CPU affinity. */
static void test_lockdown_threads(void **state) {
    (void)state;
    pid_t pid = fork();
    if (pid == 0) {
        unsigned iso = 0;
        px_err err = {0};
        if (px_tee_process.lockdown(PX_TEE_PROFILE_COMPUTE, &iso, &err))
            _exit(3);
        if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
            _exit(4);
        cpu_set_t set;
        if (sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) < 1)
            _exit(5);
        for (int round = 0; round < 3; round++) { /* a second thread reuses a cached stack */
            pthread_t t[2];
            uint64_t v[2][2] = {{1000, 0}, {2000, 0}};
            for (int i = 0; i < 2; i++)
                if (pthread_create(&t[i], NULL, add_up, v[i]) != 0)
                    _exit(6);
            for (int i = 0; i < 2; i++)
                if (pthread_join(t[i], NULL) != 0)
                    _exit(7);
            if (v[0][1] != 500500 || v[1][1] != 2001000)
                _exit(8);
        }
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("threads under the compute filter: status 0x%x", st);
}

/* The spawn profile: processes may be started, the network and other
 * processes' memory may not be touched (EPERM, not death). */
static void test_lockdown_spawn(void **state) {
    (void)state;
    pid_t pid = fork();
    if (pid == 0) {
        unsigned iso = 0;
        px_err err = {0};
        if (px_tee_process.lockdown(PX_TEE_PROFILE_SPAWN, &iso, &err) || !(iso & PX_ISO_SECCOMP_SPAWN) ||
            (iso & PX_ISO_SECCOMP))
            _exit(3);
        if (socket(AF_INET, SOCK_STREAM, 0) != -1 || errno != EPERM)
            _exit(4);
        if (socket(AF_INET6, SOCK_DGRAM, 0) != -1 || errno != EPERM)
            _exit(5);
        if (ptrace(PTRACE_ATTACH, getppid(), 0, 0) != -1 || errno != EPERM)
            _exit(6);
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
            _exit(7);
        int st = system("exit 9"); /* fork + exec still work */
        _exit(WIFEXITED(st) && WEXITSTATUS(st) == 9 ? 0 : 8);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void) {
    px_err err = {0};
    px_crypto_init(&err);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spawn_isolation),
        cmocka_unit_test(test_spawn_fds),
        cmocka_unit_test(test_spawn_missing),
        cmocka_unit_test(test_lockdown),
        cmocka_unit_test(test_lockdown_threads),
        cmocka_unit_test(test_lockdown_spawn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
