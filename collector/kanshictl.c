/*
 * kanshictl.c — the operator's and analyst's tool: the registry
 * (organisations, sensors, analysts), keys, live feeds and alert search.
 *
 * Registry and search commands open the collector's SQLite database
 * directly (-d DB, or the database of -c collector.yaml); the collector
 * notices registry changes within a second.  `alerts tail` is a CURVE
 * client of a feed and needs no database.
 *
 * Commands are a table (name, handler, usage); each parses its own options.
 * Exit codes: 0 success, 1 error, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "collector_config.h"
#include "kanshi/bundle.h"
#include "ingest.h"
#include "kanshi/eve.h"
#include "kanshi/kanshi.h"
#include "kanshi/uplink.h"
#include "store.h"

#define CTL_OK 0
#define CTL_ERR 1
#define CTL_USAGE 2
#define CTL_DEFAULT_CONFIG "/etc/kanshi/collector.yaml"

struct ctl {
    const char *db_path;     /* -d */
    const char *config_path; /* -c */
    struct collector_config cfg;
    bool have_cfg;
    struct store *store;
};

static volatile sig_atomic_t ctl_stop;

static void ctl_on_signal(int sig)
{
    (void)sig;
    ctl_stop = 1;
}

static int ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int ctl_error(const char *fmt, ...)
{
    va_list ap;

    fputs("kanshictl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CTL_ERR;
}

static int ctl_usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int ctl_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;

    fputs("kanshictl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: kanshictl %s\n", usage);
    return CTL_USAGE;
}

/* ---- config, database ---------------------------------------------------------------------- */

static int ctl_load_config(struct ctl *x)
{
    char err[512];
    const char *path = x->config_path;

    if (x->have_cfg)
        return 0;
    if (collector_config_defaults(&x->cfg) != 0)
        return ctl_error("%s", strerror(ENOMEM));
    x->have_cfg = true;
    if (path == NULL && access(CTL_DEFAULT_CONFIG, R_OK) == 0)
        path = CTL_DEFAULT_CONFIG;
    if (path != NULL && collector_config_load(&x->cfg, path, err, sizeof(err)) != 0)
        return ctl_error("%s", err);
    return 0;
}

/* Opens the database; create for commands that write the registry. */
static int ctl_open(struct ctl *x, bool create)
{
    struct store_options so = {.sync = STORE_SYNC_FULL, .create = create};
    char err[512];
    int rc;

    if (x->store != NULL)
        return 0;
    if (x->db_path == NULL) {
        if ((rc = ctl_load_config(x)) != 0)
            return rc;
        so.path = x->cfg.database;
    } else {
        so.path = x->db_path;
    }
    if ((rc = store_open(&x->store, &so, err, sizeof(err))) != 0) {
        if (rc == -ENOENT)
            return ctl_error("no database at %s (give -d DB or -c collector.yaml)", so.path);
        return ctl_error("%s", err);
    }
    return 0;
}

static int64_t ctl_now(void)
{
    return (int64_t)time(NULL);
}

/* "2024-04-01T10:00:00Z" from unix seconds (and microseconds when usec). */
static const char *ctl_time(int64_t t, bool usec, char *buf, size_t len)
{
    time_t secs = (time_t)(usec ? t / 1000000 : t);
    struct tm tm;

    if (t == 0 || gmtime_r(&secs, &tm) == NULL) {
        snprintf(buf, len, "-");
        return buf;
    }
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

static const char *ctl_ago(int64_t t, char *buf, size_t len)
{
    int64_t d = ctl_now() - t;

    if (t == 0)
        snprintf(buf, len, "never");
    else if (d < 120)
        snprintf(buf, len, "%" PRId64 "s ago", d < 0 ? 0 : d);
    else if (d < 7200)
        snprintf(buf, len, "%" PRId64 "m ago", d / 60);
    else if (d < 172800)
        snprintf(buf, len, "%" PRId64 "h ago", d / 3600);
    else
        snprintf(buf, len, "%" PRId64 "d ago", d / 86400);
    return buf;
}

static const char *ctl_num(int64_t v, char *buf, size_t len)
{
    if (v < 0)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%" PRId64, v);
    return buf;
}

static int ctl_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

/* "1", "2", "1,2" (or "2,1", "both") as a tier bit set. */
static int ctl_parse_tiers(const char *s, unsigned *out)
{
    unsigned set = 0;
    const char *p = s;

    if (strcmp(s, "both") == 0) {
        *out = STORE_TIERS_ALL;
        return 0;
    }
    while (*p != '\0') {
        if ((*p != '1' && *p != '2') || (set & STORE_TIER_BIT((unsigned)(*p - '0'))))
            return -EINVAL;
        set |= STORE_TIER_BIT((unsigned)(*p - '0'));
        p++;
        if (*p == ',')
            p++;
        else if (*p != '\0')
            return -EINVAL;
    }
    if (set == 0)
        return -EINVAL;
    *out = set;
    return 0;
}

/*
 * --since/--until: "2024-04-01", "2024-04-01T10:00:00[.frac][Z|+09:00]",
 * "@UNIX", "now", or an age such as "90s", "15m", "2h", "7d".
 */
static int ctl_parse_when(const char *s, int64_t *usec)
{
    size_t n = strlen(s);
    uint64_t v;
    char buf[64];

    if (strcmp(s, "now") == 0) {
        *usec = ctl_now() * 1000000;
        return 0;
    }
    if (s[0] == '@') {
        if (ctl_parse_uint(s + 1, INT64_MAX / 1000000, &v) != 0)
            return -EINVAL;
        *usec = (int64_t)v * 1000000;
        return 0;
    }
    if (n >= 2 && strchr("smhd", s[n - 1]) != NULL && n < sizeof(buf)) {
        static const struct {
            char unit;
            int64_t secs;
        } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
        memcpy(buf, s, n - 1);
        buf[n - 1] = '\0';
        if (ctl_parse_uint(buf, 100ull * 365 * 86400, &v) == 0) {
            for (size_t i = 0; i < KANSHI_ARRAY_LEN(units); i++)
                if (units[i].unit == s[n - 1]) {
                    *usec = (ctl_now() - (int64_t)v * units[i].secs) * 1000000;
                    return 0;
                }
        }
    }
    if (n == 10 && n + 9 < sizeof(buf)) {
        snprintf(buf, sizeof(buf), "%sT00:00:00", s);
        return ingest_parse_time(buf, strlen(buf), usec);
    }
    return ingest_parse_time(s, n, usec);
}

/* ---- keys --------------------------------------------------------------------------------- */

/* Creates path with mode (refusing an existing file unless force) and
 * writes "Z85\n" to it, synced. */
static int ctl_write_key(const char *path, const char *z85, mode_t mode, bool force)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL);
    int fd = open(path, flags, mode);
    char line[UPLINK_KEY_LEN + 2];

    if (fd < 0)
        return ctl_error("%s: %s%s", path, strerror(errno),
                         errno == EEXIST ? " (will not overwrite a key; remove it or --force)"
                                         : "");
    snprintf(line, sizeof(line), "%s\n", z85);
    if (fchmod(fd, mode) != 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line) ||
        fsync(fd) != 0) {
        int e = errno;
        close(fd);
        explicit_bzero(line, sizeof(line));
        return ctl_error("%s: %s", path, strerror(e));
    }
    explicit_bzero(line, sizeof(line));
    if (close(fd) != 0)
        return ctl_error("%s: %s", path, strerror(errno));
    return 0;
}

static int ctl_keypair(char pub[UPLINK_KEY_LEN + 1], char sec[UPLINK_KEY_LEN + 1])
{
    if (zmq_curve_keypair(pub, sec) != 0)
        return ctl_error("cannot create a CURVE key pair: %s (libzmq without CURVE?)",
                         zmq_strerror(zmq_errno()));
    return 0;
}

/* A public key given as Z85 text or as a file holding it. */
static int ctl_public_key_arg(const char *arg, char out[UPLINK_KEY_LEN + 1])
{
    char err[512];

    /* An existing file wins: a 40-character path can be valid Z85 too
     * ("build/san/e2e-zeroloss/collector.key.pub" is). */
    if (access(arg, F_OK) != 0 && strlen(arg) == UPLINK_KEY_LEN && store_key_ok(arg)) {
        memcpy(out, arg, UPLINK_KEY_LEN + 1);
        return 0;
    }
    if (uplink_read_key_file(arg, 0, out, err, sizeof(err)) != 0)
        return ctl_error("collector key: %s (give 40 characters of Z85 or a FILE.pub)", err);
    return 0;
}

