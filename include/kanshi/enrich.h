/*
 * enrich.h — GeoIP country and ASN of alert addresses (libmaxminddb).
 *
 * An enricher holds up to two open MaxMind databases: a country (or city)
 * database and an ASN database.  Both are read-only after enrich_open();
 * enrich_lookup() may be called from any number of threads at once.
 *
 * A database that does not open, or whose metadata or search tree is
 * corrupt, is refused at enrich_open() with a message naming the file and
 * the problem; the sensor then does not start with a half-working enricher.
 */
#ifndef KANSHI_ENRICH_H
#define KANSHI_ENRICH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kanshi/packet.h"

struct enricher;

struct geo_info {
    char country[3];    /* ISO 3166-1 alpha-2, "" when unknown */
    uint32_t asn;       /* 0 when unknown */
    char as_org[128];   /* "" when unknown; truncated to fit */
    bool has_country, has_asn;
};

/*
 * Opens the databases; either path may be NULL.  On failure returns
 * KANSHI_EMMDB (or -errno) and writes "PATH: reason" into err.
 */
int enrich_open(struct enricher **out, const char *country_path, const char *asn_path,
                char *err, size_t errlen);
void enrich_close(struct enricher *e);

/*
 * The databases a rules bundle carries: the *.mmdb files of dir, an ASN
 * database (its metadata's database_type names ASN) replacing asn_path and
 * any other (country, city) replacing country_path; either path may be
 * NULL.  *out is NULL when there is nothing to open.  Two databases of one
 * kind in dir, or one that does not open, is an error as in enrich_open().
 */
int enrich_open_dir(struct enricher **out, const char *dir, const char *country_path,
                    const char *asn_path, char *err, size_t errlen);

/* Looks up one address.  Fills *g (zeroed first).  Returns 0, or a negative
 * value when a database reported an error for this lookup (counted; *g then
 * holds what was found). */
int enrich_lookup(const struct enricher *e, const struct kanshi_addr *a, struct geo_info *g);

/* Build epochs (seconds) of the open databases, 0 when not open. */
uint64_t enrich_country_epoch(const struct enricher *e);
uint64_t enrich_asn_epoch(const struct enricher *e);

/* Lookups that failed with a database error since open (atomic counter). */
uint64_t enrich_errors(const struct enricher *e);

#endif
