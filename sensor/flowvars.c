/*
 * flowvars.c — per-flow flowbits and flowints (see flowvars.h).
 *
 * One allocation per flow that ever gets a variable: a header, then the
 * flowbit words, then a "flowint is set" bitmap, then the flowint values.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kanshi/flow.h"
#include "kanshi/flowvars.h"

struct flow_vars {
    uint64_t generation;
    uint32_t nbits, nints;
    uint64_t *bits;    /* nbits bits */
    uint64_t *int_set; /* nints bits */
    uint32_t *ints;    /* nints values */
    uint64_t mem[];
};

static size_t words(uint32_t nbits)
{
    return ((size_t)nbits + 63) / 64;
}

void flowvars_free(struct flow *f)
{
    if (f == NULL)
        return;
    free(f->vars);
    f->vars = NULL;
}

/* The flow's block if it was written under this layout, else NULL. */
static struct flow_vars *vars_of(const struct flow *f, const struct flowvars_layout *l)
{
    struct flow_vars *v = f != NULL ? f->vars : NULL;

    return v != NULL && v->generation == l->generation ? v : NULL;
}

/* The map from the generation the flow's block was written under, when the
 * layout has one; NULL otherwise (no block, current or unknown). */
static const struct flowvars_remap *remap_of(const struct flow *f,
                                             const struct flowvars_layout *l)
{
    const struct flow_vars *v = f != NULL ? f->vars : NULL;

    if (v == NULL || v->generation == l->generation)
        return NULL;
    for (size_t i = 0; i < l->nremap; i++)
        if (l->remap[i].generation == v->generation)
            return &l->remap[i];
    return NULL;
}

static bool old_bit(const struct flow_vars *v, uint32_t old)
{
    return old < v->nbits && (v->bits[old / 64] >> (old % 64) & 1) != 0;
}

static bool old_int(const struct flow_vars *v, uint32_t old, uint32_t *out)
{
    if (old >= v->nints || !(v->int_set[old / 64] >> (old % 64) & 1))
        return false;
    *out = v->ints[old];
    return true;
}

/* The flow's block for writing, (re)made for this layout when needed; a
 * block from an older ruleset the layout maps is carried over by name. */
static struct flow_vars *vars_for_write(struct flow *f, const struct flowvars_layout *l)
{
    struct flow_vars *v = vars_of(f, l), *old = f->vars;
    const struct flowvars_remap *rm = remap_of(f, l);
    size_t nw;

    if (v != NULL)
        return v;
    nw = words(l->nbits) + words(l->nints) + ((size_t)l->nints + 1) / 2;
    v = calloc(1, sizeof(*v) + nw * sizeof(uint64_t));
    f->vars = NULL;
    if (v == NULL) {
        free(old);
        return NULL;
    }
    v->generation = l->generation;
    v->nbits = l->nbits;
    v->nints = l->nints;
    v->bits = v->mem;
    v->int_set = v->bits + words(l->nbits);
    v->ints = (uint32_t *)(v->int_set + words(l->nints));
    for (uint32_t id = 0; rm != NULL && id < l->nbits; id++)
        if (old_bit(old, rm->bits[id]))
            v->bits[id / 64] |= UINT64_C(1) << (id % 64);
    for (uint32_t id = 0; rm != NULL && id < l->nints; id++) {
        if (old_int(old, rm->ints[id], &v->ints[id]))
            v->int_set[id / 64] |= UINT64_C(1) << (id % 64);
    }
    free(old);
    f->vars = v;
    return v;
}

bool flowvars_bit(const struct flow *f, const struct flowvars_layout *l, uint32_t id)
{
    const struct flow_vars *v = vars_of(f, l);
    const struct flowvars_remap *rm;

    if (v != NULL)
        return old_bit(v, id);
    rm = remap_of(f, l);
    return rm != NULL && id < l->nbits && old_bit(f->vars, rm->bits[id]);
}

int flowvars_bit_put(struct flow *f, const struct flowvars_layout *l, uint32_t id,
                     enum flowvars_bit_op op)
{
    struct flow_vars *v;
    uint64_t m = UINT64_C(1) << (id % 64);

    if (f == NULL || id >= l->nbits)
        return -EINVAL;
    if (op == FLOWVARS_UNSET && vars_of(f, l) == NULL && remap_of(f, l) == NULL)
        return 0; /* nothing set: nothing to allocate for */
    if ((v = vars_for_write(f, l)) == NULL)
        return -ENOMEM;
    switch (op) {
    case FLOWVARS_SET:
        v->bits[id / 64] |= m;
        break;
    case FLOWVARS_UNSET:
        v->bits[id / 64] &= ~m;
        break;
    case FLOWVARS_TOGGLE:
        v->bits[id / 64] ^= m;
        break;
    }
    return 0;
}

bool flowvars_int(const struct flow *f, const struct flowvars_layout *l, uint32_t id, uint32_t *out)
{
    const struct flow_vars *v = vars_of(f, l);
    const struct flowvars_remap *rm;

    if (v != NULL)
        return old_int(v, id, out);
    rm = remap_of(f, l);
    return rm != NULL && id < l->nints && old_int(f->vars, rm->ints[id], out);
}

int flowvars_int_put(struct flow *f, const struct flowvars_layout *l, uint32_t id, uint32_t val)
{
    struct flow_vars *v;

    if (f == NULL || id >= l->nints)
        return -EINVAL;
    if ((v = vars_for_write(f, l)) == NULL)
        return -ENOMEM;
    v->int_set[id / 64] |= UINT64_C(1) << (id % 64);
    v->ints[id] = val;
    return 0;
}
