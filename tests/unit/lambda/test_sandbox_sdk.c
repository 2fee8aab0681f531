/* The task SDK (sdk/pixiu_task.h) built natively: its PXR1 reader against
 * streams written by PIXIU's own writer, its refusals against PIXIU's
 * reader, and its PXV1 writer against PIXIU's decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "../../../sdk/pixiu_task.h"
#include "pixiu/records.h"

static void schema4(px_schema *s) {
    memset(s, 0, sizeof *s);
    s->nfields = 4;
    s->user_field = 0;
    static const char *names[] = {"user", "amount", "label", "blob"};
    static const px_field_type types[] = {PX_FIELD_INT, PX_FIELD_REAL,
                                          PX_FIELD_TEXT, PX_FIELD_BLOB};
    for (int i = 0; i < 4; i++) {
        strcpy(s->fields[i].name, names[i]);
        s->fields[i].type = types[i];
    }
}

static void write_stream(px_buf *out, uint64_t n) {
    px_schema s;
    schema4(&s);
    assert_int_equal(px_records_begin(out, &s, n, NULL), 0);
    for (uint64_t i = 0; i < n; i++) {
        static const uint8_t blob[] = {0, 1, 0xff};
        px_value v[4] = {
            {.type = PX_FIELD_INT, .i = -(int64_t)i * 1000003},
            {.type = PX_FIELD_REAL, .r = (double)i / 3.0},
            {.type = PX_FIELD_TEXT, .p = (const uint8_t *)"h\xc3\xa9llo", .len = 6},
            {.type = PX_FIELD_BLOB, .p = blob, .len = (uint32_t)(i % 4)}};
        assert_int_equal(px_records_append(out, &s, v, (uint8_t)(i & 1), NULL), 0);
    }
}

static void test_roundtrip(void **state) {
    px_buf b = PX_BUF_INIT;
    write_stream(&b, 50);
    px_task_records r;
    assert_int_equal(px_task_records_open(&r, b.data, b.len), 0);
    assert_int_equal(r.nfields, 4);
    assert_int_equal(r.user_field, 0);
    assert_int_equal(r.count, 50);
    assert_int_equal(px_task_find(&r, "label"), 2);
    assert_int_equal(px_task_find(&r, "nope"), -1);
    px_task_value v[PX_TASK_MAX_FIELDS];
    uint8_t flags;
    for (uint64_t i = 0; i < 50; i++) {
        assert_int_equal(px_task_records_next(&r, v, &flags), 1);
        assert_int_equal(flags, i & 1);
        assert_int_equal(v[0].i, -(int64_t)i * 1000003);
        assert_true(v[1].r == (double)i / 3.0);
        assert_int_equal(v[2].len, 6);
        assert_memory_equal(v[2].p, "h\xc3\xa9llo", 6);
        assert_int_equal(v[3].len, i % 4);
    }
    assert_int_equal(px_task_records_next(&r, v, &flags), 0);
    px_buf_free(&b);
}

/* Every prefix and every trailing extension is refused by both readers,
 * at the same record. */
static int read_all_sdk(const uint8_t *d, size_t n) {
    px_task_records r;
    px_task_value v[PX_TASK_MAX_FIELDS];
    uint8_t f;
    int rc;
    if (px_task_records_open(&r, d, n))
        return -1;
    while ((rc = px_task_records_next(&r, v, &f)) == 1)
        ;
    return rc;
}

static int read_all_core(const uint8_t *d, size_t n) {
    px_records_reader r;
    px_value v[PX_RECORDS_MAX_FIELDS];
    uint8_t f;
    int rc;
    if (px_records_open(&r, d, n, NULL))
        return -1;
    while ((rc = px_records_next(&r, v, &f, NULL)) == 1)
        ;
    return rc;
}

static void test_refusals_agree(void **state) {
    px_buf b = PX_BUF_INIT;
    write_stream(&b, 5);
    for (size_t n = 0; n < b.len; n++) {
        assert_int_equal(read_all_sdk(b.data, n), -1);
        assert_int_equal(read_all_core(b.data, n), -1);
    }
    assert_int_equal(read_all_sdk(b.data, b.len), 0);
    px_buf_append_u8(&b, 0, NULL);
    assert_int_equal(read_all_sdk(b.data, b.len), -1);
    b.len--;
    /* Single-byte corruptions: both readers agree on every one. */
    for (size_t i = 0; i < b.len; i++) {
        uint8_t keep = b.data[i];
        static const uint8_t vals[] = {0x00, 0x02, 0x80, 0xc0, 0xff};
        for (size_t k = 0; k < sizeof vals; k++) {
            b.data[i] = vals[k];
            assert_int_equal(read_all_sdk(b.data, b.len),
                             read_all_core(b.data, b.len));
        }
        b.data[i] = keep;
    }
    px_buf_free(&b);
}

