/*
 * flowvars.h — per-flow rule variables: flowbits and flowints.
 *
 * Rules name their variables; the ruleset maps each name to a dense id at
 * load time (rules.h: rs->nflowbits, rs->nflowints).  A flow keeps its values
 * in one block hung off flow->vars, allocated the first time a rule sets a
 * variable on that flow (most flows never get one) and sized for the
 * ruleset's ids.  Values are tagged with the ruleset's generation: after a
 * reload the ids mean other names.  As in Suricata, a flow keeps its
 * variables across a reload by name: the new ruleset's layout carries, for
 * up to FLOWVARS_REMAP_MAX older rulesets, which of their ids each of its
 * own ids was (ruleset_inherit_flowvars()); a block written under one of
 * them is read through that map and moved into the new layout at the
 * flow's next write.  Names the new ruleset no longer has are dropped;
 * values from a ruleset older than those read as unset.
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

/* An older ruleset's ids for this one's: bits[id] (id < the layout's
 * nbits) is the id the flowbit of the same name had there, FLOWVARS_NO_ID
 * when it had none; ints[] the same for flowints. */
#define FLOWVARS_NO_ID UINT32_MAX
#define FLOWVARS_REMAP_MAX 4
struct flowvars_remap {
    uint64_t generation; /* the older ruleset's */
    uint32_t *bits;
    uint32_t *ints;
};

/* The shape of a ruleset's variables. */
struct flowvars_layout {
    uint64_t generation; /* ruleset->generation */
    uint32_t nbits;      /* ruleset->nflowbits */
    uint32_t nints;      /* ruleset->nflowints */
    const struct flowvars_remap *remap; /* older rulesets, most recent first */
    size_t nremap;
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
