/*
 * collector_config.c — reads kanshi-collector's YAML configuration.
 *
 * The file is small and its shape fixed (a mapping of keys, one of which is
 * a list of feed mappings), so it is loaded whole with libyaml's document
 * API and walked as a tree: each top-level key is looked up in
 * collector_keys[], each feed key in feed_keys[] — one table each with the
 * type, range, default and help of every key, as the sensor's config does.
 * The walk only descends where the tables say, so anchors and aliases cannot
 * make it loop or grow.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <yaml.h>

#include "collector_config.h"
#include "kanshi/kanshi.h"

#define CCONF_MAX_FILE (1u << 20)

enum cconf_type {
    CCONF_ENDPOINT, /* char *: tcp://HOST:PORT or ipc://PATH */
    CCONF_PATH,     /* char *: non-empty */
    CCONF_UINT,     /* uint32_t in [min, max] */
    CCONF_SYNC,     /* enum store_sync: "full" or "normal" */
    CCONF_FEEDS,    /* the list of feeds */
};

struct cconf_key {
    const char *key;
    enum cconf_type type;
    size_t off;
    uint32_t min, max;
    const char *def_str;
    uint32_t def_num;
    const char *help;
};

#define CCONF_FIELD(f) offsetof(struct collector_config, f)
#define CCONF_AT(base, off, type) ((type *)(void *)((char *)(base) + (off)))

/* clang-format off */
static const struct cconf_key collector_keys[] = {
    {"listen", CCONF_ENDPOINT, CCONF_FIELD(listen), 0, 0, "tcp://0.0.0.0:7700", 0,
     "endpoint the sensors connect to (ROUTER, CURVE server)"},
    {"secret-key-file", CCONF_PATH, CCONF_FIELD(secret_key_file), 0, 0,
     "/etc/kanshi/collector.key", 0, "the collector's CURVE secret key (mode 0600)"},
    {"database", CCONF_PATH, CCONF_FIELD(database), 0, 0, "/var/lib/kanshi/collector.db", 0,
     "SQLite database: registry and alerts"},
    {"synchronous", CCONF_SYNC, CCONF_FIELD(sync), 0, 0, NULL, STORE_SYNC_FULL,
     "full: every ACK survives a power cut; normal: faster, may lose the last commits"},
    {"retention-days", CCONF_UINT, CCONF_FIELD(retention_days), 0, 36500, NULL, 90,
     "delete alerts received longer ago; 0 keeps them forever"},
    {"feeds", CCONF_FEEDS, 0, 0, 0, NULL, 0, "PUB feeds of stored alerts, by tier"},
};
/* clang-format on */

enum feed_field { FEED_NAME, FEED_ENDPOINT, FEED_TIERS };

static const struct {
    const char *key;
    enum feed_field field;
    const char *help;
} feed_keys[] = {
    {"name", FEED_NAME, "feed name; analysts are admitted by the ZAP domain feed:NAME"},
    {"endpoint", FEED_ENDPOINT, "where the PUB socket binds"},
    {"tiers", FEED_TIERS, "tiers published on it: [1], [2] or [1, 2]"},
};

struct cconf_ctx {
    struct collector_config *c;
    yaml_document_t *doc;
    const char *file;
    char *err;
    size_t errlen;
};

static int cconf_error(struct cconf_ctx *x, const yaml_node_t *at, const char *key, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));

static int cconf_error(struct cconf_ctx *x, const yaml_node_t *at, const char *key, const char *fmt,
                       ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(x->err, x->errlen, "%s:%lu: %s: %s", x->file,
             at != NULL ? (unsigned long)at->start_mark.line + 1 : 1ul, key, msg);
    return KANSHI_EPARSE;
}

const char *collector_tiers_str(unsigned tiers)
{
    static const char *const names[] = {"none", "1", "2", "1,2"};

    return names[tiers & STORE_TIERS_ALL];
}

/* The text of a scalar node, or NULL for anything else or a null value. */
static const char *cconf_scalar(const yaml_node_t *n)
{
    const char *v;

    if (n == NULL || n->type != YAML_SCALAR_NODE)
        return NULL;
    v = (const char *)n->data.scalar.value;
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        (v[0] == '\0' || strcmp(v, "~") == 0 || strcasecmp(v, "null") == 0))
        return NULL;
    if (strlen(v) != n->data.scalar.length)
        return NULL; /* a NUL inside */
    return v;
}

static const char *cconf_shape(const yaml_node_t *n)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    return cconf_scalar(n) == NULL ? "null" : "a value";
}

