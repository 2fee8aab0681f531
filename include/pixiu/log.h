/* PIXIU public log: an append-only Merkle log in the formats of the
 * transparency ecosystem, so existing tools can check it.
 *
 *   hashing and proofs   RFC 6962 / RFC 9162 (SHA-256, 0x00 leaf, 0x01 node)
 *   checkpoints          C2SP tlog-checkpoint, signed as C2SP signed notes
 *   read layout          C2SP tlog-tiles (/checkpoint, /tile/..., /tile/entries/...)
 *   witnesses            C2SP tlog-cosignature (Ed25519, cosignature/v1)
 *
 * The log service (px_log) batches concurrent appends into one durable
 * transaction and one new checkpoint; an append returns only after that
 * transaction committed. Storage is SQLite (embedded default) or PostgreSQL.
 * See docs/log.md.
 */
#ifndef PIXIU_LOG_H
#define PIXIU_LOG_H

#include "pixiu/http.h"
#include "pixiu/proof.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared here is libpixiu's API; the rest is hidden. */
#pragma GCC visibility push(default)

#define PX_LOG_HASH_BYTES 32
#define PX_LOG_MAX_PROOF 64          /* hashes in any proof of a 2^64 tree */
#define PX_LOG_TILE_HEIGHT 8
#define PX_LOG_TILE_WIDTH 256        /* hashes in a full tile */
#define PX_LOG_MAX_LEVELS 8          /* tile levels covering 2^64 entries */
#define PX_LOG_ENTRY_MAX 65535       /* entry bundles use u16 lengths */
#define PX_LOG_ENTRY_MAX_DEFAULT 65535
#define PX_LOG_ORIGIN_MAX 255

/* ---- Merkle tree (RFC 9162 section 2.1) ---------------------------------- */

void px_log_leaf_hash(uint8_t out[PX_LOG_HASH_BYTES], const void *entry, size_t n);
void px_log_node_hash(uint8_t out[PX_LOG_HASH_BYTES], const uint8_t left[PX_LOG_HASH_BYTES],
                      const uint8_t right[PX_LOG_HASH_BYTES]);
void px_log_empty_root(uint8_t out[PX_LOG_HASH_BYTES]);
/* Root of the tree whose leaf hashes are the n consecutive 32-byte hashes. */
void px_log_root_from_hashes(uint8_t out[PX_LOG_HASH_BYTES], const uint8_t *hashes, uint64_t n);

/* Hash of the complete subtree of the given height whose leftmost leaf is
 * index << height. Proof generation asks for nothing else. */
typedef int (*px_log_node_fn)(void *ctx, unsigned height, uint64_t index,
                              uint8_t out[PX_LOG_HASH_BYTES], px_err *err);
/* MTH(D[lo:hi]) for the ranges RFC 6962 proofs use. */
int px_log_range_root(px_log_node_fn node, void *ctx, uint64_t lo, uint64_t hi,
                      uint8_t out[PX_LOG_HASH_BYTES], px_err *err);
/* Append the proof's hashes (32 bytes each, leaf to root) to out. */
int px_log_prove_inclusion(px_log_node_fn node, void *ctx, uint64_t index, uint64_t size,
                           px_buf *out, px_err *err);
int px_log_prove_consistency(px_log_node_fn node, void *ctx, uint64_t size1, uint64_t size2,
                             px_buf *out, px_err *err);

/* Verification, RFC 9162 2.1.3.2 and 2.1.4.2; proof is nproof 32-byte
 * hashes. A failed check is PX_E_VERIFY with the reason. */
int px_log_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[PX_LOG_HASH_BYTES],
                            const uint8_t *proof, size_t nproof,
                            const uint8_t root[PX_LOG_HASH_BYTES], px_err *err);
/* The number of hashes in the inclusion proof of index in a tree of size
 * leaves (0 when index >= size, which has no proof). */
