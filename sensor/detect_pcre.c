/*
 * detect_pcre.c — pcre keywords through Hyperscan where it is exact.
 *
 * At engine build every pcre of the ruleset gets an entry: its route
 * (detect_pcre_route()) and, for a candidate, the expression and flags to
 * compile.  Entries are in rule order, so a rule's pcres are
 * ent[off[idx] .. off[idx + 1]).  A candidate's database pointer starts
 * NULL; it is written once, by the compiler (a thread in LAZY mode, the
 * creating thread in EAGER mode), with a release store, and read by workers
 * with an acquire load.  Entry states move IDLE -> WANTED (a worker, CAS)
 * -> READY or REFUSED (the compiler); nothing else changes after create.
 *
 * The compiler thread sleeps on a condition variable, polling a "wanted"
 * flag every few milliseconds: a worker only sets atomics, it never takes
 * the lock or makes a system call.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kanshi/kanshi.h"
#include "detect_pcre.h"

/* How often the compiler looks for new requests. */
#define DPCRE_POLL_MSEC 5

enum { ST_NONE, ST_IDLE, ST_WANTED, ST_READY, ST_REFUSED };

struct dp_entry {
    uint32_t k;    /* index in the rule's matches */
    uint8_t route; /* enum detect_pcre_route */
    _Atomic uint8_t state;
    unsigned flags;
    char *expr;                  /* candidates only */
    hs_database_t *_Atomic db;   /* READY only */
};

struct detect_pcre {
    struct rule *const *rules;
    size_t nrules;
    uint32_t *off; /* nrules + 1 */
    struct dp_entry *ent;
    size_t nent;
    enum detect_pcre_mode mode;

    pthread_mutex_t mu; /* guards st's compiler counters, and the sleep */
    pthread_cond_t cv;
    pthread_t thread;
    bool running;
    atomic_bool wanted; /* some entry went WANTED since the compiler last looked */
    atomic_bool stop;
    struct detect_pcre_stats st;
};

/* ---- routing ----------------------------------------------------------- */

/* Escapes after '\' that Hyperscan lacks or reads differently, or whose
 * meaning changed between PCRE2 versions: Unicode properties, \X \R \N \K
 * \G, back references (numbered, \g, \k). */
static const char dp_bad_escapes[] = "pPXRNKGgk123456789";

/* The pattern's bytes: printable ASCII (no raw NEL, VT, tab or non-ASCII,
 * which x mode and classes treat differently), no (*VERB), no "{,"
 * (a literal before PCRE2 10.43, a repeat since), no escape above. */
static bool dp_syntax_ok(const char *re, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)re[i];
        if (c < 0x20 || c > 0x7e)
            return false;
        if (c == '(' && i + 1 < n && re[i + 1] == '*')
            return false;
        if (c == '{' && i + 1 < n && re[i + 1] == ',')
            return false;
        if (c == '\\') {
            if (i + 1 >= n || strchr(dp_bad_escapes, re[i + 1]) != NULL)
                return false;
            if ((unsigned char)re[i + 1] < 0x20 || (unsigned char)re[i + 1] > 0x7e)
                return false;
            i++;
        }
    }
    return true;
}

enum detect_pcre_route detect_pcre_route(const struct rule *r, size_t k, char *expr,
                                         size_t exprlen, unsigned *flags)
{
    const struct rule_match *m = &r->matches[k];
    const struct rule_pcre *pc = &m->u.pcre;
    const uint32_t ok_opts = PCRE2_CASELESS | PCRE2_DOTALL | PCRE2_MULTILINE | PCRE2_EXTENDED |
                             PCRE2_UNGREEDY | PCRE2_DOLLAR_ENDONLY;
    const char *src = pc->source, *re, *slash;
    uint32_t arg = 0, all = 0, backref = 0, empty = 1, nl = 0;
    size_t n, len;
    unsigned f = HS_FLAG_SINGLEMATCH;

    if (m->kind != RULE_MATCH_PCRE || pc->code == NULL || src == NULL)
        return DPCRE_SYNTAX;
    /* The regex as rule_kw_pcre() gave it to PCRE2: "/re/flags", quoted or
     * not, up to the last slash. */
    n = strlen(src);
    if (n >= 2 && src[0] == '"' && src[n - 1] == '"') {
        src++;
        n -= 2;
    }
    if (n < 2 || src[0] != '/')
        return DPCRE_SYNTAX;
    slash = src + n - 1;
    while (slash > src && *slash != '/')
        slash--;
    if (slash == src)
        return DPCRE_SYNTAX;
    re = src + 1;
    len = (size_t)(slash - re);

    if (pcre2_pattern_info(pc->code, PCRE2_INFO_ARGOPTIONS, &arg) != 0 ||
        pcre2_pattern_info(pc->code, PCRE2_INFO_ALLOPTIONS, &all) != 0 ||
        pcre2_pattern_info(pc->code, PCRE2_INFO_BACKREFMAX, &backref) != 0 ||
        pcre2_pattern_info(pc->code, PCRE2_INFO_MATCHEMPTY, &empty) != 0 ||
        pcre2_config(PCRE2_CONFIG_NEWLINE, &nl) < 0)
        return DPCRE_SYNTAX;
    /* '$' and '.' depend on the newline convention: Hyperscan's is LF */
    if ((arg & ~ok_opts) != 0 || (all & (PCRE2_UTF | PCRE2_UCP)) != 0 || nl != PCRE2_NEWLINE_LF)
        return DPCRE_FLAGS;
    if ((arg & PCRE2_DOLLAR_ENDONLY) && memchr(re, '$', len) != NULL)
        return DPCRE_FLAGS;
    if (backref != 0 || empty != 0 || !dp_syntax_ok(re, len))
        return DPCRE_SYNTAX;
    /* G (ungreedy) changes which match, never whether one exists */
    if (arg & PCRE2_CASELESS)
        f |= HS_FLAG_CASELESS;
    if (arg & PCRE2_DOTALL)
        f |= HS_FLAG_DOTALL;
    if (arg & PCRE2_MULTILINE)
        f |= HS_FLAG_MULTILINE;
    {
        const char *pre = (arg & PCRE2_EXTENDED) ? "(?x)" : "";
        size_t pl = strlen(pre);
        if (pl + len + 1 > exprlen)
            return DPCRE_SYNTAX;
        memcpy(expr, pre, pl);
        memcpy(expr + pl, re, len);
        expr[pl + len] = '\0';
    }
    *flags = f;
    return DPCRE_HS;
}

