/* The task SDK's federated-learning part (sdk/pixiu_task.h) built natively:
 * model blocks (PXFM) and updates (PXFU) written and read back, every
 * malformed one refused by name, the update written on standard output,
 * the PRG against reference values and the word hashing against FNV-1a's. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "../../../sdk/pixiu_task.h"
#include "pixiu/records.h"

#define DIM 10

static void weights(float *w, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        w[i] = (float)i * 0.25f - 1.0f;
}

static size_t block(uint8_t *out, uint32_t round, uint64_t seed) {
    float w[DIM];
    weights(w, DIM);
    assert_int_equal(px_task_model_encode(out, DIM, round, seed, w), 0);
    return px_task_model_size(DIM);
}

static void test_model_roundtrip(void **state) {
    uint8_t b[24 + 4 * DIM + 3];
    size_t n = block(b, 7, 0x0102030405060708ULL);
    assert_int_equal(n, 24 + 4 * DIM);
    /* The layout byte for byte: magic, version, dim, round, seed (LE). */
    static const uint8_t head[24] = {'P', 'X', 'F', 'M', 1, 0, 0, 0, DIM, 0, 0, 0, 7, 0, 0, 0,
                                     8, 7, 6, 5, 4, 3, 2, 1};
    assert_memory_equal(b, head, 24);
    memcpy(b + n, "abc", 3);
    px_task_model m;
    assert_int_equal(px_task_model_open(&m, b, n + 3), 0);
    assert_int_equal(m.dim, DIM);
    assert_int_equal(m.round, 7);
    assert_true(m.seed == 0x0102030405060708ULL);
    assert_ptr_equal(m.rest, b + n);
    assert_int_equal(m.rest_len, 3);
    float w[DIM], want[DIM];
    px_task_model_weights(&m, w);
    weights(want, DIM);
    assert_memory_equal(w, want, sizeof w);
}

/* The model block followed by a PXR1 stream: the records read as usual. */
static void test_model_input(void **state) {
    px_schema s;
    memset(&s, 0, sizeof s);
    s.nfields = 2;
    s.user_field = PX_NO_USER_FIELD;
    strcpy(s.fields[0].name, "text");
    s.fields[0].type = PX_FIELD_TEXT;
    strcpy(s.fields[1].name, "label");
    s.fields[1].type = PX_FIELD_INT;
    px_buf in = PX_BUF_INIT;
    uint8_t b[24 + 4 * DIM];
    assert_int_equal(px_buf_append(&in, b, block(b, 1, 2), NULL), 0);
    assert_int_equal(px_records_begin(&in, &s, 2, NULL), 0);
    for (int i = 0; i < 2; i++) {
        px_value v[2] = {{.type = PX_FIELD_TEXT, .p = (const uint8_t *)"goal match", .len = 10},
                         {.type = PX_FIELD_INT, .i = i}};
        assert_int_equal(px_records_append(&in, &s, v, 0, NULL), 0);
    }
    px_task_model m;
    px_task_records r;
    px_task_value v[PX_TASK_MAX_FIELDS];
    uint8_t flags;
    assert_int_equal(px_task_model_input(&m, &r, in.data, in.len), 0);
    assert_int_equal(px_task_find(&r, "label"), 1);
    assert_int_equal(px_task_records_next(&r, v, &flags), 1);
    assert_int_equal(px_task_records_next(&r, v, &flags), 1);
    assert_int_equal(v[1].i, 1);
    assert_int_equal(px_task_records_next(&r, v, &flags), 0);
    /* A model block alone, or with garbage after it, is not a stage input. */
    assert_int_equal(px_task_model_input(&m, &r, in.data, px_task_model_size(DIM)), -1);
    assert_string_equal(m.error, "PXR1: bad magic");
    in.data[px_task_model_size(DIM) + 3] = '2'; /* "PXR2" */
    assert_int_equal(px_task_model_input(&m, &r, in.data, in.len), -1);
    assert_string_equal(m.error, "PXR1: bad magic");
    px_buf_free(&in);
}

static const char *model_error(const uint8_t *b, size_t n) {
    px_task_model m;
    return px_task_model_open(&m, b, n) ? m.error : NULL;
}