/* The collector's public key: --collector-key, else the config's
 * secret-key-file.pub, else derived from the secret key when readable. */
static int ctl_collector_key(struct ctl *x, const char *arg, char out[UPLINK_KEY_LEN + 1])
{
    char path[PATH_MAX], err[512], sec[UPLINK_KEY_LEN + 1];
    int rc;

    if (arg != NULL)
        return ctl_public_key_arg(arg, out);
    if (x->config_path == NULL)
        return ctl_error("give --collector-key Z85|FILE (or -c collector.yaml)");
    if ((rc = ctl_load_config(x)) != 0)
        return rc;
    snprintf(path, sizeof(path), "%s.pub", x->cfg.secret_key_file);
    if (uplink_read_key_file(path, 0, out, err, sizeof(err)) == 0)
        return 0;
    if (uplink_read_key_file(x->cfg.secret_key_file, 1, sec, err, sizeof(err)) != 0)
        return ctl_error("collector key: %s", err);
    rc = zmq_curve_public(out, sec);
    explicit_bzero(sec, sizeof(sec));
    return rc == 0 ? 0 : ctl_error("collector key: cannot derive the public key");
}

static int cmd_keygen(struct ctl *x, int argc, char **argv)
{
    static const char usage[] = "keygen --out FILE [--force]";
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    char pub[UPLINK_KEY_LEN + 1], sec[UPLINK_KEY_LEN + 1], pubpath[PATH_MAX];
    const char *out = NULL;
    bool force = false;
    int ch, rc;

    (void)x;
    while ((ch = getopt_long(argc, argv, "+o:f", opts, NULL)) != -1) {
        if (ch == 'o')
            out = optarg;
        else if (ch == 'f')
            force = true;
        else
            return ctl_usage_error(usage, "unknown option");
    }
    if (out == NULL || optind != argc)
        return ctl_usage_error(usage, "give --out FILE");
    if ((size_t)snprintf(pubpath, sizeof(pubpath), "%s.pub", out) >= sizeof(pubpath))
        return ctl_error("%s: path too long", out);
    if ((rc = ctl_keypair(pub, sec)) != 0)
        return rc;
    rc = ctl_write_key(out, sec, 0600, force);
    explicit_bzero(sec, sizeof(sec));
    if (rc != 0)
        return rc;
    if ((rc = ctl_write_key(pubpath, pub, 0644, force)) != 0)
        return rc;
    printf("%s\n", pub);
    fprintf(stderr, "kanshictl: secret key in %s (mode 0600), public key in %s\n", out, pubpath);
    return CTL_OK;
}

/* ---- organisations ------------------------------------------------------------------------ */

static int cmd_org_add(struct ctl *x, int argc, char **argv)
{
    static const char usage[] = "org add NAME --tier 1|2 [--ministry NAME]";
    static const struct option opts[] = {
        {"tier", required_argument, NULL, 't'},
        {"ministry", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    const char *ministry = NULL, *name;
    uint64_t tier = 0;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, "t:m:", opts, NULL)) != -1) {
        if (ch == 't') {
            if (ctl_parse_uint(optarg, 2, &tier) != 0 || tier == 0)
                return ctl_usage_error(usage, "--tier must be 1 or 2, not \"%s\"", optarg);
        } else if (ch == 'm') {
            ministry = optarg;
        } else {
            return ctl_usage_error(usage, "unknown option");
        }
    }
    if (optind + 1 != argc)
        return ctl_usage_error(usage, "give exactly one organisation NAME (quote it)");
    if (tier == 0)
        return ctl_usage_error(usage, "give --tier 1 or --tier 2");
    name = argv[optind];
    if ((rc = ctl_open(x, true)) != 0)
        return rc;
    if (store_org_add(x->store, name, (unsigned)tier, ministry, ctl_now()) != 0)
        return ctl_error("%s", store_error(x->store));
    printf("added organisation \"%s\" (tier %u%s%s)\n", name, (unsigned)tier,
           ministry != NULL ? ", supervised by " : "", ministry != NULL ? ministry : "");
    return CTL_OK;
}

struct ctl_list {
    bool json;
    size_t n;
    int width; /* of the name column */
};

static int ctl_org_width(void *arg, const struct store_org *o)
{
    struct ctl_list *l = arg;

    if ((int)strlen(o->name) > l->width)
        l->width = (int)strlen(o->name);
    return 0;
}

static int ctl_print_org(void *arg, const struct store_org *o)
{
    struct ctl_list *l = arg;

    if (l->json) {
        struct jbuf b;
        jbuf_init(&b);
        jbuf_open_object(&b, NULL);
        jbuf_string(&b, "name", o->name);
        jbuf_uint(&b, "tier", o->tier);
        if (o->ministry[0] != '\0')
            jbuf_string(&b, "supervising_ministry", o->ministry);
        jbuf_close_object(&b);
        if (jbuf_ok(&b))
            printf("%s\n", b.p);
        jbuf_fini(&b);
    } else {
        if (l->n == 0)
            printf("%-4s  %-*s  %s\n", "TIER", l->width, "ORGANISATION", "SUPERVISING MINISTRY");
        printf("%-4u  %-*s  %s\n", o->tier, l->width, o->name,
               o->ministry[0] != '\0' ? o->ministry : "-");
    }
    l->n++;
    return 0;
}

static bool ctl_json_flag(int argc, char **argv, const char *usage, int *rc)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    int ch;

    *rc = CTL_OK;
    while ((ch = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
        if (ch == 'j')
            json = true;
        else
            *rc = ctl_usage_error(usage, "unknown option");
    }
    if (*rc == CTL_OK && optind != argc)
        *rc = ctl_usage_error(usage, "unexpected argument \"%s\"", argv[optind]);
    return json;
}

static int cmd_org_list(struct ctl *x, int argc, char **argv)
{
    struct ctl_list l = {0};
    int rc;

    l.json = ctl_json_flag(argc, argv, "org list [--json]", &rc);
    if (rc != CTL_OK || (rc = ctl_open(x, false)) != 0)
        return rc;
    l.width = 12;
    if (store_org_list(x->store, ctl_org_width, &l) != 0 ||
        store_org_list(x->store, ctl_print_org, &l) != 0)
        return ctl_error("%s", store_error(x->store));
    if (l.n == 0 && !l.json)
        fprintf(stderr, "kanshictl: no organisations yet (kanshictl org add, registry import)\n");
    return CTL_OK;
}

/* ---- registry import ---------------------------------------------------------------------- */

struct ctl_import_line {
    unsigned line, tier;
    char name[STORE_MAX_NAME + 1], ministry[STORE_MAX_NAME + 1];
};

static char *ctl_trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* One line "TIER NAME [; MINISTRY]"; 1 when it held one, 0 when blank or a
 * comment, negative on error (message printed). */
static int ctl_import_parse(const char *file, unsigned lineno, char *text,
                            struct ctl_import_line *out)
{
    char *s = ctl_trim(text), *semi;

    if (*s == '\0' || *s == '#')
        return 0;
    if ((s[0] != '1' && s[0] != '2') || (s[1] != ' ' && s[1] != '\t')) {
        ctl_error("%s:%u: expected \"TIER NAME [; SUPERVISING MINISTRY]\" with tier 1 or 2", file,
                  lineno);
        return -EINVAL;
    }
    out->line = lineno;
    out->tier = (unsigned)(s[0] - '0');
    s = ctl_trim(s + 2);
    out->ministry[0] = '\0';
    if ((semi = strchr(s, ';')) != NULL) {
        *semi = '\0';
        snprintf(out->ministry, sizeof(out->ministry), "%s", ctl_trim(semi + 1));
        s = ctl_trim(s);
    }
    if (!store_name_ok(s)) {
        ctl_error("%s:%u: organisation name must be 1 to %d printable bytes", file, lineno,
                  STORE_MAX_NAME);
        return -EINVAL;
    }
    snprintf(out->name, sizeof(out->name), "%s", s);
    return 1;
}

