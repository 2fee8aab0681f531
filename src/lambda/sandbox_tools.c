/* The tools a sandbox uses, fixed once: where they are, what identifies
 * them (the toolchain digest that names cached objects), and the list of
 * files whose content shapes what a task compiles to and runs with (what
 * a measurement hashes).
 *
 * Defaults come from the environment only here, at init; afterwards the
 * paths in px_sandbox are absolute and canonical, and the compilers run
 * with a fixed environment (px_sb_tool_env), so what runs is what was
 * resolved and listed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lambda/sandbox_int.h"
#include "pixiu/crypto.h"

#define COMPILE_TIMEOUT_MS 120000u
#define TOOL_OUTPUT_MAX 4096
#define TOOL_TIMEOUT_MS 10000u
#define LIST_OUTPUT_MAX (256u << 10)
#define RUNNER_NAME "pixiu-wasm-runner"

int px_sb_path_join(char *out, const char *a, const char *b, px_err *err) {
    int n = snprintf(out, PX_SANDBOX_PATH_MAX, "%s/%s", a, b);
    if (n < 0 || n >= PX_SANDBOX_PATH_MAX)
        return px_fail(err, PX_E_INVALID, "path too long: %s/%s", a, b);
    return 0;
}

static int mkdir_p(const char *path, px_err *err) {
    char tmp[PX_SANDBOX_PATH_MAX];
    if (strlen(path) >= sizeof tmp)
        return px_fail(err, PX_E_INVALID, "path too long: %s", path);
    strcpy(tmp, path);
    for (char *p = tmp + 1;; p++) {
        char c = *p;
        if (c != '/' && c != '\0')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) && errno != EEXIST)
            return px_fail(err, PX_E_IO, "creating %s failed: %s", tmp,
                           strerror(errno));
        *p = c;
        if (!c)
            return 0;
    }
}

static int copy_path(char *out, const char *s, const char *what, px_err *err) {
    if (snprintf(out, PX_SANDBOX_PATH_MAX, "%s", s) >= PX_SANDBOX_PATH_MAX)
        return px_fail(err, PX_E_INVALID, "%s path too long", what);
    return 0;
}

static int default_cache_dir(char *out, px_err *err) {
    const char *env = getenv("PIXIU_CACHE_DIR");
    if (env && *env)
        return copy_path(out, env, "PIXIU_CACHE_DIR", err);
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(out, PX_SANDBOX_PATH_MAX, "%s/pixiu/wasm", xdg);
    else if (home && *home)
        n = snprintf(out, PX_SANDBOX_PATH_MAX, "%s/.cache/pixiu/wasm", home);
    else
        return px_fail(err, PX_E_NOTFOUND,
                       "no cache directory: set PIXIU_CACHE_DIR or HOME");
    return n < PX_SANDBOX_PATH_MAX ? 0
                                   : px_fail(err, PX_E_INVALID,
                                             "cache directory path too long");
}

/* The runner sits next to the running executable (or in an installed
 * tree's libexec/pixiu) unless told otherwise. */
static int default_runner(char *out, px_err *err) {
    const char *env = getenv("PIXIU_WASM_RUNNER");
    if (env && *env)
        return copy_path(out, env, "PIXIU_WASM_RUNNER", err);
    if (px_file_installed("libexec", RUNNER_NAME, out, PX_SANDBOX_PATH_MAX, err))
        return px_err_prefix(err, "sandbox runner (set PIXIU_WASM_RUNNER): ");
    return 0;
}

/* Full path of a program as execvp would find it in path_list. */
static int which(const char *tool, const char *path_list, char *out,
                 size_t cap) {
    if (strchr(tool, '/'))
        return snprintf(out, cap, "%s", tool) < (int)cap &&
                       access(out, X_OK) == 0
                   ? 0
                   : -1;
    for (const char *p = path_list; *p;) {
        size_t n = strcspn(p, ":");
        if (n > 0 &&
            (size_t)snprintf(out, cap, "%.*s/%s", (int)n, p, tool) < cap &&
            access(out, X_OK) == 0)
            return 0;
        p += n + (p[n] == ':');
    }
    return -1;
}

