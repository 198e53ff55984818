/*
 * config.c — the sensor's YAML configuration file.
 *
 * Two steps, so that YAML and the meaning of keys stay apart:
 *
 *  1. config_flatten() reads the YAML with libyaml's event parser into a flat
 *     list of (dotted key, value, line): nested mappings join their keys
 *     with '.', and each item of a sequence becomes one more entry under the
 *     sequence's key.
 *  2. config_apply() checks each entry against config_keys[], the one table
 *     of every known key with its type, range, default and help (like
 *     Redis's static_configs), and stores it in struct sensor_config.
 *
 * Only the address and port groups under vars are free-form names, as in
 * suricata.yaml, so that the vars section of an existing Suricata
 * configuration can be used unchanged.  Everything else unknown is an error:
 * a misspelt key that is silently ignored is a sensor running with a setting
 * its operator believes is different.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "kanshi/config.h"
#include "kanshi/kanshi.h"
#include "kanshi/rules.h"

/* A config file is a few KB; anything this large is a wrong path. */
#define CONFIG_MAX_FILE (4u << 20)
/* Deeper nesting than this has no meaning in the schema. */
#define CONFIG_MAX_DEPTH 16
#define CONFIG_MAX_KEY 256

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)
#define TIB (1024ull * GIB)

enum config_type {
    CONFIG_STRING,  /* char *; nullable: ~ or '' unsets it */
    CONFIG_BOOL,    /* bool */
    CONFIG_UINT,    /* uint32_t in [min, max] */
    CONFIG_SIZE,    /* uint32_t or uint64_t bytes in [min, max], "64mb" */
    CONFIG_STRLIST, /* char ** plus size_t count: a scalar or a sequence */
    CONFIG_ENUM,    /* unsigned: index of the value in choices[] */
};

struct config_key {
    const char *key;
    enum config_type type;
    size_t off;       /* field in struct sensor_config */
    size_t width;     /* CONFIG_UINT/SIZE: sizeof the field */
    size_t count_off; /* CONFIG_STRLIST: the size_t count */
    bool nullable;    /* CONFIG_STRING: may be unset */
    uint64_t min, max;
    const char *def_str; /* CONFIG_STRING default, NULL: none */
    uint64_t def_num;    /* CONFIG_BOOL/UINT/SIZE default */
    const char *help;
    const char *const *choices; /* CONFIG_ENUM: NULL-terminated */
};

#define CONFIG_FIELD(f) offsetof(struct sensor_config, f)
#define CONFIG_WIDTH(f) sizeof(((struct sensor_config *)0)->f)

/* One line per kind of key reads better than clang-format's layout. */
/* clang-format off */
#define STR(k, f, def, help) \
    {k, CONFIG_STRING, CONFIG_FIELD(f), 0, 0, false, 0, 0, def, 0, help, NULL}
#define OPTSTR(k, f, help) \
    {k, CONFIG_STRING, CONFIG_FIELD(f), 0, 0, true, 0, 0, NULL, 0, help, NULL}
#define BOOL(k, f, def, help) \
    {k, CONFIG_BOOL, CONFIG_FIELD(f), 0, 0, false, 0, 1, NULL, def, help, NULL}
#define UINT(k, f, lo, hi, def, help) \
    {k, CONFIG_UINT, CONFIG_FIELD(f), CONFIG_WIDTH(f), 0, false, lo, hi, NULL, def, help, NULL}
#define SIZE(k, f, lo, hi, def, help) \
    {k, CONFIG_SIZE, CONFIG_FIELD(f), CONFIG_WIDTH(f), 0, false, lo, hi, NULL, def, help, NULL}
#define STRLIST(k, f, n, help) \
    {k, CONFIG_STRLIST, CONFIG_FIELD(f), 0, CONFIG_FIELD(n), false, 0, 0, NULL, 0, help, NULL}
#define ENUM(k, f, choices, def, help) \
    {k, CONFIG_ENUM, CONFIG_FIELD(f), CONFIG_WIDTH(f), 0, false, 0, 0, NULL, def, help, choices}
/* clang-format on */

/* Choices, in the order of their enums (stream_policy, config_checksum,
 * defrag_policy). */
/* in enum stream_policy's order; bsd, Suricata's default, is ours */
static const char *const config_stream_policy_names[] = {"first", "last", "bsd", NULL};
static const char *const config_checksum_names[] = {"auto", "yes", "no", NULL};
static const char *const config_defrag_policy_names[] = {"bsd",   "first",   "last",
                                                         "linux", "windows", "solaris", NULL};

/* spool.fsync, in the order of enum spool_fsync. */
static const char *const config_fsync_names[] = {"never", "batch", "always", NULL};

