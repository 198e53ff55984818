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
 * SIGHUP reloads the rules (see "Rule reload" below): a thread loads and
 * compiles the new ruleset beside the running one, and the packet loop
 * swaps it in between two packets.  Signed rules bundles (bundles.* in the
 * config, bundle_apply.h) go the same way: verified, unpacked, loaded and
 * compiled on that thread, swapped in, and only then recorded as running;
 * alerts then name the bundle ("bundle-N") as their ruleset.
 *
 * One worker runs the whole pipeline in this slice.  The flow table, the
 * decoder counters and the detection scratch are per-worker objects already,
 * so more workers (flow-hashed, as DESIGN.md §3 describes) add threads, not
 * new data structures.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kanshi/bundle_apply.h"
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
static volatile sig_atomic_t sig_stop, sig_stats, sig_reload;

struct options;

/* Rule errors of one load: how many were logged, and the first one (the
 * reason a refused bundle gives). */
struct rule_errors {
    unsigned shown;
    char first[512];
};

/*
 * A rule reload in progress and the reload counters.  One helper thread at
 * a time: a loader (builds the new ruleset, engine and the worker's
 * detection thread) or a reaper (frees the ruleset and engine a reload
 * replaced).  The loader's fields marked (job) belong to it from its start
 * until it sets `finished`; the packet loop reads them only after joining.
 */
enum reload_job { RELOAD_NONE, RELOAD_LOAD, RELOAD_REAP };

struct reload {
    enum reload_job job; /* the helper thread running, if any */
    pthread_t thread;
    atomic_bool finished;    /* set by the helper thread as its last act */
    bool requested;          /* a reload waits to start (requests coalesce) */
    char *request_path;      /* its rules path; NULL: the rules in use */
    char *current_path;      /* where the running rules came from; NULL: -S and rule-files */
    char *request_bundle;    /* a bundle file waiting to be applied (before `requested`) */
    uint64_t current_bundle; /* version of the bundle the running rules are, 0: none */

    /* (job) the load */
    char *path;                  /* rules path to load, NULL: -S and rule-files */
    uint64_t job_bundle;         /* the bundle version path is, 0: none */
    char *bundle_file;           /* a bundle to apply (path is then unused), or NULL */
    struct bundle_staged staged; /* what bundle_apply_file() made of it */
    struct ruleset *rs;
    struct detect_engine *de;
    struct detect_thread *dt;
    struct enricher *enr; /* a bundle's GeoIP (or the config's), when enr_set */
    bool enr_set;
    int rc;
    char err[1024];
    struct rule_errors errors;
    uint64_t t0_usec, load_usec, engine_usec, end_usec;

    /* (job) the reap */
    struct ruleset *old_rs;
    struct detect_engine *old_de;
    struct enricher *old_enr;

    /* Counters and the outcome of the last reload (for a bundle's RESULT). */
    uint64_t done, failed, last_ms;
    int last_rc;
    char last_err[1024];

    /* Bundles: counters and the last outcome (what a RESULT message says:
     * its version, 0 when it was not known, and why it was refused). */
    uint64_t bundles_applied, bundles_refused;
    uint64_t bundle_last_version;
    enum bundle_refusal bundle_last_refusal;
    char bundle_last_err[1024];
};

struct sensor {
    struct sensor_config cfg;
    const struct options *opts;
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
    struct rule_errors rule_errors;
    struct reload reload;

