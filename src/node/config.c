/* The node config file: who this node is, where it keeps its state, which
 * keys it holds and which roles it plays. */
#include <string.h>

#include "node/node.h"

static int path_member(const json_t *o, const char *key, const char *dir, char *out, int required, px_err *err) {
    json_t *v = json_object_get(o, key);
    if (!v) {
        if (required)
            return px_fail(err, PX_E_INVALID, "missing field \"%s\"", key);
        out[0] = 0;
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0)
        return px_fail(err, PX_E_INVALID, "field \"%s\" must be a path", key);
    const char *s = json_string_value(v);
    int w = s[0] == '/' || !dir ? snprintf(out, PX_NODE_PATH_MAX, "%s", s)
                                : snprintf(out, PX_NODE_PATH_MAX, "%s/%s", dir, s);
    if (w < 0 || w >= PX_NODE_PATH_MAX)
        return px_fail(err, PX_E_LIMIT, "field \"%s\" is too long", key);
    return 0;
}

static int read_roles(px_node_config *c, const json_t *o, px_err *err) {
    json_t *roles = json_object_get(o, "roles"), *r;
    size_t i;
    if (!json_is_array(roles) || json_array_size(roles) == 0)
        return px_fail(err, PX_E_INVALID, "field \"roles\" must be a non-empty array");
    json_array_foreach(roles, i, r) {
        unsigned bit;
        if (!json_is_string(r) || px_role_parse(json_string_value(r), &bit))
            return px_fail(err, PX_E_INVALID, "role %zu is not pod, executor, log, witness, consumer or issuer", i);
        c->roles |= bit;
    }
    return 0;
}

/* Optional: when a POD settles its charges (ms, 1 to a week). */
static int settle_times(px_node_config *c, const json_t *o, px_err *err) {
    static const struct { const char *key; int64_t dflt; } t[] = {
        {"settle_grace_ms", PX_SETTLE_GRACE_MS_DEFAULT}, {"settle_every_ms", PX_SETTLE_EVERY_MS_DEFAULT}};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(o, t[i].key);
        int64_t x = v ? json_integer_value(v) : t[i].dflt;
        if (v && (!json_is_integer(v) || x < 1 || x > 7 * 24 * 3600 * 1000LL))
            return px_fail(err, PX_E_INVALID, "field \"%s\" must be 1 to 604800000 ms", t[i].key);
        *(i ? &c->settle_every_ms : &c->settle_grace_ms) = x;
    }
    return 0;
}

void px_node_limits_default(px_node_limits *l) {
    if (!l->per_address)
        l->per_address = PX_NODE_PER_ADDRESS_DEFAULT;
    if (!l->member_requests)
        l->member_requests = PX_NODE_MEMBER_REQUESTS_DEFAULT;
    if (!l->member_bytes)
        l->member_bytes = PX_NODE_MEMBER_BYTES_DEFAULT;
    if (!l->member_instances)
        l->member_instances = PX_NODE_MEMBER_INSTANCES_DEFAULT;
    if (!l->idle_ms)
        l->idle_ms = PX_NODE_IDLE_MS_DEFAULT;
    if (!l->deadline_max_ms)
        l->deadline_max_ms = PX_NODE_DEADLINE_MAX_MS_DEFAULT;
    if (!l->header_ms)
        l->header_ms = PX_NODE_HEADER_MS_DEFAULT;
}

/* Optional "limits": {"per_address", "member_requests", "member_bytes",
 * "member_instances", "idle_ms", "deadline_max_ms", "header_ms"}, each a
 * positive integer within its range. */