static bool cconf_endpoint_ok(const char *v)
{
    const char *colon;

    if (strncmp(v, "ipc://", 6) == 0)
        return v[6] != '\0';
    if (strncmp(v, "tcp://", 6) != 0)
        return false;
    colon = strrchr(v + 6, ':');
    return colon != NULL && colon > v + 6 && colon[1] != '\0' &&
           strspn(colon + 1, "0123456789*") == strlen(colon + 1);
}

static int cconf_uint(const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t n = 0;

    if (v == NULL || *v == '\0')
        return -EINVAL;
    for (const char *p = v; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        n = n * 10 + (uint64_t)(*p - '0');
        if (n > max)
            return -ERANGE;
    }
    if (n < min)
        return -ERANGE;
    *out = (uint32_t)n;
    return 0;
}

static int cconf_set_str(char **field, const char *v)
{
    char *copy = strdup(v);

    if (copy == NULL)
        return -ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

/* One tier, from a scalar. */
static int cconf_tier(struct cconf_ctx *x, const yaml_node_t *n, const char *key, unsigned *set)
{
    const char *v = cconf_scalar(n);
    uint32_t t;

    if (v == NULL || cconf_uint(v, 1, 2, &t) != 0)
        return cconf_error(x, n, key, "expected tier 1 or 2, not %s%s%s", v != NULL ? "\"" : "",
                           v != NULL ? v : cconf_shape(n), v != NULL ? "\"" : "");
    if (*set & STORE_TIER_BIT(t))
        return cconf_error(x, n, key, "tier %u listed twice", (unsigned)t);
    *set |= STORE_TIER_BIT(t);
    return 0;
}

static int cconf_feed(struct cconf_ctx *x, const yaml_node_t *n, size_t idx)
{
    struct collector_feed *f = &x->c->feeds[idx];
    char key[64];
    bool seen[KANSHI_ARRAY_LEN(feed_keys)] = {false};
    int rc;

    snprintf(key, sizeof(key), "feeds[%zu]", idx);
    f->line = (unsigned)n->start_mark.line + 1;
    if (n->type != YAML_MAPPING_NODE)
        return cconf_error(x, n, key, "expected a mapping with name, endpoint and tiers, not %s",
                           cconf_shape(n));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *kn = yaml_document_get_node(x->doc, p->key);
        const yaml_node_t *vn = yaml_document_get_node(x->doc, p->value);
        const char *k = cconf_scalar(kn), *v = cconf_scalar(vn);
        size_t i;
        char full[128];

        if (k == NULL)
            return cconf_error(x, kn, key, "a key must be a plain value");
        snprintf(full, sizeof(full), "%s.%s", key, k);
        for (i = 0; i < KANSHI_ARRAY_LEN(feed_keys); i++)
            if (strcmp(feed_keys[i].key, k) == 0)
                break;
        if (i == KANSHI_ARRAY_LEN(feed_keys))
            return cconf_error(x, kn, full, "unknown key (a feed has name, endpoint, tiers)");
        if (seen[i])
            return cconf_error(x, kn, full, "duplicate key");
        seen[i] = true;
        switch (feed_keys[i].field) {
        case FEED_NAME:
            if (v == NULL || strlen(v) > COLLECTOR_FEED_NAME_MAX ||
                strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(v))
                return cconf_error(x, vn, full, "expected 1 to %d of a-z 0-9 _ -",
                                   COLLECTOR_FEED_NAME_MAX);
            if ((rc = cconf_set_str(&f->name, v)) != 0)
                return rc;
            break;
        case FEED_ENDPOINT:
            if (v == NULL || !cconf_endpoint_ok(v))
                return cconf_error(x, vn, full, "expected tcp://HOST:PORT or ipc://PATH");
            if ((rc = cconf_set_str(&f->endpoint, v)) != 0)
                return rc;
            break;
        case FEED_TIERS:
            if (vn->type == YAML_SEQUENCE_NODE) {
                for (yaml_node_item_t *it = vn->data.sequence.items.start;
                     it < vn->data.sequence.items.top; it++)
                    if ((rc = cconf_tier(x, yaml_document_get_node(x->doc, *it), full,
                                         &f->tiers)) != 0)
                        return rc;
            } else if ((rc = cconf_tier(x, vn, full, &f->tiers)) != 0) {
                return rc;
            }
            if (f->tiers == 0)
                return cconf_error(x, vn, full, "a feed needs at least one tier");
            break;
        }
    }
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(feed_keys); i++)
        if (!seen[i])
            return cconf_error(x, n, key, "missing %s (%s)", feed_keys[i].key, feed_keys[i].help);
    for (size_t i = 0; i < idx; i++) {
        const struct collector_feed *o = &x->c->feeds[i];
        if (strcmp(o->name, f->name) == 0)
            return cconf_error(x, n, key, "feed name \"%s\" already used on line %u", f->name,
                               o->line);
        if (strcmp(o->endpoint, f->endpoint) == 0)
            return cconf_error(x, n, key, "endpoint %s already used by feed \"%s\"", f->endpoint,
                               o->name);
    }
    return 0;
}

