/*
 * main.c — kanshi-sensor: capture → decode → flow → detect → enrich → EVE
 * → spool → uplink.
 *
 * Start-up reads the config, loads and compiles the rules, opens the
 * enrichment databases, the output and the capture, then drops privileges
 * before the first packet is read.  From then on the packet loop only counts:
 * a bad packet is a decoder event, never a log line.
 *
 * With uplink.endpoint in the config, every alert is also appended to the
 * disk spool, and the uplink thread ships the spool to the collector.  The
 * packet loop never waits on the network; between packets it applies the
 * spool's fsync policy, publishes counters for the uplink's heartbeat and
 * reports (at most every few seconds) alerts a full spool could not keep.
 * When the input ends or a signal stops the sensor, it waits up to
 * uplink.drain-timeout seconds for the collector to acknowledge everything.
 *
 * One worker runs the whole pipeline in this slice.  The flow table, the
 * decoder counters and the detection scratch are per-worker objects already,
 * so more workers (flow-hashed, as DESIGN.md §3 describes) add threads, not
 * new data structures.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kanshi/capture.h"
#include "kanshi/config.h"
#include "kanshi/decode.h"
#include "kanshi/detect.h"
#include "kanshi/enrich.h"
#include "kanshi/eve.h"
#include "kanshi/flow.h"
#include "kanshi/kanshi.h"
#include "kanshi/privdrop.h"
#include "kanshi/rules.h"
#include "kanshi/spool.h"
#include "kanshi/uplink.h"
#include "kanshi/wire.h"
#include "kanshi/worker.h"

/* How often the packet loop publishes counters and reports a full spool. */
#define SENSOR_PUBLISH_USEC 500000u
#define SENSOR_FULL_REPORT_USEC 10000000u

/* Set from signal handlers, read by the packet loop. */
static volatile sig_atomic_t sig_stop, sig_stats;

struct sensor {
    struct sensor_config cfg;
    struct ruleset *rs;
    struct detect_engine *de;
    struct worker *w;
    struct enricher *enr;
    struct eve_writer *eve;
    struct capture *cap;
    struct jbuf jb;
    bool table;
    bool stamp; /* --stamp: kanshi.stamp_us in every alert */
    uint64_t alerts;
    uint64_t started_usec;
    uint64_t run_usec; /* time spent in the packet loop */
    unsigned rule_errors_shown;

    /* Uplink (NULL when uplink.endpoint is not set). */
    struct spool *spool;
    struct uplink *uplink;
    char secret_key[UPLINK_KEY_LEN + 1]; /* read before dropping privileges */
    uint64_t spool_errors;               /* appends that failed for another reason than full */
    uint64_t full_reported;              /* spool-full drops already logged */
    uint64_t last_publish_usec, last_full_report_usec;
    struct uplink_stats final_ustats; /* taken when the uplink stops */
    bool uplink_stopped;
};

struct options {
    const char *config;
    char **rules;
    size_t nrules;
    char **files;
    size_t nfiles;
    const char *iface;
    const char *bpf;
    const char *logdir;
    const char *eve;
    const char *sensor_id;
    const char *threshold;
    const char *checksum; /* -k */
    const char *hs_cache; /* --hs-cache DIR */
    bool table, strict, test_only, quiet, stamp, midstream, no_hs_cache;
    int verbose;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: kanshi-sensor [options] (-r FILE... | -i IFACE)\n"
            "\n"
            "Network security monitoring sensor: reads packets, matches rules, writes alerts\n"
            "as EVE JSON.\n"
            "\n"
            "  -c, --config FILE     YAML config (vars, geoip, output, user, flow limits)\n"
            "  -S, --rules PATH      rules file or directory of *.rules (repeatable)\n"
            "  -r, --read FILE       read a pcap or pcapng file (repeatable)\n"
            "  -i, --interface IFACE capture live from IFACE\n"
            "  -f, --filter BPF      BPF capture filter, e.g. 'tcp port 80'\n"
            "  -l, --log-dir DIR     write alerts to DIR/eve.json (default: stdout, or\n"
            "                        nothing when the config sends them to a collector)\n"
            "      --eve FILE        write alerts to FILE ('-' for stdout)\n"
            "      --table           print alerts as a readable table on stdout\n"
            "      --sensor-id ID    override the config's sensor-id\n"
            "      --stamp           debugging: put the time each alert was made into it\n"
            "                        (kanshi.stamp_us), to measure latency to the feeds\n"
            "      --strict          fail when any rule does not load\n"
            "      --threshold-file FILE  threshold.config (suppress, threshold, rate_filter)\n"
            "      --midstream       pick up TCP sessions without a handshake\n"
            "      --hs-cache DIR    keep compiled Hyperscan databases in DIR (made if\n"
            "                        missing; default: the config's detect.cache-dir)\n"
            "      --no-hs-cache     always compile, use no database cache\n"
            "  -k, --checksum-checks auto|yes|no  keep packets with bad TCP checksums out\n"
            "                        of the stream (Suricata's -k; also all/none)\n"
            "  -n, --test            check config and rules, then exit\n"
            "  -q, --quiet           no statistics at exit\n"
            "  -v, --verbose         more log output (repeatable)\n"
            "  -V, --version         print the version\n"
            "  -h, --help            this help\n"
            "\n"
            "With uplink.endpoint in the config, alerts are spooled on disk and sent to the\n"
            "collector.  Statistics go to stderr at exit and on SIGUSR1; SIGINT/SIGTERM stop\n"
            "(a second signal cuts short the wait for the collector's acknowledgements).\n"
            "See kanshi-sensor(8) and sensor/kanshi-sensor.yaml.example.\n");
}

