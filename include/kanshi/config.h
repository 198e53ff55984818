/*
 * config.h — the sensor's configuration file.
 *
 * The file is YAML (the format Suricata operators already keep their vars
 * in), read with libyaml into a flat list of dotted keys
 * ("geoip.country", "vars.address-groups.HOME_NET") and then checked against
 * one declarative table of known keys with type, range and default
 * (sensor/config.c).  An unknown key, a wrong type or an out-of-range value is
 * an error naming the file, line and key.
 *
 * Example:
 *
 *   sensor-id: tokyo-gw-01
 *   user: kanshi
 *   vars:
 *     address-groups:
 *       HOME_NET: "[10.0.0.0/8,192.168.0.0/16]"
 *       EXTERNAL_NET: "!$HOME_NET"
 *     port-groups:
 *       HTTP_PORTS: "[80,8080]"
 *   geoip:
 *     country: /var/lib/kanshi/GeoLite2-Country.mmdb
 *     asn: /var/lib/kanshi/GeoLite2-ASN.mmdb
 *   output:
 *     eve: /var/log/kanshi/eve.json
 *   rules:
 *     - /etc/kanshi/rules
 *   flow:
 *     memcap: 64mb
 *   uplink:
 *     endpoint: tcp://gsoc.example:7700
 *     collector-public-key: "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
 *     secret-key-file: /etc/kanshi/sensor.key
 *   detect:
 *     cache-dir: /var/lib/kanshi/hs-cache
 *   spool:
 *     dir: /var/lib/kanshi/spool
 *     max-size: 1gb
 *     fsync: batch
 *   bundles:
 *     keys: [/etc/kanshi/release.pub]
 *     dir: /var/lib/kanshi/bundles
 *     incoming: /var/lib/kanshi/incoming
 */
#ifndef KANSHI_CONFIG_H
#define KANSHI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rule_vars;

struct config_var {
    char *name, *value;
};

struct sensor_config {
    char *path; /* file it was read from, NULL for defaults only */

    char *sensor_id;       /* default: the host name */
    char *user;            /* user to drop to after opening capture; NULL: stay */
    char *ruleset_version; /* label put in alerts; default "local" */

    /* vars.address-groups.* and vars.port-groups.*, in file order. */
    struct config_var *addr_vars;
    size_t naddr_vars;
    struct config_var *port_vars;
    size_t nport_vars;

    char *geoip_country; /* path or NULL */
    char *geoip_asn;     /* path or NULL */

    char *eve_path; /* output.eve; NULL: not set (the command line decides) */
    char *classification; /* path to classification.config or NULL */
    char **rule_paths;  /* rules: list of files/dirs */
    size_t nrule_paths;

    /* Flow table. */
    uint64_t flow_memcap;         /* bytes, default 64 MiB */
    uint32_t flow_hash_size;      /* buckets, default 65536 */
    uint32_t flow_timeout_new;    /* seconds, default 30 */
    uint32_t flow_timeout_est;    /* default 300 */
    uint32_t flow_timeout_closed; /* default 0 */
    uint32_t flow_timeout_udp_est; /* default 300 */
    uint32_t flow_timeout_icmp_est; /* default 300 */

    /* TCP stream engine (stream.h) and IP defragmentation (defrag.h). */
    uint64_t stream_memcap;            /* session bytes, default 64 MiB */
    uint64_t stream_reassembly_memcap; /* stream buffer bytes, default 256 MiB */
    uint64_t stream_depth;             /* bytes kept per direction, 0: all; 1 MiB */
    unsigned stream_policy;            /* enum stream_policy: 0 first, 1 last, 2 bsd (default) */
    bool stream_midstream;             /* pick up sessions without a handshake; false */
    bool stream_async_oneside;         /* one-sided sessions (stream.async-oneside); false */
    uint32_t stream_chunk_toserver;    /* bytes acked before raw inspection; 2560 */
    uint32_t stream_chunk_toclient;    /* 2560 */
    unsigned checksum_checks;          /* enum config_checksum; default auto */
    bool app_enabled;                  /* app-layer.enabled; true */
    uint32_t app_max_states;           /* app-layer.max-states; 65536 */
    uint64_t app_http_request_body;    /* app-layer.http.request-body-limit; 4 KiB */
    uint64_t app_http_response_body;   /* app-layer.http.response-body-limit; 4 KiB */
    uint64_t app_http_decompress;      /* app-layer.http.decompress-limit; 64 KiB */
    uint64_t defrag_memcap;            /* fragment bytes, default 32 MiB */
    uint32_t defrag_timeout;           /* seconds, default 60 */
    uint32_t defrag_max_frags;         /* fragments held at once, default 65535 */
    unsigned defrag_policy;            /* enum defrag_policy, default bsd */
    char *threshold_file;              /* threshold.config to apply, or NULL */

