/*
 * uplink.c — ships spooled alerts to the collector over ZeroMQ with CURVE
 * (see uplink.h for the contract, wire.h for the frames).
 *
 * The thread is a small state machine driven by zmq_poll() over two sockets:
 * the DEALER to the collector and a PAIR reading the DEALER's monitor events.
 * A successful CURVE handshake means "(re)connected": send HELLO and resend
 * from the last ACK.  A disconnect empties the window.  Everything between is
 * keeping at most max_inflight_batches / max_inflight_alerts unacknowledged
 * and turning ACKs into spool_ack().
 *
 * Nothing goes out on a connection before the collector has answered HELLO:
 * its ACK says where it stands for this sensor's key, and spool_advance()
 * renumbers the spool when that cannot be about the spool's own alerts (a
 * sensor whose spool was reset but kept its key would otherwise send new
 * alerts under numbers the collector already holds, have them acknowledged
 * as duplicates and deleted: lost without a word).  So an alert is only ever
 * sent under a numbering the collector has confirmed.  Any later ACK above
 * what the spool numbered (a clone of this sensor?) renumbers the same way.
 *
 * ZeroMQ does the reconnecting (with exponential back-off up to
 * ZMQ_RECONNECT_IVL_MAX) and the dead-peer detection (ZMTP heartbeats).
 * ZMQ_IMMEDIATE keeps messages from queueing for a connection that is not up,
 * so a send while disconnected fails at once instead of going into a pipe
 * that may never be delivered; the spool is the only queue.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "kanshi/bundle_apply.h"
#include "kanshi/kanshi.h"
#include "kanshi/spool.h"
#include "kanshi/uplink.h"
#include "kanshi/wire.h"

#define UPLINK_MAX_COUNTER 64 /* counter ids the heartbeat can carry */
#define UPLINK_MAX_WINDOW 64  /* upper bound of max_inflight_batches */
#define UPLINK_BATCH_BYTES (WIRE_MAX_FRAME - WIRE_HDR_LEN - 4 - WIRE_MAX_BATCH * 12)
#define UPLINK_WARN_EVERY_MS 60000
#define UPLINK_PATH_MAX 4096
#define UPLINK_BUNDLE_POLL_MS 200

struct uplink_batch {
    uint64_t last; /* highest sequence in the batch */
    uint32_t count;
};

struct uplink {
    struct spool *sp;
    void *ctx, *sock, *mon;
    char endpoint[512];
    char software[WIRE_MAX_STR + 1], firmware[WIRE_MAX_STR + 1], ruleset[WIRE_MAX_STR + 1];
    uint32_t stats_interval_ms, ack_timeout_ms;
    uint32_t max_batches, max_alerts;

    pthread_t thread;
    bool started;
    atomic_bool stop;
    _Atomic uint64_t counters[UPLINK_MAX_COUNTER];
    _Atomic uint64_t counters_set; /* bit per id published */

    pthread_mutex_t mu; /* guards st; cv signals ACK progress */
    pthread_cond_t cv;
    struct uplink_stats st;

    /* Thread only. */
    bool connected, need_hello;
    bool await_hello; /* HELLO sent, its ACK not yet in: send no alerts */
    uint64_t hello_sent_ms, last_renumber_warn_ms;
    uint64_t acked, sent_upto;
    struct uplink_batch win[UPLINK_MAX_WINDOW];
    size_t win_head, win_len;
    uint32_t inflight;
    uint64_t progress_ms; /* last ACK progress, or when the window (re)started */
    uint64_t start_ms, next_stats_ms, last_auth_warn_ms, last_spool_warn_ms;
    struct wire_buf wb;
    bool wb_ready; /* wb holds a built ALERTS frame that could not be sent yet */
    uint64_t wb_last;
    uint32_t wb_count;

    /* Bundles (thread only); bundles false when not configured. */
    bool bundles;
    char bundle_dir[UPLINK_PATH_MAX], incoming[UPLINK_PATH_MAX];
    struct {
        bool active;    /* fetching version into fd */
        bool fetch_out; /* a FETCH waits for its CHUNK */
        bool handed;    /* version is in the drop directory; waiting for the outcome */
        uint64_t version, size, got, fetch_ms, poll_ms;
        uint8_t sha256[WIRE_SHA256_LEN];
        int fd;
    } dl;
};

static uint64_t uplink_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- keys ----------------------------------------------------------------------------------- */

static const char uplink_z85_chars[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/* A 40-character Z85 key to its 32 bytes. */
static bool uplink_z85_key(const char *z, uint8_t out[32])
{
    if (z == NULL || strlen(z) != UPLINK_KEY_LEN)
        return false;
    for (const char *c = z; *c != '\0'; c++)
        if (strchr(uplink_z85_chars, *c) == NULL)
            return false;
    return zmq_z85_decode(out, z) != NULL;
}

int uplink_read_key_file(const char *path, int secret, char key[UPLINK_KEY_LEN + 1], char *err,
                         size_t errlen)
{
    char buf[128];
    uint8_t bin[32];
    struct stat st;
    ssize_t n;
    size_t len;
    int fd, rc = 0;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        return rc;
    }
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        snprintf(err, errlen, "%s: not a regular file", path);
        goto out;
    }
    if (secret && (st.st_mode & 077) != 0) {
        rc = -EPERM;
        snprintf(err, errlen,
                 "%s: secret key file is accessible by group or others (mode %04o); "
                 "chmod 600 it",
                 path, (unsigned)(st.st_mode & 07777));
        goto out;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    if (n < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        goto out;
    }
    len = (size_t)n;
    buf[len] = '\0';
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    if (!uplink_z85_key(buf, bin)) {
        rc = -EINVAL;
        snprintf(err, errlen, "%s: expected a CURVE key as 40 characters of Z85 text", path);
        goto out;
    }
    memcpy(key, buf, UPLINK_KEY_LEN + 1);
out:
    explicit_bzero(buf, sizeof(buf));
    explicit_bzero(bin, sizeof(bin));
    close(fd);
    return rc;
}