static const struct config_key config_keys[] = {
    STR("sensor-id", sensor_id, NULL, "name of this sensor in alerts (default: the host name)"),
    OPTSTR("user", user, "user to switch to once capture is open (default: stay)"),
    STR("ruleset-version", ruleset_version, "local", "ruleset label written into alerts"),
    OPTSTR("geoip.country", geoip_country, "GeoIP2/GeoLite2 Country or City database"),
    OPTSTR("geoip.asn", geoip_asn, "GeoLite2 ASN database"),
    OPTSTR("output.eve", eve_path, "EVE JSON file, '-' for stdout"),
    OPTSTR("classification-file", classification, "classification.config to load"),
    STRLIST("rules", rule_paths, nrule_paths, "rule files or directories of *.rules"),
    SIZE("flow.memcap", flow_memcap, 64 * KIB, TIB, 64 * MIB, "memory for the flow table"),
    UINT("flow.hash-size", flow_hash_size, 16, 1u << 26, 65536, "flow hash buckets"),
    UINT("flow.timeouts.new", flow_timeout_new, 1, 3600, 30, "seconds, before a reply"),
    UINT("flow.timeouts.established", flow_timeout_est, 1, 86400, 300, "seconds, TCP"),
    UINT("flow.timeouts.closed", flow_timeout_closed, 0, 3600, 0, "seconds after FIN/RST"),
    UINT("flow.timeouts.udp-established", flow_timeout_udp_est, 1, 86400, 300, "seconds"),
    UINT("flow.timeouts.icmp-established", flow_timeout_icmp_est, 1, 86400, 300, "seconds"),
    SIZE("stream.memcap", stream_memcap, 64 * KIB, TIB, 64 * MIB, "memory for TCP sessions"),
    SIZE("stream.reassembly.memcap", stream_reassembly_memcap, 64 * KIB, TIB, 256 * MIB,
         "memory for reassembled stream data"),
    SIZE("stream.reassembly.depth", stream_depth, 0, TIB, MIB,
         "bytes reassembled per direction, 0 for all"),
    ENUM("stream.reassembly.overlap-policy", stream_policy, config_stream_policy_names, 2,
         "bsd (bytes seen stay unless a segment starts before theirs), first or last"),
    UINT("stream.reassembly.toserver-chunk-size", stream_chunk_toserver, 1, 1u << 24, 2560,
         "acknowledged bytes that trigger inspection of the client's stream"),
    UINT("stream.reassembly.toclient-chunk-size", stream_chunk_toclient, 1, 1u << 24, 2560,
         "acknowledged bytes that trigger inspection of the server's stream"),
    BOOL("stream.midstream", stream_midstream, false, "pick up sessions without a handshake"),
    BOOL("stream.async-oneside", stream_async_oneside, false,
         "only the client's side of sessions is seen (asymmetric routing)"),
    ENUM("capture.checksum-checks", checksum_checks, config_checksum_names, 0,
         "auto, yes or no: keep packets with bad TCP checksums out of the stream"),
    BOOL("app-layer.enabled", app_enabled, true,
         "detect and parse HTTP, TLS and DNS (rules on their buffers need it)"),
    UINT("app-layer.max-states", app_max_states, 1, 1u << 24, 65536,
         "flows with application-layer parser state at once"),
    SIZE("app-layer.http.request-body-limit", app_http_request_body, 1, 64 * MIB, 4 * KIB,
         "request body bytes kept for inspection"),
    SIZE("app-layer.http.response-body-limit", app_http_response_body, 1, 64 * MIB, 4 * KIB,
         "response body bytes kept for inspection"),
    SIZE("app-layer.http.decompress-limit", app_http_decompress, 1, 64 * MIB, 64 * KIB,
         "bytes a gzip/deflate body may expand to"),
    SIZE("defrag.memcap", defrag_memcap, 64 * KIB, TIB, 32 * MIB, "memory for IP fragments"),
    UINT("defrag.timeout", defrag_timeout, 1, 86400, 60, "seconds to wait for all fragments"),
    UINT("defrag.max-frags", defrag_max_frags, 1, 1u << 24, 65535, "fragments held at once"),
    ENUM("defrag.policy", defrag_policy, config_defrag_policy_names, 0,
         "overlap policy: bsd, first, last, linux, windows, solaris"),
    OPTSTR("threshold-file", threshold_file, "threshold.config: suppress, threshold, rate_filter"),
    /* A string with a default that '' or ~ turns off: STR() cannot be unset, OPTSTR() has no
     * default. */
    {"detect.cache-dir", CONFIG_STRING, CONFIG_FIELD(detect_cache_dir), 0, 0, true, 0, 0,
     "/var/lib/kanshi/hs-cache", 0,
     "compiled Hyperscan databases kept across restarts; '' for none", NULL},
    UINT("capture.snaplen", snaplen, 64, 262144, 65535, "bytes captured per packet"),
    SIZE("capture.buffer-size", buffer_size, 64 * KIB, 2 * GIB, 32 * MIB,
         "libpcap ring buffer per capture handle"),
    BOOL("capture.promisc", promisc, true, "put the interface in promiscuous mode"),
    OPTSTR("uplink.endpoint", uplink_endpoint, "collector, e.g. tcp://gsoc.example:7700"),
    OPTSTR("uplink.collector-public-key", uplink_collector_key, "collector's CURVE key (Z85)"),
    OPTSTR("uplink.secret-key-file", uplink_secret_key_file, "this sensor's CURVE secret key"),
    OPTSTR("uplink.public-key", uplink_public_key, "this sensor's CURVE public key (Z85)"),
    UINT("uplink.stats-interval", uplink_stats_interval, 1, 3600, 10, "seconds between STATS"),
    UINT("uplink.drain-timeout", uplink_drain_timeout, 0, 3600, 10,
         "seconds to wait at exit for the collector to acknowledge everything"),
    STR("spool.dir", spool_dir, "/var/lib/kanshi/spool", "alerts waiting for the collector"),
    SIZE("spool.max-size", spool_max_size, MIB, 16 * TIB, GIB, "cap on the spool on disk"),
    ENUM("spool.fsync", spool_fsync, config_fsync_names, 1, "never, batch or always"),
    UINT("spool.fsync-interval", spool_fsync_interval, 1, 60000, 100,
         "milliseconds between syncs with fsync: batch"),
    STRLIST("bundles.keys", bundle_keys, nbundle_keys,
            "release public key files; signed rules bundles are applied only with one"),
    STR("bundles.dir", bundle_dir, "/var/lib/kanshi/bundles",
        "applied rules bundles and the version running (anti-rollback state)"),
    OPTSTR("bundles.incoming", bundle_incoming, "drop directory: *.bundle files put here are applied"),
    UINT("bundles.check-interval", bundle_check_interval, 1, 3600, 5,
         "seconds between looks into bundles.incoming (SIGHUP looks at once)"),
};

