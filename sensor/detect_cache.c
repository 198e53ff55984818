/*
 * detect_cache.c — compiled Hyperscan databases kept on disk.
 *
 * Compiling a large ruleset's fast patterns is most of a sensor's start-up;
 * loading the serialized databases instead takes milliseconds.  Each
 * database is stored under the SHA-256 of every input that determines it
 * (format version, Hyperscan version, this CPU's platform, the patterns),
 * so a cached file is only ever used where compiling would have given the
 * same database: there is nothing to invalidate.  The file format is in
 * detect_int.h.
 *
 * The cache is an optimisation and nothing more: whatever is wrong with it
 * (missing or unsafe directory, unreadable, short or corrupt file, a full
 * disk) ends in compiling, and is counted in struct detect_info.  Files are
 * checked (length, key, checksum, Hyperscan's own version and mode) before
 * Hyperscan deserializes them, and only files of this user or root in a
 * directory nobody else can write are read, since a crafted database is
 * code Hyperscan would run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hs.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kanshi/detect.h"
#include "kanshi/kanshi.h"
#include "detect_int.h"

/* Larger than any database a ruleset makes; a bigger file is not ours. */
#define CACHE_MAX_FILE (1ull << 30)
/* Together the files stay under this, whatever max_files allows. */
#define CACHE_MAX_BYTES (1ull << 30)
/* A temporary file older than this was left by a process that died. */
#define CACHE_TMP_AGE 3600
#define CACHE_SUFFIX ".hsdb"
#define CACHE_KEY_HEX 64

/* The generic targets (detect_options.hs_target), richest first. */
static const struct {
    const char *name;
    unsigned long long features;
} cache_targets[] = {
    {"avx512vbmi", HS_CPU_FEATURES_AVX2 | HS_CPU_FEATURES_AVX512 | HS_CPU_FEATURES_AVX512VBMI},
    {"avx512", HS_CPU_FEATURES_AVX2 | HS_CPU_FEATURES_AVX512},
    {"avx2", HS_CPU_FEATURES_AVX2},
    {"generic", 0},
};
#define CACHE_NTARGETS (sizeof(cache_targets) / sizeof(cache_targets[0]))

struct detect_cache {
    char *dir;                       /* NULL: only databases compiled ahead */
    bool writable;
    size_t max_files;
    size_t stored;                   /* files written through this handle */
    char (*used)[CACHE_KEY_HEX + 1]; /* keys loaded or stored: kept by pruning */
    size_t nused, capused;
    /* The hash of what every key starts with: format, Hyperscan, platform. */
    crypto_hash_sha256_state prefix;
    /* The platform compiled for; NULL (this CPU) unless a target was set. */
    hs_platform_info_t target;
    bool has_target;
    /* precompiled_dir, and the key prefixes looked for there: this CPU's,
     * then each generic target it can run, richest first. */
    char *pre_dir;
    crypto_hash_sha256_state pre_prefix[1 + CACHE_NTARGETS];
    size_t npre;
};

static void put_le32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *b)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

/* Hashes the parts of a key that do not depend on the patterns, for plat. */
static void cache_key_prefix_for(crypto_hash_sha256_state *st, const hs_platform_info_t *p)
{
    hs_platform_info_t plat = *p;
    const char *ver = hs_version();
    uint8_t b[8];

    crypto_hash_sha256_init(st);
    crypto_hash_sha256_update(st, (const uint8_t *)DETECT_CACHE_MAGIC, 8);
    put_le32(b, DETECT_CACHE_FORMAT);
    crypto_hash_sha256_update(st, b, 4);
    put_le32(b, (uint32_t)strlen(ver));
    crypto_hash_sha256_update(st, b, 4);
    crypto_hash_sha256_update(st, (const uint8_t *)ver, strlen(ver));
    put_le32(b, plat.tune);
    crypto_hash_sha256_update(st, b, 4);
    put_le64(b, plat.cpu_features);
    crypto_hash_sha256_update(st, b, 8);
    put_le64(b, plat.reserved1);
    crypto_hash_sha256_update(st, b, 8);
    put_le64(b, plat.reserved2);
    crypto_hash_sha256_update(st, b, 8);
}

