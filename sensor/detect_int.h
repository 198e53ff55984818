/*
 * detect_int.h — what the detection engine's files share.
 *
 * detect.c builds the prefilter and drives inspection; detect_rule.c
 * verifies a candidate rule against a packet (protocol, addresses, ports,
 * flow state, header keywords, then the payload through detect_payload.c).
 */
#ifndef KANSHI_DETECT_INT_H
#define KANSHI_DETECT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kanshi/detect.h"
#include "kanshi/packet.h"
#include "kanshi/rules.h"

/* ASCII lower-casing, as nocase matching uses (no locale). */
static inline int detect_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* True when every test of r holds for p (header, flow and payload). */
bool detect_rule_match(const struct rule *r, const struct packet *p);

/* The address-set prefilter (detect_iponly.c). */
struct iponly;
/* True when a rule without a fast pattern can be found by address: its
 * source or destination is not "any". */
bool detect_iponly_eligible(const struct rule *r);
/* Indexes rules[ids[0..n)] by address.  *out is NULL when n is 0.
 * 0 or -ENOMEM. */
int detect_iponly_build(struct iponly **out, struct rule *const *rules, const uint32_t *ids,
                        size_t n);
void detect_iponly_free(struct iponly *io);
/* Bytes of the index. */
size_t detect_iponly_size(const struct iponly *io);
/* Appends to cand (deduplicated through stamp/gen) every indexed rule whose
 * address sets hold p's addresses (either way round for "<>" rules). */
void detect_iponly_lookup(const struct iponly *io, const struct packet *p, uint32_t *stamp,
                          uint32_t gen, uint32_t *cand, size_t *ncand);

#endif
