/*
 * collector.c — kanshi-collector's sockets and event loop: ZAP, ingest,
 * storage, acknowledgement and feeds (see collector.h for the flow).
 *
 * The registry is kept in memory as a sorted array of sensors (id, tier,
 * active, and the identity members ingest puts into each alert), rebuilt
 * whenever the database says another connection changed it.  The ZAP
 * handler does not use that copy: it asks the database at every handshake,
 * so an enrolment or a revocation is seen by the next handshake at once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "collector.h"
#include "ingest.h"
#include "kanshi/eve.h"
#include "kanshi/kanshi.h"
#include "kanshi/uplink.h"
#include "kanshi/wire.h"
#include "store.h"

#define COL_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define COL_SENSOR_DOMAIN "sensors"
#define COL_FEED_DOMAIN "feed:"
#define COL_REGISTRY_CHECK_US 500000
#define COL_REJECT_FLUSH_US 1000000
#define COL_RETENTION_US (3600ll * 1000000)
#define COL_LOG_EVERY_US (10ll * 1000000)
#define COL_MAX_PENDING_REJECTS 256
#define COL_MSGS_PER_TURN 256
#define COL_FEED_HWM 100000
/* Frames up to twice the protocol's limit are read and refused with a
 * count; beyond that ZeroMQ drops the connection before buffering more. */
#define COL_MAX_MSG ((int64_t)WIRE_MAX_FRAME * 2)
/* Room after a sensor's identity members for ,"seq":<20 digits>. */
#define COL_SEQ_ROOM 32
/* Bytes per CHUNK the collector serves (the OFFER says so). */
#define COL_CHUNK (256u << 10)
#define COL_MAX_OFFERS_PER_TURN 256

struct col_sensor {
    char id[STORE_MAX_ID + 1];
    char org[STORE_MAX_NAME + 1];
    unsigned tier;
    bool active;
    char *ident; /* JSON members for the alert's "kanshi" object, COL_SEQ_ROOM spare */
    size_t ident_len;
    /* For alerts/min: the previous STATS alert counter and when it came. */
    uint64_t prev_alerts;
    int64_t prev_at;
    bool have_prev;
    /* Log limiters: rejected frames, alerts claiming another identity. */
    int64_t reject_logged, claim_logged;
    uint64_t reject_quiet, claim_quiet;
    /* The ROUTER routing id of the sensor's latest connection (OFFERs go
     * there); rid_len 0 until it sent a frame. */
    uint8_t rid[256];
    size_t rid_len;
};

struct col_reject {
    char sensor[STORE_MAX_ID + 1];
    const char *reason; /* static text */
    uint64_t count;
};

struct col_feed {
    const struct collector_feed *cfg;
    void *sock;
};

struct collector {
    const struct collector_config *cfg;
    char secret[UPLINK_KEY_LEN + 1];
    char public[UPLINK_KEY_LEN + 1];
    struct store *store;
    void *ctx, *zap, *router;
    struct col_feed *feeds;
    size_t nfeeds;

    struct col_sensor *sensors; /* sorted by id */
    size_t nsensors;
    int64_t data_version;
    uint64_t analysts_sig;
    bool have_analysts_sig;

    struct col_reject rejects[COL_MAX_PENDING_REJECTS];
    size_t nrejects;

    /* Scratch for one ALERTS frame. */
    struct wire_alert *alerts;
    struct ingest_fields *fields;
    uint64_t *seqs;
    size_t *offs;
    bool *stored;
    struct jbuf out;
    struct wire_buf wb;
    struct wire_stats stats_scratch;
    uint8_t *chunk; /* COL_CHUNK bytes, for serving FETCH */

    int64_t next_registry, next_rejects, next_retention, last_forced_reload;
    /* Log limiters; ZAP has one for sensors and one for analysts, so that
     * neither kind of refusal hides the other. */
    int64_t dropped_logged, store_err_logged, zap_logged[2];
    uint64_t dropped_quiet, store_err_quiet, zap_quiet[2];
    struct collector_stats st;
};

static int64_t col_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t col_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* At most one line per COL_LOG_EVERY_US per limiter; *quiet counts the rest. */
static bool col_log_ok(int64_t *last, uint64_t *quiet)
{
    int64_t now = col_mono_us();

    if (*last != 0 && now - *last < COL_LOG_EVERY_US) {
        (*quiet)++;
        return false;
    }
    *last = now;
    return true;
}

/* ---- registry cache ----------------------------------------------------------------------- */

static void col_sensors_free(struct col_sensor *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].ident);
    free(v);
}

static int col_sensor_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct col_sensor *)elem)->id);
}

static struct col_sensor *col_sensor_find(struct col_sensor *v, size_t n, const char *id)
{
    return n == 0 ? NULL : bsearch(id, v, n, sizeof(*v), col_sensor_cmp);
}

struct col_load {
    struct collector *c;
    struct col_sensor *v;
    size_t n, cap;
    int err;
};