static int push_str(char ***arr, size_t *n, const char *s)
{
    char **a = kanshi_reallocarray(*arr, *n + 1, sizeof(char *));
    if (a == NULL)
        return -ENOMEM;
    a[(*n)++] = (char *)s;
    *arr = a;
    return 0;
}

static void parse_options(int argc, char **argv, struct options *o)
{
    enum {
        OPT_EVE = 256,
        OPT_TABLE,
        OPT_STRICT,
        OPT_SENSOR_ID,
        OPT_STAMP,
        OPT_THRESHOLD,
        OPT_MIDSTREAM,
        OPT_HS_CACHE,
        OPT_NO_HS_CACHE
    };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"rules", required_argument, NULL, 'S'},
        {"read", required_argument, NULL, 'r'},
        {"interface", required_argument, NULL, 'i'},
        {"filter", required_argument, NULL, 'f'},
        {"log-dir", required_argument, NULL, 'l'},
        {"eve", required_argument, NULL, OPT_EVE},
        {"table", no_argument, NULL, OPT_TABLE},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"sensor-id", required_argument, NULL, OPT_SENSOR_ID},
        {"stamp", no_argument, NULL, OPT_STAMP},
        {"threshold-file", required_argument, NULL, OPT_THRESHOLD},
        {"midstream", no_argument, NULL, OPT_MIDSTREAM},
        {"hs-cache", required_argument, NULL, OPT_HS_CACHE},
        {"no-hs-cache", no_argument, NULL, OPT_NO_HS_CACHE},
        {"checksum-checks", required_argument, NULL, 'k'},
        {"test", no_argument, NULL, 'n'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    while ((ch = getopt_long(argc, argv, "c:S:r:i:f:l:k:nqvVh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            o->config = optarg;
            break;
        case 'S':
            if (push_str(&o->rules, &o->nrules, optarg) != 0)
                fatalx("out of memory");
            break;
        case 'r':
            if (push_str(&o->files, &o->nfiles, optarg) != 0)
                fatalx("out of memory");
            break;
        case 'i':
            o->iface = optarg;
            break;
        case 'f':
            o->bpf = optarg;
            break;
        case 'l':
            o->logdir = optarg;
            break;
        case OPT_EVE:
            o->eve = optarg;
            break;
        case OPT_TABLE:
            o->table = true;
            break;
        case OPT_STRICT:
            o->strict = true;
            break;
        case OPT_SENSOR_ID:
            o->sensor_id = optarg;
            break;
        case OPT_STAMP:
            o->stamp = true;
            break;
        case OPT_THRESHOLD:
            o->threshold = optarg;
            break;
        case OPT_MIDSTREAM:
            o->midstream = true;
            break;
        case OPT_HS_CACHE:
            o->hs_cache = optarg;
            break;
        case OPT_NO_HS_CACHE:
            o->no_hs_cache = true;
            break;
        case 'k':
            o->checksum = optarg;
            break;
        case 'n':
            o->test_only = true;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'v':
            o->verbose++;
            break;
        case 'V':
            printf("kanshi-sensor %s\n", KANSHI_VERSION);
            exit(0);
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kanshi-sensor: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        exit(2);
    }
    if (!o->test_only && o->nfiles == 0 && o->iface == NULL) {
        fprintf(stderr, "kanshi-sensor: give -r FILE or -i IFACE\n");
        usage(stderr);
        exit(2);
    }
    if (o->nfiles > 0 && o->iface != NULL) {
        fprintf(stderr, "kanshi-sensor: -r and -i cannot be used together\n");
        exit(2);
    }
}

static void on_rule_error(void *arg, const char *file, unsigned line, const char *msg)
{
    struct sensor *s = arg;

    /* Every error is reported; a huge ruleset's errors are summarised by
     * kanshi-sig stats, so the sensor's log is kept readable. */
    if (s->rule_errors_shown++ < 200)
        log_warnx("%s:%u: %s", file, line, msg);
    else if (s->rule_errors_shown == 201)
        log_warnx("further rule errors not shown");
}

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void load_rules(struct sensor *s, const struct options *o)
{
    struct rule_vars *vars;
    const char *classification = s->cfg.classification;
    const char *threshold;
    char cbuf[4096];
    int rc;
    size_t loaded = 0;

    if (rule_vars_create(&vars) != 0 || config_apply_vars(&s->cfg, vars) != 0 ||
        rule_vars_set_defaults(vars) != 0)
        fatalx("out of memory");
    if (ruleset_create(&s->rs, vars, on_rule_error, s) != 0)
        fatalx("out of memory");
    /* Without a classification file in the config, use the one shipped
     * beside the rules, as Suricata's rule directory layout has it. */
    for (size_t i = 0; classification == NULL && i < o->nrules; i++) {
        if (is_dir(o->rules[i])) {
            snprintf(cbuf, sizeof(cbuf), "%s/classification.config", o->rules[i]);
            if (access(cbuf, R_OK) == 0)
                classification = cbuf;
        }
    }
    if (classification != NULL) {
        rc = ruleset_load_classification(s->rs, classification);
        if (rc < 0 && rc != KANSHI_EPARSE)
            fatalx("%s: %s", classification, kanshi_strerror(rc));
    }
    for (size_t i = 0; i < o->nrules + s->cfg.nrule_paths; i++) {
        const char *path = i < o->nrules ? o->rules[i] : s->cfg.rule_paths[i - o->nrules];
        rc = ruleset_load_path(s->rs, path);
        if (rc < 0)
            fatalx("%s: %s", path, kanshi_strerror(rc));
        loaded += (size_t)rc;
    }
    threshold = o->threshold != NULL ? o->threshold : s->cfg.threshold_file;
    if (threshold != NULL && (rc = ruleset_load_threshold(s->rs, threshold)) < 0)
        fatalx("%s: %s", threshold, kanshi_strerror(rc));
    if (s->rs->nerrors > 0) {
        log_warnx("%zu rules loaded, %zu rules could not be loaded", s->rs->nrules,
                  s->rs->nerrors);
        if (o->strict)
            fatalx("--strict: refusing to run with rules that did not load");
    } else {
        log_info("%zu rules loaded", s->rs->nrules);
    }
    (void)loaded;
}

/*
 * Builds the detection engine, through the Hyperscan database cache unless
 * --no-hs-cache: --hs-cache DIR (created when missing), else the config's
 * detect.cache-dir (used only when it exists).  One line says whether the
 * databases were compiled or loaded, and how long it took; a cache that
 * could not be used is said once here and costs only the compile.
 */
static void build_engine(struct sensor *s, const struct options *o)
{
    struct detect_options dopt = {0};
    const struct detect_info *di;
    char err[1024] = "";
    size_t ndb;

    if (!o->no_hs_cache)
        dopt.cache_dir = o->hs_cache != NULL ? o->hs_cache : s->cfg.detect_cache_dir;
    if (o->hs_cache != NULL && !o->no_hs_cache && mkdir(o->hs_cache, 0700) != 0 && errno != EEXIST)
        log_warn("--hs-cache %s", o->hs_cache); /* the engine then says it is not used */
    if (detect_engine_create_opts(&s->de, s->rs, &dopt, err, sizeof(err)) != 0)
        fatalx("detection engine: %s", err);
    di = detect_engine_info(s->de);
    ndb = di->cache_hits + di->cache_misses;
    if (!di->cache_used || ndb == 0) {
        const char *why = dopt.cache_dir != NULL ? di->cache_note : "disabled";
        log_info("detect: Hyperscan databases compiled in %.3f s (engine %.3f s)%s%s",
                 (double)di->db_usec / 1e6, (double)di->compile_usec / 1e6,
                 di->cache_used ? "" : "; no database cache: ", di->cache_used ? "" : why);
    } else if (di->cache_hits == ndb) {
        log_info("detect: %zu Hyperscan databases loaded from the cache %s in %.3f s "
                 "(engine %.3f s)",
                 ndb, dopt.cache_dir, (double)di->db_usec / 1e6, (double)di->compile_usec / 1e6);
    } else {
        log_info("detect: %zu Hyperscan databases compiled, %zu loaded from the cache %s, "
                 "in %.3f s (engine %.3f s)%s",
                 di->cache_misses, di->cache_hits, dopt.cache_dir, (double)di->db_usec / 1e6,
                 (double)di->compile_usec / 1e6,
                 di->cache_readonly ? "; the cache is read-only, nothing stored" : "");
    }
    if (di->cache_used && di->cache_note[0] != '\0')
        log_warnx("detect: database cache: %s (%zu files rejected, %zu not stored)", di->cache_note,
                  di->cache_rejected, di->cache_write_errors);
    if (o->verbose > 0)
        log_debug("detect: %zu rules, %zu groups, %zu patterns, %zu without fast pattern, "
                  "%zu database bytes, %zu old cache files removed",
                  di->rules, di->groups, di->patterns, di->no_fast_pattern, di->db_bytes,
                  di->cache_pruned);
}

static void print_table_header(void)
{
    printf("%-15s %-9s %-3s %-22s    %-22s %-14s %s\n", "TIME", "SID", "SEV", "SOURCE",
           "DESTINATION", "GEO(src>dst)", "SIGNATURE");
}

static void geo_label(const struct geo_info *g, char *buf, size_t len)
{
    if (g == NULL || (!g->has_country && !g->has_asn))
        snprintf(buf, len, "-");
    else if (g->has_asn)
        snprintf(buf, len, "%s/AS%u", g->has_country ? g->country : "??", g->asn);
    else
        snprintf(buf, len, "%s", g->country);
}

static void print_table_row(const struct packet *p, const struct rule *r, int severity,
                            const struct geo_info *sg, const struct geo_info *dg)
{
    char ts[40], a[64], b[64], src[80], dst[80], gs[48], gd[48], geo[100];
    bool ports = (p->flags & (PKT_TCP | PKT_UDP)) != 0;
    time_t t = (time_t)(p->ts_usec / 1000000u);
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(ts, sizeof(ts), "%02d:%02d:%02d.%06u", tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned)(p->ts_usec % 1000000u));
    kanshi_addr_str(&p->src, a, sizeof(a));
    kanshi_addr_str(&p->dst, b, sizeof(b));
    if (ports) {
        snprintf(src, sizeof(src), "%s:%u", a, p->sp);
        snprintf(dst, sizeof(dst), "%s:%u", b, p->dp);
    } else {
        snprintf(src, sizeof(src), "%s", a);
        snprintf(dst, sizeof(dst), "%s", b);
    }
    geo_label(sg, gs, sizeof(gs));
    geo_label(dg, gd, sizeof(gd));
    snprintf(geo, sizeof(geo), "%s>%s", gs, gd);
    printf("%-15s %-9u %-3d %-22s -> %-22s %-14s %s\n", ts, r->sid, severity, src, dst, geo,
           r->msg ? r->msg : "");
}

/*
 * --stamp: adds "stamp_us", the wall-clock time the alert was made, to its
 * "kanshi" object — the start of the latency `make bench` measures up to a
 * feed subscriber (`kanshictl alerts tail --stamp` notes the end).  The EVE
 * formatter closes every alert with that object, so the member goes in
 * before the last two braces; anything else is left alone.
 */
static void stamp_alert(struct jbuf *b)
{
    struct timespec ts;
    char member[48];
    int n;

    if (!jbuf_ok(b) || b->len < 3 || memcmp(b->p + b->len - 3, "}}\n", 3) != 0)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    n = snprintf(member, sizeof(member), ",\"stamp_us\":%llu}}\n",
                 (unsigned long long)ts.tv_sec * 1000000ull +
                     (unsigned long long)ts.tv_nsec / 1000u);
    b->len -= 3;
    jbuf_raw(b, member, (size_t)n);
}

static void on_alert(void *arg, const struct packet *p, const struct rule *r)
{
    struct sensor *s = arg;
    const struct rule_class *cls = r->classtype ? ruleset_find_class(s->rs, r->classtype) : NULL;
    struct geo_info sg, dg;
    struct eve_alert a = {
        .p = p,
        .r = r,
        .category = cls ? cls->description : "",
        .severity = r->priority,
        .flow_id = p->flow ? p->flow->flow_id : 0,
        .action = r->action == RULE_ACTION_DROP || r->action == RULE_ACTION_REJECT ? "blocked"
                                                                                   : "allowed",
        .sensor_id = s->cfg.sensor_id,
        .ruleset_version = s->cfg.ruleset_version,
    };

    if (r->action == RULE_ACTION_PASS)
        return;
    s->alerts++;
    if (s->enr != NULL) {
        enrich_lookup(s->enr, &p->src, &sg);
        enrich_lookup(s->enr, &p->dst, &dg);
        a.src_geo = &sg;
        a.dest_geo = &dg;
        a.country_epoch = enrich_country_epoch(s->enr);
        a.asn_epoch = enrich_asn_epoch(s->enr);
    }
    if (s->eve != NULL || s->spool != NULL) {
        jbuf_reset(&s->jb);
        eve_format_alert(&s->jb, &a);
        if (s->stamp)
            stamp_alert(&s->jb);
        if (jbuf_ok(&s->jb) && s->eve != NULL)
            eve_writer_write(s->eve, s->jb.p, s->jb.len);
        /* The spool holds the JSON object without its newline.  A full
         * spool counts the alert itself (dropped_full); the loop reports. */
        if (jbuf_ok(&s->jb) && s->spool != NULL && s->jb.len > 1) {
            int rc = spool_append(s->spool, (const uint8_t *)s->jb.p, (uint32_t)(s->jb.len - 1),
                                  NULL);
            if (rc != 0 && rc != KANSHI_ELIMIT)
                s->spool_errors++;
            /* The batch fsync's clock is checked here too (a clock read when
             * nothing is due): at a few packets a second the loop's
             * housekeeping every 1024 packets would leave an alert unsynced,
             * so unsent, for seconds. */
            if (rc == 0)
                spool_flush(s->spool);
        }
    }
    if (s->table)
        print_table_row(p, r, a.severity, a.src_geo, a.dest_geo);
}

static void print_stats(struct sensor *s)
{
    struct capture_stats cs = {0};
    const struct flow_stats *fs = worker_flow_stats(s->w);
    const struct decode_stats *ds = worker_decode_stats(s->w);
    double secs = (double)(now_usec() - s->started_usec) / 1e6;

    if (s->cap != NULL)
        capture_get_stats(s->cap, &cs);
    fprintf(stderr, "kanshi-sensor statistics (%.2f s):\n", secs);
    fprintf(stderr, "  capture:  packets %llu  bytes %llu  kernel drops %llu  interface drops %llu"
                    "  file errors %llu\n",
            (unsigned long long)cs.packets, (unsigned long long)cs.bytes,
            (unsigned long long)cs.kernel_drops, (unsigned long long)cs.if_drops,
            (unsigned long long)cs.file_errors);
    fprintf(stderr,
            "  decode:   ipv4 %llu  ipv6 %llu  tcp %llu  udp %llu  icmpv4 %llu  icmpv6 %llu"
            "  vlan %llu  fragments %llu  other %llu  invalid %llu\n",
            (unsigned long long)ds->ipv4, (unsigned long long)ds->ipv6,
            (unsigned long long)ds->tcp, (unsigned long long)ds->udp,
            (unsigned long long)ds->icmpv4, (unsigned long long)ds->icmpv6,
            (unsigned long long)ds->vlan,
            (unsigned long long)(ds->frag4 + ds->frag6),
            (unsigned long long)ds->other_l4, (unsigned long long)ds->invalid);
    fprintf(stderr,
            "  tunnels:  gre %llu  vxlan %llu  geneve %llu  teredo %llu  erspan %llu  ip-in-ip %llu"
            "  mpls %llu  pppoe %llu  inner packets %llu\n",
            (unsigned long long)ds->gre, (unsigned long long)ds->vxlan,
            (unsigned long long)ds->geneve, (unsigned long long)ds->teredo,
            (unsigned long long)ds->erspan, (unsigned long long)ds->ipip,
            (unsigned long long)ds->mpls, (unsigned long long)ds->pppoe,
            (unsigned long long)ds->tunnel_pkts);
    for (int e = 0; e < DE_MAX; e++) {
        if (ds->events[e] > 0)
            fprintf(stderr, "  event:    %s %llu\n", decode_event_name((enum decode_event)e),
                    (unsigned long long)ds->events[e]);
    }
    fprintf(stderr,
            "  flows:    created %llu  active %llu  timed out %llu  emergency evicted %llu"
            "  memcap drops %llu\n",
            (unsigned long long)fs->created, (unsigned long long)fs->active,
            (unsigned long long)fs->timed_out, (unsigned long long)fs->emergency_evicted,
            (unsigned long long)fs->memcap_drops);
    {
        const struct stream_stats *ss = worker_stream_stats(s->w);
        const struct defrag_stats *fr = worker_defrag_stats(s->w);
        fprintf(stderr,
                "  stream:   sessions %llu  midstream %llu  reused %llu  no session %llu"
                "  segments %llu  bytes %llu  retransmissions %llu  overlaps %llu"
                " (different data %llu)  gaps %llu (%llu bytes)  depth reached %llu"
                "  memcap drops %llu  out-of-order drops %llu  invalid %llu"
                "  bad checksum %llu%s\n",
                (unsigned long long)ss->sessions, (unsigned long long)ss->midstream,
                (unsigned long long)ss->reused, (unsigned long long)ss->no_session,
                (unsigned long long)ss->segments, (unsigned long long)ss->bytes,
                (unsigned long long)ss->retransmissions, (unsigned long long)ss->overlaps,
                (unsigned long long)ss->overlaps_diff, (unsigned long long)ss->gaps,
                (unsigned long long)ss->gap_bytes, (unsigned long long)ss->depth_reached,
                (unsigned long long)ss->memcap_drops, (unsigned long long)ss->ooo_drops,
                (unsigned long long)ss->invalid, (unsigned long long)ss->csum_bad,
                worker_checksum_validation(s->w) ? "" : " (checksum validation off)");
        fprintf(stderr,
                "  defrag:   fragments %llu  reassembled %llu  timeouts %llu  overlaps %llu"
                "  memcap drops %llu\n",
                (unsigned long long)(fr->fragments4 + fr->fragments6),
                (unsigned long long)(fr->reassembled4 + fr->reassembled6),
                (unsigned long long)fr->timeouts, (unsigned long long)fr->overlaps,
                (unsigned long long)fr->memcap_drops);
    }
    {
        const struct app_layer_stats *as = worker_app_stats(s->w);
        fprintf(stderr, "  app:     ");
        for (int p = APP_PROTO_HTTP; p < APP_PROTO_COUNT; p++)
            fprintf(stderr, " %s %llu", app_proto_name((enum app_proto)p),
                    (unsigned long long)as->flows[p]);
        fprintf(stderr,
                "  (flows)  dns messages %llu  parser errors %llu  states refused %llu\n",
                (unsigned long long)as->dns_messages, (unsigned long long)as->parser_errors,
                (unsigned long long)as->states_refused);
        for (int e = 0; e < HTTP_EV_COUNT; e++)
            if (as->http_events[e] > 0)
                fprintf(stderr, "  event:    app.http.%s %llu\n",
                        http_event_name((enum http_event)e),
                        (unsigned long long)as->http_events[e]);
        for (int e = 0; e < TLS_EV_COUNT; e++)
            if (as->tls_events[e] > 0)
                fprintf(stderr, "  event:    app.tls.%s %llu\n", tls_event_name((enum tls_event)e),
                        (unsigned long long)as->tls_events[e]);
        for (int e = 0; e < DNS_EV_COUNT; e++)
            if (as->dns_events[e] > 0)
                fprintf(stderr, "  event:    app.dns.%s %llu\n", dns_event_name((enum dns_event)e),
                        (unsigned long long)as->dns_events[e]);
    }
    fprintf(stderr, "  detect:   rules %zu  alerts %llu\n", s->rs ? s->rs->nrules : 0,
            (unsigned long long)s->alerts);
    if (s->run_usec > 0) {
        double rs = (double)s->run_usec / 1e6;
        struct rusage ru;
        fprintf(stderr, "  run:      %.3f s in the packet loop  %.0f packets/s  %.3f Gbit/s", rs,
                (double)cs.packets / rs, (double)cs.bytes * 8 / rs / 1e9);
        if (getrusage(RUSAGE_SELF, &ru) == 0)
            fprintf(stderr, "  max RSS %.1f MiB", (double)ru.ru_maxrss / 1024);
        fputc('\n', stderr);
    }
    if (s->enr != NULL && enrich_errors(s->enr) > 0)
        fprintf(stderr, "  enrich:   lookup errors %llu\n",
                (unsigned long long)enrich_errors(s->enr));
    if (s->spool != NULL) {
        struct spool_stats ss;
        spool_get_stats(s->spool, &ss);
        fprintf(stderr,
                "  spool:    next seq %llu  acked seq %llu  pending %llu  bytes %llu"
                "  segments %llu  full drops %llu  write errors %llu\n",
                (unsigned long long)ss.next_seq, (unsigned long long)ss.acked_seq,
                (unsigned long long)ss.pending, (unsigned long long)ss.bytes,
                (unsigned long long)ss.segments, (unsigned long long)ss.dropped_full,
                (unsigned long long)s->spool_errors);
    }
    if (s->uplink != NULL || s->uplink_stopped) {
        struct uplink_stats us = s->final_ustats;
        if (s->uplink != NULL)
            uplink_get_stats(s->uplink, &us);
        fprintf(stderr,
                "  uplink:   %s  connects %llu  disconnects %llu  handshake failures %llu"
                "  batches %llu  alerts sent %llu  resends %llu  acked seq %llu"
                "  renumbered %llu\n",
                us.connected ? "connected" : "not connected", (unsigned long long)us.connects,
                (unsigned long long)us.disconnects, (unsigned long long)us.auth_failures,
                (unsigned long long)us.batches_sent, (unsigned long long)us.alerts_sent,
                (unsigned long long)us.resends, (unsigned long long)us.acked_seq,
                (unsigned long long)us.renumbered);
    }
}

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        sig_stats = 1;
    else if (sig_stop < 100)
        sig_stop = sig_stop + 1; /* the drain at exit ends on the next one */
}