/* ---- compiling --------------------------------------------------------- */

static uint64_t dp_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Compiles entry e and publishes the result.  The compiler only. */
static void dp_compile(struct detect_pcre *dp, struct dp_entry *e)
{
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *ce = NULL;
    hs_database_t *db = NULL;
    size_t sz = 0;
    uint64_t t0 = dp_usec();
    bool ok = false, full;

    pthread_mutex_lock(&dp->mu);
    full = dp->st.db_bytes >= DETECT_PCRE_MAX_BYTES;
    pthread_mutex_unlock(&dp->mu);
    /* Hyperscan reports no empty match without HS_FLAG_ALLOWEMPTY: a
     * pattern that can match empty anywhere (min_width 0) stays on PCRE2. */
    if (!full && hs_expression_info(e->expr, e->flags, &info, &ce) == HS_SUCCESS &&
        info->min_width > 0 &&
        hs_compile(e->expr, e->flags, HS_MODE_BLOCK, NULL, &db, &ce) == HS_SUCCESS &&
        hs_database_size(db, &sz) == HS_SUCCESS)
        ok = true;
    free(info);
    hs_free_compile_error(ce);
    pthread_mutex_lock(&dp->mu);
    if (ok && dp->st.db_bytes + sz > DETECT_PCRE_MAX_BYTES)
        ok = false;
    if (ok) {
        dp->st.compiled++;
        dp->st.db_bytes += sz;
    } else {
        dp->st.refused++;
    }
    dp->st.compile_usec += dp_usec() - t0;
    pthread_mutex_unlock(&dp->mu);
    if (!ok) {
        hs_free_database(db);
        atomic_store_explicit(&e->state, ST_REFUSED, memory_order_release);
        return;
    }
    atomic_store_explicit(&e->db, db, memory_order_release);
    atomic_store_explicit(&e->state, ST_READY, memory_order_release);
}

static void *dp_main(void *arg)
{
    struct detect_pcre *dp = arg;

    while (!atomic_load(&dp->stop)) {
        if (!atomic_exchange(&dp->wanted, false)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += DPCRE_POLL_MSEC * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_mutex_lock(&dp->mu);
            if (!atomic_load(&dp->stop))
                pthread_cond_timedwait(&dp->cv, &dp->mu, &ts);
            pthread_mutex_unlock(&dp->mu);
            continue;
        }
        for (size_t i = 0; i < dp->nent && !atomic_load(&dp->stop); i++)
            if (atomic_load_explicit(&dp->ent[i].state, memory_order_acquire) == ST_WANTED)
                dp_compile(dp, &dp->ent[i]);
    }
    return NULL;
}

/* ---- engine ------------------------------------------------------------ */

int detect_pcre_create(struct detect_pcre **out, struct rule *const *rules, size_t n,
                       enum detect_pcre_mode mode)
{
    struct detect_pcre *dp = calloc(1, sizeof(*dp));
    char expr[8192];
    size_t ne = 0;
    int rc;

