/*
 * rule_threshold.c — alert control: the threshold and detection_filter
 * keywords and the threshold.config file (threshold, event_filter,
 * rate_filter, suppress).
 *
 * Parsing only: the counting happens per worker in the sensor
 * (sensor/detect_threshold.c), keyed by rule and tracked address, in packet
 * time.  threshold.config entries are kept in the ruleset and applied to the
 * rules by ruleset_finalize(), so the file may be read before or after the
 * rules: an entry for one sid replaces that rule's own threshold; an entry
 * for sig_id 0 (all rules, or all of one gen_id) applies to rules that have
 * none; suppress entries add to a rule's suppress list.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "rule_int.h"

enum th_kind { THK_THRESHOLD, THK_RATE, THK_SUPPRESS };

struct th_item {
    enum th_kind kind;
    uint32_t gid, sid; /* sid 0: every rule (of gid, unless gid is 0) */
    struct rule_threshold th;
    struct rule_suppress sup;
};

struct rule_th_config {
    struct th_item *v;
    size_t n, cap;
};

void rule_th_config_free(struct rule_th_config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        addr_set_fini(&c->v[i].sup.addrs);
    free(c->v);
    free(c);
}

/* ---- shared option parsing --------------------------------------------- */

static const struct {
    const char *name;
    enum rule_th_track track;
} tracks[] = {
    {"by_src", TRACK_SRC},   {"by_dst", TRACK_DST},       {"by_rule", TRACK_RULE},
    {"by_both", TRACK_BOTH}, {"by_either", TRACK_EITHER}, {"by_flow", TRACK_FLOW},
};

static const struct {
    const char *name;
    enum rule_th_type type;
} th_types[] = {
    {"limit", TH_LIMIT},
    {"threshold", TH_THRESHOLD},
    {"both", TH_BOTH},
};

static const struct {
    const char *name;
    enum rule_th_action action;
} th_actions[] = {
    {"alert", TH_ACTION_ALERT},
    {"drop", TH_ACTION_DROP},
    {"pass", TH_ACTION_PASS},
    {"reject", TH_ACTION_REJECT},
};

/* What one set of "key value" options may hold. */
enum {
    TO_TYPE = 1u << 0,
    TO_TRACK = 1u << 1,
    TO_COUNT = 1u << 2,
    TO_SECONDS = 1u << 3,
    TO_UNIQUE = 1u << 4,
    TO_ACTION = 1u << 5,
    TO_TIMEOUT = 1u << 6,
    TO_IP = 1u << 7,
    TO_GID = 1u << 8,
    TO_SID = 1u << 9,
};

struct th_opts {
    unsigned seen;
    struct rule_threshold th;
    uint32_t gid, sid;
    const char *ip;
};

