/*
 * uplink_test.c — the sensor's uplink (sensor/uplink.c) against a real
 * ZeroMQ ROUTER with CURVE and a ZAP handler on loopback, standing in for the
 * collector: it stores alerts in sequence, ignores what it already has and
 * ACKs what it stored.  Covers delivery in order down to an empty spool, the
 * collector going away and coming back, a wrong collector key, a sensor the
 * ZAP handler refuses, the key files, and the time to push 100,000 alerts;
 * and the numbering: nothing is sent before the collector answered HELLO,
 * and a collector that holds more than the spool ever numbered (a reset
 * spool, a clone of the sensor) makes it renumber instead of losing alerts.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "kanshi/config.h"
#include "kanshi/kanshi.h"
#include "kanshi/spool.h"
#include "kanshi/uplink.h"
#include "kanshi/wire.h"
#include "test.h"

static char tmpdir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static const char *mktemp_dir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/kanshi-uplink-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    return tmpdir;
}

static void rm_dir(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An EVE-like alert of about len bytes whose content follows from seq. */
static uint32_t make_alert(uint64_t seq, char *buf, uint32_t len)
{
    int n = snprintf(buf, len,
                     "{\"timestamp\":\"2024-04-01T10:00:00.000000+0000\",\"event_type\":\"alert\","
                     "\"seq\":%llu,\"pad\":\"",
                     (unsigned long long)seq);
    uint32_t i = (uint32_t)n;
    for (; i + 2 < len; i++)
        buf[i] = (char)('a' + (seq * 7 + i) % 26);
    buf[i++] = '"';
    buf[i++] = '}';
    return i;
}

/* ---- the stand-in collector ---------------------------------------------------------------- */

struct server {
    void *ctx, *router, *zap;
    pthread_t zap_thread;
    atomic_bool zap_stop;
    char pub[41], sec[41];
    char allowed[41]; /* the one client key the ZAP handler admits */
    int port;
    char endpoint[64];
    /* The "store": survives a restart, like the collector's database. */
    uint64_t stored;   /* every sequence up to this one is stored */
    uint64_t dups, gaps, bad_content, rejected;
    uint64_t hellos, stats_msgs, batches;
    struct wire_hello last_hello;
    struct wire_stats last_stats;
    uint32_t alert_len; /* expected alert size, 0: do not check content */
    uint64_t zap_denied;
    bool hello_silent; /* do not answer HELLO */
    /* Another sensor with the same key: when a batch starting above
     * clone_at arrives, the store already holds up to clone_to. */
    uint64_t clone_at, clone_to;
    /* Which alerts (by the sensor's own "seq" in the content, its number at
     * spooling time) were stored, and how many were stored twice. */
    uint8_t *seen;
    uint64_t seen_max, seen_n, seen_twice;
};

static void server_ack(struct server *s, zmq_msg_t *id)
{
    struct wire_buf b;

    wire_buf_init(&b);
    wire_encode_ack(&b, s->stored);
    zmq_send(s->router, zmq_msg_data(id), zmq_msg_size(id), ZMQ_SNDMORE);
    zmq_send(s->router, b.p, b.len, 0);
    wire_buf_fini(&b);
}

/* Notes the original number make_alert() put into a stored alert. */
static void server_seen(struct server *s, const struct wire_alert *a)
{
    char buf[128];
    const char *p;
    unsigned long long v;

    if (s->seen == NULL)
        return;
    snprintf(buf, sizeof(buf), "%.*s", a->len < 127 ? (int)a->len : 127, (const char *)a->data);
    if ((p = strstr(buf, "\"seq\":")) == NULL || (v = strtoull(p + 6, NULL, 10)) == 0 ||
        v > s->seen_max) {
        s->bad_content++;
        return;
    }
    if (s->seen[v]++ > 0)
        s->seen_twice++;
    else
        s->seen_n++;
}

static void *zap_main(void *arg)
{
    struct server *s = arg;

    while (!atomic_load(&s->zap_stop)) {
        zmq_pollitem_t it = {.socket = s->zap, .events = ZMQ_POLLIN};
        zmq_msg_t part[7];
        int n = 0, more = 1;
        char key[41] = "";
        bool ok;

        if (zmq_poll(&it, 1, 50) <= 0)
            continue;
        while (more && n < 7) {
            zmq_msg_init(&part[n]);
            if (zmq_msg_recv(&part[n], s->zap, 0) < 0)
                break;
            more = zmq_msg_more(&part[n]);
            n++;
        }
        /* version, request id, domain, address, identity, mechanism, key */
        ok = n == 7 && zmq_msg_size(&part[6]) == 32;
        if (ok)
            zmq_z85_encode(key, zmq_msg_data(&part[6]), 32);
        ok = ok && strcmp(key, s->allowed) == 0;
        if (!ok)
            s->zap_denied++;
        if (n >= 2) {
            zmq_send(s->zap, "1.0", 3, ZMQ_SNDMORE);
            zmq_send(s->zap, zmq_msg_data(&part[1]), zmq_msg_size(&part[1]), ZMQ_SNDMORE);
            zmq_send(s->zap, ok ? "200" : "400", 3, ZMQ_SNDMORE);
            zmq_send(s->zap, ok ? "OK" : "not enrolled", ok ? 2 : 12, ZMQ_SNDMORE);
            zmq_send(s->zap, ok ? key : "", ok ? 40 : 0, ZMQ_SNDMORE);
            zmq_send(s->zap, "", 0, 0);
        }
        for (int i = 0; i < n; i++)
            zmq_msg_close(&part[i]);
    }
    return NULL;
}