/* Resolve a tool to an absolute, canonical path of an executable file. */
static int resolve(char *out, const char *tool, const char *path_list,
                   const char *what, px_err *err) {
    char found[PX_SANDBOX_PATH_MAX], real[PATH_MAX];
    struct stat st;
    if (which(tool, path_list, found, sizeof found))
        return px_fail(err, PX_E_NOTFOUND, "%s not found: %s", what, tool);
    if (!realpath(found, real) || stat(real, &st) || !S_ISREG(st.st_mode) ||
        access(real, X_OK))
        return px_fail(err, PX_E_NOTFOUND, "%s is not an executable file: %s",
                       what, found);
    return copy_path(out, real, what, err);
}

/* Compiles write the module, the generated C and the object there: it must
 * be memory, not disk. */
static int memory_backed(const char *dir, px_err *err) {
    struct statfs fs;
    struct stat st;
    errno = 0;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode) || statfs(dir, &fs))
        return px_fail(err, PX_E_NOTFOUND, "work directory %s: %s", dir,
                       errno ? strerror(errno) : "not a directory");
    if (fs.f_type != TMPFS_MAGIC && fs.f_type != RAMFS_MAGIC)
        return px_fail(err, PX_E_INVALID, "work directory %s is not on a "
                       "memory-backed file system (tmpfs)", dir);
    return 0;
}

/* The compilers' environment: PATH is the C compiler's own directory and
 * the system's, so the assembler and linker gcc looks up in PATH are the
 * ones px_sandbox_components lists; nothing else (no LIBRARY_PATH, CPATH,
 * GCC_EXEC_PREFIX, ...) reaches them. tmpdir, if not NULL, is where gcc
 * puts its temporary files. */
