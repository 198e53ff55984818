/*
 * rules.h — the parsed form of Suricata/Snort-compatible rules.
 *
 * signatures/ owns the rule language: rule_parse.c turns rule text into
 * struct rule, rule_addr.c parses address and port expressions into
 * normalised sets.  The sensor's detection engine (sensor/detect.c) and
 * kanshi-sig consume struct rule; nothing else builds one.
 *
 * Ownership: a struct ruleset owns its rules and everything they point to;
 * ruleset_destroy() frees it all.  A ruleset is immutable once loaded and may
 * then be read by any number of threads.
 *
 * Errors: loading never stops at a bad rule.  Each rule that cannot be
 * loaded is reported through the ruleset's error callback as
 * "FILE:LINE: KEYWORD: reason" and counted; the good rules load.
 */
#ifndef KANSHI_RULES_H
#define KANSHI_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kanshi/flowvars.h"
#include "kanshi/packet.h"

enum rule_action { RULE_ACTION_ALERT, RULE_ACTION_PASS, RULE_ACTION_DROP, RULE_ACTION_REJECT };

enum rule_proto {
    RULE_PROTO_IP, /* any IP packet */
    RULE_PROTO_TCP,
    RULE_PROTO_UDP,
    RULE_PROTO_ICMP, /* ICMPv4 and ICMPv6, as Suricata's "icmp" */
    RULE_PROTO_ICMPV6,
    RULE_PROTO_TCP_PKT,    /* tcp, packets only */
    RULE_PROTO_TCP_STREAM, /* tcp, reassembled stream only */
};

/* Normalised address set: sorted, disjoint, inclusive ranges per family.
 * "any" is the full range of both families. */
struct addr_range4 {
    uint32_t lo, hi; /* host byte order */
};
struct addr_range6 {
    uint8_t lo[16], hi[16]; /* network byte order, compared with memcmp */
};
struct addr_set {
    struct addr_range4 *v4;
    size_t n4;
    struct addr_range6 *v6;
    size_t n6;
    bool any; /* true when the set is every address (fast path) */
};

/* Normalised port set: sorted, disjoint, inclusive ranges. */
struct port_range {
    uint16_t lo, hi;
};
struct port_set {
    struct port_range *r;
    size_t n;
    bool any;
};

bool addr_set_match(const struct addr_set *s, const struct kanshi_addr *a);
bool port_set_match(const struct port_set *s, uint16_t port);

/* Named address and port groups ($HOME_NET, $HTTP_PORTS, ...). */
struct rule_vars;

/* Creates an empty variable table.  0 or -ENOMEM. */
int rule_vars_create(struct rule_vars **out);
void rule_vars_destroy(struct rule_vars *v);
/* Defines or replaces an address group (name without '$'), e.g.
 * ("HOME_NET", "[10.0.0.0/8,192.168.0.0/16]").  The value may reference other
 * vars; it is resolved when used, so the order of definition does not matter.
 * 0 or -ENOMEM. */
int rule_vars_set_address(struct rule_vars *v, const char *name, const char *value);
int rule_vars_set_port(struct rule_vars *v, const char *name, const char *value);
/* Fills in Suricata's default groups for every name not already set. */
int rule_vars_set_defaults(struct rule_vars *v);

/* Parses an address expression ("any", "1.2.3.4", "10.0.0.0/8", "[a,!b]",
 * "$HOME_NET", "!$HOME_NET", IPv6 forms, "1.2.3.4-1.2.3.9" ranges) into *out.
 * Returns 0, or KANSHI_EPARSE with a message in err (unknown var, bad
 * address, bad CIDR, unbalanced brackets, empty set, var loop). */
int addr_set_parse(struct addr_set *out, const char *expr, const struct rule_vars *vars,
                   char *err, size_t errlen);
/* Port expressions: "any", "80", "1024:", ":1023", "1024:65535", "[80,443]",
 * "!80", "$HTTP_PORTS", nested lists. */
int port_set_parse(struct port_set *out, const char *expr, const struct rule_vars *vars,
                   char *err, size_t errlen);
void addr_set_fini(struct addr_set *s);
void port_set_fini(struct port_set *s);

/* A numeric test as Suricata's generic uint keywords accept it:
 * "N", "=N", "<N", ">N", "<=N", ">=N", "!N", "!=N", "N-M" and "N<>M" (both
 * exclusive), "!N-M" (outside), "&M=V" and "&M!=V" (bitmask); numbers in
 * decimal or 0x hex. */
