/* The build: which files an instance runs, by name and SHA-256 digest.
 *
 * A measurement that covered only the worker binary let a node run any
 * sandbox runner or compiler it liked under an accepted measurement: a
 * runner that copies its input holds every record in plaintext. So the
 * measurement covers the build digest, a fixed encoding of every component
 * (docs/tee.md), and evidence lists the components so that a verifier can
 * recompute the digest and name what differs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pixiu/tee.h"

#define BUILD_TAG "pixiu build v1\n"
#define DIFF_HEX 16 /* digest characters shown in a refusal */

static int version_valid(const char *v) {
    size_t n = strlen(v);
    if (n == 0 || n > PX_TEE_VERSION_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') ||
              v[i] == '.' || v[i] == '+' || v[i] == '-'))
            return 0;
    return 1;
}

/* Names reach terminals, JSON and error messages: printable, no quote or
 * backslash, no space at either end. */
static int name_valid(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > PX_TEE_COMPONENT_NAME_MAX || s[0] == ' ' || s[n - 1] == ' ')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
            return 0;
    return 1;
}

int px_tee_build_init(px_tee_build *b, const char *version, px_err *err) {
    memset(b, 0, sizeof *b);
    if (!version)
        version = PX_VERSION;
    if (!version_valid(version))
        return px_fail(err, PX_E_INVALID, "build version \"%.40s\" is not 1..%d characters of [A-Za-z0-9.+-]",
                       version, PX_TEE_VERSION_MAX);
    strcpy(b->version, version);
    return 0;
}

int px_tee_build_add(px_tee_build *b, const char *name, const uint8_t sha256[PX_SHA256_BYTES], px_err *err) {
    if (!name_valid(name))
        return px_fail(err, PX_E_INVALID, "build component name \"%.60s\" is not 1..%d printable characters",
                       name, PX_TEE_COMPONENT_NAME_MAX);
    if (b->n >= PX_TEE_BUILD_MAX)
        return px_fail(err, PX_E_LIMIT, "a build has at most %d components", PX_TEE_BUILD_MAX);
    if (px_tee_build_find(b, name))
        return px_fail(err, PX_E_INVALID, "build component \"%.60s\" is listed twice", name);
    strcpy(b->c[b->n].name, name);
    memcpy(b->c[b->n].sha256, sha256, PX_SHA256_BYTES);
    b->n++;
    return 0;
}

const px_tee_component *px_tee_build_find(const px_tee_build *b, const char *name) {
    for (size_t i = 0; i < b->n && i < PX_TEE_BUILD_MAX; i++)
        if (!strcmp(b->c[i].name, name))
            return &b->c[i];
    return NULL;
}

static int name_cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int px_tee_build_check(const px_tee_build *b, px_err *err) {
    if (memchr(b->version, 0, sizeof b->version) == NULL || !version_valid(b->version))
        return px_fail(err, PX_E_INVALID, "build version is not 1..%d characters of [A-Za-z0-9.+-]",
                       PX_TEE_VERSION_MAX);
    if (b->n == 0 || b->n > PX_TEE_BUILD_MAX)
        return px_fail(err, PX_E_INVALID, "a build has 1..%d components, not %zu", PX_TEE_BUILD_MAX, b->n);
    const char *names[PX_TEE_BUILD_MAX];
    for (size_t i = 0; i < b->n; i++) {
        if (memchr(b->c[i].name, 0, sizeof b->c[i].name) == NULL || !name_valid(b->c[i].name))
            return px_fail(err, PX_E_INVALID, "build component %zu has no valid name", i);
        names[i] = b->c[i].name;
    }
    /* One digest per build: a name listed twice could be read either way. */
    qsort(names, b->n, sizeof names[0], name_cmp);
    for (size_t i = 1; i < b->n; i++)
        if (!strcmp(names[i - 1], names[i]))
            return px_fail(err, PX_E_INVALID, "build component \"%.60s\" is listed twice", names[i]);
    return 0;
}

int px_tee_build_digest(uint8_t out[PX_SHA256_BYTES], const px_tee_build *b, px_err *err) {
    if (px_tee_build_check(b, err))
        return -1;
    px_sha256_ctx c;
    uint8_t len = (uint8_t)strlen(b->version);
    uint8_t n[2] = {(uint8_t)(b->n >> 8), (uint8_t)b->n};
    px_sha256_init(&c);
    px_sha256_update(&c, BUILD_TAG, strlen(BUILD_TAG));
    px_sha256_update(&c, &len, 1);
    px_sha256_update(&c, b->version, len);
    px_sha256_update(&c, n, 2);
    for (size_t i = 0; i < b->n; i++) {
        len = (uint8_t)strlen(b->c[i].name);
        px_sha256_update(&c, &len, 1);
        px_sha256_update(&c, b->c[i].name, len);
        px_sha256_update(&c, b->c[i].sha256, PX_SHA256_BYTES);
    }
    px_sha256_final(&c, out);
    return 0;
}

int px_tee_build_diff(const px_tee_build *ref, const px_tee_build *got, char *out, size_t cap) {
    char a[DIFF_HEX + 1], b[DIFF_HEX + 1];
    /* In the reference's order, which puts the most telling first. */
    for (size_t i = 0; i < ref->n; i++) {
        const px_tee_component *g = px_tee_build_find(got, ref->c[i].name);
        if (!g) {
            snprintf(out, cap, "component \"%.80s\" is missing", ref->c[i].name);
            return 1;
        }
        if (!px_ct_equal(ref->c[i].sha256, g->sha256, PX_SHA256_BYTES)) {
            px_hex_encode(a, g->sha256, DIFF_HEX / 2);
            px_hex_encode(b, ref->c[i].sha256, DIFF_HEX / 2);
            snprintf(out, cap, "component \"%.80s\" differs (sha256 %s..., expected %s...)", g->name, a, b);
            return 1;
        }
    }
    for (size_t k = 0; k < got->n; k++)
        if (!px_tee_build_find(ref, got->c[k].name)) {
            snprintf(out, cap, "component \"%.80s\" is not in the reference build", got->c[k].name);
            return 1;
        }
    if (strcmp(ref->version, got->version)) {
        snprintf(out, cap, "version %s differs (expected %s)", got->version, ref->version);
        return 1;
    }
    for (size_t i = 0; i < ref->n; i++)
        if (strcmp(ref->c[i].name, got->c[i].name)) {
            snprintf(out, cap, "components are in another order");
            return 1;
        }
    if (cap)
        out[0] = 0;
    return 0;
}