/* Starts (or restarts, on the same port) the collector. */
static int server_start(struct server *s)
{
    int one = 1, zero = 0;
    size_t len = sizeof(s->endpoint);
    char bind[64];

    s->ctx = zmq_ctx_new();
    s->zap = zmq_socket(s->ctx, ZMQ_REP);
    if (zmq_bind(s->zap, "inproc://zeromq.zap.01") != 0)
        return -1;
    atomic_store(&s->zap_stop, false);
    pthread_create(&s->zap_thread, NULL, zap_main, s);
    s->router = zmq_socket(s->ctx, ZMQ_ROUTER);
    zmq_setsockopt(s->router, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(s->router, ZMQ_CURVE_SERVER, &one, sizeof(one));
    zmq_setsockopt(s->router, ZMQ_CURVE_SECRETKEY, s->sec, 40);
    zmq_setsockopt(s->router, ZMQ_ZAP_DOMAIN, "kanshi", 6);
    if (s->port == 0)
        snprintf(bind, sizeof(bind), "tcp://127.0.0.1:*");
    else
        snprintf(bind, sizeof(bind), "tcp://127.0.0.1:%d", s->port);
    for (int tries = 0; zmq_bind(s->router, bind) != 0; tries++) {
        if (tries > 100) {
            fprintf(stderr, "bind %s: %s\n", bind, zmq_strerror(errno));
            return -1;
        }
        usleep(20000);
    }
    zmq_getsockopt(s->router, ZMQ_LAST_ENDPOINT, s->endpoint, &len);
    s->port = atoi(strrchr(s->endpoint, ':') + 1);
    return 0;
}

static void server_stop(struct server *s)
{
    atomic_store(&s->zap_stop, true);
    pthread_join(s->zap_thread, NULL);
    zmq_close(s->zap);
    zmq_close(s->router);
    zmq_ctx_term(s->ctx);
    s->ctx = s->router = s->zap = NULL;
}

static void server_init(struct server *s)
{
    memset(s, 0, sizeof(*s));
    zmq_curve_keypair(s->pub, s->sec);
}

static void server_handle(struct server *s, zmq_msg_t *id, const uint8_t *p, size_t len)
{
    static struct wire_alert alerts[WIRE_MAX_BATCH];
    enum wire_type type;
    const uint8_t *body;
    size_t blen, n;
    int rc = wire_decode_header(p, len, &type, &body, &blen);

    if (rc != 0) {
        s->rejected++;
        return;
    }
    switch (type) {
    case WIRE_HELLO:
        if (wire_decode_hello(body, blen, &s->last_hello) != 0) {
            s->rejected++;
            return;
        }
        s->hellos++;
        /* As the collector does: say where the store stands. */
        if (!s->hello_silent)
            server_ack(s, id);
        return;
    case WIRE_STATS:
        if (wire_decode_stats(body, blen, &s->last_stats) != 0) {
            s->rejected++;
            return;
        }
        s->stats_msgs++;
        return;
    case WIRE_ALERTS:
        if (wire_decode_alerts(body, blen, alerts, WIRE_MAX_BATCH, &n) != 0) {
            s->rejected++;
            return;
        }
        s->batches++;
        if (s->clone_at != 0 && n > 0 && alerts[0].seq > s->clone_at) {
            if (s->stored < s->clone_to)
                s->stored = s->clone_to;
            s->clone_at = 0;
        }
        for (size_t i = 0; i < n; i++) {
            char want[4096];
            if (alerts[i].seq <= s->stored) {
                s->dups++;
                continue;
            }
            if (alerts[i].seq != s->stored + 1)
                s->gaps++;
            if (s->alert_len != 0 &&
                (alerts[i].len != s->alert_len ||
                 make_alert(alerts[i].seq, want, s->alert_len) != alerts[i].len ||
                 memcmp(want, alerts[i].data, alerts[i].len) != 0))
                s->bad_content++;
            server_seen(s, &alerts[i]);
            s->stored = alerts[i].seq;
        }
        /* "Stored durably": acknowledge. */
        server_ack(s, id);
        return;
    default:
        s->rejected++;
        return;
    }
}

/* Serves for up to ms milliseconds. */
static void server_pump(struct server *s, int ms)
{
    double end = now_s() + ms / 1000.0;

    do {
        zmq_pollitem_t it = {.socket = s->router, .events = ZMQ_POLLIN};
        if (zmq_poll(&it, 1, 5) <= 0)
            continue;
        for (;;) {
            zmq_msg_t id, m;
            zmq_msg_init(&id);
            if (zmq_msg_recv(&id, s->router, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&id);
                break;
            }
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, s->router, 0) >= 0)
                server_handle(s, &id, zmq_msg_data(&m), zmq_msg_size(&m));
            zmq_msg_close(&m);
            zmq_msg_close(&id);
        }
    } while (now_s() < end);
}

