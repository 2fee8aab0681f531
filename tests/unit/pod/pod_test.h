/* Shared by the POD tests: a fresh POD database in a temporary directory,
 * and a small schema. */
#ifndef PX_POD_TEST_H
#define PX_POD_TEST_H

#include "px_test.h"

#include <sys/stat.h>

#include "pixiu/pod.h"

typedef struct pod_fixture {
    char dir[64];
    char path[128];
    px_pod *pod;
} pod_fixture;

static inline void fixture_open(pod_fixture *f) {
    snprintf(f->dir, sizeof f->dir, "/tmp/px-pod-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/pod.db", f->dir);
    px_err err = {0};
    px_assert_ok(px_pod_open(&f->pod, f->path, &err), &err);
}

static inline void fixture_close(pod_fixture *f) {
    px_pod_close(f->pod);
    f->pod = NULL;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
}

/* txn(text key), user(text, user field), amount(real), n(int), note(blob) */
static const char test_schema_json[] =
    "{\"fields\":[{\"name\":\"txn\",\"type\":\"text\"},{\"name\":\"user\",\"type\":\"text\"},"
    "{\"name\":\"amount\",\"type\":\"real\"},{\"name\":\"n\",\"type\":\"int\"},"
    "{\"name\":\"note\",\"type\":\"blob\"}],\"user\":\"user\",\"key\":\"txn\"}";

static inline void test_schema(px_pod_schema *s) {
    px_err err = {0};
    px_assert_ok(px_pod_schema_parse(s, test_schema_json, strlen(test_schema_json), &err), &err);
}

/* Fill v with a record of the test schema. */
static inline void test_values(px_value *v, const char *txn, const char *user, double amount, int64_t n,
                               const char *note) {
    memset(v, 0, 5 * sizeof *v);
    v[0].type = PX_FIELD_TEXT, v[0].p = (const uint8_t *)txn, v[0].len = (uint32_t)strlen(txn);
    v[1].type = PX_FIELD_TEXT, v[1].p = (const uint8_t *)user, v[1].len = (uint32_t)strlen(user);
    v[2].type = PX_FIELD_REAL, v[2].r = amount;
    v[3].type = PX_FIELD_INT, v[3].i = n;
    v[4].type = PX_FIELD_BLOB, v[4].p = (const uint8_t *)note, v[4].len = (uint32_t)strlen(note);
}

#endif