    /* detect.cache-dir: compiled Hyperscan databases kept across restarts
     * (detect.h, struct detect_options); default /var/lib/kanshi/hs-cache,
     * NULL ('' or ~ in the file): no cache.  Not created by the sensor. */
    char *detect_cache_dir;

    /* Capture. */
    uint32_t snaplen;     /* default 65535 */
    uint32_t buffer_size; /* libpcap buffer bytes, default 32 MiB */
    bool promisc;         /* default true */

    /* Uplink to the collector; with no endpoint the sensor only writes EVE locally. */
    char *uplink_endpoint;        /* "tcp://host:port" or NULL */
    char *uplink_collector_key;   /* collector's CURVE public key, Z85 */
    char *uplink_secret_key_file; /* file holding this sensor's secret key, Z85, mode 0600 */
    char *uplink_public_key;      /* this sensor's public key, Z85; NULL: derived */
    uint32_t uplink_stats_interval; /* seconds between STATS heartbeats, default 10 */
    uint32_t uplink_drain_timeout;  /* seconds to wait for ACKs at exit, default 10 */

    /* Disk spool in front of the uplink. */
    char *spool_dir;           /* default /var/lib/kanshi/spool */
    uint64_t spool_max_size;   /* bytes, default 1 GiB */
    unsigned spool_fsync;      /* enum spool_fsync: 0 never, 1 batch (default), 2 always */
    uint32_t spool_fsync_interval; /* ms between batch syncs, default 100 */

    /* Signed rules bundles (bundle_apply.h); applied only when keys are set. */
    char **bundle_keys;     /* bundles.keys: pinned release public key files */
    size_t nbundle_keys;
    char *bundle_dir;       /* bundles.dir: applied bundles and the state file;
                             * default /var/lib/kanshi/bundles */
    char *bundle_incoming;  /* bundles.incoming: drop directory of *.bundle files, or NULL */
    uint32_t bundle_check_interval; /* bundles.check-interval: seconds between looks, default 5 */
};

/* capture.checksum-checks, as Suricata's pcap-file.checksum-checks. */
enum config_checksum {
    CONFIG_CSUM_AUTO, /* validate, unless the first 1000 packets say checksums are offloaded */
    CONFIG_CSUM_YES,  /* packets with a bad TCP checksum are kept out of the stream */
    CONFIG_CSUM_NO,   /* never validate */
};

/* Fills *cfg with every default.  0 or -ENOMEM. */
int config_defaults(struct sensor_config *cfg);

/*
 * Reads a YAML config file over the defaults already in *cfg.  On error
 * returns KANSHI_EPARSE (or -errno when the file cannot be read) and writes
 * "FILE:LINE: KEY: what is wrong" into err; *cfg is then left in a state that
 * config_fini() can free.
 */
int config_load(struct sensor_config *cfg, const char *path, char *err, size_t errlen);

/* Copies the config's vars into v (address and port groups).  0 or -ENOMEM. */
int config_apply_vars(const struct sensor_config *cfg, struct rule_vars *v);

void config_fini(struct sensor_config *cfg);

/* Parses a size with an optional unit: "64mb", "1gb", "512kb", "100". */
int config_parse_size(const char *s, uint64_t *out);

#endif