enum rule_num_op {
    NUM_EQ,
    NUM_NE,
    NUM_LT,
    NUM_LE,
    NUM_GT,
    NUM_GE,
    NUM_RANGE,   /* a < x < b */
    NUM_NRANGE,  /* x <= a || x >= b */
    NUM_BAND_EQ, /* (x & a) == b */
    NUM_BAND_NE, /* (x & a) != b */
};
struct rule_num {
    enum rule_num_op op;
    uint64_t a, b;
};
bool rule_num_match(const struct rule_num *n, uint64_t x);

/* Which buffer a payload match inspects.  RULE_BUF_PAYLOAD is the packet
 * payload or, for tcp, the reassembled stream; the others are application-layer
 * buffers filled by the protocol parsers (sensor/app_*.c), named as Suricata's
 * sticky buffers.  A parser exposes a buffer through its *_tx_buffer() call;
 * "multi" buffers (dns.query, one per question) have several instances. */
enum rule_buffer {
    RULE_BUF_PAYLOAD,
    /* HTTP request */
    RULE_BUF_HTTP_METHOD,
    RULE_BUF_HTTP_URI,      /* normalised */
    RULE_BUF_HTTP_URI_RAW,
    RULE_BUF_HTTP_PROTOCOL, /* "HTTP/1.1" of the request line */
    RULE_BUF_HTTP_REQUEST_LINE,
    RULE_BUF_HTTP_HOST,     /* normalised: lower case, no port */
    RULE_BUF_HTTP_HOST_RAW,
    RULE_BUF_HTTP_USER_AGENT,
    RULE_BUF_HTTP_COOKIE,
    RULE_BUF_HTTP_ACCEPT,
    RULE_BUF_HTTP_ACCEPT_ENC,
    RULE_BUF_HTTP_ACCEPT_LANG,
    RULE_BUF_HTTP_REFERER,
    RULE_BUF_HTTP_CONNECTION,
    RULE_BUF_HTTP_CONTENT_TYPE, /* of the request when inspected to server */
    RULE_BUF_HTTP_CONTENT_LEN,
    RULE_BUF_HTTP_HEADER,       /* "Name: value\r\n" per header, cookie excluded */
    RULE_BUF_HTTP_HEADER_RAW,
    RULE_BUF_HTTP_HEADER_NAMES, /* "\r\nName1\r\nName2\r\n\r\n" */
    RULE_BUF_HTTP_START,        /* request line + raw headers */
    RULE_BUF_HTTP_REQUEST_BODY, /* dechunked, as Suricata's http_client_body */
    /* HTTP response */
    RULE_BUF_HTTP_STAT_CODE,
    RULE_BUF_HTTP_STAT_MSG,
    RULE_BUF_HTTP_RESPONSE_LINE,
    RULE_BUF_HTTP_SERVER,
    RULE_BUF_HTTP_LOCATION,
    RULE_BUF_HTTP_RESPONSE_BODY, /* file_data / http.response_body: dechunked, decompressed */
    /* DNS */
    RULE_BUF_DNS_QUERY, /* multi: each question's name, dotted, no trailing dot */
    /* TLS */
    RULE_BUF_TLS_SNI,
    RULE_BUF_TLS_CERT_SUBJECT,
    RULE_BUF_TLS_CERT_ISSUER,
    RULE_BUF_TLS_CERT_SERIAL,
    RULE_BUF_TLS_CERT_FINGERPRINT,
    RULE_BUF_TLS_JA3_HASH,
    RULE_BUF_TLS_JA3_STRING,
    RULE_BUF_TLS_JA3S_HASH,
    RULE_BUF_TLS_JA3S_STRING,
    RULE_BUF_TLS_CERTS, /* multi: each certificate's DER */
    /* HTTP, multi: each header as "Name: value" (merged as http.header) */
    RULE_BUF_HTTP_REQUEST_HEADER,
    RULE_BUF_HTTP_RESPONSE_HEADER,
    RULE_BUF_COUNT
};
_Static_assert(RULE_BUF_COUNT <= 64, "struct rule's buffers mask is 64 bits");
/* The buffer's keyword name ("http.uri", "payload"). */
const char *rule_buffer_name(enum rule_buffer b);