    /* Signed rules bundles (NULL without bundles.keys) and the ruleset's
     * name in alerts: "bundle-N" while bundle N runs, else the config's
     * ruleset-version.  Changed by the packet loop only, with the rules. */
    struct bundle_store *bstore;
    const char *ruleset_label;
    char bundle_label[32];
    uint64_t last_bundle_check_usec;
    int bundle_dir_errno; /* of the last failed look into bundles.incoming */

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
    bool table, strict, test_only, quiet, stamp, midstream, async_oneside, no_hs_cache;
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
            "      --async-oneside   sessions seen from the client's side only\n"
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
            "collector.  Statistics go to stderr at exit and on SIGUSR1; SIGHUP reloads the\n"
            "rules (or applies a signed bundle waiting in bundles.incoming); SIGINT/SIGTERM\n"
            "stop (a second signal cuts short the wait for the collector's acknowledgements).\n"
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
        OPT_ASYNC_ONESIDE,
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
        {"async-oneside", no_argument, NULL, OPT_ASYNC_ONESIDE},
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
        case OPT_ASYNC_ONESIDE:
            o->async_oneside = true;
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

/* arg: the struct rule_errors of this ruleset. */
static void on_rule_error(void *arg, const char *file, unsigned line, const char *msg)
{
    struct rule_errors *e = arg;

    if (e->shown == 0)
        snprintf(e->first, sizeof(e->first), "%.200s:%u: %.280s", file, line, msg);
    /* The first 200 errors are reported; a huge ruleset's errors are
     * summarised by kanshi-sig stats, so the sensor's log is kept readable. */
    if (e->shown++ < 200)
        log_warnx("%s:%u: %s", file, line, msg);
    else if (e->shown == 201)
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

/*
 * The vars of a bundle's vars.yaml (the sensor config's format; only its
 * vars section is used) set over those already in vars.  0, or a negative
 * code with "FILE:LINE: KEY: why" in err.
 */
static int rules_load_vars(const char *file, struct rule_vars *vars, char *err, size_t errlen)
{
    struct sensor_config vc;
    int rc;

    if ((rc = config_defaults(&vc)) != 0) {
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    if ((rc = config_load(&vc, file, err, errlen)) == 0 && (rc = config_apply_vars(&vc, vars)) != 0)
        snprintf(err, errlen, "%.900s: %s", file, kanshi_strerror(rc));
    config_fini(&vc);
    return rc;
}

/* The i-th place rules come from: path, or -S then the config's rule-files. */
static const char *rules_source(const struct sensor *s, const struct options *o, const char *path,
                                size_t i)
{
    if (path != NULL)
        return path;
    return i < o->nrules ? o->rules[i] : s->cfg.rule_paths[i - o->nrules];
}

/*
 * Loads a ruleset as start-up does: the config's vars, a classification
 * file (the config's, else the classification.config beside the rules),
 * the rules, the threshold file.  The rules are path (a rules file or
 * directory, e.g. an applied bundle; when it is a directory, the
 * threshold.config and classification.config it holds replace the start-up
 * ones, and the vars of the vars.yaml it holds are set over the config's)
 * or, when path is NULL, -S and the config's rule-files.  Rules that do not load are reported
 * (counted in *errs) and left for the caller to judge (rs->nerrors).
 * Returns 0 with *out set, or a negative code with "PATH: why" in err when
 * a file cannot be read or memory runs out.  Any thread: it reads only the
 * options and the config, which do not change after start-up.
 */
static int rules_load(const struct sensor *s, const struct options *o, const char *path,
                      struct rule_errors *errs, struct ruleset **out, char *err, size_t errlen)
{
    struct rule_vars *vars;
    struct ruleset *rs;
    const char *classification = s->cfg.classification;
    const char *threshold;
    char cbuf[4096], tbuf[4096];
    size_t nsrc = path != NULL ? 1 : o->nrules + s->cfg.nrule_paths;
    int rc;

    if (rule_vars_create(&vars) != 0)
        goto nomem;
    if (config_apply_vars(&s->cfg, vars) != 0) {
        rule_vars_destroy(vars);
        goto nomem;
    }
    if (path != NULL && is_dir(path)) {
        snprintf(cbuf, sizeof(cbuf), "%s/vars.yaml", path);
        if (access(cbuf, F_OK) == 0 && (rc = rules_load_vars(cbuf, vars, err, errlen)) != 0) {
            rule_vars_destroy(vars);
            return rc;
        }
        snprintf(cbuf, sizeof(cbuf), "%s/classification.config", path);
        if (access(cbuf, F_OK) == 0)
            classification = cbuf;
    }
    if (rule_vars_set_defaults(vars) != 0) {
        rule_vars_destroy(vars);
        goto nomem;
    }
    if (ruleset_create(&rs, vars, on_rule_error, errs) != 0)
        goto nomem;
    /* Without a classification file in the config, use the one shipped
     * beside the rules, as Suricata's rule directory layout has it. */
    for (size_t i = 0; classification == NULL && i < nsrc; i++) {
        const char *src = rules_source(s, o, path, i);
        if (is_dir(src)) {
            snprintf(cbuf, sizeof(cbuf), "%s/classification.config", src);
            if (access(cbuf, R_OK) == 0)
                classification = cbuf;
        }
    }
    if (classification != NULL) {
        rc = ruleset_load_classification(rs, classification);
        if (rc < 0 && rc != KANSHI_EPARSE) {
            snprintf(err, errlen, "%.900s: %s", classification, kanshi_strerror(rc));
            goto fail;
        }
    }
    for (size_t i = 0; i < nsrc; i++) {
        const char *src = rules_source(s, o, path, i);
        if ((rc = ruleset_load_path(rs, src)) < 0) {
            snprintf(err, errlen, "%.900s: %s", src, kanshi_strerror(rc));
            goto fail;
        }
    }
    threshold = o->threshold != NULL ? o->threshold : s->cfg.threshold_file;
    if (path != NULL && is_dir(path)) {
        snprintf(tbuf, sizeof(tbuf), "%s/threshold.config", path);
        if (access(tbuf, F_OK) == 0)
            threshold = tbuf;
    }
    if (threshold != NULL && (rc = ruleset_load_threshold(rs, threshold)) < 0) {
        snprintf(err, errlen, "%.900s: %s", threshold, kanshi_strerror(rc));
        goto fail;
    }
    *out = rs;
    return 0;
fail:
    ruleset_destroy(rs);
    return rc;
nomem:
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
}

/* The ruleset's name in alerts: "bundle-N" while bundle N runs, else the
 * config's ruleset-version.  Packet-loop thread (and start-up). */
static void sensor_set_label(struct sensor *s)
{
    uint64_t v = s->reload.current_bundle;

    if (v != 0) {
        snprintf(s->bundle_label, sizeof(s->bundle_label), "bundle-%llu", (unsigned long long)v);
        s->ruleset_label = s->bundle_label;
    } else {
        s->ruleset_label = s->cfg.ruleset_version;
    }
}

/*
 * Start-up, with bundles.keys set: the pinned keys and the bundle store
 * (its state file says which bundle runs).  A key file or a state file that
 * cannot be read stops the sensor: it cannot tell a good bundle from a bad
 * or an old one without them.
 */
static void bundles_open(struct sensor *s)
{
    struct bundle_pubkey *keys;
    const char *where = s->cfg.path != NULL ? s->cfg.path : "config";
    char err[1024];

    if (s->cfg.nbundle_keys == 0) {
        if (s->cfg.bundle_incoming != NULL)
            fatalx("%s: bundles.incoming is set but bundles.keys is not: no bundle could be "
                   "verified",
                   where);
        return;
    }
    if ((keys = kanshi_calloc(s->cfg.nbundle_keys, sizeof(*keys))) == NULL)
        fatalx("out of memory");
    for (size_t i = 0; i < s->cfg.nbundle_keys; i++)
        if (bundle_pubkey_load(s->cfg.bundle_keys[i], &keys[i], err, sizeof(err)) != 0)
            fatalx("bundles.keys: %s", err);
    if (bundle_store_open(&s->bstore, s->cfg.bundle_dir, keys, s->cfg.nbundle_keys, err,
                          sizeof(err)) != 0)
        fatalx("bundles.dir: %s", err);
    free(keys);
}

/*
 * Start-up, with an applied bundle in the store and no -S: its rules, all
 * of which must load (as when it was applied).  False, having said why,
 * when they cannot be used: the sensor then runs the config's rules.
 */
static bool load_bundle_rules(struct sensor *s, const struct options *o)
{
    uint64_t v = bundle_store_version(s->bstore);
    char dir[BUNDLE_STORE_PATH_MAX], err[1024];
    struct ruleset *rs = NULL;

    if (o->nrules > 0) {
        log_info("bundle: version %llu is applied, but -S was given: running the -S rules",
                 (unsigned long long)v);
        return false;
    }
    if (bundle_store_path(s->bstore, v, dir, sizeof(dir)) != 0 || !is_dir(dir)) {
        log_warnx("bundle: version %llu is applied, but %s is missing; running the config's "
                  "rules",
                  (unsigned long long)v, dir);
        return false;
    }
    if (rules_load(s, o, dir, &s->rule_errors, &rs, err, sizeof(err)) != 0 || rs->nerrors > 0 ||
        rs->nrules == 0) {
        if (rs != NULL)
            snprintf(err, sizeof(err), "%zu rules could not be loaded (first: %s)", rs->nerrors,
                     s->rule_errors.first);
        log_warnx("bundle: version %llu in %s: %s; running the config's rules",
                  (unsigned long long)v, dir, err);
        ruleset_destroy(rs);
        return false;
    }
    s->rs = rs;
    if ((s->reload.current_path = strdup(dir)) == NULL)
        fatalx("out of memory");
    s->reload.current_bundle = v;
    log_info("bundle: running version %llu from %s: %zu rules", (unsigned long long)v, dir,
             rs->nrules);
    return true;
}

/* Start-up: a file that cannot be read stops the sensor; rules that do not
 * load are reported and skipped, unless --strict.  An applied bundle's
 * rules replace -S-less start-up rules (load_bundle_rules). */
static void load_rules(struct sensor *s, const struct options *o)
{
    char err[1024];

    if (s->bstore != NULL && bundle_store_version(s->bstore) > 0 && load_bundle_rules(s, o)) {
        sensor_set_label(s);
        return;
    }
    sensor_set_label(s);
    if (rules_load(s, o, NULL, &s->rule_errors, &s->rs, err, sizeof(err)) != 0)
        fatalx("%s", err);
    if (s->rs->nerrors > 0) {
        log_warnx("%zu rules loaded, %zu rules could not be loaded", s->rs->nrules,
                  s->rs->nerrors);
        if (o->strict)
            fatalx("--strict: refusing to run with rules that did not load");
    } else {
        log_info("%zu rules loaded", s->rs->nrules);
    }
}

/*
 * Builds the detection engine for rs, through the Hyperscan database cache
 * unless --no-hs-cache: --hs-cache DIR (created at start-up when missing),
 * else the config's detect.cache-dir (used only when it exists).  One line
 * says whether the databases were compiled or loaded, and how long it took;
 * a cache that could not be used is said once here and costs only the
 * compile.  0 with *out set, or an error with the message in err.  Any
 * thread (a reload builds its engine on its own thread).
 */
static int engine_build(const struct sensor *s, const struct options *o, const struct ruleset *rs,
                        const char *precompiled, struct detect_engine **out, char *err,
                        size_t errlen)
{
    struct detect_options dopt = {.precompiled_dir = precompiled};
    const struct detect_info *di;
    size_t ndb;
    int rc;

    if (!o->no_hs_cache)
        dopt.cache_dir = o->hs_cache != NULL ? o->hs_cache : s->cfg.detect_cache_dir;
    if ((rc = detect_engine_create_opts(out, rs, &dopt, err, errlen)) != 0)
        return rc;
    di = detect_engine_info(*out);
    ndb = di->cache_hits + di->cache_misses;
    if (di->cache_precompiled > 0) {
        log_info("detect: %zu of %zu Hyperscan databases loaded as precompiled in the bundle, "
                 "%zu from the cache, %zu compiled, in %.3f s (engine %.3f s)",
                 di->cache_precompiled, di->databases, di->cache_hits,
                 di->databases - di->cache_precompiled - di->cache_hits,
                 (double)di->db_usec / 1e6, (double)di->compile_usec / 1e6);
    } else if (!di->cache_used || ndb == 0) {
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
    return 0;
}

static void build_engine(struct sensor *s, const struct options *o)
{
    char err[1024] = "";

    if (o->hs_cache != NULL && !o->no_hs_cache && mkdir(o->hs_cache, 0700) != 0 && errno != EEXIST)
        log_warn("--hs-cache %s", o->hs_cache); /* the engine then says it is not used */
    if (engine_build(s, o, s->rs, s->reload.current_bundle > 0 ? s->reload.current_path : NULL,
                     &s->de, err, sizeof(err)) != 0)
        fatalx("detection engine: %s", err);
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
        .ruleset_version = s->ruleset_label,
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
                "  (flows)  dns messages %llu  parser errors %llu  states refused %llu"
                "  reversed %llu\n",
                (unsigned long long)as->dns_messages, (unsigned long long)as->parser_errors,
                (unsigned long long)as->states_refused, (unsigned long long)as->reversed);
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
    fprintf(stderr, "  reload:   reloads %llu  failed %llu  last %llu ms  rules %zu%s\n",
            (unsigned long long)s->reload.done, (unsigned long long)s->reload.failed,
            (unsigned long long)s->reload.last_ms, s->rs ? s->rs->nrules : 0,
            s->reload.job == RELOAD_LOAD || s->reload.requested ? "  (reloading)" : "");
    if (s->bstore != NULL)
        fprintf(stderr, "  bundles:  applied %llu  refused %llu  running %s  version %llu\n",
                (unsigned long long)s->reload.bundles_applied,
                (unsigned long long)s->reload.bundles_refused, s->ruleset_label,
                (unsigned long long)s->reload.current_bundle);
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
                "  renumbered %llu  bundle chunks %llu  bundle results %llu\n",
                us.connected ? "connected" : "not connected", (unsigned long long)us.connects,
                (unsigned long long)us.disconnects, (unsigned long long)us.auth_failures,
                (unsigned long long)us.batches_sent, (unsigned long long)us.alerts_sent,
                (unsigned long long)us.resends, (unsigned long long)us.acked_seq,
                (unsigned long long)us.renumbered, (unsigned long long)us.bundle_chunks,
                (unsigned long long)us.bundle_results);
    }
}

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        sig_stats = 1;
    else if (sig == SIGHUP)
        sig_reload = 1;
    else if (sig_stop < 100)
        sig_stop = sig_stop + 1; /* the drain at exit ends on the next one */
}

