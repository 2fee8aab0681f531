/* A synthetic but realistic bank dataset for examples and the demo: account
 * holders with a home city and an income level, and their card and
 * transfer transactions over ninety days, with amounts drawn per category.
 * The generator is deterministic in its seed (a SplitMix64 stream: this is
 * test data, not a secret) so twenty PODs can be rebuilt byte for byte. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pod/row.h"

#define DAY_MS 86400000LL
#define DEMO_DAYS 90
#define DEMO_START_MS 1735689600000LL /* 2025-01-01T00:00:00Z */
#define AMOUNT_TEXT 32

typedef struct category {
    const char *name;
    double median, spread; /* log-normal amount: median * exp(spread * N(0,1)) */
    int weight;
    const char *merchants[4];
} category;

static const category categories[] = {
    {"groceries", 42.0, 0.6, 30, {"FreshMart", "GreenGrocer", "Corner Shop", "MegaSaver"}},
    {"dining", 28.0, 0.7, 18, {"Luigi's Trattoria", "Noodle Bar", "Cafe Aurora", "Burger Barn"}},
    {"transport", 15.0, 0.8, 14, {"City Metro", "RideNow", "FuelPoint", "ParkEasy"}},
    {"utilities", 95.0, 0.4, 5, {"PowerGrid Energy", "AquaWorks", "FiberNet", "MobileOne"}},
    {"rent", 1150.0, 0.25, 2, {"Harbor Lettings", "Oak Property Mgmt", "Urban Homes", "Maple Estates"}},
    {"shopping", 65.0, 0.9, 12, {"StyleHub", "TechCorner", "BookNook", "HomeGoods"}},
    {"health", 55.0, 0.8, 5, {"CarePharmacy", "City Clinic", "SmileDental", "VisionPlus"}},
    {"entertainment", 24.0, 0.7, 8, {"CineMax", "StreamFlix", "GameVault", "Concert Hall"}},
    {"travel", 320.0, 0.9, 3, {"SkyJet Airlines", "Grand Hotel", "TrainLine", "CarHire Co"}},
    {"income", 2600.0, 0.35, 3, {"Employer Payroll", "Freelance Client", "Tax Refund", "Pension Fund"}},
};
#define NCATEGORIES (sizeof categories / sizeof categories[0])

static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double next_unit(uint64_t *s) { /* (0, 1) */
    return ((double)(next_u64(s) >> 11) + 0.5) / 9007199254740992.0;
}

static double next_normal(uint64_t *s) { /* Box-Muller */
    return sqrt(-2.0 * log(next_unit(s))) * cos(6.283185307179586 * next_unit(s));
}

static const category *pick_category(uint64_t *s) {
    int total = 0;
    for (size_t i = 0; i < NCATEGORIES; i++)
        total += categories[i].weight;
    int r = (int)(next_u64(s) % (uint64_t)total);
    for (size_t i = 0; i < NCATEGORIES; i++)
        if ((r -= categories[i].weight) < 0)
            return &categories[i];
    return &categories[0];
}

static const char demo_schema[] =
    "{\"fields\":[{\"name\":\"txn_id\",\"type\":\"text\"},{\"name\":\"user_id\",\"type\":\"text\"},"
    "{\"name\":\"account\",\"type\":\"text\"},{\"name\":\"timestamp\",\"type\":\"int\"},"
    "{\"name\":\"amount\",\"type\":\"real\"},{\"name\":\"currency\",\"type\":\"text\"},"
    "{\"name\":\"category\",\"type\":\"text\"},{\"name\":\"merchant\",\"type\":\"text\"}],"
    "\"user\":\"user_id\",\"key\":\"txn_id\"}";

static const char demo_header[] =
    "txn_id,user_id,account,timestamp,amount,currency,category,merchant,px_source,px_sig\n";

typedef struct txn {
    char id[40], user[24], account[32], amount[AMOUNT_TEXT];
    int64_t ts;
    const char *category, *merchant;
} txn;

static void make_txn(txn *t, uint64_t *s, uint64_t seed, uint32_t u, uint32_t k, double income) {
    const category *c = pick_category(s);
    double amt = c->median * exp(c->spread * next_normal(s));
    if (!strcmp(c->name, "income"))
        amt *= income;
    else
        amt = -amt * (0.6 + 0.4 * income); /* spending scales with income */
    snprintf(t->amount, sizeof t->amount, "%.2f", amt);
    snprintf(t->id, sizeof t->id, "T%08llx-%06u-%05u", (unsigned long long)(seed & 0xffffffffu), u, k);
    /* A person is one bank's customer: ids are unique across PODs, as the
     * per-user map groups by them (docs/dp.md). */
    snprintf(t->user, sizeof t->user, "u%04u-%06u", (unsigned)(seed % 10000), u);
    snprintf(t->account, sizeof t->account, "ACC-%04u-%06u", (unsigned)(seed % 10000), u);
    t->ts = DEMO_START_MS + (int64_t)(next_u64(s) % (uint64_t)(DEMO_DAYS * DAY_MS));
    t->category = c->name;
    t->merchant = c->merchants[next_u64(s) % 4];
}

static void text_value(px_value *v, const char *s) {
    v->type = PX_FIELD_TEXT;
    v->p = (const uint8_t *)s;
    v->len = (uint32_t)strlen(s);
}

/* Signed rows waiting for their batch to fill: their record digests, and
 * where in the CSV each row's ",px_source,px_sig" goes (the rows around
 * them, unsigned ones too, are written already). */
typedef struct demo_batch {
    uint32_t size;   /* signed rows per batch; 0: each signed on its own */
    px_buf digests;  /* owned */
    px_buf at;       /* owned: a size_t offset in the CSV per digest */
    px_buf tail, sig; /* owned scratch */
} demo_batch;

