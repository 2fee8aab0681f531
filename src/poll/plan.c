/* The poll statement: the conductor's word for which survey runs and which
 * attested instance tallies it, with the checks every party runs before
 * trusting that instance (a voter before sealing a ballot to it, the
 * issuer and the boxes before sealing to it, a reader of the receipt). */
#include <string.h>

#include "pixiu/proof.h"
#include "poll/pjson.h"

int px_poll_config_build(px_buf *out, const px_poll_survey *s, const uint8_t receiver[PX_BOX_PUBLICKEYBYTES],
                         const px_verifier *log_key, px_err *err) {
    json_t *c = json_object(), *pods = json_array(), *succ = json_array(), *params = json_object();
    px_buf vk = PX_BUF_INIT;
    int rc = !c || !pods || !succ || !params;
    rc = rc || px_pj_set_hex(c, "manifest", s->id, PX_POLL_ID_BYTES, err) ||
         px_pj_set(c, "stage", json_pack("{s:i,s:s,s:i}", "index", 0, "kind", PX_POLL_TALLY_KIND, "partition", 0), err);
    char hex[2 * PX_BOX_PUBLICKEYBYTES + 1];
    px_hex_encode(hex, receiver, PX_BOX_PUBLICKEYBYTES);
    rc = rc || json_array_append_new(succ, json_string(hex)) || px_pj_set(c, "successors", json_incref(succ), err);
    for (size_t i = 0; !rc && i <= s->nboxes; i++) {
        px_buf_reset(&vk);
        rc = px_verifier_format(i ? &s->boxes[i - 1].key : &s->issuer.key, &vk, err) || !px_buf_cstr(&vk, err) ||
             json_array_append_new(pods, json_string((const char *)vk.data));
    }
    rc = rc || px_pj_set(c, "predecessors", json_pack("{s:[],s:i,s:O}", "platform_keys", "min_level", 1, "pods", pods),
                         err);
    px_buf_reset(&vk);
    rc = rc || px_verifier_format(log_key, &vk, err) || !px_buf_cstr(&vk, err) ||
         px_pj_set(c, "log", json_string((const char *)vk.data), err) ||
         px_pj_set(c, "deadline", json_integer(s->tally_by), err) ||
         px_pj_set_b64(params, "survey", s->envelope.data, s->envelope.len, err) ||
         px_pj_set(c, "params", json_incref(params), err) || px_json_dump(c, out, err);
    json_decref(c);
    json_decref(pods);
    json_decref(succ);
    json_decref(params);
    px_buf_free(&vk);
    return rc ? px_fail(err, PX_E_NOMEM, "cannot build the tally config") : 0;
}

int px_poll_plan_sign(px_buf *out, const px_buf *survey_env, const char *node,
                      const uint8_t nonce[PX_TEE_NONCE_BYTES], const px_buf *config, const px_buf *evidence,
                      const px_signer *conductor, px_err *err) {
    px_poll_survey s;
    if (px_poll_survey_parse(&s, survey_env->data, survey_env->len, err))
        return -1;
    json_t *p = json_object(), *t = json_object();
    px_buf st = PX_BUF_INIT;
    int rc = !p || !t || px_pj_set_hex(p, "poll", s.id, 32, err) ||
             px_pj_set_b64(p, "survey", survey_env->data, survey_env->len, err) ||
             px_pj_set(t, "node", json_string(node), err) || px_pj_set_hex(t, "nonce", nonce, PX_TEE_NONCE_BYTES, err) ||
             px_pj_set_b64(t, "config", config->data, config->len, err) ||
             px_pj_set_b64(t, "evidence", evidence->data, evidence->len, err) ||
             px_pj_set(p, "tally", json_incref(t), err) || px_pj_set(p, "created", json_integer(px_now_ms()), err);
    px_subject subj = {(char *)"poll", {0}};
    memcpy(subj.sha256, s.id, 32);
    rc = rc || px_statement_build(&st, &subj, 1, PX_POLL_PREDICATE, p, err) ||
         px_dsse_sign(out, PX_INTOTO_PAYLOAD_TYPE, st.data, st.len, conductor, 1, err);
    json_decref(p);
    json_decref(t);
    px_buf_free(&st);
    px_poll_survey_free(&s);
    return rc ? -1 : 0;
}

