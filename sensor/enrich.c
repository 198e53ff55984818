/*
 * enrich.c — country and ASN of alert addresses from MaxMind databases.
 *
 * The databases are memory-mapped by libmaxminddb and never written, so one
 * enricher serves every worker thread without locks; the only shared mutable
 * state is the atomic count of lookups the library reported as failed.
 *
 * A database is checked when it is opened, not when the first alert needs
 * it: libmaxminddb validates the metadata but trusts the search tree and the
 * data section, and a corrupt file would otherwise show up as errors (or
 * silently missing fields) on live alerts.  enrich_open() therefore walks
 * every node of the search tree and decodes a bounded sample of the data
 * records the tree points to, so a broken file is refused at start-up with
 * its name and the first problem found.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <maxminddb.h>

#include "kanshi/enrich.h"
#include "kanshi/kanshi.h"

/* The metadata section starts after this marker (MaxMind DB spec). */
#define ENRICH_METADATA_MARKER_LEN 14
/* The search tree and the data section are separated by 16 zero bytes. */
#define ENRICH_DATA_SEPARATOR 16
/*
 * Data records decoded at open.  Every tree pointer is checked whatever the
 * size; decoding (which allocates) is bounded so a multi-million-node City
 * database still opens in well under a second.  Test databases, with a few
 * thousand nodes, are decoded completely.
 */
#define ENRICH_DECODE_BUDGET 20000

enum enrich_role { ENRICH_COUNTRY, ENRICH_ASN };

struct enrich_db {
    MMDB_s mmdb;
    bool open;
};

struct enricher {
    struct enrich_db country, asn;
    _Atomic uint64_t errors;
};

static const char *enrich_role_name(enum enrich_role role)
{
    return role == ENRICH_COUNTRY ? "a country" : "an ASN";
}

/*
 * Is the database's type plausible for its role?  Tolerant on purpose: types
 * from other vendors (DBIP-Country-Lite, ipinfo, test databases) pass unless
 * their name says they hold the other kind of data, which is the mistake an
 * operator makes when the two paths are swapped.
 */
static int enrich_check_type(const char *type, enum enrich_role role, char *why, size_t whylen)
{
    static const char *const not_geo[] = {"ASN",    "ISP",     "Anonymous", "Connection-Type",
                                          "Domain", "IP-Risk", "User-Count"};
    static const char *const not_asn[] = {"Country",         "City",   "Anonymous",
                                          "Connection-Type", "Domain", "IP-Risk"};
    const char *const *bad = role == ENRICH_COUNTRY ? not_geo : not_asn;
    size_t nbad = role == ENRICH_COUNTRY ? KANSHI_ARRAY_LEN(not_geo) : KANSHI_ARRAY_LEN(not_asn);

    if (type == NULL || type[0] == '\0') {
        snprintf(why, whylen, "database has no type in its metadata");
        return -1;
    }
    /* Names that clearly fit win over the exclusion list (GeoIP2-City-ISP-Org...). */
    if (role == ENRICH_COUNTRY &&
        (strstr(type, "Country") != NULL || strstr(type, "City") != NULL ||
         strstr(type, "Enterprise") != NULL))
        return 0;
    if (role == ENRICH_ASN && (strstr(type, "ASN") != NULL || strstr(type, "ISP") != NULL))
        return 0;
    for (size_t i = 0; i < nbad; i++) {
        if (strstr(type, bad[i]) != NULL) {
            snprintf(why, whylen, "database type \"%s\" is not %s database", type,
                     enrich_role_name(role));
            return -1;
        }
    }
    return 0;
}

/*
 * Checks one record of a search node.  A record is a node number below
 * node_count, node_count itself ("no data"), or node_count + 16 + an offset
 * into the data section.  libmaxminddb's own classification does not catch a
 * record that lands inside the 16-byte separator, so the arithmetic is done
 * here on the raw value.  *data_off is set for data records.
 */
