/*
 * store.c — the collector's SQLite database: registry, alerts, gaps,
 * rejects (see store.h for the tables and the error convention).
 *
 * Statements are prepared once per connection and kept: the ingest path runs
 * the same few for every alert, and sqlite3_prepare is the costly part of a
 * small statement.  They are looked up by the address of their SQL text,
 * which is always a string constant of this file.
 *
 * The registry's rules (tier 2 has a tier-1 supervising ministry, ids and
 * keys unique) are checked here, with messages for a human, and again by the
 * schema's constraints so that a hand-edited database cannot break them
 * silently.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <zmq.h>

#include "kanshi/kanshi.h"
#include "store.h"

#define STORE_MAX_STMTS 48
#define STORE_RETENTION_CHUNK 5000

struct store_stmt {
    const char *sql;
    sqlite3_stmt *st;
};

struct store {
    sqlite3 *db;
    char path[512];
    char err[512];
    struct store_stmt stmts[STORE_MAX_STMTS];
    size_t nstmts;
};

/* ---- schema ------------------------------------------------------------------------------- */

/* Migration i brings a database from version i to i + 1.  Never edit one that
 * has shipped; add the next. */
static const char *const store_migrations[] = {
    /* 0 → 1: the registry, alerts, gaps, rejects. */
    "CREATE TABLE organisations ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  tier INTEGER NOT NULL CHECK (tier IN (1, 2)),"
    "  ministry_id INTEGER REFERENCES organisations(id),"
    "  created INTEGER NOT NULL,"
    "  CHECK ((tier = 1 AND ministry_id IS NULL) OR (tier = 2 AND ministry_id IS NOT NULL)));"
    "CREATE TRIGGER organisations_ministry_tier BEFORE INSERT ON organisations"
    "  WHEN NEW.ministry_id IS NOT NULL AND"
    "       (SELECT tier FROM organisations WHERE id = NEW.ministry_id) IS NOT 1"
    "  BEGIN SELECT RAISE(ABORT, 'supervising ministry must be a tier-1 organisation'); END;"
    "CREATE TABLE sensors ("
    "  id TEXT PRIMARY KEY,"
    "  org_id INTEGER NOT NULL REFERENCES organisations(id),"
    "  public_key TEXT NOT NULL UNIQUE,"
    "  enrolled INTEGER NOT NULL,"
    "  revoked INTEGER,"
    "  last_heard INTEGER,"
    "  software TEXT, firmware TEXT, ruleset TEXT, schema TEXT,"
    "  spool_alerts INTEGER, spool_bytes INTEGER,"
    "  stats TEXT, stats_at INTEGER,"
    "  next_seq INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE analysts ("
    "  name TEXT PRIMARY KEY,"
    "  public_key TEXT NOT NULL UNIQUE,"
    "  tiers INTEGER NOT NULL CHECK (tiers BETWEEN 1 AND 3),"
    "  created INTEGER NOT NULL,"
    "  revoked INTEGER);"
    "CREATE TABLE alerts ("
    "  sensor_id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  received INTEGER NOT NULL,"
    "  alert_time INTEGER NOT NULL,"
    "  org TEXT NOT NULL,"
    "  tier INTEGER NOT NULL,"
    "  sid INTEGER, severity INTEGER,"
    "  src_ip TEXT, src_port INTEGER, dest_ip TEXT, dest_port INTEGER,"
    "  proto TEXT, signature TEXT,"
    "  json TEXT NOT NULL,"
    "  PRIMARY KEY (sensor_id, seq));"
    "CREATE INDEX alerts_time ON alerts(alert_time);"
    "CREATE INDEX alerts_received ON alerts(received);"
    "CREATE INDEX alerts_tier ON alerts(tier, alert_time);"
    "CREATE INDEX alerts_org ON alerts(org, alert_time);"
    "CREATE INDEX alerts_sid ON alerts(sid);"
    "CREATE INDEX alerts_severity ON alerts(severity, alert_time);"
    "CREATE INDEX alerts_src ON alerts(src_ip);"
    "CREATE INDEX alerts_dest ON alerts(dest_ip);"
    "CREATE TABLE gaps ("
    "  sensor_id TEXT NOT NULL,"
    "  first INTEGER NOT NULL,"
    "  last INTEGER NOT NULL,"
    "  noticed INTEGER NOT NULL);"
    "CREATE INDEX gaps_sensor ON gaps(sensor_id, first);"
    "CREATE TABLE rejects ("
    "  sensor_id TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  count INTEGER NOT NULL,"
    "  last INTEGER NOT NULL,"
    "  PRIMARY KEY (sensor_id, reason));",
    /* 1 → 2: bundle distribution. */
    "CREATE TABLE bundles ("
    "  version INTEGER PRIMARY KEY CHECK (version >= 1),"
    "  kind TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  sha256 BLOB NOT NULL,"
    "  data BLOB NOT NULL,"
    "  published INTEGER NOT NULL);"
    "CREATE TABLE deliveries ("
    "  sensor_id TEXT NOT NULL REFERENCES sensors(id),"
    "  version INTEGER NOT NULL REFERENCES bundles(version),"
    "  state INTEGER NOT NULL,"
    "  fetched INTEGER NOT NULL DEFAULT 0,"
    "  reason TEXT,"
    "  targeted INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  PRIMARY KEY (sensor_id, version));"
    "CREATE INDEX deliveries_state ON deliveries(state, version);",
};

_Static_assert(KANSHI_ARRAY_LEN(store_migrations) == STORE_SCHEMA_VERSION,
               "one migration per schema version");

/* ---- helpers ------------------------------------------------------------------------------ */

static int store_fail(struct store *s, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int store_fail(struct store *s, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->err, sizeof(s->err), fmt, ap);
    va_end(ap);
    return rc;
}

/* Maps a SQLite failure to an errno and keeps SQLite's message. */
static int store_sqlfail(struct store *s, int src, const char *what)
{
    int rc = (src & 0xff) == SQLITE_BUSY || (src & 0xff) == SQLITE_LOCKED ? -EBUSY : -EIO;

    if (src == SQLITE_CONSTRAINT_UNIQUE || src == SQLITE_CONSTRAINT_PRIMARYKEY)
        rc = -EEXIST;
    else if ((src & 0xff) == SQLITE_CONSTRAINT)
        rc = -EINVAL;
    return store_fail(s, rc, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

/* The cached statement for sql, reset and with its bindings cleared. */
static sqlite3_stmt *store_stmt(struct store *s, const char *sql)
{
    sqlite3_stmt *st;

    for (size_t i = 0; i < s->nstmts; i++) {
        if (s->stmts[i].sql == sql) {
            sqlite3_reset(s->stmts[i].st);
            sqlite3_clear_bindings(s->stmts[i].st);
            return s->stmts[i].st;
        }
    }
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        store_sqlfail(s, sqlite3_errcode(s->db), "prepare");
        return NULL;
    }
    if (s->nstmts == STORE_MAX_STMTS) {
        /* Not reached with this file's statements; still correct if it is. */
        sqlite3_finalize(s->stmts[0].st);
        memmove(&s->stmts[0], &s->stmts[1], (STORE_MAX_STMTS - 1) * sizeof(s->stmts[0]));
        s->nstmts--;
    }
    s->stmts[s->nstmts].sql = sql;
    s->stmts[s->nstmts++].st = st;
    return st;
}

static void store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v == NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void store_bind_opt_int(sqlite3_stmt *st, int i, int64_t v, int64_t none)
{
    if (v == none)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, v);
}

static void store_col_text(sqlite3_stmt *st, int i, char *buf, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    snprintf(buf, len, "%s", t != NULL ? (const char *)t : "");
}