static void setup_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/*
 * Between packets, when the uplink is on: the spool's fsync policy, counters
 * for the heartbeat, and the one log line about a full spool every few
 * seconds (the packet path itself only counts).
 */
static void uplink_housekeeping(struct sensor *s, bool force)
{
    struct capture_stats cs = {0};
    struct spool_stats ss;
    const struct flow_stats *fs;
    uint64_t now;

    if (s->spool == NULL)
        return;
    spool_flush(s->spool);
    now = now_usec();
    if (!force && now - s->last_publish_usec < SENSOR_PUBLISH_USEC)
        return;
    s->last_publish_usec = now;
    capture_get_stats(s->cap, &cs);
    fs = worker_flow_stats(s->w);
    uplink_set_counter(s->uplink, WC_PACKETS, cs.packets);
    uplink_set_counter(s->uplink, WC_BYTES, cs.bytes);
    uplink_set_counter(s->uplink, WC_KERNEL_DROPS, cs.kernel_drops);
    uplink_set_counter(s->uplink, WC_IF_DROPS, cs.if_drops);
    uplink_set_counter(s->uplink, WC_DECODE_INVALID, worker_decode_stats(s->w)->invalid);
    uplink_set_counter(s->uplink, WC_FLOWS_ACTIVE, fs->active);
    uplink_set_counter(s->uplink, WC_FLOW_MEMCAP_DROPS, fs->memcap_drops);
    uplink_set_counter(s->uplink, WC_ALERTS, s->alerts);

    spool_get_stats(s->spool, &ss);
    if (ss.dropped_full > s->full_reported &&
        (s->last_full_report_usec == 0 ||
         now - s->last_full_report_usec >= SENSOR_FULL_REPORT_USEC)) {
        log_warnx("spool %s is full (spool.max-size %llu bytes): %llu alerts could not be kept "
                  "since the last report, %llu in all; is the collector reachable?",
                  s->cfg.spool_dir, (unsigned long long)s->cfg.spool_max_size,
                  (unsigned long long)(ss.dropped_full - s->full_reported),
                  (unsigned long long)ss.dropped_full);
        s->full_reported = ss.dropped_full;
        s->last_full_report_usec = now;
    }
}