/* Parses "key value" pairs separated by commas; errors go to err. */
static int th_parse_opts(char *v, unsigned allowed, struct th_opts *o, char *err, size_t errlen)
{
    char *args[16];
    int n = rule_split(v, args, 16);

    if (n < 0) {
        snprintf(err, errlen, "too many options");
        return KANSHI_EPARSE;
    }
    for (int i = 0; i < n; i++) {
        char *key = args[i], *val;
        size_t kl = strcspn(key, " \t");
        unsigned bit = 0;
        int64_t num;

        if (*key == '\0') {
            snprintf(err, errlen, "empty option");
            return KANSHI_EPARSE;
        }
        val = key[kl] != '\0' ? rule_trim(key + kl + 1) : key + kl;
        key[kl] = '\0';
        if (*val == '\0') {
            snprintf(err, errlen, "option '%s' has no value", key);
            return KANSHI_EPARSE;
        }
        if (strcmp(key, "type") == 0) {
            bit = TO_TYPE;
            size_t k;
            for (k = 0; k < KANSHI_ARRAY_LEN(th_types); k++)
                if (strcmp(val, th_types[k].name) == 0)
                    break;
            if (k == KANSHI_ARRAY_LEN(th_types)) {
                snprintf(err, errlen, "invalid type '%s' (expected limit, threshold or both)", val);
                return strcmp(val, "backoff") == 0 ? KANSHI_EUNSUPPORTED : KANSHI_EPARSE;
            }
            o->th.type = th_types[k].type;
        } else if (strcmp(key, "track") == 0) {
            bit = TO_TRACK;
            size_t k;
            for (k = 0; k < KANSHI_ARRAY_LEN(tracks); k++)
                if (strcmp(val, tracks[k].name) == 0)
                    break;
            if (k == KANSHI_ARRAY_LEN(tracks)) {
                snprintf(err, errlen, "invalid track '%s'", val);
                return KANSHI_EPARSE;
            }
            o->th.track = tracks[k].track;
        } else if (strcmp(key, "count") == 0 || strcmp(key, "seconds") == 0 ||
                   strcmp(key, "timeout") == 0 || strcmp(key, "gen_id") == 0 ||
                   strcmp(key, "sig_id") == 0) {
            bool is_count = strcmp(key, "count") == 0;
            if (rule_parse_int(val, 0, UINT32_MAX, &num) < 0) {
                snprintf(err, errlen, "invalid %s '%s'", key, val);
                return KANSHI_EPARSE;
            }
            if (is_count) {
                bit = TO_COUNT;
                o->th.count = (uint32_t)num;
            } else if (strcmp(key, "seconds") == 0) {
                bit = TO_SECONDS;
                o->th.seconds = (uint32_t)num;
            } else if (strcmp(key, "timeout") == 0) {
                bit = TO_TIMEOUT;
                o->th.timeout = (uint32_t)num;
            } else if (strcmp(key, "gen_id") == 0) {
                bit = TO_GID;
                o->gid = (uint32_t)num;
            } else {
                bit = TO_SID;
                o->sid = (uint32_t)num;
            }
        } else if (strcmp(key, "unique_on") == 0) {
            bit = TO_UNIQUE;
            if (strcmp(val, "src_port") == 0) {
                o->th.unique_on = TH_UNIQUE_SRC_PORT;
            } else if (strcmp(val, "dst_port") == 0) {
                o->th.unique_on = TH_UNIQUE_DST_PORT;
            } else {
                snprintf(err, errlen, "invalid unique_on '%s' (expected src_port or dst_port)",
                         val);
                return KANSHI_EPARSE;
            }
        } else if (strcmp(key, "new_action") == 0) {
            bit = TO_ACTION;
            size_t k;
            for (k = 0; k < KANSHI_ARRAY_LEN(th_actions); k++)
                if (strcmp(val, th_actions[k].name) == 0)
                    break;
            if (k == KANSHI_ARRAY_LEN(th_actions)) {
                snprintf(err, errlen, "invalid new_action '%s'", val);
                return KANSHI_EPARSE;
            }
            o->th.new_action = th_actions[k].action;
        } else if (strcmp(key, "ip") == 0) {
            bit = TO_IP;
            o->ip = val;
        } else {
            snprintf(err, errlen, "unknown option '%s'", key);
            return KANSHI_EPARSE;
        }
        if (!(allowed & bit)) {
            snprintf(err, errlen, "option '%s' is not valid here", key);
            return KANSHI_EPARSE;
        }
        if (o->seen & bit) {
            snprintf(err, errlen, "option '%s' given twice", key);
            return KANSHI_EPARSE;
        }
        o->seen |= bit;
    }
    return 0;
}

/* Checks what every threshold-like entry needs. */
static int th_check(struct th_opts *o, unsigned required, bool suppress, char *err, size_t errlen)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {TO_TYPE, "type"},       {TO_TRACK, "track"},       {TO_COUNT, "count"},
        {TO_SECONDS, "seconds"}, {TO_ACTION, "new_action"}, {TO_TIMEOUT, "timeout"},
        {TO_GID, "gen_id"},      {TO_SID, "sig_id"},
    };

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(names); i++) {
        if ((required & names[i].bit) && !(o->seen & names[i].bit)) {
            snprintf(err, errlen, "missing %s", names[i].name);
            return KANSHI_EPARSE;
        }
    }
    if ((o->seen & TO_TRACK) && o->th.track == TRACK_EITHER && !suppress) {
        snprintf(err, errlen, "track by_either is only valid for suppress");
        return KANSHI_EPARSE;
    }
    if ((o->seen & TO_COUNT) && o->th.count == 0 && o->th.type != TH_DETECTION) {
        snprintf(err, errlen, "count must be at least 1");
        return KANSHI_EPARSE;
    }
    if ((o->seen & TO_SECONDS) && o->th.seconds == 0) {
        snprintf(err, errlen, "seconds must be at least 1");
        return KANSHI_EPARSE;
    }
    if (o->th.unique_on != TH_UNIQUE_NONE &&
        (o->th.track == TRACK_RULE || o->th.track == TRACK_FLOW)) {
        snprintf(err, errlen, "unique_on needs track by_src, by_dst or by_both");
        return KANSHI_EPARSE;
    }
    return 0;
}