static int64_t store_col_opt(sqlite3_stmt *st, int i, int64_t none)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? none : sqlite3_column_int64(st, i);
}

/* Runs a statement that returns no rows.  0 or an error. */
static int store_step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_sqlfail(s, rc == SQLITE_ERROR ? sqlite3_errcode(s->db) : rc, what);
    return 0;
}

static int store_exec(struct store *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? 0 : store_sqlfail(s, rc, what);
}

typedef void store_read_fn(sqlite3_stmt *st, void *row);

/*
 * Runs a query: reads each row into row with read() and hands it to
 * visit(ctx, row); a non-zero return of visit stops the walk and is
 * returned.  With visit NULL only the first row is read: 0, or -ENOENT when
 * there is none.  The statement is always reset, so no read transaction is
 * left open (it would hold back checkpoints and hide others' writes).
 */
static int store_walk(struct store *s, sqlite3_stmt *st, store_read_fn *read, void *row,
                      int (*visit)(void *ctx, const void *row), void *ctx, const char *what)
{
    int rc, vrc = 0;

    if (st == NULL)
        return -EIO;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read(st, row);
        if (visit == NULL || (vrc = visit(ctx, row)) != 0)
            break;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return vrc; /* the first row read, or what visit returned */
    if (rc != SQLITE_DONE)
        return store_sqlfail(s, rc, what);
    return visit == NULL ? -ENOENT : 0;
}

/* The cached statement for sql with text arg bound to ?1. */
static sqlite3_stmt *store_stmt1(struct store *s, const char *sql, const char *arg)
{
    sqlite3_stmt *st = store_stmt(s, sql);

    if (st != NULL)
        store_bind_text(st, 1, arg);
    return st;
}

/*
 * Registry changes check, then write: outside a caller's transaction they
 * take the write lock first (BEGIN IMMEDIATE), so that a check cannot be
 * overtaken by another process's write; inside one they use a savepoint.
 */
static int store_tx_open(struct store *s, bool *own)
{
    *own = sqlite3_get_autocommit(s->db) != 0;
    return store_exec(s, *own ? "BEGIN IMMEDIATE" : "SAVEPOINT registry", "begin");
}

static int store_tx_close(struct store *s, bool own, int rc)
{
    if (rc == 0) {
        int crc = store_exec(s, own ? "COMMIT" : "RELEASE registry", "commit");
        if (crc == 0)
            return 0;
        rc = crc;
    }
    if (own)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    else
        sqlite3_exec(s->db, "ROLLBACK TO registry; RELEASE registry", NULL, NULL, NULL);
    return rc;
}

/* ---- open, migrate, close ----------------------------------------------------------------- */

static int store_user_version(struct store *s, int *v)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return store_sqlfail(s, sqlite3_errcode(s->db), "schema version");
    rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : store_sqlfail(s, rc, "schema version");
}

static int store_migrate(struct store *s)
{
    char sql[64];
    int v, rc;

    if ((rc = store_user_version(s, &v)) != 0)
        return rc;
    if (v > STORE_SCHEMA_VERSION)
        return store_fail(s, -EPROTO,
                          "%s: database schema version %d is newer than this program's (%d); "
                          "use a newer kanshi",
                          s->path, v, STORE_SCHEMA_VERSION);
    while (v < STORE_SCHEMA_VERSION) {
        if ((rc = store_exec(s, "BEGIN IMMEDIATE", "migrate")) != 0)
            return rc;
        /* Another process may have migrated while we waited for the lock. */
        if ((rc = store_user_version(s, &v)) != 0 || v >= STORE_SCHEMA_VERSION) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
        if ((rc = store_exec(s, store_migrations[v], "migrate")) != 0 ||
            (rc = store_exec(s, sql, "migrate")) != 0 ||
            (rc = store_exec(s, "COMMIT", "migrate"))) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
        v++;
    }
    return 0;
}

int store_open(struct store **out, const struct store_options *opt, char *err, size_t errlen)
{
    struct store *s = calloc(1, sizeof(*s));
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    char sql[256];
    int rc;

    if (s == NULL) {
        snprintf(err, errlen, "%s: %s", opt->path, strerror(ENOMEM));
        return -ENOMEM;
    }
    snprintf(s->path, sizeof(s->path), "%s", opt->path);
    if (opt->create)
        flags |= SQLITE_OPEN_CREATE;
    rc = sqlite3_open_v2(opt->path, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        rc = rc == SQLITE_CANTOPEN && !opt->create ? -ENOENT : -EIO;
        snprintf(err, errlen, "%s: cannot open database: %s", opt->path,
                 s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, opt->busy_timeout_ms != 0 ? (int)opt->busy_timeout_ms : 5000);
    /* A 64 MB page cache keeps the alert indexes' inner pages in memory
     * (the default 2 MB re-reads them at every batch); checkpoints every
     * 32 MB of WAL instead of 4 MB copy and sync the database less often. */
    snprintf(sql, sizeof(sql),
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; PRAGMA foreign_keys = ON;"
             " PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 8192",
             opt->sync == STORE_SYNC_FULL ? "FULL" : "NORMAL");
    if ((rc = store_exec(s, sql, "set up")) != 0 || (rc = store_migrate(s)) != 0) {
        snprintf(err, errlen, "%s", s->err);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    sqlite3_close(s->db);
    free(s);
    return rc;
}

void store_close(struct store *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nstmts; i++)
        sqlite3_finalize(s->stmts[i].st);
    sqlite3_close(s->db);
    free(s);
}

const char *store_error(const struct store *s)
{
    return s->err;
}

/* ---- validation --------------------------------------------------------------------------- */

bool store_sensor_id_ok(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > STORE_MAX_ID)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '-' && c != '_')))
            return false;
    }
    return true;
}

/* Printable text: no control bytes, no leading or trailing blank. */
bool store_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > STORE_MAX_NAME || name[0] == ' ' || name[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return false;
    return true;
}

bool store_key_ok(const char *z85)
{
    uint8_t bin[32];

    return strlen(z85) == STORE_KEY_LEN && zmq_z85_decode(bin, z85) != NULL;
}

/* ---- organisations ------------------------------------------------------------------------ */

static const char store_sql_org_get[] =
    "SELECT o.name, o.tier, m.name, o.created FROM organisations o"
    " LEFT JOIN organisations m ON m.id = o.ministry_id WHERE o.name = ?1";
static const char store_sql_org_insert[] =
    "INSERT INTO organisations (name, tier, ministry_id, created)"
    " VALUES (?1, ?2, (SELECT id FROM organisations WHERE name = ?3), ?4)";
static const char store_sql_org_list[] =
    "SELECT o.name, o.tier, m.name, o.created FROM organisations o"
    " LEFT JOIN organisations m ON m.id = o.ministry_id ORDER BY o.tier, o.name";

static void store_org_read(sqlite3_stmt *st, void *row)
{
    struct store_org *o = row;

    store_col_text(st, 0, o->name, sizeof(o->name));
    o->tier = (unsigned)sqlite3_column_int(st, 1);
    store_col_text(st, 2, o->ministry, sizeof(o->ministry));
    o->created = sqlite3_column_int64(st, 3);
}

int store_org_get(struct store *s, const char *name, struct store_org *out)
{
    int rc = store_walk(s, store_stmt1(s, store_sql_org_get, name), store_org_read, out, NULL, NULL,
                        "organisation");

    if (rc == -ENOENT)
        return store_fail(s, rc, "no organisation named \"%s\"", name);
    return rc;
}