/* ---- create / destroy ----------------------------------------------------------------------- */

static int uplink_setopt_int(void *sock, int opt, int v)
{
    return zmq_setsockopt(sock, opt, &v, sizeof(v));
}

static void uplink_copy_str(char *dst, const char *src)
{
    snprintf(dst, WIRE_MAX_STR + 1, "%s", src != NULL ? src : "");
}

static int uplink_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int uplink_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

/* Checks the config's keys and decodes them. */
static int uplink_keys(const struct uplink_config *cfg, uint8_t server[32], uint8_t pub[32],
                       uint8_t sec[32], char *err, size_t errlen)
{
    char derived[UPLINK_KEY_LEN + 1];
    int rc = 0;

    if (cfg->endpoint == NULL || cfg->endpoint[0] == '\0')
        return uplink_fail(err, errlen, -EINVAL, "uplink: no endpoint");
    if (strlen(cfg->endpoint) >= sizeof(((struct uplink *)0)->endpoint))
        return uplink_fail(err, errlen, -EINVAL, "uplink: endpoint too long");
    if (!uplink_z85_key(cfg->server_key, server))
        return uplink_fail(err, errlen, -EINVAL,
                           "uplink: the collector's public key is not 40 characters of Z85");
    if (!uplink_z85_key(cfg->secret_key, sec))
        return uplink_fail(err, errlen, -EINVAL,
                           "uplink: the secret key is not 40 characters of Z85");
    if (zmq_curve_public(derived, cfg->secret_key) != 0)
        rc = uplink_fail(err, errlen, -EINVAL,
                         "uplink: cannot derive the public key (libzmq without CURVE?)");
    else if (cfg->public_key != NULL && !uplink_z85_key(cfg->public_key, pub))
        rc = uplink_fail(err, errlen, -EINVAL,
                         "uplink: the public key is not 40 characters of Z85");
    /* A mismatched pair fails the handshake without a word: say it now. */
    else if (cfg->public_key != NULL && strcmp(derived, cfg->public_key) != 0)
        rc = uplink_fail(err, errlen, -EINVAL,
                         "uplink: the public key does not belong to the secret key");
    else if (cfg->public_key == NULL)
        zmq_z85_decode(pub, derived);
    explicit_bzero(derived, sizeof(derived));
    if (rc != 0)
        explicit_bzero(sec, 32);
    return rc;
}

int uplink_check_config(const struct uplink_config *cfg, char *err, size_t errlen)
{
    uint8_t server[32], pub[32], sec[32];
    int rc = uplink_keys(cfg, server, pub, sec, err, errlen);

    explicit_bzero(sec, sizeof(sec));
    return rc;
}

