/* Reading log entries as PIXIU statements (docs/formats.md). Only the
 * fields the audit and the trace use are read; signatures are checked by
 * the audit, which knows whose key each kind of statement needs. */
#include <string.h>

#include "exec/util.h"

#define PX_ENTRY_MAX_INPUTS 100000

static int read_u64(const json_t *o, const char *key, uint64_t *out, px_err *err) {
    int64_t v;
    if (px_json_int(o, key, &v, err))
        return -1;
    if (v < 0)
        return px_fail(err, PX_E_INVALID, "field \"%s\" is negative", key);
    *out = (uint64_t)v;
    return 0;
}

static int read_inputs(px_entry *e, const json_t *pred, px_err *err) {
    json_t *arr, *v, *d;
    size_t i;
    if (px_x_arr(pred, "inputs", 0, PX_ENTRY_MAX_INPUTS, &arr, err))
        return -1;
    if (json_array_size(arr) == 0)
        return 0;
    if (!(e->inputs = calloc(json_array_size(arr), sizeof *e->inputs)))
        return px_fail(err, PX_E_NOMEM, "out of memory reading inputs");
    json_array_foreach(arr, i, v) {
        if (px_x_obj(v, "digest", &d, err) || px_json_hex(d, "sha256", e->inputs[i].digest, PX_SHA256_BYTES, err) ||
            px_json_hex(v, "proof", e->inputs[i].proof, PX_SHA256_BYTES, err))
            return px_err_prefix(err, "input %zu: ", i);
        e->ninputs = i + 1;
    }
    return 0;
}

/* A POD-side instance states only "users" (no record counts), so each
 * count is read when present. */
static int read_counts(px_entry *e, const json_t *pred, px_err *err) {
    json_t *c = json_object_get(pred, "counts");
    if (!c)
        return 0;
    if (!json_is_object(c))
        return px_fail(err, PX_E_INVALID, "field \"counts\" must be an object");
    if (px_x_opt_uint(c, "records", UINT64_MAX >> 1, &e->records, err) ||
        px_x_opt_uint(c, "authenticated", UINT64_MAX >> 1, &e->authenticated, err) ||
        px_x_opt_uint(c, "alleged", UINT64_MAX >> 1, &e->alleged, err))
        return px_err_prefix(err, "counts: ");
    return px_x_opt_uint(c, "dropped", UINT64_MAX >> 1, &e->dropped, err);
}

static int copy_opt(const json_t *o, const char *key, char *dst, size_t cap, px_err *err) {
    if (!json_object_get(o, key))
        return 0;
    return px_x_strcpy(o, key, dst, cap, err);
}

static int read_stage(px_entry *e, const json_t *pred, px_err *err) {
    json_t *stage;
    int64_t index, part = 0;
    if (px_x_obj(pred, "stage", &stage, err) || px_json_int(stage, "index", &index, err) ||
        px_x_strcpy(stage, "kind", e->stage_kind, sizeof e->stage_kind, err))
        return -1;
    if (json_object_get(stage, "partition") && px_json_int(stage, "partition", &part, err))
        return -1;
    /* A POD-side instance's partition is its POD's position. */
    if (index < 0 || index >= PX_MANIFEST_MAX_STAGES || part < 0 || part >= PX_MANIFEST_MAX_PODS)
        return px_fail(err, PX_E_INVALID, "stage index or partition out of range");
    e->stage = (uint32_t)index;
    e->partition = (uint32_t)part;
    return 0;
}

/* A POD's statement of an instance it hosts: pod, stage, nonce, config and
 * evidence (checked by px_podinst_check). */
static int read_podinst(px_entry *e, const json_t *pred, px_err *err) {
    static const char *const keys[] = {"manifest", "pod", "stage", "nonce", "config", "evidence", NULL};
    if (px_json_only(pred, "POD instance", keys, err) || px_x_strcpy(pred, "pod", e->pod, sizeof e->pod, err) ||
        read_stage(e, pred, err) || px_json_hex(pred, "nonce", e->nonce, sizeof e->nonce, err) ||
        px_json_b64(pred, "config", &e->config, err) || px_json_b64(pred, "evidence", &e->inst_evidence, err))
        return -1;
    if (e->config.len > PX_STAGE_CONFIG_MAX_BYTES || e->inst_evidence.len > PX_EVIDENCE_MAX_BYTES)
        return px_fail(err, PX_E_LIMIT, "POD instance config or evidence too large");
    if (e->st.nsubjects != 1 || strcmp(e->st.subjects[0].name, "instance"))
        return px_fail(err, PX_E_INVALID, "a POD instance statement names one subject, \"instance\"");
    uint8_t d[PX_SHA256_BYTES];
    px_evidence_digest(d, e->inst_evidence.data, e->inst_evidence.len);
    if (!px_ct_equal(d, e->st.subjects[0].sha256, sizeof d))
        return px_fail(err, PX_E_INVALID, "a POD instance statement's subject is not its evidence digest");
    return 0;
}