static int store_org_check(struct store *s, const char *name, unsigned tier, const char *ministry)
{
    struct store_org o;
    int rc;

    if (!store_name_ok(name))
        return store_fail(s, -EINVAL,
                          "organisation name \"%s\": 1 to %d printable bytes, no blank at "
                          "either end",
                          name, STORE_MAX_NAME);
    if (tier != 1 && tier != 2)
        return store_fail(s, -EINVAL, "organisation \"%s\": tier must be 1 or 2, not %u", name,
                          tier);
    if (tier == 1 && ministry != NULL)
        return store_fail(s, -EINVAL,
                          "organisation \"%s\": a tier-1 organisation has no supervising "
                          "ministry",
                          name);
    if (tier == 2 && ministry == NULL)
        return store_fail(s, -EINVAL,
                          "organisation \"%s\": a tier-2 organisation needs its supervising "
                          "ministry",
                          name);
    if ((rc = store_org_get(s, name, &o)) == 0)
        return store_fail(s, -EEXIST, "organisation \"%s\" already exists (tier %u)", name, o.tier);
    if (rc != -ENOENT)
        return rc;
    if (ministry == NULL)
        return 0;
    if ((rc = store_org_get(s, ministry, &o)) == -ENOENT)
        return store_fail(s, -EINVAL,
                          "organisation \"%s\": supervising ministry \"%s\" is not a registered "
                          "organisation; add it first",
                          name, ministry);
    if (rc != 0)
        return rc;
    if (o.tier != 1)
        return store_fail(s, -EINVAL,
                          "organisation \"%s\": supervising ministry \"%s\" is tier %u; it must "
                          "be tier 1",
                          name, ministry, o.tier);
    return 0;
}

int store_org_add(struct store *s, const char *name, unsigned tier, const char *ministry,
                  int64_t now)
{
    sqlite3_stmt *st;
    bool own;
    int rc;

    if (ministry != NULL && ministry[0] == '\0')
        ministry = NULL;
    if ((rc = store_tx_open(s, &own)) != 0)
        return rc;
    if ((rc = store_org_check(s, name, tier, ministry)) == 0) {
        if ((st = store_stmt(s, store_sql_org_insert)) == NULL) {
            rc = -EIO;
        } else {
            store_bind_text(st, 1, name);
            sqlite3_bind_int(st, 2, (int)tier);
            store_bind_text(st, 3, ministry);
            sqlite3_bind_int64(st, 4, now);
            rc = store_step_done(s, st, "add organisation");
        }
    }
    return store_tx_close(s, own, rc);
}

/* The typed callbacks of the public list functions, behind store_walk's
 * generic one. */
struct store_visit {
    int (*org)(void *arg, const struct store_org *o);
    int (*sensor)(void *arg, const struct store_sensor *se);
    int (*analyst)(void *arg, const struct store_analyst *a);
    int (*gap)(void *arg, const struct store_gap *g);
    int (*reject)(void *arg, const struct store_reject *r);
    int (*delivery)(void *arg, const struct store_delivery *d);
    void *arg;
};

static int store_visit(void *ctx, const void *row)
{
    const struct store_visit *v = ctx;

    if (v->org != NULL)
        return v->org(v->arg, row);
    if (v->sensor != NULL)
        return v->sensor(v->arg, row);
    if (v->analyst != NULL)
        return v->analyst(v->arg, row);
    if (v->gap != NULL)
        return v->gap(v->arg, row);
    if (v->delivery != NULL)
        return v->delivery(v->arg, row);
    return v->reject(v->arg, row);
}

int store_org_list(struct store *s, int (*fn)(void *arg, const struct store_org *o), void *arg)
{
    struct store_visit v = {.org = fn, .arg = arg};
    struct store_org o;

    return store_walk(s, store_stmt(s, store_sql_org_list), store_org_read, &o, store_visit, &v,
                      "list organisations");
}

/* ---- sensors ------------------------------------------------------------------------------ */

/* One SELECT for every sensor query; the health columns come out of the
 * stored STATS JSON with SQLite's json_extract. */
#define STORE_SENSOR_COLS                                                                          \
    "SELECT s.id, o.name, o.tier, m.name, s.public_key, s.enrolled, s.revoked, s.last_heard,"      \
    " s.software, s.firmware, s.ruleset, s.schema, s.next_seq, s.stats_at,"                        \
    " json_extract(s.stats, '$.uptime'), json_extract(s.stats, '$.packets'),"                      \
    " json_extract(s.stats, '$.kernel_drops'), json_extract(s.stats, '$.if_drops'),"               \
    " json_extract(s.stats, '$.decode_invalid'), json_extract(s.stats, '$.flow_memcap_drops'),"    \
    " coalesce(json_extract(s.stats, '$.spool_alerts'), s.spool_alerts),"                          \
    " json_extract(s.stats, '$.spool_dropped'), json_extract(s.stats, '$.alerts'),"                \
    " json_extract(s.stats, '$.alerts_per_min'),"                                                  \
    " (SELECT sum(count) FROM rejects r WHERE r.sensor_id = s.id),"                                \
    " (SELECT sum(last - first + 1) FROM gaps g WHERE g.sensor_id = s.id)"                         \
    " FROM sensors s JOIN organisations o ON o.id = s.org_id"                                      \
    " LEFT JOIN organisations m ON m.id = o.ministry_id"

static const char store_sql_sensor_get[] = STORE_SENSOR_COLS " WHERE s.id = ?1";
static const char store_sql_sensor_by_key[] = STORE_SENSOR_COLS " WHERE s.public_key = ?1";
static const char store_sql_sensor_list[] = STORE_SENSOR_COLS " ORDER BY s.id";
static const char store_sql_sensor_insert[] =
    "INSERT INTO sensors (id, org_id, public_key, enrolled)"
    " VALUES (?1, (SELECT id FROM organisations WHERE name = ?2), ?3, ?4)";
static const char store_sql_sensor_key_used[] =
    "SELECT 'sensor', id FROM sensors WHERE public_key = ?1"
    " UNION ALL SELECT 'analyst', name FROM analysts WHERE public_key = ?1";
static const char store_sql_sensor_revoke[] =
    "UPDATE sensors SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL";
static const char store_sql_sensor_hello[] =
    "UPDATE sensors SET software = ?2, firmware = ?3, ruleset = ?4, schema = ?5,"
    " spool_alerts = ?6, spool_bytes = ?7, last_heard = ?8 WHERE id = ?1";
static const char store_sql_sensor_stats[] =
    "UPDATE sensors SET stats = ?2, stats_at = ?3, last_heard = ?3 WHERE id = ?1";
static const char store_sql_sensor_next[] = "SELECT next_seq FROM sensors WHERE id = ?1";
static const char store_sql_sensor_advance[] =
    "UPDATE sensors SET next_seq = ?2, last_heard = ?3 WHERE id = ?1";
static const char store_sql_gap_insert[] =
    "INSERT INTO gaps (sensor_id, first, last, noticed) VALUES (?1, ?2, ?3, ?4)";

