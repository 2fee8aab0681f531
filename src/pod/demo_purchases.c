/* Synthetic purchase histories for the advertising example: one person per
 * POD, a profile drawn from the seed (a gamer, a parent, someone who
 * follows their health, ...), and a year of purchases with items,
 * categories, prices and days. Purchases at the shop that signs its
 * receipts carry its signature (the data-prover then calls them
 * authenticated); purchases elsewhere are unsigned, as a person would type
 * them in. Deterministic in the seed (SplitMix64: test data, not a secret). */
#include <math.h>
#include <string.h>

#include "pod/db.h"
#include "pod/row.h"

#define DEMO_YEAR_DAYS 365

typedef struct pcat {
    const char *name;
    double median, spread;
    const char *items[4];
} pcat;

static const pcat cats[] = {
    {"console", 420.0, 0.15, {"GameStation 5", "Switchboard OLED", "XCube Series S", "Pocket Deck"}},
    {"games", 55.0, 0.3, {"Kart Racer 9", "Dungeon Saga", "Football 25", "Puzzle Isles"}},
    {"books", 16.0, 0.4, {"A Field Guide to Birds", "Crime at the Pier", "Learn C in a Weekend", "Poems"}},
    {"groceries", 38.0, 0.5, {"weekly groceries", "coffee beans", "fruit box", "bakery"}},
    {"electronics", 90.0, 0.9, {"headphones", "phone charger", "smart speaker", "USB-C hub"}},
    {"health", 25.0, 0.7, {"vitamins", "blood pressure monitor", "allergy tablets", "pregnancy test"}},
    {"clothing", 45.0, 0.6, {"running shoes", "winter coat", "t-shirt", "jeans"}},
    {"garden", 30.0, 0.7, {"seeds", "watering can", "hedge trimmer", "compost"}},
    {"toys", 28.0, 0.5, {"building bricks", "plush bear", "puzzle", "toy car"}},
    {"baby", 32.0, 0.5, {"nappies", "baby formula", "pram", "baby monitor"}},
};
#define NCATS (sizeof cats / sizeof cats[0])

/* Weights per category for each profile. */
static const int profiles[][NCATS] = {
    /* console games books groc elec health cloth garden toys baby */
    {1, 2, 4, 30, 4, 4, 6, 4, 1, 0},   /* everyday */
    {6, 16, 2, 24, 10, 2, 4, 1, 1, 0}, /* gamer */
    {1, 3, 3, 26, 3, 4, 6, 2, 10, 12}, /* parent */
    {0, 1, 6, 26, 2, 16, 6, 8, 0, 0},  /* follows their health */
    {2, 6, 3, 28, 14, 2, 6, 2, 2, 0},  /* gadgets */
};
#define NPROFILES (sizeof profiles / sizeof profiles[0])

static const char *const shops[] = {"shop.example", "corner-store", "online-market"};

static const char purchases_schema[] =
    "{\"fields\":[{\"name\":\"purchase_id\",\"type\":\"text\"},{\"name\":\"person\",\"type\":\"text\"},"
    "{\"name\":\"day\",\"type\":\"int\"},{\"name\":\"item\",\"type\":\"text\"},"
    "{\"name\":\"category\",\"type\":\"text\"},{\"name\":\"price\",\"type\":\"real\"},"
    "{\"name\":\"shop\",\"type\":\"text\"}],"
    "\"user\":\"person\",\"key\":\"purchase_id\"}";

static const char purchases_header[] = "purchase_id,person,day,item,category,price,shop,px_source,px_sig\n";