/* ---- keywords ---------------------------------------------------------- */

static int kw_th_common(struct rparse *p, char *v, bool detection)
{
    struct th_opts o = {0};
    int rc;

    if (p->has_threshold)
        return rp_err(p, "only one threshold or detection_filter per rule");
    if (detection)
        o.th.type = TH_DETECTION;
    rc = th_parse_opts(v,
                       detection ? (TO_TRACK | TO_COUNT | TO_SECONDS | TO_UNIQUE)
                                 : (TO_TYPE | TO_TRACK | TO_COUNT | TO_SECONDS),
                       &o, p->err, sizeof(p->err));
    if (rc == 0)
        rc = th_check(&o, (detection ? 0 : TO_TYPE) | TO_TRACK | TO_COUNT | TO_SECONDS, false,
                      p->err, sizeof(p->err));
    if (rc != 0)
        return rc;
    p->r->threshold = o.th;
    p->has_threshold = true;
    return 0;
}

int rule_kw_threshold(struct rparse *p, char *v)
{
    return kw_th_common(p, v, false);
}

int rule_kw_detection_filter(struct rparse *p, char *v)
{
    return kw_th_common(p, v, true);
}

/* ---- threshold.config -------------------------------------------------- */

static int th_config_add(struct ruleset *rs, const struct th_item *it)
{
    struct rs_priv *pv = rs->priv;
    struct rule_th_config *c = pv->th;

    if (c == NULL) {
        if ((c = calloc(1, sizeof(*c))) == NULL)
            return -ENOMEM;
        pv->th = c;
    }
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        struct th_item *nv = kanshi_reallocarray(c->v, nc, sizeof(*nv));
        if (nv == NULL)
            return -ENOMEM;
        c->v = nv;
        c->cap = nc;
    }
    c->v[c->n++] = *it;
    rs->finalized = false;
    return 0;
}

/* Parses one non-blank, non-comment line.  0, KANSHI_EPARSE (err set) or
 * -ENOMEM. */
static int th_config_line(struct ruleset *rs, char *line, char *err, size_t errlen)
{
    struct th_item it = {0};
    struct th_opts o = {0};
    size_t kl = strcspn(line, " \t");
    char *rest = rule_trim(line + kl);
    int rc;

    line[kl] = '\0';
    if (strcmp(line, "threshold") == 0 || strcmp(line, "event_filter") == 0) {
        it.kind = THK_THRESHOLD;
        rc = th_parse_opts(rest, TO_GID | TO_SID | TO_TYPE | TO_TRACK | TO_COUNT | TO_SECONDS, &o,
                           err, errlen);
        if (rc == 0)
            rc = th_check(&o, TO_GID | TO_SID | TO_TYPE | TO_TRACK | TO_COUNT | TO_SECONDS, false,
                          err, errlen);
    } else if (strcmp(line, "rate_filter") == 0) {
        it.kind = THK_RATE;
        o.th.type = TH_RATE;
        rc = th_parse_opts(
            rest, TO_GID | TO_SID | TO_TRACK | TO_COUNT | TO_SECONDS | TO_ACTION | TO_TIMEOUT, &o,
            err, errlen);
        if (rc == 0)
            rc = th_check(
                &o, TO_GID | TO_SID | TO_TRACK | TO_COUNT | TO_SECONDS | TO_ACTION | TO_TIMEOUT,
                false, err, errlen);
    } else if (strcmp(line, "suppress") == 0) {
        it.kind = THK_SUPPRESS;
        o.th.track = TRACK_RULE; /* no track: suppress everything */
        rc = th_parse_opts(rest, TO_GID | TO_SID | TO_TRACK | TO_IP, &o, err, errlen);
        if (rc == 0)
            rc = th_check(&o, TO_GID | TO_SID, true, err, errlen);
        if (rc == 0 && (o.seen & TO_TRACK) != 0 && (o.seen & TO_IP) == 0) {
            snprintf(err, errlen, "suppress with track needs ip");
            rc = KANSHI_EPARSE;
        }
        if (rc == 0 && (o.seen & TO_IP) != 0 &&
            (!(o.seen & TO_TRACK) || o.th.track == TRACK_RULE || o.th.track == TRACK_BOTH ||
             o.th.track == TRACK_FLOW)) {
            snprintf(err, errlen, "suppress with ip needs track by_src, by_dst or by_either");
            rc = KANSHI_EPARSE;
        }
        if (rc == 0 && (o.seen & TO_IP) != 0) {
            char aerr[256];
            rc = addr_set_parse(&it.sup.addrs, o.ip, rs->vars, aerr, sizeof(aerr));
            if (rc == -ENOMEM)
                return rc;
            if (rc != 0) {
                snprintf(err, errlen, "ip: %s", aerr);
                rc = KANSHI_EPARSE;
            }
        }
        it.sup.track = o.th.track;
    } else {
        snprintf(err, errlen,
                 "unknown entry '%s' (expected threshold, event_filter, "
                 "rate_filter or suppress)",
                 line);
        return KANSHI_EPARSE;
    }
    if (rc != 0)
        return rc;
    it.gid = o.gid;
    it.sid = o.sid;
    it.th = o.th;
    if ((rc = th_config_add(rs, &it)) != 0)
        addr_set_fini(&it.sup.addrs);
    return rc;
}