enum {
    CONTENT_NOCASE = 1u << 0,
    CONTENT_NEGATED = 1u << 1,
    CONTENT_FAST_PATTERN = 1u << 2,      /* fast_pattern given */
    CONTENT_FAST_PATTERN_ONLY = 1u << 3, /* fast_pattern:only */
    CONTENT_FAST_PATTERN_CHOP = 1u << 4, /* fast_pattern:offset,length */
    CONTENT_RAWBYTES = 1u << 5,
    CONTENT_OFFSET = 1u << 6,
    CONTENT_DEPTH = 1u << 7,
    CONTENT_DISTANCE = 1u << 8,
    CONTENT_WITHIN = 1u << 9,
    CONTENT_STARTSWITH = 1u << 10,
    CONTENT_ENDSWITH = 1u << 11,
    /* offset/depth/distance/within name a byte_extract/byte_math variable:
     * the field holds the variable's index (rule->nbytevars) */
    CONTENT_OFFSET_VAR = 1u << 12,
    CONTENT_DEPTH_VAR = 1u << 13,
    CONTENT_DISTANCE_VAR = 1u << 14,
    CONTENT_WITHIN_VAR = 1u << 15,
};

struct rule_content {
    uint8_t *pat; /* decoded bytes (hex escapes resolved) */
    size_t len;
    uint32_t flags; /* CONTENT_* */
    int32_t offset, depth;
    int32_t distance, within; /* distance may be negative */
    uint16_t fp_offset, fp_len; /* fast_pattern:offset,length */
};

/* pcre: the regex compiled (and JIT-compiled) once at load. */
enum {
    PCRE_RELATIVE = 1u << 0, /* R: from the end of the previous match */
    PCRE_NEGATED = 1u << 1,  /* pcre:!"..." */
    PCRE_RAWBYTES = 1u << 2, /* B */
    PCRE_NOLIMIT = 1u << 3,  /* O: PCRE2's own match limits, not Suricata's */
};
struct rule_pcre {
    void *code;   /* pcre2_code * (8-bit), owned */
    char *source; /* the value as written, for messages */
    uint32_t flags;
    uint32_t ncaptures; /* capture groups, to size match data */
};

/* isdataat:[!]N[,relative][,rawbytes] */
enum {
    ISDATAAT_NEGATED = 1u << 0,
    ISDATAAT_RELATIVE = 1u << 1,
    ISDATAAT_RAWBYTES = 1u << 2,
    ISDATAAT_VAR = 1u << 3, /* dataat is a byte variable's index */
};
struct rule_isdataat {
    uint32_t dataat;
    uint32_t flags;
};

/* byte_test, byte_jump, byte_extract and byte_math share one description. */
enum rule_byte_op {
    /* byte_test */
    BYTE_OP_LT,
    BYTE_OP_GT,
    BYTE_OP_EQ,
    BYTE_OP_LE,
    BYTE_OP_GE,
    BYTE_OP_AND, /* & : (v & value) != 0 */
    BYTE_OP_XOR, /* ^ : (v ^ value) != 0 */
    /* byte_math */
    BYTE_OP_ADD,
    BYTE_OP_SUB,
    BYTE_OP_MUL,
    BYTE_OP_DIV,
    BYTE_OP_SHL,
    BYTE_OP_SHR,
};
enum {
    BYTE_RELATIVE = 1u << 0,
    BYTE_NEGATED = 1u << 1, /* byte_test "!op" */
    BYTE_STRING = 1u << 2,  /* digits as text in base `base` */
    BYTE_LITTLE = 1u << 3,
    BYTE_ALIGN = 1u << 4,      /* byte_jump: round up to 4; byte_extract: to `align` */
    BYTE_FROM_BEGIN = 1u << 5, /* byte_jump */
    BYTE_FROM_END = 1u << 6,   /* byte_jump */
    BYTE_DCE = 1u << 7,        /* accepted; DCE/RPC endianness is not known here */
    BYTE_BITMASK = 1u << 8,
    BYTE_OFFSET_VAR = 1u << 9,  /* offset is a byte variable's index */
    BYTE_VALUE_VAR = 1u << 10,  /* value (test value, rvalue) is a variable's index */
    BYTE_NBYTES_VAR = 1u << 11, /* nbytes is a variable's index */
};
struct rule_byte {
    uint8_t nbytes; /* 0..8 binary (byte_jump may take 0), 1..23 as a string */
    uint8_t base;   /* 8, 10 or 16 with BYTE_STRING */
    uint8_t align;  /* byte_extract: 2 or 4 */
    uint8_t result; /* byte_extract, byte_math: variable index written */
    enum rule_byte_op op;
    uint32_t flags;          /* BYTE_* */
    int32_t offset;          /* may be negative with relative */
    uint64_t value;          /* byte_test value, byte_math rvalue */
    uint32_t multiplier;     /* byte_jump, byte_extract (1 when not given) */
    int32_t post_offset;     /* byte_jump */
    uint64_t bitmask;
    uint8_t bitmask_shift;   /* trailing zero bits of bitmask */
};

