/* The task manifest: signing, the id, strict parsing of hostile documents. */
#include "fixture.h"

static void test_sign_parse(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    uint8_t id[32];
    px_sha256(id, f.manifest_env.data, f.manifest_env.len);
    assert_memory_equal(id, f.m.id, 32);
    assert_string_equal(f.m.name, "spend");
    assert_string_equal(f.m.consumer_id, "consumer-1");
    assert_int_equal(f.m.nstages, 3);
    assert_int_equal(f.m.stages[0].kind, PX_STAGE_PROVER);
    assert_int_equal(f.m.stages[1].kind, PX_STAGE_WASM);
    assert_true(f.m.stages[1].has_code);
    assert_int_equal(f.m.stages[1].limits.cpu_ms, 5000);
    assert_int_equal(f.m.stages[2].kind, PX_STAGE_DP);
    assert_string_equal(f.m.stages[2].epsilon, "0.5");
    assert_non_null(f.m.stages[2].params);
    assert_int_equal(f.m.ndatasets, 1);
    assert_int_equal(f.m.datasets[0].npods, 3);
    assert_int_equal(f.m.datasets[0].schema.user_field, 0);
    assert_true(px_manifest_has_pod(&f.m, "pod-2"));
    assert_false(px_manifest_has_pod(&f.m, "pod-9"));
    assert_true(px_manifest_behind_dp(&f.m));
    fx_free(&f);
}

/* Every byte of the envelope matters: flipping any one of them either
 * breaks parsing or changes the id. */
static void test_tamper(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    px_err err = {0};
    for (size_t i = 0; i < f.manifest_env.len; i += 7) {
        f.manifest_env.data[i] ^= 0x01;
        px_manifest m;
        if (px_manifest_parse(&m, f.manifest_env.data, f.manifest_env.len, &err) == 0) {
            assert_memory_not_equal(m.id, f.m.id, 32);
            px_manifest_free(&m);
        }
        f.manifest_env.data[i] ^= 0x01;
    }
    fx_free(&f);
}

static void test_wrong_signer(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    px_err err = {0};
    px_buf doc = PX_BUF_INIT, env = PX_BUF_INIT;
    fx_manifest_json(&f, &doc, FX_STAGES_JSON);
    /* The document names the consumer's key; signing it with another key is
     * refused, and an envelope signed by another key does not verify. */
    px_assert_fails(px_manifest_sign(&env, doc.data, doc.len, &f.platform, &err), &err, PX_E_INVALID);
    px_assert_ok(px_dsse_sign(&env, PX_MANIFEST_PAYLOAD_TYPE, doc.data, doc.len, &f.platform, 1, &err), &err);
    px_manifest m;
    px_assert_fails(px_manifest_parse(&m, env.data, env.len, &err), &err, PX_E_VERIFY);
    px_buf_reset(&env);
    px_assert_ok(px_dsse_sign(&env, "text/plain", doc.data, doc.len, &f.consumer, 1, &err), &err);
    px_assert_fails(px_manifest_parse(&m, env.data, env.len, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "payload type"));
    px_buf_free(&doc);
    px_buf_free(&env);
    fx_free(&f);
}

