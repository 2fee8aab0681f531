/* Strict JSON reading for the poll module's documents (not a public
 * contract): closed objects, bounded integers, names, text. */
#ifndef PX_POLL_PJSON_H
#define PX_POLL_PJSON_H

#include "pixiu/poll.h"

/* Fail naming the first member of obj not in the NULL-ended list. */
int px_pj_only(const json_t *obj, const char *what, const char *const *allowed, px_err *err);
/* A required integer in [min, max]. */
int px_pj_int(const json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out, px_err *err);
/* A required array of min..max entries (borrowed). */
int px_pj_arr(const json_t *obj, const char *key, size_t min, size_t max, json_t **out, px_err *err);
int px_pj_obj(const json_t *obj, const char *key, json_t **out, px_err *err);
/* A name: 1..cap-1 bytes of [A-Za-z0-9._-]. */
int px_pj_name(const json_t *v, const char *what, char *dst, size_t cap, px_err *err);
/* Text for people: 1..max bytes of UTF-8 without control characters;
 * *out is a malloc'd copy. */
int px_pj_text(const json_t *v, const char *what, size_t max, char **out, px_err *err);
/* A verifier key string. */
int px_pj_verifier(const json_t *v, const char *what, px_verifier *out, px_err *err);
/* {"id": name, "key": verifier key} */
int px_pj_party(const json_t *v, const char *what, px_poll_party *out, px_err *err);
int px_pj_hex(const json_t *obj, const char *key, uint8_t *out, size_t n, px_err *err);
/* Reference-stealing set that reports allocation failure. */
int px_pj_set(json_t *obj, const char *key, json_t *v, px_err *err);
int px_pj_set_hex(json_t *obj, const char *key, const uint8_t *p, size_t n, px_err *err);
int px_pj_set_b64(json_t *obj, const char *key, const uint8_t *p, size_t n, px_err *err);
int px_pj_name_valid(const char *s, size_t max);

#endif