enum rule_match_kind {
    RULE_MATCH_CONTENT,
    RULE_MATCH_PCRE,
    RULE_MATCH_ISDATAAT,
    RULE_MATCH_BYTE_TEST,
    RULE_MATCH_BYTE_JUMP,
    RULE_MATCH_BYTE_EXTRACT,
    RULE_MATCH_BYTE_MATH,
    RULE_MATCH_BSIZE, /* bsize, urilen: the buffer's length (u.num) */
};

/* Set on a content or pcre when a later payload test is relative to it (as
 * Suricata's *_NEXT flags): a failure further on may then be retried with a
 * later occurrence of this match. */
enum {
    MATCH_WITHIN_NEXT = 1u << 0,   /* a content with within, or a relative byte_x, isdataat, pcre */
    MATCH_DISTANCE_NEXT = 1u << 1, /* a content with distance */
};

/* One payload test, in rule order: relative modifiers refer to the previous
 * match of the same buffer. */
struct rule_match {
    enum rule_match_kind kind;
    enum rule_buffer buffer;
    uint8_t next; /* MATCH_*_NEXT */
    union {
        struct rule_content content;
        struct rule_pcre pcre;
        struct rule_isdataat isdataat;
        struct rule_byte byte;
        struct rule_num num;
    } u;
};

/* Most byte_extract/byte_math variables one rule may define. */
#define RULE_BYTEVARS_MAX 16

/* flowbits: names are mapped to dense ids per ruleset at load time. */
enum rule_flowbit_cmd {
    FLOWBIT_SET,
    FLOWBIT_UNSET,
    FLOWBIT_TOGGLE,
    FLOWBIT_ISSET,
    FLOWBIT_ISNOTSET,
};
struct rule_flowbit {
    enum rule_flowbit_cmd cmd;
    bool any; /* "a|b": true when any of ids holds; otherwise all must ("a&b") */
    uint32_t *ids;
    size_t nids;
};

/* flowint: name, operator, value or other variable. */
enum rule_flowint_op {
    FLOWINT_SET, /* = */
    FLOWINT_ADD, /* + */
    FLOWINT_SUB, /* - */
    FLOWINT_EQ,
    FLOWINT_NE,
    FLOWINT_LT,
    FLOWINT_LE,
    FLOWINT_GT,
    FLOWINT_GE,
    FLOWINT_ISSET,
    FLOWINT_NOTSET,
};
struct rule_flowint {
    enum rule_flowint_op op;
    uint32_t id;
    bool value_is_var; /* value is another flowint's id */
    uint32_t value;
};

/* threshold / detection_filter / threshold.config entries. */
enum rule_th_type {
    TH_NONE,
    TH_LIMIT,
    TH_THRESHOLD,
    TH_BOTH,
    TH_DETECTION, /* detection_filter */
    TH_RATE,      /* rate_filter from threshold.config */
};
enum rule_th_track {
    TRACK_SRC,
    TRACK_DST,
    TRACK_RULE,
    TRACK_BOTH,   /* by the (src, dst) pair */
    TRACK_EITHER, /* suppress only */
    TRACK_FLOW,
};
enum rule_th_action { TH_ACTION_ALERT, TH_ACTION_DROP, TH_ACTION_PASS, TH_ACTION_REJECT };
enum rule_th_unique { TH_UNIQUE_NONE, TH_UNIQUE_SRC_PORT, TH_UNIQUE_DST_PORT };
struct rule_threshold {
    enum rule_th_type type;
    enum rule_th_track track;
    uint32_t count;
    uint32_t seconds;
    enum rule_th_action new_action; /* rate_filter */
    uint32_t timeout;               /* rate_filter */
    enum rule_th_unique unique_on;  /* detection_filter */
};
/* suppress: no alert when the tracked address is in addrs (or always when
 * track is TRACK_RULE, i.e. no track given). */
