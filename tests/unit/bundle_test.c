/*
 * bundle_test.c — the signed bundle container (signatures/bundle.c): round
 * trip, every tamper case (each byte flipped, truncation, appended data,
 * wrong or unknown key, wrong kind), manifests that are validly signed but
 * wrong (path names, duplicates, too many files, hash mismatch), and the key
 * files' permission checks.
 *
 * Crafted manifests are written by this file's own small encoder (craft())
 * and signed with the test key, so they get past the signature and reach
 * the manifest parser.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kanshi/bundle.h"
#include "kanshi/kanshi.h"
#include "test.h"

static struct bundle_seckey sk_a, sk_b;
static struct bundle_pubkey pk_a, pk_b;
static char err[512];

static const uint8_t rules_text[] = "alert tcp any any -> any any (msg:\"x\"; content:\"abc\"; "
                                    "sid:1;)\n";
static const uint8_t class_text[] = "config classification: trojan,Trojan,1\n";
static const uint8_t bin_data[] = {0, 1, 2, 0xff, 0xfe, 0, 7};

/* A three-file rules bundle by key A; *len its length. */
static uint8_t *sample(size_t *len, const char *kind, uint64_t version)
{
    struct bundle_file f[3] = {
        {.name = "local.rules", .data = rules_text, .len = sizeof(rules_text) - 1},
        {.name = "classification.config", .data = class_text, .len = sizeof(class_text) - 1},
        {.name = "GeoLite2-ASN.mmdb", .data = bin_data, .len = sizeof(bin_data)},
    };
    struct bundle_info info = {
        .kind = kind, .version = version, .created = 1700000000, .min_version = "0.1.0"};
    uint8_t *b = NULL;

    if (bundle_build(&info, f, 3, &sk_a, &b, len, err, sizeof(err)) != 0) {
        fprintf(stderr, "sample: %s\n", err);
        return NULL;
    }
    return b;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* Signs b[0..len) in place (the last 64 bytes) with key A. */
static void resign(uint8_t *b, size_t len)
{
    crypto_sign_detached(b + len - BUNDLE_SIG_LEN, NULL, b, len - BUNDLE_SIG_LEN, sk_a.sk);
}

/*
 * The test's own encoder: n files with these names (in the order given, not
 * checked) and contents; nfiles_field is written as the count.  Hashes are
 * right unless bad_hash.  Signed with key A.
 */
static uint8_t *craft(size_t *len, const char *kind, uint64_t version, const char *const *names,
                      const size_t *namelens, const char *const *datas, size_t n,
                      uint32_t nfiles_field, int bad_hash)
{
    size_t klen = strlen(kind), mlen = BUNDLE_MANIFEST_FIXED + klen, dlen = 0, off, total;
    uint8_t *b;

    for (size_t i = 0; i < n; i++) {
        mlen += BUNDLE_ENTRY_FIXED + namelens[i];
        dlen += strlen(datas[i]);
    }
    total = BUNDLE_HEADER_LEN + mlen + dlen + BUNDLE_SIG_LEN;
    b = calloc(1, total);
    if (b == NULL)
        return NULL;
    memcpy(b, BUNDLE_MAGIC, 8);
    put16(b + 8, BUNDLE_FORMAT);
    bundle_key_id(&pk_a, b + 12);
    put64(b + 20, total);
    off = BUNDLE_HEADER_LEN;
    put32(b + off, (uint32_t)mlen);
    put32(b + off + 4, nfiles_field);
    put64(b + off + 8, version);
    put64(b + off + 16, 1700000000);
    b[off + 24] = (uint8_t)klen;
    off += BUNDLE_MANIFEST_FIXED;
    memcpy(b + off, kind, klen);
    off += klen;
    for (size_t i = 0; i < n; i++) {
        put64(b + off, strlen(datas[i]));
        crypto_hash_sha256(b + off + 8, (const uint8_t *)datas[i], strlen(datas[i]));
        if (bad_hash)
            b[off + 8] ^= 1;
        put16(b + off + 40, (uint16_t)namelens[i]);
        memcpy(b + off + BUNDLE_ENTRY_FIXED, names[i], namelens[i]);
        off += BUNDLE_ENTRY_FIXED + namelens[i];
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(b + off, datas[i], strlen(datas[i]));
        off += strlen(datas[i]);
    }
    resign(b, total);
    *len = total;
    return b;
}

/* Opens b with key A trusted; returns the code, err holds the reason. */
static int try_open(const uint8_t *b, size_t len, const char *kind)
{
    struct bundle *bu = NULL;
    int rc = bundle_open(&bu, b, len, kind, &pk_a, 1, err, sizeof(err));

    if (rc == 0)
        bundle_close(bu);
    return rc;
}

TEST(round_trip)
{
    size_t len;
    uint8_t *b = sample(&len, BUNDLE_KIND_RULES, 42);
    struct bundle *bu = NULL;
    struct bundle_pubkey keys[2];
    uint8_t id[BUNDLE_KEY_ID_LEN], ida[BUNDLE_KEY_ID_LEN];
    const struct bundle_file *f;

    CHECK(b != NULL);
    if (b == NULL)
        return;
    CHECK(memcmp(b, "KNSHBNDL", 8) == 0);
    /* several trusted keys: the header's key id picks A */
    keys[0] = pk_b;
    keys[1] = pk_a;
    CHECK_INT(bundle_open(&bu, b, len, "rules", keys, 2, err, sizeof(err)), 0);
    if (bu == NULL) {
        fprintf(stderr, "round_trip: %s\n", err);
        free(b);
        return;
    }
    CHECK_STR(bundle_kind(bu), "rules");
    CHECK_INT(bundle_version(bu), 42);
    CHECK_INT(bundle_created(bu), 1700000000);
    CHECK_STR(bundle_min_version(bu), "0.1.0");
    CHECK_INT(bundle_nfiles(bu), 3);
    bundle_signer(bu, id);
    bundle_key_id(&pk_a, ida);
    CHECK(memcmp(id, ida, sizeof(id)) == 0);
    /* sorted by name, byte order: 'G' < 'c' < 'l' */
    CHECK_STR(bundle_file(bu, 0)->name, "GeoLite2-ASN.mmdb");
    CHECK_STR(bundle_file(bu, 1)->name, "classification.config");
    CHECK_STR(bundle_file(bu, 2)->name, "local.rules");
    CHECK(bundle_file(bu, 3) == NULL);
    f = bundle_find(bu, "local.rules");
    CHECK(f != NULL);
    if (f != NULL) {
        CHECK_INT(f->len, sizeof(rules_text) - 1);
        CHECK(memcmp(f->data, rules_text, f->len) == 0);
    }
    f = bundle_find(bu, "GeoLite2-ASN.mmdb");
    CHECK(f != NULL && f->len == sizeof(bin_data) && memcmp(f->data, bin_data, f->len) == 0);
    CHECK(bundle_find(bu, "local.rule") == NULL);
    CHECK(bundle_find(bu, "zzz") == NULL);
    bundle_close(bu);
    bundle_close(NULL);
    free(b);
}

TEST(empty_bundle_and_created_now)
{
    struct bundle_info info = {.kind = "firmware", .version = 7};
    uint8_t *b = NULL;
    size_t len = 0;
    struct bundle *bu = NULL;
    time_t now = time(NULL);

    CHECK_INT(bundle_build(&info, NULL, 0, &sk_a, &b, &len, err, sizeof(err)), 0);
    CHECK_INT(len, BUNDLE_HEADER_LEN + BUNDLE_MANIFEST_FIXED + 8 + BUNDLE_SIG_LEN);
    CHECK_INT(bundle_open(&bu, b, len, NULL, &pk_a, 1, err, sizeof(err)), 0);
    if (bu != NULL) {
        CHECK_STR(bundle_kind(bu), "firmware");
        CHECK_STR(bundle_min_version(bu), "");
        CHECK_INT(bundle_nfiles(bu), 0);
        CHECK(bundle_created(bu) + 5 >= (uint64_t)now && bundle_created(bu) <= (uint64_t)now + 5);
    }
    bundle_close(bu);
    free(b);
}

/* Every single byte of the bundle, flipped, makes it fail to open. */
TEST(every_byte_flipped_fails)
{
    size_t len, failures = 0, sig_msgs = 0;
    uint8_t *b = sample(&len, BUNDLE_KIND_RULES, 3);

    CHECK(b != NULL);
    if (b == NULL)
        return;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            b[i] ^= (uint8_t)(1u << bit);
            if (try_open(b, len, "rules") != 0)
                failures++;
            else
                fprintf(stderr, "byte %zu bit %d flipped and still opens\n", i, bit);
            if (i >= BUNDLE_HEADER_LEN && strstr(err, "signature does not verify") != NULL)
                sig_msgs++;
            b[i] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK_INT(failures, 2 * len);
    /* past the outer header, it is the signature that catches every flip */
    CHECK_INT(sig_msgs, 2 * (len - BUNDLE_HEADER_LEN));
    CHECK_INT(try_open(b, len, "rules"), 0);
    free(b);
}

TEST(region_messages)
{
    size_t len;
    uint8_t *b = sample(&len, BUNDLE_KIND_RULES, 3);

    CHECK(b != NULL);
    if (b == NULL)
        return;
    b[0] ^= 1; /* magic */
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "bad magic");
    b[0] ^= 1;
    b[9] ^= 2; /* format version */
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "bundle format 3");
    b[9] ^= 2;
    b[13] ^= 1; /* key id */
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "unknown key id");
    b[13] ^= 1;
    put64(b + 20, len + 1); /* total length, one more than the input */
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "truncated");
    put64(b + 20, len - 1);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "1 bytes after the end");
    put64(b + 20, len);
    b[21] = 0xff; /* total length, huge */
    CHECK_INT(try_open(b, len, "rules"), KANSHI_ELIMIT);
    CHECK_CONTAINS(err, "limit");
    b[21] = 0;
    b[31] = 1; /* reserved: signed, so the signature catches it */
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "signature does not verify");
    b[31] = 0;
    b[len - 1] ^= 0x80; /* signature */
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "signature does not verify");
    b[len - 1] ^= 0x80;
    CHECK_INT(try_open(b, len, "rules"), 0);
    free(b);
}