size_t px_log_inclusion_proof_len(uint64_t index, uint64_t size);
/* The root the inclusion proof leads to from leaf: the verification above
 * without its last comparison, for a tree whose root is not given but
 * vouched for by what it leads to (a signature over it). PX_E_VERIFY when
 * index >= size or the proof has the wrong number of hashes. */
int px_log_root_from_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[PX_LOG_HASH_BYTES],
                               const uint8_t *proof, size_t nproof, uint8_t root[PX_LOG_HASH_BYTES], px_err *err);
int px_log_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[PX_LOG_HASH_BYTES],
                              const uint8_t root2[PX_LOG_HASH_BYTES], const uint8_t *proof,
                              size_t nproof, px_err *err);

/* The JSON form of the transparency-dev/merkle test vectors:
 *   inclusion:   {"leafIdx", "treeSize", "root", "leafHash", "proof": [b64...]}
 *   consistency: {"size1", "size2", "root1", "root2", "proof": [b64...]}
 * 0 when the proof is valid; -1 with PX_E_VERIFY when it is not (including
 * hashes of the wrong length); -1 with another code when the input cannot
 * be read (not JSON, missing or mistyped members). */
int px_log_check_inclusion_json(const void *json, size_t len, px_err *err);
int px_log_check_consistency_json(const void *json, size_t len, px_err *err);

/* ---- checkpoints (C2SP tlog-checkpoint) ---------------------------------- */

typedef struct px_checkpoint {
    char origin[PX_LOG_ORIGIN_MAX + 1];
    uint64_t size;
    uint8_t root[PX_LOG_HASH_BYTES];
    char *extensions; /* owned; extension lines, each ending in '\n', or NULL */
} px_checkpoint;

/* Append the checkpoint body (the note text) to out. */
int px_checkpoint_format(const px_checkpoint *cp, px_buf *out, px_err *err);
/* Parse a checkpoint body (origin, decimal size, base64 root, extensions). */
int px_checkpoint_parse(px_checkpoint *cp, const char *text, size_t len, px_err *err);
/* Body signed as a note by the log's key; appended to out. */
int px_checkpoint_sign(const px_checkpoint *cp, const px_signer *log_key, px_buf *out, px_err *err);
/* Parse a signed checkpoint note, require a valid signature by log_key and
 * (when origin is not NULL) that exact origin line. */
int px_checkpoint_open(px_checkpoint *cp, const char *note, size_t len, const px_verifier *log_key,
                       const char *origin, px_err *err);
void px_checkpoint_free(px_checkpoint *cp);

/* ---- cosignatures (C2SP tlog-cosignature, Ed25519, cosignature/v1) ------- */

#define PX_COSIG_ALG 0x04

/* A cosigner's verifier key: <name>+<hex key id>+<base64(0x04 || pk)>. */
typedef struct px_cosigner {
    char name[PX_KEY_NAME_MAX + 1];
    uint32_t id;
    uint8_t pk[PX_SIGN_PUBLICKEYBYTES];
} px_cosigner;

uint32_t px_cosig_key_id(const char *name, const uint8_t pk[PX_SIGN_PUBLICKEYBYTES]);
void px_cosig_from_signer(const px_signer *s, px_cosigner *c);
int px_cosig_format(const px_cosigner *c, px_buf *out, px_err *err);
int px_cosig_parse(px_cosigner *c, const char *text, size_t len, px_err *err);
/* arg is a cosigner key string or a file holding one. */
int px_cosig_load(px_cosigner *c, const char *arg, px_err *err);
/* Add (or replace) the cosignature of key over the note's text at the given
 * POSIX time. */
int px_cosig_sign(px_note *note, const px_signer *key, uint64_t timestamp, px_err *err);
/* Append the note signature line(s) of c's cosignature on n to out. */
int px_cosig_lines_append(const px_note *n, const px_cosigner *c, px_buf *out);
/* Find and check c's cosignature on note; *timestamp gets its time. */
int px_cosig_verify(const px_note *note, const px_cosigner *c, uint64_t *timestamp, px_err *err);