/* The signals the packet loop handles; other threads keep them blocked, so
 * that they interrupt the packet loop's wait, not a helper's. */
static void sensor_sigset(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGHUP);
}

static void setup_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* Statistics and reloads wait for the loop's next turn: a read of a
     * capture file (a FIFO) must not fail with EINTR for them.  (The live
     * capture's poll() returns at once anyway: Linux never restarts it.) */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* SIGHUP from the start: one that comes while the sensor starts asks for a
 * reload once it runs (the files may have changed after they were read)
 * instead of killing it. */
static void setup_sighup(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
}

/* Starts fn(arg) on a thread with the sensor's signals blocked. */
static int sensor_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t set, old;
    int rc;

    sensor_sigset(&set);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return -rc;
}

/*
 * Rule reload.
 *
 * SIGHUP (or sensor_reload_request()) asks for one.  Between two packets the
 * packet loop (reload_poll) starts a loader thread, which loads the rules as
 * start-up did (same vars, classification and threshold files, same
 * Hyperscan database cache: rules_load, engine_build) and makes the worker's
 * detection thread for the new engine, while packets keep going through the
 * old one.  When the loader is done, the packet loop, between two packets,
 * gives the worker the new engine (worker_set_engine) and makes the new
 * ruleset the one alerts are named from; from the next packet on, nothing
 * uses the old ruleset and engine, and a reaper thread frees them.  A new
 * load starts only once the reaper is done, so memory peaks at two rulesets.
 * Requests made while a reload runs become one more reload after it.
 *
 * What is refused, as at start-up: a rules, classification or threshold file
 * that cannot be read, an engine that does not build, and with --strict any
 * rule that does not load.  Beyond start-up, a ruleset in which rules failed
 * and none loaded is refused too: that is a broken file, not a wish to run
 * without rules, and a running sensor has rules to keep (an empty rule file,
 * with no error, is taken).  Otherwise the rules that do not load are
 * reported and skipped, as at start-up.  A refused reload is logged and
 * counted, and the sensor keeps its rules.
 */
