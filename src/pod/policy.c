/* A dataset's policy: who may use it, with which code, on which TEE levels,
 * and how much privacy budget it may spend. What the document does not
 * allow is denied; a dataset without a policy is released to nobody. */
#include <string.h>

#include "pod/db.h"
#include "pod/row.h"

#define POLICY_JSON_MAX (1u << 20)
#define ANY_BEHIND_DP "any-behind-dp"
#define DEFAULT_MIN_LEVEL 1
#define LEVEL_MAX 1000

void px_pod_policy_free(px_pod_policy *pol) {
    for (size_t i = 0; i < pol->nconsumers; i++)
        free(pol->consumers[i]);
    free(pol->consumers);
    free(pol->code);
    free(pol->levels);
    for (size_t i = 0; i < pol->nexecutors; i++)
        free(pol->executors[i]);
    free(pol->executors);
    px_pod_hosting_free(&pol->at_pod);
    memset(pol, 0, sizeof *pol);
}

static int parse_consumers(px_pod_policy *pol, const json_t *a, px_err *err) {
    if (!json_is_array(a) || json_array_size(a) > PX_POLICY_MAX_ITEMS)
        return px_fail(err, PX_E_INVALID, "\"consumers\" must be an array of at most %d node ids", PX_POLICY_MAX_ITEMS);
    pol->consumers = calloc(json_array_size(a) + 1, sizeof *pol->consumers);
    if (!pol->consumers)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        const char *s = json_string_value(v);
        if (!s)
            return px_fail(err, PX_E_INVALID, "\"consumers\"[%zu] must be a string", i);
        if (!strcmp(s, "*")) {
            pol->any_consumer = 1;
            continue;
        }
        if (px_id_check("consumer", s, err))
            return px_err_prefix(err, "\"consumers\"[%zu]: ", i);
        if (!(pol->consumers[pol->nconsumers] = strdup(s)))
            return px_fail(err, PX_E_NOMEM, "out of memory");
        pol->nconsumers++;
    }
    return 0;
}

static int parse_code(px_pod_policy *pol, const json_t *c, px_err *err) {
    if (json_is_string(c) && !strcmp(json_string_value(c), ANY_BEHIND_DP)) {
        pol->any_code_behind_dp = 1;
        return 0;
    }
    if (!json_is_array(c) || json_array_size(c) > PX_POLICY_MAX_ITEMS)
        return px_fail(err, PX_E_INVALID, "\"code\" must be \"" ANY_BEHIND_DP "\" or an array of hex SHA-256 digests");
    pol->code = calloc(json_array_size(c) + 1, sizeof *pol->code);
    if (!pol->code)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach(c, i, v) {
        const char *s = json_string_value(v);
        if (!s || px_hex_decode_exact(pol->code[i], PX_SHA256_BYTES, s, strlen(s), err))
            return px_fail(err, PX_E_INVALID, "\"code\"[%zu] must be a hex SHA-256 digest", i);
        pol->ncode++;
    }
    return 0;
}

static int parse_levels(px_pod_policy *pol, const json_t *o, px_err *err) {
    pol->default_level = DEFAULT_MIN_LEVEL;
    if (!o)
        return 0;
    if (!json_is_object(o) || json_object_size(o) > PX_POLICY_MAX_ITEMS)
        return px_fail(err, PX_E_INVALID, "\"min_level\" must be an object of stage kind to level");
    pol->levels = calloc(json_object_size(o) + 1, sizeof *pol->levels);
    if (!pol->levels)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        json_int_t l = json_integer_value(v);
        if (!json_is_integer(v) || l < 0 || l > LEVEL_MAX)
            return px_fail(err, PX_E_INVALID, "\"min_level\".%s must be an integer in 0..%d", px_row_safe_name(k),
                           LEVEL_MAX);
        if (!strcmp(k, "default")) {
            pol->default_level = (int)l;
            continue;
        }
        if (strlen(k) == 0 || strlen(k) > PX_STAGE_KIND_MAX)
            return px_fail(err, PX_E_INVALID, "\"min_level\": bad stage kind \"%s\"", px_row_safe_name(k));
        strcpy(pol->levels[pol->nlevels].kind, k);
        pol->levels[pol->nlevels++].level = (int)l;
    }
    return 0;
}