static int read_limits(px_node_config *c, const json_t *o, px_err *err) {
    static const struct {
        const char *key;
        int64_t max;
    } k[] = {{"per_address", 1 << 16},       {"member_requests", 1 << 16},
             {"member_bytes", 1LL << 40},    {"member_instances", PX_NODE_MAX_INSTANCES},
             {"idle_ms", 7 * 24 * 3600 * 1000LL}, {"deadline_max_ms", 365 * 24 * 3600 * 1000LL},
             {"header_ms", 3600 * 1000LL}};
    json_t *l = json_object_get(o, "limits"), *v;
    const char *key;
    if (!l)
        return 0;
    if (!json_is_object(l))
        return px_fail(err, PX_E_INVALID, "field \"limits\" must be an object");
    json_object_foreach(l, key, v) {
        size_t i = 0;
        while (i < sizeof k / sizeof k[0] && strcmp(k[i].key, key))
            i++;
        if (i == sizeof k / sizeof k[0])
            return px_fail(err, PX_E_INVALID, "unknown field \"limits.%.64s\"", key);
        int64_t x = json_integer_value(v);
        if (!json_is_integer(v) || x < 1 || x > k[i].max)
            return px_fail(err, PX_E_INVALID, "field \"limits.%s\" must be 1 to %lld", key, (long long)k[i].max);
        px_node_limits *t = &c->limits;
        switch (i) {
        case 0: t->per_address = (unsigned)x; break;
        case 1: t->member_requests = (unsigned)x; break;
        case 2: t->member_bytes = (uint64_t)x; break;
        case 3: t->member_instances = (unsigned)x; break;
        case 4: t->idle_ms = x; break;
        case 5: t->deadline_max_ms = x; break;
        default: t->header_ms = (unsigned)x; break;
        }
    }
    return 0;
}

static int read_doc(px_node_config *c, const json_t *o, px_err *err) {
    static const char *const keys[] = {"id",           "dir",    "listen", "port",  "port_file",       "membership",
                                       "key",          "platform_key", "worker", "roles", "settle_grace_ms",
                                       "settle_every_ms", "limits", NULL};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], k))
            i++;
        if (!keys[i])
            return px_fail(err, PX_E_INVALID, "unknown field \"%.64s\"", k);
    }
    const char *id;
    if (px_json_str(o, "id", &id, err))
        return -1;
    if (!px_node_id_valid(id))
        return px_fail(err, PX_E_INVALID, "id must be 1 to 64 characters of [A-Za-z0-9._-]");
    strcpy(c->id, id);
    if (path_member(o, "dir", NULL, c->dir, 1, err) || path_member(o, "membership", c->dir, c->membership, 1, err) ||
        path_member(o, "key", c->dir, c->key, 1, err) ||
        path_member(o, "platform_key", c->dir, c->platform_key, 0, err) ||
        path_member(o, "worker", c->dir, c->worker, 0, err) ||
        path_member(o, "port_file", c->dir, c->port_file, 0, err) || read_roles(c, o, err))
        return -1;
    json_t *listen = json_object_get(o, "listen"), *port = json_object_get(o, "port");
    snprintf(c->listen, sizeof c->listen, "%s", json_is_string(listen) ? json_string_value(listen) : "127.0.0.1");
    if (port && (!json_is_integer(port) || json_integer_value(port) < 0 || json_integer_value(port) > 65535))
        return px_fail(err, PX_E_INVALID, "field \"port\" must be 0 to 65535");
    c->port = port ? (uint16_t)json_integer_value(port) : 0;
    if ((c->roles & PX_ROLE_EXECUTOR) && !c->platform_key[0])
        return px_fail(err, PX_E_INVALID, "an executor needs \"platform_key\"");
    if (settle_times(c, o, err) || read_limits(c, o, err))
        return -1;
    px_node_limits_default(&c->limits);
    return 0;
}

int px_node_config_load(px_node_config *c, const char *path, px_err *err) {
    memset(c, 0, sizeof *c);
    px_buf b = PX_BUF_INIT;
    if (px_file_read(path, 1u << 20, &b, err))
        return px_err_prefix(err, "node config %s: ", path);
    json_t *o = px_json_parse(b.data, b.len, 1u << 20, err);
    px_buf_free(&b);
    if (!o)
        return px_err_prefix(err, "node config %s: ", path);
    int rc = json_is_object(o) ? read_doc(c, o, err) : px_fail(err, PX_E_INVALID, "must be a JSON object");
    json_decref(o);
    return rc ? px_err_prefix(err, "node config %s: ", path) : 0;
}