static void test_model_refusals(void **state) {
    uint8_t b[24 + 4 * DIM];
    size_t n = block(b, 0, 0);
    /* Every truncation. */
    for (size_t k = 0; k < n; k++)
        assert_non_null(model_error(b, k));
    assert_string_equal(model_error(b, 3), "PXFM: bad magic");
    assert_string_equal(model_error(b, 23), "PXFM: truncated header");
    assert_string_equal(model_error(b, n - 1), "PXFM: truncated weights");
    assert_null(model_error(b, n));
    assert_string_equal(model_error(NULL, 0), "PXFM: bad magic");
    uint8_t c[sizeof b];
#define WITH(off, val, want)                         \
    do {                                             \
        memcpy(c, b, n);                             \
        c[off] = (val);                              \
        assert_string_equal(model_error(c, n), want); \
    } while (0)
    WITH(3, 'X', "PXFM: bad magic");
    WITH(0, 'p', "PXFM: bad magic");
    WITH(4, 2, "PXFM: unsupported version");
    WITH(4, 0, "PXFM: unsupported version");
    WITH(7, 1, "PXFM: unsupported version");
    WITH(8, 0, "PXFM: dim out of range");
    WITH(8, DIM + 1, "PXFM: truncated weights");
    WITH(11, 0x01, "PXFM: dim out of range"); /* 2^24 + DIM */
    WITH(11, 0xff, "PXFM: dim out of range");
    /* The largest dim allowed, over a short buffer: refused, no overflow. */
    memcpy(c, b, n);
    px_task__put_u32(c + 8, PX_TASK_MODEL_DIM_MAX);
    assert_string_equal(model_error(c, n), "PXFM: truncated weights");
    /* Infinities and NaNs, anywhere. */
    static const uint32_t bad[] = {0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7f800001u, 0xffffffffu};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (uint32_t k = 0; k < DIM; k += 3) {
            memcpy(c, b, n);
            px_task__put_u32(c + 24 + 4 * k, bad[i]);
            assert_string_equal(model_error(c, n), "PXFM: a weight is not finite");
        }
    /* The writer refuses what the reader would. */
    float w[DIM];
    weights(w, DIM);
    w[4] = NAN;
    assert_int_equal(px_task_model_encode(c, DIM, 0, 0, w), -1);
    w[4] = INFINITY;
    assert_int_equal(px_task_model_encode(c, DIM, 0, 0, w), -1);
    assert_int_equal(px_task_model_encode(c, 0, 0, 0, w), -1);
}

static const char *update_error(const uint8_t *b, size_t n) {
    px_task_update u;
    return px_task_update_open(&u, b, n) ? u.error : NULL;
}

static void test_update(void **state) {
    float d[DIM], back[DIM];
    weights(d, DIM);
    uint8_t b[12 + 4 * DIM + 1];
    size_t n = px_task_update_size(DIM);
    assert_int_equal(n, 12 + 4 * DIM);
    assert_int_equal(px_task_update_encode(b, d, DIM), 0);
    static const uint8_t head[12] = {'P', 'X', 'F', 'U', 1, 0, 0, 0, DIM, 0, 0, 0};
    assert_memory_equal(b, head, 12);
    px_task_update u;
    assert_int_equal(px_task_update_open(&u, b, n), 0);
    assert_int_equal(u.dim, DIM);
    px_task_update_values(&u, back);
    assert_memory_equal(back, d, sizeof d);
    for (size_t k = 0; k < n; k++)
        assert_non_null(update_error(b, k));
    assert_string_equal(update_error(b, 11), "PXFU: truncated header");
    assert_string_equal(update_error(b, n - 4), "PXFU: truncated values");
    b[n] = 0;
    assert_string_equal(update_error(b, n + 1), "PXFU: bytes after the values");
    b[5] = 1;
    assert_string_equal(update_error(b, n), "PXFU: unsupported version");
    b[5] = 0;
    b[0] = 'Q';
    assert_string_equal(update_error(b, n), "PXFU: bad magic");
    b[0] = 'P';
    px_task__put_u32(b + 8, 0);
    assert_string_equal(update_error(b, n), "PXFU: dim out of range");
    px_task__put_u32(b + 8, DIM);
    px_task__put_u32(b + 12 + 4 * (DIM - 1), 0x7fc00001u);
    assert_string_equal(update_error(b, n), "PXFU: a value is not finite");
    d[0] = -INFINITY;
    assert_int_equal(px_task_update_encode(b, d, DIM), -1);
}

/* Run px_task_write_update in a child with stdout on a pipe; the bytes. */
static size_t child_writes(const float *d, uint32_t dim, uint8_t *out, size_t cap, int *status) {
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        _exit(px_task_write_update(d, dim) ? 3 : 0);
    }
    close(fd[1]);
    size_t n = 0;
    ssize_t r;
    while ((r = read(fd[0], out + n, cap - n)) > 0)
        n += (size_t)r;
    close(fd[0]);
    waitpid(pid, status, 0);
    return n;
}