static int cconf_feeds(struct cconf_ctx *x, const yaml_node_t *n)
{
    struct collector_config *c = x->c;
    size_t count;
    int rc;

    if (cconf_scalar(n) == NULL && n->type == YAML_SCALAR_NODE)
        return 0; /* "feeds:" with nothing: no feeds */
    if (n->type != YAML_SEQUENCE_NODE)
        return cconf_error(x, n, "feeds", "expected a list of feeds, not %s", cconf_shape(n));
    count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count > COLLECTOR_MAX_FEEDS)
        return cconf_error(x, n, "feeds", "at most %d feeds", COLLECTOR_MAX_FEEDS);
    if (count == 0)
        return 0;
    if ((c->feeds = kanshi_calloc(count, sizeof(*c->feeds))) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < count; i++) {
        c->nfeeds = i + 1;
        if ((rc = cconf_feed(x, yaml_document_get_node(x->doc, n->data.sequence.items.start[i]),
                             i)) != 0)
            return rc;
    }
    return 0;
}

static int cconf_apply(struct cconf_ctx *x, const struct cconf_key *k, const yaml_node_t *n)
{
    const char *v = cconf_scalar(n);
    int rc;

    if (k->type == CCONF_FEEDS)
        return cconf_feeds(x, n);
    if (v == NULL)
        return cconf_error(x, n, k->key, "expected a value, not %s", cconf_shape(n));
    switch (k->type) {
    case CCONF_ENDPOINT:
        if (!cconf_endpoint_ok(v))
            return cconf_error(x, n, k->key, "expected tcp://HOST:PORT or ipc://PATH, not \"%s\"",
                               v);
        return cconf_set_str(CCONF_AT(x->c, k->off, char *), v);
    case CCONF_PATH:
        return cconf_set_str(CCONF_AT(x->c, k->off, char *), v);
    case CCONF_UINT:
        if ((rc = cconf_uint(v, k->min, k->max, CCONF_AT(x->c, k->off, uint32_t))) != 0)
            return cconf_error(x, n, k->key, "expected an integer between %u and %u",
                               (unsigned)k->min, (unsigned)k->max);
        return 0;
    case CCONF_SYNC:
        if (strcmp(v, "full") == 0)
            *CCONF_AT(x->c, k->off, enum store_sync) = STORE_SYNC_FULL;
        else if (strcmp(v, "normal") == 0)
            *CCONF_AT(x->c, k->off, enum store_sync) = STORE_SYNC_NORMAL;
        else
            return cconf_error(x, n, k->key, "expected full or normal, not \"%s\"", v);
        return 0;
    case CCONF_FEEDS:
        break;
    }
    return -EINVAL;
}

static int cconf_walk(struct cconf_ctx *x)
{
    const yaml_node_t *root = yaml_document_get_root_node(x->doc);
    unsigned seen[KANSHI_ARRAY_LEN(collector_keys)] = {0};
    int rc;

    if (root == NULL || (root->type == YAML_SCALAR_NODE && cconf_scalar(root) == NULL))
        return 0; /* an empty file: all defaults */
    if (root->type != YAML_MAPPING_NODE)
        return cconf_error(x, root, "(top)", "expected a mapping of keys, not %s",
                           cconf_shape(root));
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *kn = yaml_document_get_node(x->doc, p->key);
        const yaml_node_t *vn = yaml_document_get_node(x->doc, p->value);
        const char *k = cconf_scalar(kn);
        size_t i;

        if (k == NULL)
            return cconf_error(x, kn, "(top)", "a key must be a plain value");
        for (i = 0; i < KANSHI_ARRAY_LEN(collector_keys); i++)
            if (strcmp(collector_keys[i].key, k) == 0)
                break;
        if (i == KANSHI_ARRAY_LEN(collector_keys))
            return cconf_error(x, kn, k, "unknown key");
        if (seen[i] != 0)
            return cconf_error(x, kn, k, "duplicate key (first set on line %u)", seen[i]);
        seen[i] = (unsigned)kn->start_mark.line + 1;
        if ((rc = cconf_apply(x, &collector_keys[i], vn)) != 0)
            return rc;
    }
    for (size_t i = 0; i < x->c->nfeeds; i++)
        if (strcmp(x->c->feeds[i].endpoint, x->c->listen) == 0)
            return cconf_error(x, root, "feeds", "feed \"%s\" uses the listen endpoint %s",
                               x->c->feeds[i].name, x->c->listen);
    return 0;
}