/* Free-form sections: the rest of the key is a variable name. */
static const char config_addr_prefix[] = "vars.address-groups.";
static const char config_port_prefix[] = "vars.port-groups.";

/* One flattened entry. */
struct config_item {
    char *key;
    char *value;       /* NULL for null or an empty container */
    unsigned line;     /* of the value */
    unsigned key_line; /* of the (innermost) key */
    unsigned seq;      /* id of the sequence the value is an item of, 0: none */
    bool empty_seq;    /* value is an empty sequence [] */
    bool empty_map;    /* value is an empty mapping {} */
};

struct config_items {
    struct config_item *v;
    size_t n, cap;
};

static void config_items_free(struct config_items *it)
{
    for (size_t i = 0; i < it->n; i++) {
        free(it->v[i].key);
        free(it->v[i].value);
    }
    free(it->v);
    memset(it, 0, sizeof(*it));
}

static int config_items_add(struct config_items *it, const char *key, const char *value,
                            struct config_item tmpl)
{
    struct config_item *item;

    if (it->n == it->cap) {
        size_t cap = it->cap != 0 ? it->cap * 2 : 32;
        struct config_item *v = kanshi_reallocarray(it->v, cap, sizeof(*v));
        if (v == NULL)
            return -ENOMEM;
        it->v = v;
        it->cap = cap;
    }
    item = &it->v[it->n];
    *item = tmpl;
    item->key = strdup(key);
    item->value = value != NULL ? strdup(value) : NULL;
    if (item->key == NULL || (value != NULL && item->value == NULL)) {
        free(item->key);
        free(item->value);
        return -ENOMEM;
    }
    it->n++;
    return 0;
}

/* ---- step 1: YAML to a flat list ---------------------------------------------------------- */

struct config_frame {
    bool is_map;
    bool want_key;     /* map: the next scalar is a key */
    size_t prefix_len; /* length of the path leading to this container */
    unsigned seq;      /* seq: its id */
    unsigned key_line; /* map: line of the current key */
    size_t nitems;
};

struct config_flat {
    const char *file;
    const unsigned char *text;
    size_t len;
    struct config_items *items;
    char path[CONFIG_MAX_KEY + 1];
    size_t path_len;
    struct config_frame stack[CONFIG_MAX_DEPTH];
    size_t depth;
    unsigned next_seq;
    char *err;
    size_t errlen;
};

/* Line of a byte offset, for reader errors that only carry an offset. */
static unsigned config_line_of(const struct config_flat *f, size_t off)
{
    unsigned line = 1;

    for (size_t i = 0; i < off && i < f->len; i++)
        if (f->text[i] == '\n')
            line++;
    return line;
}

static int config_flat_error(struct config_flat *f, unsigned line, const char *what)
{
    snprintf(f->err, f->errlen, "%s:%u: yaml: %s", f->file, line, what);
    return KANSHI_EPARSE;
}