/* The accepted-input statement (docs/formats.md): what the audit needs to
 * tie it to an attested instance and to its later proof. */
static int read_accepted(px_entry *e, const json_t *pred, px_err *err) {
    if (read_stage(e, pred, err) || px_json_hex(pred, "evidence", e->evidence, sizeof e->evidence, err) ||
        read_inputs(e, pred, err) || px_json_int(pred, "accepted", &e->accepted, err))
        return -1;
    if (e->ninputs == 0)
        return px_fail(err, PX_E_INVALID, "an accepted-input statement names no input");
    return 0;
}

static int read_exec(px_entry *e, const json_t *pred, px_err *err) {
    if (read_stage(e, pred, err))
        return -1;
    if (px_x_strcpy(pred, "status", e->status, sizeof e->status, err) ||
        copy_opt(pred, "reason", e->reason, sizeof e->reason, err) || read_inputs(e, pred, err) ||
        read_counts(e, pred, err))
        return -1;
    return 0;
}

static int read_release(px_entry *e, const json_t *pred, px_err *err) {
    if (px_x_strcpy(pred, "pod", e->pod, sizeof e->pod, err) ||
        px_x_strcpy(pred, "dataset", e->dataset, sizeof e->dataset, err) ||
        px_json_hex(pred, "stage_key", e->stage_key, sizeof e->stage_key, err))
        return -1;
    /* A release to a POD-side instance states no counts ("at": "pod"). */
    const char *at = json_string_value(json_object_get(pred, "at"));
    if (at && strcmp(at, "pod"))
        return px_fail(err, PX_E_INVALID, "release field \"at\" can only be \"pod\"");
    if (!at && (read_u64(pred, "records", &e->records, err) || read_u64(pred, "signed", &e->authenticated, err) ||
                read_u64(pred, "unsigned", &e->alleged, err)))
        return -1;
    uint8_t d[PX_SHA256_BYTES];
    if (px_json_hex(pred, "dataset_digest", d, sizeof d, err))
        return -1;
    for (size_t i = 0; i < e->st.nsubjects; i++)
        if (px_ct_equal(e->st.subjects[i].sha256, d, sizeof d))
            return 0;
    return px_fail(err, PX_E_INVALID, "release subject does not name its dataset_digest");
}

static int read_report(px_entry *e, const json_t *pred, px_err *err) {
    json_t *stage;
    int64_t index, part = 0;
    if (px_x_obj(pred, "stage", &stage, err) || px_json_int(stage, "index", &index, err))
        return -1;
    if (json_object_get(stage, "partition") && px_json_int(stage, "partition", &part, err))
        return -1;
    if (index < 0 || index >= PX_MANIFEST_MAX_STAGES || part < 0 || part >= PX_PLAN_MAX_INSTANCES)
        return px_fail(err, PX_E_INVALID, "stage index or partition out of range");
    e->stage = (uint32_t)index;
    e->partition = (uint32_t)part;
    return px_x_strcpy(pred, "node", e->node, sizeof e->node, err) ||
                   px_x_strcpy(pred, "status", e->status, sizeof e->status, err) ||
                   copy_opt(pred, "reason", e->reason, sizeof e->reason, err)
               ? -1
               : 0;
}