static int txn_digest(const txn *t, const px_pod_schema *sch, uint8_t digest[PX_SHA256_BYTES], px_err *err) {
    px_value v[8];
    memset(v, 0, sizeof v);
    text_value(&v[0], t->id);
    text_value(&v[1], t->user);
    text_value(&v[2], t->account);
    v[3].type = PX_FIELD_INT, v[3].i = t->ts;
    /* sign exactly the value the importer will read back from the text */
    v[4].type = PX_FIELD_REAL;
    if (px_row_parse_real(&v[4].r, t->amount, strlen(t->amount), "amount", err))
        return -1;
    text_value(&v[5], "EUR");
    text_value(&v[6], t->category);
    text_value(&v[7], t->merchant);
    return px_source_record_digest(digest, &sch->rec, v, err);
}

/* Sign the waiting rows as one batch and put each one's provenance where
 * it goes: the CSV from the first of them on is written again. */
static int flush_batch(demo_batch *d, px_buf *csv, const px_source_signer *bank, px_err *err) {
    size_t n = d->digests.len / PX_SHA256_BYTES, start, from = 0, at;
    if (n == 0)
        return 0;
    char ref[PX_SRC_REF_MAX + 1];
    px_source_key_ref(&bank->pub, ref);
    px_source_batch b;
    if (px_source_batch_sign(&b, bank, d->digests.data, n, err))
        return -1;
    memcpy(&start, d->at.data, sizeof start);
    px_buf_reset(&d->tail);
    int rc = px_buf_append(&d->tail, csv->data + start, csv->len - start, err);
    csv->len = start;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        memcpy(&at, d->at.data + i * sizeof at, sizeof at);
        px_buf_reset(&d->sig);
        rc = px_buf_append(csv, d->tail.data + from, at - start - from, err) ||
             px_source_batch_append_sig(&b, (uint32_t)i, &d->sig, err) || px_buf_printf(csv, err, ",%s,", ref) ||
             px_buf_append_b64(csv, d->sig.data, d->sig.len, err);
        from = at - start;
    }
    if (rc == 0)
        rc = px_buf_append(csv, d->tail.data + from, d->tail.len - from, err);
    px_source_batch_free(&b);
    px_buf_reset(&d->digests);
    px_buf_reset(&d->at);
    return rc ? -1 : 0;
}

static int sign_txn(const txn *t, const px_pod_schema *sch, const px_source_signer *bank, demo_batch *d, px_buf *csv,
                    px_err *err) {
    uint8_t digest[PX_SHA256_BYTES], sig[PX_SRC_SIG_BYTES];
    if (txn_digest(t, sch, digest, err))
        return -1;
    if (d->size) {
        size_t at = csv->len;
        if (px_buf_append(&d->digests, digest, sizeof digest, err) || px_buf_append(&d->at, &at, sizeof at, err))
            return -1;
        return d->digests.len / PX_SHA256_BYTES < d->size ? 0 : flush_batch(d, csv, bank, err);
    }
    char ref[PX_SRC_REF_MAX + 1], b64[128];
    if (px_source_sign(bank, digest, sig, err))
        return -1;
    px_source_key_ref(&bank->pub, ref);
    px_b64_encode(b64, sig, sizeof sig);
    return px_buf_printf(csv, err, ",%s,%s", ref, b64);
}

int px_pod_demo_generate(px_buf *csv, px_buf *schema_json, uint32_t users, uint32_t txns_per_user, uint64_t seed,
                         const px_source_signer *bank, unsigned signed_permille, px_err *err) {
    return px_pod_demo_generate_batch(csv, schema_json, users, txns_per_user, seed, bank, signed_permille, 0, err);
}

int px_pod_demo_generate_batch(px_buf *csv, px_buf *schema_json, uint32_t users, uint32_t txns_per_user,
                               uint64_t seed, const px_source_signer *bank, unsigned signed_permille, uint32_t batch,
                               px_err *err) {
    px_pod_schema sch;
    if (batch > PX_SRC_BATCH_MAX)
        return px_fail(err, PX_E_INVALID, "a batch holds at most %d rows, not %u", PX_SRC_BATCH_MAX, batch);
    if (px_pod_schema_parse(&sch, demo_schema, strlen(demo_schema), err))
        return -1;
    demo_batch d = {.size = batch};
    size_t c0 = csv->len, s0 = schema_json->len;
    uint64_t s = seed;
    int rc = px_buf_append_str(schema_json, demo_schema, err) || px_buf_append_str(csv, demo_header, err);
    for (uint32_t u = 0; rc == 0 && u < users; u++) {
        double income = exp(0.5 * next_normal(&s)); /* relative income level */
        for (uint32_t k = 0; rc == 0 && k < txns_per_user; k++) {
            txn t;
            make_txn(&t, &s, seed, u, k, income);
            rc = px_buf_printf(csv, err, "%s,%s,%s,%lld,%s,EUR,%s,\"%s\"", t.id, t.user, t.account, (long long)t.ts,
                               t.amount, t.category, t.merchant);
            int sign = bank && next_u64(&s) % 1000 < signed_permille;
            if (rc == 0)
                rc = sign ? sign_txn(&t, &sch, bank, &d, csv, err) : px_buf_append_str(csv, ",,", err);
            if (rc == 0)
                rc = px_buf_append_u8(csv, '\n', err);
        }
    }
    if (rc == 0 && bank)
        rc = flush_batch(&d, csv, bank, err); /* the last batch may be shorter */
    px_buf_free(&d.digests);
    px_buf_free(&d.at);
    px_buf_free(&d.tail);
    px_buf_free(&d.sig);
    if (rc) {
        csv->len = c0;
        schema_json->len = s0;
        return -1;
    }
    return 0;
}
