/* The runs' input, read from fd 0 while the runs go.
 *
 * fd 0 is a pipe the parent fills as the runner reads it: it lends the
 * groups' bytes to the pipe (vmsplice), so a run's large fd_read goes from
 * the pipe straight into linear memory, and that read is the only copy of
 * the input anywhere (a program reading a pipe makes the same one). Small
 * reads are served from a 16 KiB buffer refilled by one read, so a batch of
 * many small groups costs one system call per 16 KiB, not one per run.
 *
 * Each run sees exactly its own group: its reads end at the group's end
 * (end of file there), and what it leaves unread is discarded after it
 * ended, so the next run starts at the start of its group.
 *
 * Bytes taken from the pipe and their count must never be separated by a
 * long jump (the CPU timer), or the runs would lose their boundaries: a
 * read runs with g_critical set, as writing output does, and the run ends
 * for its timer right after.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

#define IN_BUF (16u << 10)

static struct {
    uint8_t buf[IN_BUF];
    size_t pos, end;      /* the unread bytes buf[pos, end) */
    uint64_t stream_left; /* bytes the parent has still to send */
} g_in;

void runner_input_init(uint64_t total) { g_in.stream_left = total; }

/* One read from fd 0 of at most n bytes (0 < n <= what is still to come).
 * An end before the promised bytes is the host's failure. */
static size_t pull(uint8_t *dst, size_t n) {
    for (;;) {
        ssize_t r = read(0, dst, n);
        if (r > 0) {
            g_in.stream_left -= (uint64_t)r;
            return (size_t)r;
        }
        if (r < 0 && errno == EINTR)
            continue;
        runner_fail(r == 0 ? "the input ended early" : "reading the input failed");
    }
}

static void refill(void) {
    size_t ask = g_in.stream_left < IN_BUF ? (size_t)g_in.stream_left : IN_BUF;
    g_in.pos = 0;
    g_in.end = pull(g_in.buf, ask);
}

uint64_t runner_input_read(host_t *h, uint8_t *dst, uint64_t len) {
    uint64_t want = len < h->in_left ? len : h->in_left, done = 0;
    g_critical = 1;
    while (done < want) {
        size_t have = g_in.end - g_in.pos;
        uint64_t need = want - done;
        if (have) {
            size_t take = need < have ? (size_t)need : have;
            memcpy(dst + done, g_in.buf + g_in.pos, take);
            g_in.pos += take;
            done += take;
        } else if (need >= IN_BUF) { /* large: straight into linear memory */
            done += pull(dst + done, need);
        } else {
            refill();
        }
    }
    h->in_left -= want;
    g_critical = 0;
    if (g_cpu_pending)
        runner_end_run(END_CPU);
    return want;
}

void runner_input_skip(host_t *h) {
    while (h->in_left) {
        size_t have = g_in.end - g_in.pos;
        if (!have) {
            refill();
            continue;
        }
        size_t take = h->in_left < have ? (size_t)h->in_left : have;
        g_in.pos += take;
        h->in_left -= take;
    }
}