static void store_sensor_read(sqlite3_stmt *st, void *row)
{
    struct store_sensor *se = row;

    store_col_text(st, 0, se->id, sizeof(se->id));
    store_col_text(st, 1, se->org, sizeof(se->org));
    se->tier = (unsigned)sqlite3_column_int(st, 2);
    store_col_text(st, 3, se->ministry, sizeof(se->ministry));
    store_col_text(st, 4, se->public_key, sizeof(se->public_key));
    se->enrolled = sqlite3_column_int64(st, 5);
    se->revoked = store_col_opt(st, 6, 0);
    se->last_heard = store_col_opt(st, 7, 0);
    store_col_text(st, 8, se->software, sizeof(se->software));
    store_col_text(st, 9, se->firmware, sizeof(se->firmware));
    store_col_text(st, 10, se->ruleset, sizeof(se->ruleset));
    store_col_text(st, 11, se->schema, sizeof(se->schema));
    se->next_seq = (uint64_t)sqlite3_column_int64(st, 12);
    se->stats_at = store_col_opt(st, 13, 0);
    se->uptime = store_col_opt(st, 14, -1);
    se->packets = store_col_opt(st, 15, -1);
    se->kernel_drops = store_col_opt(st, 16, -1);
    se->if_drops = store_col_opt(st, 17, -1);
    se->decode_invalid = store_col_opt(st, 18, -1);
    se->flow_drops = store_col_opt(st, 19, -1);
    se->spool_alerts = store_col_opt(st, 20, -1);
    se->spool_dropped = store_col_opt(st, 21, -1);
    se->alerts = store_col_opt(st, 22, -1);
    se->alerts_per_min = store_col_opt(st, 23, -1);
    se->rejected = store_col_opt(st, 24, 0);
    se->gaps = store_col_opt(st, 25, 0);
}

static int store_sensor_one(struct store *s, const char *sql, const char *arg,
                            struct store_sensor *out)
{
    return store_walk(s, store_stmt1(s, sql, arg), store_sensor_read, out, NULL, NULL, "sensor");
}

int store_sensor_get(struct store *s, const char *id, struct store_sensor *out)
{
    int rc = store_sensor_one(s, store_sql_sensor_get, id, out);

    if (rc == -ENOENT)
        return store_fail(s, rc, "no sensor \"%s\"", id);
    return rc;
}

int store_sensor_by_key(struct store *s, const char *public_key, struct store_sensor *out)
{
    int rc = store_sensor_one(s, store_sql_sensor_by_key, public_key, out);

    if (rc == -ENOENT)
        return store_fail(s, rc, "no sensor holds key %s", public_key);
    return rc;
}

struct store_key_user {
    char kind[16], who[STORE_MAX_NAME + 1];
};

static void store_key_user_read(sqlite3_stmt *st, void *row)
{
    struct store_key_user *u = row;

    store_col_text(st, 0, u->kind, sizeof(u->kind));
    store_col_text(st, 1, u->who, sizeof(u->who));
}

/* A key may serve one sensor or one analyst, never two of them: the key is
 * the identity. */
static int store_key_unused(struct store *s, const char *key)
{
    struct store_key_user u;
    int rc;

    if (!store_key_ok(key))
        return store_fail(s, -EINVAL, "\"%s\" is not a CURVE public key (40 Z85 characters)", key);
    rc = store_walk(s, store_stmt1(s, store_sql_sensor_key_used, key), store_key_user_read, &u,
                    NULL, NULL, "key");
    if (rc == 0)
        return store_fail(s, -EEXIST, "public key %s is already the key of %s \"%s\"", key, u.kind,
                          u.who);
    return rc == -ENOENT ? 0 : rc;
}

int store_sensor_add(struct store *s, const char *id, const char *org, const char *public_key,
                     int64_t now)
{
    struct store_sensor se;
    struct store_org o;
    sqlite3_stmt *st;
    bool own;
    int rc;

    if (!store_sensor_id_ok(id))
        return store_fail(s, -EINVAL,
                          "sensor id \"%s\": 1 to %d of A-Z a-z 0-9 . - _, starting with a "
                          "letter or digit",
                          id, STORE_MAX_ID);
    if ((rc = store_tx_open(s, &own)) != 0)
        return rc;
    rc = store_sensor_get(s, id, &se);
    if (rc == 0)
        rc = store_fail(s, -EEXIST, "sensor \"%s\" already exists (%s); choose another id", id,
                        se.revoked != 0 ? "revoked" : "enrolled");
    else if (rc == -ENOENT)
        rc = store_org_get(s, org, &o);
    if (rc == 0)
        rc = store_key_unused(s, public_key);
    if (rc == 0) {
        if ((st = store_stmt(s, store_sql_sensor_insert)) == NULL) {
            rc = -EIO;
        } else {
            store_bind_text(st, 1, id);
            store_bind_text(st, 2, org);
            store_bind_text(st, 3, public_key);
            sqlite3_bind_int64(st, 4, now);
            rc = store_step_done(s, st, "enrol sensor");
        }
    }
    return store_tx_close(s, own, rc);
}

int store_sensor_revoke(struct store *s, const char *id, int64_t now)
{
    struct store_sensor se;
    sqlite3_stmt *st;
    bool own;
    int rc;

    if ((rc = store_tx_open(s, &own)) != 0)
        return rc;
    if ((rc = store_sensor_get(s, id, &se)) == 0 && se.revoked != 0)
        rc = store_fail(s, -EALREADY, "sensor \"%s\" is already revoked", id);
    if (rc == 0) {
        if ((st = store_stmt(s, store_sql_sensor_revoke)) == NULL) {
            rc = -EIO;
        } else {
            store_bind_text(st, 1, id);
            sqlite3_bind_int64(st, 2, now);
            rc = store_step_done(s, st, "revoke sensor");
        }
    }
    return store_tx_close(s, own, rc);
}

int store_sensor_list(struct store *s, int (*fn)(void *arg, const struct store_sensor *se),
                      void *arg)
{
    struct store_visit v = {.sensor = fn, .arg = arg};
    /* Over 1 KB of version strings: not for the stack of a deep caller. */
    struct store_sensor *se = malloc(sizeof(*se));
    int rc;

    if (se == NULL)
        return -ENOMEM;
    rc = store_walk(s, store_stmt(s, store_sql_sensor_list), store_sensor_read, se, store_visit, &v,
                    "list sensors");
    free(se);
    return rc;
}

/* An UPDATE of one sensor row; -ENOENT when there is no such sensor. */
static int store_sensor_update(struct store *s, sqlite3_stmt *st, const char *id, const char *what)
{
    int rc = store_step_done(s, st, what);

    if (rc == 0 && sqlite3_changes(s->db) == 0)
        return store_fail(s, -ENOENT, "no sensor \"%s\"", id);
    return rc;
}

int store_sensor_hello(struct store *s, const char *id, const struct wire_hello *h, int64_t now)
{
    sqlite3_stmt *st = store_stmt(s, store_sql_sensor_hello);

    if (st == NULL)
        return -EIO;
    store_bind_text(st, 1, id);
    store_bind_text(st, 2, h->software);
    store_bind_text(st, 3, h->firmware);
    store_bind_text(st, 4, h->ruleset);
    store_bind_text(st, 5, h->schema);
    sqlite3_bind_int64(st, 6, (int64_t)(h->spool_alerts > INT64_MAX ? INT64_MAX : h->spool_alerts));
    sqlite3_bind_int64(st, 7, (int64_t)(h->spool_bytes > INT64_MAX ? INT64_MAX : h->spool_bytes));
    sqlite3_bind_int64(st, 8, now);
    return store_sensor_update(s, st, id, "record HELLO");
}

int store_sensor_stats(struct store *s, const char *id, const char *json, int64_t now)
{
    sqlite3_stmt *st = store_stmt(s, store_sql_sensor_stats);

    if (st == NULL)
        return -EIO;
    store_bind_text(st, 1, id);
    store_bind_text(st, 2, json);
    sqlite3_bind_int64(st, 3, now);
    return store_sensor_update(s, st, id, "record STATS");
}

static void store_int_read(sqlite3_stmt *st, void *row)
{
    *(int64_t *)row = sqlite3_column_int64(st, 0);
}

static int store_next_seq(struct store *s, const char *id, uint64_t *next)
{
    int64_t v = 0;
    int rc = store_walk(s, store_stmt1(s, store_sql_sensor_next, id), store_int_read, &v, NULL,
                        NULL, "sequence");

    if (rc == -ENOENT)
        return store_fail(s, rc, "no sensor \"%s\"", id);
    *next = (uint64_t)v;
    return rc;
}

