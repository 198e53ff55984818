/*
 * detect.h — the detection engine: a loaded ruleset compiled for matching.
 *
 * detect_engine_create() groups the rules by protocol class and builds one
 * Hyperscan block-mode database per group from the rules' fast patterns.
 * A packet is scanned once with its group's database; every rule whose fast
 * pattern was seen, plus the group's rules that have no fast pattern, is
 * then verified in full (header, flow, every content with its modifiers).
 *
 * Threads: a struct detect_engine is immutable after creation and shared by
 * all workers.  Each worker creates its own struct detect_thread (Hyperscan
 * scratch and candidate buffers) and passes it to every call.
 *
 * The engine keeps pointers into the ruleset: the ruleset must outlive it.
 */
#ifndef KANSHI_DETECT_H
#define KANSHI_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kanshi/packet.h"

struct ruleset;
struct rule;
struct detect_engine;
struct detect_thread;

struct detect_info {
    size_t rules;          /* rules in the engine */
    size_t groups;         /* non-empty protocol groups */
    size_t patterns;       /* distinct fast patterns over all groups */
    size_t no_fast_pattern; /* rules without a fast pattern */
    size_t iponly;         /* of those, found through the address-set index */
    size_t iponly_bytes;   /* size of that index */
    size_t app_rules;      /* rules for an application-layer protocol or buffer: not on
                              the packet path (see detect_app_rule()) */
    size_t db_bytes;       /* Hyperscan database bytes, all groups */
    size_t databases;      /* Hyperscan databases: compiled, from the cache or precompiled */
    /* pcre keywords: those Hyperscan scans first (compiled on first use,
     * detect_pcre.h) and why the others are PCRE2's alone */
    size_t pcres, pcre_hs, pcre_flags, pcre_syntax;
    uint64_t compile_usec; /* time spent building the engine, all of it */
    uint64_t db_usec;      /* of that, compiling or loading the Hyperscan databases */

    /* The on-disk database cache (detect_options.cache_dir); all zero
     * without one.  Each Hyperscan database is a hit or a miss. */
    bool cache_used;           /* a cache directory was given and could be opened */
    bool cache_readonly;       /* ...but is not writable: databases are not stored */
    size_t cache_hits;         /* databases loaded from the cache */
    size_t cache_misses;       /* databases compiled (and stored, unless an error below) */
    size_t cache_rejected;     /* cache files found unusable (corrupt, truncated, other
                                * Hyperscan), removed and compiled instead */
    size_t cache_write_errors; /* compiled databases that could not be stored */
    size_t cache_pruned;       /* old cache files removed to stay under the limit */
    size_t cache_precompiled;  /* databases loaded from detect_options.precompiled_dir (neither
                                * a hit nor a miss) */
    char cache_note[256];      /* the first cache problem, for the start-up log; "" if none */
};

/* True when r tests application-layer buffers (http.uri, dns.query, ...)
 * or state (tls.version, ...): such rules are inspected on the flow's
 * parsed transactions (detect_app_packet), never as packet or stream
 * rules.  A rule that only names an app protocol (alert http ... with raw
 * content, app-layer-protocol) stays a packet/stream rule that also
 * requires the flow's detected protocol. */
bool detect_app_rule(const struct rule *r);

/* Options of detect_engine_create_opts(); zero (or NULL) means the default. */
struct detect_options {
    /* Directory of the Hyperscan database cache, NULL: none.  It must
     * exist, belong to this user or root and not be group- or world-
     * writable; otherwise the engine compiles as without a cache and says
     * why in detect_info.cache_note.  Not created here. */
    const char *cache_dir;
    /* Most database files kept in the cache (oldest removed first when a
     * new one is stored); 0: DETECT_CACHE_MAX_FILES. */
    size_t cache_max_files;
    /* A directory of databases compiled ahead of time, NULL: none.  A
     * signed rules bundle carries them (kanshi-sig bundle --precompile):
     * files named as in the cache, made for the signer's CPU or for one of
     * the generic targets below.  When the cache has no database, the one
     * here for this CPU is used if there is one, else the one for the
     * richest generic target this CPU can run, else it is compiled.  Read
     * only; the same ownership rules as cache_dir. */
    const char *precompiled_dir;
    /* The CPU to compile for, NULL or "native": this one.  Else a generic
     * target: "avx512vbmi", "avx512", "avx2" or "generic" (any x86-64), for
     * databases made here to run elsewhere (they are stored in cache_dir
     * under that target's keys; the engine built is not for scanning unless
     * this CPU has the target's features).  Unknown: -EINVAL. */
    const char *hs_target;
};