    if (dp == NULL)
        return -ENOMEM;
    dp->rules = rules;
    dp->nrules = n;
    dp->mode = mode;
    atomic_init(&dp->wanted, false);
    atomic_init(&dp->stop, false);
    pthread_mutex_init(&dp->mu, NULL);
    pthread_cond_init(&dp->cv, NULL);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < rules[i]->nmatches; k++)
            if (rules[i]->matches[k].kind == RULE_MATCH_PCRE)
                ne++;
    dp->off = kanshi_calloc(n + 1, sizeof(*dp->off));
    dp->ent = kanshi_calloc(ne + 1, sizeof(*dp->ent));
    if (dp->off == NULL || dp->ent == NULL) {
        detect_pcre_destroy(dp);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct rule *r = rules[i];
        dp->off[i] = (uint32_t)dp->nent;
        for (size_t k = 0; k < r->nmatches; k++) {
            struct dp_entry *e;
            unsigned flags = 0;
            enum detect_pcre_route route;
            if (r->matches[k].kind != RULE_MATCH_PCRE)
                continue;
            e = &dp->ent[dp->nent++];
            route = detect_pcre_route(r, k, expr, sizeof(expr), &flags);
            e->k = (uint32_t)k;
            e->route = (uint8_t)route;
            atomic_init(&e->state, ST_NONE);
            atomic_init(&e->db, NULL);
            dp->st.pcres++;
            switch (route) {
            case DPCRE_FLAGS:
                dp->st.flags++;
                continue;
            case DPCRE_SYNTAX:
                dp->st.syntax++;
                continue;
            case DPCRE_HS:
                break;
            }
            if ((e->expr = strdup(expr)) == NULL) {
                detect_pcre_destroy(dp);
                return -ENOMEM;
            }
            e->flags = flags;
            atomic_init(&e->state, ST_IDLE);
            dp->st.candidates++;
        }
    }
    dp->off[n] = (uint32_t)dp->nent;
    if (mode == DETECT_PCRE_EAGER) {
        for (size_t i = 0; i < dp->nent; i++)
            if (dp->ent[i].expr != NULL)
                dp_compile(dp, &dp->ent[i]);
    } else if (dp->st.candidates > 0) {
        if ((rc = pthread_create(&dp->thread, NULL, dp_main, dp)) != 0) {
            detect_pcre_destroy(dp);
            return -rc;
        }
        dp->running = true;
    }
    *out = dp;
    return 0;
}

void detect_pcre_destroy(struct detect_pcre *dp)
{
    if (dp == NULL)
        return;
    if (dp->running) {
        pthread_mutex_lock(&dp->mu);
        atomic_store(&dp->stop, true);
        pthread_cond_signal(&dp->cv);
        pthread_mutex_unlock(&dp->mu);
        pthread_join(dp->thread, NULL);
        dp->running = false;
    }
    for (size_t i = 0; dp->ent != NULL && i < dp->nent; i++) {
        hs_free_database(atomic_load(&dp->ent[i].db));
        free(dp->ent[i].expr);
    }
    free(dp->ent);
    free(dp->off);
    pthread_cond_destroy(&dp->cv);
    pthread_mutex_destroy(&dp->mu);
    free(dp);
}

void detect_pcre_stats(struct detect_pcre *dp, struct detect_pcre_stats *st)
{
    pthread_mutex_lock(&dp->mu);
    *st = dp->st;
    pthread_mutex_unlock(&dp->mu);
}

/* ---- per packet -------------------------------------------------------- */

static int dp_on_match(unsigned id, unsigned long long from, unsigned long long to,
                       unsigned flags, void *ctx)
{
    (void)id;
    (void)from;
    (void)to;
    (void)flags;
    *(int *)ctx = 1;
    return 1; /* one match answers: stop */
}

int detect_pcre_scan(struct detect_pcre *dp, const struct rule *r, size_t k, const uint8_t *subj,
                     size_t len, hs_scratch_t **scratch)
{
    struct dp_entry *e = NULL;
    hs_database_t *db;
    hs_error_t err;
    int hit = 0;

    if (dp == NULL || r->idx >= dp->nrules || dp->rules[r->idx] != r || subj == NULL ||
        len > UINT32_MAX)
        return -1;
    for (uint32_t i = dp->off[r->idx]; i < dp->off[r->idx + 1]; i++) {
        if (dp->ent[i].k == k) {
            e = &dp->ent[i];
            break;
        }
    }
    if (e == NULL || e->route != DPCRE_HS)
        return -1;
    db = atomic_load_explicit(&e->db, memory_order_acquire);
    if (db == NULL) {
        uint8_t idle = ST_IDLE;
        if (dp->running &&
            atomic_compare_exchange_strong(&e->state, &idle, (uint8_t)ST_WANTED))
            atomic_store_explicit(&dp->wanted, true, memory_order_release);
        return -1;
    }
    err = hs_scan(db, (const char *)subj, (unsigned)len, 0, *scratch, dp_on_match, &hit);
    if (err == HS_INVALID) {
        /* no scratch yet, or one too small for this database: grow it
         * (bounded: once per database at most) */
        if (hs_alloc_scratch(db, scratch) != HS_SUCCESS)
            return -1;
        hit = 0;
        err = hs_scan(db, (const char *)subj, (unsigned)len, 0, *scratch, dp_on_match, &hit);
    }
    if (err != HS_SUCCESS && err != HS_SCAN_TERMINATED)
        return -1;
    return hit;
}