/* Drops what the loader built (rules, engine, detection thread, GeoIP). */
static void reload_discard(struct reload *r)
{
    enrich_close(r->enr);
    detect_thread_destroy(r->dt);
    detect_engine_destroy(r->de);
    ruleset_destroy(r->rs);
    r->enr = NULL;
    r->enr_set = false;
    r->dt = NULL;
    r->de = NULL;
    r->rs = NULL;
}

/* Frees what a reload replaced. */
static void reload_free_old(struct reload *r)
{
    detect_engine_destroy(r->old_de);
    ruleset_destroy(r->old_rs);
    enrich_close(r->old_enr);
    r->old_de = NULL;
    r->old_rs = NULL;
    r->old_enr = NULL;
}

/*
 * The loader's work for the rules at path (NULL: -S and rule-files): the
 * ruleset, the engine and the worker's detection thread in r->rs, r->de,
 * r->dt, or an error in err and nothing kept.  strict: any rule that does
 * not load refuses the whole.  bundle: path is a bundle's directory, whose
 * precompiled Hyperscan databases are used when they fit this CPU.
 */
static int reload_build(struct sensor *s, const char *path, bool bundle, bool strict, char *err,
                        size_t errlen)
{
    struct reload *r = &s->reload;
    uint64_t t = now_usec();
    int rc;

    memset(&r->errors, 0, sizeof(r->errors));
    rc = rules_load(s, s->opts, path, &r->errors, &r->rs, err, errlen);
    r->load_usec = now_usec() - t;
    if (rc == 0 && r->rs->nerrors > 0) {
        log_warnx("reload: %zu rules loaded, %zu rules could not be loaded", r->rs->nrules,
                  r->rs->nerrors);
        if (strict || r->rs->nrules == 0) {
            if (r->rs->nrules == 0)
                snprintf(err, errlen, "no rule loaded (%zu could not be loaded, first: %s)",
                         r->rs->nerrors, r->errors.first);
            else
                snprintf(err, errlen, "%s%zu rules could not be loaded (first: %s)",
                         s->opts->strict ? "--strict: " : "", r->rs->nerrors, r->errors.first);
            rc = KANSHI_EPARSE;
        }
    }
    /* Flows keep their flowbits and flowints by name (the running rules
     * are not freed before this job ends). */
    if (rc == 0 && s->rs != NULL && ruleset_inherit_flowvars(r->rs, s->rs) != 0)
        log_warnx("reload: out of memory mapping flow variables: flows start without them");
    t = now_usec();
    if (rc == 0)
        rc = engine_build(s, s->opts, r->rs, bundle ? path : NULL, &r->de, err, errlen);
    if (rc == 0 && (rc = detect_thread_create(&r->dt, r->de)) != 0)
        snprintf(err, errlen, "detection thread: %s", kanshi_strerror(rc));
    r->engine_usec = now_usec() - t;
    /* A bundle's GeoIP databases replace the config's while it runs (a
     * bundle without any goes back to them). */
    if (rc == 0 && bundle) {
        char why[1024];
        if ((rc = enrich_open_dir(&r->enr, path, s->cfg.geoip_country, s->cfg.geoip_asn, why,
                                  sizeof(why))) != 0)
            snprintf(err, errlen, "geoip: %s", why);
        else
            r->enr_set = true;
    }
    if (rc != 0) {
        reload_discard(r);
    }
    return rc;
}

