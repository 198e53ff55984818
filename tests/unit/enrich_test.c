/*
 * enrich_test.c — GeoIP enrichment against MaxMind's real test databases in
 * ../shared/data/geoip: known answers for IPv4 and IPv6, addresses that are
 * not in a database, and refusal of every broken database with its path and
 * the problem in the message.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kanshi/enrich.h"
#include "kanshi/kanshi.h"
#include "test.h"

static char err[512];

/* Path of a test database; a static copy per call site would be overwritten
 * by test_shared_path's buffer, so callers copy when they need two. */
static const char *db(const char *name)
{
    char rel[128];

    snprintf(rel, sizeof(rel), "data/geoip/%s", name);
    return test_shared_path(rel);
}

static struct kanshi_addr addr(const char *text)
{
    struct kanshi_addr a = {0};

    if (inet_pton(AF_INET, text, a.a) == 1)
        a.family = AF_INET;
    else if (inet_pton(AF_INET6, text, a.a) == 1)
        a.family = AF_INET6;
    return a;
}

static struct enricher *open_both(void)
{
    char country[4096], asn[4096];
    struct enricher *e = NULL;
    const char *p;

    if ((p = db("GeoLite2-Country-Test.mmdb")) == NULL)
        return NULL;
    snprintf(country, sizeof(country), "%s", p);
    if ((p = db("GeoLite2-ASN-Test.mmdb")) == NULL)
        return NULL;
    snprintf(asn, sizeof(asn), "%s", p);
    if (enrich_open(&e, country, asn, err, sizeof(err)) != 0) {
        fprintf(stderr, "enrich_open: %s\n", err);
        return NULL;
    }
    return e;
}

TEST(test_known_answers)
{
    struct enricher *e;
    struct geo_info g;
    struct kanshi_addr a;

    if (db("GeoLite2-Country-Test.mmdb") == NULL)
        SKIP("../shared/data/geoip absent");
    e = open_both();
    CHECK(e != NULL);
    if (e == NULL)
        return;

    a = addr("2.125.160.216");
    CHECK_INT(enrich_lookup(e, &a, &g), 0);
    CHECK(g.has_country);
    CHECK_STR(g.country, "GB");
    CHECK(!g.has_asn);

    a = addr("1.128.0.0");
    CHECK_INT(enrich_lookup(e, &a, &g), 0);
    CHECK(g.has_asn);
    CHECK_INT(g.asn, 1221);
    CHECK_STR(g.as_org, "Telstra Pty Ltd");

    a = addr("12.81.92.0");
    CHECK_INT(enrich_lookup(e, &a, &g), 0);
    CHECK_INT(g.asn, 7018);
    CHECK_STR(g.as_org, "AT&T Services");

    a = addr("89.160.20.112");
    CHECK_INT(enrich_lookup(e, &a, &g), 0);
    CHECK_STR(g.country, "SE");

    CHECK(enrich_country_epoch(e) == 1770245369);
    CHECK(enrich_asn_epoch(e) == 1770245369);
    CHECK_INT(enrich_errors(e), 0);
    enrich_close(e);
}

TEST(test_ipv6)
{
    struct enricher *e;
    struct geo_info g;
    struct kanshi_addr a;

    if (db("GeoLite2-Country-Test.mmdb") == NULL)
        SKIP("../shared/data/geoip absent");
    e = open_both();
    if (e == NULL) {
        CHECK(e != NULL);
        return;
    }
    a = addr("2001:218::1");
    CHECK_INT(enrich_lookup(e, &a, &g), 0);
    CHECK(g.has_country);
    CHECK_STR(g.country, "JP");

    a = addr("2a02:d300::");
    CHECK_INT(enrich_lookup(e, &a, &g), 0);
    CHECK_STR(g.country, "UA");

    a = addr("2600:6000::1");
    CHECK_INT(enrich_lookup(e, &a, &g), 0);
    CHECK(g.has_asn);
    CHECK_INT(g.asn, 237);
    CHECK_STR(g.as_org, "Merit Network Inc.");

    a = addr("2001:1700::");
    CHECK_INT(enrich_lookup(e, &a, &g), 0);
    CHECK_INT(g.asn, 6730);

    /* IPv4-mapped IPv6 goes through the database's IPv4 subtree. */
    a = addr("::ffff:2.125.160.216");
    CHECK_INT(enrich_lookup(e, &a, &g), 0);
    CHECK_STR(g.country, "GB");
    enrich_close(e);
}