static void run(struct sensor *s)
{
    struct capture_pkt cp;
    uint64_t n = 0;
    int rc;

    while (!sig_stop) {
        if (sig_stats) {
            sig_stats = 0;
            print_stats(s);
        }
        rc = capture_next(s->cap, &cp);
        if (rc == -ENOENT)
            break;
        if (rc == 0) {
            worker_idle(s->w);
            if (s->eve != NULL)
                eve_writer_flush(s->eve);
            uplink_housekeeping(s, false);
            continue;
        }
        worker_packet(s->w, cp.linktype, cp.data, cp.caplen, cp.wirelen, cp.ts_usec, on_alert, s);
        if (s->spool != NULL && (++n & 1023) == 0)
            uplink_housekeeping(s, false);
    }
    worker_flush(s->w);
}

/* Fills the uplink's config from the sensor's. */
static void uplink_config_from(const struct sensor *s, struct uplink_config *uc)
{
    *uc = (struct uplink_config){
        .endpoint = s->cfg.uplink_endpoint,
        .server_key = s->cfg.uplink_collector_key,
        .secret_key = s->secret_key,
        .public_key = s->cfg.uplink_public_key,
        .software = KANSHI_VERSION,
        .ruleset = s->cfg.ruleset_version,
        .stats_interval_ms = s->cfg.uplink_stats_interval * 1000u,
    };
}