int uplink_create(struct uplink **out, const struct uplink_config *cfg, struct spool *sp,
                  char *err, size_t errlen)
{
    struct uplink *u;
    uint8_t server[32], pub[32], sec[32];
    char mon_ep[64];
    uint32_t hb;
    int rc;

    if ((rc = uplink_keys(cfg, server, pub, sec, err, errlen)) != 0)
        return rc;
    if ((u = calloc(1, sizeof(*u))) == NULL) {
        explicit_bzero(sec, sizeof(sec));
        return uplink_fail(err, errlen, -ENOMEM, "uplink: %s", strerror(ENOMEM));
    }
    u->sp = sp;
    snprintf(u->endpoint, sizeof(u->endpoint), "%s", cfg->endpoint);
    uplink_copy_str(u->software, cfg->software);
    uplink_copy_str(u->firmware, cfg->firmware);
    uplink_copy_str(u->ruleset, cfg->ruleset);
    u->dl.fd = -1;
    if (cfg->bundle_dir != NULL && cfg->bundle_incoming != NULL) {
        if ((size_t)snprintf(u->bundle_dir, sizeof(u->bundle_dir), "%s", cfg->bundle_dir) >=
                sizeof(u->bundle_dir) - 64 ||
            (size_t)snprintf(u->incoming, sizeof(u->incoming), "%s", cfg->bundle_incoming) >=
                sizeof(u->incoming) - 64) {
            free(u);
            explicit_bzero(sec, sizeof(sec));
            return uplink_fail(err, errlen, -EINVAL, "uplink: bundles.dir or bundles.incoming: "
                                                     "path too long");
        }
        u->bundles = true;
    }
    u->stats_interval_ms = cfg->stats_interval_ms != 0 ? cfg->stats_interval_ms : 10000;
    u->ack_timeout_ms = cfg->ack_timeout_ms != 0 ? cfg->ack_timeout_ms : 10000;
    u->max_batches = cfg->max_inflight_batches != 0 ? cfg->max_inflight_batches : 8;
    if (u->max_batches > UPLINK_MAX_WINDOW)
        u->max_batches = UPLINK_MAX_WINDOW;
    u->max_alerts = cfg->max_inflight_alerts != 0 ? cfg->max_inflight_alerts : 16384;
    wire_buf_init(&u->wb);
    pthread_mutex_init(&u->mu, NULL);
    {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&u->cv, &ca);
        pthread_condattr_destroy(&ca);
    }

    if ((u->ctx = zmq_ctx_new()) == NULL || (u->sock = zmq_socket(u->ctx, ZMQ_DEALER)) == NULL) {
        rc = -errno;
        uplink_fail(err, errlen, rc, "uplink: %s", zmq_strerror(-rc));
        goto fail;
    }
    hb = cfg->heartbeat_ivl_ms != 0 ? cfg->heartbeat_ivl_ms : 5000;
    /* What is unsent at close is still in the spool: never linger. */
    if (uplink_setopt_int(u->sock, ZMQ_LINGER, 0) != 0 ||
        uplink_setopt_int(u->sock, ZMQ_IMMEDIATE, 1) != 0 ||
        uplink_setopt_int(u->sock, ZMQ_RECONNECT_IVL,
                          (int)(cfg->reconnect_ivl_ms != 0 ? cfg->reconnect_ivl_ms : 100)) != 0 ||
        uplink_setopt_int(u->sock, ZMQ_RECONNECT_IVL_MAX,
                          (int)(cfg->reconnect_max_ms != 0 ? cfg->reconnect_max_ms : 30000)) !=
            0 ||
        uplink_setopt_int(u->sock, ZMQ_HEARTBEAT_IVL, (int)hb) != 0 ||
        uplink_setopt_int(u->sock, ZMQ_HEARTBEAT_TIMEOUT, (int)(hb * 3)) != 0 ||
        uplink_setopt_int(u->sock, ZMQ_HEARTBEAT_TTL, (int)(hb * 3)) != 0 ||
        zmq_setsockopt(u->sock, ZMQ_MAXMSGSIZE, &(int64_t){WIRE_MAX_FRAME}, sizeof(int64_t)) !=
            0 ||
        zmq_setsockopt(u->sock, ZMQ_CURVE_SERVERKEY, server, sizeof(server)) != 0 ||
        zmq_setsockopt(u->sock, ZMQ_CURVE_PUBLICKEY, pub, sizeof(pub)) != 0 ||
        zmq_setsockopt(u->sock, ZMQ_CURVE_SECRETKEY, sec, sizeof(sec)) != 0) {
        rc = -errno;
        uplink_fail(err, errlen, rc, "uplink: setting socket options: %s", zmq_strerror(-rc));
        goto fail;
    }
    /* Monitor before connecting, so the first handshake is not missed. */
    snprintf(mon_ep, sizeof(mon_ep), "inproc://kanshi-uplink-monitor-%p", (void *)u);
    if (zmq_socket_monitor(u->sock, mon_ep,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0 ||
        (u->mon = zmq_socket(u->ctx, ZMQ_PAIR)) == NULL || zmq_connect(u->mon, mon_ep) != 0) {
        rc = -errno;
        uplink_fail(err, errlen, rc, "uplink: socket monitor: %s", zmq_strerror(-rc));
        goto fail;
    }
    if (zmq_connect(u->sock, u->endpoint) != 0) {
        rc = -errno;
        snprintf(err, errlen, "uplink: %s: %s", u->endpoint, zmq_strerror(-rc));
        goto fail;
    }
    explicit_bzero(sec, sizeof(sec));
    *out = u;
    return 0;
fail:
    explicit_bzero(sec, sizeof(sec));
    uplink_destroy(u);
    return rc != 0 ? rc : -EINVAL;
}

static void *uplink_main(void *arg);

int uplink_start(struct uplink *u)
{
    int rc;

    if (u->started)
        return -EALREADY;
    if ((rc = pthread_create(&u->thread, NULL, uplink_main, u)) != 0)
        return -rc;
    u->started = true;
    return 0;
}

void uplink_destroy(struct uplink *u)
{
    if (u != NULL && u->dl.fd >= 0) {
        close(u->dl.fd);
        u->dl.fd = -1;
    }
    if (u == NULL)
        return;
    if (u->started) {
        atomic_store(&u->stop, true);
        pthread_join(u->thread, NULL);
        u->started = false;
    }
    if (u->sock != NULL) {
        zmq_socket_monitor(u->sock, NULL, 0);
        zmq_close(u->sock);
    }
    if (u->mon != NULL)
        zmq_close(u->mon);
    if (u->ctx != NULL)
        zmq_ctx_term(u->ctx);
    wire_buf_fini(&u->wb);
    pthread_cond_destroy(&u->cv);
    pthread_mutex_destroy(&u->mu);
    free(u);
}

/* ---- counters ------------------------------------------------------------------------------- */

static bool uplink_own_counter(unsigned id)
{
    return id == WC_SPOOL_BYTES || id == WC_SPOOL_ALERTS || id == WC_SPOOL_DROPPED ||
           id == WC_UPLINK_SENT || id == WC_UPLINK_ACKED;
}

void uplink_set_counter(struct uplink *u, enum wire_counter id, uint64_t value)
{
    unsigned i = (unsigned)id;

    if (u == NULL || i == 0 || i >= UPLINK_MAX_COUNTER || uplink_own_counter(i))
        return;
    atomic_store_explicit(&u->counters[i], value, memory_order_relaxed);
    if ((atomic_load_explicit(&u->counters_set, memory_order_relaxed) & (1ull << i)) == 0)
        atomic_fetch_or(&u->counters_set, 1ull << i);
}

void uplink_get_stats(struct uplink *u, struct uplink_stats *st)
{
    pthread_mutex_lock(&u->mu);
    *st = u->st;
    pthread_mutex_unlock(&u->mu);
}

int uplink_wait_acked(struct uplink *u, uint64_t seq, uint32_t timeout_ms)
{
    struct timespec ts;
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&u->mu);
    while (u->st.acked_seq < seq && rc == 0)
        rc = pthread_cond_timedwait(&u->cv, &u->mu, &ts);
    rc = u->st.acked_seq >= seq ? 0 : -ETIMEDOUT;
    pthread_mutex_unlock(&u->mu);
    return rc;
}

/* ---- the thread ----------------------------------------------------------------------------- */

/* Sends one frame without blocking: 0, or -EAGAIN when no connection can take it. */
static int uplink_send(struct uplink *u, const struct wire_buf *b)
{
    if (zmq_send(u->sock, b->p, b->len, ZMQ_DONTWAIT) < 0)
        return -errno;
    return 0;
}