static uint64_t mix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double unit(uint64_t *s) {
    return ((double)(mix(s) >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(uint64_t *s) {
    return sqrt(-2.0 * log(unit(s))) * cos(6.283185307179586 * unit(s));
}

static const pcat *pick(uint64_t *s, const int *w) {
    int total = 0;
    for (size_t i = 0; i < NCATS; i++)
        total += w[i];
    int r = (int)(mix(s) % (uint64_t)total);
    for (size_t i = 0; i < NCATS; i++)
        if ((r -= w[i]) < 0)
            return &cats[i];
    return &cats[3];
}

typedef struct purchase {
    char id[48], price[32];
    const char *person, *item, *category, *shop;
    int64_t day;
} purchase;

static void text(px_value *v, const char *s) {
    v->type = PX_FIELD_TEXT;
    v->p = (const uint8_t *)s;
    v->len = (uint32_t)strlen(s);
}

/* The shop signs exactly the values the importer will read back. */
static int sign(const purchase *p, const px_pod_schema *sch, const px_source_signer *shop, px_buf *csv, px_err *err) {
    px_value v[7];
    memset(v, 0, sizeof v);
    text(&v[0], p->id);
    text(&v[1], p->person);
    v[2].type = PX_FIELD_INT, v[2].i = p->day;
    text(&v[3], p->item);
    text(&v[4], p->category);
    v[5].type = PX_FIELD_REAL;
    if (px_row_parse_real(&v[5].r, p->price, strlen(p->price), "price", err))
        return -1;
    text(&v[6], p->shop);
    uint8_t digest[PX_SHA256_BYTES], sig[PX_SRC_SIG_BYTES];
    char ref[PX_SRC_REF_MAX + 1], b64[128];
    if (px_source_record_digest(digest, &sch->rec, v, err) || px_source_sign(shop, digest, sig, err))
        return -1;
    px_source_key_ref(&shop->pub, ref);
    px_b64_encode(b64, sig, sizeof sig);
    return px_buf_printf(csv, err, ",%s,%s", ref, b64);
}

int px_pod_demo_purchases(px_buf *csv, px_buf *schema_json, const char *person, uint64_t seed, int64_t today,
                          const px_source_signer *shop, int plant, px_err *err) {
    px_pod_schema sch;
    if (px_pod_schema_parse(&sch, purchases_schema, strlen(purchases_schema), err))
        return -1;
    if (px_id_check("person", person, err))
        return -1;
    size_t c0 = csv->len, s0 = schema_json->len;
    uint64_t s = seed * 0x2545F4914F6CDD1DULL + 1;
    const int *w = profiles[mix(&s) % NPROFILES];
    uint32_t n = 10 + (uint32_t)(mix(&s) % 40);
    int rc = px_buf_append_str(schema_json, purchases_schema, err) || px_buf_append_str(csv, purchases_header, err);
    for (uint32_t k = 0; rc == 0 && k < n + (plant ? 1 : 0); k++) {
        purchase p;
        const pcat *c = pick(&s, w);
        /* A planted match: no baby purchases, and a console bought at the
         * signing shop on the last day. */
        while (plant && !strcmp(c->name, "baby"))
            c = pick(&s, w);
        if (plant && k == n)
            c = &cats[0];
        p.person = person;
        p.category = c->name;
        p.item = c->items[mix(&s) % 4];
        /* Consoles and games mostly from the shop that signs receipts. */
        uint64_t r = mix(&s) % 10;
        p.shop = shops[(!strcmp(c->name, "console") || !strcmp(c->name, "games")) ? (r < 7 ? 0 : 1 + r % 2)
                                                                                  : (r < 4 ? 0 : 1 + r % 2)];
        p.day = today - (int64_t)(mix(&s) % DEMO_YEAR_DAYS);
        if (plant && k == n) {
            p.shop = shops[0];
            p.day = today;
        }
        snprintf(p.price, sizeof p.price, "%.2f", c->median * exp(c->spread * normal(&s)));
        snprintf(p.id, sizeof p.id, "%s-%04u", person, k);
        rc = px_buf_printf(csv, err, "%s,%s,%lld,\"%s\",%s,%s,%s", p.id, p.person, (long long)p.day, p.item,
                           p.category, p.price, p.shop);
        if (rc == 0)
            rc = shop && p.shop == shops[0] ? sign(&p, &sch, shop, csv, err) : px_buf_append_str(csv, ",,", err);
        if (rc == 0)
            rc = px_buf_append_u8(csv, '\n', err);
    }
    if (rc) {
        csv->len = c0;
        schema_json->len = s0;
        return -1;
    }
    return 0;
}
