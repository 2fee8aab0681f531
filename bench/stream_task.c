/* A streaming task for bench/sandbox.c: reads little-endian int32 values
 * from standard input with fread in 256 KiB chunks and keeps, as it goes,
 * a 256-bin histogram (of the low byte), a 64-bit sum and a two-parameter
 * SGD fit y ~ w*x + b, where x and y are the value's low and high 16 bits
 * scaled to [0, 1). It never holds more than one chunk, unlike the
 * in-memory tasks, so the input path (how stdin reaches the task) is part
 * of what it measures. Plain C and stdio: the same file is built with
 * gcc -O2 as the native baseline and with `pixiu task build` for the
 * sandbox; their outputs must be identical. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CHUNK (256u << 10)
#define RATE 0x1p-12

int main(void) {
    static uint8_t buf[CHUNK];
    static uint64_t hist[256];
    uint64_t count = 0;
    int64_t sum = 0;
    double w = 0, b = 0;
    size_t have = 0, got;
    while ((got = fread(buf + have, 1, CHUNK - have, stdin)) > 0) {
        have += got;
        size_t n = have / 4;
        for (size_t i = 0; i < n; i++) {
            int32_t v;
            memcpy(&v, buf + 4 * i, 4); /* wasm and x86-64: little-endian */
            uint32_t u = (uint32_t)v;
            hist[u & 0xff]++;
            sum += v;
            double x = (double)(u & 0xffff) * 0x1p-16;
            double y = (double)(u >> 16) * 0x1p-16;
            double e = w * x + b - y;
            w -= RATE * e * x;
            b -= RATE * e;
        }
        count += n;
        /* A read may end inside a value: keep its bytes for the next. */
        memmove(buf, buf + 4 * n, have - 4 * n);
        have -= 4 * n;
    }
    if (ferror(stdin))
        return 2;
    printf("count %llu sum %lld w %.17g b %.17g trailing %zu\n",
           (unsigned long long)count, (long long)sum, w, b, have);
    for (int i = 0; i < 256; i++)
        printf("%llu%c", (unsigned long long)hist[i], i % 16 == 15 ? '\n' : ' ');
    return 0;
}