int store_sensor_acked(struct store *s, const char *id, uint64_t *acked)
{
    uint64_t next;
    int rc;

    if ((rc = store_next_seq(s, id, &next)) != 0)
        return rc;
    *acked = next > 0 ? next - 1 : 0;
    return 0;
}

int store_sensor_batch(struct store *s, const char *id, const uint64_t *seqs, size_t n, int64_t now,
                       uint64_t *acked)
{
    uint64_t expect;
    sqlite3_stmt *st;
    int rc, gaps = 0;

    if ((rc = store_next_seq(s, id, &expect)) != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (seqs[i] > expect) {
            if ((st = store_stmt(s, store_sql_gap_insert)) == NULL)
                return -EIO;
            store_bind_text(st, 1, id);
            sqlite3_bind_int64(st, 2, (int64_t)expect);
            sqlite3_bind_int64(st, 3, (int64_t)(seqs[i] - 1));
            sqlite3_bind_int64(st, 4, now);
            if ((rc = store_step_done(s, st, "record gap")) != 0)
                return rc;
            gaps++;
        }
        /* SQLite integers are signed: sequences stay below 2^63. */
        if (seqs[i] >= expect && seqs[i] < (uint64_t)INT64_MAX)
            expect = seqs[i] + 1;
    }
    if ((st = store_stmt(s, store_sql_sensor_advance)) == NULL)
        return -EIO;
    store_bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, (int64_t)expect);
    sqlite3_bind_int64(st, 3, now);
    if ((rc = store_sensor_update(s, st, id, "advance sequence")) != 0)
        return rc;
    *acked = expect - 1;
    return gaps;
}

/* ---- analysts ----------------------------------------------------------------------------- */

static const char store_sql_analyst_get[] =
    "SELECT name, public_key, tiers, created, revoked FROM analysts WHERE name = ?1";
static const char store_sql_analyst_by_key[] =
    "SELECT name, public_key, tiers, created, revoked FROM analysts WHERE public_key = ?1";
static const char store_sql_analyst_list[] =
    "SELECT name, public_key, tiers, created, revoked FROM analysts ORDER BY name";
static const char store_sql_analyst_insert[] =
    "INSERT INTO analysts (name, public_key, tiers, created) VALUES (?1, ?2, ?3, ?4)";
static const char store_sql_analyst_revoke[] =
    "UPDATE analysts SET revoked = ?2 WHERE name = ?1 AND revoked IS NULL";

static void store_analyst_read(sqlite3_stmt *st, void *row)
{
    struct store_analyst *a = row;

    store_col_text(st, 0, a->name, sizeof(a->name));
    store_col_text(st, 1, a->public_key, sizeof(a->public_key));
    a->tiers = (unsigned)sqlite3_column_int(st, 2);
    a->created = sqlite3_column_int64(st, 3);
    a->revoked = store_col_opt(st, 4, 0);
}

static int store_analyst_one(struct store *s, const char *sql, const char *arg,
                             struct store_analyst *out)
{
    return store_walk(s, store_stmt1(s, sql, arg), store_analyst_read, out, NULL, NULL, "analyst");
}

int store_analyst_add(struct store *s, const char *name, const char *public_key, unsigned tiers,
                      int64_t now)
{
    struct store_analyst a;
    sqlite3_stmt *st;
    bool own;
    int rc;

    if (!store_name_ok(name))
        return store_fail(s, -EINVAL,
                          "analyst name \"%s\": 1 to %d printable bytes, no blank at either end",
                          name, STORE_MAX_NAME);
    if (tiers == 0 || tiers > STORE_TIERS_ALL)
        return store_fail(s, -EINVAL, "analyst \"%s\": tiers must be 1, 2 or 1,2", name);
    if ((rc = store_tx_open(s, &own)) != 0)
        return rc;
    rc = store_analyst_one(s, store_sql_analyst_get, name, &a);
    if (rc == 0)
        rc = store_fail(s, -EEXIST, "analyst \"%s\" already exists", name);
    else if (rc == -ENOENT)
        rc = store_key_unused(s, public_key);
    if (rc == 0) {
        if ((st = store_stmt(s, store_sql_analyst_insert)) == NULL) {
            rc = -EIO;
        } else {
            store_bind_text(st, 1, name);
            store_bind_text(st, 2, public_key);
            sqlite3_bind_int(st, 3, (int)tiers);
            sqlite3_bind_int64(st, 4, now);
            rc = store_step_done(s, st, "add analyst");
        }
    }
    return store_tx_close(s, own, rc);
}

int store_analyst_revoke(struct store *s, const char *name, int64_t now)
{
    struct store_analyst a;
    sqlite3_stmt *st;
    bool own;
    int rc;

    if ((rc = store_tx_open(s, &own)) != 0)
        return rc;
    rc = store_analyst_one(s, store_sql_analyst_get, name, &a);
    if (rc == -ENOENT)
        rc = store_fail(s, rc, "no analyst \"%s\"", name);
    else if (rc == 0 && a.revoked != 0)
        rc = store_fail(s, -EALREADY, "analyst \"%s\" is already revoked", name);
    if (rc == 0) {
        if ((st = store_stmt(s, store_sql_analyst_revoke)) == NULL) {
            rc = -EIO;
        } else {
            store_bind_text(st, 1, name);
            sqlite3_bind_int64(st, 2, now);
            rc = store_step_done(s, st, "revoke analyst");
        }
    }
    return store_tx_close(s, own, rc);
}

int store_analyst_by_key(struct store *s, const char *public_key, struct store_analyst *out)
{
    int rc = store_analyst_one(s, store_sql_analyst_by_key, public_key, out);

    if (rc == -ENOENT)
        return store_fail(s, rc, "no analyst holds key %s", public_key);
    return rc;
}

int store_analyst_list(struct store *s, int (*fn)(void *arg, const struct store_analyst *a),
                       void *arg)
{
    struct store_visit v = {.analyst = fn, .arg = arg};
    struct store_analyst a;

    return store_walk(s, store_stmt(s, store_sql_analyst_list), store_analyst_read, &a, store_visit,
                      &v, "list analysts");
}

/* ---- alerts ------------------------------------------------------------------------------- */

static const char store_sql_alert_insert[] =
    "INSERT OR IGNORE INTO alerts (sensor_id, seq, received, alert_time, org, tier, sid,"
    " severity, src_ip, src_port, dest_ip, dest_port, proto, signature, json)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
static const char store_sql_retention[] =
    "DELETE FROM alerts WHERE rowid IN"
    " (SELECT rowid FROM alerts WHERE received < ?1 LIMIT ?2)";

int store_begin(struct store *s)
{
    return store_exec(s, "BEGIN IMMEDIATE", "begin");
}

int store_commit(struct store *s)
{
    int rc = store_exec(s, "COMMIT", "commit");

    if (rc != 0)
        store_rollback(s);
    return rc;
}

