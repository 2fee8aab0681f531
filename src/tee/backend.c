/* The backend table and what every backend shares: looking a backend up by
 * name and reaping a worker. Hardware backends are named here so that a
 * manifest asking for one gets a precise answer, but none is implemented. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pixiu/tee.h"

static const char *const hardware_names[] = {"sgx-dcap", "sev-snp", "tdx"};

int px_tee_backend_find(const char *name, const px_tee_backend **out, px_err *err) {
    if (!strcmp(name, px_tee_process.name)) {
        *out = &px_tee_process;
        return 0;
    }
    for (size_t i = 0; i < sizeof hardware_names / sizeof hardware_names[0]; i++)
        if (!strcmp(name, hardware_names[i]))
            return px_fail(err, PX_E_UNAVAILABLE, "TEE backend \"%s\" is not supported by this build", name);
    return px_fail(err, PX_E_NOTFOUND, "unknown TEE backend \"%.40s\"", name);
}

int px_tee_worker_finish(px_tee_worker *w, int kill_first, int *status, px_err *err) {
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    if (w->pid <= 0)
        return 0;
    if (kill_first)
        kill(w->pid, SIGKILL);
    int st = 0;
    pid_t r;
    do
        r = waitpid(w->pid, &st, 0);
    while (r < 0 && errno == EINTR);
    w->pid = -1;
    if (r < 0)
        return px_fail(err, PX_E_INTERNAL, "waiting for the worker failed: %s", strerror(errno));
    if (status)
        *status = st;
    return 0;
}