void px_poll_plan_free(px_poll_plan *p) {
    px_buf_free(&p->envelope);
    px_poll_survey_free(&p->survey);
    px_buf_free(&p->config);
    px_buf_free(&p->evidence);
    memset(p, 0, sizeof *p);
}

static int read_predicate(px_poll_plan *p, const json_t *pr, px_err *err) {
    static const char *const keys[] = {"poll", "survey", "tally", "created", NULL};
    static const char *const tkeys[] = {"node", "nonce", "config", "evidence", NULL};
    px_buf env = PX_BUF_INIT;
    json_t *t;
    uint8_t id[32];
    int rc = px_pj_only(pr, "poll statement", keys, err) || px_json_hex(pr, "poll", id, 32, err) ||
             px_json_b64(pr, "survey", &env, err) || px_pj_obj(pr, "tally", &t, err) ||
             px_pj_only(t, "tally", tkeys, err) ||
             px_pj_name(json_object_get(t, "node"), "tally.node", p->node, sizeof p->node, err) ||
             px_json_hex(t, "nonce", p->nonce, sizeof p->nonce, err) || px_json_b64(t, "config", &p->config, err) ||
             px_json_b64(t, "evidence", &p->evidence, err) ||
             px_pj_int(pr, "created", 0, INT64_C(1) << 53, &p->created, err) ||
             px_poll_survey_parse(&p->survey, env.data, env.len, err);
    if (!rc && !px_ct_equal(id, p->survey.id, 32))
        rc = px_fail(err, PX_E_VERIFY, "the statement's poll is not its survey's id");
    px_buf_free(&env);
    return rc ? -1 : 0;
}

int px_poll_plan_parse(px_poll_plan *p, const void *envelope, size_t len, px_err *err) {
    memset(p, 0, sizeof *p);
    if (len > PX_POLL_PLAN_MAX_BYTES)
        return px_fail(err, PX_E_LIMIT, "poll statement of %zu bytes", len);
    px_dsse e;
    if (px_dsse_parse(&e, envelope, len, err))
        return px_err_prefix(err, "poll statement: ");
    px_statement st;
    int rc = -1, have_st = 0;
    if (strcmp(e.payload_type, PX_INTOTO_PAYLOAD_TYPE))
        px_fail(err, PX_E_INVALID, "not an in-toto statement");
    else if (px_statement_parse(&st, e.payload.data, e.payload.len, err) == 0) {
        have_st = 1;
        if (strcmp(st.predicate_type, PX_POLL_PREDICATE) || st.nsubjects != 1 || strcmp(st.subjects[0].name, "poll"))
            px_fail(err, PX_E_INVALID, "not a poll statement");
        else if (read_predicate(p, st.predicate, err) == 0) {
            if (!px_ct_equal(st.subjects[0].sha256, p->survey.id, 32))
                px_fail(err, PX_E_VERIFY, "subject is not the survey's id");
            else if (px_dsse_verify(&e, &p->survey.conductor.key, NULL))
                px_fail(err, PX_E_VERIFY, "not signed by the survey's conductor");
            else if (px_buf_append(&p->envelope, envelope, len, err) == 0) {
                px_sha256(p->id, envelope, len);
                rc = 0;
            }
        }
    }
    if (have_st)
        px_statement_free(&st);
    px_dsse_free(&e);
    if (rc) {
        px_poll_plan_free(p);
        return px_err_prefix(err, "poll statement: ");
    }
    return 0;
}

/* The attested config is exactly what px_poll_config_build makes for the
 * survey: any single receiver, the survey's issuer and boxes as the only
 * sources, the given log, the survey's deadline and itself as params. */
