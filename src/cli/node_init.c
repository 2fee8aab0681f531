/* pixiu node init: a node's directory, keys and config, so that a node on a
 * real host needs no hand-written JSON (docs/network.md, "A node on a
 * host"). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pixiu/net.h"
#include "pixiu/pod.h"

static const char usage[] =
    "usage: pixiu node init DIR --id ID --roles ROLE[,ROLE]... [--listen ADDR:PORT] [--url URL]\n"
    "                       [--membership FILE]\n"
    "Creates DIR (mode 0700) with everything pixiud needs: node.key (0600) and node.vkey, the\n"
    "node's signing key; for an executor platform.key and platform.vkey, the key its TEE\n"
    "backend signs evidence with; for a POD its database pod.db (DIR is then also the POD's\n"
    "directory for `pixiu pod ... --pod DIR`); and node.json, the config `pixiud --config`\n"
    "reads. ROLE is pod, executor, log, witness or consumer. The node listens on ADDR:PORT\n"
    "(default 127.0.0.1:7700); the membership file is FILE (default DIR/membership.json, to be\n"
    "put there). Prints the node's entry for the network's membership file, reached at URL\n"
    "(default http://ADDR:PORT). Refuses a DIR that already holds a node.\n";

/* mkdir -p, the last one 0700. */
static int make_dir(const char *d) {
    char buf[PATH_MAX];
    if (strlen(d) >= sizeof buf)
        return errno = ENAMETOOLONG, -1;
    snprintf(buf, sizeof buf, "%s", d);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0755) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0700) && errno != EEXIST ? -1 : 0;
}

static int write_key(const char *dir, const char *base, const char *name, px_verifier *v, px_err *err) {
    char kp[PATH_MAX], vp[PATH_MAX];
    snprintf(kp, sizeof kp, "%s/%s.key", dir, base);
    snprintf(vp, sizeof vp, "%s/%s.vkey", dir, base);
    px_signer s;
    px_buf kb = PX_BUF_INIT, vb = PX_BUF_INIT;
    if (px_signer_generate(&s, name, err))
        return -1;
    px_signer_verifier(&s, v);
    int rc = px_signer_format(&s, &kb, err) || px_buf_append_u8(&kb, '\n', err) || px_verifier_format(v, &vb, err) ||
                     px_buf_append_u8(&vb, '\n', err) || px_file_write_atomic(kp, kb.data, kb.len, 0600, err) ||
                     px_file_write_atomic(vp, vb.data, vb.len, 0644, err)
                 ? -1
                 : 0;
    px_signer_wipe(&s);
    px_buf_free(&kb);
    px_buf_free(&vb);
    return rc;
}

static int key_text(const px_verifier *v, char *out, size_t cap) {
    px_buf b = PX_BUF_INIT;
    int rc = px_verifier_format(v, &b, NULL) || b.len >= cap ? -1 : 0;
    if (rc == 0)
        snprintf(out, cap, "%.*s", (int)b.len, (const char *)b.data);
    px_buf_free(&b);
    return rc;
}

static json_t *role_list(unsigned roles) {
    json_t *a = json_array();
    for (unsigned bit = 1; a && bit && bit <= roles; bit <<= 1)
        if (roles & bit)
            json_array_append_new(a, json_string(px_role_name(bit)));
    return a;
}

