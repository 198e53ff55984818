/*
 * eve.c — EVE JSON: a small JSON builder, the alert line, and the line writer.
 *
 * Alert lines carry text from outside (a rule's msg, an operator's sensor id)
 * and a consumer that fails to parse one line may drop the whole batch, so
 * the builder, not its callers, guarantees well-formed output: every string
 * is escaped per RFC 8259 and byte sequences that are not valid UTF-8 are
 * written as \u00XX of each byte, the convention Suricata uses, so nothing is
 * lost and every line parses.
 *
 * The builder never fails half-way through a line: an allocation failure
 * sets oom and later calls do nothing, so the alert path checks once per
 * line instead of after every field.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "kanshi/app_layer.h"
#include "kanshi/decode.h"
#include "kanshi/eve.h"
#include "kanshi/flow.h"
#include "kanshi/kanshi.h"
#include "kanshi/rules.h"

/* stdio buffer of a file writer: a few hundred alert lines per write(2). */
#define EVE_WRITER_BUFSIZE (1u << 20)

void jbuf_init(struct jbuf *b)
{
    memset(b, 0, sizeof(*b));
}

void jbuf_fini(struct jbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

void jbuf_reset(struct jbuf *b)
{
    b->len = 0;
    b->oom = false;
    b->need_comma = false;
    if (b->p != NULL)
        b->p[0] = '\0';
}

bool jbuf_ok(const struct jbuf *b)
{
    return !b->oom;
}

/* Makes room for n more bytes plus the terminating NUL kept after the text. */
static bool jbuf_reserve(struct jbuf *b, size_t n)
{
    size_t need, cap;
    char *p;

    if (b->oom)
        return false;
    if (n > SIZE_MAX - b->len - 1)
        goto oom;
    need = b->len + n + 1;
    if (need <= b->cap)
        return true;
    cap = b->cap != 0 ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            goto oom;
        cap *= 2;
    }
    p = realloc(b->p, cap);
    if (p == NULL)
        goto oom;
    b->p = p;
    b->cap = cap;
    return true;
oom:
    b->oom = true;
    return false;
}

