/*
 * rule_flowvar.c — per-flow variables in rules (flowbits, flowint), noalert,
 * and the evaluation order they need.
 *
 * Variable names are mapped to dense ids per ruleset while rules load, so
 * the sensor keeps a flow's flowbits as a bit array and its flowints as an
 * array indexed by id: a test per packet is a bit test, never a string
 * compare.  Checks (isset, isnotset, flowint comparisons) are part of the
 * match; changes (set, unset, toggle, flowint =, +, -) run only once the
 * whole rule matched, as Suricata's post-match list.
 *
 * Order: a rule setting a flowbit must be evaluated before a rule testing it
 * for the same packet.  rule_order() sorts rs->rules the way Suricata's
 * signature ordering does: action (pass, drop, reject, alert), then
 * flowbits (rules that only set, then set and read, then only read, then
 * none), the same for flowints, then priority, then sid.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "rule_int.h"

#define FLOWBITS_NAMES_MAX 100 /* names in one "a|b|..." list, as Suricata */

/* ---- name tables ------------------------------------------------------- */

struct rule_names {
    char **v;
    size_t n, cap;
    uint32_t *slots; /* open addressing: id + 1, 0 = free */
    size_t nslots;   /* power of two */
};

void rule_names_free(struct rule_names *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    free(t->v);
    free(t->slots);
    free(t);
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static int names_grow(struct rule_names *t)
{
    size_t ns = t->nslots ? t->nslots * 2 : 64;
    uint32_t *slots = kanshi_calloc(ns, sizeof(*slots));

    if (slots == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < t->n; i++) {
        size_t k = name_hash(t->v[i]) & (ns - 1);
        while (slots[k] != 0)
            k = (k + 1) & (ns - 1);
        slots[k] = (uint32_t)i + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = ns;
    return 0;
}

/* The id of name in *pt (created on first use), added when new. */
static int names_id(struct rule_names **pt, const char *name, uint32_t *id)
{
    struct rule_names *t = *pt;
    size_t k;

    if (t == NULL) {
        if ((t = calloc(1, sizeof(*t))) == NULL)
            return -ENOMEM;
        *pt = t;
    }
    if ((t->n + 1) * 2 > t->nslots && names_grow(t) < 0)
        return -ENOMEM;
    for (k = name_hash(name) & (t->nslots - 1); t->slots[k] != 0; k = (k + 1) & (t->nslots - 1)) {
        if (strcmp(t->v[t->slots[k] - 1], name) == 0) {
            *id = t->slots[k] - 1;
            return 0;
        }
    }
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        char **nv = kanshi_reallocarray(t->v, nc, sizeof(*nv));
        if (nv == NULL)
            return -ENOMEM;
        t->v = nv;
        t->cap = nc;
    }
    if ((t->v[t->n] = strdup(name)) == NULL)
        return -ENOMEM;
    t->slots[k] = (uint32_t)t->n + 1;
    *id = (uint32_t)t->n++;
    return 0;
}

/* The id of name in t without adding it; FLOWVARS_NO_ID when absent. */
static uint32_t names_find(const struct rule_names *t, const char *name)
{
    if (t == NULL || t->nslots == 0)
        return FLOWVARS_NO_ID;
    for (size_t k = name_hash(name) & (t->nslots - 1); t->slots[k] != 0;
         k = (k + 1) & (t->nslots - 1))
        if (strcmp(t->v[t->slots[k] - 1], name) == 0)
            return t->slots[k] - 1;
    return FLOWVARS_NO_ID;
}

static const char *names_get(const struct rule_names *t, uint32_t id)
{
    return t != NULL && id < t->n ? t->v[id] : NULL;
}

const char *ruleset_flowbit_name(const struct ruleset *rs, uint32_t id)
{
    const struct rs_priv *pv = rs->priv;
    return names_get(pv->flowbit_names, id);
}

const char *ruleset_flowint_name(const struct ruleset *rs, uint32_t id)
{
    const struct rs_priv *pv = rs->priv;
    return names_get(pv->flowint_names, id);
}

/* ---- variables across reloads -------------------------------------------- */

void ruleset_flowvars_remap_free(struct ruleset *rs)
{
    for (size_t i = 0; i < rs->nflowvars_remap; i++) {
        free(rs->flowvars_remap[i].bits);
        free(rs->flowvars_remap[i].ints);
    }
    memset(rs->flowvars_remap, 0, sizeof(rs->flowvars_remap));
    rs->nflowvars_remap = 0;
}

/* For each of rs's n ids of one kind: its id in older (by name through
 * names), then composed through older's map m (NULL: none) into the
 * generation before.  NULL on allocation failure. */
static uint32_t *remap_ids(const struct rule_names *mine, const struct rule_names *theirs,
                           uint32_t n, const uint32_t *m, uint32_t older_n)
{
    uint32_t *out = kanshi_calloc((size_t)n + 1, sizeof(*out));

    if (out == NULL)
        return NULL;
    for (uint32_t id = 0; id < n; id++) {
        const char *name = names_get(mine, id);
        uint32_t o = name != NULL ? names_find(theirs, name) : FLOWVARS_NO_ID;
        if (m != NULL)
            o = o < older_n ? m[o] : FLOWVARS_NO_ID;
        out[id] = o;
    }
    return out;
}

int ruleset_inherit_flowvars(struct ruleset *rs, const struct ruleset *older)
{
    const struct rs_priv *pv = rs->priv, *opv = older->priv;
    size_t n = 0;

    ruleset_flowvars_remap_free(rs);
    if (older == rs || older->generation == rs->generation)
        return 0;
    for (size_t k = 0; k <= older->nflowvars_remap && n < FLOWVARS_REMAP_MAX; k++) {
        const struct flowvars_remap *om = k > 0 ? &older->flowvars_remap[k - 1] : NULL;
        struct flowvars_remap *r = &rs->flowvars_remap[n];
        r->generation = om != NULL ? om->generation : older->generation;
        r->bits = remap_ids(pv->flowbit_names, opv->flowbit_names, rs->nflowbits,
                            om != NULL ? om->bits : NULL, older->nflowbits);
        r->ints = remap_ids(pv->flowint_names, opv->flowint_names, rs->nflowints,
                            om != NULL ? om->ints : NULL, older->nflowints);
        n++;
        rs->nflowvars_remap = n;
        if (r->bits == NULL || r->ints == NULL) {
            ruleset_flowvars_remap_free(rs);
            return -ENOMEM;
        }
    }
    return 0;
}

/* ---- flowbits ---------------------------------------------------------- */

static const struct {
    const char *name;
    enum rule_flowbit_cmd cmd;
} flowbit_cmds[] = {
    {"set", FLOWBIT_SET},     {"unset", FLOWBIT_UNSET},       {"toggle", FLOWBIT_TOGGLE},
    {"isset", FLOWBIT_ISSET}, {"isnotset", FLOWBIT_ISNOTSET},
};

static bool flowbit_is_check(enum rule_flowbit_cmd c)
{
    return c == FLOWBIT_ISSET || c == FLOWBIT_ISNOTSET;
}

/* Whether the rule already tests id with cmd (single-name tests only). */
static bool flowbit_has(const struct rule *r, enum rule_flowbit_cmd cmd, uint32_t id)
{
    for (size_t i = 0; i < r->nflowbits; i++)
        if (r->flowbits[i].cmd == cmd && r->flowbits[i].nids == 1 && r->flowbits[i].ids[0] == id)
            return true;
    return false;
}

int rule_kw_flowbits(struct rparse *p, char *v)
{
    struct rs_priv *pv = p->rs->priv;
    struct rule *r = p->r;
    struct rule_flowbit fb = {0};
    char *names, *comma = strchr(v, ','), *tok, *save = NULL;
    char sep;
    size_t i;
    int rc;

    if (comma != NULL)
        *comma = '\0';
    v = rule_trim(v);
    names = comma != NULL ? rule_trim(comma + 1) : NULL;
    if (strcmp(v, "noalert") == 0) {
        if (names != NULL)
            return rp_err(p, "noalert takes no name");
        r->flags |= RULE_NOALERT;
        return 0;
    }
    for (i = 0; i < KANSHI_ARRAY_LEN(flowbit_cmds); i++)
        if (strcmp(v, flowbit_cmds[i].name) == 0)
            break;
    if (i == KANSHI_ARRAY_LEN(flowbit_cmds))
        return rp_err(p,
                      "invalid command '%s' (expected set, unset, toggle, isset, isnotset or "
                      "noalert)",
                      v);
    fb.cmd = flowbit_cmds[i].cmd;
    if (names == NULL || *names == '\0')
        return rp_err(p, "%s needs a flowbit name", v);
    if (strchr(names, '|') != NULL && strchr(names, '&') != NULL)
        return rp_err(p, "'|' and '&' can't be mixed");
    sep = strchr(names, '|') != NULL ? '|' : '&';
    if (sep == '|' && !flowbit_is_check(fb.cmd))
        return rp_err(p, "'|' can only be used with isset and isnotset");
    fb.any = sep == '|';
    fb.ids = kanshi_calloc(FLOWBITS_NAMES_MAX, sizeof(*fb.ids));
    if (fb.ids == NULL)
        return -ENOMEM;
    char seps[2] = {sep, '\0'};
    for (tok = strtok_r(names, seps, &save); tok != NULL; tok = strtok_r(NULL, seps, &save)) {
        tok = rule_trim(tok);
        if (*tok == '\0')
            continue;
        if (strpbrk(tok, " \t") != NULL) {
            free(fb.ids);
            return rp_err(p, "spaces are not allowed in flowbit names");
        }
        if (fb.nids == FLOWBITS_NAMES_MAX) {
            free(fb.ids);
            return rp_err(p, "more than %d flowbit names", FLOWBITS_NAMES_MAX);
        }
        if ((rc = names_id(&pv->flowbit_names, tok, &fb.ids[fb.nids])) < 0) {
            free(fb.ids);
            return rc;
        }
        fb.nids++;
    }
    if (fb.nids == 0) {
        free(fb.ids);
        return rp_err(p, "no flowbit name");
    }
    if (fb.nids == 1 &&
        ((fb.cmd == FLOWBIT_ISSET && flowbit_has(r, FLOWBIT_ISNOTSET, fb.ids[0])) ||
         (fb.cmd == FLOWBIT_ISNOTSET && flowbit_has(r, FLOWBIT_ISSET, fb.ids[0])))) {
        free(fb.ids);
        return rp_err(p, "isset and isnotset of the same flowbit can never both hold");
    }
    uint32_t *ids = kanshi_reallocarray(fb.ids, fb.nids, sizeof(*ids));
    if (ids != NULL)
        fb.ids = ids; /* give back the unused room */
    struct rule_flowbit *nfb = kanshi_reallocarray(r->flowbits, r->nflowbits + 1, sizeof(*nfb));
    if (nfb == NULL) {
        free(fb.ids);
        return -ENOMEM;
    }
    r->flowbits = nfb;
    r->flowbits[r->nflowbits++] = fb;
    p->rs->nflowbits = (uint32_t)pv->flowbit_names->n;
    return 0;
}

/* ---- flowint ----------------------------------------------------------- */

static const struct {
    const char *tok;
    enum rule_flowint_op op;
} flowint_ops[] = {
    {"==", FLOWINT_EQ},       {"!=", FLOWINT_NE},         {"<=", FLOWINT_LE},
    {">=", FLOWINT_GE},       {"<", FLOWINT_LT},          {">", FLOWINT_GT},
    {"=", FLOWINT_SET},       {"+", FLOWINT_ADD},         {"-", FLOWINT_SUB},
    {"isset", FLOWINT_ISSET}, {"notset", FLOWINT_NOTSET}, {"isnotset", FLOWINT_NOTSET},
};

static bool flowint_name_ok(const char *s)
{
    if (!isalpha((unsigned char)*s))
        return false;
    for (; *s != '\0'; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '/' && *s != '-')
            return false;
    return true;
}

int rule_kw_flowint(struct rparse *p, char *v)
{
    struct rs_priv *pv = p->rs->priv;
    struct rule *r = p->r;
    struct rule_flowint fi = {0};
    char *args[4];
    int n, rc;
    size_t i;

    if ((n = rule_split(v, args, 4)) < 0 || n < 2)
        return rp_err(p, "expected name, operator[, value]");
    if (!flowint_name_ok(args[0]))
        return rp_err(p, "invalid variable name '%s'", args[0]);
    for (i = 0; i < KANSHI_ARRAY_LEN(flowint_ops); i++)
        if (strcmp(args[1], flowint_ops[i].tok) == 0)
            break;
    if (i == KANSHI_ARRAY_LEN(flowint_ops))
        return rp_err(p, "invalid operator '%s'", args[1]);
    fi.op = flowint_ops[i].op;
    if (fi.op == FLOWINT_ISSET || fi.op == FLOWINT_NOTSET) {
        if (n > 2)
            return rp_err(p, "%s takes no value", args[1]);
    } else {
        int64_t val;
        if (n != 3 || *args[2] == '\0')
            return rp_err(p, "%s needs a value", args[1]);
        if (isdigit((unsigned char)*args[2])) {
            if (rule_parse_int(args[2], 0, UINT32_MAX, &val) < 0)
                return rp_err(p, "invalid value '%s' (expected 0..%" PRIu32 " or a variable)",
                              args[2], UINT32_MAX);
            fi.value = (uint32_t)val;
        } else {
            if (!flowint_name_ok(args[2]))
                return rp_err(p, "invalid variable name '%s'", args[2]);
            if ((rc = names_id(&pv->flowint_names, args[2], &fi.value)) < 0)
                return rc;
            fi.value_is_var = true;
        }
    }
    if ((rc = names_id(&pv->flowint_names, args[0], &fi.id)) < 0)
        return rc;
    struct rule_flowint *nfi = kanshi_reallocarray(r->flowints, r->nflowints + 1, sizeof(*nfi));
    if (nfi == NULL)
        return -ENOMEM;
    r->flowints = nfi;
    r->flowints[r->nflowints++] = fi;
    p->rs->nflowints = (uint32_t)pv->flowint_names->n;
    return 0;
}

int rule_kw_noalert(struct rparse *p, char *v)
{
    (void)v;
    p->r->flags |= RULE_NOALERT;
    return 0;
}

/* ---- ordering ---------------------------------------------------------- */

enum { VAR_NOT_USED = 1, VAR_READ = 2, VAR_SET_READ = 3, VAR_SET = 4 };

static int var_type(unsigned reads, unsigned writes)
{
    if (reads > 0 && writes > 0)
        return VAR_SET_READ;
    if (writes > 0)
        return VAR_SET;
    if (reads > 0)
        return VAR_READ;
    return VAR_NOT_USED;
}

static int flowbits_type(const struct rule *r)
{
    unsigned rd = 0, wr = 0;

    for (size_t i = 0; i < r->nflowbits; i++) {
        if (flowbit_is_check(r->flowbits[i].cmd))
            rd++;
        else
            wr++;
    }
    return var_type(rd, wr);
}

static int flowint_type(const struct rule *r)
{
    unsigned rd = 0, wr = 0;

    for (size_t i = 0; i < r->nflowints; i++) {
        enum rule_flowint_op op = r->flowints[i].op;
        if (op == FLOWINT_SET || op == FLOWINT_ADD || op == FLOWINT_SUB)
            wr++;
        else
            rd++;
    }
    return var_type(rd, wr);
}

static int action_rank(enum rule_action a)
{
    switch (a) {
    case RULE_ACTION_PASS:
        return 0;
    case RULE_ACTION_DROP:
        return 1;
    case RULE_ACTION_REJECT:
        return 2;
    case RULE_ACTION_ALERT:
    default:
        return 3;
    }
}

struct order_key {
    struct rule *r;
    int action, fb, fi, prio;
    size_t pos;
};

static int order_cmp(const void *a, const void *b)
{
    const struct order_key *x = a, *y = b;

    if (x->action != y->action)
        return x->action - y->action;
    if (x->fb != y->fb)
        return y->fb - x->fb; /* setters first */
    if (x->fi != y->fi)
        return y->fi - x->fi;
    if (x->prio != y->prio)
        return x->prio - y->prio;
    if (x->r->sid != y->r->sid)
        return x->r->sid < y->r->sid ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

int rule_order(struct ruleset *rs)
{
    struct order_key *k;

    if (rs->nrules < 2)
        return 0;
    if ((k = kanshi_calloc(rs->nrules, sizeof(*k))) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < rs->nrules; i++) {
        struct rule *r = rs->rules[i];
        k[i] = (struct order_key){
            r, action_rank(r->action), flowbits_type(r), flowint_type(r), r->priority, i};
    }
    qsort(k, rs->nrules, sizeof(*k), order_cmp);
    for (size_t i = 0; i < rs->nrules; i++)
        rs->rules[i] = k[i].r;
    free(k);
    return 0;
}
