/* Files: bounded reads and durable atomic writes. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pixiu/core.h"

int px_file_read(const char *path, size_t max, px_buf *out, px_err *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return px_fail(err, errno == ENOENT ? PX_E_NOTFOUND : PX_E_IO, "%s: %s", path, strerror(errno));
    size_t start = out->len;
    for (;;) {
        if (px_buf_reserve(out, 65536, err))
            goto fail;
        ssize_t n = read(fd, out->data + out->len, 65536);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            px_fail(err, PX_E_IO, "%s: %s", path, strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        out->len += (size_t)n;
        if (out->len - start > max) {
            px_fail(err, PX_E_LIMIT, "%s: larger than the limit of %zu bytes", path, max);
            goto fail;
        }
    }
    close(fd);
    return 0;
fail:
    out->len = start;
    close(fd);
    return -1;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A destination that exists and is not a regular file (/dev/null, a FIFO,
 * /dev/stdout) is written in place: renaming over it would replace the
 * device node itself with a regular file. */
static int write_in_place(const char *path, const void *data, size_t len, px_err *err) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return px_fail(err, PX_E_IO, "%s: %s", path, strerror(errno));
    int rc = write_all(fd, data, len);
    int saved = errno;
    close(fd);
    return rc ? px_fail(err, PX_E_IO, "%s: %s", path, strerror(saved)) : 0;
}

int px_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode, px_err *err) {
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            return px_fail(err, PX_E_IO, "%s: is a directory", path);
        return write_in_place(path, data, len, err);
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    char *dcopy = strdup(path);
    if (!tmp || !dcopy) {
        free(tmp);
        free(dcopy);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        px_fail(err, PX_E_IO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        px_fail(err, PX_E_IO, "%s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        px_fail(err, PX_E_IO, "%s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    free(tmp);
    free(dcopy);
    return rc;
}

int64_t px_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t px_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The directory of the running executable. */
static int self_dir(char *out, size_t cap, px_err *err) {
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    if (n <= 0 || (size_t)n >= cap - 1)
        return px_fail(err, PX_E_IO, "cannot find the running executable");
    out[n] = 0;
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = 0;
    return 0;
}

/* The directory of the file holding this library's code: libpixiu.so when
 * a program links it, else the program itself. */
static int lib_dir(char *out, size_t cap) {
    Dl_info info;
    if (!dladdr((void *)px_file_installed, &info) || !info.dli_fname || !realpath(info.dli_fname, out))
        return -1;
    (void)cap;
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = 0;
    return 0;
}

static int try_path(char *out, size_t cap, const char *fmt, const char *dir, const char *name) {
    if (snprintf(out, cap, fmt, dir, name) >= (int)cap || access(out, F_OK))
        return -1;
    char *real = realpath(out, NULL);
    if (real && strlen(real) < cap)
        strcpy(out, real);
    free(real);
    return 0;
}

int px_file_installed(const char *kind, const char *name, char *out, size_t cap, px_err *err) {
    char self[PATH_MAX], lib[PATH_MAX];
    if (self_dir(self, sizeof self, err))
        return -1;
    int have_lib = lib_dir(lib, sizeof lib) == 0 && strcmp(lib, self);
    /* In a build tree everything is side by side; installed, each kind has
     * its place under the prefix, found from bin/, libexec/pixiu/ or the
     * library's own directory (lib/ or lib/<multiarch>/). */
    static const char *const libexec[] = {"%s/%s", "%s/../libexec/pixiu/%s", "%s/../%s", "%s/../../libexec/pixiu/%s",
                                          NULL};
    static const char *const share[] = {"%s/../share/pixiu/%s", "%s/../../share/pixiu/%s", NULL};
    const char *const *tries = !strcmp(kind, "libexec") ? libexec : !strcmp(kind, "share") ? share : NULL;
    if (!tries)
        return px_fail(err, PX_E_INVALID, "unknown install location \"%s\"", kind);
    for (int i = 0; tries[i]; i++)
        if (!try_path(out, cap, tries[i], self, name) || (have_lib && !try_path(out, cap, tries[i], lib, name)))
            return 0;
    snprintf(out, cap, tries[0], self, name);
    return px_fail(err, PX_E_NOTFOUND, "%s not found next to %s nor where an installed PIXIU keeps it", name,
                   self);
}
