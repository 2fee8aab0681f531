/* The membership file: who is in the network, where they listen, and the
 * keys that speak for them. Parsed strictly, because a node's whole notion
 * of who it may talk to comes from it. */
#include <stdint.h>
#include <string.h>

#include "pixiu/net.h"

static const char *const role_names[] = {"pod", "executor", "log", "witness", "consumer", "issuer", NULL};

int px_role_parse(const char *name, unsigned *bit) {
    for (unsigned i = 0; role_names[i]; i++)
        if (!strcmp(name, role_names[i])) {
            *bit = 1u << i;
            return 0;
        }
    return -1;
}

const char *px_role_name(unsigned bit) {
    for (unsigned i = 0; role_names[i]; i++)
        if (bit == 1u << i)
            return role_names[i];
    return "unknown";
}

static int only_keys(const json_t *o, const char *const *allowed, px_err *err) {
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], key))
            i++;
        if (!allowed[i])
            return px_fail(err, PX_E_INVALID, "unknown field \"%.64s\"", key);
    }
    return 0;
}

static int id_valid(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > PX_MEMBER_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '.' || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

static int url_valid(const char *s) {
    size_t n = strlen(s);
    if (n > PX_MEMBER_URL_MAX || n < 8 || s[n - 1] == '/')
        return 0;
    if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~' || s[i] == '?' || s[i] == '#')
            return 0;
    return 1;
}

static int read_roles(px_member *n, const json_t *o, px_err *err) {
    json_t *roles = json_object_get(o, "roles"), *r;
    size_t i;
    if (!json_is_array(roles) || json_array_size(roles) == 0)
        return px_fail(err, PX_E_INVALID, "field \"roles\" must be a non-empty array");
    json_array_foreach(roles, i, r) {
        unsigned bit;
        if (!json_is_string(r) || px_role_parse(json_string_value(r), &bit))
            return px_fail(err, PX_E_INVALID, "role %zu is not pod, executor, log, witness, consumer or issuer", i);
        if (n->roles & bit)
            return px_fail(err, PX_E_INVALID, "role \"%s\" is listed twice", json_string_value(r));
        n->roles |= bit;
    }
    return 0;
}

static int read_key(px_verifier *v, const json_t *o, const char *key, px_err *err) {
    const char *s;
    if (px_json_str(o, key, &s, err))
        return -1;
    if (px_verifier_parse(v, s, strlen(s), err))
        return px_err_prefix(err, "field \"%s\": ", key);
    return 0;
}

static int read_tee(px_member *n, const json_t *o, px_err *err) {
    json_t *tee = json_object_get(o, "tee"), *level = json_object_get(o, "level");
    if (!tee && !level)
        return 0;
    if (!json_is_string(tee) || json_string_length(tee) == 0 || json_string_length(tee) > PX_MEMBER_TEE_MAX)
        return px_fail(err, PX_E_INVALID, "field \"tee\" must name a TEE backend");
    if (!json_is_integer(level) || json_integer_value(level) < 0 || json_integer_value(level) > 255)
        return px_fail(err, PX_E_INVALID, "field \"level\" must be an integer from 0 to 255");
    memcpy(n->tee, json_string_value(tee), json_string_length(tee) + 1);
    n->level = (int)json_integer_value(level);
    return 0;
}

static int read_node(px_member *n, const json_t *o, px_err *err) {
    static const char *const keys[] = {"id", "url", "signing_key", "platform_key", "box_key", "tee", "level",
                                       "roles", NULL};
    const char *id, *url;
    if (!json_is_object(o))
        return px_fail(err, PX_E_INVALID, "must be an object");
    if (only_keys(o, keys, err) || px_json_str(o, "id", &id, err) || px_json_str(o, "url", &url, err))
        return -1;
    if (!id_valid(id))
        return px_fail(err, PX_E_INVALID, "id must be 1 to %d characters of [A-Za-z0-9._-]", PX_MEMBER_ID_MAX);
    if (!url_valid(url))
        return px_fail(err, PX_E_INVALID, "url \"%.80s\" must be http(s)://host:port without a trailing '/'", url);
    strcpy(n->id, id);
    strcpy(n->url, url);
    if (read_key(&n->signing, o, "signing_key", err) || read_roles(n, o, err) || read_tee(n, o, err))
        return -1;
    if (json_object_get(o, "platform_key")) {
        if (read_key(&n->platform, o, "platform_key", err))
            return -1;
        n->has_platform = 1;
    }
    if (json_object_get(o, "box_key")) {
        if (px_json_hex(o, "box_key", n->box_pk, sizeof n->box_pk, err))
            return -1;
        n->has_box = 1;
    }
    if ((n->roles & PX_ROLE_EXECUTOR) && (!n->has_platform || !n->tee[0]))
        return px_fail(err, PX_E_INVALID, "an executor needs \"platform_key\", \"tee\" and \"level\"");
    return 0;
}

typedef struct member_ref {
    const px_member *m;
    size_t i; /* position in the file */
} member_ref;

static int by_id(const void *a, const void *b) {
    const member_ref *x = a, *y = b;
    int c = strcmp(x->m->id, y->m->id);
    return c ? c : x->i < y->i ? -1 : x->i > y->i;
}

static int by_key(const void *a, const void *b) {
    const member_ref *x = a, *y = b;
    int c = memcmp(x->m->signing.pk, y->m->signing.pk, sizeof x->m->signing.pk);
    return c ? c : x->i < y->i ? -1 : x->i > y->i;
}

static int same(const px_member *a, const px_member *b, int key) {
    return key ? !memcmp(a->signing.pk, b->signing.pk, sizeof a->signing.pk) : !strcmp(a->id, b->id);
}

/* No id or signing key twice. Sorted rather than compared pairwise, so a
 * membership of thousands of nodes is read in a blink; the error names the
 * first node (in file order) that repeats an earlier one. */
static int unique(const px_membership *m, px_err *err) {
    member_ref *r = malloc((m->n + 1) * sizeof *r);
    if (!r)
        return px_fail(err, PX_E_NOMEM, "out of memory reading the membership");
    size_t bad = SIZE_MAX;
    const px_member *first = NULL, *again = NULL;
    int key = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < m->n; i++)
            r[i] = (member_ref){&m->nodes[i], i};
        qsort(r, m->n, sizeof *r, pass ? by_key : by_id);
        for (size_t i = 1; i < m->n; i++)
            if (same(r[i - 1].m, r[i].m, pass) && r[i].i < bad) {
                bad = r[i].i;
                first = r[i - 1].m;
                again = r[i].m;
                key = pass;
            }
    }
    free(r);
    if (bad == SIZE_MAX)
        return 0;
    if (!key)
        return px_fail(err, PX_E_INVALID, "node %zu: node \"%s\" is listed twice", bad, again->id);
    return px_fail(err, PX_E_INVALID, "node %zu: nodes \"%s\" and \"%s\" share a signing key", bad, first->id,
                   again->id);
}