/* Forget what is in flight: the next batch starts right after the last ACK. */
static void uplink_rewind(struct uplink *u)
{
    u->sent_upto = u->acked;
    u->win_head = u->win_len = 0;
    u->inflight = 0;
    u->wb_ready = false;
    u->progress_ms = uplink_now_ms();
}

static int uplink_send_hello(struct uplink *u)
{
    struct spool_stats ss;
    struct wire_hello h;
    struct wire_buf b;
    int rc;

    spool_get_stats(u->sp, &ss);
    memset(&h, 0, sizeof(h));
    h.next_seq = ss.next_seq;
    h.acked_seq = ss.acked_seq;
    h.spool_bytes = ss.bytes;
    h.spool_alerts = ss.pending;
    memcpy(h.software, u->software, sizeof(h.software));
    memcpy(h.firmware, u->firmware, sizeof(h.firmware));
    memcpy(h.ruleset, u->ruleset, sizeof(h.ruleset));
    snprintf(h.schema, sizeof(h.schema), "%s", WIRE_SCHEMA);
    wire_buf_init(&b);
    if ((rc = wire_encode_hello(&b, &h)) == 0)
        rc = uplink_send(u, &b);
    wire_buf_fini(&b);
    return rc;
}

static int uplink_send_stats(struct uplink *u)
{
    struct wire_stats *ws = calloc(1, sizeof(*ws));
    struct spool_stats ss;
    struct uplink_stats us;
    struct wire_buf b;
    uint64_t set = atomic_load(&u->counters_set);
    int rc;

    if (ws == NULL)
        return -ENOMEM;
    spool_get_stats(u->sp, &ss);
    uplink_get_stats(u, &us);
    ws->uptime = (uplink_now_ms() - u->start_ms) / 1000u;
    for (unsigned i = 1; i < UPLINK_MAX_COUNTER; i++)
        if ((set & (1ull << i)) != 0)
            ws->c[ws->n++] = (struct wire_counter_val){
                .id = (uint16_t)i,
                .value = atomic_load_explicit(&u->counters[i], memory_order_relaxed)};
    ws->c[ws->n++] = (struct wire_counter_val){WC_SPOOL_BYTES, ss.bytes};
    ws->c[ws->n++] = (struct wire_counter_val){WC_SPOOL_ALERTS, ss.pending};
    ws->c[ws->n++] = (struct wire_counter_val){WC_SPOOL_DROPPED, ss.dropped_full};
    ws->c[ws->n++] = (struct wire_counter_val){WC_UPLINK_SENT, us.alerts_sent};
    ws->c[ws->n++] = (struct wire_counter_val){WC_UPLINK_ACKED, us.acked_seq};
    wire_buf_init(&b);
    if ((rc = wire_encode_stats(&b, ws)) == 0)
        rc = uplink_send(u, &b);
    wire_buf_fini(&b);
    free(ws);
    return rc;
}

static int uplink_add_record(void *arg, uint64_t seq, const uint8_t *data, uint32_t len)
{
    struct uplink *u = arg;

    if (wire_alerts_add(&u->wb, seq, data, len) != 0)
        return 1; /* full: the record goes into the next batch */
    u->wb_last = seq;
    u->wb_count++;
    return 0;
}

/* Builds and sends batches while the window has room.  Returns true when it
 * sent something. */
static bool uplink_fill_window(struct uplink *u)
{
    bool sent = false;

    while (u->win_len < u->max_batches && u->inflight < u->max_alerts) {
        if (!u->wb_ready) {
            uint32_t room = u->max_alerts - u->inflight;
            int n;

            if (wire_alerts_begin(&u->wb) != 0)
                break;
            u->wb_count = 0;
            n = spool_read(u->sp, u->sent_upto, room < WIRE_MAX_BATCH ? room : WIRE_MAX_BATCH,
                           UPLINK_BATCH_BYTES, uplink_add_record, u);
            if (n < 0) {
                uint64_t now = uplink_now_ms();
                pthread_mutex_lock(&u->mu);
                u->st.spool_errors++;
                pthread_mutex_unlock(&u->mu);
                if (u->last_spool_warn_ms == 0 ||
                    now - u->last_spool_warn_ms >= UPLINK_WARN_EVERY_MS) {
                    u->last_spool_warn_ms = now;
                    log_warnx("uplink: cannot read the spool after sequence %" PRIu64 ": %s",
                              u->sent_upto, kanshi_strerror(n));
                }
                break;
            }
            if (u->wb_count == 0 || wire_alerts_end(&u->wb) != 0)
                break;
            u->wb_ready = true;
        }
        if (uplink_send(u, &u->wb) != 0)
            break; /* not connected after all (EAGAIN); the batch waits in wb */
        if (u->win_len == 0)
            u->progress_ms = uplink_now_ms();
        u->win[(u->win_head + u->win_len) % UPLINK_MAX_WINDOW] =
            (struct uplink_batch){.last = u->wb_last, .count = u->wb_count};
        u->win_len++;
        u->inflight += u->wb_count;
        u->sent_upto = u->wb_last;
        u->wb_ready = false;
        sent = true;
        pthread_mutex_lock(&u->mu);
        u->st.batches_sent++;
        u->st.alerts_sent += u->wb_count;
        pthread_mutex_unlock(&u->mu);
    }
    return sent;
}

/* The collector holds more than this spool ever numbered (or the numbering
 * was unconfirmed): spool_advance() renumbers.  Returns true when the ACK
 * has been dealt with here. */