/* Start-up checks of the uplink settings; reads the secret key while the
 * sensor may still be root (the key file is the root's). */
static void uplink_prepare(struct sensor *s)
{
    struct uplink_config uc;
    const char *where = s->cfg.path != NULL ? s->cfg.path : "config";
    char err[1024];

    if (s->cfg.uplink_endpoint == NULL)
        return;
    if (s->cfg.uplink_collector_key == NULL)
        fatalx("%s: uplink.endpoint is set but uplink.collector-public-key is not", where);
    if (s->cfg.uplink_secret_key_file == NULL)
        fatalx("%s: uplink.endpoint is set but uplink.secret-key-file is not", where);
    if (uplink_read_key_file(s->cfg.uplink_secret_key_file, 1, s->secret_key, err,
                             sizeof(err)) != 0)
        fatalx("uplink.secret-key-file: %s", err);
    uplink_config_from(s, &uc);
    if (uplink_check_config(&uc, err, sizeof(err)) != 0)
        fatalx("%s: %s", where, err);
}

/* Opens the spool and starts the uplink thread (after the privilege drop:
 * the spool's files belong to the user the sensor runs as). */
static void uplink_begin(struct sensor *s)
{
    struct spool_config sc = {
        .dir = s->cfg.spool_dir,
        .max_bytes = s->cfg.spool_max_size,
        .fsync = (enum spool_fsync)s->cfg.spool_fsync,
        .fsync_interval_ms = s->cfg.spool_fsync_interval,
    };
    struct uplink_config uc;
    struct spool_stats ss;
    char err[1024];
    int rc;

    if (s->cfg.uplink_endpoint == NULL)
        return;
    if ((rc = spool_open(&s->spool, &sc, err, sizeof(err))) != 0)
        fatalx("spool: %s", err);
    uplink_config_from(s, &uc);
    rc = uplink_create(&s->uplink, &uc, s->spool, err, sizeof(err));
    explicit_bzero(s->secret_key, sizeof(s->secret_key));
    if (rc != 0)
        fatalx("%s", err);
    if ((rc = uplink_start(s->uplink)) != 0)
        fatalx("uplink: cannot start its thread: %s", kanshi_strerror(rc));
    spool_get_stats(s->spool, &ss);
    log_info("uplink to %s: spool %s holds %llu alerts, next sequence %llu",
             s->cfg.uplink_endpoint, s->cfg.spool_dir, (unsigned long long)ss.pending,
             (unsigned long long)ss.next_seq);
}