/* bundle_apply_file()'s load step: a bundle's rules must all load (its
 * signer linted them; an error here means this sensor differs) and build. */
static int reload_bundle_load(void *arg, const char *dir, char *err, size_t errlen)
{
    return reload_build(arg, dir, true, true, err, errlen);
}

static void *reload_load_main(void *arg)
{
    struct sensor *s = arg;
    struct reload *r = &s->reload;
    int rc;

    r->err[0] = '\0';
    if (r->bundle_file != NULL)
        rc = bundle_apply_file(s->bstore, r->bundle_file, reload_bundle_load, s, &r->staged, r->err,
                               sizeof(r->err));
    else
        rc = reload_build(s, r->path, r->job_bundle > 0, s->opts->strict, r->err,
                          sizeof(r->err));
    r->rc = rc;
    r->end_usec = now_usec();
    atomic_store_explicit(&r->finished, true, memory_order_release);
    return NULL;
}

static void *reload_reap_main(void *arg)
{
    struct reload *r = arg;

    reload_free_old(r);
    /* The loader's allocations live in its own malloc arena: give the freed
     * memory back, so the next reload starts from one ruleset. */
    malloc_trim(0);
    atomic_store_explicit(&r->finished, true, memory_order_release);
    return NULL;
}

/*
 * Asks for a rule reload from path, a rules file or directory that then
 * replaces the rules the sensor runs (an applied signature bundle), or, when
 * path is NULL, from the rules in use (-S and rule-files, or the last path
 * that replaced them).  Returns at once: the packet loop does the work.  A
 * request made while a reload runs is done after it; several such requests
 * make one reload (the last path given wins).  The outcome is counted in
 * s->reload (done, failed) with the reason of the last one in last_rc and
 * last_err.  Packet-loop thread only.  0 or -ENOMEM.
 */