static int cmd_registry_import(struct ctl *x, int argc, char **argv)
{
    static const char usage[] = "registry import FILE";
    struct ctl_import_line *v = NULL;
    size_t n = 0, cap = 0, added = 0, present = 0;
    unsigned lineno = 0;
    char text[1024];
    const char *file;
    FILE *f;
    int rc = 0;

    if (argc != 2 || argv[1][0] == '-')
        return ctl_usage_error(usage, "give the FILE to import");
    file = argv[1];
    if ((f = fopen(file, "re")) == NULL)
        return ctl_error("%s: %s", file, strerror(errno));
    while (fgets(text, sizeof(text), f) != NULL) {
        lineno++;
        if (n == cap) {
            size_t ncap = cap != 0 ? cap * 2 : 64;
            struct ctl_import_line *nv = kanshi_reallocarray(v, ncap, sizeof(*nv));
            if (nv == NULL) {
                rc = ctl_error("%s", strerror(ENOMEM));
                break;
            }
            v = nv;
            cap = ncap;
        }
        if ((rc = ctl_import_parse(file, lineno, text, &v[n])) < 0)
            break;
        n += (size_t)rc;
        rc = 0;
    }
    fclose(f);
    if (rc == 0)
        rc = ctl_open(x, true);
    if (rc == 0 && store_begin(x->store) != 0)
        rc = ctl_error("%s", store_error(x->store));
    /* Ministries first, so a file may list an agency before its ministry. */
    for (unsigned tier = 1; tier <= 2 && rc == 0; tier++) {
        for (size_t i = 0; i < n && rc == 0; i++) {
            struct store_org o;
            if (v[i].tier != tier)
                continue;
            if (store_org_get(x->store, v[i].name, &o) == 0) {
                if (o.tier != v[i].tier || strcmp(o.ministry, v[i].ministry) != 0)
                    rc = ctl_error("%s:%u: \"%s\" is already registered as tier %u%s%s", file,
                                   v[i].line, v[i].name, o.tier,
                                   o.ministry[0] != '\0' ? " supervised by " : "", o.ministry);
                else
                    present++;
                continue;
            }
            if (store_org_add(x->store, v[i].name, v[i].tier, v[i].ministry, ctl_now()) != 0)
                rc = ctl_error("%s:%u: %s", file, v[i].line, store_error(x->store));
            else
                added++;
        }
    }
    free(v);
    if (x->store != NULL && rc == 0 && store_commit(x->store) != 0)
        rc = ctl_error("%s", store_error(x->store));
    else if (x->store != NULL && rc != 0)
        store_rollback(x->store);
    if (rc != 0)
        return CTL_ERR;
    printf("%s: %zu organisation(s) added, %zu already present\n", file, added, present);
    return CTL_OK;
}

/* ---- sensors ------------------------------------------------------------------------------ */

/* Writes s as a YAML double-quoted scalar. */
static void ctl_yaml_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static bool ctl_endpoint_ok(const char *e)
{
    const char *colon = strrchr(e, ':');

    return strncmp(e, "tcp://", 6) == 0 && colon != NULL && colon > e + 6 && colon[1] != '\0' &&
           strspn(colon + 1, "0123456789") == strlen(colon + 1);
}

struct ctl_enroll {
    const char *id, *org, *endpoint, *spool_dir, *key_path;
    char collector_key[UPLINK_KEY_LEN + 1];
    char pub[UPLINK_KEY_LEN + 1], sec[UPLINK_KEY_LEN + 1];
};

static int ctl_write_sensor_config(FILE *f, const struct ctl_enroll *e, const struct store_org *o)
{
    char when[32];

    fprintf(f, "# kanshi-sensor configuration for sensor %s\n", e->id);
    fprintf(f, "# organisation: %s (tier %u%s%s)\n", o->name, o->tier,
            o->ministry[0] != '\0' ? ", supervised by " : "", o->ministry);
    fprintf(f, "# written by kanshictl sensor enroll, %s.  Install it with %s.key\n",
            ctl_time(ctl_now(), false, when, sizeof(when)), e->id);
    fprintf(f, "# (mode 0600) at the secret-key-file path below.  The organisation and\n"
               "# tier of its alerts come from the collector's registry, not from here.\n");
    fprintf(f, "sensor-id: %s\n", e->id);
    fprintf(f, "uplink:\n  endpoint: ");
    ctl_yaml_str(f, e->endpoint);
    fprintf(f, "\n  collector-public-key: ");
    ctl_yaml_str(f, e->collector_key);
    fprintf(f, "\n  secret-key-file: ");
    ctl_yaml_str(f, e->key_path);
    fprintf(f, "\nspool:\n  dir: ");
    ctl_yaml_str(f, e->spool_dir);
    fputc('\n', f);
    return ferror(f) ? -EIO : 0;
}

