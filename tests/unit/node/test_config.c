/* The node config file reads with the same grammars as every other file:
 * roles as the membership reads them (a role listed twice is refused, as
 * it is there), ids by the one id grammar, closed objects with the one
 * wording naming the file and the field. */
#include <string.h>
#include <unistd.h>

#include "node/node.h"
#include "px_test.h"

static char path[64];

static int setup(void **state) {
    (void)state;
    strcpy(path, "/tmp/px-node-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    unlink(path);
    return 0;
}

#define BASE "\"dir\":\"/tmp\",\"membership\":\"m.json\",\"key\":\"node.key\""

/* Load {"id":..., BASE, extra}; 0 or -1 with err. */
static int load(const char *id, const char *extra, px_node_config *c, px_err *err) {
    char doc[512];
    snprintf(doc, sizeof doc, "{\"id\":\"%s\"," BASE "%s}", id, extra);
    px_err e = {0};
    px_assert_ok(px_file_write_atomic(path, doc, strlen(doc), 0600, &e), &e);
    return px_node_config_load(c, path, err);
}

static void refused(const char *id, const char *extra, const char *needle) {
    px_node_config c;
    px_err err = {0};
    if (load(id, extra, &c, &err) == 0)
        fail_msg("node config with %s%s accepted", id, extra);
    if (!strstr(err.msg, needle) || !strstr(err.msg, path))
        fail_msg("node config with %s%s: \"%s\" does not name the file and \"%s\"", id, extra, err.msg, needle);
}

static void test_config_grammars(void **state) {
    (void)state;
    px_node_config c;
    px_err err = {0};
    px_assert_ok(load("pod-1", ",\"roles\":[\"pod\",\"consumer\"],\"limits\":{\"idle_ms\":5000}", &c, &err), &err);
    assert_int_equal(c.roles, PX_ROLE_POD | PX_ROLE_CONSUMER);
    assert_int_equal(c.limits.idle_ms, 5000);
    assert_string_equal(c.key, "/tmp/node.key");
    /* The membership refuses a role listed twice; so does the node config. */
    refused("pod-1", ",\"roles\":[\"pod\",\"pod\"]", "role \"pod\" is listed twice");
    refused("pod-1", ",\"roles\":[\"pod\",\"cook\"]", "role 1 is not");
    refused("-pod", ",\"roles\":[\"pod\"]", "id \"-pod\" is not an id");
    refused("pod-1", ",\"roles\":[\"pod\"],\"rolez\":1", "node config: unknown field \"rolez\" (known: ");
    refused("pod-1", ",\"roles\":[\"pod\"],\"limits\":{\"idle\":5}", "limits: unknown field \"idle\" (known: ");
    refused("pod-1", ",\"roles\":[\"executor\"]", "an executor needs \"platform_key\"");
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_config_grammars)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
