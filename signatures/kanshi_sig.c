/*
 * kanshi_sig.c — kanshi-sig, the signature team's tool.
 *
 *   kanshi-sig lint  RULES...            every rule error as FILE:LINE: KEYWORD: reason
 *   kanshi-sig test  -S RULES -r PCAP... alerts (EVE) and per-sid counts over captures
 *   kanshi-sig stats RULES...            loaded, rejected by reason, patterns, compile
 *   kanshi-sig keygen --out PREFIX       release key pair for signed bundles
 *   kanshi-sig bundle --key K --version N -o OUT RULES...   signed rules bundle
 *   kanshi-sig verify --pub P FILE       check a bundle; show [--pub P] FILE
 *
 * It loads rules with the same parser and compiles them with the same
 * detection engine as kanshi-sensor, and `test` runs the sensor's own worker
 * pipeline, so what passes here behaves the same on every sensor.  `bundle`
 * refuses rules that `lint` or the engine would refuse, so a signed bundle
 * never carries a ruleset a sensor cannot compile (include/kanshi/bundle.h
 * has the container's format).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hs.h>
#include <maxminddb.h>
#include <time.h>

#include "kanshi/bundle.h"
#include "kanshi/capture.h"
#include "kanshi/decode.h"
#include "kanshi/config.h"
#include "kanshi/detect.h"
#include "kanshi/eve.h"
#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "kanshi/worker.h"

struct reason {
    char *key;
    size_t count;
    char *example; /* first FILE:LINE seen with it */
};

struct sig {
    struct sensor_config cfg;
    struct ruleset *rs;
    const char *hs_cache; /* --hs-cache DIR, or NULL */
    uint64_t parse_usec;  /* time sig_load() took */
    bool print_errors;
    bool collect_failed; /* bundle --skip-unloadable: remember where rules failed */
    struct failed_rule {
        char *base; /* the file's base name */
        unsigned line;
    } *failed;
    size_t nfailed;
    struct reason *reasons;
    size_t nreasons;
    size_t errors;
    /* test */
    struct eve_writer *eve;
    struct jbuf jb;
    uint32_t *sid_of;
    uint64_t *sid_count;
    size_t nsids;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: kanshi-sig lint   [-c CONFIG] RULES...\n"
            "       kanshi-sig test   [-c CONFIG] -S RULES -r PCAP... [-l DIR | --eve FILE]\n"
            "       kanshi-sig stats  [-c CONFIG] [--hs-cache DIR] RULES...\n"
            "       kanshi-sig bench  [-c CONFIG] -S RULES -r PCAP... [--repeat N]\n"
            "       kanshi-sig keygen --out PREFIX\n"
            "       kanshi-sig bundle --key KEY --version N [--min-sensor-version V]\n"
            "              [--vars FILE] [--threshold FILE] [--geoip FILE]...\n"
            "              [--skip-unloadable] [--precompile TARGET,...] -o OUT RULES...\n"
            "       kanshi-sig verify --pub PUB... FILE\n"
            "       kanshi-sig show   [--pub PUB...] FILE\n"
            "RULES is a rules file or a directory of *.rules files.\n"
            "  lint    print each rule that does not load (FILE:LINE: KEYWORD: reason)\n"
            "  test    run the rules over captures as kanshi-sensor would: per-sid alert\n"
            "          counts, and the alerts as EVE JSON with -l or --eve\n"
            "  stats   rules loaded and rejected by reason, patterns, compile time, size\n"
            "  bench   the sensor's pipeline against Hyperscan alone over the captures\n"
            "  keygen  release key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub\n"
            "  bundle  lint and compile the rules, then write them signed to OUT\n"
            "  verify  check a bundle's signature and files; print its kind and version\n"
            "  show    print a bundle's manifest, verified with --pub (else its header)\n"
            "  -c, --config FILE  sensor config (vars)  -S, --rules PATH   rules (test)\n"
            "  -r, --read FILE    capture, repeatable   -l, --log-dir DIR  DIR/eve.json\n"
            "      --eve FILE     alerts to FILE, '-'       --hs-cache DIR Hyperscan cache\n"
            "  -o, --out PATH     bundle, key prefix    -h, --help         this help\n"
            "See kanshi-sig(1) for every option.\n");
}

/* The reason key of an error message: the keyword before the first ':',
 * and for protocols the protocol itself. */
static void reason_key(const char *msg, char *key, size_t len)
{
    const char *colon = strchr(msg, ':');
    size_t n = colon ? (size_t)(colon - msg) : strlen(msg);
    const char *q;

    if (n >= len)
        n = len - 1;
    memcpy(key, msg, n);
    key[n] = '\0';
    if (strcmp(key, "header") == 0 && (q = strstr(msg, "protocol '")) != NULL) {
        const char *e = strchr(q + 10, '\'');
        if (e != NULL)
            snprintf(key, len, "protocol %.*s", (int)(e - q - 10), q + 10);
    }
}

