/* The DP stage of a trust-λ chain: trusted built-in code that takes the
 * per-user (or per-block) PXV1 vectors the task produced, enforces the
 * declared sensitivity itself and releases one noised PXV1 vector. What it
 * spent and what it had to clamp or drop go into its execution proof. */
#include <stdio.h>
#include <stdlib.h>

#include "dp_int.h"
#include "pixiu/records.h"

static int px_dp_set_q(json_t *o, const char *key, px_dp_q q) {
    char s[PX_DP_DEC_STR_MAX];
    px_dp_q_format(q, s);
    return json_object_set_new(o, key, json_string(s));
}

static int px_dp_set_u(json_t *o, const char *key, uint64_t v) {
    return json_object_set_new(o, key, json_integer((json_int_t)v));
}

static json_t *px_dp_enforced_json(const px_dp_enforced *e) {
    json_t *o = json_object();
    if (!o)
        return NULL;
    int rc = px_dp_set_u(o, "inputs", e->inputs) |
             px_dp_set_u(o, "used", e->used) |
             px_dp_set_u(o, "rejected_decode", e->rejected_decode) |
             px_dp_set_u(o, "rejected_length", e->rejected_length) |
             px_dp_set_u(o, "rejected_nan", e->rejected_nan) |
             px_dp_set_u(o, "rejected_values", e->rejected_values) |
             px_dp_set_u(o, "clamped", e->clamped) |
             px_dp_set_u(o, "infinite", e->infinite) |
             px_dp_set_u(o, "negative_zero", e->negative_zero) |
             px_dp_set_u(o, "limited", e->limited) |
             px_dp_set_u(o, "blocks_missing", e->blocks_missing) |
             px_dp_set_u(o, "saturated", e->saturated);
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *px_dp_predicate(const px_dp_config *c, const px_dp_result *res,
                        px_err *err) {
    json_t *o = json_object(), *noise = json_object();
    json_t *enf = px_dp_enforced_json(&res->enforced);
    char params[64];
    snprintf(params, sizeof params, "%llu/%llu",
             (unsigned long long)res->noise.a,
             (unsigned long long)res->noise.b);
    if (!o || !noise || !enf ||
        json_object_set_new(o, "mechanism", json_string(px_dp_noise_name(
                                                res->noise.kind))) != 0 ||
        px_dp_set_q(o, "epsilon", res->spend.epsilon) != 0 ||
        px_dp_set_q(o, "delta", res->spend.delta) != 0 ||
        px_dp_set_q(o, "rho", res->spend.rho) != 0 ||
        json_object_set_new(o, "query", json_string(px_dp_mechanism_name(
                                            c->mechanism))) != 0 ||
        json_object_set_new(o, "mode", json_string(c->mode == PX_DP_SAMPLE_AGG
                                                       ? "sample-and-aggregate"
                                                       : "per-user")) != 0 ||
        json_object_set_new(o, "grid", json_integer(c->grid)) != 0 ||
        json_object_set_new(noise, res->noise.kind == PX_DP_NOISE_GAUSSIAN
                                       ? "sigma2"
                                       : "scale",
                            json_string(params)) != 0 ||
        json_object_set(o, "noise", noise) != 0 ||
        json_object_set(o, "enforced", enf) != 0) {
        json_decref(o);
        o = NULL;
        px_fail(err, PX_E_NOMEM, "out of memory for the dp predicate");
    }
    json_decref(noise);
    json_decref(enf);
    return o;
}

int px_dp_stage_vecs(const px_dp_config *c, const px_dp_vec *in, size_t n,
                     px_buf *out, json_t **predicate, px_err *err) {
    int rc = -1;
    px_dp_result res = {0};
    size_t orig = out->len;
    /* the pool is 4 KiB: keep it off the stack */
    px_dp_rng *rng = malloc(sizeof *rng);
    if (!rng)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    px_dp_rng_init(rng);
    if (px_dp_release(c, in, n, rng, &res, err) != 0)
        goto out;
    if (px_vector_encode(out, res.values, res.n, err) != 0)
        goto out;
    *predicate = px_dp_predicate(c, &res, err);
    if (!*predicate)
        goto out;
    rc = 0;
out:
    if (rc != 0)
        out->len = orig;
    px_dp_rng_wipe(rng);
    free(rng);
    px_dp_result_free(&res);
    return rc;
}

int px_dp_stage(const void *config, size_t config_len, const px_buf *vectors,
                size_t n, px_buf *out, json_t **predicate, px_err *err) {
    px_dp_config c;
    if (px_dp_config_parse(&c, config, config_len, err) != 0)
        return -1;
    int rc = -1;
    px_dp_vec *in = n > PX_DP_MAX_INPUTS ? NULL : calloc(n ? n : 1, sizeof *in);
    if (!in) {
        px_fail(err, n > PX_DP_MAX_INPUTS ? PX_E_LIMIT : PX_E_NOMEM,
                "cannot take %zu input vectors", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        double *v = NULL;
        uint32_t m = 0;
        if (px_vector_decode(&v, &m, vectors[i].data, vectors[i].len, NULL) !=
                0 ||
            m == PX_DP_VEC_UNDECODABLE) {
            free(v);
            in[i].v = NULL;
            in[i].n = PX_DP_VEC_UNDECODABLE;
        } else {
            in[i].v = v;
            in[i].n = m;
        }
    }
    rc = px_dp_stage_vecs(&c, in, n, out, predicate, err);
out:
    for (size_t i = 0; in && i < n; i++)
        free((void *)in[i].v);
    free(in);
    px_dp_config_free(&c);
    return rc;
}