TEST(truncated_and_appended)
{
    size_t len;
    uint8_t *b = sample(&len, BUNDLE_KIND_RULES, 3), *big;
    size_t fails = 0;

    CHECK(b != NULL);
    if (b == NULL)
        return;
    for (size_t n = 0; n < len; n++) {
        /* an exact-size copy so ASan sees any read past the input */
        uint8_t *c = malloc(n ? n : 1);
        memcpy(c, b, n);
        if (try_open(c, n, "rules") == KANSHI_EPARSE && strstr(err, "truncated") != NULL)
            fails++;
        free(c);
    }
    CHECK_INT(fails, len);
    big = malloc(len + 10);
    memcpy(big, b, len);
    memset(big + len, 0, 10);
    CHECK_INT(try_open(big, len + 1, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "1 bytes after the end");
    CHECK_INT(try_open(big, len + 10, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "10 bytes after the end");
    free(big);
    free(b);
}

TEST(wrong_and_unknown_key)
{
    size_t len;
    uint8_t *b = sample(&len, BUNDLE_KIND_RULES, 3);
    struct bundle *bu = NULL;
    uint8_t idb[BUNDLE_KEY_ID_LEN];

    CHECK(b != NULL);
    if (b == NULL)
        return;
    /* only B trusted: A's key id is unknown */
    CHECK_INT(bundle_open(&bu, b, len, "rules", &pk_b, 1, err, sizeof(err)), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "unknown key id");
    CHECK(bu == NULL);
    /* no key at all */
    CHECK_INT(bundle_open(&bu, b, len, "rules", NULL, 0, err, sizeof(err)), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "unknown key id");
    /* claims to be B's but signed by A: B verifies it, and refuses */
    bundle_key_id(&pk_b, idb);
    memcpy(b + 12, idb, sizeof(idb));
    CHECK_INT(bundle_open(&bu, b, len, "rules", &pk_b, 1, err, sizeof(err)), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "signature does not verify");
    CHECK(bu == NULL);
    free(b);
}

TEST(wrong_kind)
{
    size_t len;
    uint8_t *b = sample(&len, BUNDLE_KIND_FIRMWARE, 3);

    CHECK(b != NULL);
    if (b == NULL)
        return;
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "kind 'firmware', expected 'rules'");
    CHECK_INT(try_open(b, len, "firmware"), 0);
    CHECK_INT(try_open(b, len, NULL), 0);
    free(b);
}

TEST(crafted_round_trip)
{
    const char *names[] = {"a.rules", "b.rules"}, *datas[] = {"one", "two!"};
    size_t nl[] = {7, 7}, len;
    uint8_t *b = craft(&len, "rules", 9, names, nl, datas, 2, 2, 0);
    struct bundle *bu = NULL;

    /* the test's encoder agrees with the parser, so the cases below test
     * exactly one thing each */
    CHECK_INT(bundle_open(&bu, b, len, "rules", &pk_a, 1, err, sizeof(err)), 0);
    if (bu != NULL) {
        CHECK_INT(bundle_nfiles(bu), 2);
        CHECK_INT(bundle_file(bu, 1)->len, 4);
        CHECK(memcmp(bundle_file(bu, 1)->data, "two!", 4) == 0);
    }
    bundle_close(bu);
    free(b);
}

TEST(path_names_refused)
{
    static const struct {
        const char *name;
        size_t len;
    } bad[] = {
        {"../etc-passwd", 13},
        {"a/b.rules", 9},
        {"..", 2},
        {".", 1},
        {".hidden", 7},
        {"/abs", 4},
        {"a\\b", 3},
        {"a\0b", 3},
        {"", 0},
        {"tab\tx", 5},
        {"sp ace", 6},
        {"\xc3\xa9t\xc3\xa9", 6},
    };
    struct bundle_info info = {.kind = "rules", .version = 1};

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(bad); i++) {
        const char *names[] = {bad[i].name}, *datas[] = {"x"};
        size_t nl[] = {bad[i].len}, len;
        uint8_t *b = craft(&len, "rules", 1, names, nl, datas, 1, 1, 0), *out = NULL;
        struct bundle_file f = {.name = bad[i].name, .data = (const uint8_t *)"x", .len = 1};

        CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
        if (bad[i].len > 0)
            CHECK_CONTAINS(err, "not a plain name");
        free(b);
        if (bad[i].len != strlen(bad[i].name))
            continue; /* a C string cannot hold the NUL */
        CHECK_INT(bundle_build(&info, &f, 1, &sk_a, &out, &len, err, sizeof(err)), KANSHI_EPARSE);
        CHECK(out == NULL);
        CHECK_CONTAINS(err, "file name");
    }
    {
        /* bytes outside the name set are shown as '?' in the message */
        const char *names[] = {"tab\tx"}, *datas[] = {"x"};
        size_t nl[] = {5}, len;
        uint8_t *b = craft(&len, "rules", 1, names, nl, datas, 1, 1, 0);
        CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
        CHECK_CONTAINS(err, "name 'tab?x' is not a plain name");
        free(b);
    }
    CHECK(bundle_name_ok("emerging-exploit.rules"));
    CHECK(bundle_name_ok("GeoLite2-Country.mmdb"));
    CHECK(bundle_name_ok("a..b"));
    CHECK(!bundle_name_ok("a/../b"));
    CHECK(!bundle_name_ok(NULL));
}

