/*
 * flowvars.h — per-flow rule variables: flowbits and flowints.
 *
 * Rules name their variables; the ruleset maps each name to a dense id at
 * load time (rules.h: rs->nflowbits, rs->nflowints).  A flow keeps its values
 * in one block hung off flow->vars, allocated the first time a rule sets a
 * variable on that flow (most flows never get one) and sized for the
 * ruleset's ids.  Values are tagged with the ruleset's generation: after a
 * reload the ids mean other names, so values written under an older ruleset
 * read as unset.
 *
 * Threads: a flow belongs to one worker; no locking.
 *
 * The flow table owner calls flowvars_free() for every flow leaving the
 * table, before its memory is reused.
 */
#ifndef KANSHI_FLOWVARS_H
#define KANSHI_FLOWVARS_H

#include <stdbool.h>
#include <stdint.h>

struct flow;

/* The shape of a ruleset's variables. */
struct flowvars_layout {
    uint64_t generation; /* ruleset->generation */
    uint32_t nbits;      /* ruleset->nflowbits */
    uint32_t nints;      /* ruleset->nflowints */
};

/* Frees f->vars and sets it to NULL.  NULL-safe, idempotent. */
void flowvars_free(struct flow *f);

/* True when flowbit id is set on f under layout l. */
bool flowvars_bit(const struct flow *f, const struct flowvars_layout *l, uint32_t id);

enum flowvars_bit_op { FLOWVARS_UNSET, FLOWVARS_SET, FLOWVARS_TOGGLE };
/* Changes flowbit id.  0, -EINVAL (id out of range) or -ENOMEM (the flow then
 * keeps no variables). */
int flowvars_bit_put(struct flow *f, const struct flowvars_layout *l, uint32_t id,
                     enum flowvars_bit_op op);

/* Reads flowint id into *v; false when it was never set. */
bool flowvars_int(const struct flow *f, const struct flowvars_layout *l, uint32_t id, uint32_t *v);
/* Sets flowint id to v.  0, -EINVAL or -ENOMEM. */
int flowvars_int_put(struct flow *f, const struct flowvars_layout *l, uint32_t id, uint32_t v);

#endif