static int sensor_reload_request(struct sensor *s, const char *path)
{
    struct reload *r = &s->reload;
    char *p = NULL;

    if (path != NULL) {
        if ((p = strdup(path)) == NULL)
            return -ENOMEM;
        free(r->request_path);
        r->request_path = p;
    }
    r->requested = true;
    return 0;
}

/*
 * Signed rules bundles from the drop directory (bundles.incoming).
 *
 * The packet loop looks into it every bundles.check-interval seconds and on
 * SIGHUP (an opendir: cheap), one bundle at a time: the first "*.bundle" by
 * name becomes a reload job (reload_start), whose loader verifies, unpacks,
 * loads and compiles it (bundle_apply_file with reload_bundle_load) beside
 * the running rules.  When the loader is done, the packet loop swaps the
 * rules in and records the version as the running one (bundle_finish), or,
 * on any refusal, keeps what it runs.  The file is removed once applied, or
 * renamed FILE.rejected with the reason in FILE.rejected.reason.  The
 * uplink's fetched bundles (OFFER/FETCH/CHUNK) can take the same path:
 * request_bundle with the fetched file, and the outcome in
 * bundle_last_version, bundle_last_refusal and bundle_last_err for RESULT.
 */

/* Queues the next bundle of the drop directory, at most every
 * check-interval unless force.  True when one was queued. */
static bool bundle_poll(struct sensor *s, bool force)
{
    struct reload *r = &s->reload;
    char name[256], path[4096 + 256];
    const char *dir = s->cfg.bundle_incoming;
    uint64_t now;
    int rc;

    if (s->bstore == NULL || dir == NULL || r->request_bundle != NULL || r->bundle_file != NULL)
        return false;
    now = now_usec();
    if (!force && now - s->last_bundle_check_usec < s->cfg.bundle_check_interval * 1000000ull)
        return false;
    s->last_bundle_check_usec = now;
    if ((rc = bundle_incoming_next(dir, name, sizeof(name))) < 0) {
        if (-rc != s->bundle_dir_errno)
            log_warnx("bundles.incoming %s: %s", dir, strerror(-rc));
        s->bundle_dir_errno = -rc;
        return false;
    }
    s->bundle_dir_errno = 0;
    if (rc == 0)
        return false;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((r->request_bundle = strdup(path)) == NULL)
        return false;
    return true;
}

/* A bundle job ended (rc 0: its rules run now): record it, say so, and
 * take the file out of the drop directory. */
static void bundle_finish(struct sensor *s, int rc)
{
    struct reload *r = &s->reload;
    enum bundle_refusal why = r->staged.refusal;
    char err[1024];

    r->bundle_last_version = r->staged.version;
    if (rc == 0) {
        if (bundle_apply_commit(s->bstore, &r->staged, err, sizeof(err)) != 0)
            log_warnx("bundle: version %llu runs, but could not be recorded as running (%s): "
                      "the next start runs the rules before it",
                      (unsigned long long)r->staged.version, err);
        r->bundles_applied++;
        r->bundle_last_refusal = BUNDLE_REFUSE_NONE;
        r->bundle_last_err[0] = '\0';
        log_info("bundle: version %llu applied from %s: %zu rules, alerts name ruleset %s",
                 (unsigned long long)r->staged.version, r->bundle_file, s->rs->nrules,
                 s->ruleset_label);
        if (unlink(r->bundle_file) != 0 && errno != ENOENT)
            log_warn("bundle: %s", r->bundle_file);
    } else {
        if (why == BUNDLE_REFUSE_NONE)
            why = BUNDLE_REFUSE_IO;
        r->bundles_refused++;
        r->bundle_last_refusal = why;
        snprintf(r->bundle_last_err, sizeof(r->bundle_last_err), "%s", r->err);
        log_warnx("bundle: %s refused (%s): %s; keeping the %zu rules in use (ruleset %s)",
                  r->bundle_file, bundle_refusal_name(why), r->err, s->rs->nrules,
                  s->ruleset_label);
        if (bundle_incoming_reject(r->bundle_file, r->err) != 0 && unlink(r->bundle_file) != 0 &&
            errno != ENOENT)
            log_warn("bundle: %s: cannot move it aside nor remove it", r->bundle_file);
    }
    free(r->bundle_file);
    r->bundle_file = NULL;
}