TEST(long_names)
{
    char name[BUNDLE_MAX_NAME + 2];
    struct bundle_info info = {.kind = "rules", .version = 1};
    struct bundle_file f = {.name = name, .data = (const uint8_t *)"x", .len = 1};
    uint8_t *out = NULL;
    size_t len;
    struct bundle *bu = NULL;

    memset(name, 'n', sizeof(name));
    name[BUNDLE_MAX_NAME] = '\0';
    CHECK_INT(bundle_build(&info, &f, 1, &sk_a, &out, &len, err, sizeof(err)), 0);
    CHECK_INT(bundle_open(&bu, out, len, "rules", &pk_a, 1, err, sizeof(err)), 0);
    CHECK(bu != NULL && strlen(bundle_file(bu, 0)->name) == BUNDLE_MAX_NAME);
    bundle_close(bu);
    free(out);
    out = NULL;
    name[BUNDLE_MAX_NAME] = 'n';
    name[BUNDLE_MAX_NAME + 1] = '\0';
    CHECK_INT(bundle_build(&info, &f, 1, &sk_a, &out, &len, err, sizeof(err)), KANSHI_EPARSE);
    {
        const char *names[] = {name}, *datas[] = {"x"};
        size_t nl[] = {BUNDLE_MAX_NAME + 1};
        uint8_t *b = craft(&len, "rules", 1, names, nl, datas, 1, 1, 0);
        CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
        CHECK_CONTAINS(err, "not a plain name");
        free(b);
    }
}