static bool uplink_advance(struct uplink *u, uint64_t seq)
{
    struct spool_stats before, after;
    uint64_t now;
    int rc;

    spool_get_stats(u->sp, &before);
    rc = spool_advance(u->sp, seq);
    if (rc == 0)
        return false;
    now = uplink_now_ms();
    if (rc < 0) {
        /* Sending now could have alerts taken for duplicates: wait for the
         * next HELLO's answer and try again. */
        pthread_mutex_lock(&u->mu);
        u->st.spool_errors++;
        pthread_mutex_unlock(&u->mu);
        log_warnx("uplink: the collector holds sequences up to %" PRIu64 " for this sensor; "
                  "cannot renumber the spool after it: %s; sending nothing until it can",
                  seq, kanshi_strerror(rc));
        u->await_hello = true;
        u->hello_sent_ms = now;
        return true;
    }
    spool_get_stats(u->sp, &after);
    if (u->last_renumber_warn_ms == 0 || now - u->last_renumber_warn_ms >= UPLINK_WARN_EVERY_MS) {
        u->last_renumber_warn_ms = now;
        log_warnx("uplink: the collector already holds sequences up to %" PRIu64 " for this "
                  "sensor's key, but this spool %s (was the spool reset or restored, or does "
                  "another sensor use this key?); renumbered its %" PRIu64 " unacknowledged "
                  "alert(s) to follow, next sequence %" PRIu64 " (was %" PRIu64 ")",
                  seq,
                  before.confirmed ? "never numbered beyond that"
                                   : "has no acknowledged numbering of its own",
                  after.pending, after.next_seq, before.next_seq);
    }
    /* Whatever was in flight carried the old numbers: start again from the
     * new ack, after telling the collector the new numbering. */
    u->acked = seq;
    uplink_rewind(u);
    u->need_hello = true;
    u->await_hello = false;
    pthread_mutex_lock(&u->mu);
    u->st.acked_seq = seq;
    u->st.renumbered++;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
    return true;
}

static void uplink_on_ack(struct uplink *u, uint64_t seq)
{
    int rc;

    if (uplink_advance(u, seq))
        return;
    u->await_hello = false; /* the answer to HELLO: the numbering stands */
    if (seq <= u->acked)
        return;
    u->acked = seq;
    if (u->sent_upto < seq)
        u->sent_upto = seq; /* the collector had them already */
    while (u->win_len > 0 && u->win[u->win_head].last <= seq) {
        u->inflight -= u->win[u->win_head].count;
        u->win_head = (u->win_head + 1) % UPLINK_MAX_WINDOW;
        u->win_len--;
    }
    if (u->win_len == 0)
        u->inflight = 0;
    u->progress_ms = uplink_now_ms();
    rc = spool_ack(u->sp, seq);
    pthread_mutex_lock(&u->mu);
    if (rc != 0)
        u->st.spool_errors++;
    u->st.acked_seq = seq;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
    if (rc != 0)
        log_warnx("uplink: spool: cannot record ack %" PRIu64 ": %s", seq, kanshi_strerror(rc));
}

/* ---- bundles ------------------------------------------------------------------------------- */

static void uplink_reject_frame(struct uplink *u, const char *why)
{
    pthread_mutex_lock(&u->mu);
    u->st.frames_rejected++;
    pthread_mutex_unlock(&u->mu);
    log_debug("uplink: ignored a frame from the collector: %s", why);
}

