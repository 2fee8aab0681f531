/* pixiu-ads-pods: per-person PODs for the advertising example. Each POD is
 * a directory holding pod.db, the POD's key (pod.key, pod.vkey, named
 * after the POD) and the platform key its node attests the instances it
 * hosts with (platform.key, platform.vkey), with one dataset "purchases": a year of one person's
 * purchases (src/pod/demo_purchases.c), the ones from shop.example signed
 * by the shop's key, which every POD trusts. The dataset's policy is the
 * given file; every fifth person also opts out of the topic "health".
 *
 *   pixiu-ads-pods OUTDIR N POLICY.json [--first K] [--seed S] [--today DAY] [--plant M]
 *
 * --plant M makes every M-th person surely match the example's targeting
 * (for tests); without it, who matches is up to the drawn histories.
 * PODs are named pod-K .. pod-(K+N-1) (K defaults to 1); OUTDIR/shop.example.key
 * and .vkey are made once and reused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pixiu/pod.h"

#define TODAY_DEFAULT 20089 /* 2025-01-01 */

static int fail(const char *what, const px_err *err) {
    fprintf(stderr, "pixiu-ads-pods: %s: %s\n", what, err->msg);
    return 1;
}

/* DIR/FILE.key and DIR/FILE.vkey of a fresh key named name. */
static int write_key(const char *dir, const char *file, const char *name, px_signer *s, px_err *err) {
    char p[4200];
    px_buf kb = PX_BUF_INIT, vb = PX_BUF_INIT;
    px_verifier v;
    if (px_signer_generate(s, name, err))
        return -1;
    px_signer_verifier(s, &v);
    int rc = px_signer_format(s, &kb, err) || px_buf_append_u8(&kb, '\n', err) || px_verifier_format(&v, &vb, err) ||
             px_buf_append_u8(&vb, '\n', err);
    snprintf(p, sizeof p, "%s/%s.key", dir, file);
    if (rc == 0)
        rc = px_file_write_atomic(p, kb.data, kb.len, 0600, err);
    snprintf(p, sizeof p, "%s/%s.vkey", dir, file);
    if (rc == 0)
        rc = px_file_write_atomic(p, vb.data, vb.len, 0644, err);
    px_buf_free(&kb);
    px_buf_free(&vb);
    return rc;
}

/* The shop's source key, made once. */
static int shop_key(const char *out, px_source_signer *shop, px_err *err) {
    char kp[4096], vp[4096];
    snprintf(kp, sizeof kp, "%s/shop.example.key", out);
    snprintf(vp, sizeof vp, "%s/shop.example.vkey", out);
    if (px_source_signer_load(shop, kp, NULL) == 0)
        return 0;
    px_buf kb = PX_BUF_INIT, vb = PX_BUF_INIT;
    int rc = px_source_signer_generate(shop, "shop.example", PX_SRC_ED25519, err) ||
             px_source_signer_format(shop, &kb, err) || px_buf_append_u8(&kb, '\n', err) ||
             px_source_key_format(&shop->pub, &vb, err) || px_buf_append_u8(&vb, '\n', err) ||
             px_file_write_atomic(kp, kb.data, kb.len, 0600, err) || px_file_write_atomic(vp, vb.data, vb.len, 0644, err);
    px_buf_free(&kb);
    px_buf_free(&vb);
    return rc;
}

/* The policy, with "health" opted out for every fifth person. */
static int policy_for(const px_buf *tmpl, unsigned i, px_buf *out, px_err *err) {
    json_t *doc = px_json_parse(tmpl->data, tmpl->len, 1 << 20, err);
    if (!doc)
        return -1;
    json_t *at = json_object_get(doc, "at_pod");
    if (i % 5 == 0 && json_is_object(at)) {
        json_t *oo = json_object_get(at, "opt_out");
        if (!json_is_array(oo)) {
            oo = json_array();
            json_object_set_new(at, "opt_out", oo);
        }
        json_array_append_new(oo, json_string("health"));
        if (!json_object_get(at, "topic_field"))
            json_object_set_new(at, "topic_field", json_string("category"));
    }
    int rc = px_json_dump(doc, out, err);
    json_decref(doc);
    return rc;
}