struct rule_suppress {
    enum rule_th_track track;
    struct addr_set addrs;
};

/* flow: keyword bits. */
enum {
    RULE_FLOW_ESTABLISHED = 1u << 0,
    RULE_FLOW_NOT_ESTABLISHED = 1u << 1,
    RULE_FLOW_STATELESS = 1u << 2,
    RULE_FLOW_TOSERVER = 1u << 3, /* to_server and from_client */
    RULE_FLOW_TOCLIENT = 1u << 4, /* to_client and from_server */
    RULE_FLOW_ONLY_STREAM = 1u << 5,
    RULE_FLOW_NO_STREAM = 1u << 6,
};

/* flags: keyword.  Matches when (pkt_flags & ~ignore) relates to `flags` as
 * the modifier says: exact (none), '+' all of flags plus any others, '*' any
 * of flags, '!' none of flags. */
enum rule_flags_mod { FLAGS_EXACT, FLAGS_PLUS, FLAGS_ANY, FLAGS_NOT };
struct rule_tcp_flags {
    uint8_t flags;
    uint8_t ignore;
    enum rule_flags_mod mod;
};

/* Header tests present in a rule (RULE_HAS_* says which are set). */
enum {
    RULE_HAS_FLOW = 1u << 0,
    RULE_HAS_DSIZE = 1u << 1,
    RULE_HAS_FLAGS = 1u << 2,
    RULE_HAS_TTL = 1u << 3,
    RULE_HAS_ITYPE = 1u << 4,
    RULE_HAS_ICODE = 1u << 5,
    RULE_HAS_IP_PROTO = 1u << 6,
    RULE_HAS_TOS = 1u << 7,
    RULE_HAS_ID = 1u << 8,
    RULE_HAS_IPOPTS = 1u << 9,
    RULE_HAS_FRAGBITS = 1u << 10,
    RULE_HAS_FRAGOFFSET = 1u << 11,
    RULE_HAS_SAMEIP = 1u << 12,
    RULE_HAS_SEQ = 1u << 13,
    RULE_HAS_ACK = 1u << 14,
    RULE_HAS_WINDOW = 1u << 15,
    RULE_HAS_ICMP_ID = 1u << 16,
    RULE_HAS_ICMP_SEQ = 1u << 17,
};

/* fragbits: like flags, over the IPv4 RF/DF/MF bits (IPFRAG_*): exact, '+'
 * all of bits plus any others, '*' any of bits, '!' not all of bits. */
struct rule_fragbits {
    uint8_t bits;
    enum rule_flags_mod mod;
};

/* Rule-level flags (rule->flags). */
enum {
    RULE_NOALERT = 1u << 0, /* noalert or flowbits:noalert: match, act, don't alert */
};

struct rule {
    enum rule_action action;
    enum rule_proto proto;
    struct addr_set src, dst;
    struct port_set sp, dp;
    bool bidir; /* "<>" */

    uint32_t gid, sid, rev;
    char *msg;
    char *classtype;   /* NULL when absent */
    int priority;      /* from priority:, else from the classtype, else 3 */
    char *metadata;    /* raw metadata text, NULL when absent */

    struct rule_match *matches; /* payload tests in rule order */
    size_t nmatches;

    uint32_t has; /* RULE_HAS_* */
    uint32_t flow; /* RULE_FLOW_* */
    struct rule_num dsize, ttl, itype, icode;
    uint8_t ip_proto;
    enum rule_num_op ip_proto_op; /* NUM_EQ, NUM_NE, NUM_LT or NUM_GT against ip_proto */
    /* What the rule's ip_proto keywords accept together (bit n % 8 of byte
     * n / 8 for protocol n); a rule may repeat ip_proto, as Suricata's do
     * ("ip_proto:!1; ip_proto:!6;"), and ip_proto/ip_proto_op keep the first. */
    uint8_t ip_proto_set[32];
    struct rule_tcp_flags tcp_flags;
    struct rule_num tos, id, fragoffset, seq, ack, window, icmp_id, icmp_seq;
    uint16_t ipopts;  /* IPOPT_BIT_* wanted (any of them); 0xffff for "any" */
    struct rule_fragbits fragbits;