/* Each hostile document is refused with a message naming the problem. */
static void expect_refused(fx *f, const char *stages, const char *needle) {
    px_err err = {0};
    px_buf doc = PX_BUF_INIT, env = PX_BUF_INIT;
    fx_manifest_json(f, &doc, stages);
    if (px_manifest_sign(&env, doc.data, doc.len, &f->consumer, &err) == 0)
        fail_msg("manifest with stages %s was accepted", stages);
    if (!strstr(err.msg, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err.msg, needle);
    px_buf_free(&doc);
    px_buf_free(&env);
}

#define CODE0 "\"code\":\"0000000000000000000000000000000000000000000000000000000000000000\""

static void test_hostile(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    expect_refused(&f, "[]", "stages");
    expect_refused(&f, "[{\"kind\":\"magic\"}]", "unknown stage kind");
    expect_refused(&f, "[{\"kind\":\"wasm\"}]", "needs \"code\"");
    expect_refused(&f, "[{\"kind\":\"prover\",\"code\":\"00\"}]", "takes no \"code\"");
    expect_refused(&f, "[{\"kind\":\"prover\",\"min_levle\":2}]", "unknown field \"min_levle\"");
    expect_refused(&f, "[{\"kind\":\"dp\"}]", "needs a \"dp\"");
    expect_refused(&f, "[{\"kind\":\"dp\",\"dp\":{\"mechanism\":\"laplace\",\"epsilon\":\"0\",\"delta\":\"0\"}}]",
                   "greater than 0");
    expect_refused(&f, "[{\"kind\":\"dp\",\"dp\":{\"mechanism\":\"laplace\",\"epsilon\":\"-1\",\"delta\":\"0\"}}]",
                   "dp: epsilon: \"-1\" is not a decimal");
    expect_refused(&f, "[{\"kind\":\"dp\",\"dp\":{\"mechanism\":\"laplace\",\"epsilon\":\"1\",\"delta\":\"1.5\"}}]",
                   "delta");
    expect_refused(&f, "[{\"kind\":\"prover\",\"limits\":{\"cpu_ms\":-5}}]", "cpu_ms");
    /* The DP stage must spend what PODs are charged. */
    expect_refused(&f, "[{\"kind\":\"dp\",\"dp\":{\"mechanism\":\"laplace\",\"epsilon\":\"0.1\",\"delta\":\"0\"},"
                       "\"params\":{\"mechanism\":\"count\",\"epsilon\":\"5\"}}]", "params: epsilon");
    expect_refused(&f, "[{\"kind\":\"dp\",\"dp\":{\"mechanism\":\"laplace\",\"epsilon\":\"1\",\"delta\":\"0\"},"
                       "\"params\":{\"mechanism\":\"count\",\"epsilon\":\"1\",\"delta\":\"0.1\"}}]", "params: delta");
    expect_refused(&f, "[{\"kind\":\"dp\",\"dp\":{\"mechanism\":\"laplace\",\"epsilon\":\"1\",\"delta\":\"0\"}}]",
                   "params: epsilon");
    expect_refused(&f, "[{\"kind\":\"dp\",\"dp\":{\"mechanism\":\"laplace\",\"epsilon\":\".5\",\"delta\":\"0\"}}]",
                   "not a decimal");
    expect_refused(&f, "[{\"kind\":\"dp\",\"dp\":{\"mechanism\":\"laplace\",\"epsilon\":\"1\",\"delta\":\"1e0\"}}]",
                   "below 1");
    expect_refused(&f, "[{\"kind\":\"prover\",\"partitions\":0}]", "partitions");
    /* One limits concept (docs/manifest.md, "Limits"). */
    expect_refused(&f, "[{\"kind\":\"wasm\"," CODE0 ",\"params\":{\"cpu_ms\":100}}]",
                   "params: cpu_ms is a limit: it goes in the stage's \"limits\"");
    expect_refused(&f, "[{\"kind\":\"prover\",\"limits\":{\"mem_mb\":64}}]", "mem_mb bounds a task's runs");
    expect_refused(&f, "[{\"kind\":\"wasm\"," CODE0 ",\"limits\":{\"cpu\":100}}]", "limits: unknown field \"cpu\"");
    expect_refused(&f, "[{\"kind\":\"wasm\"," CODE0 ",\"limits\":{\"mem_mb\":8192}}]", "mem_mb must be");
    expect_refused(&f, "[{\"kind\":\"wasm\"," CODE0 ",\"limits\":{\"cpu_ms\":5000,\"wall_ms\":100}}]",
                   "wall_ms 100 is below cpu_ms 5000");
    expect_refused(&f, "[{\"kind\":\"wasm\"," CODE0 ",\"limits\":{\"timeout_ms\":500}}]",
                   "timeout_ms 500 is below");
    /* A wasm stage's params as its worker will check them at birth. */
    expect_refused(&f, "[{\"kind\":\"wasm\"," CODE0 ",\"params\":{\"dim\":2}}]", "stage 0 (wasm): params \"dim\"");
    expect_refused(&f, "[{\"kind\":\"wasm\"," CODE0 ",\"params\":{\"mapp\":\"per-user\"}}]", "mapp");
    expect_refused(&f, "[{\"kind\":\"prover\",\"at\":\"moon\"}]", "\"at\"");
    expect_refused(&f, "[{\"kind\":\"prover\",\"dp\":{}}]", "only allowed on a dp or fl-agg stage");
    expect_refused(&f, "{\"kind\":\"prover\"}", "must be an array");
    /* Not JSON at all, duplicate keys, trailing bytes. */
    px_err err = {0};
    px_buf env = PX_BUF_INIT;
    static const char *const docs[] = {"not json", "{\"schema\":1,\"schema\":2}", "{} {}", "[]"};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        px_assert_fails(px_manifest_sign(&env, docs[i], strlen(docs[i]), &f.consumer, &err), &err, PX_E_INVALID);
    assert_int_equal(env.len, 0);
    fx_free(&f);
}


/* ---- rules between stages --------------------------------------------------- */

#define PROVER "{\"kind\":\"prover\"}"
#define MAP(extra) "{\"kind\":\"wasm\"," CODE0 ",\"params\":{" extra "}}"
#define COUNT(extra) "{\"kind\":\"dp\"" extra ",\"dp\":{\"mechanism\":\"laplace\",\"epsilon\":\"1\",\"delta\":\"0\"}," \
                     "\"params\":{\"mechanism\":\"count\",\"epsilon\":\"1\"}}"
#define SA_MEAN(blocks) "{\"kind\":\"dp\",\"dp\":{\"mechanism\":\"laplace\",\"epsilon\":\"1\",\"delta\":\"0\"},"   \
                        "\"params\":{\"mechanism\":\"mean\",\"mode\":\"sample-and-aggregate\",\"blocks\":" blocks  \
                        ",\"epsilon\":\"1\",\"dim\":1,\"lower\":0,\"upper\":10}}"

static void expect_ok(fx *f, const char *stages) {
    px_err err = {0};
    px_buf doc = PX_BUF_INIT, env = PX_BUF_INIT;
    fx_manifest_json(f, &doc, stages);
    if (px_manifest_sign(&env, doc.data, doc.len, &f->consumer, &err))
        fail_msg("manifest with stages %s was refused: %s", stages, err.msg);
    px_manifest m;
    px_assert_ok(px_manifest_parse(&m, env.data, env.len, &err), &err);
    px_manifest_free(&m);
    px_buf_free(&doc);
    px_buf_free(&env);
}

/* One wasm partition feeding a DP stage of three partitions: three
 * releases about the same users, each at the ε every POD was charged
 * once. Refused when the manifest is read, before any POD sees it. */
static void test_dp_partitions(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    const char *three = "[" PROVER "," MAP("\"map\":\"per-user\",\"dim\":1") "," COUNT(",\"partitions\":3") "]";
    expect_refused(&f, three, "stage 2 (dp): a dp stage has exactly one partition, not 3");
    expect_refused(&f, three, "spend epsilon on the same users");
    /* The plan of such a manifest cannot be parsed either: the envelope is
     * refused where every POD reads it. */
    px_err err = {0};
    px_buf doc = PX_BUF_INIT, env = PX_BUF_INIT;
    fx_manifest_json(&f, &doc, three);
    px_assert_ok(px_dsse_sign(&env, PX_MANIFEST_PAYLOAD_TYPE, doc.data, doc.len, &f.consumer, 1, &err), &err);
    px_manifest m;
    px_assert_fails(px_manifest_parse(&m, env.data, env.len, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "exactly one partition"));
    px_buf_free(&doc);
    px_buf_free(&env);
    expect_ok(&f, "[" PROVER "," MAP("\"map\":\"per-user\",\"dim\":1") "," COUNT("") "]");
    /* Partitions before the map are fine for a per-user map: the DP stage
     * refuses a user's second vector by its tag. */
    expect_ok(&f, "[{\"kind\":\"prover\",\"partitions\":2},{\"kind\":\"wasm\",\"partitions\":2," CODE0
                  ",\"limits\":{\"cpu_ms\":100},\"params\":{\"map\":\"per-user\",\"dim\":1}}," COUNT("") "]");
    fx_free(&f);
}

static void test_map_before_dp(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    expect_refused(&f, "[" PROVER "," COUNT("") "]",
                   "stage 1 (dp): the stage before a dp stage must be a wasm map stage");
    expect_refused(&f, "[" COUNT("") "]", "stage 0 (dp): the stage before a dp stage must be a wasm map stage");
    expect_refused(&f, "[" PROVER ",{\"kind\":\"wasm\"," CODE0 "}," COUNT("") "]", "params.map");
    expect_refused(&f, "[" PROVER "," MAP("\"dim\":1") "," COUNT("") "]", "must be a wasm map stage");
    expect_refused(&f, "[" PROVER "," MAP("\"map\":\"per-record\",\"dim\":1") "," COUNT("") "]",
                   "stage 1 (wasm): params.map \"per-record\" is not");
    expect_refused(&f, "[" PROVER "," MAP("\"map\":\"per-user\"") "," COUNT("") "]", "stage 1 (wasm): a map stage "
                   "needs params.dim");
    expect_refused(&f, "[" PROVER "," MAP("\"map\":\"per-user\",\"dim\":2") "," COUNT("") "]",
                   "stage 1 (wasm): params.dim 2 is not the dim 1 of the dp stage 2");
    expect_refused(&f, "[" PROVER "," MAP("\"map\":\"per-user\",\"dim\":0") "," COUNT("") "]", "params.dim must be");
    expect_refused(&f, "[" PROVER "," MAP("\"map\":\"per-user\",\"dim\":\"1\"") "," COUNT("") "]",
                   "params.dim must be");
    expect_refused(&f, "[" PROVER "," MAP("\"map\":\"per-user\",\"dim\":1,\"blocks\":4") "," COUNT("") "]",
                   "params.blocks is only for");
    /* A dp stage whose own config the DP stage would refuse. */
    expect_refused(&f, "[" PROVER "," MAP("\"map\":\"per-user\",\"dim\":1") ",{\"kind\":\"dp\",\"dp\":"
                   "{\"mechanism\":\"laplace\",\"epsilon\":\"1\",\"delta\":\"0\"},\"params\":{\"mechanism\":\"sum\","
                   "\"epsilon\":\"1\"}}]", "stage 2 (dp): params:");
    /* A wasm stage after the dp stage is allowed; the manifest is then
     * not behind DP (a POD's policy decides). */
    expect_ok(&f, "[" PROVER "," MAP("\"map\":\"per-user\",\"dim\":1") "," COUNT("") "," MAP("") "]");
    fx_free(&f);
}

static void test_sample_and_aggregate(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    expect_ok(&f, "[" PROVER "," MAP("\"map\":\"sample-and-aggregate\",\"dim\":1,\"blocks\":4") "," SA_MEAN("4") "]");
    expect_refused(&f, "[" PROVER "," MAP("\"map\":\"sample-and-aggregate\",\"dim\":1") "," SA_MEAN("4") "]",
                   "needs params.blocks >= 2");
    expect_refused(&f, "[" PROVER "," MAP("\"map\":\"sample-and-aggregate\",\"dim\":1,\"blocks\":1") ","
                   SA_MEAN("4") "]", "needs params.blocks >= 2");
    expect_refused(&f, "[" PROVER "," MAP("\"map\":\"sample-and-aggregate\",\"dim\":1,\"blocks\":8") ","
                   SA_MEAN("4") "]", "params.blocks 8 is not the blocks 4");
    expect_refused(&f, "[" PROVER "," MAP("\"map\":\"sample-and-aggregate\",\"dim\":1,\"blocks\":4") "," COUNT("")
                   "]", "does not match the mode of the dp stage 2");
    expect_refused(&f, "[" PROVER "," MAP("\"map\":\"per-user\",\"dim\":1") "," SA_MEAN("4") "]",
                   "does not match the mode");
    expect_refused(&f, "[{\"kind\":\"prover\",\"partitions\":2}," MAP("\"map\":\"sample-and-aggregate\",\"dim\":1,"
                   "\"blocks\":4") "," SA_MEAN("4") "]", "stage 0 (prover): sample-and-aggregate needs one partition");
    fx_free(&f);
}

/* "at": "executor" is the default, said out loud. */
static void test_at_executor(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    expect_ok(&f, "[" PROVER "," MAP("\"map\":\"per-user\",\"dim\":1") ",{\"kind\":\"wasm\",\"at\":\"executor\"," CODE0 "}]");
    fx_free(&f);
}

#define AT_POD_MAP(extra) "{\"kind\":\"wasm\",\"at\":\"pod\"," CODE0 extra ",\"params\":{\"map\":\"per-user\",\"dim\":1}}"

/* Stages at the PODs: a prefix of the chain, of kinds a POD hosts, one
 * instance per POD; what collects their outputs takes at most one step's
 * inputs per partition. */
static void test_at_pod(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    expect_ok(&f, "[" AT_POD_MAP("") "," COUNT("") "]");
    expect_ok(&f, "[{\"kind\":\"prover\",\"at\":\"pod\"}," AT_POD_MAP(",\"pad_ms\":300,\"topics\":[\"games\"]")
                  "," COUNT("") "]");
    expect_ok(&f, "[" AT_POD_MAP("") ",{\"kind\":\"gather\",\"partitions\":2}," COUNT("") "]");
    expect_refused(&f, "[" PROVER "," AT_POD_MAP("") "," COUNT("") "]",
                   "stage 1 (wasm) is at the PODs after stage 0, which is not");
    expect_refused(&f, "[" AT_POD_MAP("") "]", "every stage is at the PODs");
    expect_refused(&f, "[{\"kind\":\"prover\",\"at\":\"pod\",\"partitions\":2}," AT_POD_MAP("") "," COUNT("") "]",
                   "stage 0 (prover) is at the PODs: it has one instance per POD");
    expect_refused(&f, "[{\"kind\":\"aggregate\",\"at\":\"pod\"}," COUNT("") "]",
                   "stage 0: kind \"aggregate\" cannot run at a POD");
    expect_refused(&f, "[" PROVER ",{\"kind\":\"wasm\"," CODE0 ",\"pad_ms\":5}]", "are for a stage \"at\": \"pod\"");
    expect_refused(&f, "[" AT_POD_MAP(",\"topics\":[\"a b\"]") "," COUNT("") "]", "topic 0 \"a b\" is not an id");
    expect_refused(&f, "[" AT_POD_MAP(",\"pad_ms\":700000") "," COUNT("") "]", "pad_ms");
    expect_refused(&f, "[{\"kind\":\"wasm\",\"at\":\"pod\"," CODE0 ",\"params\":{\"map\":\"sample-and-aggregate\","
                   "\"dim\":1,\"blocks\":4}}," SA_MEAN("4") "]", "its map must be \"per-user\"");
    /* A gather only between POD-side maps and a dp stage. */
    expect_refused(&f, "[" PROVER ",{\"kind\":\"gather\"}," COUNT("") "]",
                   "stage 1 (gather): the stage before a gather must be a wasm map at the PODs");
    expect_refused(&f, "[" AT_POD_MAP("") ",{\"kind\":\"gather\"}]", "the stage after a gather must be a dp stage");
    expect_refused(&f, "[" AT_POD_MAP("") ",{\"kind\":\"gather\",\"params\":{\"x\":1}}," COUNT("") "]",
                   "takes no params");
    fx_free(&f);
    /* More PODs than one step takes: the collector needs partitions. */
    char stages[512];
    snprintf(stages, sizeof stages, "[%s,%s]", AT_POD_MAP(""), COUNT(""));
    px_err err = {0};
    px_buf doc = PX_BUF_INIT, env = PX_BUF_INIT;
    fx_init(&f);
    fx_manifest_json(&f, &doc, stages);
    px_assert_ok(px_buf_cstr(&doc, &err) ? 0 : -1, &err);
    /* 300 PODs in place of the fixture's list. */
    char *pods = strstr((char *)doc.data, "\"pods\":[");
    assert_non_null(pods);
    char *end = strchr(pods, ']');
    px_buf big = PX_BUF_INIT;
    px_assert_ok(px_buf_append(&big, doc.data, (size_t)(pods - (char *)doc.data) + 8, &err), &err);
    for (int i = 0; i < 300; i++)
        px_assert_ok(px_buf_printf(&big, &err, "%s\"p-%d\"", i ? "," : "", i), &err);
    px_assert_ok(px_buf_append_str(&big, end, &err), &err);
    px_assert_fails(px_manifest_sign(&env, big.data, big.len, &f.consumer, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "would collect 300 POD-side outputs in one step"));
    assert_non_null(strstr(err.msg, "at least 2 partitions"));
    px_buf_free(&doc);
    px_buf_free(&big);
    px_buf_free(&env);
    fx_free(&f);
}

/* A pir stage serves one table one POD releases: alone in its task, one
 * partition, one dataset at one POD, and params naming the DP result. */
#define PIR_TABLE "\"params\":{\"table\":\"" HEX64 "\"}"
#define HEX64 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
static void pir_expect(fx *f, const char *stages, const char *needle) {
    px_err err = {0};
    px_buf doc = PX_BUF_INIT, env = PX_BUF_INIT;
    fx_manifest_json(f, &doc, stages);
    px_buf_cstr(&doc, &err);
    char *pods = strstr((char *)doc.data, "\"pod-0\",\"pod-1\",\"pod-2\"");
    assert_non_null(pods);
    memmove(pods + 7, pods + 23, strlen(pods + 23) + 1); /* pods: ["pod-0"] */
    doc.len -= 16;
    int rc = px_manifest_sign(&env, doc.data, doc.len, &f->consumer, &err);
    if (!needle && rc)
        fail_msg("pir manifest %s refused: %s", stages, err.msg);
    if (needle && (rc == 0 || !strstr(err.msg, needle)))
        fail_msg("pir manifest %s: \"%s\" does not mention \"%s\"", stages, rc ? err.msg : "accepted", needle);
    px_buf_free(&doc);
    px_buf_free(&env);
}

static void test_pir_rules(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    pir_expect(&f, "[{\"kind\":\"pir\"," PIR_TABLE "}]", NULL);
    pir_expect(&f, "[" PROVER ",{\"kind\":\"pir\"," PIR_TABLE "}]", "stage 1: a pir stage is the only stage");
    pir_expect(&f, "[{\"kind\":\"pir\"," PIR_TABLE "}," PROVER "]", "a pir stage is the only stage of its task");
    pir_expect(&f, "[{\"kind\":\"pir\",\"partitions\":2," PIR_TABLE "}]", "exactly one partition, not 2");
    pir_expect(&f, "[{\"kind\":\"pir\"}]", "stage 0 (pir): params must be {\"table\"");
    pir_expect(&f, "[{\"kind\":\"pir\",\"params\":{\"table\":\"" HEX64 "\",\"x\":1}}]", "params must be");
    pir_expect(&f, "[{\"kind\":\"pir\",\"params\":{\"table\":\"zz\"}}]", "params must be");
    /* The fixture's three PODs: a table lives at one. */
    expect_refused(&f, "[{\"kind\":\"pir\"," PIR_TABLE "}]", "one table dataset at one POD");
    /* Not at a POD (yet): a stage placed there never runs on an executor instead. */
    pir_expect(&f, "[{\"kind\":\"pir\",\"at\":\"pod\"," PIR_TABLE "}]", "kind \"pir\" cannot run at a POD");
    fx_free(&f);
}

/* With a dp stage, every dataset must say which field names the user. */
static void test_user_field(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    px_err err = {0};
    px_buf doc = PX_BUF_INIT, env = PX_BUF_INIT;
    const char *ok = "[" PROVER "," MAP("\"map\":\"per-user\",\"dim\":1") "," COUNT("") "]";
    fx_manifest_json(&f, &doc, ok);
    px_buf_cstr(&doc, &err);
    char *u = strstr((char *)doc.data, ",\"user\":\"user\"");
    assert_non_null(u);
    memmove(u, u + 14, strlen(u + 14) + 1);
    doc.len -= 14;
    px_assert_fails(px_manifest_sign(&env, doc.data, doc.len, &f.consumer, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "dataset \"transactions\": a task with a dp stage needs the schema's \"user\""));
    /* Without a dp stage the user field is optional. */
    px_buf_reset(&doc);
    fx_manifest_json(&f, &doc, "[" PROVER "]");
    px_buf_cstr(&doc, &err);
    u = strstr((char *)doc.data, ",\"user\":\"user\"");
    memmove(u, u + 14, strlen(u + 14) + 1);
    doc.len -= 14;
    px_assert_ok(px_manifest_sign(&env, doc.data, doc.len, &f.consumer, &err), &err);
    px_buf_free(&doc);
    px_buf_free(&env);
    fx_free(&f);
}

static void test_behind_dp(void **state) {
    (void)state;
    fx f;
    fx_init_with(&f, "[{\"kind\":\"prover\"},{\"kind\":\"wasm\",\"code\":\"" 
                     "0000000000000000000000000000000000000000000000000000000000000000\"}]");
    assert_false(px_manifest_behind_dp(&f.m));
    fx_free(&f);
    fx_init_with(&f, "[" PROVER "," MAP("\"map\":\"per-user\",\"dim\":1") "," COUNT("") "," MAP("") "]");
    assert_false(px_manifest_behind_dp(&f.m));
    fx_free(&f);
}

/* One decimal grammar (core.h): a manifest states epsilon and delta as a POD
 * policy does, exponents included, and the DP params must have the same
 * value, however written. */
static void test_decimal(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    expect_ok(&f, "[" PROVER "," MAP("\"map\":\"per-user\",\"dim\":1") ",{\"kind\":\"dp\",\"dp\":{\"mechanism\":\"laplace\",\"epsilon\":\"1e-1\",\"delta\":"
                  "\"1e-6\"},\"params\":{\"mechanism\":\"count\",\"epsilon\":\"0.1\",\"delta\":\"0.000001\"}}]");
    fx_free(&f);
    assert_true(px_id_valid("pod-01.a_b"));
    assert_false(px_id_valid("pod 1"));
    assert_false(px_id_valid(""));
}


/* Rule 10: a round of a training, each refusal by name. */
#define FL_SA "\"dim\":8,\"scale\":1024,\"clip\":\"2\",\"neighbors\":2,\"threshold\":2"
#define FL_USER "{\"kind\":\"fl-user\",\"at\":\"pod\"," CODE0 ",\"params\":{" FL_SA "}}"
#define FL_AGG(extra, rounds)                                                                                  \
    "{\"kind\":\"fl-agg\"," CODE0 ",\"dp\":{\"mechanism\":\"gaussian\",\"epsilon\":\"4\",\"delta\":\"0.00001\"}," \
    "\"params\":{" FL_SA extra ",\"min_survivors\":3,\"rounds\":" rounds ",\"epsilon\":\"4\",\"delta\":\"0.00001\"}}"

static void expect_training(fx *f, const char *stages, const char *training, const char *needle) {
    px_err err = {0};
    px_buf doc = PX_BUF_INIT, env = PX_BUF_INIT, out = PX_BUF_INIT;
    fx_manifest_json(f, &doc, stages);
    json_t *o = json_loadb((const char *)doc.data, doc.len, 0, NULL);
    assert_non_null(o);
    if (training)
        assert_int_equal(json_object_set_new(o, "training", json_loads(training, 0, NULL)), 0);
    char *t = json_dumps(o, JSON_COMPACT);
    int rc = px_manifest_sign(&env, t, strlen(t), &f->consumer, &err);
    if (needle && rc == 0)
        fail_msg("training %s with stages %s was accepted", training, stages);
    if (needle && !strstr(err.msg, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err.msg, needle);
    if (!needle && rc)
        fail_msg("a good round was refused: %s", err.msg);
    free(t);
    json_decref(o);
    px_buf_free(&doc);
    px_buf_free(&env);
    px_buf_free(&out);
}

static void test_fl_rules(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    const char *good = "[" FL_USER "," FL_AGG("", "3") "]";
    expect_training(&f, good, "{\"round\":1,\"rounds\":3}", NULL);
    expect_training(&f, good, NULL, "only in a round of a training");
    expect_training(&f, good, "{\"round\":4,\"rounds\":3}", "not within 1..3");
    expect_training(&f, good, "{\"round\":2,\"rounds\":3}", "\"first\"");
    expect_training(&f, "[" FL_USER "," FL_AGG("", "2") "]", "{\"round\":1,\"rounds\":3}", "not the training's 3");
    expect_training(&f, "[" FL_USER ",{\"kind\":\"fl-agg\"," CODE0 ",\"dp\":{\"mechanism\":\"gaussian\",\"epsilon\":\"4\","
                        "\"delta\":\"0.00001\"},\"params\":{\"dim\":9,\"scale\":1024,\"clip\":\"2\",\"neighbors\":2,"
                        "\"threshold\":2,\"min_survivors\":3,\"rounds\":3,\"epsilon\":\"4\",\"delta\":\"0.00001\"}}]",
                    "{\"round\":1,\"rounds\":3}", "params differ");
    expect_training(&f, "[" FL_AGG("", "3") "]", "{\"round\":1,\"rounds\":3}", "one fl-user and one fl-agg");
    expect_training(&f, "[{\"kind\":\"fl-user\",\"at\":\"pod\"," CODE0 ",\"params\":{\"dim\":8,\"scale\":1024,"
                        "\"clip\":\"2\",\"neighbors\":2,\"threshold\":1}}," FL_AGG("", "3") "]",
                    "{\"round\":1,\"rounds\":3}", "more than half");
    fx_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_parse), cmocka_unit_test(test_tamper),  cmocka_unit_test(test_wrong_signer),
        cmocka_unit_test(test_hostile), cmocka_unit_test(test_fl_rules),    cmocka_unit_test(test_behind_dp), cmocka_unit_test(test_decimal),
        cmocka_unit_test(test_dp_partitions), cmocka_unit_test(test_map_before_dp),
        cmocka_unit_test(test_sample_and_aggregate), cmocka_unit_test(test_at_executor), cmocka_unit_test(test_at_pod),
        cmocka_unit_test(test_pir_rules),
        cmocka_unit_test(test_user_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