/* ---- the sensor side ----------------------------------------------------------------------- */

struct sensor {
    const char *dir;
    struct spool *sp;
    struct uplink *u;
    char pub[41], sec[41];
};

static int sensor_open(struct sensor *se, const char *dir)
{
    struct spool_config sc = {.dir = dir, .fsync = SPOOL_FSYNC_NEVER};
    char err[512];

    memset(se, 0, sizeof(*se));
    se->dir = dir;
    zmq_curve_keypair(se->pub, se->sec);
    if (spool_open(&se->sp, &sc, err, sizeof(err)) != 0) {
        fprintf(stderr, "spool_open: %s\n", err);
        return -1;
    }
    return 0;
}

static uint32_t test_ack_timeout_ms = 3000;

static int sensor_connect(struct sensor *se, const char *endpoint, const char *server_key)
{
    struct uplink_config uc = {
        .endpoint = endpoint,
        .server_key = server_key,
        .secret_key = se->sec,
        .public_key = se->pub,
        .software = KANSHI_VERSION,
        .firmware = "test-fw",
        .ruleset = "test-rules",
        .stats_interval_ms = 200,
        .ack_timeout_ms = test_ack_timeout_ms,
        .reconnect_ivl_ms = 20,
        .reconnect_max_ms = 200,
        .heartbeat_ivl_ms = 500,
    };
    char err[512];
    int rc = uplink_create(&se->u, &uc, se->sp, err, sizeof(err));

    if (rc != 0) {
        fprintf(stderr, "uplink_create: %s\n", err);
        return rc;
    }
    return uplink_start(se->u);
}

static void sensor_close(struct sensor *se)
{
    uplink_destroy(se->u);
    se->u = NULL;
    spool_close(se->sp);
    se->sp = NULL;
}

static int spool_alerts(struct sensor *se, uint64_t n, uint32_t len)
{
    char buf[4096];

    for (uint64_t i = 0; i < n; i++) {
        struct spool_stats st;
        uint64_t seq;
        spool_get_stats(se->sp, &st);
        make_alert(st.next_seq, buf, len);
        if (spool_append(se->sp, (const uint8_t *)buf, len, &seq) != 0)
            return -1;
    }
    return 0;
}

static uint64_t spool_pending(struct sensor *se)
{
    struct spool_stats st;
    spool_get_stats(se->sp, &st);
    return st.pending;
}

/* Pumps until the server stored want alerts and the sensor's spool is empty. */
static bool pump_until_delivered(struct server *srv, struct sensor *se, uint64_t want,
                                 double timeout)
{
    double end = now_s() + timeout;

    while (now_s() < end) {
        server_pump(srv, 10);
        if (srv->stored >= want && spool_pending(se) == 0)
            return true;
    }
    return false;
}

static int count_segments(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, "seg-", 4) == 0)
            n++;
    closedir(d);
    return n;
}

static uint64_t stats_value(const struct wire_stats *st, uint16_t id, bool *found)
{
    for (uint16_t i = 0; i < st->n; i++)
        if (st->c[i].id == id) {
            *found = true;
            return st->c[i].value;
        }
    *found = false;
    return 0;
}

/* ---- tests ---------------------------------------------------------------------------------- */