static int read_doc(px_membership *m, const json_t *doc, px_err *err) {
    static const char *const keys[] = {"schema", "nodes", NULL};
    const char *schema;
    if (!json_is_object(doc))
        return px_fail(err, PX_E_INVALID, "must be a JSON object");
    if (only_keys(doc, keys, err) || px_json_str(doc, "schema", &schema, err))
        return -1;
    if (strcmp(schema, PX_MEMBERSHIP_SCHEMA))
        return px_fail(err, PX_E_INVALID, "schema is not %s", PX_MEMBERSHIP_SCHEMA);
    json_t *nodes = json_object_get(doc, "nodes"), *v;
    size_t i;
    if (!json_is_array(nodes) || json_array_size(nodes) == 0 || json_array_size(nodes) > PX_MEMBERSHIP_MAX_NODES)
        return px_fail(err, PX_E_INVALID, "field \"nodes\" must be an array of 1 to %d nodes",
                       PX_MEMBERSHIP_MAX_NODES);
    if (!(m->nodes = calloc(json_array_size(nodes), sizeof *m->nodes)))
        return px_fail(err, PX_E_NOMEM, "out of memory reading the membership");
    json_array_foreach(nodes, i, v) {
        if (read_node(&m->nodes[i], v, err))
            return px_err_prefix(err, "node %zu: ", i);
        m->n = i + 1;
    }
    return unique(m, err);
}

int px_membership_parse(px_membership *m, const void *json, size_t len, px_err *err) {
    memset(m, 0, sizeof *m);
    json_t *doc = px_json_parse(json, len, PX_MEMBERSHIP_MAX_BYTES, err);
    if (!doc)
        return px_err_prefix(err, "membership: ");
    int rc = read_doc(m, doc, err);
    json_decref(doc);
    if (rc) {
        px_membership_free(m);
        return px_err_prefix(err, "membership: ");
    }
    return 0;
}

int px_membership_load(px_membership *m, const char *path, px_err *err) {
    px_buf b = PX_BUF_INIT;
    if (px_file_read(path, PX_MEMBERSHIP_MAX_BYTES, &b, err))
        return px_err_prefix(err, "membership %s: ", path);
    int rc = px_membership_parse(m, b.data, b.len, err);
    px_buf_free(&b);
    return rc;
}

void px_membership_free(px_membership *m) {
    if (!m)
        return;
    free(m->nodes);
    memset(m, 0, sizeof *m);
}

const px_member *px_membership_find(const px_membership *m, const char *id) {
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->nodes[i].id, id))
            return &m->nodes[i];
    return NULL;
}