static void jbuf_put(struct jbuf *b, const void *s, size_t n)
{
    if (!jbuf_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void jbuf_putc(struct jbuf *b, char c)
{
    jbuf_put(b, &c, 1);
}

void jbuf_raw(struct jbuf *b, const char *s, size_t len)
{
    jbuf_put(b, s, len);
}

/*
 * Length of the valid UTF-8 sequence at s (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0 when the byte at s does not
 * start one.
 */
static size_t jbuf_utf8_len(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    uint8_t lo = 0x80, hi = 0xBF;
    size_t len;

    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* Writes s as a quoted, escaped JSON string. */
static void jbuf_quote(struct jbuf *b, const uint8_t *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;

    jbuf_putc(b, '"');
    while (i < len && !b->oom) {
        size_t run = i;
        /* Copy plain ASCII runs in one go. */
        while (run < len && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i) {
            jbuf_put(b, s + i, run - i);
            i = run;
            continue;
        }
        uint8_t c = s[i];
        if (c >= 0x80) {
            size_t n = jbuf_utf8_len(s + i, len - i);
            if (n > 0) {
                jbuf_put(b, s + i, n);
                i += n;
                continue;
            }
        }
        switch (c) {
        case '"':
            jbuf_put(b, "\\\"", 2);
            break;
        case '\\':
            jbuf_put(b, "\\\\", 2);
            break;
        case '\b':
            jbuf_put(b, "\\b", 2);
            break;
        case '\f':
            jbuf_put(b, "\\f", 2);
            break;
        case '\n':
            jbuf_put(b, "\\n", 2);
            break;
        case '\r':
            jbuf_put(b, "\\r", 2);
            break;
        case '\t':
            jbuf_put(b, "\\t", 2);
            break;
        default: {
            /* A control byte, or a byte that is not valid UTF-8. */
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
            jbuf_put(b, e, sizeof(e));
            break;
        }
        }
        i++;
    }
    jbuf_putc(b, '"');
}

/* Comma and key before a value or a container. */
static void jbuf_begin(struct jbuf *b, const char *key)
{
    if (b->need_comma)
        jbuf_putc(b, ',');
    if (key != NULL) {
        jbuf_quote(b, (const uint8_t *)key, strlen(key));
        jbuf_putc(b, ':');
    }
    b->need_comma = true;
}

void jbuf_open_object(struct jbuf *b, const char *key)
{
    jbuf_begin(b, key);
    jbuf_putc(b, '{');
    b->need_comma = false;
}

void jbuf_close_object(struct jbuf *b)
{
    jbuf_putc(b, '}');
    b->need_comma = true;
}

void jbuf_open_array(struct jbuf *b, const char *key)
{
    jbuf_begin(b, key);
    jbuf_putc(b, '[');
    b->need_comma = false;
}

void jbuf_close_array(struct jbuf *b)
{
    jbuf_putc(b, ']');
    b->need_comma = true;
}

void jbuf_string(struct jbuf *b, const char *key, const char *s)
{
    if (s == NULL) {
        jbuf_begin(b, key);
        jbuf_put(b, "null", 4);
        return;
    }
    jbuf_string_len(b, key, (const uint8_t *)s, strlen(s));
}

void jbuf_string_len(struct jbuf *b, const char *key, const uint8_t *s, size_t len)
{
    jbuf_begin(b, key);
    jbuf_quote(b, s, len);
}

void jbuf_uint(struct jbuf *b, const char *key, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRIu64, v);

    jbuf_begin(b, key);
    jbuf_put(b, num, (size_t)n);
}

void jbuf_int(struct jbuf *b, const char *key, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRId64, v);

    jbuf_begin(b, key);
    jbuf_put(b, num, (size_t)n);
}

void jbuf_bool(struct jbuf *b, const char *key, bool v)
{
    jbuf_begin(b, key);
    if (v)
        jbuf_put(b, "true", 4);
    else
        jbuf_put(b, "false", 5);
}

void eve_format_time(uint64_t ts_usec, char *buf, size_t len)
{
    time_t sec = (time_t)(ts_usec / 1000000);
    unsigned usec = (unsigned)(ts_usec % 1000000);
    struct tm tm;
    char date[24];

    if (len == 0)
        return;
    if (gmtime_r(&sec, &tm) == NULL || strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(date, sizeof(date), "1970-01-01T00:00:00");
    snprintf(buf, len, "%s.%06u+0000", date, usec);
}

const char *eve_proto_name(uint8_t ip_proto, char *buf, size_t len)
{
    switch (ip_proto) {
    case 1:
        return "ICMP";
    case 6:
        return "TCP";
    case 17:
        return "UDP";
    case 58:
        return "IPv6-ICMP";
    default:
        snprintf(buf, len, "%u", ip_proto);
        return buf;
    }
}

static void eve_format_geo(struct jbuf *b, const char *key, const struct geo_info *g)
{
    if (g == NULL || !(g->has_country || g->has_asn))
        return;
    jbuf_open_object(b, key);
    if (g->has_country)
        jbuf_string(b, "country", g->country);
    if (g->has_asn) {
        jbuf_uint(b, "asn", g->asn);
        if (g->as_org[0] != '\0')
            jbuf_string(b, "as_org", g->as_org);
    }
    jbuf_close_object(b);
}

static void eve_format_addr(struct jbuf *b, const char *key, const struct kanshi_addr *a)
{
    char text[64];

    if (a->family != AF_INET && a->family != AF_INET6)
        return;
    if (kanshi_addr_str(a, text, sizeof(text)) != NULL)
        jbuf_string(b, key, text);
}

void eve_format_alert(struct jbuf *b, const struct eve_alert *a)
{
    const struct packet *p = a->p;
    const struct rule *r = a->r;
    bool ports = (p->flags & (PKT_TCP | PKT_UDP)) != 0;
    char ts[40], proto[8];

    eve_format_time(p->ts_usec, ts, sizeof(ts));
    jbuf_open_object(b, NULL);
    jbuf_string(b, "timestamp", ts);
    if (a->flow_id != 0)
        jbuf_uint(b, "flow_id", a->flow_id);
    jbuf_string(b, "event_type", "alert");
    eve_format_addr(b, "src_ip", &p->src);
    if (ports)
        jbuf_uint(b, "src_port", p->sp);
    eve_format_addr(b, "dest_ip", &p->dst);
    if (ports)
        jbuf_uint(b, "dest_port", p->dp);
    jbuf_string(b, "proto", eve_proto_name(p->ip_proto, proto, sizeof(proto)));
    if (p->flow != NULL)
        jbuf_string(b, "direction", p->dir == FLOW_DIR_TOCLIENT ? "to_client" : "to_server");

    jbuf_open_object(b, "alert");
    jbuf_string(b, "action", a->action != NULL ? a->action : "allowed");
    jbuf_uint(b, "gid", r->gid);
    jbuf_uint(b, "signature_id", r->sid);
    jbuf_uint(b, "rev", r->rev);
    jbuf_string(b, "signature", r->msg != NULL ? r->msg : "");
    jbuf_string(b, "category", a->category != NULL ? a->category : "");
    jbuf_int(b, "severity", a->severity);
    jbuf_close_object(b);
    /* the transaction the alert is about: "app_proto" and "http"/"dns"/"tls" */
    if (p->flow != NULL)
        app_layer_eve(b, p->flow);

    jbuf_open_object(b, "kanshi");
    jbuf_string(b, "sensor_id", a->sensor_id != NULL ? a->sensor_id : "");
    jbuf_string(b, "ruleset_version", a->ruleset_version != NULL ? a->ruleset_version : "");
    eve_format_geo(b, "src_geo", a->src_geo);
    eve_format_geo(b, "dest_geo", a->dest_geo);
    if (a->country_epoch != 0 || a->asn_epoch != 0) {
        jbuf_open_object(b, "geoip_db");
        if (a->country_epoch != 0)
            jbuf_uint(b, "country_epoch", a->country_epoch);
        if (a->asn_epoch != 0)
            jbuf_uint(b, "asn_epoch", a->asn_epoch);
        jbuf_close_object(b);
    }
    jbuf_close_object(b);

    jbuf_close_object(b);
    jbuf_putc(b, '\n');
    /* The line is complete: a following object starts a new line, not a list. */
    b->need_comma = false;
}

struct eve_writer {
    FILE *f;
    bool is_stdout;
    char *buf; /* stdio buffer of a file writer */
};

int eve_writer_open(struct eve_writer **out, const char *path, char *err, size_t errlen)
{
    struct eve_writer *w = calloc(1, sizeof(*w));
    int rc;

    if (errlen > 0)
        err[0] = '\0';
    if (w == NULL) {
        snprintf(err, errlen, "%s: %s", path != NULL ? path : "-", strerror(ENOMEM));
        return -ENOMEM;
    }
    if (path == NULL || strcmp(path, "-") == 0) {
        w->f = stdout;
        w->is_stdout = true;
        *out = w;
        return 0;
    }
    w->buf = malloc(EVE_WRITER_BUFSIZE);
    if (w->buf == NULL) {
        rc = -ENOMEM;
        goto fail;
    }
    /* Append: an existing eve.json keeps its lines across restarts. */
    w->f = fopen(path, "ae");
    if (w->f == NULL) {
        rc = -errno;
        goto fail;
    }
    setvbuf(w->f, w->buf, _IOFBF, EVE_WRITER_BUFSIZE);
    *out = w;
    return 0;
fail:
    snprintf(err, errlen, "%s: %s", path, strerror(-rc));
    free(w->buf);
    free(w);
    return rc;
}

int eve_writer_write(struct eve_writer *w, const char *line, size_t len)
{
    errno = 0;
    if (len > 0 && fwrite(line, 1, len, w->f) != len)
        return errno != 0 ? -errno : -EIO;
    if ((len == 0 || line[len - 1] != '\n') && fputc('\n', w->f) == EOF)
        return errno != 0 ? -errno : -EIO;
    return 0;
}

int eve_writer_flush(struct eve_writer *w)
{
    errno = 0;
    if (fflush(w->f) != 0)
        return errno != 0 ? -errno : -EIO;
    return 0;
}

void eve_writer_close(struct eve_writer *w)
{
    if (w == NULL)
        return;
    if (w->is_stdout)
        fflush(w->f);
    else
        fclose(w->f);
    free(w->buf);
    free(w);
}