/* Starts the loader for the pending request. */
static void reload_start(struct sensor *s)
{
    struct reload *r = &s->reload;
    const char *from;
    int rc;

    r->t0_usec = now_usec();
    rc = 0;
    if (r->request_bundle != NULL) {
        /* A bundle first; a reload asked for meanwhile runs after it. */
        r->bundle_file = r->request_bundle;
        r->request_bundle = NULL;
        r->job_bundle = 0;
        memset(&r->staged, 0, sizeof(r->staged));
        log_info("bundle: applying %s", r->bundle_file);
    } else {
        r->requested = false;
        r->path = r->request_path;
        r->request_path = NULL;
        r->job_bundle = r->path == NULL ? r->current_bundle : 0;
        if (r->path == NULL && r->current_path != NULL &&
            (r->path = strdup(r->current_path)) == NULL)
            rc = -ENOMEM;
        from = r->path != NULL ? r->path : "the start-up rule paths";
        log_info("reload: loading the rules from %s", from);
    }
    atomic_store(&r->finished, false);
    if (rc == 0 && (rc = sensor_thread_start(&r->thread, reload_load_main, s)) == 0) {
        r->job = RELOAD_LOAD;
        return;
    }
    r->failed++;
    r->last_rc = rc;
    snprintf(r->last_err, sizeof(r->last_err), "cannot start: %s", kanshi_strerror(rc));
    log_warnx("reload: %s; keeping the %zu rules in use", r->last_err, s->rs->nrules);
    free(r->path);
    r->path = NULL;
    if (r->bundle_file != NULL) {
        snprintf(r->err, sizeof(r->err), "%s", r->last_err);
        r->staged.refusal = BUNDLE_REFUSE_IO;
        bundle_finish(s, rc);
    }
}

/* The loader is done: swap its ruleset in, or keep ours. */
static void reload_apply(struct sensor *s)
{
    struct reload *r = &s->reload;
    int rc = r->rc;

    if (rc == 0 && (rc = worker_set_engine(s->w, r->de, r->dt)) == 0) {
        r->old_rs = s->rs;
        r->old_de = s->de;
        s->rs = r->rs;
        s->de = r->de;
        r->rs = NULL;
        r->de = NULL;
        r->dt = NULL;
        if (r->enr_set) {
            /* alerts are made on this thread: the next one uses these */
            r->old_enr = s->enr;
            s->enr = r->enr;
            r->enr = NULL;
            r->enr_set = false;
        }
        if (r->bundle_file != NULL) {
            char *dir = strdup(r->staged.dir);
            if (dir != NULL) {
                free(r->current_path);
                r->current_path = dir;
            } else {
                log_warnx("bundle: out of memory: SIGHUP reloads the rules in use before it");
            }
            r->current_bundle = r->staged.version;
        } else {
            if (r->path != NULL) {
                free(r->current_path);
                r->current_path = r->path;
                r->path = NULL;
            }
            r->current_bundle = r->job_bundle;
        }
        /* From the next packet on, alerts come from the new rules. */
        sensor_set_label(s);
        r->done++;
        /* The time to load and build; the swap itself waits for the next
         * packet (or the capture's 100 ms poll) and takes microseconds. */
        r->last_ms = (r->end_usec - r->t0_usec + 500) / 1000;
        r->last_rc = 0;
        r->last_err[0] = '\0';
        log_info("reload: %zu rules in %llu ms (rules %.3f s, engine %.3f s)", s->rs->nrules,
                 (unsigned long long)r->last_ms, (double)r->load_usec / 1e6,
                 (double)r->engine_usec / 1e6);
        if (r->bundle_file != NULL)
            bundle_finish(s, 0);
        atomic_store(&r->finished, false);
        if (sensor_thread_start(&r->thread, reload_reap_main, r) == 0) {
            r->job = RELOAD_REAP;
        } else {
            reload_free_old(r);
        }
        return;
    }
    if (r->rc == 0) { /* worker_set_engine failed */
        snprintf(r->err, sizeof(r->err), "detection thread: %s", kanshi_strerror(rc));
        reload_discard(r);
        if (r->bundle_file != NULL) {
            bundle_apply_abort(s->bstore, &r->staged);
            r->staged.refusal = BUNDLE_REFUSE_IO;
        }
    }
    if (r->bundle_file != NULL) {
        bundle_finish(s, rc);
        return;
    }
    r->failed++;
    r->last_rc = rc;
    snprintf(r->last_err, sizeof(r->last_err), "%s", r->err);
    log_warnx("reload failed: %s; keeping the %zu rules in use", r->err, s->rs->nrules);
    free(r->path);
    r->path = NULL;
}

/* Between two packets: takes a SIGHUP, collects a finished helper thread
 * (applying a load), and starts the next load when one is wanted. */