static void on_error(void *arg, const char *file, unsigned line, const char *msg)
{
    struct sig *s = arg;
    char key[128];
    size_t i;

    s->errors++;
    if (s->print_errors)
        printf("%s:%u: %s\n", file, line, msg);
    if (s->collect_failed && file != NULL) {
        struct failed_rule *fr = kanshi_reallocarray(s->failed, s->nfailed + 1, sizeof(*fr));
        const char *slash = strrchr(file, '/');
        if (fr != NULL) {
            s->failed = fr;
            fr[s->nfailed].base = strdup(slash != NULL ? slash + 1 : file);
            fr[s->nfailed].line = line;
            if (fr[s->nfailed].base != NULL)
                s->nfailed++;
        }
    }
    reason_key(msg, key, sizeof(key));
    for (i = 0; i < s->nreasons; i++)
        if (strcmp(s->reasons[i].key, key) == 0)
            break;
    if (i == s->nreasons) {
        struct reason *r = kanshi_reallocarray(s->reasons, s->nreasons + 1, sizeof(*r));
        char where[512];
        if (r == NULL)
            return;
        s->reasons = r;
        snprintf(where, sizeof(where), "%s:%u", file, line);
        r[i].key = strdup(key);
        r[i].count = 0;
        r[i].example = strdup(where);
        s->nreasons++;
    }
    s->reasons[i].count++;
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static uint64_t sig_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Loads every path into a fresh ruleset; returns the number of paths that
 * could not be read. */
static int sig_load(struct sig *s, char **paths, size_t n)
{
    struct rule_vars *vars;
    uint64_t t0 = sig_usec();
    int bad = 0;

    if (rule_vars_create(&vars) != 0 || config_apply_vars(&s->cfg, vars) != 0 ||
        rule_vars_set_defaults(vars) != 0 || ruleset_create(&s->rs, vars, on_error, s) != 0) {
        fprintf(stderr, "kanshi-sig: out of memory\n");
        exit(1);
    }
    if (s->cfg.classification != NULL)
        ruleset_load_classification(s->rs, s->cfg.classification);
    for (size_t i = 0; i < n && s->cfg.classification == NULL; i++) {
        char c[4096];
        snprintf(c, sizeof(c), "%s/classification.config", paths[i]);
        if (is_dir(paths[i]) && access(c, R_OK) == 0) {
            ruleset_load_classification(s->rs, c);
            break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        int rc = ruleset_load_path(s->rs, paths[i]);
        if (rc < 0) {
            fprintf(stderr, "kanshi-sig: %s: %s\n", paths[i], kanshi_strerror(rc));
            bad++;
        }
    }
    s->parse_usec = sig_usec() - t0;
    return bad;
}

/* The sensor's engine, through the database cache with --hs-cache. */
static int sig_engine(struct sig *s, struct detect_engine **de, char *err, size_t errlen)
{
    struct detect_options o = {.cache_dir = s->hs_cache};

    return detect_engine_create_opts(de, s->rs, &o, err, errlen);
}

static int reason_cmp(const void *a, const void *b)
{
    const struct reason *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->key, y->key);
}

static int cmd_lint(struct sig *s, char **paths, size_t n)
{
    int bad;

    s->print_errors = true;
    bad = sig_load(s, paths, n);
    fprintf(stderr, "kanshi-sig: %zu rules load, %zu do not\n", s->rs->nrules, s->errors);
    return bad > 0 || s->errors > 0 ? 1 : 0;
}

static int cmd_stats(struct sig *s, char **paths, size_t n)
{
    struct detect_engine *de;
    char err[512];
    const struct detect_info *di;
    size_t proto[7] = {0};
    static const char *const proto_names[7] = {"ip",   "tcp",     "udp",       "icmp",
                                               "icmpv6", "tcp-pkt", "tcp-stream"};

    if (sig_load(s, paths, n) > 0)
        return 1;
    if (sig_engine(s, &de, err, sizeof(err)) != 0) {
        fprintf(stderr, "kanshi-sig: %s\n", err);
        return 1;
    }
    di = detect_engine_info(de);
    for (size_t i = 0; i < s->rs->nrules; i++)
        if ((unsigned)s->rs->rules[i]->proto < 7)
            proto[s->rs->rules[i]->proto]++;
    printf("rules loaded:        %zu\n", s->rs->nrules);
    printf("  by protocol:      ");
    for (int i = 0; i < 7; i++)
        if (proto[i] > 0)
            printf(" %s %zu", proto_names[i], proto[i]);
    printf("\n");
    printf("rules rejected:      %zu\n", s->errors);
    qsort(s->reasons, s->nreasons, sizeof(*s->reasons), reason_cmp);
    for (size_t i = 0; i < s->nreasons; i++)
        printf("  %7zu  %-32s (first at %s)\n", s->reasons[i].count, s->reasons[i].key,
               s->reasons[i].example);
    printf("protocol groups:     %zu\n", di->groups);
    printf("fast patterns:       %zu\n", di->patterns);
    printf("without fast pattern:%zu (%zu by address index, %zu bytes)\n", di->no_fast_pattern,
           di->iponly, di->iponly_bytes);
    printf("application layer:   %zu (inspected on parsed protocol buffers)\n", di->app_rules);
    printf("pcre:                %zu (%zu through Hyperscan first, compiled on first use; "
           "PCRE2 alone: %zu for their flags, %zu for their syntax)\n",
           di->pcres, di->pcre_hs, di->pcre_flags, di->pcre_syntax);
    printf("database bytes:      %zu\n", di->db_bytes);
    printf("rule parse time:     %.3f s\n", (double)s->parse_usec / 1e6);
    printf("compile time:        %.3f s\n", (double)di->compile_usec / 1e6);
    printf("  hyperscan:         %.3f s, ", (double)di->db_usec / 1e6);
    if (di->cache_used)
        printf("%zu databases compiled, %zu loaded from the cache %s%s\n", di->cache_misses,
               di->cache_hits, s->hs_cache, di->cache_readonly ? " (read-only)" : "");
    else if (s->hs_cache != NULL)
        printf("compiled, cache not used: %s\n", di->cache_note);
    else
        printf("compiled (no --hs-cache)\n");
    if (di->cache_used && di->cache_note[0] != '\0')
        printf("  cache problem:     %s (%zu files rejected, %zu not stored)\n", di->cache_note,
               di->cache_rejected, di->cache_write_errors);
    detect_engine_destroy(de);
    return 0;
}

static void test_alert(void *arg, const struct packet *p, const struct rule *r)
{
    struct sig *s = arg;
    const struct rule_class *cls;
    size_t lo = 0, hi = s->nsids;

    if (r->action == RULE_ACTION_PASS)
        return;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->sid_of[mid] < r->sid)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->nsids && s->sid_of[lo] == r->sid)
        s->sid_count[lo]++;
    if (s->eve == NULL)
        return;
    cls = r->classtype ? ruleset_find_class(s->rs, r->classtype) : NULL;
    struct eve_alert a = {
        .p = p,
        .r = r,
        .category = cls ? cls->description : "",
        .severity = r->priority,
        .flow_id = p->flow ? p->flow->flow_id : 0,
        .action = "allowed",
        .sensor_id = "kanshi-sig",
        .ruleset_version = "test",
    };
    jbuf_reset(&s->jb);
    eve_format_alert(&s->jb, &a);
    if (jbuf_ok(&s->jb))
        eve_writer_write(s->eve, s->jb.p, s->jb.len);
}