static int make_pod(const char *out, unsigned i, uint64_t seed, int64_t today, unsigned plant,
                    const px_source_signer *shop, const px_buf *shop_vkey, const px_buf *policy, px_err *err) {
    char dir[4096], db[4200], name[64], plat_name[80], person[64];
    snprintf(name, sizeof name, "pod-%u", i);
    snprintf(plat_name, sizeof plat_name, "pod-%u-platform", i);
    snprintf(person, sizeof person, "person-%u-%llu", i, (unsigned long long)seed);
    snprintf(dir, sizeof dir, "%s/%s", out, name);
    snprintf(db, sizeof db, "%s/pod.db", dir);
    if (mkdir(dir, 0700) && errno != EEXIST)
        return px_fail(err, PX_E_IO, "%s: %s", dir, strerror(errno));
    px_signer key, plat;
    px_pod *p = NULL;
    px_buf csv = PX_BUF_INIT, schema = PX_BUF_INIT, pol = PX_BUF_INIT;
    px_pod_schema sch;
    int rc = write_key(dir, "pod", name, &key, err) || write_key(dir, "platform", plat_name, &plat, err) ||
             px_pod_open(&p, db, err) ||
             px_pod_demo_purchases(&csv, &schema, person, seed * 100003u + i, today, shop, plant && i % plant == 0, err) ||
             px_pod_schema_parse(&sch, schema.data, schema.len, err) ||
             px_pod_dataset_create(p, "purchases", &sch, err) ||
             px_pod_trust_add(p, (const char *)shop_vkey->data, err) ||
             px_pod_import(p, "purchases", PX_POD_CSV, csv.data, csv.len, NULL, NULL, err) ||
             policy_for(policy, i, &pol, err) || px_pod_policy_set(p, "purchases", pol.data, pol.len, err);
    px_pod_close(p);
    px_signer_wipe(&key);
    px_signer_wipe(&plat);
    px_buf_free(&csv);
    px_buf_free(&schema);
    px_buf_free(&pol);
    return rc ? px_err_prefix(err, "%s: ", name) : 0;
}

int main(int argc, char **argv) {
    px_err err = {0};
    if (argc < 4) {
        fprintf(stderr, "usage: pixiu-ads-pods OUTDIR N POLICY.json [--first K] [--seed S] [--today DAY] [--plant M]\n");
        return 2;
    }
    const char *out = argv[1];
    unsigned n = (unsigned)strtoul(argv[2], NULL, 10), first = 1, plant = 0;
    uint64_t seed = 1;
    int64_t today = TODAY_DEFAULT;
    for (int i = 4; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--first"))
            first = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--plant"))
            plant = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--today"))
            today = strtoll(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "pixiu-ads-pods: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    px_buf policy = PX_BUF_INIT, shop_vkey = PX_BUF_INIT;
    px_source_signer shop;
    char vp[4096];
    snprintf(vp, sizeof vp, "%s/shop.example.vkey", out);
    if (px_crypto_init(&err) || (mkdir(out, 0755) && errno != EEXIST))
        return fail("setting up", &err);
    if (px_file_read(argv[3], 1 << 20, &policy, &err))
        return fail("policy", &err);
    if (shop_key(out, &shop, &err) || px_file_read(vp, 4096, &shop_vkey, &err) || !px_buf_cstr(&shop_vkey, &err))
        return fail("shop key", &err);
    while (shop_vkey.len && (shop_vkey.data[shop_vkey.len - 1] == '\n'))
        shop_vkey.data[--shop_vkey.len] = 0;
    for (unsigned i = first; i < first + n; i++)
        if (make_pod(out, i, seed, today, plant, &shop, &shop_vkey, &policy, &err))
            return fail("making a POD", &err);
    px_source_signer_free(&shop);
    px_buf_free(&policy);
    px_buf_free(&shop_vkey);
    printf("%u PODs in %s (shop key: %s)\n", n, out, vp);
    return 0;
}
