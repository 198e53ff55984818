/*
 * detect_int.h — what the detection engine's files share.
 *
 * detect.c builds the prefilter and drives inspection; detect_rule.c
 * verifies a candidate rule against a packet (protocol, addresses, ports,
 * flow state, header keywords, flow variables, then the payload through
 * detect_payload.c) and runs what follows a match (post-match actions,
 * noalert, thresholds through threshold.c).
 */
#ifndef KANSHI_DETECT_INT_H
#define KANSHI_DETECT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hs.h>

#include "kanshi/detect.h"
#include "kanshi/packet.h"
#include "kanshi/rules.h"

struct detect_cache;
struct detect_app;
struct detect_pcre;
struct flow;

/* Protocol groups.  TCP has two, as Suricata's two TCP pattern stores:
 * rules looking at the stream (scanned over stream chunks, and payloads
 * that did not go into the stream) and rules looking at packets (scanned
 * over every payload); a rule needing both is in both. */
enum { GRP_TCP, GRP_UDP, GRP_ICMP, GRP_OTHER, GRP_TCP_PKT, GRP_COUNT };

struct detect_group {
    hs_database_t *db;
    uint32_t npatterns;
    uint32_t *pat_off;   /* rules of pattern i: pat_rules[pat_off[i] .. pat_off[i+1]) */
    uint32_t *pat_rules; /* rule indexes */
    uint32_t *always;    /* rules with no fast pattern */
    size_t nalways;
};

/* Where a rule's payload tests look (detect_inspect_mode()). */
enum {
    INSPECT_PACKET,      /* the packet's payload only */
    INSPECT_STREAM,      /* the stream; the payload only if not added to it */
    INSPECT_STREAM_PKT,  /* the stream, then the packet's payload */
    INSPECT_STREAM_ONLY, /* the stream only */
    INSPECT_MODE = 0x0f,
    INSPECT_IPONLY = 0x10, /* an IP-only rule: once per flow direction */
    INSPECT_PDONLY = 0x20, /* protocol-detection only: on PKT_PROTO_DETECT_DONE packets */
};

struct detect_engine {
    struct rule *const *rules;
    size_t nrules;
    uint8_t *inspect; /* per rule: INSPECT_* */
    struct detect_group groups[GRP_COUNT];
    struct iponly *iponly; /* rules without fast pattern, found by address */
    struct detect_app *app; /* rules on application-layer buffers (detect_app.c) */
    struct detect_pcre *pcre; /* pcres Hyperscan answers (detect_pcre.c) */
    struct detect_info info;
    /* The ruleset's maps of older rulesets' flow variables (flowvars.h). */
    const struct flowvars_remap *flowvars_remap;
    size_t nflowvars_remap;
};

struct detect_thread {
    hs_scratch_t *scratch;
    uint32_t *stamp; /* per rule: generation it was last made a candidate */
    uint32_t gen;
    uint32_t *cand;
    size_t ncand;
    const struct detect_group *grp; /* group being scanned, for the callback */
    struct detect_rule_ctx *rctx;   /* pcre scratch, flow-variable layout, thresholds */
    uint8_t *xbuf;                  /* a transformed buffer (detect_app.c) */
    size_t xcap;
    uint8_t *hbuf;                  /* one composed HTTP header instance (detect_app.c) */
    size_t hcap;
};

/* One fast pattern of one rule, while building. */
struct fp_entry {
    const uint8_t *pat;
    size_t len;
    bool nocase;
    uint32_t rule;
};

/* Builds group g from its fast patterns: merges equal ones, then compiles
 * (or loads from the cache c, which may be NULL) the group's database. */
int detect_group_build(struct detect_group *g, struct fp_entry *fps, size_t nfps,
                       struct detect_cache *c, char *err, size_t errlen, struct detect_info *info);
/* Hyperscan match callback: adds the rules of pattern id of dt->grp to the
 * candidates (ctx is the detect_thread). */
int detect_on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *ctx);
int detect_u32_cmp(const void *a, const void *b);

/* detect_app.c: the rules on application-layer buffers. */
int detect_app_build(struct detect_app **out, struct rule *const *rules, size_t nrules,
                     struct detect_cache *c, struct detect_info *info, char *err, size_t errlen);