static int u32cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmd_test(struct sig *s, char **rules, size_t nrules, char **pcaps, size_t npcaps,
                    const char *eve)
{
    struct detect_engine *de;
    struct worker *w;
    struct capture *cap;
    struct capture_pkt cp;
    struct worker_config wc;
    char err[1024];
    uint64_t total = 0;
    int rc;

    worker_config_from(&s->cfg, &wc);
    s->print_errors = true;
    if (sig_load(s, rules, nrules) > 0)
        return 1;
    if (sig_engine(s, &de, err, sizeof(err)) != 0) {
        fprintf(stderr, "kanshi-sig: %s\n", err);
        return 1;
    }
    s->nsids = s->rs->nrules;
    s->sid_of = kanshi_calloc(s->nsids + 1, sizeof(*s->sid_of));
    s->sid_count = kanshi_calloc(s->nsids + 1, sizeof(*s->sid_count));
    if (s->sid_of == NULL || s->sid_count == NULL)
        return 1;
    for (size_t i = 0; i < s->nsids; i++)
        s->sid_of[i] = s->rs->rules[i]->sid;
    qsort(s->sid_of, s->nsids, sizeof(*s->sid_of), u32cmp);
    if (eve != NULL && eve_writer_open(&s->eve, eve, err, sizeof(err)) != 0) {
        fprintf(stderr, "kanshi-sig: %s\n", err);
        return 1;
    }
    jbuf_init(&s->jb);
    if ((rc = worker_create(&w, &wc, de)) != 0) {
        fprintf(stderr, "kanshi-sig: %s\n", kanshi_strerror(rc));
        return 1;
    }
    if (capture_open_files(&cap, pcaps, npcaps, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "kanshi-sig: %s\n", err);
        return 1;
    }
    while (capture_next(cap, &cp) == 1)
        worker_packet(w, cp.linktype, cp.data, cp.caplen, cp.wirelen, cp.ts_usec, test_alert, s);
    worker_flush(w);
    if (s->eve != NULL)
        eve_writer_close(s->eve);
    printf("%-10s %8s  %s\n", "SID", "ALERTS", "SIGNATURE");
    for (size_t i = 0; i < s->rs->nrules; i++) {
        const struct rule *r = s->rs->rules[i];
        size_t lo = 0, hi = s->nsids;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (s->sid_of[mid] < r->sid)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (s->sid_count[lo] > 0) {
            printf("%-10u %8llu  %s\n", r->sid, (unsigned long long)s->sid_count[lo],
                   r->msg ? r->msg : "");
            total += s->sid_count[lo];
            s->sid_count[lo] = 0; /* a gid:sid pair shares a sid with another gid */
        }
    }
    printf("%llu alerts from %zu rules over %llu packets\n", (unsigned long long)total,
           s->rs->nrules, (unsigned long long)worker_decode_stats(w)->pkts);
    capture_close(cap);
    worker_destroy(w);
    detect_engine_destroy(de);
    jbuf_fini(&s->jb);
    return 0;
}


/* --- bench: the whole pipeline against Hyperscan alone ------------------- */

struct bench_pkt {
    uint64_t off; /* into the arena */
    uint32_t caplen, wirelen;
    uint64_t ts_usec;
    int linktype;
    uint32_t pay_off, pay_len; /* payload within the packet, 0/0 when none */
};

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_hs_count(unsigned id, unsigned long long from, unsigned long long to,
                          unsigned flags, void *ctx)
{
    (void)id;
    (void)from;
    (void)to;
    (void)flags;
    (*(uint64_t *)ctx)++;
    return 0;
}

static void bench_alert(void *arg, const struct packet *p, const struct rule *r)
{
    (void)p;
    (void)r;
    (*(uint64_t *)arg)++;
}

/*
 * Loads the captures into memory once, then times (a) the sensor's worker
 * pipeline over every packet and (b) Hyperscan alone scanning the same
 * payload bytes with every rule's fast pattern in one database, so the cost
 * of everything around the pattern scan shows as a ratio.
 */