TEST(delivers_in_order_and_empties_spool)
{
    static struct server srv;
    struct sensor se;
    struct uplink_stats us;
    const char *dir = mktemp_dir();
    bool found;

    server_init(&srv);
    CHECK_INT(sensor_open(&se, dir), 0);
    memcpy(srv.allowed, se.pub, 41);
    srv.alert_len = 500;
    CHECK_INT(server_start(&srv), 0);
    CHECK_INT(spool_alerts(&se, 3000, 500), 0);
    CHECK_INT(sensor_connect(&se, srv.endpoint, srv.pub), 0);
    uplink_set_counter(se.u, WC_PACKETS, 123456789);
    uplink_set_counter(se.u, WC_SPOOL_BYTES, 1); /* the uplink's own: ignored */

    CHECK(pump_until_delivered(&srv, &se, 3000, 10));
    CHECK_INT(srv.stored, 3000);
    CHECK_INT(srv.gaps, 0);
    CHECK_INT(srv.bad_content, 0);
    CHECK_INT(srv.rejected, 0);
    CHECK(srv.hellos >= 1);
    CHECK_INT(srv.last_hello.next_seq, 3001);
    CHECK_STR(srv.last_hello.schema, WIRE_SCHEMA);
    CHECK_STR(srv.last_hello.software, KANSHI_VERSION);
    CHECK_STR(srv.last_hello.firmware, "test-fw");
    CHECK_STR(srv.last_hello.ruleset, "test-rules");
    CHECK(srv.batches >= 2); /* WIRE_MAX_BATCH per frame */
    CHECK_INT(count_segments(dir), 0);

    /* Alerts raised while connected go out as they come. */
    CHECK_INT(spool_alerts(&se, 10, 500), 0);
    CHECK(pump_until_delivered(&srv, &se, 3010, 5));
    CHECK_INT(srv.stored, 3010);

    /* The heartbeat carries the published counters and the spool's. */
    server_pump(&srv, 450);
    CHECK(srv.stats_msgs >= 1);
    CHECK(stats_value(&srv.last_stats, WC_PACKETS, &found) == 123456789 && found);
    CHECK_INT(stats_value(&srv.last_stats, WC_SPOOL_ALERTS, &found), 0);
    CHECK(found);
    CHECK_INT(stats_value(&srv.last_stats, WC_SPOOL_BYTES, &found), 0);
    CHECK_INT(stats_value(&srv.last_stats, WC_UPLINK_ACKED, &found), 3010);

    uplink_get_stats(se.u, &us);
    CHECK_INT(us.connected, 1);
    CHECK_INT(us.acked_seq, 3010);
    CHECK(us.alerts_sent >= 3010);
    CHECK_INT(uplink_wait_acked(se.u, 3010, 10), 0);
    CHECK_INT(uplink_wait_acked(se.u, 3011, 50), -ETIMEDOUT);
    sensor_close(&se);
    server_stop(&srv);
    rm_dir(dir);
}

TEST(collector_restart_loses_nothing)
{
    static struct server srv;
    struct sensor se;
    struct uplink_stats us;
    const char *dir = mktemp_dir();

    server_init(&srv);
    CHECK_INT(sensor_open(&se, dir), 0);
    memcpy(srv.allowed, se.pub, 41);
    srv.alert_len = 300;
    CHECK_INT(server_start(&srv), 0);
    CHECK_INT(spool_alerts(&se, 20000, 300), 0);
    CHECK_INT(sensor_connect(&se, srv.endpoint, srv.pub), 0);

    /* Take part of it, then go away in the middle of the stream. */
    for (double end = now_s() + 10; srv.stored < 5000 && now_s() < end;)
        server_pump(&srv, 1);
    CHECK(srv.stored >= 5000 && srv.stored < 20000);
    server_stop(&srv);

    /* The sensor keeps spooling while the collector is away. */
    CHECK_INT(spool_alerts(&se, 5000, 300), 0);
    usleep(400 * 1000);
    uplink_get_stats(se.u, &us);
    CHECK_INT(us.connected, 0);
    CHECK(spool_pending(&se) > 5000);

    CHECK_INT(server_start(&srv), 0);
    CHECK(pump_until_delivered(&srv, &se, 25000, 20));
    CHECK_INT(srv.stored, 25000);
    CHECK_INT(srv.gaps, 0);
    CHECK_INT(srv.bad_content, 0);
    CHECK(srv.hellos >= 2);
    uplink_get_stats(se.u, &us);
    CHECK(us.connects >= 2);
    CHECK(us.disconnects >= 1);
    CHECK_INT(us.acked_seq, 25000);
    CHECK_INT(count_segments(dir), 0);
    fprintf(stderr, "restart: %llu duplicates resent and ignored\n",
            (unsigned long long)srv.dups);
    sensor_close(&se);
    server_stop(&srv);
    rm_dir(dir);
}