static void uplink_send_result(struct uplink *u, uint64_t version, bool applied,
                               const char *reason)
{
    struct wire_result *r = calloc(1, sizeof(*r));
    struct wire_buf b;

    if (r == NULL)
        return;
    r->version = version;
    r->status = applied ? WIRE_RESULT_APPLIED : WIRE_RESULT_REJECTED;
    /* One line of printable text, cut to what the wire carries. */
    for (size_t i = 0, j = 0; reason != NULL && reason[i] != '\0' && j < WIRE_MAX_REASON; i++) {
        unsigned char ch = (unsigned char)reason[i];
        if (ch == '\n' && reason[i + 1] == '\0')
            break;
        r->reason[j++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    if (applied)
        log_info("uplink: bundle %" PRIu64 " applied%s%s", version, r->reason[0] ? ": " : "",
                 r->reason);
    else
        log_warnx("uplink: bundle %" PRIu64 " rejected: %s", version, r->reason);
    wire_buf_init(&b);
    if (u->connected && wire_encode_result(&b, r) == 0 && uplink_send(u, &b) == 0) {
        pthread_mutex_lock(&u->mu);
        u->st.bundle_results++;
        pthread_mutex_unlock(&u->mu);
    }
    /* Not sent: the collector offers the bundle again at the next HELLO and
     * the answer is worked out again from what is on disk. */
    wire_buf_fini(&b);
    free(r);
}

static void uplink_send_fetch(struct uplink *u)
{
    struct wire_fetch f = {.version = u->dl.version, .offset = u->dl.got};
    struct wire_buf b;

    wire_buf_init(&b);
    if (wire_encode_fetch(&b, &f) == 0 && uplink_send(u, &b) == 0) {
        u->dl.fetch_out = true;
        u->dl.fetch_ms = uplink_now_ms();
    }
    wire_buf_fini(&b);
}

static void uplink_part_path(const struct uplink *u, uint64_t version, char *buf, size_t len)
{
    snprintf(buf, len, "%s/.partial/%" PRIu64 ".part", u->bundle_dir, version);
}

/* NAME in the drop directory for version, with suffix. */
static void uplink_drop_path(const struct uplink *u, uint64_t version, const char *suffix,
                             char *buf, size_t len)
{
    snprintf(buf, len, "%s/uplink-%" PRIu64 ".bundle%s", u->incoming, version, suffix);
}

/* Stops fetching; with remove, the partial file goes too. */
static void uplink_dl_stop(struct uplink *u, bool remove)
{
    char part[UPLINK_PATH_MAX + 64];

    if (u->dl.fd >= 0)
        close(u->dl.fd);
    u->dl.fd = -1;
    if (remove && u->dl.active) {
        uplink_part_path(u, u->dl.version, part, sizeof(part));
        unlink(part);
    }
    u->dl.active = false;
    u->dl.fetch_out = false;
}

/* Reads the reason of a refused bundle (the main loop writes it whole,
 * then a newline).  1 with the reason, 0 when not (yet) there. */
static int uplink_read_reason(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    ssize_t n;

    if (fd < 0)
        return 0;
    n = read(fd, buf, len - 1);
    close(fd);
    if (n <= 0 || buf[n - 1] != '\n')
        return 0;
    buf[n - 1] = '\0';
    return 1;
}

/* The version of the sensor's bundle store; false when it cannot be read. */
static bool uplink_store_version(struct uplink *u, uint64_t *v)
{
    char err[256];

    if (bundle_state_read(u->bundle_dir, v, err, sizeof(err)) != 0) {
        log_warnx("uplink: bundle store: %s", err);
        return false;
    }
    return true;
}

/* Copies the fetched file (fd, size bytes) into the drop directory as a
 * dot-file, then renames it to a name the main loop picks up.  0 or -errno. */
static int uplink_hand_over(struct uplink *u, char *err, size_t errlen)
{
    char tmp[UPLINK_PATH_MAX + 64], dst[UPLINK_PATH_MAX + 64];
    uint8_t buf[65536];
    uint64_t off = 0;
    int out, rc = 0;

    snprintf(tmp, sizeof(tmp), "%s/.uplink-%" PRIu64 ".tmp", u->incoming, u->dl.version);
    uplink_drop_path(u, u->dl.version, "", dst, sizeof(dst));
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (out < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", tmp, strerror(-rc));
        return rc;
    }
    while (rc == 0 && off < u->dl.size) {
        size_t want = u->dl.size - off < sizeof(buf) ? (size_t)(u->dl.size - off) : sizeof(buf);
        ssize_t n = pread(u->dl.fd, buf, want, (off_t)off);
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            break;
        }
        for (ssize_t w = 0; w < n;) {
            ssize_t k = write(out, buf + w, (size_t)(n - w));
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0) {
                rc = -errno;
                break;
            }
            w += k;
        }
        off += (uint64_t)n;
    }
    if (rc == 0 && fsync(out) != 0)
        rc = -errno;
    if (close(out) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, dst) != 0)
        rc = -errno;
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", dst, strerror(-rc));
        unlink(tmp);
    }
    return rc;
}

/* The last byte is in: check the SHA-256, hand the file over. */
static void uplink_dl_finish(struct uplink *u)
{
    crypto_hash_sha256_state h;
    uint8_t buf[65536], sum[WIRE_SHA256_LEN];
    uint64_t off = 0, version = u->dl.version;
    char err[UPLINK_PATH_MAX + 128];

    crypto_hash_sha256_init(&h);
    while (off < u->dl.size) {
        size_t want = u->dl.size - off < sizeof(buf) ? (size_t)(u->dl.size - off) : sizeof(buf);
        ssize_t n = pread(u->dl.fd, buf, want, (off_t)off);
        if (n <= 0)
            break;
        crypto_hash_sha256_update(&h, buf, (unsigned long long)n);
        off += (uint64_t)n;
    }
    crypto_hash_sha256_final(&h, sum);
    if (off != u->dl.size || sodium_memcmp(sum, u->dl.sha256, sizeof(sum)) != 0) {
        uplink_dl_stop(u, true);
        uplink_send_result(u, version, false,
                           "corrupt: the fetched bundle does not match the SHA-256 of the offer");
        return;
    }
    if (uplink_hand_over(u, err, sizeof(err)) != 0) {
        uplink_dl_stop(u, false);
        uplink_send_result(u, version, false, err);
        return;
    }
    log_info("uplink: bundle %" PRIu64 " fetched (%" PRIu64 " bytes), handed to %s", version,
             u->dl.size, u->incoming);
    uplink_dl_stop(u, true);
    u->dl.handed = true;
    u->dl.version = version;
    u->dl.poll_ms = 0;
}