void store_rollback(struct store *s)
{
    if (sqlite3_get_autocommit(s->db) == 0)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_alert_add(struct store *s, const struct store_alert *a)
{
    sqlite3_stmt *st = store_stmt(s, store_sql_alert_insert);
    int rc;

    if (st == NULL)
        return -EIO;
    if (a->seq == 0 || a->seq >= (uint64_t)INT64_MAX || a->json_len > INT32_MAX)
        return store_fail(s, -EINVAL, "alert %" PRIu64 " of \"%s\": out of range", a->seq,
                          a->sensor_id);
    store_bind_text(st, 1, a->sensor_id);
    sqlite3_bind_int64(st, 2, (int64_t)a->seq);
    sqlite3_bind_int64(st, 3, a->received);
    sqlite3_bind_int64(st, 4, a->alert_time);
    store_bind_text(st, 5, a->org);
    sqlite3_bind_int(st, 6, (int)a->tier);
    store_bind_opt_int(st, 7, a->sid, -1);
    store_bind_opt_int(st, 8, a->severity, 0);
    store_bind_text(st, 9, a->src_ip);
    store_bind_opt_int(st, 10, a->src_port, -1);
    store_bind_text(st, 11, a->dest_ip);
    store_bind_opt_int(st, 12, a->dest_port, -1);
    store_bind_text(st, 13, a->proto);
    store_bind_text(st, 14, a->signature);
    sqlite3_bind_text(st, 15, a->json, (int)a->json_len, SQLITE_STATIC);
    if ((rc = store_step_done(s, st, "store alert")) != 0)
        return rc;
    return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

/* Addresses are compared in their canonical text form, so "2001:DB8::1"
 * finds "2001:db8::1". */
static const char *store_canon_ip(const char *in, char *buf, size_t len)
{
    unsigned char bin[16];

    if (inet_pton(AF_INET, in, bin) == 1)
        return inet_ntop(AF_INET, bin, buf, (socklen_t)len) != NULL ? buf : in;
    if (inet_pton(AF_INET6, in, bin) == 1)
        return inet_ntop(AF_INET6, bin, buf, (socklen_t)len) != NULL ? buf : in;
    return in;
}

int64_t store_search(struct store *s, const struct store_query *q,
                     int (*fn)(void *arg, const struct store_alert *a), void *arg)
{
    char sql[1024], addr[64];
    size_t n;
    sqlite3_stmt *st;
    int64_t count = 0;
    int rc, i = 1;

    n = (size_t)snprintf(sql, sizeof(sql),
                         "SELECT * FROM (SELECT sensor_id, seq, received, alert_time, org, tier,"
                         " sid, severity, src_ip, src_port, dest_ip, dest_port, proto, signature,"
                         " json FROM alerts WHERE 1");
#define STORE_WHERE(cond, clause)                                                                  \
    do {                                                                                           \
        if (cond)                                                                                  \
            n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND %s", clause);                    \
    } while (0)
    STORE_WHERE(q->has_since, "alert_time >= ?1");
    STORE_WHERE(q->has_until, "alert_time < ?2");
    STORE_WHERE(q->tier != 0, "tier = ?3");
    STORE_WHERE(q->org != NULL, "org = ?4");
    STORE_WHERE(q->sensor != NULL, "sensor_id = ?5");
    STORE_WHERE(q->sid >= 0, "sid = ?6");
    STORE_WHERE(q->addr != NULL, "(src_ip = ?7 OR dest_ip = ?7)");
    STORE_WHERE(q->severity != 0, "severity = ?8");
    STORE_WHERE(q->signature != NULL, "instr(signature, ?9) > 0");
#undef STORE_WHERE
    n += (size_t)snprintf(sql + n, sizeof(sql) - n,
                          " ORDER BY alert_time DESC, received DESC%s)"
                          " ORDER BY alert_time, received, sensor_id, seq",
                          q->limit != 0 ? " LIMIT ?10" : "");
    if (n >= sizeof(sql))
        return store_fail(s, -EINVAL, "search: query too long");
    if ((rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL)) != SQLITE_OK)
        return store_sqlfail(s, rc, "search");
    sqlite3_bind_int64(st, i++, q->since);
    sqlite3_bind_int64(st, i++, q->until);
    sqlite3_bind_int(st, i++, (int)q->tier);
    store_bind_text(st, i++, q->org);
    store_bind_text(st, i++, q->sensor);
    sqlite3_bind_int64(st, i++, q->sid);
    store_bind_text(st, i++, q->addr != NULL ? store_canon_ip(q->addr, addr, sizeof(addr)) : NULL);
    sqlite3_bind_int(st, i++, q->severity);
    store_bind_text(st, i++, q->signature);
    sqlite3_bind_int64(st, i++, q->limit > INT64_MAX ? INT64_MAX : (int64_t)q->limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_alert a = {
            .sensor_id = (const char *)sqlite3_column_text(st, 0),
            .seq = (uint64_t)sqlite3_column_int64(st, 1),
            .received = sqlite3_column_int64(st, 2),
            .alert_time = sqlite3_column_int64(st, 3),
            .org = (const char *)sqlite3_column_text(st, 4),
            .tier = (unsigned)sqlite3_column_int(st, 5),
            .sid = store_col_opt(st, 6, -1),
            .severity = (int)store_col_opt(st, 7, 0),
            .src_ip = (const char *)sqlite3_column_text(st, 8),
            .src_port = (int)store_col_opt(st, 9, -1),
            .dest_ip = (const char *)sqlite3_column_text(st, 10),
            .dest_port = (int)store_col_opt(st, 11, -1),
            .proto = (const char *)sqlite3_column_text(st, 12),
            .signature = (const char *)sqlite3_column_text(st, 13),
            .json = (const char *)sqlite3_column_text(st, 14),
        };
        a.json_len = (size_t)sqlite3_column_bytes(st, 14);
        count++;
        if (fn != NULL && (rc = fn(arg, &a)) != 0) {
            sqlite3_finalize(st);
            return rc < 0 ? rc : count;
        }
    }
    if (rc != SQLITE_DONE) {
        rc = store_sqlfail(s, rc, "search");
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    return count;
}

int64_t store_retention(struct store *s, int64_t cutoff)
{
    int64_t total = 0;

    for (;;) {
        sqlite3_stmt *st = store_stmt(s, store_sql_retention);
        int rc, n;

        if (st == NULL)
            return -EIO;
        sqlite3_bind_int64(st, 1, cutoff);
        sqlite3_bind_int(st, 2, STORE_RETENTION_CHUNK);
        if ((rc = store_step_done(s, st, "retention")) != 0)
            return rc;
        n = sqlite3_changes(s->db);
        total += n;
        if (n < STORE_RETENTION_CHUNK)
            return total;
    }
}

/* ---- gaps and rejects --------------------------------------------------------------------- */

static const char store_sql_gap_list[] =
    "SELECT sensor_id, first, last, noticed FROM gaps"
    " WHERE ?1 IS NULL OR sensor_id = ?1 ORDER BY noticed, sensor_id, first";
static const char store_sql_reject_add[] =
    "INSERT INTO rejects (sensor_id, reason, count, last) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (sensor_id, reason) DO UPDATE SET count = count + excluded.count,"
    " last = excluded.last";
static const char store_sql_reject_list[] =
    "SELECT sensor_id, reason, count, last FROM rejects"
    " WHERE ?1 IS NULL OR sensor_id = ?1 ORDER BY sensor_id, reason";

static void store_gap_read(sqlite3_stmt *st, void *row)
{
    struct store_gap *g = row;

    store_col_text(st, 0, g->sensor_id, sizeof(g->sensor_id));
    g->first = (uint64_t)sqlite3_column_int64(st, 1);
    g->last = (uint64_t)sqlite3_column_int64(st, 2);
    g->noticed = sqlite3_column_int64(st, 3);
}

int store_gap_list(struct store *s, const char *sensor,
                   int (*fn)(void *arg, const struct store_gap *g), void *arg)
{
    struct store_visit v = {.gap = fn, .arg = arg};
    struct store_gap g;

    return store_walk(s, store_stmt1(s, store_sql_gap_list, sensor), store_gap_read, &g,
                      store_visit, &v, "list gaps");
}

int store_reject_add(struct store *s, const char *sensor, const char *reason, uint64_t count,
                     int64_t now)
{
    sqlite3_stmt *st = store_stmt(s, store_sql_reject_add);

    if (st == NULL)
        return -EIO;
    store_bind_text(st, 1, sensor);
    store_bind_text(st, 2, reason);
    sqlite3_bind_int64(st, 3, count > INT64_MAX ? INT64_MAX : (int64_t)count);
    sqlite3_bind_int64(st, 4, now);
    return store_step_done(s, st, "count reject");
}

static void store_reject_read(sqlite3_stmt *st, void *row)
{
    struct store_reject *r = row;

    store_col_text(st, 0, r->sensor_id, sizeof(r->sensor_id));
    store_col_text(st, 1, r->reason, sizeof(r->reason));
    r->count = (uint64_t)sqlite3_column_int64(st, 2);
    r->last = sqlite3_column_int64(st, 3);
}

int store_reject_list(struct store *s, const char *sensor,
                      int (*fn)(void *arg, const struct store_reject *r), void *arg)
{
    struct store_visit v = {.reject = fn, .arg = arg};
    struct store_reject r;

    return store_walk(s, store_stmt1(s, store_sql_reject_list, sensor), store_reject_read, &r,
                      store_visit, &v, "list rejects");
}

int store_data_version(struct store *s, int64_t *v)
{
    static const char sql[] = "PRAGMA data_version";

    return store_walk(s, store_stmt(s, sql), store_int_read, v, NULL, NULL, "data version");
}

/* ---- bundles ------------------------------------------------------------------------------ */

static const char store_sql_bundle_insert[] =
    "INSERT INTO bundles (version, kind, size, sha256, data, published)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char store_sql_bundle_get[] =
    "SELECT version, kind, size, sha256, published FROM bundles WHERE version = ?1";
static const char store_sql_dlv_target[] =
    "INSERT INTO deliveries (sensor_id, version, state, targeted, updated)"
    " SELECT s.id, ?1, 0, ?2, ?2 FROM sensors s JOIN organisations o ON o.id = s.org_id"
    " WHERE s.revoked IS NULL AND (?3 = 'all' OR (?3 = 'tier' AND o.tier = ?4)"
    "   OR (?3 = 'org' AND o.name = ?5) OR (?3 = 'sensor' AND s.id = ?5))"
    " ON CONFLICT (sensor_id, version) DO NOTHING";
static const char store_sql_org_exists[] = "SELECT 1 FROM organisations WHERE name = ?1";
static const char store_sql_sensor_active[] =
    "SELECT 1 FROM sensors WHERE id = ?1 AND revoked IS NULL";
#define STORE_DLV_COLS                                                                             \
    "SELECT d.sensor_id, d.version, d.state, d.fetched, b.size, b.kind, d.reason, d.targeted,"     \
    " d.updated, s.ruleset FROM deliveries d JOIN bundles b ON b.version = d.version"              \
    " JOIN sensors s ON s.id = d.sensor_id"
static const char store_sql_dlv_list[] =
    STORE_DLV_COLS " WHERE ?1 IS NULL OR d.sensor_id = ?1 ORDER BY d.sensor_id, d.version";
static const char store_sql_dlv_targeted[] =
    STORE_DLV_COLS " WHERE d.state = 0 ORDER BY d.version, d.sensor_id";
static const char store_sql_dlv_next[] =
    STORE_DLV_COLS " WHERE d.sensor_id = ?1 AND d.state < 4 ORDER BY d.version DESC LIMIT 1";
static const char store_sql_dlv_get[] =
    STORE_DLV_COLS " WHERE d.sensor_id = ?1 AND d.version = ?2";
static const char store_sql_dlv_set[] =
    "UPDATE deliveries SET state = ?3, updated = ?4,"
    " fetched = CASE WHEN ?5 IS NULL OR ?5 < fetched THEN fetched ELSE ?5 END,"
    " reason = CASE WHEN ?6 IS NULL THEN reason ELSE ?6 END"
    " WHERE sensor_id = ?1 AND version = ?2";
static const char store_sql_sensor_ruleset[] = "UPDATE sensors SET ruleset = ?2 WHERE id = ?1";

const char *store_dlv_state_name(enum store_dlv_state st)
{
    static const char *const names[] = {
        [STORE_DLV_TARGETED] = "targeted", [STORE_DLV_OFFERED] = "offered",
        [STORE_DLV_FETCHING] = "fetching", [STORE_DLV_FETCHED] = "fetched",
        [STORE_DLV_APPLIED] = "applied",   [STORE_DLV_REJECTED] = "rejected",
    };

    if ((unsigned)st < KANSHI_ARRAY_LEN(names))
        return names[st];
    return "?";
}

int store_bundle_add(struct store *s, const struct store_bundle *b, const uint8_t *data,
                     int64_t now)
{
    sqlite3_stmt *st;
    int rc;

    if (b->version == 0 || b->version > INT64_MAX)
        return store_fail(s, -EINVAL, "bundle version %" PRIu64 " out of range", b->version);
    if (b->size == 0 || b->size > STORE_MAX_BUNDLE || data == NULL)
        return store_fail(s, -EINVAL, "bundle of %" PRIu64 " bytes: out of range", b->size);
    if ((st = store_stmt(s, store_sql_bundle_insert)) == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, (int64_t)b->version);
    store_bind_text(st, 2, b->kind);
    sqlite3_bind_int64(st, 3, (int64_t)b->size);
    sqlite3_bind_blob(st, 4, b->sha256, WIRE_SHA256_LEN, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 5, data, b->size, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now);
    rc = store_step_done(s, st, "publish bundle");
    /* Do not keep a reference to the caller's (large) buffer. */
    sqlite3_clear_bindings(st);
    if (rc == -EEXIST)
        return store_fail(s, rc, "bundle version %" PRIu64 " is already published", b->version);
    return rc;
}

static void store_bundle_row(sqlite3_stmt *st, void *row)
{
    struct store_bundle *b = row;
    const void *h = sqlite3_column_blob(st, 3);

    b->version = (uint64_t)sqlite3_column_int64(st, 0);
    store_col_text(st, 1, b->kind, sizeof(b->kind));
    b->size = (uint64_t)sqlite3_column_int64(st, 2);
    memset(b->sha256, 0, sizeof(b->sha256));
    if (h != NULL && sqlite3_column_bytes(st, 3) == WIRE_SHA256_LEN)
        memcpy(b->sha256, h, WIRE_SHA256_LEN);
    b->published = sqlite3_column_int64(st, 4);
}

int store_bundle_get(struct store *s, uint64_t version, struct store_bundle *out)
{
    sqlite3_stmt *st = store_stmt(s, store_sql_bundle_get);
    int rc;

    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, version > INT64_MAX ? -1 : (int64_t)version);
    rc = store_walk(s, st, store_bundle_row, out, NULL, NULL, "bundle");
    if (rc == -ENOENT)
        return store_fail(s, rc, "no bundle version %" PRIu64, version);
    return rc;
}

int64_t store_bundle_read(struct store *s, uint64_t version, uint64_t off, uint8_t *buf,
                          size_t len)
{
    sqlite3_blob *bl = NULL;
    int64_t size;
    size_t n;
    int rc;

    if (version == 0 || version > INT64_MAX)
        return store_fail(s, -ENOENT, "no bundle version %" PRIu64, version);
    /* The bundle's rowid is its version (INTEGER PRIMARY KEY): read the
     * chunk alone, not the whole blob. */
    rc = sqlite3_blob_open(s->db, "main", "bundles", "data", (sqlite3_int64)version, 0, &bl);
    if (rc != SQLITE_OK) {
        if (bl != NULL)
            sqlite3_blob_close(bl);
        if (rc == SQLITE_ERROR)
            return store_fail(s, -ENOENT, "no bundle version %" PRIu64, version);
        return store_sqlfail(s, rc, "read bundle");
    }
    size = sqlite3_blob_bytes(bl);
    if (off >= (uint64_t)size || len == 0) {
        sqlite3_blob_close(bl);
        return 0;
    }
    n = (uint64_t)size - off < len ? (size_t)((uint64_t)size - off) : len;
    rc = sqlite3_blob_read(bl, buf, (int)n, (int)off);
    sqlite3_blob_close(bl);
    if (rc != SQLITE_OK)
        return store_sqlfail(s, rc, "read bundle");
    return (int64_t)n;
}

/* 0 when the query with arg finds a row, -ENOENT otherwise. */
static int store_exists(struct store *s, const char *sql, const char *arg)
{
    int64_t v;

    return store_walk(s, store_stmt1(s, sql, arg), store_int_read, &v, NULL, NULL, "look up");
}

/* One INSERT of the targeting statement. */
static int store_target_one(struct store *s, uint64_t version, const char *kind, int64_t tier,
                            const char *name, int64_t now, int *added)
{
    sqlite3_stmt *st = store_stmt(s, store_sql_dlv_target);
    int rc;

    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 1, (int64_t)version);
    sqlite3_bind_int64(st, 2, now);
    store_bind_text(st, 3, kind);
    sqlite3_bind_int64(st, 4, tier);
    store_bind_text(st, 5, name);
    if ((rc = store_step_done(s, st, "target bundle")) == 0)
        *added += sqlite3_changes(s->db);
    return rc;
}

int store_bundle_target(struct store *s, uint64_t version, const char *spec, int64_t now)
{
    struct store_bundle b;
    bool own;
    int rc, added = 0;

    if (spec == NULL)
        return store_fail(s, -EINVAL, "no target");
    if ((rc = store_tx_open(s, &own)) != 0)
        return rc;
    if ((rc = store_bundle_get(s, version, &b)) != 0)
        return store_tx_close(s, own, rc);
    if (strcmp(spec, "all") == 0) {
        rc = store_target_one(s, version, "all", 0, NULL, now, &added);
    } else if (strncmp(spec, "tier:", 5) == 0) {
        if (strcmp(spec + 5, "1") != 0 && strcmp(spec + 5, "2") != 0)
            rc = store_fail(s, -EINVAL, "\"%s\": the tier is 1 or 2", spec);
        else
            rc = store_target_one(s, version, "tier", spec[5] - '0', NULL, now, &added);
    } else if (strncmp(spec, "org:", 4) == 0) {
        if ((rc = store_exists(s, store_sql_org_exists, spec + 4)) == -ENOENT)
            rc = store_fail(s, rc, "no organisation \"%s\"", spec + 4);
        else if (rc == 0)
            rc = store_target_one(s, version, "org", 0, spec + 4, now, &added);
    } else if (strncmp(spec, "sensor:", 7) == 0) {
        char id[STORE_MAX_ID + 1];
        const char *p = spec + 7;

        do {
            size_t n = strcspn(p, ",");
            if (n == 0 || n > STORE_MAX_ID) {
                rc = store_fail(s, -EINVAL, "\"%s\": a sensor id is empty or too long", spec);
                break;
            }
            memcpy(id, p, n);
            id[n] = '\0';
            if ((rc = store_exists(s, store_sql_sensor_active, id)) == -ENOENT)
                rc = store_fail(s, rc, "no active sensor \"%s\"", id);
            if (rc == 0)
                rc = store_target_one(s, version, "sensor", 0, id, now, &added);
            p += n;
        } while (rc == 0 && *p++ == ',');
    } else {
        rc = store_fail(s, -EINVAL,
                        "\"%s\": give all, tier:N, org:NAME or sensor:ID[,ID...]", spec);
    }
    rc = store_tx_close(s, own, rc);
    return rc != 0 ? rc : added;
}

static void store_dlv_read(sqlite3_stmt *st, void *row)
{
    struct store_delivery *d = row;

    store_col_text(st, 0, d->sensor_id, sizeof(d->sensor_id));
    d->version = (uint64_t)sqlite3_column_int64(st, 1);
    d->state = (enum store_dlv_state)sqlite3_column_int(st, 2);
    d->fetched = (uint64_t)sqlite3_column_int64(st, 3);
    d->size = (uint64_t)sqlite3_column_int64(st, 4);
    store_col_text(st, 5, d->kind, sizeof(d->kind));
    store_col_text(st, 6, d->reason, sizeof(d->reason));
    d->targeted = sqlite3_column_int64(st, 7);
    d->updated = sqlite3_column_int64(st, 8);
    store_col_text(st, 9, d->running, sizeof(d->running));
}

int store_delivery_list(struct store *s, const char *sensor,
                        int (*fn)(void *arg, const struct store_delivery *d), void *arg)
{
    struct store_visit v = {.delivery = fn, .arg = arg};
    struct store_delivery *d = malloc(sizeof(*d));
    int rc;

    if (d == NULL)
        return -ENOMEM;
    rc = store_walk(s, store_stmt1(s, store_sql_dlv_list, sensor), store_dlv_read, d, store_visit,
                    &v, "list deliveries");
    free(d);
    return rc;
}

int store_delivery_targeted(struct store *s,
                            int (*fn)(void *arg, const struct store_delivery *d), void *arg)
{
    struct store_visit v = {.delivery = fn, .arg = arg};
    struct store_delivery *d = malloc(sizeof(*d));
    int rc;

    if (d == NULL)
        return -ENOMEM;
    rc = store_walk(s, store_stmt(s, store_sql_dlv_targeted), store_dlv_read, d, store_visit, &v,
                    "list deliveries");
    free(d);
    return rc;
}

int store_delivery_next(struct store *s, const char *sensor, struct store_delivery *out)
{
    return store_walk(s, store_stmt1(s, store_sql_dlv_next, sensor), store_dlv_read, out, NULL,
                      NULL, "next delivery");
}

int store_delivery_get(struct store *s, const char *sensor, uint64_t version,
                       struct store_delivery *out)
{
    sqlite3_stmt *st = store_stmt1(s, store_sql_dlv_get, sensor);

    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 2, version > INT64_MAX ? -1 : (int64_t)version);
    return store_walk(s, st, store_dlv_read, out, NULL, NULL, "delivery");
}

int store_delivery_set(struct store *s, const char *sensor, uint64_t version,
                       enum store_dlv_state state, uint64_t fetched, const char *reason,
                       int64_t now)
{
    sqlite3_stmt *st = store_stmt1(s, store_sql_dlv_set, sensor);
    int rc;

    if (st == NULL)
        return -EIO;
    sqlite3_bind_int64(st, 2, version > INT64_MAX ? -1 : (int64_t)version);
    sqlite3_bind_int(st, 3, (int)state);
    sqlite3_bind_int64(st, 4, now);
    store_bind_opt_int(st, 5, fetched > INT64_MAX ? -1 : (int64_t)fetched, -1);
    store_bind_text(st, 6, reason);
    rc = store_step_done(s, st, "record delivery");
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        return store_fail(s, -ENOENT, "sensor \"%s\" was never offered bundle %" PRIu64, sensor,
                          version);
    return rc;
}

int store_sensor_ruleset(struct store *s, const char *id, const char *ruleset)
{
    sqlite3_stmt *st = store_stmt1(s, store_sql_sensor_ruleset, id);

    if (st == NULL)
        return -EIO;
    store_bind_text(st, 2, ruleset);
    return store_sensor_update(s, st, id, "record ruleset");
}