static bool config_is_null(const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;

    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* Appends ".key" (or "key" at the top) to the path. */
static int config_path_push(struct config_flat *f, const char *key, size_t klen, unsigned line)
{
    size_t need = klen + (f->path_len > 0 ? 1 : 0);

    if (klen == 0)
        return config_flat_error(f, line, "empty key");
    if (memchr(key, '\0', klen) != NULL)
        return config_flat_error(f, line, "key holds a NUL character");
    if (f->path_len + need > CONFIG_MAX_KEY)
        return config_flat_error(f, line, "key too long");
    if (f->path_len > 0)
        f->path[f->path_len++] = '.';
    memcpy(f->path + f->path_len, key, klen);
    f->path_len += klen;
    f->path[f->path_len] = '\0';
    return 0;
}

static void config_path_cut(struct config_flat *f, size_t len)
{
    f->path_len = len;
    f->path[len] = '\0';
}

/* A value (scalar or container) at the current path has been completed. */
static void config_value_done(struct config_flat *f)
{
    struct config_frame *top;

    if (f->depth == 0)
        return;
    top = &f->stack[f->depth - 1];
    top->nitems++;
    if (top->is_map) {
        config_path_cut(f, top->prefix_len);
        top->want_key = true;
    }
}

static int config_scalar(struct config_flat *f, const yaml_event_t *ev)
{
    struct config_frame *top = f->depth > 0 ? &f->stack[f->depth - 1] : NULL;
    const char *v = (const char *)ev->data.scalar.value;
    unsigned line = (unsigned)ev->start_mark.line + 1;
    const char *tag = (const char *)ev->data.scalar.tag;
    struct config_item tmpl = {.line = line};
    int rc;

    if (top == NULL) {
        if (config_is_null(ev))
            return 0; /* an empty document: all defaults */
        return config_flat_error(f, line, "the top level must be a mapping of keys");
    }
    if (top->is_map && top->want_key) {
        if ((rc = config_path_push(f, v, ev->data.scalar.length, line)) != 0)
            return rc;
        top->want_key = false;
        top->key_line = line;
        return 0;
    }
    if (memchr(v, '\0', ev->data.scalar.length) != NULL)
        return config_flat_error(f, line, "value holds a NUL character");
    /* "!$HOME_NET" unquoted is a YAML tag, not a value; say so instead of
     * silently reading an empty string. */
    if (tag != NULL && strncmp(tag, "tag:yaml.org,2002:", 18) != 0) {
        snprintf(f->err, f->errlen, "%s:%u: %s: unquoted %.60s is read as a YAML tag; quote it",
                 f->file, line, f->path, tag);
        return KANSHI_EPARSE;
    }
    /* A sequence frame carries the line of the key that owns it. */
    tmpl.key_line = top->key_line;
    tmpl.seq = top->is_map ? 0 : top->seq;
    rc = config_items_add(f->items, f->path, config_is_null(ev) ? NULL : v, tmpl);
    if (rc != 0)
        return rc;
    config_value_done(f);
    return 0;
}

static int config_open(struct config_flat *f, const yaml_event_t *ev, bool is_map)
{
    unsigned line = (unsigned)ev->start_mark.line + 1;
    struct config_frame *top = f->depth > 0 ? &f->stack[f->depth - 1] : NULL;
    struct config_frame *fr;

    if (top == NULL && !is_map)
        return config_flat_error(f, line, "the top level must be a mapping of keys");
    if (top != NULL && top->is_map && top->want_key)
        return config_flat_error(f, line, "a key must be a plain value, not a list or mapping");
    if (f->depth == CONFIG_MAX_DEPTH)
        return config_flat_error(f, line, "nested too deeply");
    fr = &f->stack[f->depth++];
    *fr = (struct config_frame){
        .is_map = is_map,
        .want_key = is_map,
        .prefix_len = f->path_len,
        .key_line = top != NULL ? top->key_line : line,
    };
    if (!is_map)
        fr->seq = ++f->next_seq;
    return 0;
}

static int config_close(struct config_flat *f, const yaml_event_t *ev)
{
    struct config_frame fr = f->stack[--f->depth];
    unsigned line = (unsigned)ev->start_mark.line + 1;
    int rc;

    /* An empty container still says something ("rules: []" clears the list). */
    if (fr.nitems == 0 && f->depth > 0) {
        const struct config_frame *parent = &f->stack[f->depth - 1];
        struct config_item tmpl = {.line = line,
                                   .key_line = fr.key_line,
                                   .seq = parent->is_map ? 0 : parent->seq,
                                   .empty_seq = !fr.is_map,
                                   .empty_map = fr.is_map};
        if ((rc = config_items_add(f->items, f->path, NULL, tmpl)) != 0)
            return rc;
    }
    config_value_done(f);
    return 0;
}

static int config_flatten(struct config_flat *f)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    int rc = 0, docs = 0;
    bool done = false;

    if (!yaml_parser_initialize(&parser))
        return -ENOMEM;
    yaml_parser_set_input_string(&parser, f->text, f->len);
    while (!done && rc == 0) {
        if (!yaml_parser_parse(&parser, &ev)) {
            unsigned line = parser.error == YAML_READER_ERROR
                                ? config_line_of(f, parser.problem_offset)
                                : (unsigned)parser.problem_mark.line + 1;
            if (parser.error == YAML_MEMORY_ERROR)
                rc = -ENOMEM;
            else
                rc = config_flat_error(f, line,
                                       parser.problem != NULL ? parser.problem : "syntax error");
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1)
                rc = config_flat_error(f, (unsigned)ev.start_mark.line + 1,
                                       "more than one document in the file");
            break;
        case YAML_ALIAS_EVENT:
            /* Aliases would let a small file expand without bound. */
            rc = config_flat_error(f, (unsigned)ev.start_mark.line + 1,
                                   "aliases (*name) are not supported");
            break;
        case YAML_SCALAR_EVENT:
            rc = config_scalar(f, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            rc = config_open(f, &ev, false);
            break;
        case YAML_MAPPING_START_EVENT:
            rc = config_open(f, &ev, true);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            rc = config_close(f, &ev);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rc;
}

/* ---- step 2: check and store ------------------------------------------------------------ */

int config_parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {
        {"", 1},      {"b", 1},    {"k", KIB},   {"kb", KIB},  {"kib", KIB},
        {"m", MIB},   {"mb", MIB}, {"mib", MIB}, {"g", GIB},   {"gb", GIB},
        {"gib", GIB}, {"t", TIB},  {"tb", TIB},  {"tib", TIB},
    };
    uint64_t v = 0;
    char unit[4];
    size_t n = 0;

    while (*s == ' ' || *s == '\t')
        s++;
    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    for (; isdigit((unsigned char)*s); s++) {
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -ERANGE;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    while (*s == ' ' || *s == '\t')
        s++;
    while (isalpha((unsigned char)*s)) {
        if (n == sizeof(unit) - 1)
            return -EINVAL;
        unit[n++] = (char)tolower((unsigned char)*s++);
    }
    unit[n] = '\0';
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s != '\0')
        return -EINVAL;
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(units); i++) {
        if (strcmp(unit, units[i].unit) == 0) {
            if (v > UINT64_MAX / units[i].mult)
                return -ERANGE;
            *out = v * units[i].mult;
            return 0;
        }
    }
    return -EINVAL;
}