int px_poll_config_check(const px_poll_survey *s, const uint8_t *config, size_t len, const px_verifier *log_key,
                         px_err *err) {
    px_stage_config c;
    if (px_stage_config_parse(&c, config, len, err))
        return px_err_prefix(err, "tally config: ");
    int rc = -1;
    json_t *sv = json_object_get(c.params, "survey");
    px_buf env = PX_BUF_INIT;
    if (!px_ct_equal(c.manifest, s->id, 32) || c.index || c.partition || strcmp(c.kind, PX_POLL_TALLY_KIND))
        px_fail(err, PX_E_VERIFY, "tally config: not stage 0 of kind " PX_POLL_TALLY_KIND " for this poll");
    else if (c.nsuccessors != 1 || c.nplatform_keys != 0 || c.npods != s->nboxes + 1)
        px_fail(err, PX_E_VERIFY, "tally config: not one receiver and exactly the survey's issuer and boxes");
    else if (memcmp(c.log.pk, log_key->pk, sizeof c.log.pk))
        px_fail(err, PX_E_VERIFY, "tally config: answers to another log than the network's");
    else if (c.deadline != s->tally_by)
        px_fail(err, PX_E_VERIFY, "tally config: its deadline is not the survey's tally_by");
    else if (json_object_size(c.params) != 1 || !json_is_string(sv) ||
             px_b64_decode(&env, json_string_value(sv), json_string_length(sv), NULL) ||
             env.len != s->envelope.len || memcmp(env.data, s->envelope.data, env.len))
        px_fail(err, PX_E_VERIFY, "tally config: its params are not exactly this survey");
    else {
        rc = 0;
        for (size_t i = 0; i <= s->nboxes && !rc; i++)
            if (memcmp(c.pods[i].pk, i ? s->boxes[i - 1].key.pk : s->issuer.key.pk, PX_SIGN_PUBLICKEYBYTES))
                rc = px_fail(err, PX_E_VERIFY, "tally config: source %zu is not the survey's %s", i,
                             i ? "box" : "issuer");
    }
    px_buf_free(&env);
    px_stage_config_free(&c);
    return rc;
}

int px_poll_plan_check(const px_poll_plan *p, const px_verifier *platform, const uint8_t (*builds)[PX_SHA256_BYTES],
                       size_t nbuilds, const px_verifier *log_key, px_poll_attested *out, px_err *err) {
    if (!nbuilds)
        return px_fail(err, PX_E_VERIFY, "no build is accepted");
    px_evidence_policy pol = {.platform_keys = platform, .nplatform_keys = 1, .min_level = 1, .nonce = p->nonce,
                              .node = p->node, .builds = builds, .nbuilds = nbuilds};
    px_evidence ev;
    uint8_t build[32], cd[32], want[32];
    if (px_evidence_verify(p->evidence.data, p->evidence.len, &pol, &ev, NULL, err) ||
        px_tee_build_digest(build, &ev.build, err))
        return px_err_prefix(err, "tally instance on %s: ", p->node);
    px_sha256(cd, p->config.data, p->config.len);
    if (px_tee_measure(want, build, PX_POLL_TALLY_KIND, px_tee_builtin_code, cd, err))
        return -1;
    if (!px_ct_equal(want, ev.measurement, sizeof want))
        return px_fail(err, PX_E_VERIFY, "tally instance on %s: its measurement is not a " PX_POLL_TALLY_KIND
                       " stage with this config", p->node);
    if (px_poll_config_check(&p->survey, p->config.data, p->config.len, log_key, err))
        return -1;
    memset(out, 0, sizeof *out);
    out->level = ev.level < 0 ? 0 : (uint32_t)ev.level;
    memcpy(out->build, build, 32);
    memcpy(out->measurement, ev.measurement, 32);
    memcpy(out->sign_pk, ev.sign_pk, 32);
    memcpy(out->box_pk, ev.box_pk, 32);
    px_evidence_digest(out->evidence_digest, p->evidence.data, p->evidence.len);
    return 0;
}