static int cmd_bench(struct sig *s, char **rules, size_t nrules, char **pcaps, size_t npcaps,
                     unsigned repeat)
{
    struct detect_engine *de;
    struct capture *cap;
    struct capture_pkt cp;
    struct bench_pkt *pk = NULL;
    uint8_t *arena = NULL;
    size_t npk = 0, cappk = 0, arena_len = 0, arena_cap = 0;
    uint64_t bytes = 0, pay_bytes = 0, alerts = 0, hs_matches = 0;
    struct decode_stats ds;
    struct worker_config wc;
    const char **exprs;
    unsigned *flags, *ids;
    size_t *lens, np = 0;
    hs_database_t *db = NULL;
    hs_scratch_t *scratch = NULL;
    hs_compile_error_t *cerr = NULL;
    char err[1024];
    double t0, t_full = 0, t_hs = 0;

    worker_config_from(&s->cfg, &wc);
    if (sig_load(s, rules, nrules) > 0)
        return 1;
    if (sig_engine(s, &de, err, sizeof(err)) != 0) {
        fprintf(stderr, "kanshi-sig: %s\n", err);
        return 1;
    }
    if (capture_open_files(&cap, pcaps, npcaps, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "kanshi-sig: %s\n", err);
        return 1;
    }
    memset(&ds, 0, sizeof(ds));
    while (capture_next(cap, &cp) == 1) {
        struct packet p;
        if (npk == cappk) {
            size_t nc = cappk ? cappk * 2 : 65536;
            struct bench_pkt *n = kanshi_reallocarray(pk, nc, sizeof(*pk));
            if (n == NULL)
                return 1;
            pk = n;
            cappk = nc;
        }
        if (arena_len + cp.caplen > arena_cap) {
            size_t nc = arena_cap ? arena_cap * 2 : (64u << 20);
            uint8_t *n;
            while (nc < arena_len + cp.caplen)
                nc *= 2;
            if ((n = realloc(arena, nc)) == NULL)
                return 1;
            arena = n;
            arena_cap = nc;
        }
        memcpy(arena + arena_len, cp.data, cp.caplen);
        pk[npk] = (struct bench_pkt){.off = arena_len, .caplen = cp.caplen,
                                     .wirelen = cp.wirelen, .ts_usec = cp.ts_usec,
                                     .linktype = cp.linktype};
        if (decode_packet(&p, cp.linktype, arena + arena_len, cp.caplen, cp.wirelen, cp.ts_usec,
                          &ds) == 0 &&
            p.payload_len > 0) {
            pk[npk].pay_off = (uint32_t)(p.payload - (arena + arena_len));
            pk[npk].pay_len = p.payload_len;
            pay_bytes += p.payload_len;
        }
        bytes += cp.wirelen;
        arena_len += cp.caplen;
        npk++;
    }
    capture_close(cap);

    /* Hyperscan alone: every rule's fast pattern, one literal database. */
    exprs = kanshi_calloc(s->rs->nrules + 1, sizeof(*exprs));
    flags = kanshi_calloc(s->rs->nrules + 1, sizeof(*flags));
    ids = kanshi_calloc(s->rs->nrules + 1, sizeof(*ids));
    lens = kanshi_calloc(s->rs->nrules + 1, sizeof(*lens));
    if (exprs == NULL || flags == NULL || ids == NULL || lens == NULL)
        return 1;
    for (size_t i = 0; i < s->rs->nrules; i++) {
        const uint8_t *pat;
        size_t len;
        const struct rule_content *c = detect_fast_pattern(s->rs->rules[i], &len, &pat);
        if (c == NULL)
            continue;
        exprs[np] = (const char *)pat;
        lens[np] = len;
        flags[np] = HS_FLAG_SINGLEMATCH | ((c->flags & CONTENT_NOCASE) ? HS_FLAG_CASELESS : 0);
        ids[np] = (unsigned)np;
        np++;
    }
    if (np > 0 && (hs_compile_lit_multi(exprs, flags, ids, lens, (unsigned)np, HS_MODE_BLOCK, NULL,
                                        &db, &cerr) != HS_SUCCESS ||
                   hs_alloc_scratch(db, &scratch) != HS_SUCCESS)) {
        fprintf(stderr, "kanshi-sig: hyperscan: %s\n", cerr ? cerr->message : "scratch");
        return 1;
    }

    for (unsigned r = 0; r < repeat; r++) {
        struct worker *w;
        if (worker_create(&w, &wc, de) != 0)
            return 1;
        t0 = bench_now();
        for (size_t i = 0; i < npk; i++)
            worker_packet(w, pk[i].linktype, arena + pk[i].off, pk[i].caplen, pk[i].wirelen,
                          pk[i].ts_usec, bench_alert, &alerts);
        worker_flush(w);
        t_full += bench_now() - t0;
        worker_destroy(w);
        if (db != NULL) {
            t0 = bench_now();
            for (size_t i = 0; i < npk; i++)
                if (pk[i].pay_len > 0)
                    hs_scan(db, (const char *)arena + pk[i].off + pk[i].pay_off, pk[i].pay_len,
                            0, scratch, bench_hs_count, &hs_matches);
            t_hs += bench_now() - t0;
        }
    }
    printf("bench: %zu rules (%zu fast patterns), %zu packets x %u, %llu bytes, "
           "%llu payload bytes per pass\n",
           s->rs->nrules, np, npk, repeat, (unsigned long long)bytes,
           (unsigned long long)pay_bytes);
    printf("bench: kanshi pipeline: %.3f s  %.0f packets/s  %.3f Gbit/s  %llu alerts per pass\n",
           t_full, (double)npk * repeat / t_full, (double)bytes * 8 * repeat / t_full / 1e9,
           (unsigned long long)(alerts / repeat));
    if (db != NULL && t_hs > 0) {
        printf("bench: hyperscan alone: %.3f s  %.0f packets/s  %.3f Gbit/s of payload  "
               "%llu pattern matches per pass\n",
               t_hs, (double)npk * repeat / t_hs, (double)pay_bytes * 8 * repeat / t_hs / 1e9,
               (unsigned long long)(hs_matches / repeat));
        printf("bench: pipeline / hyperscan-alone time ratio: %.2f\n", t_full / t_hs);
    }
    hs_free_scratch(scratch);
    hs_free_database(db);
    free(exprs);
    free(flags);
    free(ids);
    free(lens);
    free(pk);
    free(arena);
    detect_engine_destroy(de);
    return 0;
}

/* --- signed bundles (include/kanshi/bundle.h) ---------------------------- */

/* What goes into a rules bundle: one file each, read into memory. */
struct sig_file {
    char *name; /* name in the bundle */
    char *path; /* where it was read from, for messages */
    uint8_t *data;
    size_t len;
};

struct sig_files {
    struct sig_file *f;
    size_t n;
};

static void sig_files_free(struct sig_files *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        free(fs->f[i].name);
        free(fs->f[i].path);
        free(fs->f[i].data);
    }
    free(fs->f);
    fs->f = NULL;
    fs->n = 0;
}