TEST(duplicates_and_order)
{
    const char *names[] = {"a.rules", "a.rules"}, *datas[] = {"one", "two"};
    const char *rev[] = {"b.rules", "a.rules"};
    const char *prefix[] = {"ab", "a"};
    size_t nl[] = {7, 7}, pl[] = {2, 1}, len;
    uint8_t *b, *out = NULL;
    struct bundle_info info = {.kind = "rules", .version = 1};
    struct bundle_file f[2] = {{.name = "x.rules", .data = (const uint8_t *)"1", .len = 1},
                               {.name = "x.rules", .data = (const uint8_t *)"2", .len = 1}};

    b = craft(&len, "rules", 1, names, nl, datas, 2, 2, 0);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "'a.rules' appears twice");
    free(b);
    b = craft(&len, "rules", 1, rev, nl, datas, 2, 2, 0);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "out of name order");
    free(b);
    b = craft(&len, "rules", 1, prefix, pl, datas, 2, 2, 0);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "out of name order");
    free(b);
    CHECK_INT(bundle_build(&info, f, 2, &sk_a, &out, &len, err, sizeof(err)), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "'x.rules' given twice");
    CHECK(out == NULL);
}

TEST(too_many_files)
{
    size_t n = BUNDLE_MAX_FILES + 1, len;
    struct bundle_file *f = calloc(n, sizeof(*f));
    char(*names)[16] = calloc(n, 16);
    struct bundle_info info = {.kind = "rules", .version = 1};
    uint8_t *out = NULL, *b;

    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], 16, "f%05zu", i);
        f[i].name = names[i];
        f[i].data = (const uint8_t *)"";
    }
    CHECK_INT(bundle_build(&info, f, n, &sk_a, &out, &len, err, sizeof(err)), KANSHI_ELIMIT);
    CHECK_CONTAINS(err, "4097 files");
    /* exactly the limit builds and opens */
    CHECK_INT(bundle_build(&info, f, n - 1, &sk_a, &out, &len, err, sizeof(err)), 0);
    CHECK_INT(try_open(out, len, "rules"), 0);
    free(out);
    /* a signed manifest announcing more than the limit */
    b = craft(&len, "rules", 1, NULL, NULL, NULL, 0, BUNDLE_MAX_FILES + 1, 0);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_ELIMIT);
    CHECK_CONTAINS(err, "more than the limit");
    free(b);
    /* and one announcing more entries than it has */
    b = craft(&len, "rules", 1, NULL, NULL, NULL, 0, 3, 0);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "file entry 0 truncated");
    free(b);
    free(f);
    free(names);
}

