/*
 * detect_cache_test.c — the on-disk Hyperscan database cache: a miss then a
 * hit that matches the same, and every way a cache file or directory can be
 * wrong (corrupt, truncated, under another key, from another Hyperscan or
 * mode, not a file, unwritable, unsafe, missing), each of which must end in
 * a compile, a count and a note, never a failure; plus the size bound.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hs.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "../../sensor/detect_int.h"
#include "kanshi/detect.h"
#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "test.h"

/* --- helpers ------------------------------------------------------------ */

static char last_err[512];
static void on_err(void *arg, const char *file, unsigned line, const char *msg)
{
    (void)arg;
    snprintf(last_err, sizeof(last_err), "%s:%u: %s", file, line, msg);
}

static struct ruleset *load(const char *text)
{
    struct ruleset *rs;
    char *copy = strdup(text), *save = NULL;
    unsigned line = 1;

    if (copy == NULL || ruleset_create(&rs, NULL, on_err, NULL) != 0) {
        free(copy);
        return NULL;
    }
    for (char *l = strtok_r(copy, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save))
        if (ruleset_add_rule(rs, l, "t.rules", line++) != 0)
            fprintf(stderr, "rule did not load: %s\n", last_err);
    free(copy);
    return rs;
}

/* UDP rules only: one protocol group, so one database, one cache file. */
static const char udp_rules[] =
    "alert udp any any -> any any (msg:\"a\"; content:\"evil\"; sid:1;)\n"
    "alert udp any any -> any any (msg:\"b\"; content:\"BAD\"; nocase; sid:2;)\n"
    "alert udp any any -> any any (msg:\"c\"; content:\"other\"; sid:3;)\n";

static char *make_dir(void)
{
    char tmpl[] = "/tmp/kanshi-hscache-XXXXXX";
    char *d = mkdtemp(tmpl);
    return d != NULL ? strdup(d) : NULL;
}