TEST(wrong_server_key_delivers_nothing)
{
    static struct server srv;
    struct sensor se;
    struct uplink_stats us;
    char other_pub[41], other_sec[41];
    const char *dir = mktemp_dir();

    server_init(&srv);
    CHECK_INT(sensor_open(&se, dir), 0);
    memcpy(srv.allowed, se.pub, 41);
    CHECK_INT(server_start(&srv), 0);
    CHECK_INT(spool_alerts(&se, 100, 200), 0);
    /* Pinned to another collector's key: the handshake cannot complete. */
    zmq_curve_keypair(other_pub, other_sec);
    CHECK_INT(sensor_connect(&se, srv.endpoint, other_pub), 0);
    server_pump(&srv, 1500);
    CHECK_INT(srv.stored, 0);
    CHECK_INT(srv.hellos, 0);
    CHECK_INT(spool_pending(&se), 100);
    uplink_get_stats(se.u, &us);
    CHECK_INT(us.connected, 0);
    CHECK_INT(us.connects, 0);
    CHECK_INT(us.alerts_sent, 0);
    sensor_close(&se);

    /* And nothing is lost: with the right key everything arrives. */
    {
        struct spool_config sc = {.dir = dir, .fsync = SPOOL_FSYNC_NEVER};
        char err[256];
        CHECK_INT(spool_open(&se.sp, &sc, err, sizeof(err)), 0);
        CHECK_INT(spool_pending(&se), 100);
        CHECK_INT(sensor_connect(&se, srv.endpoint, srv.pub), 0);
        CHECK(pump_until_delivered(&srv, &se, 100, 10));
        CHECK_INT(srv.stored, 100);
        CHECK_INT(srv.gaps, 0);
        sensor_close(&se);
    }
    server_stop(&srv);
    rm_dir(dir);
}

TEST(unenrolled_sensor_refused)
{
    static struct server srv;
    struct sensor se;
    struct uplink_stats us;
    const char *dir = mktemp_dir();

    server_init(&srv);
    CHECK_INT(sensor_open(&se, dir), 0);
    strcpy(srv.allowed, "not-this-sensor");
    CHECK_INT(server_start(&srv), 0);
    CHECK_INT(spool_alerts(&se, 50, 200), 0);
    CHECK_INT(sensor_connect(&se, srv.endpoint, srv.pub), 0);
    server_pump(&srv, 1000);
    CHECK_INT(srv.stored, 0);
    CHECK(srv.zap_denied >= 1);
    CHECK_INT(spool_pending(&se), 50);
    uplink_get_stats(se.u, &us);
    CHECK_INT(us.connects, 0);
    CHECK(us.auth_failures >= 1);
    sensor_close(&se);
    server_stop(&srv);
    rm_dir(dir);
}

TEST(throughput_100k)
{
    static struct server srv;
    struct sensor se;
    const char *dir = mktemp_dir();
    double t0, t1, t2;

    server_init(&srv);
    CHECK_INT(sensor_open(&se, dir), 0);
    memcpy(srv.allowed, se.pub, 41);
    srv.alert_len = 600;
    CHECK_INT(server_start(&srv), 0);
    CHECK_INT(sensor_connect(&se, srv.endpoint, srv.pub), 0);
    /* Let the handshake finish so the figure is about moving alerts. */
    for (double end = now_s() + 5; srv.hellos == 0 && now_s() < end;)
        server_pump(&srv, 10);

    t0 = now_s();
    CHECK_INT(spool_alerts(&se, 100000, 600), 0);
    t1 = now_s();
    CHECK(pump_until_delivered(&srv, &se, 100000, 60));
    t2 = now_s();
    CHECK_INT(srv.stored, 100000);
    CHECK_INT(srv.gaps, 0);
    CHECK_INT(srv.bad_content, 0);
    fprintf(stderr,
            "throughput: 100000 alerts of 600 bytes: spooled in %.3f s, all stored and "
            "acknowledged after %.3f s (%.0f alerts/s), %llu batches\n",
            t1 - t0, t2 - t0, 100000 / (t2 - t0), (unsigned long long)srv.batches);
    sensor_close(&se);
    server_stop(&srv);
    rm_dir(dir);
}

/* ---- numbering ------------------------------------------------------------------------------ */

TEST(no_alerts_before_hello_answered)
{
    static struct server srv;
    struct sensor se;
    const char *dir = mktemp_dir();

    server_init(&srv);
    srv.hello_silent = true;
    srv.alert_len = 200;
    CHECK_INT(sensor_open(&se, dir), 0);
    memcpy(srv.allowed, se.pub, 41);
    CHECK_INT(server_start(&srv), 0);
    CHECK_INT(spool_alerts(&se, 100, 200), 0);
    test_ack_timeout_ms = 400;
    CHECK_INT(sensor_connect(&se, srv.endpoint, srv.pub), 0);
    test_ack_timeout_ms = 3000;
    /* Connected, HELLO sent, no answer: not one alert goes out... */
    server_pump(&srv, 1000);
    CHECK(srv.hellos >= 2); /* ...and HELLO is asked again */
    CHECK_INT(srv.batches, 0);
    CHECK_INT(spool_pending(&se), 100);
    /* Once the collector answers, everything follows. */
    srv.hello_silent = false;
    CHECK(pump_until_delivered(&srv, &se, 100, 10));
    CHECK_INT(srv.stored, 100);
    CHECK_INT(srv.dups, 0);
    CHECK_INT(srv.bad_content, 0);
    sensor_close(&se);
    server_stop(&srv);
    rm_dir(dir);
}