void px_sb_tool_env(const px_sandbox *sb, const char *tmpdir,
                    px_sb_env *env) {
    char dir[PX_SANDBOX_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", sb->cc);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    snprintf(env->path, sizeof env->path, "PATH=%s:/usr/bin:/bin", dir);
    snprintf(env->tmpdir, sizeof env->tmpdir, "TMPDIR=%s",
             tmpdir ? tmpdir : "/nonexistent");
    size_t k = 0;
    env->envp[k++] = env->path;
    env->envp[k++] = (char *)"LC_ALL=C";
    if (tmpdir)
        env->envp[k++] = env->tmpdir;
    env->envp[k] = NULL;
}

/* Run a tool under the fixed environment; its stdout into out (bounded).
 * Returns -1 if it cannot be run or does not exit 0. */
static int tool_output(const px_sandbox *sb, const char *const *argv,
                       int stdin_fd, char *const *envp, size_t max,
                       px_buf *out, px_err *err) {
    px_sb_env env;
    px_sb_tool_env(sb, NULL, &env);
    px_sb_proc p = {.argv = argv, .envp = envp ? envp : env.envp,
                    .stdin_fd = stdin_fd, .timeout_ms = TOOL_TIMEOUT_MS,
                    .max_stdout = max, .out = out};
    if (px_sb_spawn(&p, err))
        return -1;
    if (p.timed_out || !WIFEXITED(p.wstatus) || WEXITSTATUS(p.wstatus) != 0)
        return px_fail(err, PX_E_NOTFOUND, "%s is not usable (%s %s failed)",
                       argv[0], argv[0], argv[1] ? argv[1] : "");
    return 0;
}

/* Asking a tool its version costs a process per instance, and an instance
 * is born per task step. The answer is kept in the (private) cache
 * directory under a name derived from the binary's identity: path, device,
 * inode, size and modification time, so a reinstalled tool is asked again. */
static int memo_name(const px_sandbox *sb, const char *tool, const char *arg,
                     char *out, size_t cap) {
    struct stat st;
    if (stat(tool, &st) != 0)
        return -1;
    char id[PX_SANDBOX_PATH_MAX + 160];
    int n = snprintf(id, sizeof id, "%s\n%s\n%llu %llu %lld %lld.%09ld", tool,
                     arg, (unsigned long long)st.st_dev,
                     (unsigned long long)st.st_ino, (long long)st.st_size,
                     (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    uint8_t d[PX_SHA256_BYTES];
    char hex[2 * PX_SHA256_BYTES + 1];
    px_sha256(d, id, (size_t)n);
    px_hex_encode(hex, d, sizeof d);
    return snprintf(out, cap, "%s/tool-%.32s", sb->cache_dir, hex) < (int)cap
               ? 0
               : -1;
}

/* A memo holds a version line: read through a small buffer, not with
 * px_file_read, whose 64 KiB reservation per read grew the digest's
 * buffer to some 200 KiB (a mapping and copies) at every worker's birth.
 * Too large or unreadable: -1, and the tool is asked again. */
static int read_memo(const char *path, px_buf *b) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char tmp[TOOL_OUTPUT_MAX + 1];
    size_t n = 0;
    ssize_t r = 0;
    while (n < sizeof tmp) {
        r = read(fd, tmp + n, sizeof tmp - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (r < 0 || n > TOOL_OUTPUT_MAX)
        return -1;
    return px_buf_append(b, tmp, n, NULL);
}

static int tool_version(const px_sandbox *sb, const char *tool,
                        const char *arg, px_buf *b, px_err *err) {
    char memo[PX_SANDBOX_PATH_MAX];
    const char *argv[] = {tool, arg, NULL};
    if (memo_name(sb, tool, arg, memo, sizeof memo))
        return tool_output(sb, argv, -1, NULL, TOOL_OUTPUT_MAX, b, err);
    size_t start = b->len;
    if (read_memo(memo, b) == 0)
        return 0;
    b->len = start;
    if (tool_output(sb, argv, -1, NULL, TOOL_OUTPUT_MAX, b, err))
        return -1;
    /* Best effort: a failed write only means asking again next time. */
    px_file_write_atomic(memo, b->data + start, b->len - start, 0600, NULL);
    return 0;
}

/* Digest of everything that shapes the object besides the module. */
static int toolchain_digest(px_sandbox *sb, px_err *err) {
    px_buf id = PX_BUF_INIT;
    int rc = px_sb_toolchain_id(&id, err);
    if (!rc)
        rc = tool_version(sb, sb->wasm2c, "--version", &id, err);
    if (!rc)
        rc = tool_version(sb, sb->cc, "-dumpfullversion", &id, err);
    if (!rc) {
        uint8_t d[PX_SHA256_BYTES];
        px_sha256(d, id.data, id.len);
        px_hex_encode(sb->toolchain, d, sizeof d);
    }
    px_buf_free(&id);
    return rc;
}

void px_sandbox_sweep(const px_sandbox *sb) {
    px_sb_cache_sweep(sb);
    px_sb_work_sweep(sb);
}

int px_sandbox_init_tools(px_sandbox *sb, const px_sandbox_tools *tools,
                          px_err *err) {
    static const px_sandbox_tools none;
    if (!tools)
        tools = &none;
    memset(sb, 0, sizeof *sb);
    sb->compile_timeout_ms = COMPILE_TIMEOUT_MS;
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/bin:/bin";
    char runner[PX_SANDBOX_PATH_MAX];
    if (tools->cache_dir ? copy_path(sb->cache_dir, tools->cache_dir,
                                     "cache directory", err)
                         : default_cache_dir(sb->cache_dir, err))
        return -1;
    if (tools->runner ? copy_path(runner, tools->runner, "runner", err)
                      : default_runner(runner, err))
        return -1;
    if (resolve(sb->runner, runner, "", "sandbox runner", err) ||
        resolve(sb->wasm2c, tools->wasm2c ? tools->wasm2c : "wasm2c", path,
                "wasm2c", err) ||
        resolve(sb->cc, tools->cc ? tools->cc : "gcc", path, "C compiler",
                err))
        return -1;
    if (copy_path(sb->work_dir, tools->work_dir ? tools->work_dir : "/dev/shm",
                  "work directory", err) ||
        memory_backed(sb->work_dir, err) || mkdir_p(sb->cache_dir, err))
        return -1;
    if (!tools->sweep_later)
        px_sandbox_sweep(sb);
    return toolchain_digest(sb, err);
}

int px_sandbox_init(px_sandbox *sb, const char *cache_dir, px_err *err) {
    px_sandbox_tools t = {.cache_dir = cache_dir};
    return px_sandbox_init_tools(sb, &t, err);
}

/* ---- components ---------------------------------------------------------- */

/* Built in full whatever the caller's room, so the count is exact. */
typedef struct list {
    px_sandbox_component *c;
    size_t n, cap;
} list;

static int add(list *l, const char *name, const char *path, px_err *err) {
    char real[PATH_MAX];
    if (!realpath(path, real))
        return px_fail(err, PX_E_NOTFOUND, "component %s not found at %s",
                       name, path);
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->c[i].path, real))
            return 0; /* listed once, under its first name */
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        px_sandbox_component *c = realloc(l->c, cap * sizeof *c);
        if (!c)
            return px_fail(err, PX_E_NOMEM, "out of memory");
        l->c = c;
        l->cap = cap;
    }
    px_sandbox_component *e = &l->c[l->n];
    /* Whole entries are copied out and compared: no stale bytes past the
     * strings. */
    memset(e, 0, sizeof *e);
    if (snprintf(e->name, sizeof e->name, "%s", name) >= (int)sizeof e->name)
        return px_fail(err, PX_E_LIMIT, "component name too long: %s", name);
    if (copy_path(e->path, real, name, err))
        return -1;
    l->n++;
    return 0;
}

/* Strip trailing white space in place; returns the string. */
static char *chomp(px_buf *b) {
    while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == ' '))
        b->len--;
    return px_buf_cstr(b, NULL);
}