/* "executors": the node ids allowed to host any instance of a task that
 * reads the dataset (absent: every executor of the membership). */
static int parse_executors(px_pod_policy *pol, const json_t *a, px_err *err) {
    pol->any_executor = a == NULL;
    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > PX_POLICY_MAX_ITEMS)
        return px_fail(err, PX_E_INVALID, "\"executors\" must be an array of at most %d node ids", PX_POLICY_MAX_ITEMS);
    pol->executors = calloc(json_array_size(a) + 1, sizeof *pol->executors);
    if (!pol->executors)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        const char *s = json_string_value(v);
        if (!s || px_id_check("executor", s, err))
            return px_fail(err, PX_E_INVALID, "\"executors\"[%zu] must be a node id", i);
        if (!(pol->executors[pol->nexecutors] = strdup(s)))
            return px_fail(err, PX_E_NOMEM, "out of memory");
        pol->nexecutors++;
    }
    return 0;
}

static int parse_pair(const json_t *o, const char *what, int64_t *eps, int64_t *delta, px_err *err) {
    const char *e, *d;
    if (!json_is_object(o) || json_object_size(o) != 2 + (json_object_get(o, "per_consumer") != NULL))
        return px_fail(err, PX_E_INVALID, "\"%s\" must hold exactly \"epsilon\" and \"delta\"", what);
    if (px_json_str(o, "epsilon", &e, err) || px_json_str(o, "delta", &d, err) ||
        px_eps_parse(eps, e, PX_ROUND_DOWN, err) || px_delta_parse(delta, d, PX_ROUND_DOWN, err))
        return px_err_prefix(err, "\"%s\": ", what);
    return 0;
}

static int parse_budget(px_pod_policy *pol, const json_t *b, px_err *err) {
    if (!b)
        return px_fail(err, PX_E_INVALID, "missing \"budget\"");
    if (parse_pair(b, "budget", &pol->eps_total, &pol->delta_total, err))
        return -1;
    json_t *pc = json_object_get(b, "per_consumer");
    if (!pc) {
        pol->eps_consumer = pol->eps_total;
        pol->delta_consumer = pol->delta_total;
        return 0;
    }
    if (json_object_get(pc, "per_consumer"))
        return px_fail(err, PX_E_INVALID, "\"per_consumer\" cannot nest");
    return parse_pair(pc, "per_consumer", &pol->eps_consumer, &pol->delta_consumer, err);
}

static int parse_root(px_pod_policy *pol, const json_t *root, px_err *err) {
    static const char *const known[] = {"consumers", "code", "min_level", "executors", "require_dp", "budget",
                                        "at_pod", NULL};
    if (px_json_only(root, "policy", known, err))
        return -1;
    json_t *rd = json_object_get(root, "require_dp");
    if (rd && !json_is_boolean(rd))
        return px_fail(err, PX_E_INVALID, "\"require_dp\" must be true or false");
    pol->require_dp = rd && json_is_true(rd);
    if (!json_object_get(root, "consumers") || !json_object_get(root, "code"))
        return px_fail(err, PX_E_INVALID, "\"consumers\" and \"code\" are required");
    return parse_consumers(pol, json_object_get(root, "consumers"), err) ||
                   parse_code(pol, json_object_get(root, "code"), err) ||
                   parse_levels(pol, json_object_get(root, "min_level"), err) ||
                   parse_executors(pol, json_object_get(root, "executors"), err) ||
                   parse_budget(pol, json_object_get(root, "budget"), err) ||
                   (json_object_get(root, "at_pod") &&
                    px_pod_hosting_parse(&pol->at_pod, json_object_get(root, "at_pod"), err))
               ? -1
               : 0;
}

int px_pod_policy_parse(px_pod_policy *out, const void *json, size_t len, px_err *err) {
    json_t *root = px_json_parse(json, len, POLICY_JSON_MAX, err);
    if (!root)
        return px_err_prefix(err, "policy: ");
    px_pod_policy pol;
    memset(&pol, 0, sizeof pol);
    int rc = json_is_object(root) ? parse_root(&pol, root, err) : px_fail(err, PX_E_INVALID, "expected an object");
    json_decref(root);
    if (rc) {
        px_pod_policy_free(&pol);
        return px_err_prefix(err, "policy: ");
    }
    *out = pol;
    return 0;
}