TEST(test_not_found)
{
    struct enricher *e;
    struct geo_info g;
    struct kanshi_addr a;

    if (db("GeoLite2-Country-Test.mmdb") == NULL)
        SKIP("../shared/data/geoip absent");
    e = open_both();
    if (e == NULL) {
        CHECK(e != NULL);
        return;
    }
    static const char *const unknown[] = {"10.0.0.1", "127.0.0.1",   "1.1.1.1",
                                          "fe80::1",  "2001:db8::1", "0.0.0.0"};
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(unknown); i++) {
        memset(&g, 0xAA, sizeof(g));
        a = addr(unknown[i]);
        CHECK_INT(enrich_lookup(e, &a, &g), 0);
        CHECK(!g.has_country && !g.has_asn);
        CHECK_STR(g.country, "");
        CHECK_INT(g.asn, 0);
        CHECK_STR(g.as_org, "");
    }

    /* In the database, but the record has no country. */
    a = addr("2a02:d500::1");
    CHECK_INT(enrich_lookup(e, &a, &g), 0);
    CHECK(!g.has_country);

    /* An address of no family is simply not looked up. */
    memset(&a, 0, sizeof(a));
    CHECK_INT(enrich_lookup(e, &a, &g), 0);
    CHECK(!g.has_country && !g.has_asn);
    CHECK_INT(enrich_errors(e), 0);
    enrich_close(e);
}

TEST(test_city_as_country)
{
    struct enricher *e = NULL;
    struct geo_info g;
    struct kanshi_addr a = addr("175.16.199.0");
    const char *p = db("GeoLite2-City-Test.mmdb");

    if (p == NULL)
        SKIP("../shared/data/geoip absent");
    CHECK_INT(enrich_open(&e, p, NULL, err, sizeof(err)), 0);
    if (e == NULL)
        return;
    CHECK_INT(enrich_lookup(e, &a, &g), 0);
    CHECK_STR(g.country, "CN");
    CHECK(!g.has_asn);
    CHECK(enrich_country_epoch(e) > 0);
    CHECK(enrich_asn_epoch(e) == 0);
    enrich_close(e);
}

TEST(test_none_open)
{
    struct enricher *e = NULL;
    struct geo_info g;
    struct kanshi_addr a = addr("2.125.160.216");

    CHECK_INT(enrich_open(&e, NULL, NULL, err, sizeof(err)), 0);
    CHECK(e != NULL);
    CHECK_INT(enrich_lookup(e, &a, &g), 0);
    CHECK(!g.has_country && !g.has_asn);
    CHECK(enrich_country_epoch(e) == 0);
    CHECK(enrich_asn_epoch(e) == 0);
    enrich_close(e);
    enrich_close(NULL);
}

/* Opens path as the country (or ASN) database; must fail with path and why. */
static void check_refused(const char *name, bool as_asn, int want_rc, const char *why)
{
    char path[4096];
    struct enricher *e = NULL;
    const char *p = db(name);
    int rc;

    if (p == NULL) {
        fprintf(stderr, "%s absent\n", name);
        test_cur_failed = 1;
        return;
    }
    snprintf(path, sizeof(path), "%s", p);
    rc = as_asn ? enrich_open(&e, NULL, path, err, sizeof(err))
                : enrich_open(&e, path, NULL, err, sizeof(err));
    CHECK_INT(rc, want_rc);
    CHECK(e == NULL);
    CHECK(strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':');
    CHECK_CONTAINS(err, why);
}

TEST(test_broken_databases)
{
    if (db("GeoLite2-Country-Test.mmdb") == NULL)
        SKIP("../shared/data/geoip absent");
    check_refused("MaxMind-DB-test-broken-pointers-24.mmdb", false, KANSHI_EMMDB,
                  ": corrupt search tree: node 36 left record 100232 points outside");
    check_refused("MaxMind-DB-test-broken-search-tree-24.mmdb", false, KANSHI_EMMDB,
                  ": corrupt search tree: a path through node");
    check_refused("MaxMind-DB-test-broken-search-tree-24.mmdb", true, KANSHI_EMMDB,
                  "(the tree loops)");
    check_refused("GeoIP2-City-Test-Invalid-Node-Count.mmdb", false, KANSHI_EMMDB,
                  ": The MaxMind DB file contains invalid metadata");
    check_refused("LICENSE-MIT", false, KANSHI_EMMDB, "invalid metadata");
}

