/* Proof files in the JSON form of the transparency-dev/merkle test vectors.
 *
 * Unreadable input (not JSON, members missing or of the wrong type, bad
 * base64) is PX_E_INVALID; a readable proof that does not check out,
 * including hashes of the wrong length, is PX_E_VERIFY. */
#include <string.h>

#include "pixiu/log.h"

#define PX_VECTOR_MAX_BYTES (1u << 20)

static int get_size(const json_t *o, const char *key, uint64_t *out, px_err *err) {
    int64_t v;
    if (px_json_int(o, key, &v, err))
        return -1;
    if (v < 0)
        return px_fail(err, PX_E_INVALID, "'%s' is negative", key);
    *out = (uint64_t)v;
    return 0;
}

/* A base64 member that must decode; its length is checked by the caller. */
static int get_b64(const json_t *o, const char *key, px_buf *out, px_err *err) {
    const char *s;
    if (px_json_str(o, key, &s, err))
        return -1;
    if (px_b64_decode(out, s, strlen(s), err))
        return px_err_prefix(err, "'%s'", key);
    return 0;
}

/* "proof": an array of base64 hashes, or null for none. Every hash must be
 * 32 bytes; *bad_len reports one that is not (a verification failure). */
static int get_proof(const json_t *o, px_buf *out, size_t *n, int *bad_len, px_err *err) {
    const json_t *arr = json_object_get(o, "proof");
    *n = 0;
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return px_fail(err, PX_E_INVALID, "'proof' is not an array");
    if (json_array_size(arr) > PX_LOG_MAX_PROOF) {
        *bad_len = 1;
        return 0;
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *h = json_array_get(arr, i);
        if (!json_is_string(h))
            return px_fail(err, PX_E_INVALID, "'proof[%zu]' is not a string", i);
        size_t before = out->len;
        if (px_b64_decode(out, json_string_value(h), json_string_length(h), err))
            return px_err_prefix(err, "'proof[%zu]'", i);
        if (out->len - before != PX_LOG_HASH_BYTES)
            *bad_len = 1;
    }
    *n = json_array_size(arr);
    return 0;
}

/* Parse strictly. A document that is valid JSON only once integers may
 * exceed 64 bits names a size or index no log can have: that is a proof
 * which cannot verify, not unreadable input. */
static json_t *parse(const void *data, size_t len, px_err *err) {
    json_t *o = px_json_parse(data, len, PX_VECTOR_MAX_BYTES, err);
    if (o || len > PX_VECTOR_MAX_BYTES)
        return o;
    json_t *wide = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, NULL);
    if (wide) {
        json_decref(wide);
        px_fail(err, PX_E_VERIFY, "a size or index does not fit in 64 bits");
    }
    return NULL;
}

int px_log_check_inclusion_json(const void *data, size_t len, px_err *err) {
    json_t *o = parse(data, len, err);
    if (!o)
        return -1;
    px_buf root = PX_BUF_INIT, leaf = PX_BUF_INIT, proof = PX_BUF_INIT;
    uint64_t index = 0, size = 0;
    size_t n = 0;
    int bad_len = 0, rc = -1;
    if (!json_is_object(o)) {
        px_fail(err, PX_E_INVALID, "not a JSON object");
        goto out;
    }
    if (get_size(o, "leafIdx", &index, err) || get_size(o, "treeSize", &size, err) ||
        get_b64(o, "root", &root, err) || get_b64(o, "leafHash", &leaf, err) ||
        get_proof(o, &proof, &n, &bad_len, err))
        goto out;
    if (root.len != PX_LOG_HASH_BYTES || leaf.len != PX_LOG_HASH_BYTES || bad_len) {
        px_fail(err, PX_E_VERIFY, "inclusion: a hash is not %d bytes", PX_LOG_HASH_BYTES);
        goto out;
    }
    rc = px_log_verify_inclusion(index, size, leaf.data, proof.data, n, root.data, err);
out:
    px_buf_free(&root);
    px_buf_free(&leaf);
    px_buf_free(&proof);
    json_decref(o);
    return rc;
}

int px_log_check_consistency_json(const void *data, size_t len, px_err *err) {
    json_t *o = parse(data, len, err);
    if (!o)
        return -1;
    px_buf r1 = PX_BUF_INIT, r2 = PX_BUF_INIT, proof = PX_BUF_INIT;
    uint64_t size1 = 0, size2 = 0;
    size_t n = 0;
    int bad_len = 0, rc = -1;
    if (!json_is_object(o)) {
        px_fail(err, PX_E_INVALID, "not a JSON object");
        goto out;
    }
    if (get_size(o, "size1", &size1, err) || get_size(o, "size2", &size2, err) ||
        get_b64(o, "root1", &r1, err) || get_b64(o, "root2", &r2, err) ||
        get_proof(o, &proof, &n, &bad_len, err))
        goto out;
    /* Two statements of the same non-empty tree need no proof: the roots
     * must simply be the same bytes. */
    if (size1 == size2 && size1 > 0 && n == 0 && !bad_len) {
        if (r1.len == r2.len && px_ct_equal(r1.data, r2.data, r1.len))
            rc = 0;
        else
            px_fail(err, PX_E_VERIFY, "consistency: same size %llu, different roots",
                    (unsigned long long)size1);
        goto out;
    }
    if (r1.len != PX_LOG_HASH_BYTES || r2.len != PX_LOG_HASH_BYTES || bad_len) {
        px_fail(err, PX_E_VERIFY, "consistency: a hash is not %d bytes", PX_LOG_HASH_BYTES);
        goto out;
    }
    rc = px_log_verify_consistency(size1, size2, r1.data, r2.data, proof.data, n, err);
out:
    px_buf_free(&r1);
    px_buf_free(&r2);
    px_buf_free(&proof);
    json_decref(o);
    return rc;
}