/*
 * At exit: give the collector up to uplink.drain-timeout seconds to
 * acknowledge every alert, then stop the uplink.  What is not acknowledged
 * stays in the spool for the next start.
 */
static void uplink_end(struct sensor *s)
{
    struct spool_stats ss;
    uint64_t deadline, target;
    sig_atomic_t stop0 = sig_stop;
    bool done = false;

    if (s->spool == NULL)
        return;
    uplink_housekeeping(s, true); /* the final counters go out with the last STATS */
    spool_get_stats(s->spool, &ss);
    deadline = now_usec() + (uint64_t)s->cfg.uplink_drain_timeout * 1000000u;
    if (ss.pending > 0)
        log_info("uplink: waiting up to %u s for the collector to acknowledge %llu alerts",
                 s->cfg.uplink_drain_timeout, (unsigned long long)ss.pending);
    for (;;) {
        /* The spool hands out only what its fsync policy made durable. */
        spool_flush(s->spool);
        /* The last number is read afresh each time: the collector's answer
         * to HELLO may have renumbered the spool (spool_advance). */
        spool_get_stats(s->spool, &ss);
        target = ss.next_seq - 1;
        if (uplink_wait_acked(s->uplink, target, 50) == 0) {
            spool_get_stats(s->spool, &ss);
            if (ss.next_seq - 1 == target) {
                done = true;
                break;
            }
        }
        if (now_usec() >= deadline || sig_stop != stop0)
            break;
    }
    uplink_get_stats(s->uplink, &s->final_ustats);
    s->uplink_stopped = true;
    uplink_destroy(s->uplink);
    s->uplink = NULL;
    spool_get_stats(s->spool, &ss);
    if (!done)
        log_warnx("uplink: %llu alerts not acknowledged by the collector; they stay in %s "
                  "and are sent after the next start",
                  (unsigned long long)ss.pending, s->cfg.spool_dir);
}