/* ---- witness: cosigns only checkpoints consistent with what it saw ------- */

typedef struct px_witness px_witness;

/* State (the last cosigned checkpoint per origin) lives in SQLite at path;
 * the key is copied. */
int px_witness_open(px_witness **out, const char *path, const px_signer *key, px_err *err);
void px_witness_close(px_witness *w);
/* Check and cosign a checkpoint (a note signed by log_key). old_size is the
 * size the caller believes the witness last cosigned for that origin (0 at
 * first) and proof a consistency proof from it to the new checkpoint. On
 * success the new state is durable and the cosigned note (the checkpoint
 * with the witness's signature line added) is appended to out. Refusals say
 * why: PX_E_STATE for a size that does not match (err names the witness's
 * size), a rollback, or two roots for one size; PX_E_VERIFY for a bad
 * signature, or a consistency proof that fails (a fork, "forked history"). */
int px_witness_add(px_witness *w, const px_verifier *log_key, const char *note, size_t len,
                   uint64_t old_size, const uint8_t *proof, size_t nproof, px_buf *out,
                   px_err *err);
/* The size the witness last cosigned for origin (0 if none). */
int px_witness_size(px_witness *w, const char *origin, uint64_t *size, px_err *err);
/* The witness's key as a cosigner (for checking its cosignatures). */
int px_witness_cosigner(px_witness *w, px_cosigner *c);

/* The C2SP tlog-witness HTTP interface (POST /add-checkpoint) over a
 * witness. Each trusted log is known by its origin line and key. */
typedef struct px_witness_log {
    char origin[PX_LOG_ORIGIN_MAX + 1];
    px_verifier key;
} px_witness_log;

typedef struct px_witness_service {
    px_witness *witness;
    const px_witness_log *logs;
    size_t nlogs;
} px_witness_service;

/* ctx is a px_witness_service. */
void px_witness_http_handler(void *ctx, const px_http_request *req, px_http_response *resp);

/* A source of consistency proofs (hashes appended to out). */
typedef int (*px_log_proof_fn)(void *ctx, uint64_t size1, uint64_t size2, px_buf *out, px_err *err);

/* Client side: ask the witness at url (its submission prefix) to cosign
 * the signed checkpoint note, with consistency proofs from proof(ctx).
 * *old is the witness's size as far as the caller knows (0 if unknown) and
 * is updated. The witness's cosignature lines are appended to out. */
int px_witness_request(const char *url, const char *note, size_t len, px_log_proof_fn proof, void *ctx,
                       uint64_t *old, px_buf *out, px_err *err);
/* The same over another transport (a signed request, for a witness that
 * cosigns only for members): post sends the add-checkpoint body and
 * returns the HTTP status and body. */
typedef int (*px_witness_post_fn)(void *ctx, const uint8_t *body, size_t len, int *status, px_buf *out,
                                  px_err *err);
int px_witness_request_via(px_witness_post_fn post, void *post_ctx, const char *note, size_t len,
                           px_log_proof_fn proof, void *ctx, uint64_t *old, px_buf *out, px_err *err);

/* ---- the log service ------------------------------------------------------ */

typedef struct px_log px_log;

/* A witness the log sends its checkpoints to (C2SP tlog-witness). */
typedef struct px_log_witness {
    char url[1024];   /* submission prefix, e.g. http://host:port */
    px_cosigner key;  /* its cosignatures are checked before being served */
} px_log_witness;

#define PX_LOG_WITNESSES_MAX 16

typedef struct px_log_opts {
    /* "sqlite:PATH", "postgres:CONNINFO", or a plain path (SQLite). */
    const char *store;
    const px_signer *key; /* signs checkpoints; copied */
    const char *origin;   /* checkpoint origin line; NULL = the key's name */
    size_t max_entry;     /* largest entry accepted; 0 = PX_LOG_ENTRY_MAX_DEFAULT */
    size_t max_batch;     /* most entries per commit; 0 = default */
    /* Witnesses asked, in the background, to cosign each new checkpoint;
     * px_log_checkpoint then carries the cosignatures collected so far. */
    const px_log_witness *witnesses;
    size_t nwitnesses;
} px_log_opts;