static const char *sig_basename(const char *path)
{
    const char *b = strrchr(path, '/');
    return b != NULL ? b + 1 : path;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

/* Reads path into the set under name; prints why not and returns -1. */
static int sig_files_add(struct sig_files *fs, const char *path, const char *name)
{
    struct sig_file *n, *f;
    char err[1024];

    for (size_t i = 0; i < fs->n; i++)
        if (strcmp(fs->f[i].name, name) == 0) {
            fprintf(stderr, "kanshi-sig: bundle: %s and %s would both be '%s' in the bundle\n",
                    fs->f[i].path, path, name);
            return -1;
        }
    if (!bundle_name_ok(name)) {
        fprintf(stderr,
                "kanshi-sig: bundle: %s: '%s' is not a bundle file name ([A-Za-z0-9._+-], "
                "not starting with '.')\n",
                path, name);
        return -1;
    }
    n = kanshi_reallocarray(fs->f, fs->n + 1, sizeof(*fs->f));
    if (n == NULL)
        return -1;
    fs->f = n;
    f = &fs->f[fs->n];
    memset(f, 0, sizeof(*f));
    if (bundle_read_file(path, BUNDLE_MAX_SIZE, &f->data, &f->len, err, sizeof(err)) != 0) {
        fprintf(stderr, "kanshi-sig: bundle: %s\n", err);
        return -1;
    }
    f->name = strdup(name);
    f->path = strdup(path);
    fs->n++;
    return f->name != NULL && f->path != NULL ? 0 : -1;
}

static int rules_name_filter(const struct dirent *d)
{
    return d->d_name[0] != '.' && has_suffix(d->d_name, ".rules");
}

/* The files a RULES argument stands for: the *.rules of a directory (the
 * same ones ruleset_load_path() reads) and its classification.config, or
 * the one file named *.rules. */
static int sig_files_add_rules(struct sig_files *fs, const char *path)
{
    struct dirent **ents;
    char sub[4096];
    int n, rc = 0;

    if (!is_dir(path)) {
        if (!has_suffix(sig_basename(path), ".rules")) {
            fprintf(stderr,
                    "kanshi-sig: bundle: %s: a rules file must be named *.rules (sensors "
                    "load only those from a bundle)\n",
                    path);
            return -1;
        }
        return sig_files_add(fs, path, sig_basename(path));
    }
    n = scandir(path, &ents, rules_name_filter, alphasort);
    if (n < 0) {
        fprintf(stderr, "kanshi-sig: bundle: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name);
        if (rc == 0)
            rc = sig_files_add(fs, sub, ents[i]->d_name);
        free(ents[i]);
    }
    free(ents);
    snprintf(sub, sizeof(sub), "%s/classification.config", path);
    if (rc == 0 && access(sub, F_OK) == 0)
        rc = sig_files_add(fs, sub, "classification.config");
    return rc;
}

static void print_key_id(FILE *f, const uint8_t id[BUNDLE_KEY_ID_LEN])
{
    for (int i = 0; i < BUNDLE_KEY_ID_LEN; i++)
        fprintf(f, "%02x", id[i]);
}

static int cmd_keygen(const char *prefix)
{
    struct bundle_seckey sk;
    struct bundle_pubkey pk;
    uint8_t id[BUNDLE_KEY_ID_LEN];
    char err[1024];

    if (bundle_keygen(&sk, &pk) != 0) {
        fprintf(stderr, "kanshi-sig: keygen: libsodium did not initialise\n");
        return 1;
    }
    if (bundle_key_write(prefix, &sk, &pk, err, sizeof(err)) != 0) {
        fprintf(stderr, "kanshi-sig: keygen: %s\n", err);
        return 1;
    }
    memset(&sk, 0, sizeof(sk));
    bundle_key_id(&pk, id);
    printf("wrote %s.key (secret, mode 0600) and %s.pub, key id ", prefix, prefix);
    print_key_id(stdout, id);
    printf("\n");
    return 0;
}

struct bundle_opts {
    const char *key, *version, *min_version, *vars, *threshold, *out;
    char **geoip;
    size_t ngeoip;
    bool skip_unloadable; /* bundle what loads; the rest commented out, with the reason */
    const char *precompile; /* --precompile TARGETS: comma-separated, or NULL */
};

/*
 * --skip-unloadable: in a rules file of the bundle, each rule that did not
 * load (its first line, and the lines it continues on with '\') is
 * commented out, so the bundle holds exactly the rules that load and says
 * which were left out.  0, or -1 out of memory.
 */
static int skip_failed_rules(struct sig_file *f, const struct sig *s)
{
    size_t cap = f->len + 64, n = 0, pos = 0;
    unsigned line = 1;
    bool commenting = false;
    uint8_t *out = malloc(cap);

    if (out == NULL)
        return -1;
    while (pos < f->len) {
        size_t e = pos;
        bool cont;
        while (e < f->len && f->data[e] != '\n')
            e++;
        cont = e > pos && f->data[e - 1 - (e - 1 > pos && f->data[e - 1] == '\r')] == '\\';
        if (!commenting) {
            for (size_t i = 0; i < s->nfailed; i++)
                if (s->failed[i].line == line && strcmp(s->failed[i].base, f->name) == 0)
                    commenting = true;
        }
        if (n + (e - pos) + 8 > cap) {
            uint8_t *nb;
            cap = (cap + (e - pos) + 8) * 2;
            if ((nb = realloc(out, cap)) == NULL) {
                free(out);
                return -1;
            }
            out = nb;
        }
        if (commenting) {
            memcpy(out + n, "# skip ", 7);
            n += 7;
        }
        memcpy(out + n, f->data + pos, e - pos);
        n += e - pos;
        if (e < f->len)
            out[n++] = '\n';
        if (commenting && !cont)
            commenting = false;
        pos = e + 1;
        line++;
    }
    free(f->data);
    f->data = out;
    f->len = n;
    return 0;
}

/* Writes data to path through a temporary file and a rename, mode 0644. */
static int write_file_atomic(const char *path, const uint8_t *data, size_t len)
{
    char tmp[4096];
    size_t off = 0;
    int fd;

    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "kanshi-sig: bundle: %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            break;
        off += (size_t)w;
    }
    if (off < len || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "kanshi-sig: bundle: %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void rule_error_quiet(void *arg, const char *file, unsigned line, const char *msg)
{
    (void)arg;
    (void)file;
    (void)line;
    (void)msg;
}

/* Removes dir's files (not subdirectories' contents), then dir. */
static void rm_flat_dir(const char *dir)
{
    struct dirent *ent;
    DIR *d = opendir(dir);
    char path[4096];

    if (d != NULL) {
        while ((ent = readdir(d)) != NULL) {
            if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
            if (unlink(path) != 0 && errno == EISDIR)
                rm_flat_dir(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

/*
 * --precompile: the Hyperscan databases of the bundle's rules for each
 * target, added to fs as the files a sensor's cache would hold.  The rules
 * are loaded from the bundle's own rules files written to a temporary
 * directory, the way the sensor loads an applied bundle, so the databases
 * are keyed by exactly what the sensor will compile (if a sensor's
 * configuration makes it differ, it misses and compiles).  0, or -1 having
 * said why.
 */
static int precompile(struct sig *s, struct sig_files *fs, const char *targets, size_t *ndb,
                      uint64_t *bytes)
{
    char tmp[] = "/tmp/kanshi-sig-XXXXXX", rdir[64], cdir[64], path[4096], err[1024];
    char *list = strdup(targets), *save = NULL, *t;
    struct rule_vars *vars = NULL;
    struct ruleset *rs = NULL;
    struct dirent **ents = NULL;
    int n = 0, rc = -1;

    *ndb = 0;
    *bytes = 0;
    if (list == NULL || mkdtemp(tmp) == NULL) {
        fprintf(stderr, "kanshi-sig: bundle: --precompile: %s\n", strerror(errno));
        free(list);
        return -1;
    }
    snprintf(rdir, sizeof(rdir), "%s/rules", tmp);
    snprintf(cdir, sizeof(cdir), "%s/hsdb", tmp);
    if (mkdir(rdir, 0700) != 0 || mkdir(cdir, 0700) != 0)
        goto io;
    for (size_t i = 0; i < fs->n; i++) {
        if (!has_suffix(fs->f[i].name, ".rules"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", rdir, fs->f[i].name);
        if (write_file_atomic(path, fs->f[i].data, fs->f[i].len) != 0)
            goto out;
    }
    if (rule_vars_create(&vars) != 0 || config_apply_vars(&s->cfg, vars) != 0 ||
        rule_vars_set_defaults(vars) != 0 ||
        ruleset_create(&rs, vars, rule_error_quiet, NULL) != 0) {
        rule_vars_destroy(vars);
        fprintf(stderr, "kanshi-sig: out of memory\n");
        goto out;
    }
    if (ruleset_load_path(rs, rdir) < 0 || rs->nerrors > 0 || ruleset_finalize(rs) != 0) {
        fprintf(stderr, "kanshi-sig: bundle: --precompile: the bundled rules do not load as "
                        "a sensor loads them\n");
        goto out;
    }
    for (t = strtok_r(list, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        struct detect_options o = {.cache_dir = cdir, .cache_max_files = 1u << 20, .hs_target = t};
        struct detect_engine *de;
        if (detect_engine_create_opts(&de, rs, &o, err, sizeof(err)) != 0) {
            fprintf(stderr, "kanshi-sig: bundle: --precompile %s: %s\n", t, err);
            goto out;
        }
        detect_engine_destroy(de);
    }
    if ((n = scandir(cdir, &ents, NULL, alphasort)) < 0)
        goto io;
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (!has_suffix(ents[i]->d_name, ".hsdb") || ents[i]->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", cdir, ents[i]->d_name);
        if (stat(path, &st) == 0)
            *bytes += (uint64_t)st.st_size;
        if (sig_files_add(fs, path, ents[i]->d_name) != 0)
            goto out;
        (*ndb)++;
    }
    rc = 0;
    goto out;
io:
    fprintf(stderr, "kanshi-sig: bundle: --precompile: %s: %s\n", tmp, strerror(errno));
out:
    for (int i = 0; i < n; i++)
        free(ents[i]);
    free(ents);
    ruleset_destroy(rs);
    rm_flat_dir(tmp);
    free(list);
    return rc;
}

/*
 * Lints and compiles the rules exactly as `lint` and `stats` do (with the
 * --vars and --threshold files), and only when every rule loads and the
 * engine compiles, signs them into one bundle with those files and the
 * GeoIP databases.
 */
static int cmd_bundle(struct sig *s, const struct bundle_opts *o, char **rules, size_t nrules)
{
    struct sig_files fs = {0};
    struct bundle_file *bf = NULL;
    struct bundle_seckey sk;
    struct bundle_pubkey pk;
    struct bundle_info info = {.kind = BUNDLE_KIND_RULES, .min_version = o->min_version};
    struct detect_engine *de;
    uint8_t *out = NULL, id[BUNDLE_KEY_ID_LEN];
    size_t outlen = 0;
    char err[1024] = "", *end;
    int rc = 1, trc;

    errno = 0;
    info.version = strtoull(o->version, &end, 10);
    if (errno != 0 || *end != '\0' || o->version[0] < '0' || o->version[0] > '9' ||
        info.version == 0) {
        fprintf(stderr, "kanshi-sig: bundle: --version '%s': give a whole number from 1\n",
                o->version);
        return 2;
    }
    /* the key first: a refused key file should not wait for a compile */
    if (bundle_seckey_load(o->key, &sk, err, sizeof(err)) != 0) {
        fprintf(stderr, "kanshi-sig: bundle: %s\n", err);
        return 1;
    }
    for (size_t i = 0; i < nrules; i++)
        if (sig_files_add_rules(&fs, rules[i]) != 0)
            goto out;
    if (o->vars != NULL && sig_files_add(&fs, o->vars, "vars.yaml") != 0)
        goto out;
    if (o->threshold != NULL && sig_files_add(&fs, o->threshold, "threshold.config") != 0)
        goto out;
    for (size_t i = 0; i < o->ngeoip; i++) {
        MMDB_s mmdb;
        int st;
        if (!has_suffix(sig_basename(o->geoip[i]), ".mmdb")) {
            fprintf(stderr, "kanshi-sig: bundle: %s: a GeoIP database must be named *.mmdb\n",
                    o->geoip[i]);
            goto out;
        }
        if ((st = MMDB_open(o->geoip[i], MMDB_MODE_MMAP, &mmdb)) != MMDB_SUCCESS) {
            fprintf(stderr, "kanshi-sig: bundle: %s: %s\n", o->geoip[i], MMDB_strerror(st));
            goto out;
        }
        MMDB_close(&mmdb);
        if (sig_files_add(&fs, o->geoip[i], sig_basename(o->geoip[i])) != 0)
            goto out;
    }

    /* lint: every rule must load (or, with --skip-unloadable, is left out) */
    s->print_errors = true;
    s->collect_failed = o->skip_unloadable;
    if (sig_load(s, rules, nrules) > 0 && !o->skip_unloadable)
        goto out;
    if (o->threshold != NULL && (trc = ruleset_load_threshold(s->rs, o->threshold)) < 0) {
        fprintf(stderr, "kanshi-sig: bundle: %s: %s\n", o->threshold, kanshi_strerror(trc));
        goto out;
    }
    if (o->skip_unloadable && s->nfailed > 0 && s->nfailed == s->errors) {
        for (size_t i = 0; i < fs.n; i++)
            if (has_suffix(fs.f[i].name, ".rules") && skip_failed_rules(&fs.f[i], s) != 0)
                goto out;
        fprintf(stderr, "kanshi-sig: bundle: %zu rule(s) above left out (commented out as "
                        "\"# skip\" in the bundle)\n",
                s->nfailed);
    } else if (s->errors > 0 || s->rs->nerrors > 0) {
        fprintf(stderr, "kanshi-sig: bundle: %zu error(s) above; not bundling\n",
                s->errors > s->rs->nerrors ? s->errors : s->rs->nerrors);
        goto out;
    }
    if (s->rs->nrules == 0) {
        fprintf(stderr, "kanshi-sig: bundle: no rules; not bundling\n");
        goto out;
    }
    /* compile: the sensor's own engine */
    if (ruleset_finalize(s->rs) != 0 || sig_engine(s, &de, err, sizeof(err)) != 0) {
        fprintf(stderr, "kanshi-sig: bundle: rules do not compile: %s; not bundling\n", err);
        goto out;
    }
    detect_engine_destroy(de);
    if (o->precompile != NULL) {
        size_t ndb;
        uint64_t dbbytes;
        if (precompile(s, &fs, o->precompile, &ndb, &dbbytes) != 0)
            goto out;
        printf("precompiled %zu Hyperscan databases (%s), %" PRIu64 " bytes\n", ndb,
               o->precompile, dbbytes);
    }

    bf = kanshi_calloc(fs.n + 1, sizeof(*bf));
    if (bf == NULL)
        goto out;
    for (size_t i = 0; i < fs.n; i++)
        bf[i] = (struct bundle_file){.name = fs.f[i].name, .data = fs.f[i].data,
                                     .len = fs.f[i].len};
    if (bundle_build(&info, bf, fs.n, &sk, &out, &outlen, err, sizeof(err)) != 0) {
        fprintf(stderr, "kanshi-sig: bundle: %s\n", err);
        goto out;
    }
    if (write_file_atomic(o->out, out, outlen) != 0)
        goto out;
    bundle_seckey_public(&sk, &pk);
    bundle_key_id(&pk, id);
    printf("wrote %s: kind rules, version %" PRIu64 ", %zu rules in %zu files, %zu bytes, "
           "key id ",
           o->out, info.version, s->rs->nrules, fs.n, outlen);
    print_key_id(stdout, id);
    printf("\n");
    rc = 0;
out:
    memset(&sk, 0, sizeof(sk));
    free(out);
    free(bf);
    sig_files_free(&fs);
    return rc;
}

/* Reads the --pub keys; prints why not and returns -1. */
static int load_pubs(char **pubs, size_t npubs, struct bundle_pubkey **keys)
{
    char err[1024];

    *keys = kanshi_calloc(npubs + 1, sizeof(**keys));
    if (*keys == NULL)
        return -1;
    for (size_t i = 0; i < npubs; i++)
        if (bundle_pubkey_load(pubs[i], &(*keys)[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "kanshi-sig: %s\n", err);
            return -1;
        }
    return 0;
}

static void print_manifest(const struct bundle *b)
{
    uint8_t id[BUNDLE_KEY_ID_LEN];
    time_t t = (time_t)bundle_created(b);
    char when[64];
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(when, sizeof(when), "%" PRIu64, bundle_created(b));
    bundle_signer(b, id);
    printf("kind:               %s\n", bundle_kind(b));
    printf("version:            %" PRIu64 "\n", bundle_version(b));
    printf("created:            %s\n", when);
    printf("min sensor version: %s\n", bundle_min_version(b)[0] ? bundle_min_version(b) : "any");
    printf("signed by key id:   ");
    print_key_id(stdout, id);
    printf("\nfiles:              %zu\n", bundle_nfiles(b));
    for (size_t i = 0; i < bundle_nfiles(b); i++) {
        const struct bundle_file *f = bundle_file(b, i);
        printf("  %10zu  ", f->len);
        for (int j = 0; j < 32; j++)
            printf("%02x", f->sha256[j]);
        printf("  %s\n", f->name);
    }
}

/* verify (show == false) or show: 0 verified, 1 refused or unreadable. */
static int cmd_verify(const char *file, char **pubs, size_t npubs, bool show)
{
    struct bundle_pubkey *keys = NULL;
    struct bundle *b = NULL;
    uint8_t *data = NULL, id[BUNDLE_KEY_ID_LEN];
    size_t len = 0;
    uint64_t total;
    char err[1024];
    int rc = 1;

    if (bundle_read_file(file, (size_t)BUNDLE_MAX_SIZE, &data, &len, err, sizeof(err)) != 0) {
        fprintf(stderr, "kanshi-sig: %s\n", err);
        return 1;
    }
    if (show && npubs == 0) {
        if (bundle_peek_header(data, len, id, &total, err, sizeof(err)) != 0) {
            fprintf(stderr, "kanshi-sig: %s: %s\n", file, err);
        } else {
            printf("format:             %d\nlength:             %" PRIu64 " (file: %zu)\n"
                   "signed by key id:   ",
                   BUNDLE_FORMAT, total, len);
            print_key_id(stdout, id);
            printf("\nsignature:          NOT CHECKED; the manifest is shown only once "
                   "verified (--pub KEY)\n");
            rc = 0;
        }
        free(data);
        return rc;
    }
    if (load_pubs(pubs, npubs, &keys) != 0)
        goto out;
    if (bundle_open(&b, data, len, NULL, keys, npubs, err, sizeof(err)) != 0) {
        fprintf(stderr, "kanshi-sig: %s: REJECTED: %s\n", file, err);
        goto out;
    }
    if (show) {
        printf("signature:          verified\n");
        print_manifest(b);
    } else {
        printf("%s: verified: kind %s, version %" PRIu64 ", %zu files\n", file, bundle_kind(b),
               bundle_version(b), bundle_nfiles(b));
    }
    rc = 0;
out:
    bundle_close(b);
    free(keys);
    free(data);
    return rc;
}

int main(int argc, char **argv)
{
    enum {
        OPT_EVE = 256, OPT_REPEAT, OPT_HS_CACHE, OPT_KEY, OPT_VERSION, OPT_MINVER, OPT_VARS,
        OPT_THRESHOLD, OPT_GEOIP, OPT_PUB, OPT_SKIP, OPT_PRECOMPILE
    };
    unsigned repeat = 3;
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"rules", required_argument, NULL, 'S'},
        {"read", required_argument, NULL, 'r'},   {"log-dir", required_argument, NULL, 'l'},
        {"eve", required_argument, NULL, OPT_EVE}, {"help", no_argument, NULL, 'h'},
        {"repeat", required_argument, NULL, OPT_REPEAT},
        {"hs-cache", required_argument, NULL, OPT_HS_CACHE},
        {"out", required_argument, NULL, 'o'},    {"key", required_argument, NULL, OPT_KEY},
        {"version", required_argument, NULL, OPT_VERSION},
        {"min-sensor-version", required_argument, NULL, OPT_MINVER},
        {"vars", required_argument, NULL, OPT_VARS},
        {"threshold", required_argument, NULL, OPT_THRESHOLD},
        {"geoip", required_argument, NULL, OPT_GEOIP}, {"pub", required_argument, NULL, OPT_PUB},
        {"skip-unloadable", no_argument, NULL, OPT_SKIP},
        {"precompile", required_argument, NULL, OPT_PRECOMPILE},
        {NULL, 0, NULL, 0},
    };
    struct bundle_opts bo = {0};
    char **pubs = NULL;
    size_t npubs = 0;
    struct sig s = {0};
    char **rules = NULL, **pcaps = NULL;
    size_t nrules = 0, npcaps = 0;
    const char *config = NULL, *logdir = NULL, *eve = NULL, *cmd;
    char evepath[4096], err[1024];
    int ch, rc;

    log_init("kanshi-sig", LOG_LEVEL_WARN);
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    cmd = argv[1];
    optind = 2;
    while ((ch = getopt_long(argc, argv, "c:S:r:l:o:h", longopts, NULL)) != -1) {
        char ***arr = NULL;
        size_t *n = NULL;
        switch (ch) {
        case 'c':
            config = optarg;
            break;
        case 'S':
            arr = &rules;
            n = &nrules;
            break;
        case 'r':
            arr = &pcaps;
            n = &npcaps;
            break;
        case 'l':
            logdir = optarg;
            break;
        case OPT_EVE:
            eve = optarg;
            break;
        case 'o':
            bo.out = optarg;
            break;
        case OPT_KEY:
            bo.key = optarg;
            break;
        case OPT_VERSION:
            bo.version = optarg;
            break;
        case OPT_MINVER:
            bo.min_version = optarg;
            break;
        case OPT_SKIP:
            bo.skip_unloadable = true;
            break;
        case OPT_PRECOMPILE: {
            char *list = strdup(optarg), *save = NULL;
            bool any = false;
            for (char *t = list != NULL ? strtok_r(list, ",", &save) : NULL; t != NULL;
                 t = strtok_r(NULL, ",", &save)) {
                any = true;
                if (!detect_target_valid(t)) {
                    fprintf(stderr, "kanshi-sig: --precompile: unknown target '%s' (native, "
                                    "avx512vbmi, avx512, avx2, generic)\n",
                            t);
                    free(list);
                    return 2;
                }
            }
            free(list);
            if (!any) {
                fprintf(stderr, "kanshi-sig: --precompile: give one or more targets\n");
                return 2;
            }
            bo.precompile = optarg;
            break;
        }
        case OPT_VARS:
            bo.vars = optarg;
            break;
        case OPT_THRESHOLD:
            bo.threshold = optarg;
            break;
        case OPT_GEOIP:
            arr = &bo.geoip;
            n = &bo.ngeoip;
            break;
        case OPT_PUB:
            arr = &pubs;
            n = &npubs;
            break;
        case OPT_HS_CACHE:
            s.hs_cache = optarg;
            if (mkdir(optarg, 0700) != 0 && errno != EEXIST) {
                fprintf(stderr, "kanshi-sig: --hs-cache %s: %s\n", optarg, strerror(errno));
                return 1;
            }
            break;
        case OPT_REPEAT:
            repeat = (unsigned)strtoul(optarg, NULL, 10);
            if (repeat == 0 || repeat > 1000) {
                fprintf(stderr, "kanshi-sig: --repeat: give 1 to 1000\n");
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (arr != NULL) {
            char **a = kanshi_reallocarray(*arr, *n + 1, sizeof(char *));
            if (a == NULL)
                return 1;
            a[(*n)++] = optarg;
            *arr = a;
        }
    }
    for (; optind < argc; optind++) {
        char **a = kanshi_reallocarray(rules, nrules + 1, sizeof(char *));
        if (a == NULL)
            return 1;
        a[nrules++] = argv[optind];
        rules = a;
    }
    if (strcmp(cmd, "keygen") == 0 || strcmp(cmd, "verify") == 0 || strcmp(cmd, "show") == 0) {
        if (strcmp(cmd, "keygen") == 0) {
            if (bo.out == NULL || nrules != 0) {
                fprintf(stderr, "kanshi-sig: keygen: give --out PREFIX and nothing else\n");
                rc = 2;
            } else {
                rc = cmd_keygen(bo.out);
            }
        } else if (nrules != 1) {
            fprintf(stderr, "kanshi-sig: %s: give one bundle file\n", cmd);
            rc = 2;
        } else if (strcmp(cmd, "verify") == 0 && npubs == 0) {
            fprintf(stderr, "kanshi-sig: verify: give the trusted public key(s) with --pub\n");
            rc = 2;
        } else {
            rc = cmd_verify(rules[0], pubs, npubs, strcmp(cmd, "show") == 0);
        }
        free(rules);
        free(pubs);
        free(pcaps);
        free(bo.geoip);
        return rc;
    }
    if (strcmp(cmd, "bundle") == 0) {
        if (config != NULL) {
            fprintf(stderr, "kanshi-sig: bundle: give vars with --vars FILE (it goes into the "
                            "bundle), not -c\n");
            return 2;
        }
        if (bo.key == NULL || bo.version == NULL || bo.out == NULL) {
            fprintf(stderr, "kanshi-sig: bundle: give --key KEY, --version N and -o OUT\n");
            return 2;
        }
        config = bo.vars;
    }
    if (config_defaults(&s.cfg) != 0)
        return 1;
    if (config != NULL && config_load(&s.cfg, config, err, sizeof(err)) != 0) {
        fprintf(stderr, "kanshi-sig: %s\n", err);
        return 1;
    }
    if (nrules == 0) {
        fprintf(stderr, "kanshi-sig: %s: give at least one rules file or directory\n", cmd);
        return 2;
    }
    if (strcmp(cmd, "bundle") == 0) {
        rc = cmd_bundle(&s, &bo, rules, nrules);
    } else if (strcmp(cmd, "lint") == 0) {
        rc = cmd_lint(&s, rules, nrules);
    } else if (strcmp(cmd, "stats") == 0) {
        rc = cmd_stats(&s, rules, nrules);
    } else if (strcmp(cmd, "bench") == 0) {
        if (npcaps == 0) {
            fprintf(stderr, "kanshi-sig: bench: give at least one -r PCAP\n");
            return 2;
        }
        rc = cmd_bench(&s, rules, nrules, pcaps, npcaps, repeat);
    } else if (strcmp(cmd, "test") == 0) {
        if (npcaps == 0) {
            fprintf(stderr, "kanshi-sig: test: give at least one -r PCAP\n");
            return 2;
        }
        if (logdir != NULL) {
            if (mkdir(logdir, 0750) != 0 && errno != EEXIST) {
                fprintf(stderr, "kanshi-sig: %s: %s\n", logdir, strerror(errno));
                return 1;
            }
            snprintf(evepath, sizeof(evepath), "%s/eve.json", logdir);
            eve = evepath;
        }
        rc = cmd_test(&s, rules, nrules, pcaps, npcaps, eve);
    } else {
        fprintf(stderr, "kanshi-sig: unknown command '%s'\n", cmd);
        usage(stderr);
        return 2;
    }
    for (size_t i = 0; i < s.nreasons; i++) {
        free(s.reasons[i].key);
        free(s.reasons[i].example);
    }
    free(s.reasons);
    for (size_t i = 0; i < s.nfailed; i++)
        free(s.failed[i].base);
    free(s.failed);
    free(s.sid_of);
    free(s.sid_count);
    ruleset_destroy(s.rs);
    config_fini(&s.cfg);
    free(rules);
    free(pcaps);
    free(pubs);
    free(bo.geoip);
    return rc;
}