int ruleset_load_threshold_text(struct ruleset *rs, const char *text, const char *file)
{
    char *buf = strdup(text), *save = NULL;
    unsigned lineno = 0;
    int loaded = 0, rc = 0;
    if (buf == NULL)
        return -ENOMEM;
    /* strtok_r would skip empty lines and lose the line numbers */
    for (char *line = buf; line != NULL && rc != -ENOMEM; line = save) {
        char err[320];
        char *nl = strchr(line, '\n');
        save = nl != NULL ? nl + 1 : NULL;
        if (nl != NULL)
            *nl = '\0';
        lineno++;
        char *t = rule_trim(line);
        if (*t == '\0' || *t == '#')
            continue;
        rc = th_config_line(rs, t, err, sizeof(err));
        if (rc == 0)
            loaded++;
        else if (rc != -ENOMEM)
            rule_report(rs, file, lineno, "threshold.config", err);
    }
    free(buf);
    if (rc == -ENOMEM)
        return rc;
    if ((rc = ruleset_finalize(rs)) < 0)
        return rc;
    return loaded;
}

int ruleset_load_threshold(struct ruleset *rs, const char *path)
{
    FILE *f = fopen(path, "r");
    char *text = NULL;
    size_t cap = 0, len = 0, n;
    char chunk[4096];
    int rc;

    if (f == NULL)
        return -errno;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + n + 1 > cap) {
            size_t nc = cap ? cap * 2 : 8192;
            while (nc < len + n + 1)
                nc *= 2;
            char *nt = realloc(text, nc);
            if (nt == NULL) {
                free(text);
                fclose(f);
                return -ENOMEM;
            }
            text = nt;
            cap = nc;
        }
        memcpy(text + len, chunk, n);
        len += n;
    }
    if (ferror(f)) {
        free(text);
        fclose(f);
        return -EIO;
    }
    fclose(f);
    if (text == NULL)
        return 0;
    text[len] = '\0';
    rc = ruleset_load_threshold_text(rs, text, path);
    free(text);
    return rc;
}

/* ---- applying ---------------------------------------------------------- */

static bool th_item_applies(const struct th_item *it, const struct rule *r)
{
    if (it->sid != 0)
        return it->sid == r->sid && it->gid == r->gid;
    return it->gid == 0 || it->gid == r->gid;
}

int rule_threshold_apply(struct ruleset *rs)
{
    const struct rs_priv *pv = rs->priv;
    const struct rule_th_config *c = pv->th;

    if (c == NULL)
        return 0;
    for (size_t i = 0; i < rs->nrules; i++) {
        struct rule *r = rs->rules[i];
        size_t nsup = 0;

        free(r->suppress);
        r->suppress = NULL;
        r->nsuppress = 0;
        for (size_t k = 0; k < c->n; k++) {
            const struct th_item *it = &c->v[k];
            if (!th_item_applies(it, r))
                continue;
            if (it->kind == THK_SUPPRESS) {
                nsup++;
            } else if (it->sid != 0 || r->threshold.type == TH_NONE) {
                /* a rule's own threshold wins over a wildcard entry; an
                 * entry naming the rule replaces it */
                r->threshold = it->th;
            }
        }
        if (nsup == 0)
            continue;
        r->suppress = kanshi_calloc(nsup, sizeof(*r->suppress));
        if (r->suppress == NULL)
            return -ENOMEM;
        for (size_t k = 0; k < c->n; k++)
            if (c->v[k].kind == THK_SUPPRESS && th_item_applies(&c->v[k], r))
                r->suppress[r->nsuppress++] = &c->v[k].sup;
    }
    return 0;
}
