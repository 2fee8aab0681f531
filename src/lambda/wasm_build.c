/* `pixiu task build`: a task author's C source to a wasm32-wasi module.
 *
 * clang-14 with Debian's wasi-libc, the shadow stack placed first in linear
 * memory (an overflow runs below address 0 and traps instead of silently
 * corrupting data) with a fixed size, and the result stripped of names and
 * debug sections. The module is then put through the same validator the
 * sandbox uses, so an author learns at build time what a node would refuse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lambda/sandbox_int.h"

#define BUILD_TIMEOUT_MS 120000u
#define BUILD_STDERR_MAX 8192
#define TASK_STACK_BYTES "1048576"
#define TASK_SDK_HEADER "pixiu_task.h"

/* --sdk, else $PIXIU_SDK_DIR, else the SDK installed with this pixiu
 * (PREFIX/share/pixiu/sdk), else the source tree it was built from. */
static int find_sdk(const char *given, char *out, px_err *err) {
    const char *env = getenv("PIXIU_SDK_DIR");
    char installed[PX_SANDBOX_PATH_MAX];
    const char *dir = given                                                                ? given
                      : (env && *env)                                                      ? env
                      : !px_file_installed("share", "sdk", installed, sizeof installed, NULL) ? installed
                                                                                           : PX_SOURCE_DIR "/sdk";
    if (snprintf(out, PX_SANDBOX_PATH_MAX, "%s/" TASK_SDK_HEADER, dir) >=
        PX_SANDBOX_PATH_MAX)
        return px_fail(err, PX_E_INVALID, "SDK path too long");
    if (access(out, R_OK))
        return px_fail(err, PX_E_NOTFOUND,
                       "SDK header %s not found (use --sdk or PIXIU_SDK_DIR)",
                       out);
    snprintf(out, PX_SANDBOX_PATH_MAX, "%s", dir);
    return 0;
}

int px_wasm_build(const char *src, const char *out, const char *sdk_dir,
                  px_err *err) {
    char sdk[PX_SANDBOX_PATH_MAX], inc[PX_SANDBOX_PATH_MAX + 3];
    if (find_sdk(sdk_dir, sdk, err))
        return -1;
    snprintf(inc, sizeof inc, "-I%s", sdk);
    const char *argv[] = {
        "clang-14", "--target=wasm32-wasi", "-O2", "-std=c11", "-Wall",
        inc, "-Wl,--stack-first", "-Wl,-z,stack-size=" TASK_STACK_BYTES,
        "-Wl,--strip-all", "-o", out, src, NULL};
    px_buf errout = PX_BUF_INIT;
    px_sb_proc p = {.argv = argv, .stdin_fd = -1, .timeout_ms = BUILD_TIMEOUT_MS,
                    .max_stdout = BUILD_STDERR_MAX,
                    .max_stderr = BUILD_STDERR_MAX, .errout = &errout};
    if (px_sb_spawn(&p, err)) {
        px_buf_free(&errout);
        return -1;
    }
    if (errout.len) /* the compiler's diagnostics belong to the author */
        fwrite(errout.data, 1, errout.len, stderr);
    px_buf_free(&errout);
    if (p.timed_out)
        return px_fail(err, PX_E_LIMIT, "clang-14 took longer than %u ms",
                       BUILD_TIMEOUT_MS);
    if (!WIFEXITED(p.wstatus) || WEXITSTATUS(p.wstatus) != 0)
        return px_fail(err, PX_E_INVALID, "clang-14 failed to build %s", src);
    px_buf mod = PX_BUF_INIT;
    px_wasm_policy pol = {PX_WASM_MODULE_MAX_DEFAULT,
                          (uint32_t)((uint64_t)PX_SANDBOX_MEM_MB_DEFAULT *
                                     1048576 / PX_WASM_PAGE_BYTES)};
    int rc = px_file_read(out, PX_WASM_MODULE_MAX_DEFAULT + 1, &mod, err);
    if (!rc && px_wasm_validate(mod.data, mod.len, &pol, NULL, NULL, err)) {
        unlink(out);
        rc = px_err_prefix(err, "built module would be refused: ");
    }
    px_buf_free(&mod);
    return rc;
}