TEST(test_wrong_role)
{
    if (db("GeoLite2-Country-Test.mmdb") == NULL)
        SKIP("../shared/data/geoip absent");
    check_refused("GeoLite2-ASN-Test.mmdb", false, KANSHI_EMMDB,
                  ": database type \"GeoLite2-ASN\" is not a country database");
    check_refused("GeoLite2-Country-Test.mmdb", true, KANSHI_EMMDB,
                  ": database type \"GeoLite2-Country\" is not an ASN database");
    check_refused("GeoLite2-City-Test.mmdb", true, KANSHI_EMMDB, "is not an ASN database");
}

TEST(test_missing_file)
{
    struct enricher *e = NULL;
    int rc;

    rc = enrich_open(&e, "/nonexistent/GeoLite2-Country.mmdb", NULL, err, sizeof(err));
    CHECK_INT(rc, -ENOENT);
    CHECK(e == NULL);
    CHECK_CONTAINS(err, "/nonexistent/GeoLite2-Country.mmdb: ");
    CHECK_CONTAINS(err, "No such file or directory");

    /* A good country db and a missing ASN db: nothing is left open. */
    if (db("GeoLite2-Country-Test.mmdb") != NULL) {
        char path[4096];
        snprintf(path, sizeof(path), "%s", db("GeoLite2-Country-Test.mmdb"));
        rc = enrich_open(&e, path, "/nonexistent/asn.mmdb", err, sizeof(err));
        CHECK_INT(rc, -ENOENT);
        CHECK(e == NULL);
        CHECK_CONTAINS(err, "/nonexistent/asn.mmdb: ");
    }
}

/* Copies a shared database to a temp file and patches bytes in it. */
static int patched_copy(const char *name, char *out, size_t outlen, size_t off,
                        const uint8_t *bytes, size_t n)
{
    const char *src = db(name);
    FILE *in, *o;
    uint8_t buf[65536];
    size_t len;
    int fd;

    if (src == NULL || (in = fopen(src, "rb")) == NULL)
        return -1;
    len = fread(buf, 1, sizeof(buf), in);
    fclose(in);
    if (off + n > len)
        return -1;
    memcpy(buf + off, bytes, n);
    snprintf(out, outlen, "/tmp/kanshi-mmdb-XXXXXX");
    if ((fd = mkstemp(out)) < 0)
        return -1;
    o = fdopen(fd, "wb");
    if (o == NULL || fwrite(buf, 1, len, o) != len) {
        if (o != NULL)
            fclose(o);
        return -1;
    }
    fclose(o);
    return 0;
}

/*
 * The broken-pointers database also has a data record whose pointer leads
 * nowhere.  Repairing its bad tree record (node 36, left: a 24-bit record
 * at byte 216) leaves only that, which the data check must find.
 */
TEST(test_broken_data_record)
{
    static const uint8_t fix[3] = {0x00, 0x00, 0xb4}; /* 180: the first data record */
    char path[64];
    struct enricher *e = NULL;

    if (db("MaxMind-DB-test-broken-pointers-24.mmdb") == NULL)
        SKIP("../shared/data/geoip absent");
    CHECK_INT(patched_copy("MaxMind-DB-test-broken-pointers-24.mmdb", path, sizeof(path), 36 * 6,
                           fix, sizeof(fix)),
              0);
    CHECK_INT(enrich_open(&e, path, NULL, err, sizeof(err)), KANSHI_EMMDB);
    CHECK(e == NULL);
    CHECK_CONTAINS(err, path);
    CHECK_CONTAINS(err, ": corrupt data record at offset");
    CHECK_CONTAINS(err, "bad data");
    unlink(path);
}

/* A record pointing into the 16-byte separator between tree and data. */
TEST(test_record_in_separator)
{
    static const uint8_t bad[3] = {0x00, 0x00, 164 + 3}; /* node_count + 3 */
    char path[64];
    struct enricher *e = NULL;

    if (db("MaxMind-DB-test-broken-search-tree-24.mmdb") == NULL)
        SKIP("../shared/data/geoip absent");
    /* Node 27's right record is a data record (byte 27*6+3). */
    CHECK_INT(patched_copy("MaxMind-DB-test-broken-search-tree-24.mmdb", path, sizeof(path),
                           27 * 6 + 3, bad, sizeof(bad)),
              0);
    CHECK_INT(enrich_open(&e, path, NULL, err, sizeof(err)), KANSHI_EMMDB);
    CHECK_CONTAINS(err, ": corrupt search tree: node 27 right record 167 points outside");
    unlink(path);
}

