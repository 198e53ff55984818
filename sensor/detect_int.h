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

#endif