/* px_task_write_vector from a child process, decoded by PIXIU. */
static void test_vector(void **state) {
    static const double v[] = {1.5, -0.0, 1e300, 42};
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        _exit(px_task_write_vector(v, 4) ? 1 : 0);
    }
    close(p[1]);
    uint8_t buf[256];
    size_t n = 0;
    ssize_t r;
    while ((r = read(p[0], buf + n, sizeof buf - n)) > 0)
        n += (size_t)r;
    close(p[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    double *out = NULL;
    uint32_t k = 0;
    assert_int_equal(px_vector_decode(&out, &k, buf, n, NULL), 0);
    assert_int_equal(k, 4);
    assert_memory_equal(out, v, sizeof v);
    free(out);
}

/* The example at the top of pixiu_task.h, as an author would copy it: it
 * compiles cleanly as a program, sums "amount" over a stream, and fails
 * with a message of its own when the input cannot be read. */
static void test_header_example(void **state) {
    (void)state;
    char dir[] = "/tmp/px-sdk-example-XXXXXX";
    assert_non_null(mkdtemp(dir));
    FILE *h = fopen(PX_SOURCE_DIR "/sdk/pixiu_task.h", "r");
    assert_non_null(h);
    px_buf prog = PX_BUF_INIT;
    px_buf_append_str(&prog, "#include \"pixiu_task.h\"\nint main(void) {\n", NULL);
    char line[512];
    int in = 0, lines = 0;
    while (fgets(line, sizeof line, h)) {
        if (!in && strncmp(line, " *   size_t n;", 14) == 0)
            in = 1;
        if (in && strncmp(line, " *   ", 5) == 0) {
            px_buf_append_str(&prog, line + 5, NULL);
            lines++;
        }
        if (in && strstr(line, "px_task_write_vector("))
            break;
    }
    fclose(h);
    assert_true(lines >= 5);
    px_buf_append_str(&prog, "return 0;\n}\n", NULL);
    px_buf_cstr(&prog, NULL);
    char src[96], bin[96], input[96], cmd[1024];
    snprintf(src, sizeof src, "%s/example.c", dir);
    snprintf(bin, sizeof bin, "%s/example", dir);
    snprintf(input, sizeof input, "%s/in.pxr", dir);
    px_err err = {0};
    assert_int_equal(px_file_write_atomic(src, prog.data, prog.len, 0644, &err), 0);
    snprintf(cmd, sizeof cmd, "cc -std=c11 -O2 -Wall -Wextra -Werror -I '%s/sdk' '%s' -o '%s'", PX_SOURCE_DIR, src, bin);
    if (system(cmd) != 0)
        fail_msg("the example of pixiu_task.h does not compile:\n%s", (const char *)prog.data);
    /* Over a stream whose "amount" of record i is i/3: the sum. */
    px_buf b = PX_BUF_INIT;
    write_stream(&b, 30);
    assert_int_equal(px_file_write_atomic(input, b.data, b.len, 0644, &err), 0);
    snprintf(cmd, sizeof cmd, "'%s' <'%s' >'%s/out' 2>'%s/err'", bin, input, dir, dir);
    assert_int_equal(system(cmd), 0);
    px_buf out = PX_BUF_INIT;
    snprintf(cmd, sizeof cmd, "%s/out", dir);
    assert_int_equal(px_file_read(cmd, 1024, &out, &err), 0);
    double *v = NULL, want = 0;
    uint32_t k = 0;
    for (int i = 0; i < 30; i++)
        want += (double)i / 3.0;
    assert_int_equal(px_vector_decode(&v, &k, out.data, out.len, NULL), 0);
    assert_int_equal(k, 1);
    assert_true(v[0] == want);
    free(v);
    /* No input at all (standard input closed): its own message. */
    snprintf(cmd, sizeof cmd, "'%s' <&- >/dev/null 2>'%s/err'", bin, dir);
    assert_int_not_equal(system(cmd), 0);
    px_buf e = PX_BUF_INIT;
    snprintf(cmd, sizeof cmd, "%s/err", dir);
    assert_int_equal(px_file_read(cmd, 4096, &e, &err), 0);
    px_buf_cstr(&e, NULL);
    if (!strstr((const char *)e.data, "reading the input failed"))
        fail_msg("the example without input says: %s", (const char *)e.data);
    px_buf *bufs[] = {&prog, &b, &out, &e};
    for (size_t i = 0; i < 4; i++)
        px_buf_free(bufs[i]);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_refusals_agree),
        cmocka_unit_test(test_vector),
        cmocka_unit_test(test_header_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