TEST(hash_mismatch_resigned)
{
    size_t len;
    uint8_t *b = sample(&len, BUNDLE_KIND_RULES, 3);
    const char *names[] = {"a.rules"}, *datas[] = {"payload"};
    size_t nl[] = {7};

    CHECK(b != NULL);
    if (b == NULL)
        return;
    /* change the last file's data, keep the manifest, re-sign: the
     * signature is good but the hash is not */
    b[len - BUNDLE_SIG_LEN - 2] ^= 0x20;
    resign(b, len);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "file 'local.rules': SHA-256 mismatch");
    free(b);
    b = craft(&len, "rules", 1, names, nl, datas, 1, 1, 1);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "'a.rules': SHA-256 mismatch");
    free(b);
}

/* Signed manifests whose lengths disagree with the bundle. */
TEST(manifest_bounds_resigned)
{
    const char *names[] = {"a.rules"}, *datas[] = {"payload"};
    size_t nl[] = {7}, len;
    size_t m = BUNDLE_HEADER_LEN, e = BUNDLE_HEADER_LEN + BUNDLE_MANIFEST_FIXED + 5;
    uint8_t *b = craft(&len, "rules", 1, names, nl, datas, 1, 1, 0);

    CHECK_INT(try_open(b, len, "rules"), 0);
    put64(b + e, 8); /* file one byte longer than the data */
    resign(b, len);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "runs past the end");
    put64(b + e, 6); /* one byte shorter: a byte of data left over */
    resign(b, len);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "1 bytes of data not covered");
    put64(b + e, 0xffffffffffffffffull);
    resign(b, len);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    put64(b + e, 7);
    put16(b + e + 40, 200); /* name past the manifest */
    resign(b, len);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "name runs past the manifest");
    put16(b + e + 40, 7);
    put32(b + m, 0xffffffff); /* manifest length */
    resign(b, len);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "manifest: length");
    put32(b + m, 3);
    resign(b, len);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    put32(b + m, BUNDLE_MANIFEST_FIXED + 5 + BUNDLE_ENTRY_FIXED + 7);
    {
        /* one stray byte between the last entry and the data */
        size_t mend = m + BUNDLE_MANIFEST_FIXED + 5 + BUNDLE_ENTRY_FIXED + 7;
        uint8_t *c = malloc(len + 1);
        memcpy(c, b, mend);
        c[mend] = 0;
        memcpy(c + mend + 1, b + mend, len - mend);
        put64(c + 20, len + 1);
        put32(c + m, BUNDLE_MANIFEST_FIXED + 5 + BUNDLE_ENTRY_FIXED + 7 + 1);
        resign(c, len + 1);
        CHECK_INT(try_open(c, len + 1, "rules"), KANSHI_EPARSE);
        CHECK_CONTAINS(err, "1 bytes after the last file entry");
        free(c);
    }
    put64(b + m + 8, 0); /* version 0 */
    resign(b, len);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "version 0");
    put64(b + m + 8, 1);
    b[m + 24] = 0; /* empty kind */
    resign(b, len);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "bad kind");
    b[m + 24] = 5;
    b[m + 25] = 200; /* minimum version past the manifest */
    resign(b, len);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "minimum sensor version");
    b[m + 25] = 0;
    b[m + 27] = 1; /* reserved */
    resign(b, len);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "reserved");
    b[m + 27] = 0;
    b[BUNDLE_HEADER_LEN - 1] = 1; /* outer reserved, signed */
    resign(b, len);
    CHECK_INT(try_open(b, len, "rules"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "reserved");
    b[BUNDLE_HEADER_LEN - 1] = 0;
    resign(b, len);
    CHECK_INT(try_open(b, len, "rules"), 0);
    free(b);
}