/* Plain unsigned decimal, no sign, no spaces. */
static int config_parse_uint(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return -EINVAL;
    for (; *s != '\0'; s++) {
        if (!isdigit((unsigned char)*s))
            return -EINVAL;
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -ERANGE;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

static int config_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1", "y"};
    static const char *const no[] = {"no", "false", "off", "0", "n"};

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

/* "64mb" rather than "67108864" in messages about sizes. */
static void config_format_size(uint64_t v, char *buf, size_t len)
{
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {{"tb", TIB}, {"gb", GIB}, {"mb", MIB}, {"kb", KIB}};

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(units); i++) {
        if (v >= units[i].mult && v % units[i].mult == 0) {
            snprintf(buf, len, "%" PRIu64 "%s", v / units[i].mult, units[i].unit);
            return;
        }
    }
    snprintf(buf, len, "%" PRIu64, v);
}

static const struct config_key *config_find(const char *key)
{
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(config_keys); i++)
        if (strcmp(config_keys[i].key, key) == 0)
            return &config_keys[i];
    return NULL;
}

/* Is key a section ("flow", "flow.timeouts", "vars") rather than a leaf? */
static bool config_is_section(const char *key)
{
    size_t n = strlen(key);

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(config_keys); i++)
        if (strncmp(config_keys[i].key, key, n) == 0 && config_keys[i].key[n] == '.')
            return true;
    return strcmp(key, "vars") == 0 || strcmp(key, "vars.address-groups") == 0 ||
           strcmp(key, "vars.port-groups") == 0;
}

#define CONFIG_AT(cfg, off, type) ((type *)(void *)((char *)(cfg) + (off)))

static void config_strlist_free(char ***v, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free((*v)[i]);
    free(*v);
    *v = NULL;
    *n = 0;
}

static int config_strlist_add(char ***v, size_t *n, const char *s)
{
    char **nv = kanshi_reallocarray(*v, *n + 1, sizeof(**v));
    char *copy;

    if (nv == NULL)
        return -ENOMEM;
    *v = nv;
    if ((copy = strdup(s)) == NULL)
        return -ENOMEM;
    nv[(*n)++] = copy;
    return 0;
}

struct config_ctx {
    struct sensor_config *cfg;
    const char *file;
    char *err;
    size_t errlen;
    unsigned seen[KANSHI_ARRAY_LEN(config_keys)];     /* line first set, 0: not yet */
    unsigned seen_seq[KANSHI_ARRAY_LEN(config_keys)]; /* STRLIST: sequence it came from */
};

