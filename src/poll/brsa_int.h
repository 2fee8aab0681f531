/* Inside the poll module: the deterministic core of Blind, for the RFC's
 * known-answer tests, and EMSA-PSS encoding. Not a public contract. */
#ifndef PX_POLL_BRSA_INT_H
#define PX_POLL_BRSA_INT_H

#include "pixiu/poll.h"

/* Blind with a given salt (48 bytes for the PSS variants, unused for
 * PSSZERO) and, when inv_in is not NULL, the RFC's inverse (k bytes): the
 * blinding factor r is then inv^-1 mod n. */
int px_poll_blind_with(const px_poll_pub *pk, px_poll_variant v, const uint8_t *input, size_t len,
                       const uint8_t *salt, const uint8_t *inv_in, uint8_t *blinded, uint8_t *inv_out, px_err *err);
int px_poll_pss_encode(uint8_t *em, size_t em_len, unsigned em_bits, const uint8_t *msg, size_t len,
                       const uint8_t *salt, size_t slen, px_err *err);

#endif