static void uplink_on_offer(struct uplink *u, const uint8_t *body, size_t blen)
{
    struct wire_offer o;
    char path[UPLINK_PATH_MAX + 64], reason[UPLINK_PATH_MAX + WIRE_MAX_REASON + 128];
    struct stat sb;
    uint64_t cur;
    int rc;

    if ((rc = wire_decode_offer(body, blen, &o)) != 0) {
        uplink_reject_frame(u, wire_strerror(rc));
        return;
    }
    if (strcmp(o.kind, "rules") != 0) {
        snprintf(reason, sizeof(reason),
                 "wrong-kind: this sensor applies \"rules\" bundles, not \"%s\"", o.kind);
        uplink_send_result(u, o.version, false, reason);
        return;
    }
    if (!uplink_store_version(u, &cur))
        return;
    if (o.version <= cur) {
        if (o.version == cur) {
            uplink_send_result(u, o.version, true, "already applied");
        } else {
            snprintf(reason, sizeof(reason),
                     "rollback: version %" PRIu64 " is not above the applied version %" PRIu64,
                     o.version, cur);
            uplink_send_result(u, o.version, false, reason);
        }
        return;
    }
    uplink_drop_path(u, o.version, ".rejected.reason", path, sizeof(path));
    if (uplink_read_reason(path, reason, sizeof(reason)) == 1) {
        uplink_send_result(u, o.version, false, reason);
        return;
    }
    uplink_drop_path(u, o.version, "", path, sizeof(path));
    if (stat(path, &sb) == 0 || (u->dl.handed && u->dl.version == o.version)) {
        u->dl.handed = true; /* handed before (a restart?): wait for the outcome */
        u->dl.version = o.version;
        return;
    }
    if (o.size > BUNDLE_APPLY_MAX_FILE) {
        snprintf(reason, sizeof(reason), "bad-bundle: %" PRIu64 " bytes, over the limit of %zu",
                 o.size, BUNDLE_APPLY_MAX_FILE);
        uplink_send_result(u, o.version, false, reason);
        return;
    }
    if (u->dl.active && u->dl.version == o.version) {
        /* Offered again (a reconnect): resume where the file stops. */
        log_info("uplink: bundle %" PRIu64 " offered again (%" PRIu64 " bytes); resuming at "
                 "byte %" PRIu64,
                 o.version, u->dl.size, u->dl.got);
        uplink_send_fetch(u);
        return;
    }
    if (u->dl.active && u->dl.version > o.version)
        return; /* a newer one is on its way */
    if (u->dl.active)
        uplink_dl_stop(u, true); /* superseded */
    u->dl.handed = false;

    mkdir(u->bundle_dir, 0750);
    snprintf(path, sizeof(path), "%s/.partial", u->bundle_dir);
    mkdir(path, 0750);
    uplink_part_path(u, o.version, path, sizeof(path));
    u->dl.fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (u->dl.fd < 0 || fstat(u->dl.fd, &sb) != 0) {
        snprintf(reason, sizeof(reason), "store: %s: %s", path, strerror(errno));
        if (u->dl.fd >= 0)
            close(u->dl.fd);
        u->dl.fd = -1;
        uplink_send_result(u, o.version, false, reason);
        return;
    }
    u->dl.active = true;
    u->dl.version = o.version;
    u->dl.size = o.size;
    memcpy(u->dl.sha256, o.sha256, sizeof(u->dl.sha256));
    u->dl.got = (uint64_t)sb.st_size;
    if (u->dl.got > o.size && ftruncate(u->dl.fd, 0) == 0)
        u->dl.got = 0;
    if (u->dl.got > 0)
        log_info("uplink: bundle %" PRIu64 " offered (%" PRIu64 " bytes); resuming at byte "
                 "%" PRIu64 " from %s",
                 o.version, o.size, u->dl.got, path);
    else
        log_info("uplink: bundle %" PRIu64 " offered (%" PRIu64 " bytes)", o.version, o.size);
    if (u->dl.got == o.size)
        uplink_dl_finish(u);
    else
        uplink_send_fetch(u);
}

static void uplink_on_chunk(struct uplink *u, const uint8_t *body, size_t blen)
{
    struct wire_chunk c;
    char reason[256];
    int rc;

    if ((rc = wire_decode_chunk(body, blen, &c)) != 0) {
        uplink_reject_frame(u, wire_strerror(rc));
        return;
    }
    if (!u->dl.active || c.version != u->dl.version || c.offset != u->dl.got ||
        c.len > u->dl.size - u->dl.got) {
        uplink_reject_frame(u, "CHUNK not asked for");
        return;
    }
    for (uint32_t w = 0; w < c.len;) {
        ssize_t n = pwrite(u->dl.fd, c.data + w, c.len - w, (off_t)(c.offset + w));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            uint64_t v = u->dl.version;
            snprintf(reason, sizeof(reason), "store: writing the bundle: %s", strerror(errno));
            uplink_dl_stop(u, true);
            uplink_send_result(u, v, false, reason);
            return;
        }
        w += (uint32_t)n;
    }
    u->dl.got += c.len;
    u->dl.fetch_out = false;
    pthread_mutex_lock(&u->mu);
    u->st.bundle_chunks++;
    pthread_mutex_unlock(&u->mu);
    if (u->dl.got == u->dl.size)
        uplink_dl_finish(u);
    else
        uplink_send_fetch(u);
}

/* A bundle in the drop directory: has the main loop applied or refused it? */
static void uplink_bundle_poll(struct uplink *u, uint64_t now)
{
    char path[UPLINK_PATH_MAX + 64], reason[WIRE_MAX_REASON + 64];
    struct stat sb;
    uint64_t v = u->dl.version, cur;

    if (u->dl.active && u->dl.fetch_out && u->connected &&
        now - u->dl.fetch_ms >= u->ack_timeout_ms)
        uplink_send_fetch(u); /* the CHUNK was lost */
    if (!u->dl.handed || now - u->dl.poll_ms < UPLINK_BUNDLE_POLL_MS)
        return;
    u->dl.poll_ms = now;
    uplink_drop_path(u, v, ".rejected.reason", path, sizeof(path));
    if (uplink_read_reason(path, reason, sizeof(reason)) == 1) {
        u->dl.handed = false;
        uplink_send_result(u, v, false, reason);
        return;
    }
    uplink_drop_path(u, v, ".rejected", path, sizeof(path));
    if (stat(path, &sb) == 0)
        return; /* the reason is being written */
    uplink_drop_path(u, v, "", path, sizeof(path));
    if (stat(path, &sb) == 0 || !uplink_store_version(u, &cur))
        return; /* not taken yet */
    u->dl.handed = false;
    if (cur >= v) {
        snprintf(u->ruleset, sizeof(u->ruleset), "bundle-%" PRIu64, cur);
        uplink_send_result(u, v, true, "");
    } else {
        uplink_send_result(u, v, false, "store: the sensor took the bundle but did not record "
                                        "it as applied");
    }
}