static int config_error(struct config_ctx *c, unsigned line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int config_error(struct config_ctx *c, unsigned line, const char *key, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s:%u: %s: %s", c->file, line, key, msg);
    return KANSHI_EPARSE;
}

static const char *config_shape(const struct config_item *it)
{
    if (it->empty_map)
        return "a mapping";
    if (it->empty_seq)
        return "a list";
    if (it->value == NULL)
        return "null";
    return it->seq != 0 ? "a list" : "a value";
}

/* Variable names become "$NAME" in rules. */
static bool config_var_name_ok(const char *name)
{
    if (*name == '\0')
        return false;
    for (; *name != '\0'; name++)
        if (!isalnum((unsigned char)*name) && *name != '_')
            return false;
    return true;
}

/*
 * One address or port group, from items[*i] on: a scalar, or a sequence
 * whose items are joined into "[a,b]".  Advances *i past what it used.
 */
static int config_apply_var(struct config_ctx *c, const struct config_items *items, size_t *i,
                            bool addr, const char *name)
{
    const struct config_item *it = &items->v[*i];
    struct config_var **vars = addr ? &c->cfg->addr_vars : &c->cfg->port_vars;
    size_t *nvars = addr ? &c->cfg->naddr_vars : &c->cfg->nport_vars;
    struct config_var *var = NULL;
    char *value;

    if (!config_var_name_ok(name)) {
        /* A mapping under the name shows up as "NAME.sub". */
        if (strchr(name, '.') != NULL)
            return config_error(c, it->line, it->key, "expected a value or a list of values");
        return config_error(c, it->key_line, it->key,
                            "variable names may only hold letters, digits and '_'");
    }
    if (it->seq != 0) {
        size_t len = 2, j;
        for (j = *i;
             j < items->n && items->v[j].seq == it->seq && strcmp(items->v[j].key, it->key) == 0;
             j++) {
            if (items->v[j].value == NULL)
                return config_error(c, items->v[j].line, it->key, "expected a value, not %s",
                                    config_shape(&items->v[j]));
            len += strlen(items->v[j].value) + 1;
        }
        if ((value = malloc(len)) == NULL)
            return -ENOMEM;
        value[0] = '[';
        value[1] = '\0';
        for (size_t k = *i; k < j; k++) {
            if (k > *i)
                strcat(value, ",");
            strcat(value, items->v[k].value);
        }
        strcat(value, "]");
        *i = j - 1;
    } else {
        if (it->value == NULL || it->value[0] == '\0')
            return config_error(c, it->line, it->key, "expected %s group, not %s",
                                addr ? "an address" : "a port",
                                it->value == NULL ? config_shape(it) : "an empty string");
        if ((value = strdup(it->value)) == NULL)
            return -ENOMEM;
    }
    for (size_t k = 0; k < *nvars; k++)
        if (strcmp((*vars)[k].name, name) == 0)
            var = &(*vars)[k];
    if (var == NULL) {
        struct config_var *nv = kanshi_reallocarray(*vars, *nvars + 1, sizeof(*nv));
        if (nv == NULL) {
            free(value);
            return -ENOMEM;
        }
        *vars = nv;
        var = &nv[*nvars];
        if ((var->name = strdup(name)) == NULL) {
            free(value);
            return -ENOMEM;
        }
        var->value = NULL;
        (*nvars)++;
    }
    free(var->value);
    var->value = value;
    return 0;
}

static int config_apply_key(struct config_ctx *c, const struct config_key *k,
                            const struct config_item *it)
{
    struct sensor_config *cfg = c->cfg;
    size_t idx = (size_t)(k - config_keys);
    char lo[24], hi[24];
    uint64_t v;
    int rc;

    if (k->type == CONFIG_STRLIST) {
        char ***list = CONFIG_AT(cfg, k->off, char **);
        size_t *n = CONFIG_AT(cfg, k->count_off, size_t);
        bool first = c->seen[idx] == 0;
        if (!first && (it->seq == 0 || it->seq != c->seen_seq[idx]))
            return config_error(c, it->key_line, it->key, "duplicate key (first set on line %u)",
                                c->seen[idx]);
        if (first) {
            c->seen[idx] = it->key_line;
            c->seen_seq[idx] = it->seq;
            config_strlist_free(list, n);
        }
        if (it->value == NULL) {
            if (it->empty_seq || (it->seq == 0 && !it->empty_map))
                return 0; /* [] or null: no entries */
            return config_error(c, it->line, it->key, "expected a path, not %s", config_shape(it));
        }
        if (it->value[0] == '\0')
            return config_error(c, it->line, it->key, "expected a path, not an empty string");
        return config_strlist_add(list, n, it->value);
    }

    if (c->seen[idx] != 0)
        return config_error(c, it->key_line, it->key, "duplicate key (first set on line %u)",
                            c->seen[idx]);
    c->seen[idx] = it->key_line;
    if (it->seq != 0 || it->empty_seq || it->empty_map)
        return config_error(c, it->line, it->key, "expected a single value, not %s",
                            it->seq != 0 ? "a list" : config_shape(it));

    switch (k->type) {
    case CONFIG_STRING: {
        char **field = CONFIG_AT(cfg, k->off, char *);
        char *copy = NULL;
        if (it->value == NULL || it->value[0] == '\0') {
            if (!k->nullable)
                return config_error(c, it->line, it->key, "expected a non-empty string");
        } else if ((copy = strdup(it->value)) == NULL)
            return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
    }
    case CONFIG_BOOL: {
        bool b;
        if (it->value == NULL || config_parse_bool(it->value, &b) != 0)
            return config_error(c, it->line, it->key, "expected yes or no");
        *CONFIG_AT(cfg, k->off, bool) = b;
        return 0;
    }
    case CONFIG_UINT:
        rc = it->value != NULL ? config_parse_uint(it->value, &v) : -EINVAL;
        if (rc != 0 || v < k->min || v > k->max)
            return config_error(c, it->line, it->key,
                                "expected an integer between %" PRIu64 " and %" PRIu64, k->min,
                                k->max);
        break;
    case CONFIG_SIZE:
        rc = it->value != NULL ? config_parse_size(it->value, &v) : -EINVAL;
        if (rc != 0 || v < k->min || v > k->max) {
            config_format_size(k->min, lo, sizeof(lo));
            config_format_size(k->max, hi, sizeof(hi));
            return config_error(c, it->line, it->key,
                                "expected a size between %s and %s (like 64mb)", lo, hi);
        }
        break;
    case CONFIG_ENUM: {
        char names[128] = "";
        for (size_t i = 0; it->value != NULL && k->choices[i] != NULL; i++) {
            if (strcasecmp(it->value, k->choices[i]) == 0) {
                *CONFIG_AT(cfg, k->off, unsigned) = (unsigned)i;
                return 0;
            }
        }
        for (size_t i = 0; k->choices[i] != NULL; i++)
            snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                     i > 0 ? (k->choices[i + 1] != NULL ? ", " : " or ") : "", k->choices[i]);
        return config_error(c, it->line, it->key, "expected %s", names);
    }
    default:
        return -EINVAL;
    }
    if (k->width == sizeof(uint64_t))
        *CONFIG_AT(cfg, k->off, uint64_t) = v;
    else
        *CONFIG_AT(cfg, k->off, uint32_t) = (uint32_t)v;
    return 0;
}

