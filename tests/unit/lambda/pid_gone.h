/* Whether a process runs nothing any more: gone, or a zombie nobody has
 * reaped yet. For tests that watch a runner or worker end. */
#ifndef PX_TEST_PID_GONE_H
#define PX_TEST_PID_GONE_H

#include <stdio.h>
#include <string.h>
#include <sys/types.h>

static inline int pid_gone(pid_t pid) {
    char path[64], st[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 1;
    size_t n = fread(st, 1, sizeof st - 1, fp);
    fclose(fp);
    st[n] = '\0';
    const char *end = strrchr(st, ')'); /* after the command name */
    return end && end[1] == ' ' && end[2] == 'Z';
}

#endif