static int enrich_check_record(const MMDB_s *db, uint64_t rec, uint32_t data_len,
                               uint64_t *data_off)
{
    uint64_t nodes = db->metadata.node_count;

    *data_off = UINT64_MAX;
    if (rec <= nodes)
        return 0;
    if (rec < nodes + ENRICH_DATA_SEPARATOR || rec - nodes - ENRICH_DATA_SEPARATOR >= data_len)
        return -1;
    *data_off = rec - nodes - ENRICH_DATA_SEPARATOR;
    return 0;
}

static int enrich_decode_entry(const MMDB_s *db, uint64_t off)
{
    MMDB_entry_s entry = {.mmdb = db, .offset = (uint32_t)off};
    MMDB_entry_data_list_s *list = NULL;
    int status = MMDB_get_entry_data_list(&entry, &list);

    MMDB_free_entry_data_list(list);
    return status;
}

/* Every record of every node points somewhere valid. */
static int enrich_check_records(const MMDB_s *db, uint32_t data_len, char *why, size_t whylen)
{
    for (uint32_t i = 0; i < db->metadata.node_count; i++) {
        MMDB_search_node_s node;
        uint64_t off;
        int status = MMDB_read_node(db, i, &node);

        if (status != MMDB_SUCCESS) {
            snprintf(why, whylen, "corrupt search tree at node %u: %s", i, MMDB_strerror(status));
            return -1;
        }
        for (int side = 0; side < 2; side++) {
            uint64_t rec = side == 0 ? node.left_record : node.right_record;
            if (enrich_check_record(db, rec, data_len, &off) != 0) {
                snprintf(why, whylen,
                         "corrupt search tree: node %u %s record %llu points outside the tree "
                         "and the data section",
                         i, side == 0 ? "left" : "right", (unsigned long long)rec);
                return -1;
            }
        }
    }
    return 0;
}

/*
 * Every path from the root ends in a data or empty record within the bits
 * of an address (32 or 128).  Valid trees are not strictly trees: IPv6
 * databases alias ::ffff:0:0/96 and 2002::/16 onto the IPv4 subtree, so a
 * record may point back to an earlier node; what must not exist is a loop,
 * which a lookup would follow until it runs out of address bits.  A
 * depth-first walk that memoises each node's height visits every node once;
 * its stack never grows past the address width, which also bounds a loop.
 */
static int enrich_check_depth(const MMDB_s *db, char *why, size_t whylen)
{
    struct frame {
        uint32_t node;
        uint8_t side, height;
        uint64_t rec[2];
    } stack[129];
    uint32_t nodes = db->metadata.node_count;
    unsigned bits = db->metadata.ip_version == 4 ? 32 : 128;
    uint8_t *height = calloc(nodes, 1); /* 0: not yet known */
    size_t sp = 0;
    int rc = 0;

    if (height == NULL) {
        snprintf(why, whylen, "%s", strerror(ENOMEM));
        return -ENOMEM;
    }
    for (uint32_t next = 0;;) {
        /* Push `next` (depth sp); the records were range-checked already. */
        MMDB_search_node_s node;
        if (sp >= bits || MMDB_read_node(db, next, &node) != MMDB_SUCCESS) {
            snprintf(why, whylen,
                     "corrupt search tree: a path through node %u is longer than the %u bits "
                     "of an address (the tree loops)",
                     next, bits);
            rc = -1;
            break;
        }
        stack[sp] = (struct frame){.node = next, .rec = {node.left_record, node.right_record}};
        sp++;
        /* Advance until a child needs visiting or the walk is done. */
        for (;;) {
            struct frame *f = &stack[sp - 1];
            if (f->side < 2) {
                uint64_t r = f->rec[f->side++];
                if (r >= nodes)
                    continue; /* data or empty: a leaf of height 0 */
                if (height[r] == 0) {
                    next = (uint32_t)r;
                    break;
                }
                if (sp + height[r] > bits) {
                    snprintf(why, whylen,
                             "corrupt search tree: a path through node %u is longer than the "
                             "%u bits of an address (the tree loops)",
                             (uint32_t)r, bits);
                    rc = -1;
                    goto out;
                }
                if (height[r] > f->height)
                    f->height = height[r];
                continue;
            }
            height[f->node] = (uint8_t)(f->height + 1);
            sp--;
            if (sp == 0)
                goto out;
            if (height[f->node] > stack[sp - 1].height)
                stack[sp - 1].height = height[f->node];
        }
    }
out:
    free(height);
    return rc;
}