static int config_apply(struct config_ctx *c, const struct config_items *items)
{
    /* Names defined by this file, to catch a group given twice. */
    struct {
        const char *name;
        unsigned line;
        bool addr;
    } *defined = kanshi_calloc(items->n + 1, sizeof(*defined));
    size_t ndefined = 0;
    int rc = 0;

    if (defined == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < items->n && rc == 0; i++) {
        const struct config_item *it = &items->v[i];
        bool addr = strncmp(it->key, config_addr_prefix, sizeof(config_addr_prefix) - 1) == 0;
        bool port = strncmp(it->key, config_port_prefix, sizeof(config_port_prefix) - 1) == 0;
        const struct config_key *k;

        if (addr || port) {
            const char *name =
                it->key + (addr ? sizeof(config_addr_prefix) : sizeof(config_port_prefix)) - 1;
            for (size_t j = 0; j < ndefined; j++)
                if (defined[j].addr == addr && strcmp(defined[j].name, name) == 0) {
                    rc = config_error(c, it->key_line, it->key,
                                      "duplicate key (first set on line %u)", defined[j].line);
                    break;
                }
            if (rc != 0)
                break;
            defined[ndefined].name = name;
            defined[ndefined].line = it->key_line;
            defined[ndefined++].addr = addr;
            rc = config_apply_var(c, items, &i, addr, name);
            continue;
        }
        if ((k = config_find(it->key)) != NULL) {
            rc = config_apply_key(c, k, it);
            continue;
        }
        if (config_is_section(it->key)) {
            /* "flow:" with nothing under it is fine; "flow: 5" is not. */
            if (it->value == NULL && it->seq == 0 && !it->empty_seq)
                continue;
            rc = config_error(c, it->line, it->key, "expected a mapping of keys");
            continue;
        }
        rc = config_error(c, it->key_line, it->key, "unknown key");
    }
    free(defined);
    return rc;
}

/* ---- public ------------------------------------------------------------------------------- */

int config_defaults(struct sensor_config *cfg)
{
    char host[256];

    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(config_keys); i++) {
        const struct config_key *k = &config_keys[i];
        switch (k->type) {
        case CONFIG_STRING:
            if (k->def_str != NULL &&
                (*CONFIG_AT(cfg, k->off, char *) = strdup(k->def_str)) == NULL)
                goto nomem;
            break;
        case CONFIG_BOOL:
            *CONFIG_AT(cfg, k->off, bool) = k->def_num != 0;
            break;
        case CONFIG_UINT:
        case CONFIG_SIZE:
            if (k->width == sizeof(uint64_t))
                *CONFIG_AT(cfg, k->off, uint64_t) = k->def_num;
            else
                *CONFIG_AT(cfg, k->off, uint32_t) = (uint32_t)k->def_num;
            break;
        case CONFIG_ENUM:
            *CONFIG_AT(cfg, k->off, unsigned) = (unsigned)k->def_num;
            break;
        case CONFIG_STRLIST:
            break;
        }
    }
    /* The one default that is not a constant. */
    if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "kanshi");
    host[sizeof(host) - 1] = '\0';
    if ((cfg->sensor_id = strdup(host)) == NULL)
        goto nomem;
    return 0;