/* The known bug of a reset spool: the collector holds 1..1000 from the
 * sensor's previous disk; the new spool numbers from 1 again.  Without
 * renumbering, the collector's ACK of 1000 would delete the new alerts as
 * "acknowledged" and the collector would ignore them as duplicates. */
TEST(reset_spool_renumbers_after_collector)
{
    static struct server srv;
    static uint8_t seen[4096];
    struct sensor se;
    struct uplink_stats us;
    struct spool_stats st;
    const char *dir = mktemp_dir();
    char key_pub[41], key_sec[41];

    server_init(&srv);
    srv.stored = 1000; /* the old disk's alerts */
    srv.seen = seen;
    srv.seen_max = sizeof(seen) - 1;
    CHECK_INT(sensor_open(&se, dir), 0);
    memcpy(srv.allowed, se.pub, 41);
    memcpy(key_pub, se.pub, 41);
    memcpy(key_sec, se.sec, 41);
    CHECK_INT(server_start(&srv), 0);
    /* Spooled before the collector is reachable: numbered 1..300. */
    CHECK_INT(spool_alerts(&se, 300, 250), 0);
    spool_get_stats(se.sp, &st);
    CHECK_INT(st.next_seq, 301);
    CHECK_INT(st.confirmed, 0);
    CHECK_INT(sensor_connect(&se, srv.endpoint, srv.pub), 0);

    CHECK(pump_until_delivered(&srv, &se, 1300, 10));
    CHECK_INT(srv.stored, 1300);
    CHECK_INT(srv.dups, 0); /* nothing went out under the old numbers */
    CHECK_INT(srv.gaps, 0);
    CHECK_INT(srv.seen_n, 300);
    CHECK_INT(srv.seen_twice, 0);
    CHECK_INT(srv.bad_content, 0);
    CHECK_INT(srv.last_hello.next_seq, 1301); /* the new numbering, announced */
    uplink_get_stats(se.u, &us);
    CHECK_INT(us.renumbered, 1);
    CHECK_INT(us.acked_seq, 1300);
    spool_get_stats(se.sp, &st);
    CHECK_INT(st.next_seq, 1301);
    CHECK_INT(st.confirmed, 1);
    sensor_close(&se);

    /* The new numbering survives a restart: more alerts follow 1300. */
    {
        struct spool_config sc = {.dir = dir, .fsync = SPOOL_FSYNC_NEVER};
        char err[256];
        CHECK_INT(spool_open(&se.sp, &sc, err, sizeof(err)), 0);
        memcpy(se.pub, key_pub, 41);
        memcpy(se.sec, key_sec, 41);
        spool_get_stats(se.sp, &st);
        CHECK_INT(st.next_seq, 1301);
        CHECK_INT(st.acked_seq, 1300);
        CHECK_INT(spool_alerts(&se, 20, 250), 0);
        CHECK_INT(sensor_connect(&se, srv.endpoint, srv.pub), 0);
        CHECK(pump_until_delivered(&srv, &se, 1320, 10));
        CHECK_INT(srv.stored, 1320);
        CHECK_INT(srv.dups, 0);
        CHECK_INT(srv.seen_n, 320);
        uplink_get_stats(se.u, &us);
        CHECK_INT(us.renumbered, 0);
        sensor_close(&se);
    }
    server_stop(&srv);
    rm_dir(dir);
}

/* Mid-stream, the collector turns out to hold far more than this spool
 * numbered (another sensor with the same key, a restored old spool): the
 * batches in flight were ignored as duplicates; renumbering and resending
 * them still delivers each alert exactly once. */
TEST(ack_beyond_numbering_renumbers)
{
    static struct server srv;
    static uint8_t seen[8192];
    struct sensor se;
    struct uplink_stats us;
    const char *dir = mktemp_dir();

    server_init(&srv);
    srv.seen = seen;
    srv.seen_max = sizeof(seen) - 1;
    srv.clone_at = 2000;
    srv.clone_to = 50000;
    CHECK_INT(sensor_open(&se, dir), 0);
    memcpy(srv.allowed, se.pub, 41);
    CHECK_INT(server_start(&srv), 0);
    CHECK_INT(spool_alerts(&se, 6000, 200), 0);
    CHECK_INT(sensor_connect(&se, srv.endpoint, srv.pub), 0);
    for (double end = now_s() + 20; (srv.seen_n < 6000 || spool_pending(&se) > 0) && now_s() < end;)
        server_pump(&srv, 10);
    CHECK_INT(srv.seen_n, 6000);
    CHECK_INT(srv.seen_twice, 0);
    CHECK_INT(srv.bad_content, 0);
    CHECK(srv.dups > 0); /* the batches in flight at the jump */
    CHECK(srv.stored > 50000);
    CHECK_INT(spool_pending(&se), 0);
    uplink_get_stats(se.u, &us);
    CHECK(us.renumbered >= 1);
    CHECK_INT(us.acked_seq, srv.stored);
    sensor_close(&se);
    server_stop(&srv);
    rm_dir(dir);
}