/* ---- checking a request ---------------------------------------------------- */

static int min_level(const px_pod_policy *pol, const char *kind) {
    for (size_t i = 0; i < pol->nlevels; i++)
        if (!strcmp(pol->levels[i].kind, kind))
            return pol->levels[i].level;
    return pol->default_level;
}

static int code_listed(const px_pod_policy *pol, const uint8_t *d) {
    for (size_t i = 0; i < pol->ncode; i++)
        if (!memcmp(pol->code[i], d, PX_SHA256_BYTES))
            return 1;
    return 0;
}

static int consumer_allowed(const px_pod_policy *pol, const char *c) {
    if (pol->any_consumer)
        return 1;
    for (size_t i = 0; i < pol->nconsumers; i++)
        if (!strcmp(pol->consumers[i], c))
            return 1;
    return 0;
}

static int executor_allowed(const px_pod_policy *pol, const char *node) {
    if (pol->any_executor)
        return 1;
    for (size_t i = 0; node && i < pol->nexecutors; i++)
        if (!strcmp(pol->executors[i], node))
            return 1;
    return 0;
}

/* Each attested instance, named: where it runs and at which level. */
static int instances_allowed(const px_pod_policy *pol, const px_pod_request *req, px_err *err) {
    for (size_t i = 0; i < req->ninstances; i++) {
        const px_pod_instance_req *in = &req->instances[i];
        const char *kind = in->kind ? in->kind : "", *node = in->node ? in->node : "";
        int need = min_level(pol, kind);
        if (in->level < need)
            return px_fail(err, PX_E_DENIED, "stage %u (%s) partition %u on %s runs at TEE level %d, the policy of "
                           "dataset \"%s\" needs %d", in->stage, kind, in->partition, node, in->level, req->dataset,
                           need);
        if (!executor_allowed(pol, in->node))
            return px_fail(err, PX_E_DENIED, "stage %u (%s) partition %u runs on %s, not an executor the policy of "
                           "dataset \"%s\" accepts", in->stage, kind, in->partition, node, req->dataset);
    }
    return 0;
}

int px_pod_policy_check(const px_pod_policy *pol, const px_pod_request *req, px_err *err) {
    if (!req->consumer || !consumer_allowed(pol, req->consumer))
        return px_fail(err, PX_E_DENIED, "consumer \"%s\" is not allowed to use dataset \"%s\"",
                       req->consumer ? req->consumer : "", req->dataset);
    if (instances_allowed(pol, req, err) || px_pod_hosting_check(&pol->at_pod, req, err))
        return -1;
    /* An executor list judged without instances cannot be honoured. */
    if (!pol->any_executor && req->ninstances == 0 && req->nstages > 0)
        return px_fail(err, PX_E_DENIED, "the policy of dataset \"%s\" accepts only listed executors and the "
                       "request names none", req->dataset);
    size_t last_dp = 0;
    int has_dp = 0;
    for (size_t i = 0; i < req->nstages; i++)
        if (req->stages[i].kind && (!strcmp(req->stages[i].kind, "dp") || !strcmp(req->stages[i].kind, "fl-agg")))
            has_dp = 1, last_dp = i; /* fl-agg noises the round's sum (docs/fl.md) */
    if (pol->require_dp && !has_dp)
        return px_fail(err, PX_E_DENIED, "dataset \"%s\" is released only to tasks with a DP stage", req->dataset);
    for (size_t i = 0; i < req->nstages; i++) {
        const px_pod_stage_req *s = &req->stages[i];
        const char *kind = s->kind ? s->kind : "";
        int need = min_level(pol, kind);
        if (s->level < need)
            return px_fail(err, PX_E_DENIED, "stage %zu (%s) runs at TEE level %d, the policy needs %d", i, kind,
                           s->level, need);
        if (!s->code_digest || code_listed(pol, s->code_digest))
            continue;
        if (pol->any_code_behind_dp && has_dp && last_dp > i)
            continue;
        char hex[2 * PX_SHA256_BYTES + 1];
        px_hex_encode(hex, s->code_digest, PX_SHA256_BYTES);
        return px_fail(err, PX_E_DENIED, "stage %zu code %s is not allowed for dataset \"%s\"%s", i, hex,
                       req->dataset, pol->any_code_behind_dp ? " without a DP stage after it" : "");
    }
    return 0;
}