static void uplink_recv(struct uplink *u)
{
    for (;;) {
        zmq_msg_t m;
        enum wire_type type;
        const uint8_t *body;
        size_t blen;
        uint64_t seq;
        int rc;

        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, u->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        rc = wire_decode_header(zmq_msg_data(&m), zmq_msg_size(&m), &type, &body, &blen);
        if (rc == 0 && type == WIRE_ACK && (rc = wire_decode_ack(body, blen, &seq)) == 0)
            uplink_on_ack(u, seq);
        else if (rc == 0 && type == WIRE_OFFER && u->bundles)
            uplink_on_offer(u, body, blen);
        else if (rc == 0 && type == WIRE_CHUNK && u->bundles)
            uplink_on_chunk(u, body, blen);
        else {
            pthread_mutex_lock(&u->mu);
            u->st.frames_rejected++;
            pthread_mutex_unlock(&u->mu);
            log_debug("uplink: ignored a frame from the collector: %s",
                      rc != 0 ? wire_strerror(rc) : "unexpected type");
        }
        zmq_msg_close(&m);
    }
}

static void uplink_event(struct uplink *u)
{
    for (;;) {
        zmq_msg_t m;
        uint16_t event = 0;
        uint32_t value = 0;
        int more;

        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, u->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        if (zmq_msg_size(&m) >= 6) {
            memcpy(&event, zmq_msg_data(&m), 2);
            memcpy(&value, (uint8_t *)zmq_msg_data(&m) + 2, 4);
        }
        more = zmq_msg_more(&m);
        zmq_msg_close(&m);
        while (more) { /* the endpoint frame */
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, u->mon, 0) < 0)
                more = 0;
            else
                more = zmq_msg_more(&m);
            zmq_msg_close(&m);
        }

        switch (event) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            log_info("uplink: connected to %s", u->endpoint);
            u->connected = true;
            u->need_hello = true;
            u->next_stats_ms = uplink_now_ms();
            uplink_rewind(u);
            pthread_mutex_lock(&u->mu);
            u->st.connects++;
            u->st.connected = 1;
            pthread_mutex_unlock(&u->mu);
            break;
        case ZMQ_EVENT_DISCONNECTED:
            if (u->connected)
                log_warnx("uplink: connection to %s lost; alerts stay in the spool", u->endpoint);
            pthread_mutex_lock(&u->mu);
            if (u->connected)
                u->st.disconnects++;
            u->st.connected = 0;
            pthread_mutex_unlock(&u->mu);
            u->connected = false;
            u->dl.fetch_out = false; /* resumed when the collector offers it again */
            uplink_rewind(u);
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: {
            uint64_t now = uplink_now_ms();
            pthread_mutex_lock(&u->mu);
            u->st.auth_failures++;
            pthread_mutex_unlock(&u->mu);
            if (u->last_auth_warn_ms == 0 || now - u->last_auth_warn_ms >= UPLINK_WARN_EVERY_MS) {
                u->last_auth_warn_ms = now;
                log_warnx("uplink: handshake with %s failed (%s %u): is this sensor enrolled "
                          "and the collector key right?",
                          u->endpoint,
                          event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? "ZAP status" : "error",
                          value);
            }
            break;
        }
        default:
            break;
        }
    }
}

static void *uplink_main(void *arg)
{
    struct uplink *u = arg;
    struct spool_stats ss;

    spool_get_stats(u->sp, &ss);
    u->acked = ss.acked_seq;
    u->start_ms = uplink_now_ms();
    pthread_mutex_lock(&u->mu);
    u->st.acked_seq = u->acked;
    pthread_mutex_unlock(&u->mu);
    uplink_rewind(u);

    while (!atomic_load(&u->stop)) {
        zmq_pollitem_t items[2] = {
            {.socket = u->sock, .events = ZMQ_POLLIN},
            {.socket = u->mon, .events = ZMQ_POLLIN},
        };
        bool window_open = u->connected && !u->await_hello && u->win_len < u->max_batches &&
                           u->inflight < u->max_alerts;
        /* With room in the window, look at the spool often: that is the
         * latency of an alert when the link is idle. */
        long timeout = window_open ? 10 : 100;
        uint64_t now;

        if (zmq_poll(items, 2, timeout) < 0 && errno != EINTR) {
            log_warnx("uplink: zmq_poll: %s", zmq_strerror(errno));
            break;
        }
        if (items[1].revents & ZMQ_POLLIN)
            uplink_event(u);
        if (items[0].revents & ZMQ_POLLIN)
            uplink_recv(u);
        if (u->bundles)
            uplink_bundle_poll(u, uplink_now_ms());
        if (!u->connected)
            continue;
        now = uplink_now_ms();
        if (u->need_hello) {
            if (uplink_send_hello(u) != 0)
                continue; /* pipe not attached yet: try again shortly */
            u->need_hello = false;
            u->await_hello = true;
            u->hello_sent_ms = now;
        }
        if (u->await_hello) {
            if (now - u->hello_sent_ms >= u->ack_timeout_ms) {
                log_info("uplink: no answer to HELLO for %u ms; sending it again",
                         u->ack_timeout_ms);
                u->need_hello = true;
            }
            goto stats; /* no alerts before the answer */
        }
        if (u->win_len > 0 && now - u->progress_ms >= u->ack_timeout_ms) {
            log_info("uplink: no ACK for %u ms; resending from sequence %" PRIu64,
                     u->ack_timeout_ms, u->acked + 1);
            uplink_rewind(u);
            pthread_mutex_lock(&u->mu);
            u->st.resends++;
            pthread_mutex_unlock(&u->mu);
        }
        uplink_fill_window(u);
    stats:
        if (now >= u->next_stats_ms) {
            if (uplink_send_stats(u) == 0)
                u->next_stats_ms = now + u->stats_interval_ms;
        }
    }
    /* A last heartbeat with the final counters; give it a moment to leave. */
    if (u->connected && uplink_send_stats(u) == 0)
        uplink_setopt_int(u->sock, ZMQ_LINGER, 500);
    return NULL;
}