static void test_write_update(void **state) {
    enum { BIG = 5000 }; /* more than one pipe buffer's worth */
    static float d[BIG];
    static uint8_t out[12 + 4 * BIG + 16], want[12 + 4 * BIG];
    for (int i = 0; i < BIG; i++)
        d[i] = (float)(i % 97) / 7.0f - 3.0f;
    int status;
    size_t n = child_writes(d, BIG, out, sizeof out, &status);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(px_task_update_encode(want, d, BIG), 0);
    assert_int_equal(n, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    d[4999] = NAN; /* nothing at all is written */
    n = child_writes(d, BIG, out, sizeof out, &status);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 3);
    assert_int_equal(n, 0);
}

static void test_prg(void **state) {
    /* splitmix64's published first output for seed 0, and xoshiro256**
     * seeded by it as computed by an independent implementation. */
    uint64_t x = 0;
    assert_true(px_task_splitmix64(&x) == 0xe220a8397b1dcdafULL);
    static const uint64_t want0[3] = {0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL, 0x1a5f849d4933e6e0ULL};
    static const uint64_t want42[3] = {0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL, 0xae17533239e499a1ULL};
    px_task_prg g, h;
    px_task_prg_seed(&g, 0);
    px_task_prg_seed(&h, 42);
    for (int i = 0; i < 3; i++) {
        assert_true(px_task_prg_next(&g) == want0[i]);
        assert_true(px_task_prg_next(&h) == want42[i]);
    }
    /* below: in range, every value hit, roughly evenly. */
    unsigned hits[7] = {0};
    for (int i = 0; i < 70000; i++) {
        uint32_t v = px_task_prg_below(&g, 7);
        assert_true(v < 7);
        hits[v]++;
    }
    for (int i = 0; i < 7; i++)
        assert_true(hits[i] > 9000 && hits[i] < 11000);
    assert_int_equal(px_task_prg_below(&g, 1), 0);
    for (int i = 0; i < 1000; i++) {
        double u = px_task_prg_unit(&g);
        assert_true(u >= 0 && u < 1);
    }
    /* shuffle: a permutation, the same for the same seed. */
    uint32_t a[100], b[100], seen[100] = {0};
    for (uint32_t i = 0; i < 100; i++)
        a[i] = b[i] = i;
    px_task_prg_seed(&g, 9);
    px_task_prg_seed(&h, 9);
    px_task_prg_shuffle(&g, a, 100);
    px_task_prg_shuffle(&h, b, 100);
    assert_memory_equal(a, b, sizeof a);
    int moved = 0;
    for (uint32_t i = 0; i < 100; i++) {
        seen[a[i]]++;
        moved += a[i] != i;
    }
    for (uint32_t i = 0; i < 100; i++)
        assert_int_equal(seen[i], 1);
    assert_true(moved > 50);
}

static void test_words(void **state) {
    assert_int_equal(px_task_hash_word((const uint8_t *)"a", 1), 0xe40c292cu);
    assert_int_equal(px_task_hash_word((const uint8_t *)"foobar", 6), 0xbf9cf968u);
    assert_int_equal(px_task_hash_word((const uint8_t *)"FooBAR", 6), 0xbf9cf968u);
    assert_int_equal(px_task_hash_word((const uint8_t *)"", 0), 2166136261u);
    static const char text[] = "  Hello, WORLD!caf\xc3\xa9 42x--\t";
    static const char *const want[] = {"Hello", "WORLD", "caf\xc3\xa9", "42x"};
    px_task_tokens t;
    const uint8_t *w;
    size_t n;
    px_task_tokens_init(&t, (const uint8_t *)text, sizeof text - 1);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(px_task_tokens_next(&t, &w, &n), 1);
        assert_int_equal(n, strlen(want[i]));
        assert_memory_equal(w, want[i], n);
    }
    assert_int_equal(px_task_tokens_next(&t, &w, &n), 0);
    assert_int_equal(px_task_tokens_next(&t, &w, &n), 0);
    px_task_tokens_init(&t, NULL, 5);
    assert_int_equal(px_task_tokens_next(&t, &w, &n), 0);
    px_task_tokens_init(&t, (const uint8_t *)",;.", 3);
    assert_int_equal(px_task_tokens_next(&t, &w, &n), 0);
    assert_int_equal(px_task_feature((const uint8_t *)"foobar", 6, 1024), 0xbf9cf968u % 1024);
    assert_int_equal(px_task_feature((const uint8_t *)"Foobar", 6, 1024), 0xbf9cf968u % 1024);
    assert_int_equal(px_task_feature((const uint8_t *)"x", 1, 0), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_roundtrip), cmocka_unit_test(test_model_input),
        cmocka_unit_test(test_model_refusals),  cmocka_unit_test(test_update),
        cmocka_unit_test(test_write_update),    cmocka_unit_test(test_prg),
        cmocka_unit_test(test_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
