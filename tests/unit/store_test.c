/*
 * store_test.c — the collector's database (collector/store.c) on real
 * SQLite files: registry rules and their messages, duplicate (sensor, seq)
 * ignored, gaps recorded, search filters, retention, rejects, health, the
 * schema version, and a second connection seeing changes.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../collector/store.h"
#include "test.h"

static char dir[64];
static char path[128];
static int ndb;

static const char key_a[] = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
static const char key_b[] = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
static const char key_c[] = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";

/* A fresh database in the test directory. */
static struct store *open_new(void)
{
    struct store_options o = {.path = path, .sync = STORE_SYNC_NORMAL, .create = true};
    struct store *s = NULL;
    char err[256];

    snprintf(path, sizeof(path), "%s/t%d.db", dir, ++ndb);
    if (store_open(&s, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "store_open: %s\n", err);
        return NULL;
    }
    return s;
}

static struct store *open_again(void)
{
    struct store_options o = {.path = path, .sync = STORE_SYNC_FULL};
    struct store *s = NULL;
    char err[256];

    return store_open(&s, &o, err, sizeof(err)) == 0 ? s : NULL;
}

/* Two ministries, one agency, and a sensor for each tier. */
static struct store *open_registry(void)
{
    struct store *s = open_new();

    if (s == NULL)
        return NULL;
    if (store_org_add(s, "Ministry of Finance", 1, NULL, 100) != 0 ||
        store_org_add(s, "Ministry of Health, Labour and Welfare", 1, NULL, 100) != 0 ||
        store_org_add(s, "Japan Pension Service", 2, "Ministry of Health, Labour and Welfare",
                      100) != 0 ||
        store_sensor_add(s, "mof-1", "Ministry of Finance", key_a, 100) != 0 ||
        store_sensor_add(s, "jps-1", "Japan Pension Service", key_b, 100) != 0) {
        fprintf(stderr, "registry: %s\n", store_error(s));
        store_close(s);
        return NULL;
    }
    return s;
}

TEST(test_open_schema)
{
    struct store_options o = {.sync = STORE_SYNC_NORMAL};
    struct store *s = open_new();
    sqlite3 *db;
    char err[256];

    CHECK(s != NULL);
    store_close(s);
    /* Reopened: already at the current version. */
    s = open_again();
    CHECK(s != NULL);
    store_close(s);
    /* A version from the future is refused with a message. */
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    o.path = path;
    s = NULL;
    CHECK(store_open(&s, &o, err, sizeof(err)) == -EPROTO);
    CHECK(s == NULL);
    CHECK_CONTAINS(err, "schema version 99 is newer");
    /* Not created unless asked. */
    o.path = "/nonexistent-dir/x.db";
    CHECK(store_open(&s, &o, err, sizeof(err)) == -ENOENT);
    CHECK_CONTAINS(err, "/nonexistent-dir/x.db");
}

