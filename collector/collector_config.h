/*
 * collector_config.h — kanshi-collector's YAML configuration (private to
 * collector/).
 *
 *   listen: tcp://0.0.0.0:7700             # ROUTER the sensors connect to
 *   secret-key-file: /etc/kanshi/collector.key   # CURVE secret, mode 0600
 *   database: /var/lib/kanshi/collector.db
 *   synchronous: full                      # full | normal
 *   retention-days: 90                     # 0: keep alerts forever
 *   feeds:                                 # routing as data
 *     - name: tier1
 *       endpoint: tcp://0.0.0.0:7701
 *       tiers: [1]
 *     - name: coordination
 *       endpoint: tcp://0.0.0.0:7703
 *       tiers: [1, 2]
 *
 * Each key is checked against one table (type, range, default); an unknown
 * key, a wrong type or a value out of range is an error naming the file,
 * line and key.  kanshictl reads the same file to find the database.
 */
#ifndef KANSHI_COLLECTOR_CONFIG_H
#define KANSHI_COLLECTOR_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

#define COLLECTOR_MAX_FEEDS 32
#define COLLECTOR_FEED_NAME_MAX 32

struct collector_feed {
    char *name;     /* [a-z0-9_-], unique; the ZAP domain is "feed:NAME" */
    char *endpoint; /* PUB bind endpoint */
    unsigned tiers; /* tier bit set (store.h) */
    unsigned line;  /* where it was defined, for messages */
};

struct collector_config {
    char *path;              /* file it was read from, NULL for defaults only */
    char *listen;            /* default tcp://0.0.0.0:7700 */
    char *secret_key_file;   /* default /etc/kanshi/collector.key */
    char *database;          /* default /var/lib/kanshi/collector.db */
    enum store_sync sync;    /* default STORE_SYNC_FULL */
    uint32_t retention_days; /* default 90, 0: keep forever */
    struct collector_feed *feeds;
    size_t nfeeds;
};

/* Fills *c with the defaults.  0 or -ENOMEM. */
int collector_config_defaults(struct collector_config *c);

/* Reads path over the defaults in *c.  On error returns KANSHI_EPARSE or
 * -errno with "FILE:LINE: KEY: what is wrong" in err; *c can then still be
 * given to collector_config_fini(). */
int collector_config_load(struct collector_config *c, const char *path, char *err, size_t errlen);

void collector_config_fini(struct collector_config *c);

/* Prints every key with its help and default, one per line. */
void collector_config_keys(FILE *f);

/* The feed's tier set as text: "1", "2" or "1,2". */
const char *collector_tiers_str(unsigned tiers);

#endif