/* ---- storage ---------------------------------------------------------------- */

int px_pod_policy_set(px_pod *p, const char *dataset, const void *json, size_t len, px_err *err) {
    px_pod_policy pol;
    int64_t id;
    if (px_pod_policy_parse(&pol, json, len, err))
        return -1;
    px_pod_policy_free(&pol);
    if (px_db_dataset(p, dataset, &id, NULL, err))
        return -1;
    sqlite3_stmt *st;
    if (px_db_prepare(p, &st,
                      "INSERT INTO policy(dataset, doc, updated) VALUES(?, ?, ?) "
                      "ON CONFLICT(dataset) DO UPDATE SET doc = excluded.doc, updated = excluded.updated",
                      err))
        return -1;
    sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, json, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, px_now_ms());
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : px_db_fail(p, "storing the policy", err);
    sqlite3_finalize(st);
    return rc;
}

int px_pod_policy_get(px_pod *p, const char *dataset, px_buf *out, px_err *err) {
    sqlite3_stmt *st;
    if (px_db_prepare(p, &st, "SELECT doc FROM policy WHERE dataset = ?", err))
        return -1;
    sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = px_buf_append(out, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0), err);
    else if (rc == SQLITE_DONE)
        rc = px_fail(err, PX_E_NOTFOUND, "dataset \"%s\" has no policy (it is released to nobody)", dataset);
    else
        rc = px_db_fail(p, "reading the policy", err);
    sqlite3_finalize(st);
    return rc;
}

/* ---- accepted builds ----------------------------------------------------------- */

int px_pod_build_add(px_pod *p, const uint8_t build[PX_SHA256_BYTES], px_err *err) {
    char hex[2 * PX_SHA256_BYTES + 1];
    sqlite3_stmt *st;
    px_hex_encode(hex, build, PX_SHA256_BYTES);
    if (px_db_prepare(p, &st, "INSERT INTO builds(digest, added) VALUES(?, ?) ON CONFLICT(digest) DO NOTHING", err))
        return -1;
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, px_now_ms());
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : px_db_fail(p, "adding an accepted build", err);
    sqlite3_finalize(st);
    return rc;
}

int px_pod_build_remove(px_pod *p, const uint8_t build[PX_SHA256_BYTES], px_err *err) {
    char hex[2 * PX_SHA256_BYTES + 1];
    sqlite3_stmt *st;
    px_hex_encode(hex, build, PX_SHA256_BYTES);
    if (px_db_prepare(p, &st, "DELETE FROM builds WHERE digest = ?", err))
        return -1;
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : px_db_fail(p, "removing an accepted build", err);
    sqlite3_finalize(st);
    if (rc == 0 && sqlite3_changes(px_db(p)) == 0)
        rc = px_fail(err, PX_E_NOTFOUND, "build %.16s... is not an accepted build of this POD", hex);
    return rc;
}

int px_pod_build_list(px_pod *p, uint8_t (**out)[PX_SHA256_BYTES], size_t *n, px_err *err) {
    sqlite3_stmt *st;
    *out = NULL;
    *n = 0;
    if (px_db_prepare(p, &st, "SELECT digest FROM builds ORDER BY added, digest", err))
        return -1;
    int rc, step;
    size_t cap = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *hex = (const char *)sqlite3_column_text(st, 0);
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            uint8_t(*grown)[PX_SHA256_BYTES] = realloc(*out, cap * sizeof **out);
            if (!grown) {
                step = SQLITE_NOMEM;
                break;
            }
            *out = grown;
        }
        /* A row edited behind PIXIU's back is refused, never half-read. */
        if (!hex || px_hex_decode_exact((*out)[*n], PX_SHA256_BYTES, hex, strlen(hex), NULL)) {
            step = SQLITE_CORRUPT;
            break;
        }
        (*n)++;
    }
    rc = step == SQLITE_DONE      ? 0
         : step == SQLITE_NOMEM   ? px_fail(err, PX_E_NOMEM, "out of memory")
         : step == SQLITE_CORRUPT ? px_fail(err, PX_E_STATE, "an accepted build in the POD database is not a hex "
                                                             "SHA-256 digest")
                                  : px_db_fail(p, "reading the accepted builds", err);
    sqlite3_finalize(st);
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}