/* Decodes the data records of a sample of nodes (all of them in a small database). */
static int enrich_check_data(const MMDB_s *db, uint32_t data_len, char *why, size_t whylen)
{
    uint32_t nodes = db->metadata.node_count;
    uint32_t stride = nodes / ENRICH_DECODE_BUDGET + 1;
    uint64_t last_decoded = UINT64_MAX;

    for (uint32_t i = 0; i < nodes; i += stride) {
        MMDB_search_node_s node;
        uint64_t offs[2];

        if (MMDB_read_node(db, i, &node) != MMDB_SUCCESS)
            continue; /* already reported by enrich_check_records */
        enrich_check_record(db, node.left_record, data_len, &offs[0]);
        enrich_check_record(db, node.right_record, data_len, &offs[1]);
        for (int side = 0; side < 2; side++) {
            int status;
            /* Neighbouring records often share one data entry: decode it once. */
            if (offs[side] == UINT64_MAX || offs[side] == last_decoded)
                continue;
            last_decoded = offs[side];
            status = enrich_decode_entry(db, offs[side]);
            if (status != MMDB_SUCCESS) {
                snprintf(why, whylen, "corrupt data record at offset %llu (node %u): %s",
                         (unsigned long long)offs[side], i, MMDB_strerror(status));
                return status == MMDB_OUT_OF_MEMORY_ERROR ? -ENOMEM : -1;
            }
        }
    }
    return 0;
}

/* See the comment at the top of the file.  Returns 0, -1 (corrupt) or -ENOMEM. */
static int enrich_verify(const MMDB_s *db, char *why, size_t whylen)
{
    uint32_t data_len;
    int rc;

    /* Data records must point before the metadata, not into it. */
    if (db->metadata_section == NULL || db->metadata_section < db->data_section ||
        (size_t)(db->metadata_section - db->data_section) < ENRICH_METADATA_MARKER_LEN) {
        snprintf(why, whylen, "corrupt layout: the metadata overlaps the search tree");
        return -1;
    }
    data_len = (uint32_t)(db->metadata_section - db->data_section) - ENRICH_METADATA_MARKER_LEN;
    if ((rc = enrich_check_records(db, data_len, why, whylen)) != 0 ||
        (rc = enrich_check_depth(db, why, whylen)) != 0 ||
        (rc = enrich_check_data(db, data_len, why, whylen)) != 0)
        return rc;
    return 0;
}