int px_log_open(px_log **out, const px_log_opts *opts, px_err *err);
/* Waits for pending appends, then closes the store. */
void px_log_close(px_log *log);

/* Append n entries as consecutive indices first..first+n-1. Returns once
 * they and a checkpoint covering them are durable. Entries that are empty
 * or over max_entry make the whole call fail with nothing stored. When cp
 * is not NULL it receives the signed checkpoint note that covers them. */
int px_log_append(px_log *log, const uint8_t *const *entries, const size_t *lens, size_t n,
                  uint64_t *first, px_buf *cp, px_err *err);
/* Called once per px_log_append_async, on the log's committer thread, when
 * the entries and a checkpoint covering them are durable (rc 0, first is
 * the first entry's index, note the signed checkpoint note, borrowed) or
 * the commit failed (rc -1, err says why). It should be quick: the next
 * commit waits for it. */
typedef void (*px_log_done_fn)(void *ctx, int rc, uint64_t first, const px_buf *note, const px_err *err);
/* px_log_append without waiting, for servers that park a request instead
 * of a thread: 0 when queued (done follows; entries and lens must stay
 * valid until then), -1 when refused at once (done is not called). */
int px_log_append_async(px_log *log, const uint8_t *const *entries, const size_t *lens, size_t n,
                        px_log_done_fn done, void *ctx, px_err *err);
/* The latest signed checkpoint note (appended to out) and its size, with
 * the witnesses' cosignature lines collected for it so far. */
int px_log_checkpoint(px_log *log, px_buf *out, uint64_t *size, px_err *err);
/* Proofs against the tree of the given size (at most the latest
 * checkpoint's size); hashes appended to out. */
int px_log_inclusion(px_log *log, uint64_t index, uint64_t size, px_buf *out, px_err *err);
int px_log_consistency(px_log *log, uint64_t size1, uint64_t size2, px_buf *out, px_err *err);
int px_log_entry(px_log *log, uint64_t index, px_buf *out, px_err *err);
/* tlog-tiles resources: a tile (level >= 0) or an entry bundle (level -1),
 * width 1..256 (256 = full); only those covered by the latest checkpoint. */
int px_log_tile(px_log *log, int level, uint64_t index, unsigned width, px_buf *out, px_err *err);

typedef enum px_log_key_kind {
    PX_LOG_BY_SUBJECT = 1,  /* statement subject digests */
    PX_LOG_BY_INPUT = 2,    /* predicate.inputs[].digest.sha256 */
    PX_LOG_BY_MANIFEST = 3  /* predicate.manifest */
} px_log_key_kind;

#define PX_LOG_LOOKUP_MAX 10000

/* Indices >= from of the entries indexed under (kind, digest), ascending;
 * *n gets their number (at most max). Page with from = last + 1. */
int px_log_lookup(px_log *log, px_log_key_kind kind, const uint8_t digest[PX_SHA256_BYTES], uint64_t from,
                  uint64_t *out, size_t max, size_t *n, px_err *err);

/* The index keys of one entry: entries that parse as DSSE envelopes of
 * in-toto statements yield their subject, input and manifest digests;
 * anything else yields none. Calls fn for each; used by the log service. */
typedef int (*px_log_key_fn)(void *ctx, px_log_key_kind kind, const uint8_t digest[PX_SHA256_BYTES],
                             px_err *err);
int px_log_entry_keys(const uint8_t *entry, size_t len, px_log_key_fn fn, void *ctx, px_err *err);

/* ---- client of a remote log (HTTP API of docs/log.md) ------------------- */

/* What a verified append returns: the entry's index, the signed
 * checkpoint covering it (parsed and as note text) and the inclusion proof
 * against it (32-byte hashes). */