/* ---- public ------------------------------------------------------------------------------- */

int collector_config_defaults(struct collector_config *c)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(collector_keys); i++) {
        const struct cconf_key *k = &collector_keys[i];
        switch (k->type) {
        case CCONF_ENDPOINT:
        case CCONF_PATH:
            if ((*CCONF_AT(c, k->off, char *) = strdup(k->def_str)) == NULL) {
                collector_config_fini(c);
                return -ENOMEM;
            }
            break;
        case CCONF_UINT:
            *CCONF_AT(c, k->off, uint32_t) = k->def_num;
            break;
        case CCONF_SYNC:
            *CCONF_AT(c, k->off, enum store_sync) = (enum store_sync)k->def_num;
            break;
        case CCONF_FEEDS:
            break;
        }
    }
    return 0;
}

static int cconf_read(const char *path, unsigned char **out, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    unsigned char *buf = NULL;
    struct stat st;
    size_t n;
    int rc = 0;

    if (f == NULL || fstat(fileno(f), &st) != 0) {
        rc = -errno;
    } else if (!S_ISREG(st.st_mode)) {
        rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
    } else if (st.st_size > CCONF_MAX_FILE) {
        rc = -EFBIG;
    } else if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
        rc = -ENOMEM;
    } else {
        n = fread(buf, 1, (size_t)st.st_size + 1, f);
        if (ferror(f))
            rc = -EIO;
        else if (n > (size_t)st.st_size)
            rc = -EAGAIN; /* grew while we read: try again later */
        else
            *len = n;
    }
    if (f != NULL)
        fclose(f);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", path,
                 rc == -EFBIG ? "larger than 1 MB; not a config file?" : strerror(-rc));
        free(buf);
        return rc;
    }
    *out = buf;
    return 0;
}

int collector_config_load(struct collector_config *c, const char *path, char *err, size_t errlen)
{
    struct cconf_ctx x = {.c = c, .file = path, .err = err, .errlen = errlen};
    yaml_parser_t parser;
    yaml_document_t doc;
    unsigned char *text = NULL;
    size_t len = 0;
    int rc;

    if (errlen > 0)
        err[0] = '\0';
    if ((rc = cconf_read(path, &text, &len, err, errlen)) != 0)
        return rc;
    free(c->path);
    if ((c->path = strdup(path)) == NULL) {
        free(text);
        return -ENOMEM;
    }
    if (!yaml_parser_initialize(&parser)) {
        free(text);
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&parser, text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%lu: yaml: %s%s%s", path,
                 (unsigned long)parser.problem_mark.line + 1,
                 parser.problem != NULL ? parser.problem : "malformed",
                 parser.context != NULL ? " " : "", parser.context != NULL ? parser.context : "");
        yaml_parser_delete(&parser);
        free(text);
        return KANSHI_EPARSE;
    }
    x.doc = &doc;
    rc = cconf_walk(&x);
    if (rc == -ENOMEM)
        snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    free(text);
    return rc;
}

void collector_config_keys(FILE *f)
{
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(collector_keys); i++) {
        const struct cconf_key *k = &collector_keys[i];
        char def[64] = "";

        if (k->def_str != NULL)
            snprintf(def, sizeof(def), " (default %s)", k->def_str);
        else if (k->type == CCONF_UINT)
            snprintf(def, sizeof(def), " (%u..%u, default %u)", (unsigned)k->min, (unsigned)k->max,
                     (unsigned)k->def_num);
        else if (k->type == CCONF_SYNC)
            snprintf(def, sizeof(def), " (default full)");
        fprintf(f, "%-18s %s%s\n", k->key, k->help, def);
    }
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(feed_keys); i++)
        fprintf(f, "feeds[].%-10s %s\n", feed_keys[i].key, feed_keys[i].help);
}

void collector_config_fini(struct collector_config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(collector_keys); i++) {
        const struct cconf_key *k = &collector_keys[i];
        if (k->type == CCONF_ENDPOINT || k->type == CCONF_PATH) {
            free(*CCONF_AT(c, k->off, char *));
            *CCONF_AT(c, k->off, char *) = NULL;
        }
    }
    for (size_t i = 0; i < c->nfeeds; i++) {
        free(c->feeds[i].name);
        free(c->feeds[i].endpoint);
    }
    free(c->feeds);
    c->feeds = NULL;
    c->nfeeds = 0;
    free(c->path);
    c->path = NULL;
}
