/* Raw bytes in, text out: counts lines, words and bytes of the input. */
#include "pixiu_task.h"

int main(void) {
    size_t n;
    uint8_t *in = px_task_read_input(&n);
    if (!in)
        px_task_fail("reading the input failed");
    uint64_t lines = 0, words = 0;
    int in_word = 0;
    for (size_t i = 0; i < n; i++) {
        int space = in[i] == ' ' || in[i] == '\n' || in[i] == '\t' || in[i] == '\r';
        lines += in[i] == '\n';
        words += !space && !in_word;
        in_word = !space;
    }
    printf("%llu %llu %zu\n", (unsigned long long)lines, (unsigned long long)words, n);
    free(in);
    return 0;
}