typedef struct px_log_receipt {
    uint64_t index;
    px_checkpoint checkpoint;
    px_buf note;
    px_buf proof;
} px_log_receipt;

void px_log_receipt_free(px_log_receipt *r);
/* Append one entry to a log served in this process and return its index,
 * the signed checkpoint covering it and the inclusion proof against that
 * checkpoint: what a caller shows a party that trusts only the log's key. */
int px_log_append_proven(px_log *log, const uint8_t *entry, size_t len, px_log_receipt *out, px_err *err);
/* Check r (only its index, note and proof are read) for entry: the note is
 * a checkpoint signed by log_key and the proof places the entry at the
 * index in it. PX_E_VERIFY names what does not hold. */
int px_log_receipt_check(const px_log_receipt *r, const uint8_t *entry, size_t len, const px_verifier *log_key,
                         px_err *err);
/* Read the answer of POST /add?wait=1 for entry into out and check it as
 * px_log_receipt_check does. */
int px_log_append_answer(const uint8_t *answer, size_t answer_len, const uint8_t *entry, size_t len,
                         const px_verifier *log_key, px_log_receipt *out, px_err *err);
/* Append one entry and wait for it: succeeds only when the checkpoint is
 * signed by log_key and the proof shows the entry at the index in it. */
int px_log_remote_append(const char *url, const uint8_t *entry, size_t len, const px_verifier *log_key,
                         px_log_receipt *out, px_err *err);
/* The log's checkpoint, checked against log_key; the note (with any
 * cosignatures) is appended to note. */
int px_log_remote_checkpoint(const char *url, const px_verifier *log_key, px_buf *note, px_checkpoint *cp,
                             px_err *err);
int px_log_remote_inclusion(const char *url, uint64_t index, uint64_t size, px_buf *proof, px_err *err);
int px_log_remote_consistency(const char *url, uint64_t size1, uint64_t size2, px_buf *proof, px_err *err);
int px_log_remote_entry(const char *url, uint64_t index, px_buf *out, px_err *err);
/* Every index under (kind, digest), following pages; at most max. */
int px_log_remote_lookup(const char *url, px_log_key_kind kind, const uint8_t digest[PX_SHA256_BYTES],
                         uint64_t *out, size_t max, size_t *n, px_err *err);

/* Mirror the log at url into dir in the static tlog-tiles layout (checkpoint,
 * tile/..., tile/entries/...), verifying every entry, tile and the root
 * against the checkpoint signed by log_key, which is written last. *size
 * gets the mirrored size, *fetched the number of resources downloaded. */
int px_log_mirror(const char *url, const px_verifier *log_key, const char *dir, uint64_t *size, size_t *fetched,
                  px_err *err);

/* The HTTP API of docs/log.md on top of http.h; ctx is the px_log. On a
 * server with polling threads (px_http_server_opts.threads) appends are
 * answered later, by the committer, so no thread waits for a commit. */
void px_log_http_handler(void *ctx, const px_http_request *req, px_http_response *resp);
/* Polling threads for a server of the log alone: appends park, reads are
 * short store reads, and fewer threads means fewer wake-ups per request
 * (docs/scale.md, "Log appends"). */
#define PX_LOG_HTTP_THREADS 2

/* Parse a tlog-tiles path below /tile/ ("0/x001/234.p/7", "entries/5"):
 * level (-1 for entries), index and width (256 for a full tile). */
int px_log_tile_path_parse(const char *path, int *level, uint64_t *index, unsigned *width,
                           px_err *err);
/* Split an entry bundle (u16 big-endian length, then the entry, repeated)
 * into at most max entries pointing into data. Truncation is an error. */
int px_log_bundle_split(const uint8_t *data, size_t len, const uint8_t **entries, size_t *lens,
                        size_t max, size_t *n, px_err *err);
/* Format the tile path (without the leading "/tile/"). */
int px_log_tile_path_format(int level, uint64_t index, unsigned width, px_buf *out, px_err *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