struct lookup_arg {
    struct enricher *e;
    int bad;
};

static void *lookup_thread(void *p)
{
    struct lookup_arg *arg = p;
    struct kanshi_addr gb = addr("2.125.160.216"), au = addr("1.128.0.0");

    for (int i = 0; i < 20000; i++) {
        struct geo_info g;
        enrich_lookup(arg->e, (i & 1) ? &gb : &au, &g);
        if ((i & 1) ? strcmp(g.country, "GB") != 0 : g.asn != 1221)
            arg->bad++;
    }
    return NULL;
}

TEST(test_threads)
{
    struct lookup_arg args[4];
    pthread_t t[4];
    struct enricher *e;

    if (db("GeoLite2-Country-Test.mmdb") == NULL)
        SKIP("../shared/data/geoip absent");
    if ((e = open_both()) == NULL) {
        CHECK(e != NULL);
        return;
    }
    for (int i = 0; i < 4; i++) {
        args[i] = (struct lookup_arg){.e = e};
        pthread_create(&t[i], NULL, lookup_thread, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(args[i].bad, 0);
    }
    enrich_close(e);
}

/* A bundle's directory: its *.mmdb sorted by kind; none leaves the given
 * paths; two of one kind, or one that does not open, is refused. */
TEST(test_open_dir)
{
    char dir[] = "/tmp/kanshi-enrich-XXXXXX", link[4200], src[4096];
    struct enricher *e = NULL;
    struct geo_info g;
    struct kanshi_addr a;

    if (db("GeoLite2-Country-Test.mmdb") == NULL)
        SKIP("../shared/data/geoip absent");
    CHECK(mkdtemp(dir) != NULL);
    /* nothing there, nothing given: no enricher */
    CHECK_INT(enrich_open_dir(&e, dir, NULL, NULL, err, sizeof(err)), 0);
    CHECK(e == NULL);
    snprintf(src, sizeof(src), "%s", db("GeoLite2-ASN-Test.mmdb"));
    snprintf(link, sizeof(link), "%s/zz-asn.mmdb", dir);
    CHECK_INT(symlink(src, link), 0);
    snprintf(src, sizeof(src), "%s", db("GeoLite2-Country-Test.mmdb"));
    snprintf(link, sizeof(link), "%s/aa-country.mmdb", dir);
    CHECK_INT(symlink(src, link), 0);
    CHECK_INT(enrich_open_dir(&e, dir, NULL, NULL, err, sizeof(err)), 0);
    CHECK(e != NULL);
    a = addr("2.125.160.216");
    CHECK_INT(enrich_lookup(e, &a, &g), 0);
    CHECK_STR(g.country, "GB");
    a = addr("1.128.0.0");
    CHECK_INT(enrich_lookup(e, &a, &g), 0);
    CHECK_INT(g.asn, 1221);
    enrich_close(e);
    e = NULL;
    /* a second country (city) database */
    snprintf(src, sizeof(src), "%s", db("GeoLite2-City-Test.mmdb"));
    snprintf(link, sizeof(link), "%s/bb-city.mmdb", dir);
    CHECK_INT(symlink(src, link), 0);
    CHECK(enrich_open_dir(&e, dir, NULL, NULL, err, sizeof(err)) != 0);
    CHECK(e == NULL);
    CHECK(strstr(err, "bb-city.mmdb: a second country database") != NULL);
    CHECK_INT(unlink(link), 0);
    /* one that does not open */
    snprintf(link, sizeof(link), "%s/broken.mmdb", dir);
    FILE *f = fopen(link, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs("not a database", f);
        fclose(f);
    }
    CHECK_INT(enrich_open_dir(&e, dir, NULL, NULL, err, sizeof(err)), KANSHI_EMMDB);
    CHECK(strstr(err, "broken.mmdb") != NULL);
    unlink(link);
    snprintf(link, sizeof(link), "%s/zz-asn.mmdb", dir);
    unlink(link);
    snprintf(link, sizeof(link), "%s/aa-country.mmdb", dir);
    unlink(link);
    rmdir(dir);
}

int main(void)
{
    RUN(test_known_answers);
    RUN(test_ipv6);
    RUN(test_not_found);
    RUN(test_city_as_country);
    RUN(test_none_open);
    RUN(test_broken_databases);
    RUN(test_wrong_role);
    RUN(test_missing_file);
    RUN(test_broken_data_record);
    RUN(test_record_in_separator);
    RUN(test_threads);
    RUN(test_open_dir);
    return test_summary("enrich");
}