TEST(key_files)
{
    const char *dir = mktemp_dir();
    char path[256], key[41], err[512], pub[41], sec[41];
    FILE *f;

    zmq_curve_keypair(pub, sec);
    snprintf(path, sizeof(path), "%s/sensor.key", dir);
    f = fopen(path, "w");
    fprintf(f, "%s\n", sec);
    fclose(f);

    chmod(path, 0640);
    CHECK_INT(uplink_read_key_file(path, 1, key, err, sizeof(err)), -EPERM);
    CHECK_CONTAINS(err, "accessible by group or others (mode 0640)");
    chmod(path, 0604);
    CHECK_INT(uplink_read_key_file(path, 1, key, err, sizeof(err)), -EPERM);
    chmod(path, 0600);
    CHECK_INT(uplink_read_key_file(path, 1, key, err, sizeof(err)), 0);
    CHECK_STR(key, sec);
    /* A public key may be world-readable. */
    chmod(path, 0644);
    CHECK_INT(uplink_read_key_file(path, 0, key, err, sizeof(err)), 0);

    f = fopen(path, "w");
    fprintf(f, "%.39s\n", sec);
    fclose(f);
    chmod(path, 0600);
    CHECK_INT(uplink_read_key_file(path, 1, key, err, sizeof(err)), -EINVAL);
    CHECK_CONTAINS(err, "40 characters of Z85");
    f = fopen(path, "w");
    fprintf(f, "%.39s~", sec); /* '~' is not Z85 */
    fclose(f);
    CHECK_INT(uplink_read_key_file(path, 1, key, err, sizeof(err)), -EINVAL);
    snprintf(path, sizeof(path), "%s/missing.key", dir);
    CHECK_INT(uplink_read_key_file(path, 1, key, err, sizeof(err)), -ENOENT);
    CHECK_CONTAINS(err, "missing.key");
    CHECK_INT(uplink_read_key_file(dir, 1, key, err, sizeof(err)), -EINVAL);
    rm_dir(dir);
}

TEST(create_checks_keys)
{
    const char *dir = mktemp_dir();
    struct sensor se;
    struct uplink *u = NULL;
    char spub[41], ssec[41], opub[41], osec[41], err[512];
    struct uplink_config uc = {.endpoint = "tcp://127.0.0.1:1"};

    CHECK_INT(sensor_open(&se, dir), 0);
    zmq_curve_keypair(spub, ssec);
    zmq_curve_keypair(opub, osec);
    uc.server_key = spub;
    uc.secret_key = se.sec;

    uc.server_key = "short";
    CHECK_INT(uplink_create(&u, &uc, se.sp, err, sizeof(err)), -EINVAL);
    CHECK_CONTAINS(err, "collector's public key");
    uc.server_key = spub;
    uc.secret_key = NULL;
    CHECK_INT(uplink_create(&u, &uc, se.sp, err, sizeof(err)), -EINVAL);
    CHECK_CONTAINS(err, "secret key");
    uc.secret_key = se.sec;
    uc.public_key = opub;
    CHECK_INT(uplink_create(&u, &uc, se.sp, err, sizeof(err)), -EINVAL);
    CHECK_CONTAINS(err, "does not belong to the secret key");
    uc.public_key = NULL;
    uc.endpoint = "bogus://x";
    CHECK(uplink_create(&u, &uc, se.sp, err, sizeof(err)) < 0);
    CHECK_CONTAINS(err, "bogus://x");
    uc.endpoint = NULL;
    CHECK_INT(uplink_create(&u, &uc, se.sp, err, sizeof(err)), -EINVAL);
    CHECK_CONTAINS(err, "no endpoint");
    CHECK(u == NULL);

    /* Valid, derived public key; nothing listening: waiting times out. */
    uc.endpoint = "tcp://127.0.0.1:1";
    CHECK_INT(uplink_create(&u, &uc, se.sp, err, sizeof(err)), 0);
    CHECK_INT(uplink_start(u), 0);
    CHECK_INT(uplink_wait_acked(u, 1, 100), -ETIMEDOUT);
    uplink_destroy(u);
    uplink_destroy(NULL);
    spool_close(se.sp);
    rm_dir(dir);
}