static void reload_poll(struct sensor *s)
{
    struct reload *r = &s->reload;
    enum reload_job job = r->job;

    if (sig_reload) {
        sig_reload = 0;
        /* A bundle waiting in the drop directory is the reload. */
        if (!bundle_poll(s, true) && sensor_reload_request(s, NULL) != 0)
            r->failed++;
    }
    if (job != RELOAD_NONE) {
        if (!atomic_load_explicit(&r->finished, memory_order_acquire))
            return;
        pthread_join(r->thread, NULL);
        r->job = RELOAD_NONE;
        if (job == RELOAD_LOAD)
            reload_apply(s);
        if (r->job != RELOAD_NONE)
            return; /* the reaper: the next load waits for it */
    }
    if (r->requested || r->request_bundle != NULL)
        reload_start(s);
}

/* At exit: waits for a helper thread; a load it finished is not applied. */
static void reload_end(struct sensor *s)
{
    struct reload *r = &s->reload;

    if (r->job != RELOAD_NONE) {
        pthread_join(r->thread, NULL);
        if (r->job == RELOAD_LOAD) {
            reload_discard(r);
            /* A bundle not swapped in is not applied: its file stays in the
             * drop directory for the next start.  A refused one is done with. */
            if (r->bundle_file != NULL && r->rc == 0)
                bundle_apply_abort(s->bstore, &r->staged);
            else if (r->bundle_file != NULL)
                bundle_finish(s, r->rc);
        }
        r->job = RELOAD_NONE;
    }
    free(r->path);
    free(r->request_path);
    free(r->current_path);
    free(r->bundle_file);
    free(r->request_bundle);
    r->path = r->request_path = r->current_path = r->bundle_file = r->request_bundle = NULL;
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
        /* After the wait for a packet, before inspecting it: a ruleset that
         * became ready meanwhile is used from this packet on. */
        if (sig_reload || s->reload.job != RELOAD_NONE || s->reload.requested ||
            s->reload.request_bundle != NULL)
            reload_poll(s);
        if (rc == -ENOENT)
            break;
        if (rc == 0) {
            worker_idle(s->w);
            if (s->eve != NULL)
                eve_writer_flush(s->eve);
            uplink_housekeeping(s, false);
            bundle_poll(s, false);
            continue;
        }
        worker_packet(s->w, cp.linktype, cp.data, cp.caplen, cp.wirelen, cp.ts_usec, on_alert, s);
        /* the drop directory is looked at by time (bundles.check-interval):
         * asking the clock every 64 packets keeps a slow, never idle input
         * from delaying a bundle */
        if ((++n & 63) == 0)
            bundle_poll(s, false);
        if ((n & 1023) == 0)
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
        .ruleset = s->ruleset_label,
        .stats_interval_ms = s->cfg.uplink_stats_interval * 1000u,
        /* Bundles offered over the uplink go through bundles.incoming. */
        .bundle_dir = s->bstore != NULL ? s->cfg.bundle_dir : NULL,
        .bundle_incoming = s->bstore != NULL ? s->cfg.bundle_incoming : NULL,
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
    s.opts = &o;
    if (!o.test_only)
        setup_sighup();
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
    if (o.async_oneside)
        s.cfg.stream_async_oneside = true;
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

    bundles_open(&s);
    load_rules(&s, &o);
    build_engine(&s, &o);
    if (s.reload.current_bundle > 0) {
        /* the running bundle's GeoIP databases, else the config's */
        if ((rc = enrich_open_dir(&s.enr, s.reload.current_path, s.cfg.geoip_country,
                                  s.cfg.geoip_asn, err, sizeof(err))) != 0)
            fatalx("geoip: bundle %llu: %s", (unsigned long long)s.reload.current_bundle, err);
    } else if (s.cfg.geoip_country != NULL || s.cfg.geoip_asn != NULL) {
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
        bundle_store_close(s.bstore);
        free(s.reload.current_path);
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
    /* Bundles are unpacked by the user the sensor runs as. */
    if (s.bstore != NULL && bundle_store_mkdir(s.bstore, err, sizeof(err)) != 0)
        log_warnx("bundles.dir: %s; no bundle can be applied", err);

    {
        /* The uplink thread leaves the sensor's signals to the packet loop. */
        sigset_t set, old;
        sensor_sigset(&set);
        pthread_sigmask(SIG_BLOCK, &set, &old);
        uplink_begin(&s);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    setup_signals();
    /* Bundles dropped while the sensor was stopped are applied now; when
     * reading captures (not live), before the first packet, so what a file
     * is read with does not depend on how fast its rules compile. */
    bundle_poll(&s, true);
    while (o.iface == NULL && !sig_stop &&
           (s.reload.job != RELOAD_NONE || s.reload.requested ||
            s.reload.request_bundle != NULL)) {
        reload_poll(&s);
        if (s.reload.job != RELOAD_NONE)
            usleep(10000);
    }
    if (s.table)
        print_table_header();
    {
        uint64_t t0 = now_usec();
        run(&s);
        s.run_usec = now_usec() - t0;
    }
    reload_end(&s);
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
    bundle_store_close(s.bstore);
    config_fini(&s.cfg);
    free(o.rules);
    free(o.files);
    return rc;
}