TEST(test_migrate_from_empty)
{
    struct store *s;
    sqlite3 *db;
    sqlite3_stmt *st;

    /* An existing empty file (version 0) gets the whole schema. */
    snprintf(path, sizeof(path), "%s/empty%d.db", dir, ++ndb);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_close(db);
    s = open_again();
    CHECK(s != NULL);
    store_close(s);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(st, 0), STORE_SCHEMA_VERSION);
    sqlite3_finalize(st);
    CHECK(sqlite3_prepare_v2(db, "SELECT journal_mode FROM pragma_journal_mode", -1, &st, NULL) ==
          SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static int count_org(void *arg, const struct store_org *o)
{
    int *n = arg;

    /* Tier 1 first, by name. */
    if (*n == 0)
        CHECK_STR(o->name, "Ministry of Finance");
    if (*n == 2) {
        CHECK_STR(o->name, "Japan Pension Service");
        CHECK_STR(o->ministry, "Ministry of Health, Labour and Welfare");
    }
    (*n)++;
    return 0;
}

TEST(test_org_rules)
{
    struct store *s = open_registry();
    struct store_org o;
    int n = 0;

    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK(store_org_add(s, "Ministry of Finance", 1, NULL, 1) == -EEXIST);
    CHECK_CONTAINS(store_error(s), "already exists");
    CHECK(store_org_add(s, "Agency X", 2, NULL, 1) == -EINVAL);
    CHECK_CONTAINS(store_error(s), "needs its supervising ministry");
    CHECK(store_org_add(s, "Agency X", 2, "", 1) == -EINVAL);
    CHECK(store_org_add(s, "Agency X", 2, "No Such Ministry", 1) == -EINVAL);
    CHECK_CONTAINS(store_error(s), "\"No Such Ministry\" is not a registered organisation");
    CHECK(store_org_add(s, "Agency X", 2, "Japan Pension Service", 1) == -EINVAL);
    CHECK_CONTAINS(store_error(s), "is tier 2; it must be tier 1");
    CHECK(store_org_add(s, "Agency Y", 1, "Ministry of Finance", 1) == -EINVAL);
    CHECK_CONTAINS(store_error(s), "has no supervising ministry");
    CHECK(store_org_add(s, "Agency Z", 3, NULL, 1) == -EINVAL);
    CHECK_CONTAINS(store_error(s), "tier must be 1 or 2");
    CHECK(store_org_add(s, " Leading blank", 1, NULL, 1) == -EINVAL);
    CHECK(store_org_add(s, "Tab\there", 1, NULL, 1) == -EINVAL);
    CHECK(store_org_add(s, "", 1, NULL, 1) == -EINVAL);
    CHECK_CONTAINS(store_error(s), "printable");
    CHECK(store_org_get(s, "Agency X", &o) == -ENOENT);
    CHECK_CONTAINS(store_error(s), "no organisation named \"Agency X\"");
    CHECK(store_org_get(s, "Japan Pension Service", &o) == 0);
    CHECK_INT(o.tier, 2);
    CHECK_STR(o.ministry, "Ministry of Health, Labour and Welfare");
    CHECK(store_org_list(s, count_org, &n) == 0);
    CHECK_INT(n, 3);
    store_close(s);
}

TEST(test_sensor_rules)
{
    struct store *s = open_registry();
    struct store_sensor *se = malloc(sizeof(*se));

    CHECK(s != NULL && se != NULL);
    if (s == NULL || se == NULL) {
        free(se);
        store_close(s);
        return;
    }
    CHECK(store_sensor_add(s, "x-1", "Nobody", key_c, 1) == -ENOENT);
    CHECK_CONTAINS(store_error(s), "no organisation named \"Nobody\"");
    CHECK(store_sensor_add(s, "mof-1", "Ministry of Finance", key_c, 1) == -EEXIST);
    CHECK_CONTAINS(store_error(s), "sensor \"mof-1\" already exists");
    CHECK(store_sensor_add(s, "mof-2", "Ministry of Finance", key_a, 1) == -EEXIST);
    CHECK_CONTAINS(store_error(s), "already the key of sensor \"mof-1\"");
    CHECK(store_sensor_add(s, "mof-2", "Ministry of Finance", "short", 1) == -EINVAL);
    CHECK_CONTAINS(store_error(s), "not a CURVE public key");
    CHECK(store_sensor_add(s, "-bad", "Ministry of Finance", key_c, 1) == -EINVAL);
    CHECK(store_sensor_add(s, "a/b", "Ministry of Finance", key_c, 1) == -EINVAL);
    CHECK_CONTAINS(store_error(s), "sensor id");
    CHECK(!store_sensor_id_ok(""));
    CHECK(store_sensor_id_ok("tokyo-gw.01_a"));

    CHECK(store_sensor_get(s, "jps-1", se) == 0);
    CHECK_STR(se->org, "Japan Pension Service");
    CHECK_INT(se->tier, 2);
    CHECK_STR(se->ministry, "Ministry of Health, Labour and Welfare");
    CHECK_INT(se->revoked, 0);
    CHECK_INT(se->next_seq, 1);
    CHECK_INT(se->packets, -1);
    CHECK(store_sensor_by_key(s, key_a, se) == 0);
    CHECK_STR(se->id, "mof-1");
    CHECK(store_sensor_by_key(s, key_c, se) == -ENOENT);

    CHECK(store_sensor_revoke(s, "mof-1", 500) == 0);
    CHECK(store_sensor_revoke(s, "mof-1", 501) == -EALREADY);
    CHECK(store_sensor_revoke(s, "nope", 501) == -ENOENT);
    CHECK(store_sensor_get(s, "mof-1", se) == 0);
    CHECK_INT(se->revoked, 500);
    /* A revoked id stays taken. */
    CHECK(store_sensor_add(s, "mof-1", "Ministry of Finance", key_c, 1) == -EEXIST);
    free(se);
    store_close(s);
}

TEST(test_analysts)
{
    struct store *s = open_registry();
    struct store_analyst a;

    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK(store_analyst_add(s, "ana", key_c, 0, 1) == -EINVAL);
    CHECK(store_analyst_add(s, "ana", key_c, 4, 1) == -EINVAL);
    CHECK_CONTAINS(store_error(s), "tiers must be 1, 2 or 1,2");
    CHECK(store_analyst_add(s, "ana", key_a, 1, 1) == -EEXIST); /* a sensor's key */
    CHECK_CONTAINS(store_error(s), "sensor \"mof-1\"");
    CHECK(store_analyst_add(s, "ana", key_c, STORE_TIERS_ALL, 1) == 0);
    CHECK(store_analyst_add(s, "ana", key_c, 1, 1) == -EEXIST);
    CHECK(store_sensor_add(s, "mof-9", "Ministry of Finance", key_c, 1) == -EEXIST);
    CHECK(store_analyst_by_key(s, key_c, &a) == 0);
    CHECK_STR(a.name, "ana");
    CHECK_INT(a.tiers, 3);
    CHECK(store_analyst_revoke(s, "ana", 9) == 0);
    CHECK(store_analyst_revoke(s, "ana", 9) == -EALREADY);
    CHECK(store_analyst_revoke(s, "bob", 9) == -ENOENT);
    CHECK(store_analyst_by_key(s, key_c, &a) == 0);
    CHECK_INT(a.revoked, 9);
    store_close(s);
}

/* Stores alerts seqs[] of sensor in one transaction like the collector. */
static int put_batch(struct store *s, const char *sensor, const char *org, unsigned tier,
                     const uint64_t *seqs, size_t n, int64_t received, uint64_t *acked, int *stored)
{
    char json[128], ip[32];
    int rc, gaps;

    *stored = 0;
    if ((rc = store_begin(s)) != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        snprintf(json, sizeof(json), "{\"seq\":%" PRIu64 "}", seqs[i]);
        snprintf(ip, sizeof(ip), "10.0.0.%u", (unsigned)(seqs[i] % 250));
        struct store_alert a = {
            .sensor_id = sensor,
            .seq = seqs[i],
            .received = received,
            .alert_time = received + (int64_t)seqs[i],
            .org = org,
            .tier = tier,
            .sid = (int64_t)(1000 + seqs[i] % 3),
            .severity = (int)(seqs[i] % 3) + 1,
            .src_ip = ip,
            .dest_ip = "2001:db8::1",
            .src_port = 1234,
            .dest_port = 80,
            .proto = "TCP",
            .signature = seqs[i] % 2 ? "ET SCAN odd" : "ET POLICY even",
            .json = json,
            .json_len = strlen(json),
        };
        rc = store_alert_add(s, &a);
        if (rc < 0) {
            store_rollback(s);
            return rc;
        }
        *stored += rc;
    }
    if ((gaps = store_sensor_batch(s, sensor, seqs, n, received / 1000000, acked)) < 0) {
        store_rollback(s);
        return gaps;
    }
    if ((rc = store_commit(s)) != 0)
        return rc;
    return gaps;
}

struct gaps {
    uint64_t first[8], last[8];
    int n;
};

static int collect_gap(void *arg, const struct store_gap *g)
{
    struct gaps *gs = arg;

    if (gs->n < 8) {
        gs->first[gs->n] = g->first;
        gs->last[gs->n] = g->last;
    }
    gs->n++;
    return 0;
}

TEST(test_duplicates_and_gaps)
{
    struct store *s = open_registry();
    const char *org = "Ministry of Finance";
    uint64_t b1[] = {1, 2, 3}, b2[] = {6, 7}, b3[] = {2, 3}, b4[] = {9, 12}, acked = 0;
    struct store_query q = {.sid = -1};
    struct gaps gs = {0};
    struct store_sensor se;
    int stored;

    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_INT(put_batch(s, "mof-1", org, 1, b1, 3, 1000000, &acked, &stored), 0);
    CHECK_INT(stored, 3);
    CHECK_INT(acked, 3);
    /* 4 and 5 never came. */
    CHECK_INT(put_batch(s, "mof-1", org, 1, b2, 2, 2000000, &acked, &stored), 1);
    CHECK_INT(stored, 2);
    CHECK_INT(acked, 7);
    /* A resend: nothing new, the ACK covers it, no gap. */
    CHECK_INT(put_batch(s, "mof-1", org, 1, b3, 2, 3000000, &acked, &stored), 0);
    CHECK_INT(stored, 0);
    CHECK_INT(acked, 7);
    /* A hole before and inside the batch. */
    CHECK_INT(put_batch(s, "mof-1", org, 1, b4, 2, 4000000, &acked, &stored), 2);
    CHECK_INT(acked, 12);
    CHECK(store_sensor_acked(s, "mof-1", &acked) == 0);
    CHECK_INT(acked, 12);
    CHECK(store_sensor_acked(s, "jps-1", &acked) == 0);
    CHECK_INT(acked, 0);
    CHECK(store_sensor_acked(s, "nope", &acked) == -ENOENT);
    CHECK(store_gap_list(s, "mof-1", collect_gap, &gs) == 0);
    CHECK_INT(gs.n, 3);
    CHECK_INT(gs.first[0], 4);
    CHECK_INT(gs.last[0], 5);
    CHECK_INT(gs.first[1], 8);
    CHECK_INT(gs.last[1], 8);
    CHECK_INT(gs.first[2], 10);
    CHECK_INT(gs.last[2], 11);
    CHECK_INT(store_search(s, &q, NULL, NULL), 7);
    CHECK(store_sensor_get(s, "mof-1", &se) == 0);
    CHECK_INT(se.gaps, 5);
    CHECK_INT(se.last_heard, 4);
    /* Out of range sequences are refused before SQLite sees them. */
    {
        struct store_alert a = {
            .sensor_id = "mof-1", .seq = 0, .org = org, .tier = 1, .json = "{}", .json_len = 2};
        CHECK(store_alert_add(s, &a) == -EINVAL);
    }
    store_close(s);
}

struct seen {
    uint64_t seqs[64];
    int n;
    int64_t last_time;
    bool ordered;
};

static int collect_alert(void *arg, const struct store_alert *a)
{
    struct seen *sn = arg;

    if (sn->n > 0 && a->alert_time < sn->last_time)
        sn->ordered = false;
    sn->last_time = a->alert_time;
    if (sn->n < 64)
        sn->seqs[sn->n] = a->seq;
    sn->n++;
    CHECK(a->json != NULL && a->json[0] == '{');
    return 0;
}

static int search(struct store *s, struct store_query q, struct seen *sn)
{
    memset(sn, 0, sizeof(*sn));
    sn->ordered = true;
    return (int)store_search(s, &q, collect_alert, sn);
}

TEST(test_search_filters)
{
    struct store *s = open_registry();
    uint64_t mof[] = {1, 2, 3, 4, 5, 6}, jps[] = {1, 2, 3, 4}, acked;
    struct seen sn;
    int stored;

    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK(put_batch(s, "mof-1", "Ministry of Finance", 1, mof, 6, 10000000, &acked, &stored) >= 0);
    CHECK(put_batch(s, "jps-1", "Japan Pension Service", 2, jps, 4, 20000000, &acked, &stored) >=
          0);
    CHECK_INT(search(s, (struct store_query){.sid = -1}, &sn), 10);
    CHECK(sn.ordered);
    CHECK_INT(search(s, (struct store_query){.sid = -1, .tier = 2}, &sn), 4);
    CHECK_INT(search(s, (struct store_query){.sid = -1, .tier = 1}, &sn), 6);
    CHECK_INT(search(s, (struct store_query){.sid = -1, .org = "Japan Pension Service"}, &sn), 4);
    CHECK_INT(search(s, (struct store_query){.sid = -1, .sensor = "mof-1"}, &sn), 6);
    CHECK_INT(search(s, (struct store_query){.sid = -1, .sensor = "nope"}, &sn), 0);
    /* sid 1000 + seq % 3: mof 3, 6; jps 3. */
    CHECK_INT(search(s, (struct store_query){.sid = 1000}, &sn), 3);
    /* src 10.0.0.<seq>: two sensors' seq 2. */
    CHECK_INT(search(s, (struct store_query){.sid = -1, .addr = "10.0.0.2"}, &sn), 2);
    /* Destination, written another way. */
    CHECK_INT(search(s, (struct store_query){.sid = -1, .addr = "2001:DB8:0::1"}, &sn), 10);
    CHECK_INT(search(s, (struct store_query){.sid = -1, .severity = 3}, &sn), 3);
    CHECK_INT(search(s, (struct store_query){.sid = -1, .signature = "SCAN"}, &sn), 5);
    /* alert_time = received + seq. */
    CHECK_INT(search(s,
                     (struct store_query){.sid = -1,
                                          .has_since = true,
                                          .since = 10000003,
                                          .has_until = true,
                                          .until = 10000005},
                     &sn),
              2);
    CHECK_INT(sn.seqs[0], 3);
    CHECK_INT(sn.seqs[1], 4);
    /* The newest N, still printed oldest first. */
    CHECK_INT(search(s, (struct store_query){.sid = -1, .limit = 3}, &sn), 3);
    CHECK(sn.ordered);
    CHECK_INT(sn.seqs[0], 2);
    CHECK_INT(sn.seqs[2], 4);
    CHECK_INT(search(s,
                     (struct store_query){.sid = -1, .tier = 1, .severity = 1, .sensor = "mof-1"},
                     &sn),
              2);
    store_close(s);
}

TEST(test_retention)
{
    struct store *s = open_registry();
    uint64_t old[] = {1, 2, 3}, young[] = {4, 5}, acked;
    struct store_query q = {.sid = -1};
    int stored;

    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK(put_batch(s, "mof-1", "Ministry of Finance", 1, old, 3, 1000000, &acked, &stored) >= 0);
    CHECK(put_batch(s, "mof-1", "Ministry of Finance", 1, young, 2, 9000000, &acked, &stored) >= 0);
    CHECK_INT(store_retention(s, 5000000), 3);
    CHECK_INT(store_search(s, &q, NULL, NULL), 2);
    CHECK_INT(store_retention(s, 5000000), 0);
    /* The sequence bookkeeping is not touched: old ones stay acknowledged. */
    CHECK(store_sensor_acked(s, "mof-1", &acked) == 0);
    CHECK_INT(acked, 5);
    store_close(s);
}

static int sum_rejects(void *arg, const struct store_reject *r)
{
    uint64_t *n = arg;

    *n += r->count;
    CHECK_STR(r->sensor_id, "jps-1");
    return 0;
}

TEST(test_health_and_rejects)
{
    struct store *s = open_registry();
    struct store_sensor *se = malloc(sizeof(*se));
    struct wire_hello h = {.next_seq = 10, .spool_alerts = 7, .spool_bytes = 700};
    uint64_t n = 0;

    CHECK(s != NULL && se != NULL);
    if (s == NULL || se == NULL) {
        free(se);
        store_close(s);
        return;
    }
    snprintf(h.software, sizeof(h.software), "0.1.0");
    snprintf(h.ruleset, sizeof(h.ruleset), "et-2024");
    CHECK(store_sensor_hello(s, "jps-1", &h, 1234) == 0);
    CHECK(store_sensor_hello(s, "nope", &h, 1234) == -ENOENT);
    CHECK(store_sensor_get(s, "jps-1", se) == 0);
    CHECK_STR(se->software, "0.1.0");
    CHECK_STR(se->ruleset, "et-2024");
    CHECK_INT(se->last_heard, 1234);
    CHECK_INT(se->spool_alerts, 7);
    CHECK(store_sensor_stats(s, "jps-1",
                             "{\"uptime\":5,\"packets\":99,\"kernel_drops\":1,\"if_drops\":2,"
                             "\"flow_memcap_drops\":3,\"spool_alerts\":4,\"spool_dropped\":5,"
                             "\"alerts\":6,\"alerts_per_min\":7}",
                             2000) == 0);
    CHECK(store_sensor_get(s, "jps-1", se) == 0);
    CHECK_INT(se->packets, 99);
    CHECK_INT(se->kernel_drops, 1);
    CHECK_INT(se->if_drops, 2);
    CHECK_INT(se->flow_drops, 3);
    CHECK_INT(se->spool_alerts, 4); /* STATS is newer than HELLO */
    CHECK_INT(se->spool_dropped, 5);
    CHECK_INT(se->alerts_per_min, 7);
    CHECK_INT(se->last_heard, 2000);
    CHECK(store_reject_add(s, "jps-1", "bad magic", 2, 10) == 0);
    CHECK(store_reject_add(s, "jps-1", "bad magic", 3, 11) == 0);
    CHECK(store_reject_add(s, "jps-1", "body ends inside a field", 1, 11) == 0);
    CHECK(store_reject_list(s, "jps-1", sum_rejects, &n) == 0);
    CHECK_INT(n, 6);
    CHECK(store_sensor_get(s, "jps-1", se) == 0);
    CHECK_INT(se->rejected, 6);
    free(se);
    store_close(s);
}

TEST(test_second_connection)
{
    struct store *s = open_registry(), *t;
    struct store_sensor se;
    int64_t v1 = 0, v2 = 0;

    CHECK(s != NULL);
    if (s == NULL)
        return;
    t = open_again();
    CHECK(t != NULL);
    if (t == NULL) {
        store_close(s);
        return;
    }
    /* What kanshictl writes, the collector's connection sees. */
    CHECK(store_data_version(s, &v1) == 0);
    CHECK(store_sensor_revoke(t, "jps-1", 77) == 0);
    CHECK(store_data_version(s, &v2) == 0);
    CHECK(v1 != v2);
    CHECK(store_sensor_get(s, "jps-1", &se) == 0);
    CHECK_INT(se.revoked, 77);
    /* Its own writes do not move its data_version. */
    CHECK(store_data_version(s, &v1) == 0);
    CHECK(store_org_add(s, "Digital Agency", 1, NULL, 1) == 0);
    CHECK(store_data_version(s, &v2) == 0);
    CHECK(v1 == v2);
    store_close(t);
    store_close(s);
}

struct dlv_rows {
    struct store_delivery d[8];
    size_t n;
};

static int collect_dlv(void *arg, const struct store_delivery *d)
{
    struct dlv_rows *r = arg;

    if (r->n < 8)
        r->d[r->n++] = *d;
    return 0;
}

/* Bundles: stored bytes read back by chunk, targeting by each spec, the
 * delivery states a collector moves through, the sensor's running ruleset. */
TEST(test_bundles)
{
    struct store *s = open_registry();
    static uint8_t data[3000], buf[4096];
    struct store_bundle b = {.version = 5, .kind = "rules", .size = sizeof(data)}, g;
    static struct dlv_rows rows;
    static struct store_delivery d;
    static struct store_sensor se;

    CHECK(s != NULL);
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    memset(b.sha256, 0xab, sizeof(b.sha256));
    CHECK_INT(store_bundle_add(s, &b, data, 200), 0);
    CHECK_INT(store_bundle_add(s, &b, data, 200), -EEXIST);
    b.version = 0;
    CHECK_INT(store_bundle_add(s, &b, data, 200), -EINVAL);
    b.version = 5;
    CHECK_INT(store_bundle_get(s, 5, &g), 0);
    CHECK_INT(g.size, sizeof(data));
    CHECK_STR(g.kind, "rules");
    CHECK_INT(g.sha256[31], 0xab);
    CHECK_INT(store_bundle_get(s, 6, &g), -ENOENT);
    /* Reads: a middle chunk, the tail, past the end, an unknown version. */
    CHECK_INT(store_bundle_read(s, 5, 1000, buf, 1000), 1000);
    CHECK(memcmp(buf, data + 1000, 1000) == 0);
    CHECK_INT(store_bundle_read(s, 5, 2500, buf, 4096), 500);
    CHECK(memcmp(buf, data + 2500, 500) == 0);
    CHECK_INT(store_bundle_read(s, 5, 3000, buf, 10), 0);
    CHECK_INT(store_bundle_read(s, 9, 0, buf, 10), -ENOENT);

    /* Targets. */
    CHECK_INT(store_bundle_target(s, 5, "sensor:mof-1", 300), 1);
    CHECK_INT(store_bundle_target(s, 5, "sensor:mof-1", 301), 0); /* already */
    CHECK_INT(store_bundle_target(s, 5, "sensor:nope", 300), -ENOENT);
    CHECK_INT(store_bundle_target(s, 5, "org:Nowhere", 300), -ENOENT);
    CHECK_INT(store_bundle_target(s, 5, "tier:3", 300), -EINVAL);
    CHECK_INT(store_bundle_target(s, 5, "everything", 300), -EINVAL);
    CHECK_INT(store_bundle_target(s, 7, "all", 300), -ENOENT);
    CHECK_INT(store_bundle_target(s, 5, "tier:1", 300), 0); /* mof-1 is the tier-1 one */
    rows.n = 0;
    CHECK_INT(store_delivery_targeted(s, collect_dlv, &rows), 0);
    CHECK_INT(rows.n, 1);
    CHECK_STR(rows.d[0].sensor_id, "mof-1");
    CHECK_INT(rows.d[0].state, STORE_DLV_TARGETED);
    CHECK_INT(rows.d[0].size, sizeof(data));

    /* States as the collector moves them; fetched only rises. */
    CHECK_INT(store_delivery_set(s, "mof-1", 5, STORE_DLV_OFFERED, UINT64_MAX, NULL, 310), 0);
    CHECK_INT(store_delivery_set(s, "mof-1", 5, STORE_DLV_FETCHING, 1000, NULL, 311), 0);
    CHECK_INT(store_delivery_set(s, "mof-1", 5, STORE_DLV_FETCHING, 500, NULL, 312), 0);
    CHECK_INT(store_delivery_get(s, "mof-1", 5, &d), 0);
    CHECK_INT(d.fetched, 1000);
    CHECK_INT(d.updated, 312);
    CHECK_INT(store_delivery_next(s, "mof-1", &d), 0);
    CHECK_INT(d.version, 5);
    CHECK_INT(store_delivery_next(s, "jps-1", &d), -ENOENT);
    CHECK_INT(store_delivery_set(s, "jps-1", 5, STORE_DLV_APPLIED, UINT64_MAX, "", 313), -ENOENT);
    CHECK_INT(store_delivery_set(s, "mof-1", 5, STORE_DLV_REJECTED, UINT64_MAX,
                                 "rollback: version 5 is not above 6", 320),
              0);
    CHECK_INT(store_delivery_next(s, "mof-1", &d), -ENOENT); /* settled */
    CHECK_INT(store_sensor_ruleset(s, "mof-1", "bundle-6"), 0);
    CHECK_INT(store_sensor_ruleset(s, "nope", "bundle-6"), -ENOENT);

    /* All: the tier-2 sensor joins; the listing is by sensor. */
    CHECK_INT(store_bundle_target(s, 5, "all", 330), 1);
    rows.n = 0;
    CHECK_INT(store_delivery_list(s, NULL, collect_dlv, &rows), 0);
    CHECK_INT(rows.n, 2);
    CHECK_STR(rows.d[0].sensor_id, "jps-1");
    CHECK_INT(rows.d[0].state, STORE_DLV_TARGETED);
    CHECK_STR(rows.d[1].sensor_id, "mof-1");
    CHECK_INT(rows.d[1].state, STORE_DLV_REJECTED);
    CHECK_STR(rows.d[1].reason, "rollback: version 5 is not above 6");
    CHECK_STR(rows.d[1].running, "bundle-6");
    CHECK_STR(store_dlv_state_name(STORE_DLV_FETCHED), "fetched");
    /* A revoked sensor is never targeted. */
    CHECK_INT(store_sensor_revoke(s, "jps-1", 340), 0);
    b.version = 8;
    CHECK_INT(store_bundle_add(s, &b, data, 350), 0);
    CHECK_INT(store_bundle_target(s, 8, "all", 350), 1);
    CHECK_INT(store_bundle_target(s, 8, "sensor:jps-1", 350), -ENOENT);
    CHECK_INT(store_sensor_get(s, "mof-1", &se), 0);
    CHECK_STR(se.ruleset, "bundle-6");
    store_close(s);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/kanshi-store-test-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_open_schema);
    RUN(test_migrate_from_empty);
    RUN(test_org_rules);
    RUN(test_sensor_rules);
    RUN(test_analysts);
    RUN(test_duplicates_and_gaps);
    RUN(test_search_filters);
    RUN(test_retention);
    RUN(test_health_and_rejects);
    RUN(test_second_connection);
    RUN(test_bundles);
    {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return test_summary("store");
}