    /* Application layer: the protocol the rule is for (enum app_proto in
     * kanshi/app.h, from the header's protocol or from the buffers it uses;
     * 0 for any), the buffers its payload tests use (bit 1 << RULE_BUF_*,
     * RULE_BUF_PAYLOAD's included when a test looks at the packet or stream),
     * each buffer's transforms (RULE_XFORM_*) and the protocol state tests. */
    uint8_t app_proto;
    uint64_t buffers;
    uint8_t xform[RULE_BUF_COUNT];
    uint64_t absent;         /* buffers with "absent": match only when missing */
    uint64_t absent_or_else; /* "absent: or_else": missing, or the tests match */
    struct rule_app_test *app_tests;
    size_t napp_tests;

    uint32_t flags;      /* RULE_NOALERT */
    uint8_t nbytevars;   /* byte_extract/byte_math variables used */
    struct rule_flowbit *flowbits; /* in rule order */
    size_t nflowbits;
    struct rule_flowint *flowints; /* in rule order */
    size_t nflowints;
    struct rule_threshold threshold; /* type TH_NONE when absent */
    const struct rule_suppress **suppress; /* from threshold.config, owned by the ruleset */
    size_t nsuppress;
    uint32_t idx; /* position in rs->rules, set by ruleset_finalize() */
    uint64_t generation; /* the ruleset's, to tag per-flow variables */

    char *file;    /* where it was read, for messages */
    unsigned line; /* first line of the rule */
};

/* Transforms applied to a buffer before its tests (Suricata's dotprefix,
 * to_lowercase, ...). */
enum {
    RULE_XFORM_DOTPREFIX = 1u << 0,     /* a '.' before the buffer */
    RULE_XFORM_TO_LOWER = 1u << 1,
    RULE_XFORM_TO_UPPER = 1u << 2,
    RULE_XFORM_STRIP_WS = 1u << 3,      /* strip_whitespace */
    RULE_XFORM_COMPRESS_WS = 1u << 4,   /* compress_whitespace */
    RULE_XFORM_URL_DECODE = 1u << 5,
};

/* Tests on a flow's application-layer state rather than on a buffer. */
enum rule_app_test_kind {
    APPT_PROTO,          /* app-layer-protocol: num.a is the enum app_proto, NUM_EQ or NUM_NE;
                            num.b the mode: 0 the flow's, 1 to_server's, 2 to_client's,
                            3 either direction's, 4 the packet's direction's */
    APPT_DNS_OPCODE,     /* dns.opcode */
    APPT_DNS_RRTYPE,     /* dns.rrtype: any question's type */
    APPT_TLS_VERSION,    /* tls.version: the wire value, e.g. 0x0303 */
    APPT_TLS_NOTBEFORE,  /* tls_cert_notbefore: seconds since the epoch */
    APPT_TLS_NOTAFTER,   /* tls_cert_notafter */
    APPT_TLS_EXPIRED,    /* tls_cert_expired: notAfter before the packet's time */
    APPT_TLS_VALID,      /* tls_cert_valid: within notBefore..notAfter */
};
struct rule_app_test {
    enum rule_app_test_kind kind;
    struct rule_num num;
};

/* Classification: classtype name -> description and default priority. */
struct rule_class {
    char *name, *description;
    int priority;
};

/* Callback for each rule that does not load: file, line and a message of
 * the form "KEYWORD: reason" (or "header: reason"). */
typedef void (*rule_error_fn)(void *arg, const char *file, unsigned line, const char *msg);

struct ruleset {
    struct rule **rules;
    size_t nrules;
    size_t nerrors; /* rules that did not load */
    struct rule_class *classes;
    size_t nclasses;
    struct rule_vars *vars; /* owned */
    rule_error_fn on_error;
    void *on_error_arg;
    void *priv; /* the parser's own state (the (gid, sid) index); not for readers */
    uint32_t nflowbits; /* distinct flowbit names: ids are 0..nflowbits-1 */
    uint32_t nflowints; /* distinct flowint names */
    uint64_t generation; /* unique per ruleset in this process (per-flow state tags) */
    bool finalized;
    /* Older rulesets' variable ids by name (ruleset_inherit_flowvars), owned. */
    struct flowvars_remap flowvars_remap[FLOWVARS_REMAP_MAX];
    size_t nflowvars_remap;
};