static int col_load_sensor(void *arg, const struct store_sensor *se)
{
    struct col_load *l = arg;
    struct col_sensor *s, *old;
    struct jbuf b;

    if (l->n == l->cap) {
        size_t cap = l->cap != 0 ? l->cap * 2 : 64;
        struct col_sensor *v = kanshi_reallocarray(l->v, cap, sizeof(*v));
        if (v == NULL)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    s = &l->v[l->n];
    memset(s, 0, sizeof(*s));
    snprintf(s->id, sizeof(s->id), "%s", se->id);
    snprintf(s->org, sizeof(s->org), "%s", se->org);
    s->tier = se->tier;
    s->active = se->revoked == 0;
    /* The identity every alert of this sensor carries, escaped once here. */
    jbuf_init(&b);
    jbuf_open_object(&b, NULL);
    jbuf_string(&b, "sensor_id", se->id);
    jbuf_string(&b, "organisation", se->org);
    jbuf_uint(&b, "tier", se->tier);
    if (se->ministry[0] != '\0')
        jbuf_string(&b, "supervising_ministry", se->ministry);
    jbuf_close_object(&b);
    if (!jbuf_ok(&b) || b.len < 2) {
        jbuf_fini(&b);
        return -ENOMEM;
    }
    s->ident_len = b.len - 2;
    if ((s->ident = malloc(s->ident_len + COL_SEQ_ROOM)) == NULL) {
        jbuf_fini(&b);
        return -ENOMEM;
    }
    memcpy(s->ident, b.p + 1, s->ident_len);
    s->ident[s->ident_len] = '\0';
    jbuf_fini(&b);
    /* Keep what the old copy learnt from the traffic. */
    if ((old = col_sensor_find(l->c->sensors, l->c->nsensors, s->id)) != NULL) {
        s->prev_alerts = old->prev_alerts;
        s->prev_at = old->prev_at;
        s->have_prev = old->have_prev;
        s->reject_logged = old->reject_logged;
        s->reject_quiet = old->reject_quiet;
        s->claim_logged = old->claim_logged;
        s->claim_quiet = old->claim_quiet;
        memcpy(s->rid, old->rid, old->rid_len);
        s->rid_len = old->rid_len;
    }
    l->n++;
    return 0;
}

/* A cheap fingerprint of every analyst's key, tiers and state. */
static int col_hash_analyst(void *arg, const struct store_analyst *a)
{
    uint64_t *h = arg;
    char buf[STORE_MAX_NAME + STORE_KEY_LEN + 64];
    int n = snprintf(buf, sizeof(buf), "%s|%s|%u|%" PRId64 ";", a->name, a->public_key, a->tiers,
                     a->revoked);

    for (int i = 0; i < n && i < (int)sizeof(buf); i++) {
        *h ^= (uint8_t)buf[i];
        *h *= 0x100000001b3ull; /* FNV-1a */
    }
    return 0;
}

static int col_feeds_bind(struct collector *c, char *err, size_t errlen);
static void col_feeds_close(struct collector *c);

static int col_reload(struct collector *c)
{
    struct col_load l = {.c = c};
    uint64_t sig = 0xcbf29ce484222325ull;
    int rc;

    if ((rc = store_sensor_list(c->store, col_load_sensor, &l)) != 0) {
        col_sensors_free(l.v, l.n);
        log_warnx("registry: %s", rc == -ENOMEM ? strerror(ENOMEM) : store_error(c->store));
        return rc;
    }
    col_sensors_free(c->sensors, c->nsensors);
    c->sensors = l.v;
    c->nsensors = l.n;
    /* A revoked or narrowed analyst may still be subscribed: ZeroMQ cannot
     * drop one subscriber, so every feed is bound afresh and every
     * subscriber must pass ZAP again. */
    if (store_analyst_list(c->store, col_hash_analyst, &sig) == 0) {
        if (c->have_analysts_sig && sig != c->analysts_sig && c->nfeeds > 0) {
            char err[256];
            log_info("analysts changed: re-binding the feeds so subscribers authenticate again");
            col_feeds_close(c);
            if (col_feeds_bind(c, err, sizeof(err)) != 0)
                log_warnx("%s", err);
        }
        c->analysts_sig = sig;
        c->have_analysts_sig = true;
    }
    return 0;
}

static void col_offer_targeted(struct collector *c);

static void col_registry_check(struct collector *c, bool force)
{
    int64_t v;

    if (store_data_version(c->store, &v) != 0) {
        log_warnx("registry: %s", store_error(c->store));
        return;
    }
    if (!force && v == c->data_version)
        return;
    if (col_reload(c) == 0)
        c->data_version = v;
    /* kanshictl bundle publish/promote writes deliveries: offer them. */
    col_offer_targeted(c);
}

/* ---- ZAP ---------------------------------------------------------------------------------- */

static void col_zap_reply(struct collector *c, const zmq_msg_t *reqid, const char *status,
                          const char *text, const char *user)
{
    zmq_send(c->zap, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(c->zap, zmq_msg_data((zmq_msg_t *)reqid), zmq_msg_size((zmq_msg_t *)reqid),
             ZMQ_SNDMORE);
    zmq_send(c->zap, status, strlen(status), ZMQ_SNDMORE);
    zmq_send(c->zap, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(c->zap, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(c->zap, "", 0, 0);
}

static const struct collector_feed *col_feed_by_domain(const struct collector *c,
                                                       const char *domain)
{
    if (strncmp(domain, COL_FEED_DOMAIN, strlen(COL_FEED_DOMAIN)) != 0)
        return NULL;
    for (size_t i = 0; i < c->cfg->nfeeds; i++)
        if (strcmp(c->cfg->feeds[i].name, domain + strlen(COL_FEED_DOMAIN)) == 0)
            return &c->cfg->feeds[i];
    return NULL;
}

/* Decides one handshake.  Returns the ZAP status and fills text and user. */
static const char *col_zap_decide(struct collector *c, const char *domain, const char *mech,
                                  const uint8_t *cred, size_t cred_len, char *text, size_t tlen,
                                  char *user, size_t ulen)
{
    char key[UPLINK_KEY_LEN + 1];
    const struct collector_feed *feed;
    int rc;

    if (strcmp(mech, "CURVE") != 0 || cred_len != 32) {
        snprintf(text, tlen, "CURVE required");
        return "400";
    }
    zmq_z85_encode(key, cred, 32);
    if (strcmp(domain, COL_SENSOR_DOMAIN) == 0) {
        struct store_sensor *se = malloc(sizeof(*se));
        if (se == NULL) {
            snprintf(text, tlen, "out of memory");
            return "500";
        }
        rc = store_sensor_by_key(c->store, key, se);
        if (rc == 0 && se->revoked == 0) {
            snprintf(user, ulen, "%s", se->id);
            snprintf(text, tlen, "OK");
            free(se);
            return "200";
        }
        if (rc == 0)
            snprintf(text, tlen, "sensor %s is revoked", se->id);
        else if (rc == -ENOENT)
            snprintf(text, tlen, "key %s is not enrolled", key);
        else
            snprintf(text, tlen, "registry unavailable");
        free(se);
        return rc == 0 || rc == -ENOENT ? "400" : "500";
    }
    if ((feed = col_feed_by_domain(c, domain)) != NULL) {
        struct store_analyst a;
        rc = store_analyst_by_key(c->store, key, &a);
        if (rc == 0 && a.revoked == 0 && (a.tiers & feed->tiers) == feed->tiers) {
            snprintf(user, ulen, "%s", a.name);
            snprintf(text, tlen, "OK");
            return "200";
        }
        if (rc == 0 && a.revoked != 0)
            snprintf(text, tlen, "analyst %s is revoked", a.name);
        else if (rc == 0)
            snprintf(text, tlen, "analyst %s may see tiers %s, feed %s carries tiers %s", a.name,
                     collector_tiers_str(a.tiers), feed->name, collector_tiers_str(feed->tiers));
        else if (rc == -ENOENT)
            snprintf(text, tlen, "key %s is not an analyst's", key);
        else
            snprintf(text, tlen, "registry unavailable");
        return rc == 0 || rc == -ENOENT ? "400" : "500";
    }
    snprintf(text, tlen, "unknown ZAP domain \"%s\"", domain);
    return "400";
}

/* Handles one ZAP request; false when there was none waiting. */
static bool col_zap_one(struct collector *c)
{
    enum {
        ZAP_VERSION,
        ZAP_REQID,
        ZAP_DOMAIN,
        ZAP_ADDRESS,
        ZAP_IDENTITY,
        ZAP_MECH,
        ZAP_CRED,
        ZAP_FRAMES
    };
    zmq_msg_t f[ZAP_FRAMES];
    size_t n = 0;
    char domain[128], mech[32], addr[64], text[256], user[STORE_MAX_NAME + 1] = "";
    const char *status;
    bool more = true;

    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, c->zap, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&m);
            for (size_t i = 0; i < n && i < ZAP_FRAMES; i++)
                zmq_msg_close(&f[i]);
            return false;
        }
        more = zmq_msg_more(&m) != 0;
        if (n < ZAP_FRAMES) {
            zmq_msg_init(&f[n]);
            zmq_msg_move(&f[n], &m);
        }
        zmq_msg_close(&m); /* further credential frames are not used by CURVE */
        n++;
    }
    if (n < ZAP_FRAMES) {
        /* Not a ZAP request libzmq would send; answer nothing sensible. */
        if (n > ZAP_REQID)
            col_zap_reply(c, &f[ZAP_REQID], "500", "malformed ZAP request", "");
        for (size_t i = 0; i < n; i++)
            zmq_msg_close(&f[i]);
        return true;
    }
#define COL_ZAP_STR(dst, i)                                                                        \
    snprintf(dst, sizeof(dst), "%.*s", (int)zmq_msg_size(&f[i]), (const char *)zmq_msg_data(&f[i]))
    COL_ZAP_STR(domain, ZAP_DOMAIN);
    COL_ZAP_STR(mech, ZAP_MECH);
    COL_ZAP_STR(addr, ZAP_ADDRESS);
#undef COL_ZAP_STR
    if (zmq_msg_size(&f[ZAP_VERSION]) != 3 || memcmp(zmq_msg_data(&f[ZAP_VERSION]), "1.0", 3)) {
        status = "500";
        snprintf(text, sizeof(text), "ZAP version 1.0 expected");
    } else {
        status = col_zap_decide(c, domain, mech, zmq_msg_data(&f[ZAP_CRED]),
                                zmq_msg_size(&f[ZAP_CRED]), text, sizeof(text), user, sizeof(user));
    }
    col_zap_reply(c, &f[ZAP_REQID], status, text, user);
    if (strcmp(status, "200") == 0) {
        c->st.zap_admitted++;
        log_debug("%s: admitted %s from %s", domain, user, addr);
    } else {
        int k = strcmp(domain, COL_SENSOR_DOMAIN) == 0 ? 0 : 1;
        c->st.zap_refused++;
        if (col_log_ok(&c->zap_logged[k], &c->zap_quiet[k])) {
            log_warnx("%s: refused a handshake from %s: %s", domain, addr, text);
            if (c->zap_quiet[k] > 0)
                log_warnx("(%" PRIu64 " more handshakes refused before)", c->zap_quiet[k]);
            c->zap_quiet[k] = 0;
        }
    }
    for (size_t i = 0; i < ZAP_FRAMES; i++)
        zmq_msg_close(&f[i]);
    return true;
}

/* ---- rejects ------------------------------------------------------------------------------ */

static void col_rejects_flush(struct collector *c)
{
    int64_t now = col_now_us() / 1000000;
    int rc = 0;

    if (c->nrejects == 0)
        return;
    if ((rc = store_begin(c->store)) == 0) {
        for (size_t i = 0; i < c->nrejects && rc == 0; i++)
            rc = store_reject_add(c->store, c->rejects[i].sensor, c->rejects[i].reason,
                                  c->rejects[i].count, now);
        rc = rc == 0 ? store_commit(c->store) : (store_rollback(c->store), rc);
    }
    if (rc != 0)
        log_warnx("rejects: %s (counts kept for the next try)", store_error(c->store));
    else
        c->nrejects = 0;
}

/* Counts a refused frame and logs it, at most every 10 s per sensor. */
static void col_reject(struct collector *c, struct col_sensor *se, const char *reason,
                       const char *detail)
{
    size_t i;

    c->st.rejected++;
    for (i = 0; i < c->nrejects; i++)
        if (c->rejects[i].reason == reason && strcmp(c->rejects[i].sensor, se->id) == 0)
            break;
    if (i == c->nrejects) {
        if (c->nrejects == COL_MAX_PENDING_REJECTS)
            col_rejects_flush(c);
        if (c->nrejects < COL_MAX_PENDING_REJECTS) {
            i = c->nrejects++;
            snprintf(c->rejects[i].sensor, sizeof(c->rejects[i].sensor), "%s", se->id);
            c->rejects[i].reason = reason;
            c->rejects[i].count = 0;
        }
    }
    if (i < c->nrejects)
        c->rejects[i].count++;
    if (col_log_ok(&se->reject_logged, &se->reject_quiet)) {
        log_warnx("sensor %s: frame rejected: %s%s%s", se->id, reason, detail != NULL ? ": " : "",
                  detail != NULL ? detail : "");
        if (se->reject_quiet > 0)
            log_warnx("sensor %s: (%" PRIu64 " more frames rejected before)", se->id,
                      se->reject_quiet);
        se->reject_quiet = 0;
    }
}

/* ---- sensor messages ---------------------------------------------------------------------- */

/* Sends the frame in c->wb to one sensor connection.  0 or -1. */
static int col_send_wb(struct collector *c, const void *rid, size_t rid_len)
{
    /* Never wait on a sensor: a full pipe loses this frame, and the next one
     * (or the sensor's resend) covers it. */
    if (zmq_send(c->router, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    return zmq_send(c->router, c->wb.p, c->wb.len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

static void col_send_ack(struct collector *c, const void *rid, size_t rid_len, uint64_t seq)
{
    c->wb.len = 0;
    if (wire_encode_ack(&c->wb, seq) != 0)
        return;
    col_send_wb(c, rid, rid_len);
}

static void col_publish(struct collector *c, unsigned tier, const char *json, size_t len)
{
    char topic[8];
    int tlen = snprintf(topic, sizeof(topic), "tier%u", tier);

    for (size_t i = 0; i < c->nfeeds; i++) {
        if ((c->feeds[i].cfg->tiers & STORE_TIER_BIT(tier)) == 0 || c->feeds[i].sock == NULL)
            continue;
        if (zmq_send(c->feeds[i].sock, topic, (size_t)tlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
            continue;
        if (zmq_send(c->feeds[i].sock, json, len, ZMQ_DONTWAIT) >= 0)
            c->st.published++;
    }
}

static void col_alerts(struct collector *c, struct col_sensor *se, const void *rid, size_t rid_len,
                       const uint8_t *body, size_t len)
{
    int64_t now = col_now_us();
    uint64_t acked = 0;
    size_t n = 0, claims = 0;
    int rc, gaps = 0;

    if ((rc = wire_decode_alerts(body, len, c->alerts, WIRE_MAX_BATCH, &n)) != 0) {
        col_reject(c, se, wire_strerror(rc), "ALERTS");
        return;
    }
    jbuf_reset(&c->out);
    for (size_t i = 0; i < n; i++) {
        /* The identity plus the alert's sequence number as the wire carried
         * it: the key of the alert at the collector, so analysts (and the
         * tests) can tell a republished alert from a new one. */
        int seqlen = snprintf(se->ident + se->ident_len, COL_SEQ_ROOM, ",\"seq\":%" PRIu64,
                              c->alerts[i].seq);
        c->offs[i] = c->out.len;
        c->seqs[i] = c->alerts[i].seq;
        rc = ingest_alert(c->alerts[i].data, c->alerts[i].len, se->ident,
                          se->ident_len + (size_t)seqlen, &c->fields[i], &c->out);
        se->ident[se->ident_len] = '\0';
        if (rc == -EINVAL) {
            char detail[64];
            snprintf(detail, sizeof(detail), "sequence %" PRIu64, c->alerts[i].seq);
            col_reject(c, se, "alert is not one well-formed JSON object", detail);
            return;
        }
        if (rc != 0) {
            log_warnx("sensor %s: %s", se->id, strerror(-rc));
            return;
        }
        if ((c->fields[i].org[0] != '\0' && strcmp(c->fields[i].org, se->org) != 0) ||
            (c->fields[i].tier != 0 && c->fields[i].tier != se->tier) ||
            (c->fields[i].sensor_id[0] != '\0' && strcmp(c->fields[i].sensor_id, se->id) != 0))
            claims++;
    }
    /* Not an error of the frame (the identity is replaced), but worth a
     * look: a misconfigured or a misbehaving sensor. */
    if (claims > 0 && col_log_ok(&se->claim_logged, &se->claim_quiet)) {
        log_warnx("sensor %s: %zu alert(s) named another sensor, organisation or tier; filed "
                  "under %s (tier %u)",
                  se->id, claims, se->org, se->tier);
        se->claim_quiet = 0;
    }
    c->offs[n] = c->out.len;
    if ((rc = store_begin(c->store)) == 0) {
        for (size_t i = 0; i < n && rc >= 0; i++) {
            const struct ingest_fields *f = &c->fields[i];
            struct store_alert a = {
                .sensor_id = se->id,
                .seq = c->seqs[i],
                .received = now,
                .alert_time = f->alert_time != 0 ? f->alert_time : now,
                .org = se->org,
                .tier = se->tier,
                .sid = f->sid,
                .severity = f->severity,
                .src_ip = f->src_ip[0] != '\0' ? f->src_ip : NULL,
                .dest_ip = f->dest_ip[0] != '\0' ? f->dest_ip : NULL,
                .src_port = f->src_port,
                .dest_port = f->dest_port,
                .proto = f->proto[0] != '\0' ? f->proto : NULL,
                .signature = f->signature[0] != '\0' ? f->signature : NULL,
                .json = c->out.p + c->offs[i],
                .json_len = c->offs[i + 1] - c->offs[i],
            };
            rc = store_alert_add(c->store, &a);
            c->stored[i] = rc == 1;
        }
        if (rc >= 0)
            rc = gaps = store_sensor_batch(c->store, se->id, c->seqs, n, now / 1000000, &acked);
        if (rc >= 0)
            rc = store_commit(c->store);
        else
            store_rollback(c->store);
    }
    if (rc < 0) {
        c->st.store_errors++;
        if (col_log_ok(&c->store_err_logged, &c->store_err_quiet)) {
            log_warnx("sensor %s: batch of %zu not stored (no ACK; it will be resent): %s", se->id,
                      n, store_error(c->store));
            c->store_err_quiet = 0;
        }
        return;
    }
    /* Durable from here: acknowledge, then publish what is new. */
    col_send_ack(c, rid, rid_len, acked);
    c->st.gaps += (uint64_t)gaps;
    if (gaps > 0)
        log_warnx("sensor %s: %d sequence gap(s) recorded before %" PRIu64, se->id, gaps,
                  c->seqs[n - 1]);
    for (size_t i = 0; i < n; i++) {
        if (!c->stored[i]) {
            c->st.alerts_duplicate++;
            continue;
        }
        c->st.alerts_stored++;
        col_publish(c, se->tier, c->out.p + c->offs[i], c->offs[i + 1] - c->offs[i]);
    }
}

/* ---- bundle distribution ----------------------------------------------------------------- */

/* Sends OFFER for delivery d to se's latest connection and records it. */
static void col_offer(struct collector *c, struct col_sensor *se, const struct store_delivery *d)
{
    struct store_bundle b;
    struct wire_offer o;

    if (se->rid_len == 0 || !se->active)
        return;
    if (store_bundle_get(c->store, d->version, &b) != 0) {
        log_warnx("sensor %s: bundle %" PRIu64 ": %s", se->id, d->version, store_error(c->store));
        return;
    }
    memset(&o, 0, sizeof(o));
    o.version = b.version;
    o.size = b.size;
    memcpy(o.sha256, b.sha256, sizeof(o.sha256));
    o.chunk = COL_CHUNK;
    snprintf(o.kind, sizeof(o.kind), "%s", b.kind);
    c->wb.len = 0;
    if (wire_encode_offer(&c->wb, &o) != 0 || col_send_wb(c, se->rid, se->rid_len) != 0)
        return;
    log_info("sensor %s: offered bundle %" PRIu64 " (%s, %" PRIu64 " bytes)", se->id, b.version,
             b.kind, b.size);
    if (d->state == STORE_DLV_TARGETED &&
        store_delivery_set(c->store, se->id, d->version, STORE_DLV_OFFERED, UINT64_MAX, NULL,
                           col_now_us() / 1000000) != 0)
        log_warnx("sensor %s: %s", se->id, store_error(c->store));
}

struct col_targets {
    struct store_delivery *v;
    size_t n;
};

static int col_collect_target(void *arg, const struct store_delivery *d)
{
    struct col_targets *t = arg;

    if (t->n == COL_MAX_OFFERS_PER_TURN)
        return 1;
    t->v[t->n++] = *d;
    return 0;
}

/* Offers every delivery still only targeted to its sensor, when that
 * sensor has a connection; the others get theirs at their next HELLO. */
static void col_offer_targeted(struct collector *c)
{
    struct col_targets t = {0};
    int rc;

    if ((t.v = kanshi_calloc(COL_MAX_OFFERS_PER_TURN, sizeof(*t.v))) == NULL)
        return;
    if ((rc = store_delivery_targeted(c->store, col_collect_target, &t)) < 0)
        log_warnx("bundles: %s", store_error(c->store));
    for (size_t i = 0; i < t.n; i++) {
        struct col_sensor *se = col_sensor_find(c->sensors, c->nsensors, t.v[i].sensor_id);
        if (se != NULL)
            col_offer(c, se, &t.v[i]);
    }
    free(t.v);
}

/* FETCH: one CHUNK of a bundle offered to this sensor, never another's. */
static void col_fetch(struct collector *c, struct col_sensor *se, const void *rid, size_t rid_len,
                      const uint8_t *body, size_t len)
{
    struct store_delivery *d;
    struct wire_fetch f;
    enum store_dlv_state state;
    int64_t n;
    int rc;

    if ((rc = wire_decode_fetch(body, len, &f)) != 0) {
        col_reject(c, se, wire_strerror(rc), "FETCH");
        return;
    }
    if ((d = malloc(sizeof(*d))) == NULL)
        return;
    if (store_delivery_get(c->store, se->id, f.version, d) != 0) {
        col_reject(c, se, "FETCH of a bundle not offered to it", NULL);
        free(d);
        return;
    }
    if (f.offset >= d->size) {
        col_reject(c, se, "FETCH past the end of the bundle", NULL);
        free(d);
        return;
    }
    n = store_bundle_read(c->store, f.version, f.offset, c->chunk, COL_CHUNK);
    if (n <= 0) {
        log_warnx("sensor %s: FETCH bundle %" PRIu64 ": %s", se->id, f.version,
                  n < 0 ? store_error(c->store) : "nothing to read");
        free(d);
        return;
    }
    c->wb.len = 0;
    if (wire_encode_chunk(&c->wb, f.version, f.offset, c->chunk, (uint32_t)n) != 0 ||
        col_send_wb(c, rid, rid_len) != 0) {
        free(d);
        return;
    }
    state = f.offset + (uint64_t)n >= d->size ? STORE_DLV_FETCHED : STORE_DLV_FETCHING;
    if (d->state >= STORE_DLV_APPLIED)
        state = d->state; /* a settled delivery stays settled */
    if (store_delivery_set(c->store, se->id, f.version, state, f.offset + (uint64_t)n, NULL,
                           col_now_us() / 1000000) != 0)
        log_warnx("sensor %s: %s", se->id, store_error(c->store));
    free(d);
}

/* RESULT: what the sensor made of a bundle. */
static void col_result(struct collector *c, struct col_sensor *se, const uint8_t *body,
                       size_t len)
{
    struct wire_result *r = malloc(sizeof(*r));
    struct store_delivery *d = malloc(sizeof(*d));
    int64_t now = col_now_us() / 1000000;
    bool ok;
    int rc;

    if (r == NULL || d == NULL)
        goto out;
    if ((rc = wire_decode_result(body, len, r)) != 0) {
        col_reject(c, se, wire_strerror(rc), "RESULT");
        goto out;
    }
    if (store_delivery_get(c->store, se->id, r->version, d) != 0) {
        col_reject(c, se, "RESULT of a bundle not offered to it", NULL);
        goto out;
    }
    ok = r->status == WIRE_RESULT_APPLIED;
    if (store_delivery_set(c->store, se->id, r->version,
                           ok ? STORE_DLV_APPLIED : STORE_DLV_REJECTED, UINT64_MAX, r->reason,
                           now) != 0) {
        log_warnx("sensor %s: %s", se->id, store_error(c->store));
        goto out;
    }
    if (ok) {
        char label[32];
        snprintf(label, sizeof(label), "bundle-%" PRIu64, r->version);
        if (store_sensor_ruleset(c->store, se->id, label) != 0)
            log_warnx("sensor %s: %s", se->id, store_error(c->store));
        log_info("sensor %s: applied bundle %" PRIu64, se->id, r->version);
    } else {
        log_warnx("sensor %s: rejected bundle %" PRIu64 ": %s", se->id, r->version,
                  r->reason[0] != '\0' ? r->reason : "(no reason given)");
    }
out:
    free(r);
    free(d);
}

static void col_hello(struct collector *c, struct col_sensor *se, const void *rid, size_t rid_len,
                      const uint8_t *body, size_t len)
{
    struct wire_hello h;
    uint64_t acked;
    int rc;

    if ((rc = wire_decode_hello(body, len, &h)) != 0) {
        col_reject(c, se, wire_strerror(rc), "HELLO");
        return;
    }
    if ((rc = store_sensor_hello(c->store, se->id, &h, col_now_us() / 1000000)) != 0 ||
        (rc = store_sensor_acked(c->store, se->id, &acked)) != 0) {
        log_warnx("sensor %s: HELLO: %s", se->id, store_error(c->store));
        return;
    }
    log_info("sensor %s: hello (software %s, ruleset %s, next sequence %" PRIu64 ", %" PRIu64
             " spooled); stored up to %" PRIu64,
             se->id, h.software[0] != '\0' ? h.software : "-",
             h.ruleset[0] != '\0' ? h.ruleset : "-", h.next_seq, h.spool_alerts, acked);
    /* A sensor numbering below what is stored has lost its spool (or is a
     * reinstalled machine with the old key): its new alerts would be taken
     * for ones already held.  The ACK below makes it renumber them after
     * what is stored (spool_advance) before it sends any; say so loudly,
     * the operator should know the sensor lost its disk. */
    if (h.next_seq != 0 && h.next_seq <= acked)
        log_warnx("sensor %s: numbers its next alert %" PRIu64 " but the collector holds up to "
                  "%" PRIu64 "; was its spool reset?  It is told to renumber its alerts after "
                  "%" PRIu64,
                  se->id, h.next_seq, acked, acked);
    col_send_ack(c, rid, rid_len, acked);
    /* A bundle targeted at it and not yet settled: (re)offer it, so a
     * sensor offline at publish time, or cut off half-way, gets it now. */
    {
        struct store_delivery *d = malloc(sizeof(*d));
        if (d != NULL && store_delivery_next(c->store, se->id, d) == 0)
            col_offer(c, se, d);
        free(d);
    }
}

/* STATS counter names in the stored JSON (and kanshictl sensor list). */
static const char *const col_counter_names[] = {
    [WC_PACKETS] = "packets",
    [WC_BYTES] = "bytes",
    [WC_KERNEL_DROPS] = "kernel_drops",
    [WC_IF_DROPS] = "if_drops",
    [WC_DECODE_INVALID] = "decode_invalid",
    [WC_FLOWS_ACTIVE] = "flows_active",
    [WC_FLOW_MEMCAP_DROPS] = "flow_memcap_drops",
    [WC_ALERTS] = "alerts",
    [WC_SPOOL_BYTES] = "spool_bytes",
    [WC_SPOOL_ALERTS] = "spool_alerts",
    [WC_SPOOL_DROPPED] = "spool_dropped",
    [WC_UPLINK_SENT] = "uplink_sent",
    [WC_UPLINK_ACKED] = "uplink_acked",
};

static void col_stats(struct collector *c, struct col_sensor *se, const uint8_t *body, size_t len)
{
    struct wire_stats *s = &c->stats_scratch;
    int64_t now = col_now_us();
    bool have_alerts = false;
    uint64_t alerts = 0;
    struct jbuf b;
    int rc;

    if ((rc = wire_decode_stats(body, len, s)) != 0) {
        col_reject(c, se, wire_strerror(rc), "STATS");
        return;
    }
    jbuf_init(&b);
    jbuf_open_object(&b, NULL);
    jbuf_uint(&b, "uptime", s->uptime);
    for (size_t i = 0; i < s->n; i++) {
        uint16_t id = s->c[i].id;
        char name[24];
        if (id < KANSHI_ARRAY_LEN(col_counter_names) && col_counter_names[id] != NULL)
            snprintf(name, sizeof(name), "%s", col_counter_names[id]);
        else
            snprintf(name, sizeof(name), "counter_%u", id); /* a newer sensor's */
        /* JSON numbers beyond 2^63 would not survive SQLite's json_extract. */
        jbuf_uint(&b, name, s->c[i].value > INT64_MAX ? INT64_MAX : s->c[i].value);
        if (id == WC_ALERTS) {
            have_alerts = true;
            alerts = s->c[i].value;
        }
    }
    if (have_alerts) {
        if (se->have_prev && alerts >= se->prev_alerts && now > se->prev_at)
            jbuf_uint(&b, "alerts_per_min",
                      (uint64_t)((double)(alerts - se->prev_alerts) * 60e6 /
                                 (double)(now - se->prev_at)));
        se->prev_alerts = alerts;
        se->prev_at = now;
        se->have_prev = true;
    }
    jbuf_close_object(&b);
    if (!jbuf_ok(&b))
        log_warnx("sensor %s: STATS: %s", se->id, strerror(ENOMEM));
    else if (store_sensor_stats(c->store, se->id, b.p, now / 1000000) != 0)
        log_warnx("sensor %s: STATS: %s", se->id, store_error(c->store));
    jbuf_fini(&b);
}

static struct col_sensor *col_sender(struct collector *c, const zmq_msg_t *msg)
{
    const char *user = zmq_msg_gets((zmq_msg_t *)msg, "User-Id");
    struct col_sensor *se;
    int64_t now;

    if (user == NULL)
        return NULL;
    se = col_sensor_find(c->sensors, c->nsensors, user);
    if (se == NULL) {
        /* Enrolled after the last reload; read the registry now (not more
         * than ten times a second, whatever an unknown id sends). */
        now = col_mono_us();
        if (now - c->last_forced_reload > 100000) {
            c->last_forced_reload = now;
            col_registry_check(c, true);
            se = col_sensor_find(c->sensors, c->nsensors, user);
        }
    }
    return se;
}

/* Receives and handles one message from the ROUTER; false when none. */
static bool col_router_one(struct collector *c)
{
    zmq_msg_t rid, msg;
    struct col_sensor *se;
    enum wire_type type;
    const uint8_t *body;
    size_t body_len, nframes = 1;
    uint8_t ridbuf[256];
    size_t rid_len;
    int rc;

    zmq_msg_init(&rid);
    if (zmq_msg_recv(&rid, c->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&rid);
        return false;
    }
    rid_len = zmq_msg_size(&rid);
    if (rid_len > sizeof(ridbuf))
        rid_len = sizeof(ridbuf);
    memcpy(ridbuf, zmq_msg_data(&rid), rid_len);
    zmq_msg_init(&msg);
    if (!zmq_msg_more(&rid) || zmq_msg_recv(&msg, c->router, 0) < 0) {
        zmq_msg_close(&rid);
        zmq_msg_close(&msg);
        return true;
    }
    zmq_msg_close(&rid);
    /* A kanshi message is one frame: drain and count the rest. */
    for (int more = zmq_msg_more(&msg); more;) {
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        if (zmq_msg_recv(&extra, c->router, 0) < 0) {
            zmq_msg_close(&extra);
            break;
        }
        nframes++;
        more = zmq_msg_more(&extra);
        zmq_msg_close(&extra);
    }
    c->st.frames++;
    se = col_sender(c, &msg);
    if (se == NULL || !se->active) {
        c->st.dropped++;
        if (col_log_ok(&c->dropped_logged, &c->dropped_quiet)) {
            const char *user = zmq_msg_gets(&msg, "User-Id");
            log_warnx("dropping frames of %s sensor %s (%" PRIu64 " dropped in all)",
                      se == NULL ? "unknown" : "revoked", user != NULL ? user : "?", c->st.dropped);
            c->dropped_quiet = 0;
        }
        zmq_msg_close(&msg);
        return true;
    }
    if (nframes > 1) {
        col_reject(c, se, "message of several frames", NULL);
        zmq_msg_close(&msg);
        return true;
    }
    rc = wire_decode_header(zmq_msg_data(&msg), zmq_msg_size(&msg), &type, &body, &body_len);
    if (rc != 0) {
        col_reject(c, se, wire_strerror(rc), NULL);
        zmq_msg_close(&msg);
        return true;
    }
    memcpy(se->rid, ridbuf, rid_len);
    se->rid_len = rid_len;
    switch (type) {
    case WIRE_ALERTS:
        col_alerts(c, se, ridbuf, rid_len, body, body_len);
        break;
    case WIRE_HELLO:
        col_hello(c, se, ridbuf, rid_len, body, body_len);
        break;
    case WIRE_STATS:
        col_stats(c, se, body, body_len);
        break;
    case WIRE_FETCH:
        col_fetch(c, se, ridbuf, rid_len, body, body_len);
        break;
    case WIRE_RESULT:
        col_result(c, se, body, body_len);
        break;
    default:
        col_reject(c, se, "message type a sensor does not send (or not supported yet)", NULL);
        break;
    }
    zmq_msg_close(&msg);
    return true;
}

/* ---- set-up ------------------------------------------------------------------------------- */

static int col_zmq_fail(char *err, size_t errlen, const char *what, const char *endpoint)
{
    int e = zmq_errno();

    snprintf(err, errlen, "%s%s%s: %s", what, endpoint != NULL ? " " : "",
             endpoint != NULL ? endpoint : "", zmq_strerror(e));
    return e > 0 ? -e : -EIO;
}

/* A socket that is a CURVE server with the collector's key in a ZAP domain. */
static void *col_curve_socket(struct collector *c, int type, const char *domain, char *err,
                              size_t errlen)
{
    int one = 1, zero = 0;
    void *s = zmq_socket(c->ctx, type);

    if (s == NULL) {
        col_zmq_fail(err, errlen, "socket", NULL);
        return NULL;
    }
    if (zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof(one)) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, c->secret, UPLINK_KEY_LEN) != 0 ||
        zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) != 0) {
        col_zmq_fail(err, errlen, "socket options", NULL);
        zmq_close(s);
        return NULL;
    }
    return s;
}

static void col_feeds_close(struct collector *c)
{
    for (size_t i = 0; i < c->nfeeds; i++) {
        if (c->feeds[i].sock != NULL)
            zmq_close(c->feeds[i].sock);
        c->feeds[i].sock = NULL;
    }
}

static int col_feeds_bind(struct collector *c, char *err, size_t errlen)
{
    int hwm = COL_FEED_HWM;

    for (size_t i = 0; i < c->nfeeds; i++) {
        const struct collector_feed *f = c->feeds[i].cfg;
        char domain[64];
        void *s;
        int rc = -1;

        snprintf(domain, sizeof(domain), "%s%s", COL_FEED_DOMAIN, f->name);
        if ((s = col_curve_socket(c, ZMQ_PUB, domain, err, errlen)) == NULL)
            return -EIO;
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
        /* A re-bind may find the old listener still closing: retry a little. */
        for (int tries = 0; tries < 40 && (rc = zmq_bind(s, f->endpoint)) != 0; tries++) {
            if (zmq_errno() != EADDRINUSE)
                break;
            usleep(50000);
        }
        if (rc != 0) {
            rc = col_zmq_fail(err, errlen, "feed: bind", f->endpoint);
            zmq_close(s);
            return rc;
        }
        c->feeds[i].sock = s;
    }
    return 0;
}

int collector_create(struct collector **out, const struct collector_config *cfg, char *err,
                     size_t errlen)
{
    struct store_options so = {.path = cfg->database, .sync = cfg->sync, .create = true};
    struct collector *c = calloc(1, sizeof(*c));
    int64_t maxmsg = COL_MAX_MSG;
    int rc, one = 1;

    if (c == NULL)
        return -ENOMEM;
    c->cfg = cfg;
    jbuf_init(&c->out);
    wire_buf_init(&c->wb);
    c->alerts = kanshi_calloc(WIRE_MAX_BATCH, sizeof(*c->alerts));
    c->fields = kanshi_calloc(WIRE_MAX_BATCH, sizeof(*c->fields));
    c->seqs = kanshi_calloc(WIRE_MAX_BATCH, sizeof(*c->seqs));
    c->offs = kanshi_calloc(WIRE_MAX_BATCH + 1, sizeof(*c->offs));
    c->stored = kanshi_calloc(WIRE_MAX_BATCH, sizeof(*c->stored));
    c->feeds = kanshi_calloc(cfg->nfeeds + 1, sizeof(*c->feeds));
    c->chunk = malloc(COL_CHUNK);
    if (c->alerts == NULL || c->fields == NULL || c->seqs == NULL || c->offs == NULL ||
        c->stored == NULL || c->feeds == NULL || c->chunk == NULL) {
        snprintf(err, errlen, "%s", strerror(ENOMEM));
        rc = -ENOMEM;
        goto fail;
    }
    if ((rc = uplink_read_key_file(cfg->secret_key_file, 1, c->secret, err, errlen)) != 0)
        goto fail;
    if (zmq_curve_public(c->public, c->secret) != 0) {
        rc = col_zmq_fail(err, errlen, "secret-key-file: cannot derive the public key", NULL);
        goto fail;
    }
    if ((rc = store_open(&c->store, &so, err, errlen)) != 0)
        goto fail;
    if ((rc = store_data_version(c->store, &c->data_version)) != 0 || (rc = col_reload(c)) != 0) {
        snprintf(err, errlen, "%s", store_error(c->store));
        goto fail;
    }
    if ((c->ctx = zmq_ctx_new()) == NULL) {
        rc = col_zmq_fail(err, errlen, "zmq context", NULL);
        goto fail;
    }
    /* The ZAP handler must exist before the first handshake can start. */
    if ((c->zap = zmq_socket(c->ctx, ZMQ_REP)) == NULL || zmq_bind(c->zap, COL_ZAP_ENDPOINT) != 0) {
        rc = col_zmq_fail(err, errlen, "ZAP handler: bind", COL_ZAP_ENDPOINT);
        goto fail;
    }
    if ((c->router = col_curve_socket(c, ZMQ_ROUTER, COL_SENSOR_DOMAIN, err, errlen)) == NULL) {
        rc = -EIO;
        goto fail;
    }
    zmq_setsockopt(c->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
    zmq_setsockopt(c->router, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
    if (zmq_bind(c->router, cfg->listen) != 0) {
        rc = col_zmq_fail(err, errlen, "listen: bind", cfg->listen);
        goto fail;
    }
    for (size_t i = 0; i < cfg->nfeeds; i++)
        c->feeds[i].cfg = &cfg->feeds[i];
    c->nfeeds = cfg->nfeeds;
    if ((rc = col_feeds_bind(c, err, errlen)) != 0)
        goto fail;
    *out = c;
    return 0;
fail:
    collector_destroy(c);
    return rc;
}

/* ---- the loop ----------------------------------------------------------------------------- */

static void col_retention(struct collector *c)
{
    int64_t cutoff, n;

    if (c->cfg->retention_days == 0)
        return;
    cutoff = col_now_us() - (int64_t)c->cfg->retention_days * 86400 * 1000000;
    n = store_retention(c->store, cutoff);
    if (n < 0)
        log_warnx("retention: %s", store_error(c->store));
    else if (n > 0)
        log_info("retention: deleted %" PRId64 " alerts older than %u days", n,
                 c->cfg->retention_days);
}

int collector_run(struct collector *c, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    zmq_pollitem_t items[2] = {
        {.socket = c->router, .events = ZMQ_POLLIN},
        {.socket = c->zap, .events = ZMQ_POLLIN},
    };
    int64_t now = col_mono_us();

    c->next_registry = now + COL_REGISTRY_CHECK_US;
    c->next_rejects = now + COL_REJECT_FLUSH_US;
    c->next_retention = now; /* once at start */
    log_info("listening on %s (public key %s), %zu feed(s), database %s", c->cfg->listen, c->public,
             c->nfeeds, c->cfg->database);
    for (size_t i = 0; i < c->nfeeds; i++)
        log_info("feed %s on %s: tiers %s", c->feeds[i].cfg->name, c->feeds[i].cfg->endpoint,
                 collector_tiers_str(c->feeds[i].cfg->tiers));
    while (!*stop) {
        int64_t wait = c->next_registry - col_mono_us();
        int n;

        if (wait < 0)
            wait = 0;
        n = zmq_poll(items, 2, (long)(wait / 1000) + 1);
        if (n < 0) {
            if (zmq_errno() == EINTR)
                continue;
            log_warnx("poll: %s", zmq_strerror(zmq_errno()));
            return -EIO;
        }
        /* Handshakes first: a sensor waiting on ZAP sends nothing. */
        while (col_zap_one(c))
            ;
        for (int i = 0; i < COL_MSGS_PER_TURN && col_router_one(c); i++)
            ;
        now = col_mono_us();
        if (*reload) {
            *reload = 0;
            log_info("re-reading the registry");
            col_registry_check(c, true);
        }
        if (now >= c->next_registry) {
            col_registry_check(c, false);
            c->next_registry = now + COL_REGISTRY_CHECK_US;
        }
        if (now >= c->next_rejects) {
            col_rejects_flush(c);
            c->next_rejects = now + COL_REJECT_FLUSH_US;
        }
        if (now >= c->next_retention) {
            col_retention(c);
            c->next_retention = now + COL_RETENTION_US;
        }
    }
    col_rejects_flush(c);
    return 0;
}

void collector_get_stats(const struct collector *c, struct collector_stats *st)
{
    *st = c->st;
}

void collector_destroy(struct collector *c)
{
    if (c == NULL)
        return;
    if (c->feeds != NULL)
        col_feeds_close(c);
    if (c->router != NULL)
        zmq_close(c->router);
    if (c->zap != NULL)
        zmq_close(c->zap);
    if (c->ctx != NULL)
        zmq_ctx_term(c->ctx);
    store_close(c->store);
    col_sensors_free(c->sensors, c->nsensors);
    free(c->feeds);
    free(c->alerts);
    free(c->fields);
    free(c->seqs);
    free(c->offs);
    free(c->stored);
    free(c->chunk);
    jbuf_fini(&c->out);
    wire_buf_fini(&c->wb);
    explicit_bzero(c->secret, sizeof(c->secret));
    free(c);
}