/* The same for this CPU. */
static int cache_key_prefix(crypto_hash_sha256_state *st)
{
    hs_platform_info_t plat;

    memset(&plat, 0, sizeof(plat));
    if (hs_populate_platform(&plat) != HS_SUCCESS)
        return KANSHI_EHS;
    cache_key_prefix_for(st, &plat);
    return 0;
}

static int cache_target_index(const char *name)
{
    for (size_t i = 0; i < CACHE_NTARGETS; i++)
        if (strcmp(cache_targets[i].name, name) == 0)
            return (int)i;
    return -1;
}

bool detect_target_valid(const char *name)
{
    return name != NULL && (strcmp(name, "native") == 0 || cache_target_index(name) >= 0);
}

/* A generic target's platform: no tuning, its features only. */
static void cache_target_platform(size_t i, hs_platform_info_t *plat)
{
    memset(plat, 0, sizeof(*plat));
    plat->tune = HS_TUNE_FAMILY_GENERIC;
    plat->cpu_features = cache_targets[i].features;
}

/* The key: prefix, then the compiler's inputs in order.  The literal
 * compiler is named, so a later regex database cannot share a key. */
static void cache_key(const crypto_hash_sha256_state *prefix, const char *const *exprs,
                      const unsigned *flags, const unsigned *ids, const size_t *lens, unsigned n,
                      unsigned mode, uint8_t key[crypto_hash_sha256_BYTES])
{
    crypto_hash_sha256_state st = *prefix;
    uint8_t b[8];

    crypto_hash_sha256_update(&st, (const uint8_t *)"lit", 3);
    put_le32(b, mode);
    crypto_hash_sha256_update(&st, b, 4);
    put_le32(b, n);
    crypto_hash_sha256_update(&st, b, 4);
    for (unsigned i = 0; i < n; i++) {
        put_le32(b, ids[i]);
        crypto_hash_sha256_update(&st, b, 4);
        put_le32(b, flags[i]);
        crypto_hash_sha256_update(&st, b, 4);
        put_le64(b, (uint64_t)lens[i]);
        crypto_hash_sha256_update(&st, b, 8);
        crypto_hash_sha256_update(&st, (const uint8_t *)exprs[i], lens[i]);
    }
    crypto_hash_sha256_final(&st, key);
}

static void cache_hex(const uint8_t key[crypto_hash_sha256_BYTES], char hex[CACHE_KEY_HEX + 1])
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < crypto_hash_sha256_BYTES; i++) {
        hex[2 * i] = digits[key[i] >> 4];
        hex[2 * i + 1] = digits[key[i] & 15];
    }
    hex[CACHE_KEY_HEX] = '\0';
}

int detect_cache_key_hex(const char *const *exprs, const unsigned *flags, const unsigned *ids,
                         const size_t *lens, unsigned n, unsigned mode, char hex[65])
{
    crypto_hash_sha256_state prefix;
    uint8_t key[crypto_hash_sha256_BYTES];

    if (cache_key_prefix(&prefix) != 0)
        return KANSHI_EHS;
    cache_key(&prefix, exprs, flags, ids, lens, n, mode, key);
    cache_hex(key, hex);
    return 0;
}

/* Records the first problem for the start-up log. */
static void cache_note(struct detect_info *info, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void cache_note(struct detect_info *info, const char *fmt, ...)
{
    va_list ap;

    if (info->cache_note[0] != '\0')
        return;
    va_start(ap, fmt);
    vsnprintf(info->cache_note, sizeof(info->cache_note), fmt, ap);
    va_end(ap);
}

/* A directory databases may be read from: ours or root's, and nobody
 * else may write it (a crafted database is code Hyperscan would run). */
static int cache_dir_check(const char *dir, char *err, size_t errlen)
{
    struct stat st;

    if (strlen(dir) + 1 + CACHE_KEY_HEX + 32 >= PATH_MAX) {
        snprintf(err, errlen, "%s: %s", dir, strerror(ENAMETOOLONG));
        return -ENAMETOOLONG;
    }
    if (stat(dir, &st) != 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", dir, strerror(e));
        return -e;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: %s", dir, strerror(ENOTDIR));
        return -ENOTDIR;
    }
    if ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        snprintf(err, errlen, "%s: owned by another user or writable by others, not used", dir);
        return -EPERM;
    }
    return 0;
}

