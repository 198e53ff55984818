/*
 * rule_int.h — what the rule parser's own files share (signatures/rule_*.c)
 * and nothing outside them uses: the per-rule parse state and its error
 * helpers, the small value parsers, the keyword parse functions that live in
 * rule_payload.c (pcre, isdataat, byte_*), rule_flowvar.c (flowbits,
 * flowint, noalert, name tables, ordering) and rule_threshold.c (threshold,
 * detection_filter, threshold.config), and the classification table's set-up
 * and tear-down.
 */
#ifndef KANSHI_RULE_INT_H
#define KANSHI_RULE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kanshi/rules.h"

#define RULE_MAX_KEYWORD 64
#define CONTENT_VALUE_MAX 65535 /* bound of offset, depth, distance, within */

/* The state of one rule being parsed. */
struct rparse {
    struct ruleset *rs;
    struct rule *r;
    size_t mcap;      /* capacity of r->matches */
    int last_content; /* index in r->matches of the latest content, or -1 */
    int last_pm;      /* latest content or pcre (what relative keywords chain to), or -1 */
    enum rule_buffer cur_buf; /* the sticky buffer payload keywords go to */
    bool has_sid, has_priority, has_fast_pattern, has_threshold;
    unsigned ip_proto_ops;            /* 1 << NUM_* of each ip_proto keyword seen */
    char *bytevar[RULE_BYTEVARS_MAX]; /* names of byte_extract/byte_math variables */
    const char *kw;                   /* keyword (or "header") the error is about */
    char kwbuf[RULE_MAX_KEYWORD + 1];
    char err[320]; /* the reason */
};

int rp_fail(struct rparse *p, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define rp_err(p, ...) rp_fail((p), KANSHI_EPARSE, __VA_ARGS__)

bool rule_is_blank(char c);
/* Trims blanks in place; returns the first non-blank. */
char *rule_trim(char *s);
/* Decimal in [min, max]; 0 or -1. */
int rule_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* Decimal or 0x hex in [min, max]; 0 or -1. */
int rule_parse_num(const char *s, int64_t min, int64_t max, int64_t *out);
/* Strips the double quotes around a value; NULL when it is not quoted. */
char *rule_unquote(char *v);
/* Parses a rule_num expression bounded by max (see rules.h); sets the error. */
int rule_num_parse(struct rparse *p, const char *v, uint64_t max, struct rule_num *n);
/* Appends a zeroed payload test to the rule; NULL when out of memory. */
struct rule_match *rule_match_append(struct rparse *p);
/* Splits v at commas outside quotes and brackets into at most max trimmed
 * fields; returns
 * the count, or -1 when there are more than max. */
int rule_split(char *v, char **out, int max);
/* Reports a rule (or config line) that did not load and counts it. */
void rule_report(struct ruleset *rs, const char *file, unsigned line, const char *kw,
                 const char *reason);
/* Index of a byte variable by name, or -1. */
int rule_bytevar_find(const struct rparse *p, const char *name);

/* content (rule_parse.c), for uricontent */
int rule_kw_content(struct rparse *p, char *v);

/* rule_app.c: sticky buffers, legacy modifiers, transforms and the app-layer
 * keywords.  rule_app_keyword returns 1 when name is not one of them, else
 * what its parser returned.  rule_app_pcre_buffer maps a pcre buffer
 * modifier (U, H, P, ...) to its buffer: 0, 1 when mod is not one, or an
 * error. */
int rule_app_keyword(struct rparse *p, const char *name, char *v);
int rule_app_pcre_buffer(struct rparse *p, char mod, enum rule_buffer *out);

/* rule_payload.c */
int rule_kw_pcre(struct rparse *p, char *v);
int rule_kw_isdataat(struct rparse *p, char *v);
int rule_kw_byte_test(struct rparse *p, char *v);
int rule_kw_byte_jump(struct rparse *p, char *v);
int rule_kw_byte_extract(struct rparse *p, char *v);
int rule_kw_byte_math(struct rparse *p, char *v);
int rule_kw_pkt_data(struct rparse *p, char *v);
/* Whole-rule payload checks once every option is read: the *_NEXT links. */
int rule_payload_finish(struct rparse *p);
void rule_match_fini(struct rule_match *m);

/* rule_flowvar.c */
int rule_kw_flowbits(struct rparse *p, char *v);
int rule_kw_flowint(struct rparse *p, char *v);
int rule_kw_noalert(struct rparse *p, char *v);
/* Frees the flowbit/flowint name tables kept in the ruleset's private state. */
struct rule_names;
void rule_names_free(struct rule_names *n);
/* Frees rs's ruleset_inherit_flowvars() maps. */
void ruleset_flowvars_remap_free(struct ruleset *rs);
/* Reorders rs->rules as Suricata does (see ruleset_finalize()). */
int rule_order(struct ruleset *rs);

/* rule_threshold.c */
int rule_kw_threshold(struct rparse *p, char *v);
int rule_kw_detection_filter(struct rparse *p, char *v);
/* Applies the loaded threshold.config entries to the rules. */
int rule_threshold_apply(struct ruleset *rs);
struct rule_th_config;
void rule_th_config_free(struct rule_th_config *c);

/* The ruleset's private state (rs->priv). */
struct sid_slot;
struct rs_priv {
    struct sid_slot *slots; /* the (gid, sid) index */
    size_t cap, n;          /* cap is a power of two */
    struct rule_names *flowbit_names, *flowint_names;
    struct rule_th_config *th; /* threshold.config entries */
};
/* The rule with (gid, sid), or NULL. */
struct rule *ruleset_find_sid(const struct ruleset *rs, uint32_t gid, uint32_t sid);
/* Rebuilds the (gid, sid) index after rs->rules was reordered. */
void ruleset_reindex(struct ruleset *rs);

/* Fills rs->classes with the built-in standard classtypes.  0 or -ENOMEM. */
int rule_class_init_defaults(struct ruleset *rs);
/* Frees rs->classes. */
void rule_class_free_all(struct ruleset *rs);

#endif
