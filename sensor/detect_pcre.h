/*
 * detect_pcre.h — pcre keywords answered by Hyperscan where it gives
 * exactly PCRE2's answer.
 *
 * A pcre goes through Hyperscan first when its pattern means the same to
 * both libraries: the i, s, m, x and G flags
 * only (A, E with a '$', UTF and unknown options stay on PCRE2), printable
 * ASCII only, none of the constructs whose meaning differs or depends on
 * the PCRE2 version (\p, \P, \X, \R, \N, \K, \G, back references, "{,n}",
 * (*VERBS)), no back references and no empty match.  Hyperscan then
 * compiles it alone (HS_FLAG_SINGLEMATCH, exact mode, no
 * HS_FLAG_ALLOWEMPTY) or refuses it; refused ones stay on PCRE2.
 *
 * Compiling is the cost: about a millisecond per pattern (up to 0.3 s for a
 * large bounded repeat), seconds for a ruleset like ET Open, and a
 * multi-pattern database costs more, not less.  So the engine compiles
 * lazily, off the packet path: the first time a worker evaluates a
 * candidate pcre it asks for its database and answers with PCRE2; a
 * compiler thread owned by the detect_pcre compiles what was asked and
 * publishes each database with a release store; workers use it from their
 * next evaluation on.  Both answers are the same, so when the switch
 * happens does not change any result.  Only pcres that traffic reaches are
 * ever compiled, within DETECT_PCRE_MAX_BYTES of databases.
 *
 * Hyperscan's "no match" is final (an exact regex that matches nowhere
 * cannot match under PCRE2 either); its "match" is confirmed by PCRE2, so
 * that Suricata's match limits (a subject that exhausts them counts as no
 * match) still decide exactly as with PCRE2 alone.  Matches are rare: the
 * common outcome, a candidate rule whose pcre fails, costs one Hyperscan
 * scan, never a backtracking search.
 *
 * Threads: detect_pcre_create/destroy on the thread that owns the engine;
 * detect_pcre_scan from any number of workers at once, each with its own
 * scratch.
 */
#ifndef KANSHI_DETECT_PCRE_H
#define KANSHI_DETECT_PCRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hs.h>

#include "kanshi/rules.h"

struct detect_pcre;

/* Bytes of compiled pcre databases one engine keeps at most; what would go
 * beyond stays on PCRE2. */
#define DETECT_PCRE_MAX_BYTES (64u << 20)

/* Where one pcre goes (detect_pcre_route()). */
enum detect_pcre_route {
    DPCRE_HS,       /* Hyperscan can answer it (when it compiles) */
    DPCRE_FLAGS,    /* PCRE2: a flag Hyperscan can't mirror (A, E with '$', UTF, ...) */
    DPCRE_SYNTAX,   /* PCRE2: a construct that differs, non-printable bytes, back
                       references, or a pattern that can match empty */
};

enum detect_pcre_mode {
    DETECT_PCRE_LAZY,  /* compile on first use, in a thread */
    DETECT_PCRE_EAGER, /* compile every candidate in detect_pcre_create() (tests, tools) */
};

struct detect_pcre_stats {
    size_t pcres;      /* pcre keywords in the ruleset */
    size_t flags;      /* kept on PCRE2 alone, by route */
    size_t syntax;
    size_t candidates; /* DPCRE_HS: for Hyperscan */
    size_t compiled;   /* of those, databases made so far */
    size_t refused;    /* of those, Hyperscan refused (unsupported, empty match, too
                          large, over DETECT_PCRE_MAX_BYTES): PCRE2 */
    size_t db_bytes;   /* the databases' size */
    uint64_t compile_usec; /* time spent compiling them */
};

/*
 * Decides the route of matches[k] of r (which must be a pcre) and, for
 * DPCRE_HS, writes the expression Hyperscan compiles to expr (NUL-ended;
 * DPCRE_SYNTAX when it does not fit in exprlen) and its flags to *flags.
 * Pure: for the engine and for tests.
 */
enum detect_pcre_route detect_pcre_route(const struct rule *r, size_t k, char *expr,
                                         size_t exprlen, unsigned *flags);

/* Classifies every pcre of rules[0..n) (rule->idx must be its index, as
 * ruleset_finalize() sets it) and, in LAZY mode when there are candidates,
 * starts the compiler thread (EAGER compiles them all here).  *out is set
 * even without candidates (its stats count the pcres).  The rules must
 * outlive *out.  0, -ENOMEM or the negated error of pthread_create(). */
int detect_pcre_create(struct detect_pcre **out, struct rule *const *rules, size_t n,
                       enum detect_pcre_mode mode);
/* Stops the compiler thread (waiting for the pattern it compiles) and
 * frees everything.  NULL is a no-op. */
void detect_pcre_destroy(struct detect_pcre *dp);

void detect_pcre_stats(struct detect_pcre *dp, struct detect_pcre_stats *st);

/*
 * matches[k] of r over subj[0..len) (exactly the subject PCRE2 gets) with
 * Hyperscan: 1 it matches, 0 it does not, -1 PCRE2 must answer (not a
 * candidate, not compiled yet, refused, r not of this engine, or no
 * scratch).  A candidate not yet compiled is asked for (LAZY).  *scratch is
 * the calling worker's: created or grown here when a database needs more
 * (hs_alloc_scratch, at most once per database; freed by the caller with
 * hs_free_scratch).  Never blocks.
 */
int detect_pcre_scan(struct detect_pcre *dp, const struct rule *r, size_t k, const uint8_t *subj,
                     size_t len, hs_scratch_t **scratch);

#endif