void detect_app_free(struct detect_app *da);
/* Grows dt's scratch for da's databases.  0 or KANSHI_EHS. */
int detect_app_scratch(const struct detect_app *da, hs_scratch_t **scratch);

/* ASCII lower-casing, as nocase matching uses (no locale). */
static inline int detect_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/*
 * Per-worker state of rule verification: PCRE2 match data and match
 * contexts (Suricata's match limits, a JIT stack), the ruleset's flowbit /
 * flowint layout, and threshold counters.  Made once per detect thread; the
 * packet path then allocates nothing (except a flow's variable block the
 * first time a rule sets a variable on it).
 */
struct detect_rule_ctx;

/* Creates the context for rules[0..n) (all of one ruleset).  0 or -ENOMEM. */
int detect_rule_ctx_create(struct detect_rule_ctx **out, struct rule *const *rules, size_t n);
/* Lets c read flow variables written under the older rulesets remap maps
 * (rs->flowvars_remap of the rules' ruleset, which must outlive c). */
void detect_rule_ctx_set_remap(struct detect_rule_ctx *c, const struct flowvars_remap *remap,
                               size_t n);
void detect_rule_ctx_destroy(struct detect_rule_ctx *c);

/*
 * True when every test of r holds for p: protocol, addresses and ports,
 * flow, header keywords, flowbit/flowint checks, then the payload tests over
 * buf[0..len) (the packet payload, or a reassembled stream chunk; pkt_data
 * and the "no payload, no match" rule refer to buf).  Changes nothing.
 */
bool detect_rule_eval(struct detect_rule_ctx *c, const struct rule *r, const struct packet *p,
                      const uint8_t *buf, size_t len);

/*
 * Call once per rule that matched, in evaluation order: runs its post-match
 * actions (flowbits set/unset/toggle, flowint =/+/-) on p->flow, then
 * returns true when an alert should be raised: not noalert, not
 * suppressed, and allowed by its threshold/detection_filter/rate_filter
 * (counted in packet time, per worker).
 */
bool detect_rule_alert(struct detect_rule_ctx *c, const struct rule *r, const struct packet *p);
/* Only the post-match actions of a rule that matched when the packet may no
 * longer alert (a pass rule matched before it). */
void detect_rule_post_match(struct detect_rule_ctx *c, const struct rule *r,
                            const struct packet *p);

/* detect_rule_eval() over p's payload with a context made for the call: for
 * tests and tools, not the packet path (it allocates when r has pcre). */
bool detect_rule_match(const struct rule *r, const struct packet *p);

/* The payload tests of r over buf (detect_payload.c): 1 match, 0 not. */
int detect_payload_match(struct detect_rule_ctx *c, const struct rule *r, const uint8_t *buf,
                         size_t len);
/* The tests of r on buffer bufid (an app-layer buffer, or the payload) over
 * buf: 1 match (also when r has none on that buffer), 0 not. */
int detect_payload_match_buf(struct detect_rule_ctx *c, const struct rule *r,
                             enum rule_buffer bufid, const uint8_t *buf, size_t len);
/* PCRE2 objects of a context, for detect_payload.c. */
void *detect_rule_ctx_pcre_md(struct detect_rule_ctx *c);
void *detect_rule_ctx_pcre_mctx(struct detect_rule_ctx *c, bool limits);
/* Lets c answer the pcres of dp (the engine's, detect_pcre.c) with
 * Hyperscan; NULL: PCRE2 only (the default).  dp must outlive c. */
void detect_rule_ctx_set_pcre(struct detect_rule_ctx *c, struct detect_pcre *dp);
/* The pcres of c on Hyperscan (NULL: none), and c's scratch for them. */
struct detect_pcre *detect_rule_ctx_pcre_hs(struct detect_rule_ctx *c, hs_scratch_t ***scratch);

/* The address-set prefilter (detect_iponly.c). */
struct iponly;
/* True when a rule without a fast pattern can be found by address: its
 * source or destination is not "any". */
bool detect_iponly_eligible(const struct rule *r);
/* Indexes rules[ids[0..n)] by address.  *out is NULL when n is 0.
 * 0 or -ENOMEM. */
int detect_iponly_build(struct iponly **out, struct rule *const *rules, const uint32_t *ids,
                        size_t n);