/* A handle with no directory yet, keyed for this CPU. */
static int cache_new(struct detect_cache **out, char *err, size_t errlen)
{
    struct detect_cache *c;

    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium did not initialise");
        return -ENOMEM;
    }
    if ((c = calloc(1, sizeof(*c))) == NULL) {
        snprintf(err, errlen, "%s", strerror(ENOMEM));
        return -ENOMEM;
    }
    if (cache_key_prefix(&c->prefix) != 0) {
        snprintf(err, errlen, "hs_populate_platform failed");
        free(c);
        return -ENOMEM;
    }
    c->max_files = DETECT_CACHE_MAX_FILES;
    *out = c;
    return 0;
}

int detect_cache_open(struct detect_cache **out, const char *dir, size_t max_files, char *err,
                      size_t errlen)
{
    struct detect_cache *c;
    char why[200];
    int rc;

    if ((rc = cache_dir_check(dir, err, errlen)) != 0)
        return rc;
    if ((rc = cache_new(&c, why, sizeof(why))) != 0) {
        snprintf(err, errlen, "%s: %s", dir, why);
        return rc;
    }
    if ((c->dir = strdup(dir)) == NULL) {
        free(c);
        snprintf(err, errlen, "%s: %s", dir, strerror(ENOMEM));
        return -ENOMEM;
    }
    c->writable = access(dir, W_OK | X_OK) == 0;
    if (max_files != 0)
        c->max_files = max_files;
    *out = c;
    return 0;
}

/* The key prefixes looked for in the precompiled directory. */
static int cache_pre_prefixes(struct detect_cache *c)
{
    hs_platform_info_t host, plat;

    memset(&host, 0, sizeof(host));
    if (hs_populate_platform(&host) != HS_SUCCESS)
        return KANSHI_EHS;
    c->pre_prefix[0] = c->prefix;
    c->npre = 1;
    for (size_t i = 0; i < CACHE_NTARGETS; i++) {
        if ((cache_targets[i].features & ~host.cpu_features) != 0)
            continue; /* this CPU cannot run it */
        cache_target_platform(i, &plat);
        cache_key_prefix_for(&c->pre_prefix[c->npre++], &plat);
    }
    return 0;
}

int detect_cache_open_opts(struct detect_cache **out, const struct detect_options *opts,
                           struct detect_info *info, char *err, size_t errlen)
{
    struct detect_cache *c = NULL;
    char why[sizeof(info->cache_note)];
    int t = -1, rc;

    *out = NULL;
    if (opts == NULL)
        return 0;
    if (opts->hs_target != NULL && strcmp(opts->hs_target, "native") != 0 &&
        (t = cache_target_index(opts->hs_target)) < 0) {
        snprintf(err, errlen, "unknown Hyperscan target '%s' (native, avx512vbmi, avx512, avx2 "
                 "or generic)", opts->hs_target);
        return -EINVAL;
    }
    if (opts->cache_dir != NULL) {
        /* A cache that cannot be used only costs the compile: say why. */
        if (detect_cache_open(&c, opts->cache_dir, opts->cache_max_files, why, sizeof(why)) == 0) {
            info->cache_used = true;
            info->cache_readonly = !c->writable;
        } else {
            cache_note(info, "%s", why);
        }
    }
    if (c == NULL && (t >= 0 || opts->precompiled_dir != NULL) &&
        (rc = cache_new(&c, err, errlen)) != 0)
        return rc;
    if (t >= 0) {
        /* Made for elsewhere: keyed as there; nothing compiled ahead fits. */
        cache_target_platform((size_t)t, &c->target);
        c->has_target = true;
        cache_key_prefix_for(&c->prefix, &c->target);
    } else if (opts->precompiled_dir != NULL) {
        if (cache_dir_check(opts->precompiled_dir, why, sizeof(why)) != 0) {
            cache_note(info, "%s", why);
        } else if ((c->pre_dir = strdup(opts->precompiled_dir)) == NULL ||
                   cache_pre_prefixes(c) != 0) {
            free(c->pre_dir);
            c->pre_dir = NULL;
            cache_note(info, "%s: cannot be used", opts->precompiled_dir);
        }
    }
    if (c != NULL && c->dir == NULL && c->pre_dir == NULL && !c->has_target) {
        free(c);
        c = NULL;
    }
    *out = c;
    return 0;
}