/* Creates an empty ruleset that takes ownership of vars (which may be NULL:
 * Suricata's defaults are used).  It starts with the standard classtypes
 * (Suricata's classification.config); ruleset_load_classification() adds
 * to and overrides them, and must run before rules are added, because a
 * rule's priority and an unknown classtype (a load error) are settled when the
 * rule is added.  on_error may be NULL (errors are then only
 * counted).  0 or -ENOMEM. */
int ruleset_create(struct ruleset **out, struct rule_vars *vars, rule_error_fn on_error,
                   void *arg);
void ruleset_destroy(struct ruleset *rs);

/* Loads classification.config-format text: "config classification:
 * name,description,priority".  Errors name file:line.  0 or KANSHI_EPARSE
 * (other lines still load) or -errno for I/O. */
int ruleset_load_classification(struct ruleset *rs, const char *path);

/*
 * Parses one rule (possibly spanning joined continuation lines) and, when it
 * loads, appends it to rs.  file/line are used for messages.  Returns 0 when
 * the rule was added, KANSHI_EPARSE or KANSHI_EUNSUPPORTED (after reporting
 * through on_error) when it was not, -ENOMEM on allocation failure.
 * A duplicate (gid, sid) is rejected like Suricata does.
 */
int ruleset_add_rule(struct ruleset *rs, const char *text, const char *file, unsigned line);

/*
 * Loads a rules file (or every *.rules file of a directory, in name order).
 * Comments (#) and blank lines are skipped; a line ending in '\' continues.
 * Returns the number of rules loaded (>= 0) or -errno when the path cannot be
 * read.  Bad rules are reported and counted in rs->nerrors.
 */
int ruleset_load_path(struct ruleset *rs, const char *path);

/*
 * Loads a threshold.config file: "threshold", "event_filter", "rate_filter"
 * and "suppress" lines (gen_id, sig_id with 0 as a wildcard, type, track,
 * count, seconds, new_action, timeout, ip).  Entries apply to the rules when
 * ruleset_finalize() runs, so rules may be loaded before or after.  Bad lines
 * are reported through on_error as "FILE:LINE: threshold.config: reason" and
 * counted in rs->nerrors.  Returns the number of entries loaded or -errno.
 */
int ruleset_load_threshold(struct ruleset *rs, const char *path);
/* The same over text in memory (file names messages). */
int ruleset_load_threshold_text(struct ruleset *rs, const char *text, const char *file);

/*
 * Makes a loaded ruleset ready for detection; call once after every rules and
 * threshold file is loaded, before building a detection engine from it:
 * applies threshold.config entries to their rules and orders rs->rules the
 * way Suricata evaluates them (action, then rules setting flowbits before
 * rules reading them, the same for flowints, then priority, then sid), so
 * that a flowbit set by one rule is seen by another on the same packet, and
 * sets rule->idx.  Idempotent.  0 or -ENOMEM.
 */
int ruleset_finalize(struct ruleset *rs);

/* The name of flowbit / flowint id (for messages and tests); NULL when out
 * of range. */
const char *ruleset_flowbit_name(const struct ruleset *rs, uint32_t id);
const char *ruleset_flowint_name(const struct ruleset *rs, uint32_t id);

/*
 * Lets flows keep the flowbits and flowints they got under older, the
 * ruleset rs replaces (a reload): records, for each of rs's variable ids,
 * the id of the same name in older, and, through older's own records, in
 * the rulesets before it (FLOWVARS_REMAP_MAX in all).  Call after rs is
 * loaded and before its engine is built; older must stay unchanged during
 * the call (it may still be running).  0 or -ENOMEM (rs then keeps none:
 * flows start with their variables unset, as before).
 */
int ruleset_inherit_flowvars(struct ruleset *rs, const struct ruleset *older);

/* True when m starts from the cursor the test before it left (distance,
 * within, R, a relative isdataat or byte_*). */
bool rule_match_is_relative(const struct rule_match *m);

/* Looks up a classtype; NULL when unknown. */
const struct rule_class *ruleset_find_class(const struct ruleset *rs, const char *name);

/* Frees one rule (used by the parser on failure and by ruleset_destroy). */
void rule_free(struct rule *r);

#endif