/* "pod,executor" into role bits, none twice. */
static int parse_roles(const px_cli_args *a, const char *list, unsigned *roles) {
    char buf[128];
    if (strlen(list) >= sizeof buf)
        return px_cli_usage_error(a, "--roles is too long"), -1;
    snprintf(buf, sizeof buf, "%s", list);
    *roles = 0;
    for (char *save = NULL, *r = strtok_r(buf, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
        unsigned bit;
        if (px_role_parse(r, &bit))
            return px_cli_usage_error(a, "--roles: '%s' is not pod, executor, log, witness or consumer", r), -1;
        if (*roles & bit)
            return px_cli_usage_error(a, "--roles: '%s' is given twice", r), -1;
        *roles |= bit;
    }
    if (!*roles)
        return px_cli_usage_error(a, "--roles names no role"), -1;
    return 0;
}

static int run(int argc, char **argv) {
    const char *id = NULL, *roles_s = NULL, *listen = NULL, *url = NULL, *membership = NULL;
    const px_cli_opt opts[] = {{"id", 0, PX_CLI_VALUE, &id, 1},           {"roles", 0, PX_CLI_VALUE, &roles_s, 1},
                               {"listen", 0, PX_CLI_VALUE, &listen, 0},   {"url", 0, PX_CLI_VALUE, &url, 0},
                               {"membership", 0, PX_CLI_VALUE, &membership, 0}, {0}};
    px_cli_args a = {.cmd = "node init", .usage = usage, .opts = opts, .operands = "DIR", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_err err = {0};
    unsigned roles;
    if (px_id_check("--id", id, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "node init");
    if (parse_roles(&a, roles_s, &roles))
        return PX_EXIT_USAGE;
    char addr[64] = "127.0.0.1";
    unsigned long port = 7700;
    if (listen) {
        const char *colon = strrchr(listen, ':');
        char *end = NULL;
        if (colon && colon > listen && (size_t)(colon - listen) < sizeof addr)
            port = strtoul(colon + 1, &end, 10);
        if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof addr || !end || *end ||
            colon[1] < '0' || colon[1] > '9' || port > 65535)
            return px_cli_usage_error(&a, "--listen must be ADDR:PORT, not '%s'", listen);
        snprintf(addr, sizeof addr, "%.*s", (int)(colon - listen), listen);
    }
    const char *dir_arg = a.argv[0];
    char dir[PATH_MAX], path[PATH_MAX + 32];
    if (make_dir(dir_arg))
        return px_cli_errorf(PX_EXIT_USAGE, "node init: %s: %s", dir_arg, strerror(errno));
    if (!realpath(dir_arg, dir))
        return px_cli_errorf(PX_EXIT_USAGE, "node init: %s: %s", dir_arg, strerror(errno));
    snprintf(path, sizeof path, "%s/node.json", dir);
    if (access(path, F_OK) == 0)
        return px_cli_errorf(PX_EXIT_USAGE, "node init: %s already holds a node (%s); refusing to replace its keys",
                             dir, path);
    px_verifier node_v, plat_v;
    char plat_name[PX_KEY_NAME_MAX + 1];
    snprintf(plat_name, sizeof plat_name, "%s-platform", id);
    if (write_key(dir, "node", id, &node_v, &err) ||
        ((roles & PX_ROLE_EXECUTOR) && write_key(dir, "platform", plat_name, &plat_v, &err)))
        return px_cli_error(PX_EXIT_USAGE, &err, "node init");
    if (roles & PX_ROLE_POD) { /* the POD's key is the node's: one directory for pixiud and `pixiu pod` */
        px_pod *p;
        char db[PATH_MAX + 32], link[PATH_MAX + 32];
        snprintf(db, sizeof db, "%s/pod.db", dir);
        if (px_pod_open(&p, db, &err))
            return px_cli_error(PX_EXIT_USAGE, &err, "node init");
        px_pod_close(p);
        snprintf(link, sizeof link, "%s/pod.key", dir);
        if (symlink("node.key", link) && errno != EEXIST)
            return px_cli_errorf(PX_EXIT_USAGE, "node init: %s: %s", link, strerror(errno));
        snprintf(link, sizeof link, "%s/pod.vkey", dir);
        if (symlink("node.vkey", link) && errno != EEXIST)
            return px_cli_errorf(PX_EXIT_USAGE, "node init: %s: %s", link, strerror(errno));
    }
    json_t *cfg = json_pack("{s:s,s:s,s:s,s:i,s:s,s:s}", "id", id, "dir", dir, "listen", addr, "port", (int)port,
                            "membership", membership ? membership : "membership.json", "key", "node.key");
    if (cfg && (roles & PX_ROLE_EXECUTOR))
        json_object_set_new(cfg, "platform_key", json_string("platform.key"));
    if (cfg)
        json_object_set_new(cfg, "roles", role_list(roles));
    px_buf out = PX_BUF_INIT;
    if (!cfg || px_json_dump(cfg, &out, &err) || px_buf_append_u8(&out, '\n', &err) ||
        px_file_write_atomic(path, out.data, out.len, 0600, &err)) {
        json_decref(cfg);
        px_buf_free(&out);
        return px_cli_error(PX_EXIT_USAGE, &err, "node init");
    }
    json_decref(cfg);
    /* Its entry for the membership file. */
    char nk[256], pk[256], u[128];
    snprintf(u, sizeof u, "http://%s:%lu", addr, port);
    json_t *m = key_text(&node_v, nk, sizeof nk) ? NULL
                                                  : json_pack("{s:s,s:s,s:s}", "id", id, "url", url ? url : u,
                                                              "signing_key", nk);
    if (m && (roles & PX_ROLE_EXECUTOR) && key_text(&plat_v, pk, sizeof pk) == 0) {
        json_object_set_new(m, "platform_key", json_string(pk));
        json_object_set_new(m, "tee", json_string("process"));
        json_object_set_new(m, "level", json_integer(1));
    }
    if (m)
        json_object_set_new(m, "roles", role_list(roles));
    out.len = 0;
    int rc = !m || px_json_dump(m, &out, &err) ? px_cli_error(PX_EXIT_USAGE, &err, "node init") : PX_EXIT_OK;
    if (rc == PX_EXIT_OK) {
        printf("%.*s\n", (int)out.len, (const char *)out.data);
        fprintf(stderr, "pixiu: node %s in %s: run it with `pixiud --config %s` once %s lists it\n", id, dir, path,
                membership ? membership : "membership.json");
    }
    json_decref(m);
    px_buf_free(&out);
    return rc;
}

const px_cli_form px_cli_node_init = {"init", run, "write a node's directory, keys and config (node.json)"};