nomem:
    config_fini(cfg);
    return -ENOMEM;
}

/* Reads the whole file; the parser wants it in memory anyway. */
static int config_read_file(const char *path, unsigned char **out, size_t *len, char *err,
                            size_t errlen)
{
    FILE *f = fopen(path, "re");
    struct stat st;
    unsigned char *buf = NULL;
    size_t cap, n = 0;
    int rc;

    if (f == NULL) {
        rc = -errno;
        goto fail;
    }
    if (fstat(fileno(f), &st) != 0) {
        rc = -errno;
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = -EISDIR;
        goto fail;
    }
    /* The size is a hint only: the file may change, or be a pipe. */
    cap = S_ISREG(st.st_mode) && st.st_size > 0 && st.st_size <= CONFIG_MAX_FILE
              ? (size_t)st.st_size + 1
              : 4096;
    if ((buf = malloc(cap)) == NULL) {
        rc = -ENOMEM;
        goto fail;
    }
    for (;;) {
        size_t got;
        if (n == cap) {
            unsigned char *nb;
            if (cap > CONFIG_MAX_FILE) {
                snprintf(err, errlen, "%s: larger than %u bytes; not a config file?", path,
                         CONFIG_MAX_FILE);
                free(buf);
                fclose(f);
                return -EFBIG;
            }
            cap = cap > CONFIG_MAX_FILE / 2 ? CONFIG_MAX_FILE + 1 : cap * 2;
            if ((nb = realloc(buf, cap)) == NULL) {
                rc = -ENOMEM;
                goto fail;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) {
            if (ferror(f)) {
                rc = errno != 0 ? -errno : -EIO;
                goto fail;
            }
            break; /* end of file */
        }
    }
    fclose(f);
    *out = buf;
    *len = n;
    return 0;
fail:
    snprintf(err, errlen, "%s: %s", path, strerror(-rc));
    free(buf);
    if (f != NULL)
        fclose(f);
    return rc;
}

int config_load(struct sensor_config *cfg, const char *path, char *err, size_t errlen)
{
    struct config_items items = {0};
    struct config_flat flat = {.file = path, .items = &items, .err = err, .errlen = errlen};
    struct config_ctx ctx = {.cfg = cfg, .file = path, .err = err, .errlen = errlen};
    unsigned char *text = NULL;
    char *copy;
    int rc;

    if (errlen > 0)
        err[0] = '\0';
    if ((rc = config_read_file(path, &text, &flat.len, err, errlen)) != 0)
        return rc;
    flat.text = text;
    if ((copy = strdup(path)) == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    free(cfg->path);
    cfg->path = copy;
    if ((rc = config_flatten(&flat)) == 0)
        rc = config_apply(&ctx, &items);
out:
    if (rc == -ENOMEM && (errlen == 0 || err[0] == '\0'))
        snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
    config_items_free(&items);
    free(text);
    return rc;
}

int config_apply_vars(const struct sensor_config *cfg, struct rule_vars *v)
{
    int rc;

    for (size_t i = 0; i < cfg->naddr_vars; i++)
        if ((rc = rule_vars_set_address(v, cfg->addr_vars[i].name, cfg->addr_vars[i].value)) != 0)
            return rc;
    for (size_t i = 0; i < cfg->nport_vars; i++)
        if ((rc = rule_vars_set_port(v, cfg->port_vars[i].name, cfg->port_vars[i].value)) != 0)
            return rc;
    return 0;
}

static void config_vars_free(struct config_var **v, size_t *n)
{
    for (size_t i = 0; i < *n; i++) {
        free((*v)[i].name);
        free((*v)[i].value);
    }
    free(*v);
    *v = NULL;
    *n = 0;
}

void config_fini(struct sensor_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(config_keys); i++) {
        const struct config_key *k = &config_keys[i];
        if (k->type == CONFIG_STRING) {
            char **field = CONFIG_AT(cfg, k->off, char *);
            free(*field);
            *field = NULL;
        } else if (k->type == CONFIG_STRLIST) {
            config_strlist_free(CONFIG_AT(cfg, k->off, char **),
                                CONFIG_AT(cfg, k->count_off, size_t));
        }
    }
    config_vars_free(&cfg->addr_vars, &cfg->naddr_vars);
    config_vars_free(&cfg->port_vars, &cfg->nport_vars);
    free(cfg->path);
    cfg->path = NULL;
}