/* A program or file as the C compiler finds it (-print-prog-name= or
 * -print-file-name=); a bare name is looked up in the fixed PATH. */
static int cc_finds(const px_sandbox *sb, list *l, const char *name,
                    const char *opt, const char *what, px_err *err) {
    char arg[96];
    snprintf(arg, sizeof arg, "-print-%s-name=%s", opt, what);
    const char *argv[] = {sb->cc, arg, NULL};
    px_buf o = PX_BUF_INIT;
    px_sb_env env;
    px_sb_tool_env(sb, NULL, &env);
    char found[PX_SANDBOX_PATH_MAX];
    int rc = tool_output(sb, argv, -1, NULL, TOOL_OUTPUT_MAX, &o, err);
    const char *s = rc ? NULL : chomp(&o);
    if (!rc && !s)
        rc = px_fail(err, PX_E_NOMEM, "out of memory");
    if (!rc && which(s, env.path + 5, found, sizeof found) &&
        access(s, R_OK) != 0)
        rc = px_fail(err, PX_E_NOTFOUND, "the C compiler does not find %s",
                     what);
    if (!rc)
        rc = add(l, name, strchr(s, '/') ? s : found, err);
    px_buf_free(&o);
    return rc;
}

/* Headers the generated C and the glue include, as the compiler resolves
 * them (cc -M on the same include lines). */
static int headers(const px_sandbox *sb, list *l, px_err *err) {
    static const char src[] =
        "#include <wasm-rt.h>\n#include <assert.h>\n#include <math.h>\n"
        "#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n";
    int fd = px_sb_memfd("pixiu-headers", (const uint8_t *)src,
                         sizeof src - 1, err);
    if (fd < 0)
        return -1;
    const char *argv[] = {sb->cc, "-M", "-x", "c", "-", NULL};
    px_buf o = PX_BUF_INIT;
    int rc = tool_output(sb, argv, fd, NULL, LIST_OUTPUT_MAX, &o, err);
    close(fd);
    char *s = rc ? NULL : px_buf_cstr(&o, err);
    if (!rc && !s)
        rc = -1;
    char *colon = s ? strchr(s, ':') : NULL;
    if (!rc && !colon)
        rc = px_fail(err, PX_E_INVALID, "unexpected output of %s -M", sb->cc);
    char *save = NULL;
    for (char *t = colon ? strtok_r(colon + 1, " \t\n\\", &save) : NULL;
         !rc && t; t = strtok_r(NULL, " \t\n\\", &save)) {
        char name[64 + PX_SANDBOX_PATH_MAX], real[PATH_MAX];
        /* Named by the path itself: two headers may share a file name. */
        snprintf(name, sizeof name, "header %s", realpath(t, real) ? real : t);
        rc = add(l, name, t, err);
    }
    px_buf_free(&o);
    return rc;
}

typedef struct lib {
    char name[64];
    char path[PX_SANDBOX_PATH_MAX];
} lib;

static int cmp_lib(const void *a, const void *b) {
    int c = strcmp(((const lib *)a)->name, ((const lib *)b)->name);
    return c ? c : strcmp(((const lib *)a)->path, ((const lib *)b)->path);
}

