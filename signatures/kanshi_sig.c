/*
 * kanshi_sig.c — kanshi-sig, the signature team's tool.
 *
 *   kanshi-sig lint  RULES...            every rule error as FILE:LINE: KEYWORD: reason
 *   kanshi-sig test  -S RULES -r PCAP... alerts (EVE) and per-sid counts over captures
 *   kanshi-sig stats RULES...            loaded, rejected by reason, patterns, compile
 *
 * It loads rules with the same parser and compiles them with the same
 * detection engine as kanshi-sensor, and `test` runs the sensor's own worker
 * pipeline, so what passes here behaves the same on every sensor.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hs.h>
#include <time.h>

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
    fprintf(f, "usage: kanshi-sig lint  [-c CONFIG] RULES...\n"
               "       kanshi-sig test  [-c CONFIG] -S RULES -r PCAP... [-l DIR | --eve FILE]\n"
               "       kanshi-sig stats [-c CONFIG] [--hs-cache DIR] RULES...\n"
               "       kanshi-sig bench [-c CONFIG] -S RULES -r PCAP... [--repeat N]\n"
               "\n"
               "RULES is a rules file or a directory of *.rules files.\n"
               "  lint   print every rule that does not load, as FILE:LINE: KEYWORD: reason;\n"
               "         exit 1 when there is any\n"
               "  test   run the rules over captures as kanshi-sensor would; print per-sid\n"
               "         alert counts, and the alerts as EVE JSON with -l or --eve\n"
               "  stats  rules loaded, rejected by reason, fast patterns, groups, compile\n"
               "         time and database size\n"
               "  bench  time the sensor's pipeline over the captures (held in memory) and\n"
               "         Hyperscan alone over the same payloads with the same patterns\n"
               "\n"
               "  -c, --config FILE   sensor config for vars (address and port groups)\n"
               "  -S, --rules PATH    rules (test)\n"
               "      --hs-cache DIR  load/store compiled Hyperscan databases in DIR\n"
               "                      (made if missing)\n"
               "  -r, --read FILE     capture file, repeatable (test)\n"
               "  -l, --log-dir DIR   write DIR/eve.json (test)\n"
               "      --eve FILE      write alerts to FILE, '-' for stdout (test)\n"
               "  -h, --help          this help\n");
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

int main(int argc, char **argv)
{
    enum { OPT_EVE = 256, OPT_REPEAT, OPT_HS_CACHE };
    unsigned repeat = 3;
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"rules", required_argument, NULL, 'S'},
        {"read", required_argument, NULL, 'r'},   {"log-dir", required_argument, NULL, 'l'},
        {"eve", required_argument, NULL, OPT_EVE}, {"help", no_argument, NULL, 'h'},
        {"repeat", required_argument, NULL, OPT_REPEAT},
        {"hs-cache", required_argument, NULL, OPT_HS_CACHE},
        {NULL, 0, NULL, 0},
    };
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
    while ((ch = getopt_long(argc, argv, "c:S:r:l:h", longopts, NULL)) != -1) {
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
    if (strcmp(cmd, "lint") == 0) {
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
    free(s.sid_of);
    free(s.sid_count);
    ruleset_destroy(s.rs);
    config_fini(&s.cfg);
    free(rules);
    free(pcaps);
    return rc;
}