TEST(build_refusals)
{
    struct bundle_info info = {.kind = "rules", .version = 1};
    uint8_t *out = NULL;
    size_t len;

    info.kind = "Rules";
    CHECK_INT(bundle_build(&info, NULL, 0, &sk_a, &out, &len, err, sizeof(err)), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "kind 'Rules'");
    info.kind = "";
    CHECK_INT(bundle_build(&info, NULL, 0, &sk_a, &out, &len, err, sizeof(err)), KANSHI_EPARSE);
    info.kind = "rules";
    info.version = 0;
    CHECK_INT(bundle_build(&info, NULL, 0, &sk_a, &out, &len, err, sizeof(err)), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "version 0");
    info.version = 1;
    info.min_version = "1.0 beta";
    CHECK_INT(bundle_build(&info, NULL, 0, &sk_a, &out, &len, err, sizeof(err)), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "minimum sensor version");
    CHECK(out == NULL);
}

static char tmpdir[] = "/tmp/bundle_test.XXXXXX";

TEST(key_files)
{
    char prefix[256], kpath[300], ppath[300];
    struct bundle_seckey sk;
    struct bundle_pubkey pk;
    struct stat st;
    FILE *f;

    snprintf(prefix, sizeof(prefix), "%s/release", tmpdir);
    snprintf(kpath, sizeof(kpath), "%s.key", prefix);
    snprintf(ppath, sizeof(ppath), "%s.pub", prefix);
    umask(022);
    CHECK_INT(bundle_key_write(prefix, &sk_a, &pk_a, err, sizeof(err)), 0);
    CHECK(stat(kpath, &st) == 0 && (st.st_mode & 07777) == 0600);
    CHECK(stat(ppath, &st) == 0 && (st.st_mode & 07777) == 0644);
    CHECK_INT(bundle_seckey_load(kpath, &sk, err, sizeof(err)), 0);
    CHECK(memcmp(sk.sk, sk_a.sk, sizeof(sk.sk)) == 0);
    CHECK_INT(bundle_pubkey_load(ppath, &pk, err, sizeof(err)), 0);
    CHECK(memcmp(pk.pk, pk_a.pk, sizeof(pk.pk)) == 0);
    /* does not overwrite */
    CHECK_INT(bundle_key_write(prefix, &sk_b, &pk_b, err, sizeof(err)), -EEXIST);
    CHECK_CONTAINS(err, "release.key");
    CHECK_INT(bundle_seckey_load(kpath, &sk, err, sizeof(err)), 0);
    CHECK(memcmp(sk.sk, sk_a.sk, sizeof(sk.sk)) == 0);
    /* group- or world-accessible secret keys are refused */
    chmod(kpath, 0640);
    CHECK_INT(bundle_seckey_load(kpath, &sk, err, sizeof(err)), -EPERM);
    CHECK_CONTAINS(err, "mode 0640");
    CHECK_CONTAINS(err, "0600 or stricter");
    chmod(kpath, 0604);
    CHECK_INT(bundle_seckey_load(kpath, &sk, err, sizeof(err)), -EPERM);
    chmod(kpath, 0620);
    CHECK_INT(bundle_seckey_load(kpath, &sk, err, sizeof(err)), -EPERM);
    chmod(kpath, 0400);
    CHECK_INT(bundle_seckey_load(kpath, &sk, err, sizeof(err)), 0);
    /* a public key file may be world-readable; a key of the wrong size is not one */
    CHECK_INT(bundle_seckey_load(ppath, &sk, err, sizeof(err)), -EPERM);
    chmod(ppath, 0600);
    CHECK_INT(bundle_seckey_load(ppath, &sk, err, sizeof(err)), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "64 hex digits, a secret key has 128");
    CHECK_INT(bundle_pubkey_load(kpath, &pk, err, sizeof(err)), KANSHI_EPARSE);
    CHECK_INT(bundle_seckey_load("/nonexistent/x.key", &sk, err, sizeof(err)), -ENOENT);
    CHECK_CONTAINS(err, "/nonexistent/x.key");
    /* a spliced key: seed of A, public half of B */
    {
        char bad[300];
        int fd;
        snprintf(bad, sizeof(bad), "%s/spliced.key", tmpdir);
        fd = open(bad, O_WRONLY | O_CREAT | O_EXCL, 0600);
        f = fdopen(fd, "w");
        for (int i = 0; i < 32; i++)
            fprintf(f, "%02x", sk_a.sk[i]);
        for (int i = 0; i < 32; i++)
            fprintf(f, "%02x", pk_b.pk[i]);
        fprintf(f, "\n");
        fclose(f);
        CHECK_INT(bundle_seckey_load(bad, &sk, err, sizeof(err)), KANSHI_EPARSE);
        CHECK_CONTAINS(err, "does not match");
        unlink(bad);
        snprintf(bad, sizeof(bad), "%s/junk.pub", tmpdir);
        f = fopen(bad, "w");
        fprintf(f, "# comment\nzz\n");
        fclose(f);
        CHECK_INT(bundle_pubkey_load(bad, &pk, err, sizeof(err)), KANSHI_EPARSE);
        CHECK_CONTAINS(err, "not a hex digit");
        unlink(bad);
    }
    unlink(kpath);
    unlink(ppath);
}

