/* A task that reads its input and then traps (a WebAssembly `unreachable`),
 * so its stage signs a failure before the DP stage runs. */
#include "pixiu_task.h"

int main(void) {
    size_t n;
    uint8_t *in = px_task_read_input(&n);
    if (in && n > 0)
        __builtin_trap();
    return 1;
}
