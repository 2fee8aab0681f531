/* Shared test helpers: cmocka plus reading files of the source tree. */
#ifndef PX_TEST_H
#define PX_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pixiu/core.h"

/* Read PX_SOURCE_DIR/rel into out (appended); fails the test if missing. */
static inline void px_test_read(const char *rel, px_buf *out) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", PX_SOURCE_DIR, rel);
    px_err err = {0};
    if (px_file_read(path, 64u << 20, out, &err))
        fail_msg("cannot read %s: %s", path, err.msg);
}

/* Assert a call failed with the given code, printing the message if not. */
#define px_assert_fails(call, errp, want)                                                        \
    do {                                                                                          \
        int rc_ = (call);                                                                         \
        if (rc_ != -1)                                                                            \
            fail_msg("%s succeeded, expected failure %s", #call, px_code_name(want));            \
        if ((errp)->code != (want))                                                               \
            fail_msg("%s failed with %s (%s), expected %s", #call, px_code_name((errp)->code),  \
                     (errp)->msg, px_code_name(want));                                          \
    } while (0)

#define px_assert_ok(call, errp)                                                                  \
    do {                                                                                          \
        if ((call) != 0)                                                                          \
            fail_msg("%s failed: %s", #call, (errp)->msg);                                       \
    } while (0)

#endif