/* True when name is a target detect_options.hs_target accepts. */
bool detect_target_valid(const char *name);

#define DETECT_CACHE_MAX_FILES 64

/* Builds the engine.  Returns 0, -ENOMEM, or KANSHI_EHS with Hyperscan's
 * message in err.  The same as detect_engine_create_opts() with no options. */
int detect_engine_create(struct detect_engine **out, const struct ruleset *rs, char *err,
                         size_t errlen);
/* Builds the engine, loading each Hyperscan database from opts->cache_dir
 * when it holds one made from the same patterns by the same Hyperscan on
 * the same CPU, and storing the ones it compiles there.  Problems with the
 * cache never fail the build: they are counted in detect_info.  opts may be
 * NULL.  Returns as detect_engine_create(). */
int detect_engine_create_opts(struct detect_engine **out, const struct ruleset *rs,
                              const struct detect_options *opts, char *err, size_t errlen);
void detect_engine_destroy(struct detect_engine *de);
const struct detect_info *detect_engine_info(const struct detect_engine *de);

int detect_thread_create(struct detect_thread **out, const struct detect_engine *de);
void detect_thread_destroy(struct detect_thread *dt);

/* Called for each rule that matched.  Rules of one packet are reported in
 * ruleset order. */
typedef void (*detect_alert_fn)(void *arg, const struct packet *p, const struct rule *r);

/* Runs detection over one decoded packet (p->flow and p->dir set by the
 * flow table when there is a flow), inspecting its payload only.  Returns
 * the number of rules that matched. */
int detect_packet(struct detect_thread *dt, const struct detect_engine *de,
                  const struct packet *p, detect_alert_fn fn, void *arg);

/*
 * What the stream engine offers with a TCP packet, as Suricata's raw stream
 * inspection: `chunk` is the reassembled data of p's direction that is ready
 * to inspect with this packet (NULL/0 when none), `added` says that p's own
 * payload went into the stream (so it is seen there, not as a packet).
 */
struct detect_stream {
    const uint8_t *chunk;
    size_t chunk_len;
    bool added;
};

/*
 * detect_packet() with stream data.  Each rule is evaluated at most once per
 * packet, the way Suricata does it: a TCP rule with payload tests is tried
 * on the stream chunk first; it falls back to the packet's payload only when
 * the payload was not added to the stream, or when the rule also needs
 * packets (a content with offset/depth).  Rules with dsize, flow:no_stream
 * or protocol tcp-pkt see packets only; flow:only_stream and tcp-stream
 * rules see the stream only.  st may be NULL (no stream: packets only).
 */
int detect_packet_stream(struct detect_thread *dt, const struct detect_engine *de,
                         const struct packet *p, const struct detect_stream *st,
                         detect_alert_fn fn, void *arg);

/*
 * The rules on application-layer buffers, over what p's flow parsed since
 * the last call (flow->app, app_layer.h): each HTTP transaction whose
 * request or response progressed (rules inspect it once, when it reaches
 * the progress their buffers need: request line, headers or complete
 * body), the DNS message just parsed, the TLS handshake messages just seen.
 * p is the packet that brought the data (its addresses and direction are
 * the alert's).  A rule's tests on the raw payload (content without a
 * buffer, mixed with buffer tests) look at raw[0..rawlen) when given (the
 * stream bytes of p's direction still held), else at p's payload.
 * final: the flow ends, so rules still waiting for more (a body that never
 * completed) inspect what there is.  Returns the number of rules that
 * matched.
 */
int detect_app_packet(struct detect_thread *dt, const struct detect_engine *de,
                      const struct packet *p, const uint8_t *raw, size_t rawlen, bool final,
                      detect_alert_fn fn, void *arg);

/* The fast pattern the engine uses for r: the content marked fast_pattern,
 * else the longest non-negated one (cut to fast_pattern:offset,length).
 * Sets *pat and *len; NULL when r has none. */
struct rule_content;
const struct rule_content *detect_fast_pattern(const struct rule *r, size_t *len,
                                               const uint8_t **pat);

/* Verifies the payload tests of r over buf (exported for unit tests and
 * kanshi-sig).  Returns 1 on match, 0 otherwise. */
int detect_match_payload(const struct rule *r, const uint8_t *buf, size_t len);

#endif