bool detect_cache_writable(const struct detect_cache *c)
{
    return c != NULL && c->dir != NULL && c->writable;
}

/* Remembers that key belongs to the engine being built, so pruning keeps it. */
static void cache_use(struct detect_cache *c, const char *hex)
{
    if (c->nused == c->capused) {
        size_t cap = c->capused ? c->capused * 2 : 8;
        char(*u)[CACHE_KEY_HEX + 1] = kanshi_reallocarray(c->used, cap, sizeof(*u));
        if (u == NULL)
            return; /* only pruning is less careful */
        c->used = u;
        c->capused = cap;
    }
    memcpy(c->used[c->nused++], hex, CACHE_KEY_HEX + 1);
}

static int read_all(int fd, uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = read(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* True when Hyperscan's description of a database ("Version: 5.4.0
 * Features: AVX2 Mode: BLOCK") names this Hyperscan and the mode. */
static bool cache_info_ok(const char *desc, unsigned mode)
{
    const char *ver = hs_version();
    size_t vlen = strcspn(ver, " ");
    const char *want = mode == HS_MODE_BLOCK ? "Mode: BLOCK" : NULL;

    if (desc == NULL || strncmp(desc, "Version: ", 9) != 0 || strncmp(desc + 9, ver, vlen) != 0 ||
        desc[9 + vlen] != ' ')
        return false;
    return want == NULL || strstr(desc, want) != NULL;
}

/*
 * Loads the database stored under key.  Returns 1 with *db set, 0 when there
 * is no file, or -1 when there was an unusable one (removed, and noted).
 */
static int cache_load(bool writable, const char *path, const uint8_t *key, unsigned mode,
                      hs_database_t **db, struct detect_info *info)
{
    uint8_t *buf = NULL, sum[crypto_hash_sha256_BYTES];
    char *desc = NULL;
    const char *why;
    struct stat st;
    size_t len;
    uint64_t plen;
    int fd;

    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        cache_note(info, "%s: %s", path, strerror(errno));
        return -1; /* not a regular file, or unreadable: leave it be */
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        why = "not a regular file";
        goto keep;
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        why = "owned by another user";
        goto keep;
    }
    if ((uint64_t)st.st_size < DETECT_CACHE_HDR || (uint64_t)st.st_size > CACHE_MAX_FILE) {
        why = "truncated or not a cache file";
        goto bad;
    }
    len = (size_t)st.st_size;
    if ((buf = malloc(len)) == NULL) {
        why = strerror(ENOMEM);
        goto keep;
    }
    if (read_all(fd, buf, len) != 0) {
        why = "short read";
        goto bad;
    }
    plen = get_le64(buf + 40);
    if (memcmp(buf, DETECT_CACHE_MAGIC, 8) != 0) {
        why = "not a cache file";
        goto bad;
    }
    if (memcmp(buf + 8, key, crypto_hash_sha256_BYTES) != 0) {
        why = "stored under another key";
        goto bad;
    }
    if (plen != len - DETECT_CACHE_HDR) {
        why = "truncated";
        goto bad;
    }
    crypto_hash_sha256(sum, buf + DETECT_CACHE_HDR, plen);
    if (memcmp(sum, buf + 48, sizeof(sum)) != 0) {
        why = "checksum mismatch";
        goto bad;
    }
    if (hs_serialized_database_info((const char *)buf + DETECT_CACHE_HDR, plen, &desc) !=
            HS_SUCCESS ||
        !cache_info_ok(desc, mode)) {
        why = "made by another Hyperscan or for another mode";
        goto bad;
    }
    free(desc);
    desc = NULL;
    if (hs_deserialize_database((const char *)buf + DETECT_CACHE_HDR, plen, db) != HS_SUCCESS) {
        *db = NULL;
        why = "Hyperscan cannot load it";
        goto bad;
    }
    /* The same check on what Hyperscan made of it. */
    if (hs_database_info(*db, &desc) != HS_SUCCESS || !cache_info_ok(desc, mode)) {
        hs_free_database(*db);
        *db = NULL;
        why = "made by another Hyperscan or for another mode";
        goto bad;
    }
    free(desc);
    free(buf);
    /* A newer time marks it recently used, for pruning; best effort. */
    if (writable)
        (void)futimens(fd, NULL);
    close(fd);
    return 1;
bad:
    if (writable)
        (void)unlink(path);
    info->cache_rejected++;
keep:
    cache_note(info, "%s: %s, compiled instead", path, why);
    free(desc);
    free(buf);
    close(fd);
    return -1;
}

/* Writes db under key: temporary file, fsync, rename, fsync the directory,
 * so a reader never sees half a file and a crash leaves no bad one. */
static int cache_store(struct detect_cache *c, const char *path, const char *hex,
                       const uint8_t *key, const hs_database_t *db, struct detect_info *info)
{
    char tmp[PATH_MAX];
    char *bytes = NULL;
    size_t blen = 0;
    uint8_t hdr[DETECT_CACHE_HDR];
    int fd = -1, dfd, e = 0;
    const char *what;

    if (hs_serialize_database(db, &bytes, &blen) != HS_SUCCESS) {
        what = "hs_serialize_database failed";
        goto fail;
    }
    memcpy(hdr, DETECT_CACHE_MAGIC, 8);
    memcpy(hdr + 8, key, crypto_hash_sha256_BYTES);
    put_le64(hdr + 40, (uint64_t)blen);
    crypto_hash_sha256(hdr + 48, (const uint8_t *)bytes, blen);
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp-XXXXXX", c->dir, hex);
    what = "create";
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        e = errno;
        goto fail;
    }
    what = "write";
    if (fchmod(fd, 0644) != 0 || write_all(fd, hdr, sizeof(hdr)) != 0 ||
        write_all(fd, (const uint8_t *)bytes, blen) != 0 || fsync(fd) != 0) {
        e = errno;
        goto fail;
    }
    if (close(fd) != 0) {
        e = errno;
        fd = -1;
        goto fail;
    }
    fd = -1;
    what = "rename";
    if (rename(tmp, path) != 0) {
        e = errno;
        goto fail;
    }
    if ((dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(bytes);
    c->stored++;
    return 0;
fail:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    } else if (e != 0 && strcmp(what, "rename") == 0) {
        unlink(tmp);
    }
    info->cache_write_errors++;
    if (e != 0)
        cache_note(info, "%s: cannot store a database (%s: %s)", c->dir, what, strerror(e));
    else
        cache_note(info, "%s: cannot store a database (%s)", c->dir, what);
    free(bytes);
    return -1;
}

int detect_cache_compile_lit(struct detect_cache *c, const char *const *exprs,
                             const unsigned *flags, const unsigned *ids, const size_t *lens,
                             unsigned n, unsigned mode, struct hs_database **db,
                             struct detect_info *info, char *err, size_t errlen)
{
    hs_compile_error_t *cerr = NULL;
    uint8_t key[crypto_hash_sha256_BYTES];
    char hex[CACHE_KEY_HEX + 1], path[PATH_MAX];
    hs_error_t hr;

    /* Hyperscan 5.4 crashes on an empty literal instead of refusing it. */
    for (unsigned i = 0; i < n; i++) {
        if (lens[i] == 0) {
            *db = NULL;
            snprintf(err, errlen, "hyperscan: empty literal (pattern %u)", i);
            return KANSHI_EHS;
        }
    }
    if (c != NULL && c->dir != NULL) {
        cache_key(&c->prefix, exprs, flags, ids, lens, n, mode, key);
        cache_hex(key, hex);
        snprintf(path, sizeof(path), "%s/%s%s", c->dir, hex, CACHE_SUFFIX);
        cache_use(c, hex);
        if (cache_load(c->writable, path, key, mode, db, info) == 1) {
            info->cache_hits++;
            info->databases++;
            return 0;
        }
    }
    for (size_t i = 0; c != NULL && c->pre_dir != NULL && i < c->npre; i++) {
        uint8_t pkey[crypto_hash_sha256_BYTES];
        char phex[CACHE_KEY_HEX + 1], ppath[PATH_MAX];
        cache_key(&c->pre_prefix[i], exprs, flags, ids, lens, n, mode, pkey);
        cache_hex(pkey, phex);
        snprintf(ppath, sizeof(ppath), "%s/%s%s", c->pre_dir, phex, CACHE_SUFFIX);
        if (cache_load(false, ppath, pkey, mode, db, info) == 1) {
            info->cache_precompiled++;
            info->databases++;
            return 0;
        }
    }
    if (c != NULL && c->dir != NULL)
        info->cache_misses++;
    hr = hs_compile_lit_multi(exprs, flags, ids, lens, n, mode,
                              c != NULL && c->has_target ? &c->target : NULL, db, &cerr);
    if (hr != HS_SUCCESS) {
        *db = NULL;
        if (hr == HS_NOMEM) {
            hs_free_compile_error(cerr);
            snprintf(err, errlen, "hyperscan: out of memory");
            return -ENOMEM;
        }
        snprintf(err, errlen, "hyperscan: %s (pattern %d)", cerr ? cerr->message : "?",
                 cerr ? cerr->expression : -1);
        hs_free_compile_error(cerr);
        return KANSHI_EHS;
    }
    info->databases++;
    if (c != NULL && c->dir != NULL && c->writable)
        cache_store(c, path, hex, key, *db, info);
    return 0;
}

/* One file seen while pruning. */
struct cache_file {
    char name[CACHE_KEY_HEX + sizeof(CACHE_SUFFIX)];
    time_t mtime;
    uint64_t size;
};

static int cache_file_cmp(const void *a, const void *b)
{
    const struct cache_file *x = a, *y = b;

    if (x->mtime != y->mtime)
        return x->mtime < y->mtime ? -1 : 1;
    return strcmp(x->name, y->name);
}

static bool cache_is_key_name(const char *name)
{
    size_t i;

    for (i = 0; i < CACHE_KEY_HEX; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    return strcmp(name + CACHE_KEY_HEX, CACHE_SUFFIX) == 0;
}

static bool cache_in_use(const struct detect_cache *c, const char *name)
{
    for (size_t i = 0; i < c->nused; i++)
        if (memcmp(c->used[i], name, CACHE_KEY_HEX) == 0)
            return true;
    return false;
}

/* Removes temporary files left by dead processes, then the least recently
 * used databases beyond max_files or CACHE_MAX_BYTES. */
static void cache_prune(struct detect_cache *c, struct detect_info *info)
{
    struct cache_file *files = NULL;
    size_t n = 0, cap = 0, keep;
    uint64_t total = 0;
    time_t now = time(NULL);
    struct dirent *ent;
    DIR *d;
    int dfd;

    if ((d = opendir(c->dir)) == NULL)
        return;
    dfd = dirfd(d);
    while ((ent = readdir(d)) != NULL) {
        struct stat st;
        if (fstatat(dfd, ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (ent->d_name[0] == '.' && strstr(ent->d_name, ".tmp-") != NULL) {
            if (now - st.st_mtime > CACHE_TMP_AGE)
                (void)unlinkat(dfd, ent->d_name, 0);
            continue;
        }
        if (!cache_is_key_name(ent->d_name))
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct cache_file *f = kanshi_reallocarray(files, nc, sizeof(*f));
            if (f == NULL)
                goto out;
            files = f;
            cap = nc;
        }
        memcpy(files[n].name, ent->d_name, sizeof(files[n].name));
        files[n].mtime = st.st_mtime;
        files[n].size = (uint64_t)st.st_size;
        total += files[n].size;
        n++;
    }
    if (n > 1)
        qsort(files, n, sizeof(*files), cache_file_cmp);
    keep = n;
    for (size_t i = 0; i < n && (keep > c->max_files || total > CACHE_MAX_BYTES); i++) {
        if (cache_in_use(c, files[i].name))
            continue;
        if (unlinkat(dfd, files[i].name, 0) == 0) {
            keep--;
            total -= files[i].size;
            info->cache_pruned++;
        }
    }
out:
    free(files);
    closedir(d);
}

void detect_cache_close(struct detect_cache *c, struct detect_info *info)
{
    if (c == NULL)
        return;
    if (c->stored > 0 && info != NULL)
        cache_prune(c, info);
    free(c->used);
    free(c->pre_dir);
    free(c->dir);
    free(c);
}