static int enrich_open_one(struct enrich_db *d, const char *path, enum enrich_role role, char *err,
                           size_t errlen)
{
    char why[256];
    int status, rc;

    errno = 0;
    status = MMDB_open(path, MMDB_MODE_MMAP, &d->mmdb);

    if (status != MMDB_SUCCESS) {
        if (status == MMDB_IO_ERROR || status == MMDB_FILE_OPEN_ERROR) {
            int saved = errno;
            snprintf(err, errlen, "%s: %s%s%s", path, MMDB_strerror(status), saved != 0 ? ": " : "",
                     saved != 0 ? strerror(saved) : "");
            return saved == ENOENT || saved == EACCES ? -saved : KANSHI_EMMDB;
        }
        snprintf(err, errlen, "%s: %s", path, MMDB_strerror(status));
        return status == MMDB_OUT_OF_MEMORY_ERROR ? -ENOMEM : KANSHI_EMMDB;
    }
    d->open = true;
    if (enrich_check_type(d->mmdb.metadata.database_type, role, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        return KANSHI_EMMDB;
    }
    if ((rc = enrich_verify(&d->mmdb, why, sizeof(why))) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        return rc == -ENOMEM ? rc : KANSHI_EMMDB;
    }
    return 0;
}

static void enrich_close_one(struct enrich_db *d)
{
    if (d->open)
        MMDB_close(&d->mmdb);
    d->open = false;
}

int enrich_open(struct enricher **out, const char *country_path, const char *asn_path, char *err,
                size_t errlen)
{
    struct enricher *e = calloc(1, sizeof(*e));
    int rc;

    if (errlen > 0)
        err[0] = '\0';
    if (e == NULL) {
        snprintf(err, errlen, "enricher: %s", strerror(ENOMEM));
        return -ENOMEM;
    }
    atomic_init(&e->errors, 0);
    if (country_path != NULL &&
        (rc = enrich_open_one(&e->country, country_path, ENRICH_COUNTRY, err, errlen)) != 0)
        goto fail;
    if (asn_path != NULL && (rc = enrich_open_one(&e->asn, asn_path, ENRICH_ASN, err, errlen)) != 0)
        goto fail;
    *out = e;
    return 0;
fail:
    enrich_close(e);
    return rc;
}

/* The *.mmdb of dir (in name order), sorted into one country (or city)
 * and one ASN database by their metadata's database_type. */
static int enrich_find_dir(const char *dir, char *country, char *asn, size_t len, char *err,
                           size_t errlen)
{
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, alphasort), rc = 0;

    country[0] = asn[0] = '\0';
    if (n < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return rc;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        const char *name = ents[i]->d_name;
        size_t nl = strlen(name);
        char path[4096];
        MMDB_s mmdb;
        int st;
        bool is_asn;

        if (nl <= 5 || strcmp(name + nl - 5, ".mmdb") != 0 || name[0] == '.')
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
            strlen(path) >= len) {
            snprintf(err, errlen, "%s/%s: path too long", dir, name);
            rc = -ENAMETOOLONG;
            break;
        }
        if ((st = MMDB_open(path, MMDB_MODE_MMAP, &mmdb)) != MMDB_SUCCESS) {
            snprintf(err, errlen, "%s: %s", path, MMDB_strerror(st));
            rc = KANSHI_EMMDB;
            break;
        }
        is_asn = mmdb.metadata.database_type != NULL &&
                 strstr(mmdb.metadata.database_type, "ASN") != NULL;
        MMDB_close(&mmdb);
        if ((is_asn ? asn : country)[0] != '\0') {
            snprintf(err, errlen, "%s: a second %s database in %s", name,
                     is_asn ? "ASN" : "country", dir);
            rc = KANSHI_EMMDB;
            break;
        }
        snprintf(is_asn ? asn : country, len, "%s", path);
    }
    for (int i = 0; i < n; i++)
        free(ents[i]);
    free(ents);
    return rc;
}

int enrich_open_dir(struct enricher **out, const char *dir, const char *country_path,
                    const char *asn_path, char *err, size_t errlen)
{
    char country[4096], asn[4096];
    int rc;

    *out = NULL;
    if ((rc = enrich_find_dir(dir, country, asn, sizeof(country), err, errlen)) != 0)
        return rc;
    if (country[0] != '\0')
        country_path = country;
    if (asn[0] != '\0')
        asn_path = asn;
    if (country_path == NULL && asn_path == NULL)
        return 0;
    return enrich_open(out, country_path, asn_path, err, errlen);
}

void enrich_close(struct enricher *e)
{
    if (e == NULL)
        return;
    enrich_close_one(&e->country);
    enrich_close_one(&e->asn);
    free(e);
}

/* Fills a sockaddr for libmaxminddb; IPv4 stays a sockaddr_in so that an
 * IPv6 database maps it through its IPv4 subtree. */
static int enrich_sockaddr(const struct kanshi_addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, a->a, 4);
        return 0;
    }
    if (a->family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, a->a, 16);
        return 0;
    }
    return -1;
}

/*
 * Finds a's entry in one database.  Returns 1 when found, 0 when the address
 * is not in the database, negative on a database error.  An IPv6 address
 * asked of an IPv4-only database is simply not in it.
 */