/* The uplink and spool keys of the sensor's config (sensor/config.c). */
static int load_yaml(struct sensor_config *cfg, const char *dir, const char *text, char *err,
                     size_t errlen)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/sensor.yaml", dir);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    if (config_defaults(cfg) != 0)
        return -ENOMEM;
    return config_load(cfg, path, err, errlen);
}

TEST(config_keys)
{
    const char *dir = mktemp_dir();
    struct sensor_config cfg;
    char err[512];

    CHECK_INT(load_yaml(&cfg, dir, "sensor-id: x\n", err, sizeof(err)), 0);
    CHECK(cfg.uplink_endpoint == NULL && cfg.uplink_collector_key == NULL);
    CHECK_STR(cfg.spool_dir, "/var/lib/kanshi/spool");
    CHECK(cfg.spool_max_size == 1ull << 30);
    CHECK_INT(cfg.spool_fsync, SPOOL_FSYNC_BATCH);
    CHECK_INT(cfg.spool_fsync_interval, 100);
    CHECK_INT(cfg.uplink_stats_interval, 10);
    CHECK_INT(cfg.uplink_drain_timeout, 10);
    config_fini(&cfg);

    CHECK_INT(load_yaml(&cfg, dir,
                        "uplink:\n"
                        "  endpoint: tcp://127.0.0.1:7700\n"
                        "  collector-public-key: \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\n"
                        "  secret-key-file: /etc/kanshi/sensor.key\n"
                        "  public-key: \"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID\"\n"
                        "  stats-interval: 5\n"
                        "  drain-timeout: 0\n"
                        "spool:\n"
                        "  dir: /srv/spool\n"
                        "  max-size: 2gb\n"
                        "  fsync: ALWAYS\n"
                        "  fsync-interval: 250\n",
                        err, sizeof(err)),
              0);
    CHECK_STR(cfg.uplink_endpoint, "tcp://127.0.0.1:7700");
    CHECK_STR(cfg.uplink_collector_key, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    CHECK_STR(cfg.uplink_secret_key_file, "/etc/kanshi/sensor.key");
    CHECK_STR(cfg.uplink_public_key, "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID");
    CHECK_INT(cfg.uplink_stats_interval, 5);
    CHECK_INT(cfg.uplink_drain_timeout, 0);
    CHECK_STR(cfg.spool_dir, "/srv/spool");
    CHECK(cfg.spool_max_size == 2ull << 30);
    CHECK_INT(cfg.spool_fsync, SPOOL_FSYNC_ALWAYS);
    CHECK_INT(cfg.spool_fsync_interval, 250);
    config_fini(&cfg);

    CHECK_INT(load_yaml(&cfg, dir, "spool:\n  fsync: never\n", err, sizeof(err)), 0);
    CHECK_INT(cfg.spool_fsync, SPOOL_FSYNC_NEVER);
    config_fini(&cfg);
    CHECK_INT(load_yaml(&cfg, dir, "spool:\n  fsync: sometimes\n", err, sizeof(err)),
              KANSHI_EPARSE);
    CHECK_CONTAINS(err, "sensor.yaml:2: spool.fsync: expected never, batch or always");
    config_fini(&cfg);
    CHECK_INT(load_yaml(&cfg, dir, "spool:\n  max-size: 10kb\n", err, sizeof(err)),
              KANSHI_EPARSE);
    CHECK_CONTAINS(err, "spool.max-size: expected a size between 1mb and 16tb");
    config_fini(&cfg);
    CHECK_INT(load_yaml(&cfg, dir, "uplink:\n  stats-interval: 0\n", err, sizeof(err)),
              KANSHI_EPARSE);
    CHECK_CONTAINS(err, "uplink.stats-interval: expected an integer between 1 and 3600");
    config_fini(&cfg);
    CHECK_INT(load_yaml(&cfg, dir, "uplink:\n  endpiont: x\n", err, sizeof(err)),
              KANSHI_EPARSE);
    CHECK_CONTAINS(err, "uplink.endpiont: unknown key");
    config_fini(&cfg);
    rm_dir(dir);
}

int main(void)
{
    log_init("uplink_test", LOG_LEVEL_ERROR);
    RUN(delivers_in_order_and_empties_spool);
    RUN(collector_restart_loses_nothing);
    RUN(wrong_server_key_delivers_nothing);
    RUN(unenrolled_sensor_refused);
    RUN(throughput_100k);
    RUN(no_alerts_before_hello_answered);
    RUN(reset_spool_renumbers_after_collector);
    RUN(ack_beyond_numbering_renumbers);
    RUN(key_files);
    RUN(create_checks_keys);
    RUN(config_keys);
    return test_summary("uplink");
}