void detect_iponly_free(struct iponly *io);
/* Bytes of the index. */
size_t detect_iponly_size(const struct iponly *io);
/* Appends to cand (deduplicated through stamp/gen) every indexed rule whose
 * address sets hold p's addresses (either way round for "<>" rules). */
void detect_iponly_lookup(const struct iponly *io, const struct packet *p, uint32_t *stamp,
                          uint32_t gen, uint32_t *cand, size_t *ncand);

/*
 * The on-disk cache of Hyperscan databases (detect_cache.c).
 *
 * A database is stored under the SHA-256 of everything that determines it:
 * the cache format version, hs_version(), this host's hs_platform_info
 * (tune, cpu_features) and the compiler's inputs (mode, then each pattern's
 * id, flags, length and bytes, in order).  Equal inputs give an equal
 * database, so a restart with the same rules loads instead of compiling,
 * and any change to the rules, to Hyperscan or to the CPU misses.
 *
 * One file per database, DIR/<the key as 64 lower-case hex digits>.hsdb,
 * written to a temporary file in DIR, fsync'ed and renamed into place.
 * Integers are little-endian:
 *
 *   offset  size  field
 *        0     8  magic "KSHSDB1\n"
 *        8    32  the key (the same as in the file's name)
 *       40     8  payload length in bytes
 *       48    32  SHA-256 of the payload
 *       80     *  payload: hs_serialize_database() output
 *
 * A file that is short, corrupt, under another key, from another Hyperscan
 * version or not in the mode asked for is removed and the database
 * compiled again.
 */
#define DETECT_CACHE_MAGIC "KSHSDB1\n"
#define DETECT_CACHE_HDR 80
#define DETECT_CACHE_FORMAT 1

struct hs_database;
struct detect_cache;

/* Opens the cache in dir, which must exist, be a directory owned by this
 * user or root, and not be group- or world-writable.  A directory that is
 * not writable is used for loading only.  max_files bounds the files kept
 * (0: DETECT_CACHE_MAX_FILES).  Returns 0, or a negative errno with
 * "DIR: why" in err (-ENOENT, -ENOTDIR, -EPERM, -ENAMETOOLONG, -ENOMEM). */
int detect_cache_open(struct detect_cache **out, const char *dir, size_t max_files, char *err,
                      size_t errlen);
/* Opens what opts asks for: the cache in opts->cache_dir (as
 * detect_cache_open(); one that cannot be used is noted in info and left
 * out), the databases compiled ahead in opts->precompiled_dir (likewise),
 * and the CPU to compile for, opts->hs_target.  *out is NULL when there is
 * nothing to use (then compile for this CPU).  0, -EINVAL with err set for
 * an unknown target, or -ENOMEM. */
int detect_cache_open_opts(struct detect_cache **out, const struct detect_options *opts,
                           struct detect_info *info, char *err, size_t errlen);
/* Removes the oldest files beyond the limit when this cache stored any
 * (never one loaded or stored through c), counting them in
 * info->cache_pruned, then frees c.  NULL is a no-op. */
void detect_cache_close(struct detect_cache *c, struct detect_info *info);
/* True when dir is writable (the cache stores what it compiles). */
bool detect_cache_writable(const struct detect_cache *c);

/*
 * hs_compile_lit_multi() for this host (or c's target), through the cache
 * c (NULL: no cache, compile only), then the databases compiled ahead.  Counts a hit, a miss, a rejected file or a failed
 * store in info (the first problem goes into info->cache_note).  Returns 0
 * with *db set, KANSHI_EHS with Hyperscan's message in err (the patterns do
 * not compile), or -ENOMEM.
 */
int detect_cache_compile_lit(struct detect_cache *c, const char *const *exprs,
                             const unsigned *flags, const unsigned *ids, const size_t *lens,
                             unsigned n, unsigned mode, struct hs_database **db,
                             struct detect_info *info, char *err, size_t errlen);

/* The key of a database compiled from these inputs, as 64 hex digits and a
 * NUL (for tests: the file is DIR/<hex>.hsdb).  0 or KANSHI_EHS. */
int detect_cache_key_hex(const char *const *exprs, const unsigned *flags, const unsigned *ids,
                         const size_t *lens, unsigned n, unsigned mode, char hex[65]);

#endif
