/* A whole task's log entries, signed the way the stages sign them, with
 * one fault or none: the input of the audit, trace and receipt tests. */
#ifndef PX_EXEC_SCENARIO_H
#define PX_EXEC_SCENARIO_H

#include "fixture.h"

#define MAXE 32

typedef struct tlog {
    px_buf raw[MAXE];
    size_t n;
} tlog;

static inline uint8_t *entry_id(const tlog *l, size_t i, uint8_t out[32]) {
    px_sha256(out, l->raw[i].data, l->raw[i].len);
    return out;
}

static inline void digest_of(uint8_t out[32], const char *label) {
    px_sha256(out, label, strlen(label));
}

/* What to break in the standard three-stage task. */
typedef struct faults {
    int fail_stage;      /* signs a failure proof; -1 none */
    const char *fail_status;
    int drop_stage;      /* leaves no proof; -1 none */
    int forge_stage;     /* a proof by the wrong key appears; -1 none */
    int report_dropped;  /* the consumer reports the dropped stage */
    int release_bad_key; /* pod-1 releases to a non-attested key */
    int wrong_input;     /* stage 1 names an input stage 0 never output */
    int equivocate;      /* stage 0 signs a second, different output */
    int no_plan;
    int bad_measurement; /* instance 1's evidence does not match */
    int accept_dropped;  /* the dropped stage logged its accepted-input statement */
    int report_ok_stage; /* the consumer reports this stage silent although it proved ok; -1 none */
    int unaccepted_stage; /* proves ok with no accepted-input statement; -1 none */
} faults;

static const faults NONE = {.fail_stage = -1, .drop_stage = -1, .forge_stage = -1, .report_ok_stage = -1,
                            .unaccepted_stage = -1};

/* The consumer's signed word that stage s on node never answered. */
static inline void consumer_report(fx *f, tlog *l, uint32_t s, const char *node) {
    json_t *p = json_object(), *st = json_object();
    json_object_set_new(p, "manifest", fx_hexstr(f->m.id, 32));
    json_object_set_new(st, "index", json_integer(s));
    json_object_set_new(st, "partition", json_integer(0));
    json_object_set_new(p, "stage", st);
    json_object_set_new(p, "node", json_string(node));
    json_object_set_new(p, "status", json_string("timeout"));
    json_object_set_new(p, "reason", json_string("no answer within 30000 ms"));
    fx_statement(&l->raw[l->n++], &f->consumer, PX_REPORT_PREDICATE, "manifest", f->m.id, p);
}

static inline int input_failure(const char *status) {
    return !strcmp(status, "bad-input") || !strcmp(status, "bad-proof") || !strcmp(status, "digest-mismatch");
}

static inline void build(fx *f, tlog *l, faults x) {
    memset(l, 0, sizeof *l);
    if (x.bad_measurement)
        f->inst[1].bad_measurement = 1;
    if (!x.no_plan)
        fx_plan(f, &l->raw[l->n++], -1);
    px_input_ref rel[FX_PODS];
    for (int i = 0; i < FX_PODS; i++) {
        char label[16];
        snprintf(label, sizeof label, "release-%d", i);
        digest_of(rel[i].digest, label);
        px_box_keypair other;
        px_box_keygen(&other);
        fx_release(f, &l->raw[l->n], i, rel[i].digest,
                   x.release_bad_key && i == 1 ? other.pk : f->inst[0].box.pk);
        entry_id(l, l->n++, rel[i].proof);
    }
    px_input_ref prev[1];
    const px_input_ref *in = rel;
    size_t nin = FX_PODS;
    for (uint32_t s = 0; s < FX_STAGES; s++) {
        char label[16];
        uint8_t out[32];
        snprintf(label, sizeof label, "output-%u", s);
        digest_of(out, label);
        if ((int)s == x.forge_stage) {
            px_signer impostor;
            px_err err = {0};
            px_assert_ok(px_signer_generate(&impostor, "instance", &err), &err);
            fx_proof(f, &l->raw[l->n++], &impostor, s, "ok", in, nin, out);
        }
        if ((int)s == x.drop_stage) {
            if (x.accept_dropped)
                fx_accepted(f, &l->raw[l->n++], &f->inst[s].sign, s, in, nin, f->inst[s].evidence_digest);
            if (x.report_dropped)
                consumer_report(f, l, s, "exec-2");
            break;
        }
        int failed = (int)s == x.fail_stage;
        /* An instance signs its acceptance once its inputs validate. */
        if ((int)s != x.unaccepted_stage && !(failed && input_failure(x.fail_status)))
            fx_accepted(f, &l->raw[l->n++], &f->inst[s].sign, s, in, nin, f->inst[s].evidence_digest);
        fx_proof(f, &l->raw[l->n], &f->inst[s].sign, s, failed ? x.fail_status : "ok", in, nin,
                 failed ? in[0].digest : out);
        entry_id(l, l->n++, prev[0].proof);
        if ((int)s == x.report_ok_stage)
            consumer_report(f, l, s, "exec-1");
        if (failed)
            break;
        memcpy(prev[0].digest, out, 32);
        if (s == 0 && x.equivocate) {
            uint8_t other[32];
            digest_of(other, "other output");
            fx_proof(f, &l->raw[l->n++], &f->inst[0].sign, 0, "ok", in, nin, other);
        }
        if (s == 0 && x.wrong_input)
            digest_of(prev[0].digest, "something else");
        in = prev;
        nin = 1;
    }
}

static inline void free_log(tlog *l) {
    for (size_t i = 0; i < MAXE; i++)
        px_buf_free(&l->raw[i]);
}

#endif