TEST(read_file_limit)
{
    char path[300];
    uint8_t *buf = NULL;
    size_t len = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/b.bin", tmpdir);
    f = fopen(path, "w");
    fwrite("0123456789", 1, 10, f);
    fclose(f);
    CHECK_INT(bundle_read_file(path, 10, &buf, &len, err, sizeof(err)), 0);
    CHECK(len == 10 && buf != NULL && memcmp(buf, "0123456789", 10) == 0);
    free(buf);
    buf = NULL;
    CHECK_INT(bundle_read_file(path, 9, &buf, &len, err, sizeof(err)), KANSHI_ELIMIT);
    CHECK(buf == NULL);
    CHECK_INT(bundle_read_file(tmpdir, 9, &buf, &len, err, sizeof(err)), -EINVAL);
    unlink(path);
}

int main(void)
{
    if (sodium_init() < 0 || bundle_keygen(&sk_a, &pk_a) != 0 || bundle_keygen(&sk_b, &pk_b) != 0 ||
        mkdtemp(tmpdir) == NULL) {
        fprintf(stderr, "bundle_test: set-up failed\n");
        return 1;
    }
    RUN(round_trip);
    RUN(empty_bundle_and_created_now);
    RUN(every_byte_flipped_fails);
    RUN(region_messages);
    RUN(truncated_and_appended);
    RUN(wrong_and_unknown_key);
    RUN(wrong_kind);
    RUN(crafted_round_trip);
    RUN(path_names_refused);
    RUN(long_names);
    RUN(duplicates_and_order);
    RUN(too_many_files);
    RUN(hash_mismatch_resigned);
    RUN(manifest_bounds_resigned);
    RUN(build_refusals);
    RUN(key_files);
    RUN(read_file_limit);
    rmdir(tmpdir);
    return test_summary("bundle_test");
}