static int read_part(px_entry *e, const json_t *pred, px_err *err) {
    static const char *const keys[] = {"manifest", "plan", "part", "parts", "next", "bytes", NULL};
    int64_t part, parts;
    if (px_json_only(pred, "plan part", keys, err) ||
        px_json_hex(pred, "plan", e->part_of, sizeof e->part_of, err) || px_json_int(pred, "part", &part, err) ||
        px_json_int(pred, "parts", &parts, err) || px_json_hex(pred, "next", e->part_next, sizeof e->part_next, err))
        return -1;
    if (parts < 2 || parts > (int64_t)PX_PLAN_MAX_PARTS || part < 0 || part >= parts)
        return px_fail(err, PX_E_INVALID, "plan part %lld of %lld is out of range (2 to %u parts)", (long long)part,
                       (long long)parts, (unsigned)PX_PLAN_MAX_PARTS);
    if (px_json_b64(pred, "bytes", &e->part_bytes, err))
        return -1;
    if (e->part_bytes.len == 0 || e->part_bytes.len > PX_PLAN_PART_BYTES)
        return px_fail(err, PX_E_INVALID, "plan part holds %zu bytes, 1 to %d allowed", e->part_bytes.len,
                       PX_PLAN_PART_BYTES);
    e->part = (uint32_t)part;
    e->parts = (uint32_t)parts;
    return 0;
}

/* Names from the log end up in terminals, JSON and Graphviz labels. */
static int names_clean(px_entry *e, px_err *err) {
    if ((e->stage_kind[0] && !px_id_valid(e->stage_kind)) || (e->status[0] && !px_id_valid(e->status)) ||
        (e->dataset[0] && !px_id_valid(e->dataset)) || (e->pod[0] && !px_id_valid(e->pod)) ||
        (e->node[0] && !px_id_valid(e->node)))
        return px_fail(err, PX_E_INVALID, "a kind, status, dataset or node name has characters outside "
                       "[A-Za-z0-9._-]");
    px_x_printable(e->reason);
    return 0;
}

static int read_statement(px_entry *e, px_err *err) {
    static const struct { const char *type; px_entry_kind kind; } kinds[] = {
        {PX_PLAN_PREDICATE, PX_ENTRY_PLAN}, {PX_EXEC_PREDICATE, PX_ENTRY_EXEC},
        {PX_RELEASE_PREDICATE, PX_ENTRY_RELEASE}, {PX_REPORT_PREDICATE, PX_ENTRY_REPORT},
        {PX_PLAN_PART_PREDICATE, PX_ENTRY_PLAN_PART}, {PX_ACCEPTED_PREDICATE, PX_ENTRY_ACCEPTED},
        {PX_POD_INSTANCE_PREDICATE, PX_ENTRY_POD_INSTANCE}};
    if (strcmp(e->env.payload_type, PX_INTOTO_PAYLOAD_TYPE))
        return 0;
    if (px_statement_parse(&e->st, e->env.payload.data, e->env.payload.len, err))
        return -1;
    px_entry_kind kind = PX_ENTRY_OTHER;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(e->st.predicate_type, kinds[i].type))
            kind = kinds[i].kind;
    if (kind == PX_ENTRY_OTHER)
        return 0;
    const json_t *pred = e->st.predicate;
    if (px_json_hex(pred, "manifest", e->manifest, sizeof e->manifest, err))
        return -1;
    int rc = 0;
    if (kind == PX_ENTRY_EXEC)
        rc = read_exec(e, pred, err);
    else if (kind == PX_ENTRY_RELEASE)
        rc = read_release(e, pred, err);
    else if (kind == PX_ENTRY_REPORT)
        rc = read_report(e, pred, err);
    else if (kind == PX_ENTRY_PLAN_PART)
        rc = read_part(e, pred, err);
    else if (kind == PX_ENTRY_ACCEPTED)
        rc = read_accepted(e, pred, err);
    else if (kind == PX_ENTRY_POD_INSTANCE)
        rc = read_podinst(e, pred, err);
    if (rc == 0)
        rc = names_clean(e, err);
    if (rc == 0)
        e->kind = kind;
    return rc;
}

int px_entry_parse(px_entry *e, uint64_t index, const uint8_t *data, size_t len, px_err *err) {
    memset(e, 0, sizeof *e);
    e->index = index;
    px_sha256(e->id, data, len);
    if (px_buf_append(&e->raw, data, len, err) || px_dsse_parse(&e->env, data, len, err) || read_statement(e, err)) {
        px_err_prefix(err, "log entry %llu: ", (unsigned long long)index);
        px_entry_free(e);
        return -1;
    }
    return 0;
}

void px_entry_free(px_entry *e) {
    if (!e)
        return;
    px_buf_free(&e->raw);
    px_dsse_free(&e->env);
    px_statement_free(&e->st);
    free(e->inputs);
    px_buf_free(&e->part_bytes);
    px_buf_free(&e->config);
    px_buf_free(&e->inst_evidence);
    memset(e, 0, sizeof *e);
}