static int cmd_sensor_enroll(struct ctl *x, int argc, char **argv)
{
    static const char usage[] =
        "sensor enroll ID --org NAME --endpoint tcp://HOST:PORT --out DIR\n"
        "         [--collector-key Z85|FILE] [--spool-dir DIR] [--key-path PATH]";
    static const struct option opts[] = {
        {"org", required_argument, NULL, 'g'},
        {"collector-key", required_argument, NULL, 'k'},
        {"endpoint", required_argument, NULL, 'e'},
        {"out", required_argument, NULL, 'o'},
        {"spool-dir", required_argument, NULL, 's'},
        {"key-path", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    struct ctl_enroll e = {.spool_dir = "/var/lib/kanshi/spool"};
    const char *out = NULL, *ckey = NULL;
    char keyfile[PATH_MAX], yamlfile[PATH_MAX], absdir[PATH_MAX], keypath[PATH_MAX];
    struct store_org o;
    FILE *yf = NULL;
    int ch, rc, kfd = -1, yfd = -1;

    while ((ch = getopt_long(argc, argv, "g:k:e:o:s:p:", opts, NULL)) != -1) {
        switch (ch) {
        case 'g':
            e.org = optarg;
            break;
        case 'k':
            ckey = optarg;
            break;
        case 'e':
            e.endpoint = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 's':
            e.spool_dir = optarg;
            break;
        case 'p':
            e.key_path = optarg;
            break;
        default:
            return ctl_usage_error(usage, "unknown option");
        }
    }
    if (optind + 1 != argc)
        return ctl_usage_error(usage, "give exactly one sensor ID");
    e.id = argv[optind];
    if (e.org == NULL || e.endpoint == NULL || out == NULL)
        return ctl_usage_error(usage, "--org, --endpoint and --out are required");
    if (!store_sensor_id_ok(e.id))
        return ctl_error("sensor id \"%s\": 1 to %d of A-Z a-z 0-9 . - _, starting with a letter "
                         "or digit",
                         e.id, STORE_MAX_ID);
    if (!ctl_endpoint_ok(e.endpoint))
        return ctl_error("--endpoint \"%s\": expected tcp://HOST:PORT", e.endpoint);
    if ((rc = ctl_collector_key(x, ckey, e.collector_key)) != 0)
        return rc;
    if ((rc = ctl_open(x, true)) != 0)
        return rc;
    if (store_org_get(x->store, e.org, &o) != 0)
        return ctl_error("%s (kanshictl org list shows the registered ones)",
                         store_error(x->store));
    if (mkdir(out, 0700) != 0 && errno != EEXIST)
        return ctl_error("%s: %s", out, strerror(errno));
    if (realpath(out, absdir) == NULL)
        return ctl_error("%s: %s", out, strerror(errno));
    if ((size_t)snprintf(keyfile, sizeof(keyfile), "%s/%s.key", absdir, e.id) >= sizeof(keyfile) ||
        (size_t)snprintf(yamlfile, sizeof(yamlfile), "%s/%s.yaml", absdir, e.id) >=
            sizeof(yamlfile))
        return ctl_error("%s: path too long", absdir);
    snprintf(keypath, sizeof(keypath), "%s", e.key_path != NULL ? e.key_path : keyfile);
    e.key_path = keypath;
    /* Claim both files before the registry changes, so a failure leaves
     * neither a sensor without files nor files of a sensor that is not. */
    if ((kfd = open(keyfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
        return ctl_error("%s: %s", keyfile, strerror(errno));
    if ((yfd = open(yamlfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
        rc = ctl_error("%s: %s", yamlfile, strerror(errno));
        goto undo;
    }
    if ((rc = ctl_keypair(e.pub, e.sec)) != 0)
        goto undo;
    if (store_sensor_add(x->store, e.id, e.org, e.pub, ctl_now()) != 0) {
        rc = ctl_error("%s", store_error(x->store));
        goto undo;
    }
    {
        char line[UPLINK_KEY_LEN + 2];
        snprintf(line, sizeof(line), "%s\n", e.sec);
        if (write(kfd, line, strlen(line)) != (ssize_t)strlen(line) || fsync(kfd) != 0)
            rc = ctl_error("%s: %s", keyfile, strerror(errno));
        explicit_bzero(line, sizeof(line));
    }
    close(kfd);
    kfd = -1;
    if (rc == 0 && ((yf = fdopen(yfd, "w")) == NULL || ctl_write_sensor_config(yf, &e, &o) != 0 ||
                    fflush(yf) != 0))
        rc = ctl_error("%s: %s", yamlfile, strerror(errno));
    if (yf != NULL)
        fclose(yf);
    else
        close(yfd);
    explicit_bzero(e.sec, sizeof(e.sec));
    if (rc != 0) {
        fprintf(stderr,
                "kanshictl: sensor %s is enrolled; its files are incomplete: revoke it and "
                "enrol a new id\n",
                e.id);
        return CTL_ERR;
    }
    printf("enrolled sensor %s for %s (tier %u)\n", e.id, o.name, o.tier);
    printf("  public key  %s\n  secret key  %s (mode 0600)\n  config      %s\n", e.pub, keyfile,
           yamlfile);
    return CTL_OK;
undo:
    if (kfd >= 0) {
        close(kfd);
        unlink(keyfile);
    }
    if (yfd >= 0) {
        close(yfd);
        unlink(yamlfile);
    }
    explicit_bzero(e.sec, sizeof(e.sec));
    return rc != 0 ? rc : CTL_ERR;
}

static int cmd_sensor_revoke(struct ctl *x, int argc, char **argv)
{
    int rc;

    if (argc != 2 || argv[1][0] == '-')
        return ctl_usage_error("sensor revoke ID", "give the sensor ID");
    if ((rc = ctl_open(x, false)) != 0)
        return rc;
    rc = store_sensor_revoke(x->store, argv[1], ctl_now());
    if (rc == -EALREADY) {
        fprintf(stderr, "kanshictl: %s\n", store_error(x->store));
        return CTL_OK;
    }
    if (rc != 0)
        return ctl_error("%s", store_error(x->store));
    printf("revoked sensor %s; the collector drops its frames within a second\n", argv[1]);
    return CTL_OK;
}

struct ctl_sensors {
    struct store_sensor *v;
    size_t n, cap;
};

static int ctl_collect_sensor(void *arg, const struct store_sensor *se)
{
    struct ctl_sensors *l = arg;

    if (l->n == l->cap) {
        size_t cap = l->cap != 0 ? l->cap * 2 : 32;
        struct store_sensor *v = kanshi_reallocarray(l->v, cap, sizeof(*v));
        if (v == NULL)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *se;
    return 0;
}

static void ctl_json_opt(struct jbuf *b, const char *key, int64_t v)
{
    if (v >= 0)
        jbuf_int(b, key, v);
}

static void ctl_sensor_json(const struct store_sensor *se)
{
    struct jbuf b;

    jbuf_init(&b);
    jbuf_open_object(&b, NULL);
    jbuf_string(&b, "id", se->id);
    jbuf_string(&b, "organisation", se->org);
    jbuf_uint(&b, "tier", se->tier);
    if (se->ministry[0] != '\0')
        jbuf_string(&b, "supervising_ministry", se->ministry);
    jbuf_string(&b, "state", se->revoked != 0 ? "revoked" : "enrolled");
    jbuf_string(&b, "public_key", se->public_key);
    jbuf_int(&b, "enrolled", se->enrolled);
    if (se->revoked != 0)
        jbuf_int(&b, "revoked", se->revoked);
    if (se->last_heard != 0)
        jbuf_int(&b, "last_heard", se->last_heard);
    jbuf_string(&b, "software", se->software);
    jbuf_string(&b, "firmware", se->firmware);
    jbuf_string(&b, "ruleset", se->ruleset);
    jbuf_string(&b, "schema", se->schema);
    jbuf_uint(&b, "next_seq", se->next_seq);
    ctl_json_opt(&b, "uptime", se->uptime);
    ctl_json_opt(&b, "packets", se->packets);
    ctl_json_opt(&b, "kernel_drops", se->kernel_drops);
    ctl_json_opt(&b, "if_drops", se->if_drops);
    ctl_json_opt(&b, "decode_invalid", se->decode_invalid);
    ctl_json_opt(&b, "flow_memcap_drops", se->flow_drops);
    ctl_json_opt(&b, "spool_alerts", se->spool_alerts);
    ctl_json_opt(&b, "spool_dropped", se->spool_dropped);
    ctl_json_opt(&b, "alerts", se->alerts);
    ctl_json_opt(&b, "alerts_per_min", se->alerts_per_min);
    jbuf_int(&b, "rejected", se->rejected);
    jbuf_int(&b, "gap_alerts", se->gaps);
    jbuf_close_object(&b);
    if (jbuf_ok(&b))
        printf("%s\n", b.p);
    jbuf_fini(&b);
}

static int cmd_sensor_list(struct ctl *x, int argc, char **argv)
{
    struct ctl_sensors l = {0};
    int idw = 2, orgw = 3, rc;
    bool json;

    json = ctl_json_flag(argc, argv, "sensor list [--json]", &rc);
    if (rc != CTL_OK || (rc = ctl_open(x, false)) != 0)
        return rc;
    if ((rc = store_sensor_list(x->store, ctl_collect_sensor, &l)) != 0) {
        free(l.v);
        return ctl_error("%s", rc == -ENOMEM ? strerror(ENOMEM) : store_error(x->store));
    }
    for (size_t i = 0; i < l.n; i++) {
        if ((int)strlen(l.v[i].id) > idw)
            idw = (int)strlen(l.v[i].id);
        if ((int)strlen(l.v[i].org) > orgw)
            orgw = (int)strlen(l.v[i].org);
    }
    if (!json && l.n > 0)
        printf("%-*s  %-*s  %s  %-8s  %-9s  %-10s  %-10s  %10s  %6s  %6s  %6s  %6s  %6s  %5s  "
               "%4s  %4s\n",
               idw, "ID", orgw, "ORGANISATION", "T", "STATE", "HEARD", "SOFTWARE", "RULESET",
               "PACKETS", "KDROP", "IFDROP", "FLOWDR", "SPOOLD", "SPOOL", "A/MIN", "REJ", "GAPS");
    for (size_t i = 0; i < l.n; i++) {
        const struct store_sensor *se = &l.v[i];
        char ago[32], n1[24], n2[24], n3[24], n4[24], n5[24], n6[24], n7[24];
        if (json) {
            ctl_sensor_json(se);
            continue;
        }
        printf("%-*s  %-*s  %u  %-8s  %-9s  %-10.10s  %-10.10s  %10s  %6s  %6s  %6s  %6s  %6s  "
               "%5s  %4" PRId64 "  %4" PRId64 "\n",
               idw, se->id, orgw, se->org, se->tier, se->revoked != 0 ? "revoked" : "enrolled",
               ctl_ago(se->last_heard, ago, sizeof(ago)),
               se->software[0] != '\0' ? se->software : "-",
               se->ruleset[0] != '\0' ? se->ruleset : "-", ctl_num(se->packets, n1, sizeof(n1)),
               ctl_num(se->kernel_drops, n2, sizeof(n2)), ctl_num(se->if_drops, n3, sizeof(n3)),
               ctl_num(se->flow_drops, n4, sizeof(n4)), ctl_num(se->spool_dropped, n5, sizeof(n5)),
               ctl_num(se->spool_alerts, n6, sizeof(n6)),
               ctl_num(se->alerts_per_min, n7, sizeof(n7)), se->rejected, se->gaps);
    }
    if (l.n == 0 && !json)
        fprintf(stderr, "kanshictl: no sensors enrolled yet (kanshictl sensor enroll)\n");
    free(l.v);
    return CTL_OK;
}

static int ctl_print_gap(void *arg, const struct store_gap *g)
{
    char when[32];

    (void)arg;
    printf("  gap          %" PRIu64 "..%" PRIu64 " (%" PRIu64 " alerts), noticed %s\n", g->first,
           g->last, g->last - g->first + 1, ctl_time(g->noticed, false, when, sizeof(when)));
    return 0;
}

static int ctl_print_reject(void *arg, const struct store_reject *r)
{
    char when[32];

    (void)arg;
    printf("  rejected     %" PRIu64 " x %s (last %s)\n", r->count, r->reason,
           ctl_time(r->last, false, when, sizeof(when)));
    return 0;
}

static int cmd_sensor_show(struct ctl *x, int argc, char **argv)
{
    struct store_sensor *se;
    char t1[32], t2[32], n1[24], n2[24];
    int rc;

    if (argc != 2 || argv[1][0] == '-')
        return ctl_usage_error("sensor show ID", "give the sensor ID");
    if ((rc = ctl_open(x, false)) != 0)
        return rc;
    if ((se = malloc(sizeof(*se))) == NULL)
        return ctl_error("%s", strerror(ENOMEM));
    if (store_sensor_get(x->store, argv[1], se) != 0) {
        free(se);
        return ctl_error("%s", store_error(x->store));
    }
    printf("sensor         %s\n", se->id);
    printf("organisation   %s (tier %u%s%s)\n", se->org, se->tier,
           se->ministry[0] != '\0' ? ", supervised by " : "", se->ministry);
    printf("state          %s\n", se->revoked != 0 ? "revoked" : "enrolled");
    printf("public key     %s\n", se->public_key);
    printf("enrolled       %s\n", ctl_time(se->enrolled, false, t1, sizeof(t1)));
    if (se->revoked != 0)
        printf("revoked        %s\n", ctl_time(se->revoked, false, t1, sizeof(t1)));
    printf("last heard     %s (%s)\n", ctl_time(se->last_heard, false, t1, sizeof(t1)),
           ctl_ago(se->last_heard, t2, sizeof(t2)));
    printf("versions       software %s, firmware %s, ruleset %s, schema %s\n",
           se->software[0] ? se->software : "-", se->firmware[0] ? se->firmware : "-",
           se->ruleset[0] ? se->ruleset : "-", se->schema[0] ? se->schema : "-");
    printf("stored up to   %" PRIu64 "\n", se->next_seq - 1);
    printf("packets        %s, alerts %s\n", ctl_num(se->packets, n1, sizeof(n1)),
           ctl_num(se->alerts, n2, sizeof(n2)));
    printf("drops          kernel %s", ctl_num(se->kernel_drops, n1, sizeof(n1)));
    printf(", interface %s", ctl_num(se->if_drops, n1, sizeof(n1)));
    printf(", flow memcap %s", ctl_num(se->flow_drops, n1, sizeof(n1)));
    printf(", spool full %s\n", ctl_num(se->spool_dropped, n1, sizeof(n1)));
    printf("spool          %s alerts waiting\n", ctl_num(se->spool_alerts, n1, sizeof(n1)));
    free(se);
    if (store_gap_list(x->store, argv[1], ctl_print_gap, NULL) != 0 ||
        store_reject_list(x->store, argv[1], ctl_print_reject, NULL) != 0)
        return ctl_error("%s", store_error(x->store));
    return CTL_OK;
}

/* ---- analysts ----------------------------------------------------------------------------- */

static int cmd_analyst_add(struct ctl *x, int argc, char **argv)
{
    static const char usage[] = "analyst add NAME --tiers 1|2|1,2 [--out DIR]";
    static const struct option opts[] = {
        {"tiers", required_argument, NULL, 't'},
        {"out", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    char pub[UPLINK_KEY_LEN + 1], sec[UPLINK_KEY_LEN + 1], path[PATH_MAX];
    const char *out = ".", *name;
    unsigned tiers = 0;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, "t:o:", opts, NULL)) != -1) {
        if (ch == 't') {
            if (ctl_parse_tiers(optarg, &tiers) != 0)
                return ctl_usage_error(usage, "--tiers must be 1, 2 or 1,2, not \"%s\"", optarg);
        } else if (ch == 'o') {
            out = optarg;
        } else {
            return ctl_usage_error(usage, "unknown option");
        }
    }
    if (optind + 1 != argc)
        return ctl_usage_error(usage, "give exactly one analyst NAME");
    if (tiers == 0)
        return ctl_usage_error(usage, "give --tiers");
    name = argv[optind];
    if (!store_sensor_id_ok(name))
        return ctl_error("analyst name \"%s\": use A-Z a-z 0-9 . - _ (it names the key file)",
                         name);
    if ((rc = ctl_open(x, true)) != 0)
        return rc;
    if (mkdir(out, 0700) != 0 && errno != EEXIST)
        return ctl_error("%s: %s", out, strerror(errno));
    snprintf(path, sizeof(path), "%s/%s.key", out, name);
    if ((rc = ctl_keypair(pub, sec)) != 0)
        return rc;
    if ((rc = ctl_write_key(path, sec, 0600, false)) != 0) {
        explicit_bzero(sec, sizeof(sec));
        return rc;
    }
    explicit_bzero(sec, sizeof(sec));
    if (store_analyst_add(x->store, name, pub, tiers, ctl_now()) != 0) {
        unlink(path);
        return ctl_error("%s", store_error(x->store));
    }
    printf("%s\n", pub);
    fprintf(stderr, "kanshictl: analyst %s may see tiers %s; secret key in %s (mode 0600)\n", name,
            collector_tiers_str(tiers), path);
    return CTL_OK;
}

static int cmd_analyst_revoke(struct ctl *x, int argc, char **argv)
{
    int rc;

    if (argc != 2 || argv[1][0] == '-')
        return ctl_usage_error("analyst revoke NAME", "give the analyst NAME");
    if ((rc = ctl_open(x, false)) != 0)
        return rc;
    rc = store_analyst_revoke(x->store, argv[1], ctl_now());
    if (rc == -EALREADY) {
        fprintf(stderr, "kanshictl: %s\n", store_error(x->store));
        return CTL_OK;
    }
    if (rc != 0)
        return ctl_error("%s", store_error(x->store));
    printf("revoked analyst %s; the collector re-binds its feeds within a second\n", argv[1]);
    return CTL_OK;
}

static int ctl_print_analyst(void *arg, const struct store_analyst *a)
{
    struct ctl_list *l = arg;

    if (l->n++ == 0)
        printf("%-24s  %-5s  %-8s  %s\n", "ANALYST", "TIERS", "STATE", "PUBLIC KEY");
    printf("%-24s  %-5s  %-8s  %s\n", a->name, collector_tiers_str(a->tiers),
           a->revoked != 0 ? "revoked" : "active", a->public_key);
    return 0;
}

static int cmd_analyst_list(struct ctl *x, int argc, char **argv)
{
    struct ctl_list l = {0};
    int rc;

    if (argc != 1)
        return ctl_usage_error("analyst list", "unexpected argument \"%s\"", argv[1]);
    if ((rc = ctl_open(x, false)) != 0)
        return rc;
    if (store_analyst_list(x->store, ctl_print_analyst, &l) != 0)
        return ctl_error("%s", store_error(x->store));
    return CTL_OK;
}

/* ---- alerts ------------------------------------------------------------------------------- */

/* One alert as a line for a human. */
static void ctl_alert_line(const char *json, size_t len, const char *org, unsigned tier,
                           const char *sensor)
{
    struct ingest_fields f;
    struct jbuf scratch;
    char when[32];

    jbuf_init(&scratch);
    if (ingest_alert((const uint8_t *)json, len, "", 0, &f, &scratch) != 0) {
        printf("(unreadable alert) %.*s\n", (int)len, json);
        jbuf_fini(&scratch);
        return;
    }
    jbuf_fini(&scratch);
    if (org == NULL) {
        org = f.org;
        tier = f.tier;
        sensor = f.sensor_id;
    }
    printf("%s  tier%u  %s  %s  [%" PRId64 "] sev %d  %s  %s:%d -> %s:%d %s\n",
           ctl_time(f.alert_time, true, when, sizeof(when)), tier, org,
           sensor[0] != '\0' ? sensor : "-", f.sid, f.severity,
           f.signature[0] != '\0' ? f.signature : "-", f.src_ip[0] ? f.src_ip : "-", f.src_port,
           f.dest_ip[0] ? f.dest_ip : "-", f.dest_port, f.proto[0] ? f.proto : "");
}

static int ctl_print_alert(void *arg, const struct store_alert *a)
{
    struct ctl_list *l = arg;

    if (l->json)
        printf("%.*s\n", (int)a->json_len, a->json);
    else
        ctl_alert_line(a->json, a->json_len, a->org, a->tier, a->sensor_id);
    return 0;
}

static int cmd_alerts_search(struct ctl *x, int argc, char **argv)
{
    static const char usage[] =
        "alerts search [--since T] [--until T] [--tier N] [--org NAME] [--sensor ID]\n"
        "         [--sid N] [--addr IP] [--severity N] [--signature TEXT] [--limit N] [--json]";
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},
        {"tier", required_argument, NULL, 't'},
        {"org", required_argument, NULL, 'g'},
        {"sensor", required_argument, NULL, 'S'},
        {"sid", required_argument, NULL, 'i'},
        {"addr", required_argument, NULL, 'a'},
        {"severity", required_argument, NULL, 'v'},
        {"signature", required_argument, NULL, 'm'},
        {"limit", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct store_query q = {.sid = -1, .limit = 100};
    struct ctl_list l = {0};
    uint64_t v;
    int64_t n;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, "s:u:t:g:S:i:a:v:m:l:j", opts, NULL)) != -1) {
        switch (ch) {
        case 's':
        case 'u':
            if (ctl_parse_when(optarg, ch == 's' ? &q.since : &q.until) != 0)
                return ctl_usage_error(usage,
                                       "--%s \"%s\": expected 2024-04-01[T10:00:00], @UNIX, "
                                       "now, or an age like 15m, 2h, 7d",
                                       ch == 's' ? "since" : "until", optarg);
            if (ch == 's')
                q.has_since = true;
            else
                q.has_until = true;
            break;
        case 't':
            if (ctl_parse_uint(optarg, 2, &v) != 0 || v == 0)
                return ctl_usage_error(usage, "--tier must be 1 or 2");
            q.tier = (unsigned)v;
            break;
        case 'g':
            q.org = optarg;
            break;
        case 'S':
            q.sensor = optarg;
            break;
        case 'i':
            if (ctl_parse_uint(optarg, INT64_MAX, &v) != 0)
                return ctl_usage_error(usage, "--sid must be a number");
            q.sid = (int64_t)v;
            break;
        case 'a':
            q.addr = optarg;
            break;
        case 'v':
            if (ctl_parse_uint(optarg, 255, &v) != 0 || v == 0)
                return ctl_usage_error(usage, "--severity must be a number from 1");
            q.severity = (int)v;
            break;
        case 'm':
            q.signature = optarg;
            break;
        case 'l':
            if (ctl_parse_uint(optarg, UINT64_MAX, &q.limit) != 0)
                return ctl_usage_error(usage, "--limit must be a number (0: no limit)");
            break;
        case 'j':
            l.json = true;
            break;
        default:
            return ctl_usage_error(usage, "unknown option");
        }
    }
    if (optind != argc)
        return ctl_usage_error(usage, "unexpected argument \"%s\"", argv[optind]);
    if ((rc = ctl_open(x, false)) != 0)
        return rc;
    if ((n = store_search(x->store, &q, ctl_print_alert, &l)) < 0)
        return ctl_error("%s", store_error(x->store));
    if (!l.json)
        fprintf(stderr, "kanshictl: %" PRId64 " alert(s)%s\n", n,
                q.limit != 0 && (uint64_t)n == q.limit ? " (the newest; --limit 0 for all)" : "");
    return CTL_OK;
}

/* The feed of a tier from the config: the one carrying exactly that tier,
 * else the first that carries it.  A wildcard bind address becomes
 * loopback, for use on the collector's host. */
static int ctl_feed_for_tier(struct ctl *x, unsigned tier, char *out, size_t len)
{
    const struct collector_feed *best = NULL;
    const char *host, *colon;
    int rc;

    if (x->config_path == NULL)
        return ctl_error("--tier needs -c collector.yaml to find the feed (or give --feed)");
    if ((rc = ctl_load_config(x)) != 0)
        return rc;
    for (size_t i = 0; i < x->cfg.nfeeds; i++) {
        const struct collector_feed *f = &x->cfg.feeds[i];
        if (f->tiers == STORE_TIER_BIT(tier)) {
            best = f;
            break;
        }
        if (best == NULL && (f->tiers & STORE_TIER_BIT(tier)))
            best = f;
    }
    if (best == NULL)
        return ctl_error("%s: no feed carries tier %u", x->cfg.path, tier);
    host = best->endpoint + 6;
    colon = strrchr(best->endpoint, ':');
    if (strncmp(best->endpoint, "tcp://", 6) == 0 && colon != NULL &&
        ((colon - host == 1 && *host == '*') ||
         (colon - host == 7 && strncmp(host, "0.0.0.0", 7) == 0)))
        snprintf(out, len, "tcp://127.0.0.1%s", colon);
    else
        snprintf(out, len, "%s", best->endpoint);
    return 0;
}

static int cmd_alerts_tail(struct ctl *x, int argc, char **argv)
{
    static const char usage[] =
        "alerts tail (--feed ENDPOINT | --tier N) --key ANALYST_SECRET_FILE\n"
        "         [--collector-key Z85|FILE] [--json] [--count N] [--timeout SECONDS] [--stamp]";
    static const struct option opts[] = {
        {"feed", required_argument, NULL, 'f'},
        {"tier", required_argument, NULL, 't'},
        {"key", required_argument, NULL, 'k'},
        {"collector-key", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"count", required_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 'T'},
        {"stamp", no_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    const char *feed = NULL, *keyfile = NULL, *ckey_arg = NULL;
    char endpoint[512], err[512], sec[UPLINK_KEY_LEN + 1], pub[UPLINK_KEY_LEN + 1];
    char ckey[UPLINK_KEY_LEN + 1], topic[16] = "";
    uint64_t count = 0, timeout = 0, got = 0, v;
    unsigned tier = 0;
    bool json = false, refused = false, stamp = false;
    void *ctx = NULL, *sub = NULL, *mon = NULL;
    struct sigaction sa;
    int64_t deadline = 0;
    int ch, rc = CTL_OK, zero = 0;

    while ((ch = getopt_long(argc, argv, "f:t:k:c:jn:T:S", opts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            feed = optarg;
            break;
        case 't':
            if (ctl_parse_uint(optarg, 2, &v) != 0 || v == 0)
                return ctl_usage_error(usage, "--tier must be 1 or 2");
            tier = (unsigned)v;
            break;
        case 'k':
            keyfile = optarg;
            break;
        case 'c':
            ckey_arg = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'n':
            if (ctl_parse_uint(optarg, UINT64_MAX, &count) != 0)
                return ctl_usage_error(usage, "--count must be a number");
            break;
        case 'T':
            if (ctl_parse_uint(optarg, 86400 * 365, &timeout) != 0)
                return ctl_usage_error(usage, "--timeout must be a number of seconds");
            break;
        case 'S':
            stamp = true;
            break;
        default:
            return ctl_usage_error(usage, "unknown option");
        }
    }
    if (optind != argc)
        return ctl_usage_error(usage, "unexpected argument \"%s\"", argv[optind]);
    if (keyfile == NULL || (feed == NULL && tier == 0))
        return ctl_usage_error(usage, "give --key and --feed or --tier");
    if (feed == NULL && (rc = ctl_feed_for_tier(x, tier, endpoint, sizeof(endpoint))) != 0)
        return rc;
    if (feed != NULL)
        snprintf(endpoint, sizeof(endpoint), "%s", feed);
    if (tier != 0)
        snprintf(topic, sizeof(topic), "tier%u", tier);
    if ((rc = ctl_collector_key(x, ckey_arg, ckey)) != 0)
        return rc;
    if (uplink_read_key_file(keyfile, 1, sec, err, sizeof(err)) != 0)
        return ctl_error("%s", err);
    if (zmq_curve_public(pub, sec) != 0) {
        explicit_bzero(sec, sizeof(sec));
        return ctl_error("%s: cannot derive the public key", keyfile);
    }

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = ctl_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if ((ctx = zmq_ctx_new()) == NULL || (sub = zmq_socket(ctx, ZMQ_SUB)) == NULL ||
        zmq_setsockopt(sub, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
        zmq_setsockopt(sub, ZMQ_CURVE_SERVERKEY, ckey, UPLINK_KEY_LEN) != 0 ||
        zmq_setsockopt(sub, ZMQ_CURVE_PUBLICKEY, pub, UPLINK_KEY_LEN) != 0 ||
        zmq_setsockopt(sub, ZMQ_CURVE_SECRETKEY, sec, UPLINK_KEY_LEN) != 0 ||
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, topic, strlen(topic)) != 0 ||
        zmq_socket_monitor(sub, "inproc://kanshictl-monitor",
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0 ||
        (mon = zmq_socket(ctx, ZMQ_PAIR)) == NULL ||
        zmq_connect(mon, "inproc://kanshictl-monitor") != 0 || zmq_connect(sub, endpoint) != 0) {
        rc = ctl_error("%s: %s", endpoint, zmq_strerror(zmq_errno()));
        goto out;
    }
    explicit_bzero(sec, sizeof(sec));
    if (timeout != 0)
        deadline = (int64_t)time(NULL) + (int64_t)timeout;
    while (!ctl_stop && (count == 0 || got < count)) {
        zmq_pollitem_t items[2] = {{.socket = sub, .events = ZMQ_POLLIN},
                                   {.socket = mon, .events = ZMQ_POLLIN}};
        if (deadline != 0 && (int64_t)time(NULL) >= deadline)
            break;
        if (zmq_poll(items, 2, 200) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            rc = ctl_error("poll: %s", zmq_strerror(zmq_errno()));
            break;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            zmq_msg_t ev, addr;
            uint16_t event = 0;
            zmq_msg_init(&ev);
            zmq_msg_init(&addr);
            if (zmq_msg_recv(&ev, mon, 0) >= 0 && zmq_msg_size(&ev) >= 2)
                memcpy(&event, zmq_msg_data(&ev), 2);
            if (zmq_msg_more(&ev))
                zmq_msg_recv(&addr, mon, 0);
            zmq_msg_close(&ev);
            zmq_msg_close(&addr);
            if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
                fprintf(stderr, "kanshictl: subscribed to %s%s%s\n", endpoint,
                        topic[0] != '\0' ? ", topic " : "", topic);
            } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
                refused = true;
                break;
            } else if (event != 0) {
                rc = ctl_error("%s: handshake failed (is --collector-key the collector's key?)",
                               endpoint);
                break;
            }
        }
        while (items[0].revents & ZMQ_POLLIN) {
            zmq_msg_t t, m;
            zmq_msg_init(&t);
            zmq_msg_init(&m);
            if (zmq_msg_recv(&t, sub, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&t);
                zmq_msg_close(&m);
                break;
            }
            if (zmq_msg_more(&t) && zmq_msg_recv(&m, sub, 0) >= 0) {
                const char *data = zmq_msg_data(&m);
                size_t len = zmq_msg_size(&m);
                /* Arrival time first, for latency measurements (make bench). */
                if (stamp) {
                    struct timespec ts;
                    clock_gettime(CLOCK_REALTIME, &ts);
                    printf("%lld\t", (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
                }
                if (json)
                    printf("%.*s\n", (int)len, data);
                else
                    ctl_alert_line(data, len, NULL, 0, NULL);
                fflush(stdout);
                got++;
            }
            zmq_msg_close(&t);
            zmq_msg_close(&m);
            if (count != 0 && got >= count)
                break;
        }
    }
    if (rc == CTL_OK && !refused && count != 0 && got < count && !ctl_stop)
        rc = ctl_error("%s: %" PRIu64 " of %" PRIu64 " alerts before the timeout", endpoint, got,
                       count);
    if (refused)
        rc = ctl_error("%s refused this analyst key (not registered, revoked, or not entitled to "
                       "every tier the feed carries)",
                       endpoint);
out:
    explicit_bzero(sec, sizeof(sec));
    if (mon != NULL)
        zmq_close(mon);
    if (sub != NULL) {
        zmq_socket_monitor(sub, NULL, 0);
        zmq_close(sub);
    }
    if (ctx != NULL)
        zmq_ctx_term(ctx);
    return rc;
}

/* ---- bundles ------------------------------------------------------------------------------ */

/* The one option of publish and promote: --to SPEC. */
static int ctl_bundle_to(int argc, char **argv, const char *usage, const char **to)
{
    static const struct option opts[] = {
        {"to", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    *to = NULL;
    while ((ch = getopt_long(argc, argv, "t:", opts, NULL)) != -1) {
        if (ch != 't')
            return ctl_usage_error(usage, "unknown option");
        *to = optarg;
    }
    if (*to == NULL)
        return ctl_usage_error(usage, "give --to all|tier:N|org:NAME|sensor:ID[,ID...]");
    if (optind + 1 != argc)
        return ctl_usage_error(usage, "give exactly one %s", strstr(usage, "FILE") != NULL
                                                                  ? "bundle FILE"
                                                                  : "VERSION");
    return CTL_OK;
}

/* Reads a whole bundle file (at most STORE_MAX_BUNDLE bytes) into *out. */
static int ctl_read_bundle(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat sb;
    uint8_t *p;

    if (f == NULL)
        return ctl_error("%s: %s", path, strerror(errno));
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return ctl_error("%s: not a regular file", path);
    }
    if (sb.st_size <= 0 || (uint64_t)sb.st_size > STORE_MAX_BUNDLE) {
        fclose(f);
        return ctl_error("%s: %lld bytes; a bundle the collector serves has 1 to %zu",
                         path, (long long)sb.st_size, STORE_MAX_BUNDLE);
    }
    if ((p = malloc((size_t)sb.st_size)) == NULL) {
        fclose(f);
        return ctl_error("%s", strerror(ENOMEM));
    }
    if (fread(p, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
        fclose(f);
        free(p);
        return ctl_error("%s: short read", path);
    }
    fclose(f);
    *out = p;
    *len = (size_t)sb.st_size;
    return CTL_OK;
}

static uint64_t ctl_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/*
 * The fields of a bundle file the collector needs, from its outer header
 * and the start of its manifest (bundle.h, format 1).  The collector holds
 * no release key and does not verify the signature: each sensor does, and
 * refuses what is not signed by a key it pins.
 */
static int ctl_bundle_fields(const char *path, const uint8_t *p, size_t len, struct store_bundle *b)
{
    uint8_t id[BUNDLE_KEY_ID_LEN];
    uint64_t total;
    char err[256];
    size_t k;

    if (bundle_peek_header(p, len, id, &total, err, sizeof(err)) != 0)
        return ctl_error("%s: %s", path, err);
    if (total != len)
        return ctl_error("%s: the header says %llu bytes, the file has %zu", path,
                         (unsigned long long)total, len);
    /* 96 <= len: the manifest's fixed part (to offset 60) is there. */
    memset(b, 0, sizeof(*b));
    b->version = ctl_be64(p + 40);
    k = p[56];
    if (k < 1 || k > BUNDLE_MAX_KIND || 60 + k > len)
        return ctl_error("%s: manifest: bad kind length %zu", path, k);
    for (size_t i = 0; i < k; i++)
        if (!((p[60 + i] >= 'a' && p[60 + i] <= 'z') || (p[60 + i] >= '0' && p[60 + i] <= '9') ||
              p[60 + i] == '_' || p[60 + i] == '-'))
            return ctl_error("%s: manifest: bad kind", path);
    memcpy(b->kind, p + 60, k);
    b->kind[k] = '\0';
    if (b->version == 0 || b->version > INT64_MAX)
        return ctl_error("%s: manifest: version %llu out of range", path,
                         (unsigned long long)b->version);
    b->size = len;
    crypto_hash_sha256(b->sha256, p, len);
    return CTL_OK;
}

static int cmd_bundle_publish(struct ctl *x, int argc, char **argv)
{
    static const char usage[] = "bundle publish FILE --to all|tier:N|org:NAME|sensor:ID[,ID...]";
    struct store_bundle b;
    const char *to, *path;
    uint8_t *data = NULL;
    size_t len = 0;
    int rc, n;
    bool own;

    if ((rc = ctl_bundle_to(argc, argv, usage, &to)) != CTL_OK)
        return rc;
    path = argv[optind];
    if ((rc = ctl_read_bundle(path, &data, &len)) != CTL_OK)
        return rc;
    if ((rc = ctl_bundle_fields(path, data, len, &b)) != CTL_OK || (rc = ctl_open(x, false)) != 0) {
        free(data);
        return rc;
    }
    /* The bundle and its first targets in one transaction: a bad --to
     * leaves nothing published. */
    own = store_begin(x->store) == 0;
    if (!own) {
        free(data);
        return ctl_error("%s", store_error(x->store));
    }
    rc = store_bundle_add(x->store, &b, data, ctl_now());
    free(data);
    if (rc != 0 || (n = store_bundle_target(x->store, b.version, to, ctl_now())) < 0) {
        rc = ctl_error("%s", store_error(x->store));
        store_rollback(x->store);
        return rc;
    }
    if (store_commit(x->store) != 0)
        return ctl_error("%s", store_error(x->store));
    printf("published bundle %llu (%s, %zu bytes), offered to %d sensor%s (%s)\n",
           (unsigned long long)b.version, b.kind, len, n, n == 1 ? "" : "s", to);
    return CTL_OK;
}

static int cmd_bundle_promote(struct ctl *x, int argc, char **argv)
{
    static const char usage[] = "bundle promote VERSION --to all|tier:N|org:NAME|sensor:ID[,ID...]";
    const char *to;
    uint64_t version;
    int rc, n;

    if ((rc = ctl_bundle_to(argc, argv, usage, &to)) != CTL_OK)
        return rc;
    if (ctl_parse_uint(argv[optind], INT64_MAX, &version) != 0 || version == 0)
        return ctl_usage_error(usage, "\"%s\" is not a bundle version", argv[optind]);
    if ((rc = ctl_open(x, false)) != 0)
        return rc;
    if ((n = store_bundle_target(x->store, version, to, ctl_now())) < 0)
        return ctl_error("%s", store_error(x->store));
    printf("bundle %llu offered to %d more sensor%s (%s)\n", (unsigned long long)version, n,
           n == 1 ? "" : "s", to);
    return CTL_OK;
}

struct ctl_bstatus {
    size_t rows; /* of the current sensor */
};

static int ctl_print_delivery(void *arg, const struct store_delivery *d)
{
    struct ctl_bstatus *bs = arg;
    char fetched[48], when[32];

    bs->rows++;
    snprintf(fetched, sizeof(fetched), "%llu/%llu", (unsigned long long)d->fetched,
             (unsigned long long)d->size);
    printf("%-16s %-8llu %-9s %-21s %-20s %-16s %s\n", d->sensor_id,
           (unsigned long long)d->version, store_dlv_state_name(d->state), fetched,
           ctl_time(d->updated, false, when, sizeof(when)),
           d->running[0] != '\0' ? d->running : "-", d->reason);
    return 0;
}

/* Per sensor (active ones, or the one named): each bundle offered to it and
 * where it stands, and the ruleset the sensor says it runs. */
static int cmd_bundle_status(struct ctl *x, int argc, char **argv)
{
    struct ctl_sensors l = {0};
    int rc = CTL_OK;

    if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
        return ctl_usage_error("bundle status [SENSOR]", "unknown argument");
    if ((rc = ctl_open(x, false)) != 0)
        return rc;
    if (store_sensor_list(x->store, ctl_collect_sensor, &l) < 0) {
        free(l.v);
        return ctl_error("%s", store_error(x->store));
    }
    printf("%-16s %-8s %-9s %-21s %-20s %-16s %s\n", "SENSOR", "VERSION", "STATE", "FETCHED",
           "UPDATED", "RUNNING", "REASON");
    for (size_t i = 0; i < l.n && rc == CTL_OK; i++) {
        struct ctl_bstatus bs = {0};
        const struct store_sensor *se = &l.v[i];

        if (argc == 2 ? strcmp(argv[1], se->id) != 0 : se->revoked != 0)
            continue;
        if (store_delivery_list(x->store, se->id, ctl_print_delivery, &bs) < 0)
            rc = ctl_error("%s", store_error(x->store));
        else if (bs.rows == 0)
            printf("%-16s %-8s %-9s %-21s %-20s %-16s\n", se->id, "-", "-", "-", "-",
                   se->ruleset[0] != '\0' ? se->ruleset : "-");
    }
    free(l.v);
    return rc;
}

/* ---- commands ----------------------------------------------------------------------------- */

static const struct ctl_cmd {
    const char *group, *verb;
    int (*run)(struct ctl *x, int argc, char **argv);
    const char *summary;
} ctl_cmds[] = {
    {"org", "add", cmd_org_add, "NAME --tier 1|2 [--ministry NAME]"},
    {"org", "list", cmd_org_list, "[--json]"},
    {"registry", "import", cmd_registry_import, "FILE   (lines: TIER NAME [; MINISTRY])"},
    {"sensor", "enroll", cmd_sensor_enroll,
     "ID --org NAME --endpoint tcp://HOST:PORT --out DIR [--collector-key K]"},
    {"sensor", "revoke", cmd_sensor_revoke, "ID"},
    {"sensor", "list", cmd_sensor_list, "[--json]"},
    {"sensor", "show", cmd_sensor_show, "ID"},
    {"analyst", "add", cmd_analyst_add, "NAME --tiers 1|2|1,2 [--out DIR]"},
    {"analyst", "revoke", cmd_analyst_revoke, "NAME"},
    {"analyst", "list", cmd_analyst_list, ""},
    {"bundle", "publish", cmd_bundle_publish,
     "FILE --to all|tier:N|org:NAME|sensor:ID[,ID...]"},
    {"bundle", "promote", cmd_bundle_promote,
     "VERSION --to all|tier:N|org:NAME|sensor:ID[,ID...]"},
    {"bundle", "status", cmd_bundle_status, "[SENSOR]"},
    {"keygen", NULL, cmd_keygen, "--out FILE   (the collector's key pair)"},
    {"alerts", "tail", cmd_alerts_tail,
     "--feed ENDPOINT|--tier N --key FILE [--collector-key K] [--json]"},
    {"alerts", "search", cmd_alerts_search,
     "[--since T] [--until T] [--tier N] [--org NAME] [--sensor ID] [--sid N] [--addr IP]\n"
     "                 [--severity N] [--limit N] [--json]"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: kanshictl [-d DB | -c collector.yaml] COMMAND ...\n\n"
               "Manage the GSOC registry, follow and search alerts.\n\n");
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(ctl_cmds); i++)
        fprintf(f, "  %s%s%s%s%s\n", ctl_cmds[i].group, ctl_cmds[i].verb != NULL ? " " : "",
                ctl_cmds[i].verb != NULL ? ctl_cmds[i].verb : "",
                ctl_cmds[i].summary[0] != '\0' ? " " : "", ctl_cmds[i].summary);
    fprintf(f, "\n  -d DB    the collector's database (default: the one of -c, or of\n"
               "           " CTL_DEFAULT_CONFIG ")\n"
               "  -c FILE  collector.yaml, for the database, feeds and collector key\n"
               "  -V       version   -h  this help\n\n"
               "Exit status: 0 success, 1 error, 2 usage.  See kanshictl(8).\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct ctl x = {0};
    const struct ctl_cmd *cmd = NULL;
    int ch, rc, skip;

    log_init("kanshictl", LOG_LEVEL_WARN);
    while ((ch = getopt_long(argc, argv, "+d:c:Vh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            x.db_path = optarg;
            break;
        case 'c':
            x.config_path = optarg;
            break;
        case 'V':
            printf("kanshictl %s\n", KANSHI_VERSION);
            return CTL_OK;
        case 'h':
            usage(stdout);
            return CTL_OK;
        default:
            usage(stderr);
            return CTL_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return CTL_USAGE;
    }
    if (strcmp(argv[optind], "help") == 0 || strcmp(argv[optind], "--help") == 0) {
        usage(stdout);
        return CTL_OK;
    }
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(ctl_cmds) && cmd == NULL; i++) {
        const struct ctl_cmd *c = &ctl_cmds[i];
        if (strcmp(c->group, argv[optind]) != 0)
            continue;
        if (c->verb == NULL || (optind + 1 < argc && strcmp(c->verb, argv[optind + 1]) == 0))
            cmd = c;
    }
    if (cmd == NULL) {
        fprintf(stderr, "kanshictl: unknown command \"%s%s%s\"\n", argv[optind],
                optind + 1 < argc ? " " : "", optind + 1 < argc ? argv[optind + 1] : "");
        usage(stderr);
        return CTL_USAGE;
    }
    skip = optind + (cmd->verb != NULL ? 1 : 0);
    for (int i = skip + 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: kanshictl %s%s%s %s\n", cmd->group, cmd->verb != NULL ? " " : "",
                   cmd->verb != NULL ? cmd->verb : "", cmd->summary);
            return CTL_OK;
        }
    }
    /* The command sees its own name as argv[0]; getopt restarts. */
    optind = 0;
    rc = cmd->run(&x, argc - skip, argv + skip);
    store_close(x.store);
    if (x.have_cfg)
        collector_config_fini(&x.cfg);
    return rc;
}