/* Shared libraries a program loads, as the dynamic loader resolves them
 * (LD_TRACE_LOADED_OBJECTS: the loader lists them and does not run the
 * program). Appends to libs. */
static int loaded_libs(const px_sandbox *sb, const char *prog, lib **libs,
                       size_t *nlibs, px_err *err) {
    char *envp[] = {(char *)"LD_TRACE_LOADED_OBJECTS=1", (char *)"LC_ALL=C",
                    NULL};
    const char *argv[] = {prog, "--version", NULL};
    px_buf o = PX_BUF_INIT;
    int rc = tool_output(sb, argv, -1, envp, LIST_OUTPUT_MAX, &o, err);
    char *s = rc ? NULL : px_buf_cstr(&o, err);
    if (!rc && !s)
        rc = -1;
    char *save = NULL;
    for (char *line = s ? strtok_r(s, "\n", &save) : NULL; !rc && line;
         line = strtok_r(NULL, "\n", &save)) {
        /* "\tlibc.so.6 => /lib/.../libc.so.6 (0x...)" or
         * "\t/lib64/ld-linux-x86-64.so.2 (0x...)"; the vDSO has no file. */
        char *arrow = strstr(line, "=> ");
        char *p = arrow ? arrow + 3 : line + strspn(line, " \t");
        if (*p != '/')
            continue;
        p[strcspn(p, " (")] = '\0';
        const char *base = strrchr(p, '/') + 1;
        char real[PATH_MAX];
        if (!realpath(p, real)) {
            rc = px_fail(err, PX_E_NOTFOUND, "library %s of %s not found", p,
                         prog);
            break;
        }
        lib *grown = realloc(*libs, (*nlibs + 1) * sizeof **libs);
        if (!grown) {
            rc = px_fail(err, PX_E_NOMEM, "out of memory");
            break;
        }
        *libs = grown;
        snprintf(grown[*nlibs].name, sizeof grown[*nlibs].name, "lib %s", base);
        snprintf(grown[*nlibs].path, sizeof grown[*nlibs].path, "%s", real);
        (*nlibs)++;
    }
    px_buf_free(&o);
    return rc;
}

int px_sandbox_components(const px_sandbox *sb, px_sandbox_component *out,
                          size_t cap, size_t *n, px_err *err) {
    static const char *const progs[] = {"cc1", "as", "collect2", "ld"};
    static const char *const files[] = {
        "crti.o", "crtbeginS.o", "crtendS.o", "crtn.o",
        "libgcc.a", "libgcc_s.so", "libc.so", "libc_nonshared.a"};
    list l = {NULL, 0, 0};
    *n = 0;
    int rc = add(&l, "runner", sb->runner, err);
    if (!rc)
        rc = add(&l, "wasm2c", sb->wasm2c, err);
    if (!rc)
        rc = add(&l, "cc", sb->cc, err);
    for (size_t i = 0; !rc && i < sizeof progs / sizeof *progs; i++)
        rc = cc_finds(sb, &l, progs[i], "prog", progs[i], err);
    size_t nprogs = l.n; /* runner, wasm2c and the programs cc runs */
    if (!rc)
        rc = cc_finds(sb, &l, "lto-plugin", "file", "liblto_plugin.so", err);
    for (size_t i = 0; !rc && i < sizeof files / sizeof *files; i++)
        rc = cc_finds(sb, &l, files[i], "file", files[i], err);
    if (!rc)
        rc = headers(sb, &l, err);
    lib *libs = NULL;
    size_t nlibs = 0;
    for (size_t i = 0; !rc && i < nprogs; i++)
        rc = loaded_libs(sb, l.c[i].path, &libs, &nlibs, err);
    if (!rc && nlibs)
        qsort(libs, nlibs, sizeof *libs, cmp_lib);
    for (size_t i = 0; !rc && i < nlibs; i++)
        rc = add(&l, libs[i].name, libs[i].path, err);
    free(libs);
    if (!rc) {
        *n = l.n;
        if (l.n > cap)
            rc = px_fail(err, PX_E_LIMIT,
                         "%zu sandbox components, room for %zu", l.n, cap);
        else
            memcpy(out, l.c, l.n * sizeof *out);
    }
    free(l.c);
    return rc;
}