static void rm_dir(char *dir)
{
    DIR *d;
    struct dirent *e;
    char p[4096];

    if (dir == NULL)
        return;
    chmod(dir, 0700);
    if ((d = opendir(dir)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
            if (unlink(p) != 0)
                rmdir(p);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

/* Number of files in dir whose name ends in suffix ("" for all but . and ..);
 * the last one's path into path. */
static int count_files(const char *dir, const char *suffix, char *path, size_t len)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name), sl = strlen(suffix);
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (l >= sl && strcmp(e->d_name + l - sl, suffix) == 0) {
            n++;
            if (path != NULL)
                snprintf(path, len, "%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    return n;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (b = malloc((size_t)n + 1)) != NULL && fread(b, 1, (size_t)n, f) == (size_t)n)
        *len = (size_t)n;
    else {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static int write_file(const char *path, const uint8_t *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    int rc;

    if (f == NULL)
        return -1;
    rc = fwrite(b, 1, len, f) == len ? 0 : -1;
    return fclose(f) == 0 ? rc : -1;
}

struct hits {
    uint32_t sids[8];
    int n;
};

static void collect(void *arg, const struct packet *p, const struct rule *r)
{
    struct hits *h = arg;
    (void)p;
    if (h->n < 8)
        h->sids[h->n++] = r->sid;
}

/* Which sids an engine gives for a UDP packet with payload. */
static int scan_udp(const struct detect_engine *de, const char *payload, struct hits *h)
{
    struct detect_thread *dt;
    struct packet p;
    int n;

    memset(h, 0, sizeof(*h));
    memset(&p, 0, sizeof(p));
    p.flags = PKT_IPV4 | PKT_UDP;
    p.src.family = p.dst.family = AF_INET;
    inet_pton(AF_INET, "10.0.0.1", p.src.a);
    inet_pton(AF_INET, "192.0.2.1", p.dst.a);
    p.ip_proto = IPPROTO_UDP;
    p.ttl = 64;
    p.sp = 5000;
    p.dp = 53;
    p.payload = (const uint8_t *)payload;
    p.payload_len = (uint32_t)strlen(payload);
    if (detect_thread_create(&dt, de) != 0)
        return -1;
    n = detect_packet(dt, de, &p, collect, h);
    detect_thread_destroy(dt);
    return n;
}

/* Builds an engine for rules through the cache in dir; returns its info
 * copy, or info.rules == 0 on failure. */
static struct detect_info build(struct ruleset *rs, const char *dir, size_t max_files,
                                struct detect_engine **keep)
{
    struct detect_options o = {.cache_dir = dir, .cache_max_files = max_files};
    struct detect_engine *de = NULL;
    struct detect_info info;
    char err[512] = "";

    memset(&info, 0, sizeof(info));
    if (detect_engine_create_opts(&de, rs, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "engine: %s\n", err);
        return info;
    }
    info = *detect_engine_info(de);
    if (keep != NULL)
        *keep = de;
    else
        detect_engine_destroy(de);
    return info;
}

/* The three packets of udp_rules: matches by sid, as a number 0..7. */
static int udp_behaviour(const struct detect_engine *de)
{
    struct hits h;
    int bits = 0;

    if (scan_udp(de, "an evil thing", &h) == 1 && h.sids[0] == 1)
        bits |= 1;
    if (scan_udp(de, "xxbadxx and other", &h) == 2 && h.sids[0] == 2 && h.sids[1] == 3)
        bits |= 2;
    if (scan_udp(de, "nothing here", &h) == 0)
        bits |= 4;
    return bits;
}

/* Builds once to fill the cache, damages the one file with fn, then builds
 * again: the file must be rejected (or ignored) and the rules still match. */
static void damaged(void (*fn)(const char *path), const char *note, size_t rejected)
{
    struct ruleset *rs = load(udp_rules);
    char *dir = make_dir();
    char path[4096] = "";
    struct detect_engine *de = NULL;
    struct detect_info i;

    CHECK(rs != NULL && dir != NULL);
    if (rs == NULL || dir == NULL)
        goto out;
    i = build(rs, dir, 0, NULL);
    CHECK_INT(i.cache_misses, 1);
    CHECK_INT(count_files(dir, ".hsdb", path, sizeof(path)), 1);
    fn(path);
    i = build(rs, dir, 0, &de);
    CHECK(de != NULL);
    CHECK_INT(i.cache_hits, 0);
    CHECK_INT(i.cache_misses, 1);
    CHECK_INT(i.cache_rejected, rejected);
    CHECK_CONTAINS(i.cache_note, note);
    if (de != NULL)
        CHECK_INT(udp_behaviour(de), 7);
    detect_engine_destroy(de);
    if (rejected > 0) {
        /* the bad file was replaced by a good one */
        i = build(rs, dir, 0, NULL);
        CHECK_INT(i.cache_hits, 1);
        CHECK_INT(i.cache_misses, 0);
        CHECK_STR(i.cache_note, "");
    }
out:
    ruleset_destroy(rs);
    rm_dir(dir);
}

/* --- tests -------------------------------------------------------------- */

TEST(miss_then_hit_same_matches)
{
    struct ruleset *rs = load(udp_rules);
    char *dir = make_dir();
    struct detect_engine *cold = NULL, *warm = NULL, *plain = NULL;
    struct detect_info a, b;
    char err[256];

    CHECK(rs != NULL && rs->nrules == 3 && dir != NULL);
    if (rs == NULL || dir == NULL)
        return;
    a = build(rs, dir, 0, &cold);
    CHECK(a.cache_used);
    CHECK(!a.cache_readonly);
    CHECK_INT(a.cache_hits, 0);
    CHECK_INT(a.cache_misses, 1);
    CHECK_INT(a.cache_rejected, 0);
    CHECK_INT(a.cache_write_errors, 0);
    CHECK_STR(a.cache_note, "");
    CHECK_INT(count_files(dir, ".hsdb", NULL, 0), 1);
    CHECK_INT(count_files(dir, "", NULL, 0), 1); /* no temporary file left */

    b = build(rs, dir, 0, &warm);
    CHECK_INT(b.cache_hits, 1);
    CHECK_INT(b.cache_misses, 0);
    CHECK_INT(b.patterns, a.patterns);
    CHECK_INT(b.db_bytes, a.db_bytes);
    CHECK_INT(count_files(dir, ".hsdb", NULL, 0), 1);

    CHECK_INT(detect_engine_create(&plain, rs, err, sizeof(err)), 0);
    CHECK(!detect_engine_info(plain)->cache_used);
    CHECK_INT(detect_engine_info(plain)->cache_misses, 0);
    CHECK(cold != NULL && warm != NULL);
    if (cold != NULL && warm != NULL) {
        CHECK_INT(udp_behaviour(plain), 7);
        CHECK_INT(udp_behaviour(cold), 7);
        CHECK_INT(udp_behaviour(warm), 7);
    }
    detect_engine_destroy(cold);
    detect_engine_destroy(warm);
    detect_engine_destroy(plain);

    /* Other rules: another key, another file; the first is still a hit. */
    {
        struct ruleset *rs2 = load("alert udp any any -> any any (content:\"evil\"; sid:1;)\n");
        CHECK(rs2 != NULL);
        if (rs2 != NULL) {
            b = build(rs2, dir, 0, NULL);
            CHECK_INT(b.cache_misses, 1);
            CHECK_INT(count_files(dir, ".hsdb", NULL, 0), 2);
            ruleset_destroy(rs2);
        }
        b = build(rs, dir, 0, NULL);
        CHECK_INT(b.cache_hits, 1);
    }
    ruleset_destroy(rs);
    rm_dir(dir);
}

TEST(every_group_cached)
{
    struct ruleset *rs =
        load("alert tcp any any -> any 80 (msg:\"t\"; content:\"GET /x\"; sid:1;)\n"
             "alert tcp any any -> any any (msg:\"p\"; content:\"abc\"; offset:2; sid:2;)\n"
             "alert udp any any -> any any (msg:\"u\"; content:\"evil\"; sid:3;)\n"
             "alert icmp any any -> any any (msg:\"i\"; content:\"ping\"; sid:4;)\n"
             "alert ip any any -> any any (msg:\"o\"; content:\"zzz\"; sid:5;)\n");
    char *dir = make_dir();
    struct detect_info a, b;

    CHECK(rs != NULL && rs->nrules == 5 && dir != NULL);
    if (rs == NULL || dir == NULL)
        return;
    a = build(rs, dir, 0, NULL);
    CHECK(a.cache_misses >= 4);
    CHECK_INT(a.cache_hits, 0);
    CHECK_INT(count_files(dir, ".hsdb", NULL, 0), (long long)a.cache_misses);
    b = build(rs, dir, 0, NULL);
    CHECK_INT(b.cache_hits, a.cache_misses);
    CHECK_INT(b.cache_misses, 0);
    CHECK_INT(b.db_bytes, a.db_bytes);
    ruleset_destroy(rs);
    rm_dir(dir);
}

static void flip_payload_byte(const char *path)
{
    size_t len = 0;
    uint8_t *b = read_file(path, &len);

    CHECK(b != NULL && len > DETECT_CACHE_HDR + 100);
    if (b == NULL)
        return;
    b[DETECT_CACHE_HDR + 100] ^= 0x5a;
    CHECK_INT(write_file(path, b, len), 0);
    free(b);
}

static void truncate_half(const char *path)
{
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_INT(truncate(path, st.st_size / 2), 0);
}

static void truncate_header(const char *path)
{
    CHECK_INT(truncate(path, 10), 0);
}

static void empty_file(const char *path)
{
    CHECK_INT(truncate(path, 0), 0);
}

static void bad_magic(const char *path)
{
    size_t len = 0;
    uint8_t *b = read_file(path, &len);

    CHECK(b != NULL);
    if (b == NULL)
        return;
    memcpy(b, "GARBAGE!", 8);
    CHECK_INT(write_file(path, b, len), 0);
    free(b);
}

/* Rewrites the checksum after changing the payload, as a file made by
 * another Hyperscan would look: only Hyperscan's own checks can tell. */
static void other_hyperscan(const char *path)
{
    size_t len = 0;
    uint8_t *b = read_file(path, &len);

    CHECK(b != NULL && len > DETECT_CACHE_HDR + 8);
    if (b == NULL)
        return;
    /* hs_database header: magic (4 bytes), then the version */
    b[DETECT_CACHE_HDR + 4] ^= 0x01;
    b[DETECT_CACHE_HDR + 5] ^= 0x02;
    crypto_hash_sha256(b + 48, b + DETECT_CACHE_HDR, len - DETECT_CACHE_HDR);
    CHECK_INT(write_file(path, b, len), 0);
    free(b);
}

/* A directory where the file should be: not removed, not read. */
static void not_a_file(const char *path)
{
    CHECK_INT(unlink(path), 0);
    CHECK_INT(mkdir(path, 0700), 0);
}

TEST(corrupted_file)
{
    damaged(flip_payload_byte, "checksum mismatch, compiled instead", 1);
}

TEST(truncated_file)
{
    damaged(truncate_half, ": truncated, compiled instead", 1);
    damaged(truncate_header, "truncated or not a cache file", 1);
    damaged(empty_file, "truncated or not a cache file", 1);
}

TEST(not_a_cache_file)
{
    damaged(bad_magic, ": not a cache file", 1);
}

TEST(file_from_other_hyperscan)
{
    damaged(other_hyperscan, "made by another Hyperscan or for another mode", 1);
}

TEST(directory_in_place_of_file)
{
    struct ruleset *rs = load(udp_rules);
    char *dir = make_dir();
    char path[4096];
    struct detect_info i;

    damaged(not_a_file, "not a regular file", 0);
    /* ...and it is left where it is: storing fails, counted */
    CHECK(rs != NULL && dir != NULL);
    if (rs == NULL || dir == NULL)
        return;
    i = build(rs, dir, 0, NULL);
    CHECK_INT(count_files(dir, ".hsdb", path, sizeof(path)), 1);
    not_a_file(path);
    i = build(rs, dir, 0, NULL);
    CHECK_INT(i.cache_write_errors, 1);
    CHECK_INT(i.cache_rejected, 0);
    {
        struct stat st;
        CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    }
    CHECK_INT(count_files(dir, "", NULL, 0), 1); /* no temporary file left */
    ruleset_destroy(rs);
    rm_dir(dir);
}

TEST(file_from_other_key)
{
    struct ruleset *a = load(udp_rules);
    struct ruleset *b = load("alert udp any any -> any any (msg:\"x\"; content:\"bad\"; sid:9;)\n");
    char *dir = make_dir(), pa[4096], pb[4096];
    uint8_t *buf;
    size_t len = 0;
    struct detect_engine *de = NULL;
    struct detect_info i;

    CHECK(a != NULL && b != NULL && dir != NULL);
    if (a == NULL || b == NULL || dir == NULL)
        return;
    build(a, dir, 0, NULL);
    CHECK_INT(count_files(dir, ".hsdb", pa, sizeof(pa)), 1);
    buf = read_file(pa, &len);
    CHECK(buf != NULL);
    CHECK_INT(unlink(pa), 0);
    build(b, dir, 0, NULL);
    CHECK_INT(count_files(dir, ".hsdb", pb, sizeof(pb)), 1);
    CHECK(strcmp(pa, pb) != 0);
    /* b's name, a's database: a valid database that must not be used */
    if (buf != NULL)
        CHECK_INT(write_file(pb, buf, len), 0);
    i = build(b, dir, 0, &de);
    CHECK_INT(i.cache_hits, 0);
    CHECK_INT(i.cache_rejected, 1);
    CHECK_CONTAINS(i.cache_note, "stored under another key");
    if (de != NULL) {
        struct hits h;
        /* b's rule, not a's: "evil" must not match, "bad" must */
        CHECK_INT(scan_udp(de, "an evil thing", &h), 0);
        CHECK_INT(scan_udp(de, "so bad", &h), 1);
        CHECK_INT(h.sids[0], 9);
    }
    detect_engine_destroy(de);
    free(buf);
    ruleset_destroy(a);
    ruleset_destroy(b);
    rm_dir(dir);
}

/* The low-level call: a stream-mode database stored under the block-mode
 * key (a valid file for another mode) is refused. */
TEST(file_for_other_mode)
{
    const char *exprs[] = {"evil", "bad"};
    const size_t lens[] = {4, 3};
    const unsigned flags[] = {HS_FLAG_SINGLEMATCH, HS_FLAG_CASELESS};
    const unsigned ids[] = {0, 1};
    char *dir = make_dir(), hex[65], path[4096], err[256];
    struct detect_cache *c = NULL;
    struct detect_info info;
    hs_database_t *db = NULL;
    hs_compile_error_t *cerr = NULL;
    char *ser = NULL;
    size_t slen = 0;
    uint8_t *file;

    CHECK(dir != NULL);
    if (dir == NULL)
        return;
    CHECK_INT(detect_cache_key_hex(exprs, flags, ids, lens, 2, HS_MODE_BLOCK, hex), 0);
    CHECK_INT(strlen(hex), 64);
    CHECK_INT(hs_compile_lit_multi(exprs, flags, ids, lens, 2, HS_MODE_STREAM, NULL, &db, &cerr),
              HS_SUCCESS);
    CHECK_INT(hs_serialize_database(db, &ser, &slen), HS_SUCCESS);
    hs_free_database(db);
    db = NULL;
    file = calloc(1, DETECT_CACHE_HDR + slen);
    CHECK(file != NULL && ser != NULL);
    if (file == NULL || ser == NULL)
        return;
    memcpy(file, DETECT_CACHE_MAGIC, 8);
    for (size_t i = 0; i < 32; i++)
        file[8 + i] = (uint8_t)(kanshi_hexval(hex[2 * i]) << 4 | kanshi_hexval(hex[2 * i + 1]));
    for (int i = 0; i < 8; i++)
        file[40 + i] = (uint8_t)((uint64_t)slen >> (8 * i));
    memcpy(file + DETECT_CACHE_HDR, ser, slen);
    crypto_hash_sha256(file + 48, file + DETECT_CACHE_HDR, slen);
    snprintf(path, sizeof(path), "%s/%s.hsdb", dir, hex);
    CHECK_INT(write_file(path, file, DETECT_CACHE_HDR + slen), 0);

    memset(&info, 0, sizeof(info));
    CHECK_INT(detect_cache_open(&c, dir, 0, err, sizeof(err)), 0);
    CHECK(detect_cache_writable(c));
    CHECK_INT(detect_cache_compile_lit(c, exprs, flags, ids, lens, 2, HS_MODE_BLOCK, &db, &info,
                                       err, sizeof(err)),
              0);
    CHECK(db != NULL);
    CHECK_INT(info.cache_rejected, 1);
    CHECK_INT(info.cache_misses, 1);
    CHECK_CONTAINS(info.cache_note, "for another mode");
    hs_free_database(db);
    db = NULL;
    /* what was stored instead is the block-mode database: a hit */
    memset(&info, 0, sizeof(info));
    CHECK_INT(detect_cache_compile_lit(c, exprs, flags, ids, lens, 2, HS_MODE_BLOCK, &db, &info,
                                       err, sizeof(err)),
              0);
    CHECK_INT(info.cache_hits, 1);
    if (db != NULL) {
        char *desc = NULL;
        CHECK_INT(hs_database_info(db, &desc), HS_SUCCESS);
        CHECK_CONTAINS(desc, "Mode: BLOCK");
        free(desc);
    }
    hs_free_database(db);
    detect_cache_close(c, &info);
    free(ser);
    free(file);
    rm_dir(dir);
}

TEST(compile_error_reported)
{
    const char *exprs[] = {"ok", ""};
    const size_t lens[] = {2, 0};
    const unsigned flags[] = {0, 0};
    const unsigned ids[] = {0, 1};
    const char *good_exprs[] = {"ok", "ab"};
    const size_t good_lens[] = {2, 2};
    const unsigned bad_flags[] = {0, HS_FLAG_UTF8};
    char *dir = make_dir(), err[256] = "";
    struct detect_cache *c = NULL;
    struct detect_info info;
    hs_database_t *db = NULL;

    CHECK(dir != NULL);
    if (dir == NULL)
        return;
    memset(&info, 0, sizeof(info));
    CHECK_INT(detect_cache_open(&c, dir, 0, err, sizeof(err)), 0);
    CHECK_INT(detect_cache_compile_lit(c, exprs, flags, ids, lens, 2, HS_MODE_BLOCK, &db, &info,
                                       err, sizeof(err)),
              KANSHI_EHS);
    CHECK(db == NULL);
    CHECK_STR(err, "hyperscan: empty literal (pattern 1)");
    CHECK_INT(count_files(dir, "", NULL, 0), 0);
    /* and without a cache */
    err[0] = '\0';
    CHECK_INT(detect_cache_compile_lit(NULL, exprs, flags, ids, lens, 2, HS_MODE_BLOCK, &db, &info,
                                       err, sizeof(err)),
              KANSHI_EHS);
    CHECK_STR(err, "hyperscan: empty literal (pattern 1)");
    /* Hyperscan's own refusal, through the cache: nothing stored */
    CHECK_INT(detect_cache_compile_lit(c, good_exprs, bad_flags, ids, good_lens, 2, HS_MODE_BLOCK,
                                       &db, &info, err, sizeof(err)),
              KANSHI_EHS);
    CHECK(db == NULL);
    CHECK_CONTAINS(err, "are supported in literal API. (pattern 1)");
    CHECK_INT(info.cache_misses, 1);
    CHECK_INT(info.cache_write_errors, 0);
    CHECK_INT(count_files(dir, "", NULL, 0), 0);
    detect_cache_close(c, &info);
    rm_dir(dir);
}

TEST(unwritable_dir)
{
    struct ruleset *rs = load(udp_rules);
    char *dir = make_dir(), path[4096];
    struct detect_engine *de = NULL;
    struct detect_info i;

    CHECK(rs != NULL && dir != NULL);
    if (rs == NULL || dir == NULL)
        return;
    if (geteuid() != 0) {
        /* read-only: used for loading, nothing stored, nothing to report */
        CHECK_INT(chmod(dir, 0500), 0);
        i = build(rs, dir, 0, &de);
        CHECK(i.cache_used);
        CHECK(i.cache_readonly);
        CHECK_INT(i.cache_misses, 1);
        CHECK_INT(i.cache_write_errors, 0);
        CHECK_INT(count_files(dir, "", NULL, 0), 0);
        chmod(dir, 0700);
    } else {
        /* root writes anywhere: make every write fail instead */
        struct rlimit old, none = {0, 0};
        void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
        CHECK_INT(getrlimit(RLIMIT_FSIZE, &old), 0);
        none.rlim_max = old.rlim_max;
        CHECK_INT(setrlimit(RLIMIT_FSIZE, &none), 0);
        i = build(rs, dir, 0, &de);
        CHECK_INT(setrlimit(RLIMIT_FSIZE, &old), 0);
        signal(SIGXFSZ, prev);
        CHECK(i.cache_used);
        CHECK_INT(i.cache_misses, 1);
        CHECK_INT(i.cache_write_errors, 1);
        CHECK_CONTAINS(i.cache_note, "cannot store a database (write: File too large)");
        CHECK_INT(count_files(dir, "", NULL, 0), 0); /* the temporary file is gone */
        /* a bad file is removed even when its replacement cannot be stored */
        detect_engine_destroy(de);
        de = NULL;
        i = build(rs, dir, 0, NULL);
        CHECK_INT(i.cache_write_errors, 0);
        CHECK_INT(count_files(dir, ".hsdb", path, sizeof(path)), 1);
        flip_payload_byte(path);
        prev = signal(SIGXFSZ, SIG_IGN);
        CHECK_INT(setrlimit(RLIMIT_FSIZE, &none), 0);
        i = build(rs, dir, 0, &de);
        CHECK_INT(setrlimit(RLIMIT_FSIZE, &old), 0);
        signal(SIGXFSZ, prev);
        CHECK_INT(i.cache_rejected, 1);
        CHECK_INT(i.cache_write_errors, 1);
        CHECK_CONTAINS(i.cache_note, "checksum mismatch");
        CHECK_INT(count_files(dir, "", NULL, 0), 0);
    }
    CHECK(de != NULL);
    if (de != NULL)
        CHECK_INT(udp_behaviour(de), 7);
    detect_engine_destroy(de);
    ruleset_destroy(rs);
    rm_dir(dir);
}

TEST(unusable_dir)
{
    struct ruleset *rs = load(udp_rules);
    char *dir = make_dir();
    char p[4096], longp[5000];
    struct detect_engine *de = NULL;
    struct detect_info i;

    CHECK(rs != NULL && dir != NULL);
    if (rs == NULL || dir == NULL)
        return;
    /* missing */
    snprintf(p, sizeof(p), "%s/missing", dir);
    i = build(rs, p, 0, &de);
    CHECK(de != NULL);
    CHECK(!i.cache_used);
    CHECK_INT(i.cache_misses, 0);
    CHECK_CONTAINS(i.cache_note, "/missing: No such file or directory");
    if (de != NULL)
        CHECK_INT(udp_behaviour(de), 7);
    detect_engine_destroy(de);
    /* a file */
    snprintf(p, sizeof(p), "%s/file", dir);
    CHECK_INT(write_file(p, (const uint8_t *)"x", 1), 0);
    i = build(rs, p, 0, NULL);
    CHECK(!i.cache_used);
    CHECK_CONTAINS(i.cache_note, "/file: Not a directory");
    unlink(p);
    /* writable by others: a planted database would run in the sensor */
    CHECK_INT(chmod(dir, 0777), 0);
    i = build(rs, dir, 0, NULL);
    CHECK(!i.cache_used);
    CHECK_CONTAINS(i.cache_note, "owned by another user or writable by others, not used");
    CHECK_INT(count_files(dir, "", NULL, 0), 0);
    CHECK_INT(chmod(dir, 0700), 0);
    /* a name too long for a path */
    memset(longp, 'a', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    i = build(rs, longp, 0, NULL);
    CHECK(!i.cache_used);
    CHECK_INT(i.cache_misses, 0);
    {
        static char big[6000];
        struct detect_cache *c = NULL;
        CHECK_INT(detect_cache_open(&c, longp, 0, big, sizeof(big)), -ENAMETOOLONG);
        CHECK(c == NULL);
        CHECK_CONTAINS(big, "aaaa: File name too long");
    }
    ruleset_destroy(rs);
    rm_dir(dir);
}

TEST(size_bounded)
{
    char *dir = make_dir(), text[256], tmp[4096];
    struct ruleset *rs[5];
    struct detect_info i;
    struct timespec old[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
    size_t pruned = 0;

    CHECK(dir != NULL);
    if (dir == NULL)
        return;
    /* a temporary file left by a dead process */
    snprintf(tmp, sizeof(tmp), "%s/.%064d.tmp-abcdef", dir, 0);
    CHECK_INT(write_file(tmp, (const uint8_t *)"x", 1), 0);
    CHECK_INT(utimensat(AT_FDCWD, tmp, old, 0), 0);
    for (int k = 0; k < 5; k++) {
        snprintf(text, sizeof(text),
                 "alert udp any any -> any any (content:\"pattern-%d\"; sid:%d;)\n", k, k + 1);
        rs[k] = load(text);
        CHECK(rs[k] != NULL);
        if (rs[k] == NULL)
            return;
        i = build(rs[k], dir, 2, NULL);
        CHECK_INT(i.cache_misses, 1);
        pruned += i.cache_pruned;
        CHECK(count_files(dir, ".hsdb", NULL, 0) <= 2);
        /* make the order of use certain: one second per build is too slow */
        {
            DIR *d = opendir(dir);
            struct dirent *e;
            while (d != NULL && (e = readdir(d)) != NULL) {
                char p[4096];
                struct timespec t[2];
                struct stat st;
                if (e->d_name[0] == '.')
                    continue;
                snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
                if (stat(p, &st) == 0) {
                    t[0].tv_sec = t[1].tv_sec = st.st_mtime - 10;
                    t[0].tv_nsec = t[1].tv_nsec = 0;
                    utimensat(AT_FDCWD, p, t, 0);
                }
            }
            if (d != NULL)
                closedir(d);
        }
    }
    CHECK_INT(pruned, 3);
    CHECK(access(tmp, F_OK) != 0); /* the stale temporary file went */
    CHECK_INT(count_files(dir, ".hsdb", NULL, 0), 2);
    /* the most recent two are kept, the oldest went */
    i = build(rs[4], dir, 2, NULL);
    CHECK_INT(i.cache_hits, 1);
    i = build(rs[3], dir, 2, NULL);
    CHECK_INT(i.cache_hits, 1);
    i = build(rs[0], dir, 2, NULL);
    CHECK_INT(i.cache_hits, 0);
    CHECK_INT(i.cache_misses, 1);
    for (int k = 0; k < 5; k++)
        ruleset_destroy(rs[k]);
    rm_dir(dir);
}

TEST(no_cache_dir)
{
    struct ruleset *rs = load(udp_rules);
    struct detect_options o = {0};
    struct detect_engine *de = NULL;
    char err[256];

    CHECK(rs != NULL);
    if (rs == NULL)
        return;
    CHECK_INT(detect_engine_create_opts(&de, rs, &o, err, sizeof(err)), 0);
    CHECK(de != NULL);
    if (de != NULL) {
        const struct detect_info *i = detect_engine_info(de);
        CHECK(!i->cache_used);
        CHECK_INT(i->cache_hits + i->cache_misses, 0);
        CHECK_STR(i->cache_note, "");
        CHECK(i->db_usec <= i->compile_usec);
        CHECK_INT(udp_behaviour(de), 7);
    }
    detect_engine_destroy(de);
    de = NULL;
    CHECK_INT(detect_engine_create_opts(&de, rs, NULL, err, sizeof(err)), 0);
    detect_engine_destroy(de);
    ruleset_destroy(rs);
}

TEST(key_covers_inputs)
{
    const char *e1[] = {"abc"}, *e2[] = {"abd"};
    const size_t l3[] = {3}, l2[] = {2};
    const unsigned f0[] = {0}, fc[] = {HS_FLAG_CASELESS}, i0[] = {0}, i1[] = {1};
    char a[65], b[65];

    CHECK_INT(detect_cache_key_hex(e1, f0, i0, l3, 1, HS_MODE_BLOCK, a), 0);
    CHECK_INT(detect_cache_key_hex(e1, f0, i0, l3, 1, HS_MODE_BLOCK, b), 0);
    CHECK_STR(a, b);
    CHECK_INT(detect_cache_key_hex(e2, f0, i0, l3, 1, HS_MODE_BLOCK, b), 0);
    CHECK(strcmp(a, b) != 0);
    CHECK_INT(detect_cache_key_hex(e1, fc, i0, l3, 1, HS_MODE_BLOCK, b), 0);
    CHECK(strcmp(a, b) != 0);
    CHECK_INT(detect_cache_key_hex(e1, f0, i1, l3, 1, HS_MODE_BLOCK, b), 0);
    CHECK(strcmp(a, b) != 0);
    CHECK_INT(detect_cache_key_hex(e1, f0, i0, l2, 1, HS_MODE_BLOCK, b), 0);
    CHECK(strcmp(a, b) != 0);
    CHECK_INT(detect_cache_key_hex(e1, f0, i0, l3, 1, HS_MODE_STREAM, b), 0);
    CHECK(strcmp(a, b) != 0);
}

/* Builds rs with opts; the engine's info (zero when the build failed, with
 * *rc set). */
static struct detect_info build_opts(struct ruleset *rs, const struct detect_options *o, int *rc,
                                     char *err, size_t errlen, int *behaviour)
{
    struct detect_engine *de = NULL;
    struct detect_info info;

    memset(&info, 0, sizeof(info));
    err[0] = '\0';
    *rc = detect_engine_create_opts(&de, rs, o, err, errlen);
    if (*rc != 0)
        return info;
    info = *detect_engine_info(de);
    if (behaviour != NULL)
        *behaviour = udp_behaviour(de);
    detect_engine_destroy(de);
    return info;
}

/* Databases compiled for a generic target are stored under that target's
 * key, not this CPU's: a plain build misses them, a build given them as
 * precompiled loads them (as a bundle's). */
TEST(target_and_precompiled)
{
    struct ruleset *rs = load(udp_rules);
    char *pre = make_dir(), *cache = make_dir(), err[512];
    struct detect_info i;
    int rc, beh = 0;

    CHECK(rs != NULL && pre != NULL && cache != NULL);
    if (rs == NULL || pre == NULL || cache == NULL)
        return;
    CHECK(detect_target_valid("native"));
    CHECK(detect_target_valid("avx2"));
    CHECK(!detect_target_valid("avx3"));
    CHECK(!detect_target_valid(""));

    /* unknown target: refused, with the names */
    struct detect_options bad = {.cache_dir = pre, .hs_target = "sse9"};
    i = build_opts(rs, &bad, &rc, err, sizeof(err), NULL);
    CHECK_INT(rc, -EINVAL);
    CHECK(strstr(err, "sse9") != NULL && strstr(err, "generic") != NULL);

    struct detect_options gen = {.cache_dir = pre, .hs_target = "generic"};
    i = build_opts(rs, &gen, &rc, err, sizeof(err), NULL);
    CHECK_INT(rc, 0);
    CHECK_INT(i.cache_misses, 1);
    CHECK_INT(i.databases, 1);
    CHECK_INT(count_files(pre, ".hsdb", NULL, 0), 1);
    /* again for the same target: a hit */
    i = build_opts(rs, &gen, &rc, err, sizeof(err), NULL);
    CHECK_INT(i.cache_hits, 1);

    /* this CPU's cache does not hold it under its own key: a plain build
     * misses and stores a second file, which is then removed again so
     * that only the generic one is left */
    char generic[256] = "", path[4096 + 256];
    DIR *d = opendir(pre);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".hsdb") != NULL)
            snprintf(generic, sizeof(generic), "%s", e->d_name);
    if (d != NULL)
        closedir(d);
    CHECK(generic[0] != '\0');
    i = build(rs, pre, 0, NULL);
    CHECK_INT(i.cache_hits, 0);
    CHECK_INT(i.cache_misses, 1);
    CHECK_INT(count_files(pre, ".hsdb", NULL, 0), 2);
    d = opendir(pre);
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strstr(e->d_name, ".hsdb") == NULL || strcmp(e->d_name, generic) == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", pre, e->d_name);
        CHECK_INT(unlink(path), 0);
    }
    if (d != NULL)
        closedir(d);
    CHECK_INT(count_files(pre, ".hsdb", NULL, 0), 1);

    /* given as precompiled beside an empty cache: loaded from there,
     * neither a hit nor a miss; the cache then stores nothing */
    struct detect_options use = {.cache_dir = cache, .precompiled_dir = pre};
    i = build_opts(rs, &use, &rc, err, sizeof(err), &beh);
    CHECK_INT(rc, 0);
    CHECK_INT(i.cache_precompiled, 1);
    CHECK_INT(i.cache_hits + i.cache_misses, 0);
    CHECK_INT(i.databases, 1);
    CHECK_INT(beh, 7);
    CHECK_INT(count_files(cache, ".hsdb", NULL, 0), 0);

    /* without a cache at all */
    struct detect_options only = {.precompiled_dir = pre};
    i = build_opts(rs, &only, &rc, err, sizeof(err), &beh);
    CHECK_INT(i.cache_precompiled, 1);
    CHECK(!i.cache_used);
    CHECK_INT(beh, 7);

    /* a precompiled directory others may write is not used: compiled */
    CHECK_INT(chmod(pre, 0777), 0);
    i = build_opts(rs, &only, &rc, err, sizeof(err), &beh);
    CHECK_INT(rc, 0);
    CHECK_INT(i.cache_precompiled, 0);
    CHECK_INT(i.databases, 1);
    CHECK(strstr(i.cache_note, "writable by others") != NULL);
    CHECK_INT(beh, 7);
    CHECK_INT(chmod(pre, 0700), 0);

    /* a damaged precompiled file: compiled instead, noted, and left in
     * place (the directory is not ours to clean) */
    snprintf(path, sizeof(path), "%s/%s", pre, generic);
    flip_payload_byte(path);
    i = build_opts(rs, &only, &rc, err, sizeof(err), &beh);
    CHECK_INT(rc, 0);
    CHECK_INT(i.cache_precompiled, 0);
    CHECK(i.cache_rejected >= 1);
    CHECK(strstr(i.cache_note, "checksum") != NULL);
    CHECK_INT(beh, 7);
    CHECK_INT(count_files(pre, ".hsdb", NULL, 0), 1);

    ruleset_destroy(rs);
    rm_dir(pre);
    rm_dir(cache);
}

int main(void)
{
    RUN(miss_then_hit_same_matches);
    RUN(every_group_cached);
    RUN(corrupted_file);
    RUN(truncated_file);
    RUN(not_a_cache_file);
    RUN(file_from_other_hyperscan);
    RUN(directory_in_place_of_file);
    RUN(file_from_other_key);
    RUN(file_for_other_mode);
    RUN(compile_error_reported);
    RUN(unwritable_dir);
    RUN(unusable_dir);
    RUN(size_bounded);
    RUN(no_cache_dir);
    RUN(key_covers_inputs);
    RUN(target_and_precompiled);
    return test_summary("detect_cache");
}