int main(int argc, char **argv)
{
    struct options o = {0};
    struct sensor s = {0};
    struct worker_config wc;
    char err[1024] = "";
    char evepath[4096];
    const char *eve = NULL;
    int rc;

    log_init("kanshi-sensor", LOG_LEVEL_INFO);
    parse_options(argc, argv, &o);
    log_init("kanshi-sensor", o.verbose > 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
    s.started_usec = now_usec();
    s.table = o.table;
    s.stamp = o.stamp;

    if (config_defaults(&s.cfg) != 0)
        fatalx("out of memory");
    if (o.config != NULL && (rc = config_load(&s.cfg, o.config, err, sizeof(err))) != 0)
        fatalx("%s", err);
    if (o.sensor_id != NULL) {
        free(s.cfg.sensor_id);
        s.cfg.sensor_id = strdup(o.sensor_id);
    }
    if (o.midstream)
        s.cfg.stream_midstream = true;
    if (o.checksum != NULL) {
        if (strcmp(o.checksum, "auto") == 0)
            s.cfg.checksum_checks = CONFIG_CSUM_AUTO;
        else if (strcmp(o.checksum, "yes") == 0 || strcmp(o.checksum, "all") == 0)
            s.cfg.checksum_checks = CONFIG_CSUM_YES;
        else if (strcmp(o.checksum, "no") == 0 || strcmp(o.checksum, "none") == 0)
            s.cfg.checksum_checks = CONFIG_CSUM_NO;
        else
            fatalx("-k %s: expected auto, yes (all) or no (none)", o.checksum);
    }

    load_rules(&s, &o);
    build_engine(&s, &o);
    if (s.cfg.geoip_country != NULL || s.cfg.geoip_asn != NULL) {
        if ((rc = enrich_open(&s.enr, s.cfg.geoip_country, s.cfg.geoip_asn, err,
                              sizeof(err))) != 0)
            fatalx("geoip: %s", err);
    }
    uplink_prepare(&s);
    if (o.test_only) {
        log_info("configuration and rules OK");
        detect_engine_destroy(s.de);
        enrich_close(s.enr);
        ruleset_destroy(s.rs);
        config_fini(&s.cfg);
        free(o.rules);
        free(o.files);
        return 0;
    }

    /* Output: -l DIR, --eve FILE, the config's output.eve, else stdout
     * (unless the table has stdout or the alerts go to a collector). */
    if (o.logdir != NULL) {
        if (mkdir(o.logdir, 0750) != 0 && errno != EEXIST)
            fatal("%s", o.logdir);
        snprintf(evepath, sizeof(evepath), "%s/eve.json", o.logdir);
        eve = evepath;
    } else if (o.eve != NULL) {
        eve = o.eve;
    } else if (s.cfg.eve_path != NULL) {
        eve = s.cfg.eve_path;
    } else if (!o.table && s.cfg.uplink_endpoint == NULL) {
        eve = "-";
    }
    if (eve != NULL && (rc = eve_writer_open(&s.eve, eve, err, sizeof(err))) != 0)
        fatalx("output: %s", err);

    worker_config_from(&s.cfg, &wc);
    if ((rc = worker_create(&s.w, &wc, s.de)) != 0)
        fatalx("worker: %s (flow.memcap %llu, stream.memcap %llu, defrag.memcap %llu)",
               kanshi_strerror(rc), (unsigned long long)s.cfg.flow_memcap,
               (unsigned long long)s.cfg.stream_memcap, (unsigned long long)s.cfg.defrag_memcap);
    jbuf_init(&s.jb);

    if (o.iface != NULL)
        rc = capture_open_live(&s.cap, o.iface, s.cfg.snaplen, s.cfg.promisc, s.cfg.buffer_size,
                               o.bpf, err, sizeof(err));
    else
        rc = capture_open_files(&s.cap, o.files, o.nfiles, o.bpf, err, sizeof(err));
    if (rc != 0)
        fatalx("capture: %s", err);

    /* Everything privileged is open: give up root before the first packet. */
    if ((rc = privdrop_to(s.cfg.user, err, sizeof(err))) != 0)
        fatalx("%s", err);
    if (geteuid() == 0)
        log_warnx("running as root: set 'user' in the config to drop privileges");
    else if (s.cfg.user != NULL)
        log_debug("running as user %s", s.cfg.user);

    uplink_begin(&s);
    setup_signals();
    if (s.table)
        print_table_header();
    {
        uint64_t t0 = now_usec();
        run(&s);
        s.run_usec = now_usec() - t0;
    }
    uplink_end(&s);

    if (s.eve != NULL)
        eve_writer_close(s.eve);
    fflush(stdout);
    if (!o.quiet)
        print_stats(&s);
    /* A capture file cut short was reported when it happened; what was read
     * before the damage has been inspected and written, so this is not a
     * failure of the run. */
    rc = 0;
    capture_close(s.cap);
    jbuf_fini(&s.jb);
    worker_destroy(s.w);
    detect_engine_destroy(s.de);
    enrich_close(s.enr);
    spool_close(s.spool);
    ruleset_destroy(s.rs);
    config_fini(&s.cfg);
    free(o.rules);
    free(o.files);
    return rc;
}