static int enrich_find(const struct enrich_db *d, const struct sockaddr *sa, MMDB_entry_s *entry)
{
    int mmdb_err = MMDB_SUCCESS;
    MMDB_lookup_result_s res = MMDB_lookup_sockaddr(&d->mmdb, sa, &mmdb_err);

    if (mmdb_err == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
        return 0;
    if (mmdb_err != MMDB_SUCCESS)
        return -1;
    if (!res.found_entry)
        return 0;
    *entry = res.entry;
    return 1;
}

/* Gets a value by path; 1 when present, 0 when absent, negative on error. */
static int enrich_get(MMDB_entry_s *entry, MMDB_entry_data_s *v, const char *const *path)
{
    int status = MMDB_aget_value(entry, v, path);

    if (status == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR)
        return 0; /* e.g. "country" is not a map: treat as absent */
    if (status != MMDB_SUCCESS)
        return -1;
    return v->has_data ? 1 : 0;
}

static int enrich_country(const struct enrich_db *d, const struct sockaddr *sa, struct geo_info *g)
{
    static const char *const paths[2][3] = {{"country", "iso_code", NULL},
                                            {"registered_country", "iso_code", NULL}};
    MMDB_entry_s entry;
    int rc = enrich_find(d, sa, &entry);

    if (rc <= 0)
        return rc;
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(paths); i++) {
        MMDB_entry_data_s v;
        rc = enrich_get(&entry, &v, paths[i]);
        if (rc < 0)
            return rc;
        if (rc == 1 && v.type == MMDB_DATA_TYPE_UTF8_STRING && v.data_size == 2) {
            memcpy(g->country, v.utf8_string, 2);
            g->country[2] = '\0';
            g->has_country = true;
            return 0;
        }
    }
    return 0;
}

static int enrich_asn(const struct enrich_db *d, const struct sockaddr *sa, struct geo_info *g)
{
    static const char *const asn_path[] = {"autonomous_system_number", NULL};
    static const char *const org_path[] = {"autonomous_system_organization", NULL};
    MMDB_entry_s entry;
    MMDB_entry_data_s v;
    int rc = enrich_find(d, sa, &entry);

    if (rc <= 0)
        return rc;
    rc = enrich_get(&entry, &v, asn_path);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        if (v.type == MMDB_DATA_TYPE_UINT32)
            g->asn = v.uint32;
        else if (v.type == MMDB_DATA_TYPE_UINT16)
            g->asn = v.uint16;
        else if (v.type == MMDB_DATA_TYPE_UINT64 && v.uint64 <= UINT32_MAX)
            g->asn = (uint32_t)v.uint64;
        g->has_asn = g->asn != 0;
    }
    if (!g->has_asn)
        return 0;
    rc = enrich_get(&entry, &v, org_path);
    if (rc < 0)
        return rc;
    if (rc == 1 && v.type == MMDB_DATA_TYPE_UTF8_STRING) {
        size_t n = v.data_size < sizeof(g->as_org) - 1 ? v.data_size : sizeof(g->as_org) - 1;
        memcpy(g->as_org, v.utf8_string, n);
        g->as_org[n] = '\0';
    }
    return 0;
}

int enrich_lookup(const struct enricher *e, const struct kanshi_addr *a, struct geo_info *g)
{
    struct sockaddr_storage ss;
    int rc = 0;

    memset(g, 0, sizeof(*g));
    if (e == NULL || enrich_sockaddr(a, &ss) != 0)
        return 0;
    if (e->country.open && enrich_country(&e->country, (struct sockaddr *)&ss, g) < 0)
        rc = KANSHI_EMMDB;
    if (e->asn.open && enrich_asn(&e->asn, (struct sockaddr *)&ss, g) < 0)
        rc = KANSHI_EMMDB;
    if (rc != 0) {
        /* The counter is the one thing workers share; e is otherwise read-only. */
        struct enricher *m = (struct enricher *)e;
        atomic_fetch_add_explicit(&m->errors, 1, memory_order_relaxed);
    }
    return rc;
}

uint64_t enrich_country_epoch(const struct enricher *e)
{
    return e != NULL && e->country.open ? e->country.mmdb.metadata.build_epoch : 0;
}

uint64_t enrich_asn_epoch(const struct enricher *e)
{
    return e != NULL && e->asn.open ? e->asn.mmdb.metadata.build_epoch : 0;
}

uint64_t enrich_errors(const struct enricher *e)
{
    return e != NULL ? atomic_load_explicit(&e->errors, memory_order_relaxed) : 0;
}
