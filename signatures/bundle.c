/*
 * bundle.c — the signed bundle container (include/kanshi/bundle.h has the
 * format byte by byte).
 *
 * A bundle crosses from the signature team to hundreds of sensors through
 * the collector, which is not trusted with the release key; so the sensor
 * believes nothing in a bundle until the Ed25519 signature over all of it
 * has verified.  bundle_open() reads only the fixed outer header (to find
 * the key and the length) before that, then parses the manifest with every
 * length checked against what is left, and hashes every file.  The builder
 * and the key files live here too, so kanshi-sig, kanshi-fw and the tests
 * share one encoder.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kanshi/bundle.h"
#include "kanshi/kanshi.h"

struct bundle {
    char kind[BUNDLE_MAX_KIND + 1];
    char min_version[BUNDLE_MAX_MINVER + 1];
    uint64_t version, created;
    uint8_t key_id[BUNDLE_KEY_ID_LEN];
    size_t nfiles;
    struct bundle_file *files;
    char *names; /* NUL-terminated names, back to back */
};

/* Key files are tiny; anything larger is not one. */
#define BUNDLE_KEYFILE_MAX 4096

static void bundle_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void bundle_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)(v >> 32));
    wr32(p + 4, (uint32_t)v);
}

static void hex_id(const uint8_t id[BUNDLE_KEY_ID_LEN], char out[2 * BUNDLE_KEY_ID_LEN + 1])
{
    for (int i = 0; i < BUNDLE_KEY_ID_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", id[i]);
}

static int kind_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int minver_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '+' || c == '~' || c == '_' || c == '-';
}

static int name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '+' || c == '_' || c == '-';
}

static int bytes_ok(const uint8_t *p, size_t len, size_t min, size_t max, int (*ok)(int))
{
    if (len < min || len > max)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!ok(p[i]))
            return 0;
    return 1;
}

static int name_bytes_ok(const uint8_t *p, size_t len)
{
    return bytes_ok(p, len, 1, BUNDLE_MAX_NAME, name_char) && p[0] != '.';
}

int bundle_name_ok(const char *name)
{
    return name != NULL && name_bytes_ok((const uint8_t *)name, strlen(name));
}

/* Byte order with a prefix first: the manifest's order of names. */
static int name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

void bundle_key_id(const struct bundle_pubkey *pk, uint8_t id[BUNDLE_KEY_ID_LEN])
{
    uint8_t h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(h, pk->pk, sizeof(pk->pk));
    memcpy(id, h, BUNDLE_KEY_ID_LEN);
}

int bundle_keygen(struct bundle_seckey *sk, struct bundle_pubkey *pk)
{
    if (sodium_init() < 0)
        return -EIO;
    crypto_sign_keypair(pk->pk, sk->sk);
    return 0;
}

void bundle_seckey_public(const struct bundle_seckey *sk, struct bundle_pubkey *pk)
{
    crypto_sign_ed25519_sk_to_pk(pk->pk, sk->sk);
}

/* --- key files ----------------------------------------------------------- */

static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static int key_write_one(const char *path, mode_t mode, const char *comment, const uint8_t *key,
                         size_t keylen, char *err, size_t errlen)
{
    char text[512];
    size_t n;
    int fd, rc;

    n = (size_t)snprintf(text, sizeof(text), "# %s\n", comment);
    for (size_t i = 0; i < keylen && n + 3 < sizeof(text); i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%02x", key[i]);
    text[n++] = '\n';
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        rc = -errno;
        bundle_err(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    /* the umask may have taken bits away, never added: set exactly */
    if (fchmod(fd, mode) != 0 || (rc = write_all(fd, text, n)) != 0 || fsync(fd) != 0) {
        rc = -errno;
        bundle_err(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return rc;
    }
    sodium_memzero(text, sizeof(text));
    if (close(fd) != 0) {
        rc = -errno;
        bundle_err(err, errlen, "%s: %s", path, strerror(errno));
        unlink(path);
        return rc;
    }
    return 0;
}

int bundle_key_write(const char *prefix, const struct bundle_seckey *sk,
                     const struct bundle_pubkey *pk, char *err, size_t errlen)
{
    char kpath[4096], ppath[4096], comment[128], idhex[2 * BUNDLE_KEY_ID_LEN + 1];
    uint8_t id[BUNDLE_KEY_ID_LEN];
    int rc;

    if ((size_t)snprintf(kpath, sizeof(kpath), "%s.key", prefix) >= sizeof(kpath) ||
        (size_t)snprintf(ppath, sizeof(ppath), "%s.pub", prefix) >= sizeof(ppath)) {
        bundle_err(err, errlen, "%s: path too long", prefix);
        return -ENAMETOOLONG;
    }
    bundle_key_id(pk, id);
    hex_id(id, idhex);
    snprintf(comment, sizeof(comment), "kanshi bundle release secret key, key id %s", idhex);
    if ((rc = key_write_one(kpath, 0600, comment, sk->sk, sizeof(sk->sk), err, errlen)) != 0)
        return rc;
    snprintf(comment, sizeof(comment), "kanshi bundle release public key, key id %s", idhex);
    if ((rc = key_write_one(ppath, 0644, comment, pk->pk, sizeof(pk->pk), err, errlen)) != 0) {
        unlink(kpath);
        return rc;
    }
    return 0;
}

/*
 * Reads a key file's hex digits into key[0..keylen): '#' starts a comment
 * to the end of the line, whitespace is skipped, anything else is an error.
 * With secret set, the file must be regular and have no group/other bits.
 */
static int key_read(const char *path, int secret, uint8_t *key, size_t keylen, char *err,
                    size_t errlen)
{
    char text[BUNDLE_KEYFILE_MAX + 1];
    struct stat st;
    size_t n = 0, nd = 0;
    int fd, rc = 0, comment = 0, hi = -1;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        rc = -errno;
        bundle_err(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        bundle_err(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        bundle_err(err, errlen, "%s: not a regular file", path);
        close(fd);
        return -EPERM;
    }
    if (secret && (st.st_mode & 077) != 0) {
        bundle_err(err, errlen,
                   "%s: mode %04o, a secret key file must be 0600 or stricter "
                   "(no group or other permission bits): chmod 600 %s",
                   path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return -EPERM;
    }
    for (;;) {
        ssize_t r = read(fd, text + n, sizeof(text) - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            bundle_err(err, errlen, "%s: %s", path, strerror(errno));
            close(fd);
            return rc;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == sizeof(text)) {
            bundle_err(err, errlen, "%s: larger than %d bytes, not a key file", path,
                       BUNDLE_KEYFILE_MAX);
            close(fd);
            return KANSHI_EPARSE;
        }
    }
    close(fd);
    for (size_t i = 0; i < n && rc == 0; i++) {
        int c = (unsigned char)text[i], v;
        if (comment) {
            comment = c != '\n';
            continue;
        }
        if (c == '#') {
            comment = 1;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            continue;
        } else if ((v = kanshi_hexval(c)) < 0) {
            bundle_err(err, errlen, "%s: byte %zu: not a hex digit", path, i);
            rc = KANSHI_EPARSE;
        } else if (nd / 2 >= keylen) {
            bundle_err(err, errlen, "%s: more than %zu hex digits", path, 2 * keylen);
            rc = KANSHI_EPARSE;
        } else if (hi < 0) {
            hi = v;
            nd++;
        } else {
            key[nd / 2] = (uint8_t)(hi << 4 | v);
            hi = -1;
            nd++;
        }
    }
    sodium_memzero(text, sizeof(text));
    if (rc == 0 && nd != 2 * keylen) {
        bundle_err(err, errlen, "%s: %zu hex digits, a %s key has %zu", path, nd,
                   secret ? "secret" : "public", 2 * keylen);
        rc = KANSHI_EPARSE;
    }
    if (rc != 0)
        sodium_memzero(key, keylen);
    return rc;
}

int bundle_seckey_load(const char *path, struct bundle_seckey *sk, char *err, size_t errlen)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
    int rc;

    if (sodium_init() < 0) {
        bundle_err(err, errlen, "libsodium did not initialise");
        return -EIO;
    }
    if ((rc = key_read(path, 1, sk->sk, sizeof(sk->sk), err, errlen)) != 0)
        return rc;
    /* the public half must be the seed's: catches a damaged or spliced key */
    crypto_sign_seed_keypair(pk, sk2, sk->sk);
    rc = sodium_memcmp(sk2, sk->sk, sizeof(sk2)) == 0 ? 0 : KANSHI_EPARSE;
    sodium_memzero(sk2, sizeof(sk2));
    if (rc != 0) {
        bundle_err(err, errlen, "%s: public half does not match the secret seed", path);
        sodium_memzero(sk->sk, sizeof(sk->sk));
    }
    return rc;
}

int bundle_pubkey_load(const char *path, struct bundle_pubkey *pk, char *err, size_t errlen)
{
    return key_read(path, 0, pk->pk, sizeof(pk->pk), err, errlen);
}

int bundle_read_file(const char *path, size_t max, uint8_t **out, size_t *outlen, char *err,
                     size_t errlen)
{
    struct stat st;
    uint8_t *buf;
    size_t n = 0;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        bundle_err(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        bundle_err(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        bundle_err(err, errlen, "%s: not a regular file", path);
        close(fd);
        return -EINVAL;
    }
    if ((uint64_t)st.st_size > max) {
        bundle_err(err, errlen, "%s: %lld bytes, more than the limit of %zu", path,
                   (long long)st.st_size, max);
        close(fd);
        return KANSHI_ELIMIT;
    }
    /* one byte more than the size, to notice a file that grew */
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        bundle_err(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    while (n <= (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            bundle_err(err, errlen, "%s: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return rc;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n != (size_t)st.st_size) {
        bundle_err(err, errlen, "%s: changed while being read", path);
        free(buf);
        return -EIO;
    }
    *out = buf;
    *outlen = n;
    return 0;
}

/* --- building ------------------------------------------------------------ */

static int file_ptr_cmp(const void *a, const void *b)
{
    const struct bundle_file *x = *(const struct bundle_file *const *)a;
    const struct bundle_file *y = *(const struct bundle_file *const *)b;

    return name_cmp((const uint8_t *)x->name, strlen(x->name), (const uint8_t *)y->name,
                    strlen(y->name));
}

int bundle_build(const struct bundle_info *info, const struct bundle_file *files, size_t nfiles,
                 const struct bundle_seckey *sk, uint8_t **out, size_t *outlen, char *err,
                 size_t errlen)
{
    const struct bundle_file **sorted;
    struct bundle_pubkey pk;
    size_t klen, vlen, mlen, total, off;
    const char *minver = info->min_version ? info->min_version : "";
    uint8_t *b;

    if (sodium_init() < 0) {
        bundle_err(err, errlen, "libsodium did not initialise");
        return -EIO;
    }
    klen = info->kind ? strlen(info->kind) : 0;
    vlen = strlen(minver);
    if (!bytes_ok((const uint8_t *)info->kind, klen, 1, BUNDLE_MAX_KIND, kind_char)) {
        bundle_err(err, errlen, "kind '%s': 1 to %d of [a-z0-9_-]", info->kind ? info->kind : "",
                   BUNDLE_MAX_KIND);
        return KANSHI_EPARSE;
    }
    if (!bytes_ok((const uint8_t *)minver, vlen, 0, BUNDLE_MAX_MINVER, minver_char)) {
        bundle_err(err, errlen, "minimum sensor version '%s': up to %d of [A-Za-z0-9.+~_-]", minver,
                   BUNDLE_MAX_MINVER);
        return KANSHI_EPARSE;
    }
    if (info->version == 0) {
        bundle_err(err, errlen, "version 0: bundle versions start at 1");
        return KANSHI_EPARSE;
    }
    if (nfiles > BUNDLE_MAX_FILES) {
        bundle_err(err, errlen, "%zu files, more than the limit of %d", nfiles, BUNDLE_MAX_FILES);
        return KANSHI_ELIMIT;
    }
    mlen = BUNDLE_MANIFEST_FIXED + klen + vlen;
    total = BUNDLE_HEADER_LEN + BUNDLE_SIG_LEN;
    for (size_t i = 0; i < nfiles; i++) {
        if (!bundle_name_ok(files[i].name)) {
            bundle_err(err, errlen,
                       "file name '%s': a plain name of 1 to %d of [A-Za-z0-9._+-], "
                       "not starting with '.'",
                       files[i].name ? files[i].name : "", BUNDLE_MAX_NAME);
            return KANSHI_EPARSE;
        }
        mlen += BUNDLE_ENTRY_FIXED + strlen(files[i].name);
        if (files[i].len > BUNDLE_MAX_SIZE || total + files[i].len > BUNDLE_MAX_SIZE) {
            bundle_err(err, errlen, "file '%s': the bundle would pass the limit of %llu bytes",
                       files[i].name, (unsigned long long)BUNDLE_MAX_SIZE);
            return KANSHI_ELIMIT;
        }
        total += files[i].len;
    }
    total += mlen;
    if (total > BUNDLE_MAX_SIZE) {
        bundle_err(err, errlen, "bundle of %zu bytes, more than the limit of %llu", total,
                   (unsigned long long)BUNDLE_MAX_SIZE);
        return KANSHI_ELIMIT;
    }
    sorted = kanshi_calloc(nfiles + 1, sizeof(*sorted));
    if (sorted == NULL) {
        bundle_err(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < nfiles; i++)
        sorted[i] = &files[i];
    qsort(sorted, nfiles, sizeof(*sorted), file_ptr_cmp);
    for (size_t i = 1; i < nfiles; i++)
        if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0) {
            bundle_err(err, errlen, "file name '%s' given twice", sorted[i]->name);
            free(sorted);
            return KANSHI_EPARSE;
        }
    b = malloc(total);
    if (b == NULL) {
        free(sorted);
        bundle_err(err, errlen, "out of memory for a bundle of %zu bytes", total);
        return -ENOMEM;
    }
    bundle_seckey_public(sk, &pk);
    memcpy(b, BUNDLE_MAGIC, 8);
    wr16(b + 8, BUNDLE_FORMAT);
    wr16(b + 10, 0);
    bundle_key_id(&pk, b + 12);
    wr64(b + 20, total);
    wr32(b + 28, 0);
    off = BUNDLE_HEADER_LEN;
    wr32(b + off, (uint32_t)mlen);
    wr32(b + off + 4, (uint32_t)nfiles);
    wr64(b + off + 8, info->version);
    wr64(b + off + 16, info->created ? info->created : (uint64_t)time(NULL));
    b[off + 24] = (uint8_t)klen;
    b[off + 25] = (uint8_t)vlen;
    wr16(b + off + 26, 0);
    off += BUNDLE_MANIFEST_FIXED;
    memcpy(b + off, info->kind, klen);
    off += klen;
    memcpy(b + off, minver, vlen);
    off += vlen;
    for (size_t i = 0; i < nfiles; i++) {
        size_t nl = strlen(sorted[i]->name);
        wr64(b + off, sorted[i]->len);
        crypto_hash_sha256(b + off + 8, sorted[i]->data, sorted[i]->len);
        wr16(b + off + 40, (uint16_t)nl);
        memcpy(b + off + BUNDLE_ENTRY_FIXED, sorted[i]->name, nl);
        off += BUNDLE_ENTRY_FIXED + nl;
    }
    for (size_t i = 0; i < nfiles; i++) {
        if (sorted[i]->len > 0)
            memcpy(b + off, sorted[i]->data, sorted[i]->len);
        off += sorted[i]->len;
    }
    free(sorted);
    crypto_sign_detached(b + off, NULL, b, off, sk->sk);
    *out = b;
    *outlen = total;
    return 0;
}

/* --- opening ------------------------------------------------------------- */

int bundle_peek_header(const uint8_t *data, size_t len, uint8_t key_id[BUNDLE_KEY_ID_LEN],
                       uint64_t *total_len, char *err, size_t errlen)
{
    if (len < BUNDLE_HEADER_LEN + BUNDLE_SIG_LEN) {
        bundle_err(err, errlen, "truncated: %zu bytes, a bundle has at least %d", len,
                   BUNDLE_HEADER_LEN + BUNDLE_SIG_LEN);
        return KANSHI_EPARSE;
    }
    if (memcmp(data, BUNDLE_MAGIC, 8) != 0) {
        bundle_err(err, errlen, "not a kanshi bundle (bad magic)");
        return KANSHI_EPARSE;
    }
    if (rd16(data + 8) != BUNDLE_FORMAT) {
        bundle_err(err, errlen, "bundle format %u, this program reads format %d", rd16(data + 8),
                   BUNDLE_FORMAT);
        return KANSHI_EPARSE;
    }
    memcpy(key_id, data + 12, BUNDLE_KEY_ID_LEN);
    *total_len = rd64(data + 20);
    return 0;
}

void bundle_close(struct bundle *b)
{
    if (b == NULL)
        return;
    free(b->files);
    free(b->names);
    free(b);
}

/* Parses the verified manifest of data[0..end) (end = T - 64) into b. */
static int bundle_parse(struct bundle *b, const uint8_t *data, size_t end, char *err, size_t errlen)
{
    const uint8_t *m = data + BUNDLE_HEADER_LEN;
    size_t avail = end - BUNDLE_HEADER_LEN, mlen, off, names_len = 0, doff, klen, vlen;
    uint32_t nfiles;

    if (rd16(data + 10) != 0 || rd32(data + 28) != 0) {
        bundle_err(err, errlen, "header: reserved bytes not zero");
        return KANSHI_EPARSE;
    }
    if (avail < BUNDLE_MANIFEST_FIXED) {
        bundle_err(err, errlen, "manifest: truncated (%zu bytes)", avail);
        return KANSHI_EPARSE;
    }
    mlen = rd32(m);
    nfiles = rd32(m + 4);
    if (mlen < BUNDLE_MANIFEST_FIXED + 1 || mlen > avail) {
        bundle_err(err, errlen, "manifest: length %zu, the bundle leaves room for %zu", mlen,
                   avail);
        return KANSHI_EPARSE;
    }
    if (nfiles > BUNDLE_MAX_FILES) {
        bundle_err(err, errlen, "manifest: %u files, more than the limit of %d", nfiles,
                   BUNDLE_MAX_FILES);
        return KANSHI_ELIMIT;
    }
    b->version = rd64(m + 8);
    b->created = rd64(m + 16);
    klen = m[24];
    vlen = m[25];
    if (rd16(m + 26) != 0) {
        bundle_err(err, errlen, "manifest: reserved bytes not zero");
        return KANSHI_EPARSE;
    }
    if (b->version == 0) {
        bundle_err(err, errlen, "manifest: version 0");
        return KANSHI_EPARSE;
    }
    off = BUNDLE_MANIFEST_FIXED;
    if (klen > mlen - off || !bytes_ok(m + off, klen, 1, BUNDLE_MAX_KIND, kind_char)) {
        bundle_err(err, errlen, "manifest: bad kind (%zu bytes)", klen);
        return KANSHI_EPARSE;
    }
    memcpy(b->kind, m + off, klen);
    b->kind[klen] = '\0';
    off += klen;
    if (vlen > mlen - off || !bytes_ok(m + off, vlen, 0, BUNDLE_MAX_MINVER, minver_char)) {
        bundle_err(err, errlen, "manifest: bad minimum sensor version (%zu bytes)", vlen);
        return KANSHI_EPARSE;
    }
    memcpy(b->min_version, m + off, vlen);
    b->min_version[vlen] = '\0';
    off += vlen;

    /* First pass: bounds, names, order, sizes against the data area. */
    doff = BUNDLE_HEADER_LEN + mlen; /* where file data starts */
    {
        size_t e = off, dleft = end - doff;
        const uint8_t *prev = NULL;
        size_t prevlen = 0;
        for (uint32_t i = 0; i < nfiles; i++) {
            uint64_t size;
            size_t nl;
            int c;
            if (mlen - e < BUNDLE_ENTRY_FIXED) {
                bundle_err(err, errlen, "manifest: file entry %u truncated", i);
                return KANSHI_EPARSE;
            }
            size = rd64(m + e);
            nl = rd16(m + e + 40);
            if (nl > mlen - e - BUNDLE_ENTRY_FIXED) {
                bundle_err(err, errlen, "manifest: file entry %u: name runs past the manifest", i);
                return KANSHI_EPARSE;
            }
            if (!name_bytes_ok(m + e + BUNDLE_ENTRY_FIXED, nl)) {
                char shown[65];
                size_t k;
                /* the name is not printable as it stands: '?' for other bytes */
                for (k = 0; k < nl && k < sizeof(shown) - 1; k++) {
                    int ch = m[e + BUNDLE_ENTRY_FIXED + k];
                    shown[k] = name_char(ch) || ch == '/' ? (char)ch : '?';
                }
                shown[k] = '\0';
                bundle_err(err, errlen,
                           "manifest: file entry %u: name '%s'%s is not a plain name of "
                           "[A-Za-z0-9._+-] (path or hidden name refused)",
                           i, shown, nl > k ? "..." : "");
                return KANSHI_EPARSE;
            }
            if (prev != NULL &&
                (c = name_cmp(prev, prevlen, m + e + BUNDLE_ENTRY_FIXED, nl)) >= 0) {
                bundle_err(err, errlen, "manifest: file '%.*s' %s", (int)nl,
                           (const char *)m + e + BUNDLE_ENTRY_FIXED,
                           c == 0 ? "appears twice" : "out of name order");
                return KANSHI_EPARSE;
            }
            if (size > dleft) {
                bundle_err(err, errlen,
                           "manifest: file '%.*s' of %llu bytes runs past the end of the "
                           "bundle",
                           (int)nl, (const char *)m + e + BUNDLE_ENTRY_FIXED,
                           (unsigned long long)size);
                return KANSHI_EPARSE;
            }
            dleft -= (size_t)size;
            prev = m + e + BUNDLE_ENTRY_FIXED;
            prevlen = nl;
            names_len += nl + 1;
            e += BUNDLE_ENTRY_FIXED + nl;
        }
        if (e != mlen) {
            bundle_err(err, errlen, "manifest: %zu bytes after the last file entry", mlen - e);
            return KANSHI_EPARSE;
        }
        if (dleft != 0) {
            bundle_err(err, errlen, "%zu bytes of data not covered by the manifest", dleft);
            return KANSHI_EPARSE;
        }
    }

    /* Second pass: fill in the files and check their hashes. */
    b->files = kanshi_calloc((size_t)nfiles + 1, sizeof(*b->files));
    b->names = malloc(names_len + 1);
    if (b->files == NULL || b->names == NULL) {
        bundle_err(err, errlen, "out of memory");
        return -ENOMEM;
    }
    {
        size_t e = off, np = 0;
        for (uint32_t i = 0; i < nfiles; i++) {
            struct bundle_file *f = &b->files[i];
            size_t size = (size_t)rd64(m + e), nl = rd16(m + e + 40);
            memcpy(b->names + np, m + e + BUNDLE_ENTRY_FIXED, nl);
            b->names[np + nl] = '\0';
            f->name = b->names + np;
            f->data = data + doff;
            f->len = size;
            crypto_hash_sha256(f->sha256, f->data, f->len);
            if (sodium_memcmp(f->sha256, m + e + 8, 32) != 0) {
                bundle_err(err, errlen, "file '%s': SHA-256 mismatch with the manifest", f->name);
                return KANSHI_EPARSE;
            }
            np += nl + 1;
            doff += size;
            e += BUNDLE_ENTRY_FIXED + nl;
        }
    }
    b->nfiles = nfiles;
    return 0;
}

int bundle_open(struct bundle **out, const uint8_t *data, size_t len, const char *kind,
                const struct bundle_pubkey *keys, size_t nkeys, char *err, size_t errlen)
{
    uint8_t id[BUNDLE_KEY_ID_LEN], kid[BUNDLE_KEY_ID_LEN];
    char idhex[2 * BUNDLE_KEY_ID_LEN + 1];
    uint64_t total;
    const struct bundle_pubkey *key = NULL;
    struct bundle *b;
    int rc;

    if (sodium_init() < 0) {
        bundle_err(err, errlen, "libsodium did not initialise");
        return -EIO;
    }
    if ((rc = bundle_peek_header(data, len, id, &total, err, errlen)) != 0)
        return rc;
    if (total > BUNDLE_MAX_SIZE) {
        bundle_err(err, errlen, "header: length %llu, more than the limit of %llu",
                   (unsigned long long)total, (unsigned long long)BUNDLE_MAX_SIZE);
        return KANSHI_ELIMIT;
    }
    if (total > len) {
        bundle_err(err, errlen, "truncated: %zu bytes of the %llu the header announces", len,
                   (unsigned long long)total);
        return KANSHI_EPARSE;
    }
    if (total < len) {
        bundle_err(err, errlen, "%llu bytes after the end of the bundle",
                   (unsigned long long)(len - total));
        return KANSHI_EPARSE;
    }
    for (size_t i = 0; i < nkeys && key == NULL; i++) {
        bundle_key_id(&keys[i], kid);
        if (memcmp(kid, id, sizeof(id)) == 0)
            key = &keys[i];
    }
    hex_id(id, idhex);
    if (key == NULL) {
        bundle_err(err, errlen, "signed with unknown key id %s (not a trusted key)", idhex);
        return KANSHI_EPARSE;
    }
    if (crypto_sign_verify_detached(data + len - BUNDLE_SIG_LEN, data, len - BUNDLE_SIG_LEN,
                                    key->pk) != 0) {
        bundle_err(err, errlen, "signature does not verify with key id %s", idhex);
        return KANSHI_EPARSE;
    }
    /* From here on, everything was written by the holder of the key. */
    b = calloc(1, sizeof(*b));
    if (b == NULL) {
        bundle_err(err, errlen, "out of memory");
        return -ENOMEM;
    }
    memcpy(b->key_id, id, sizeof(id));
    if ((rc = bundle_parse(b, data, len - BUNDLE_SIG_LEN, err, errlen)) != 0) {
        bundle_close(b);
        return rc;
    }
    if (kind != NULL && strcmp(kind, b->kind) != 0) {
        bundle_err(err, errlen, "kind '%s', expected '%s'", b->kind, kind);
        bundle_close(b);
        return KANSHI_EPARSE;
    }
    *out = b;
    return 0;
}

const char *bundle_kind(const struct bundle *b)
{
    return b->kind;
}

uint64_t bundle_version(const struct bundle *b)
{
    return b->version;
}

uint64_t bundle_created(const struct bundle *b)
{
    return b->created;
}

const char *bundle_min_version(const struct bundle *b)
{
    return b->min_version;
}

void bundle_signer(const struct bundle *b, uint8_t id[BUNDLE_KEY_ID_LEN])
{
    memcpy(id, b->key_id, BUNDLE_KEY_ID_LEN);
}

size_t bundle_nfiles(const struct bundle *b)
{
    return b->nfiles;
}

const struct bundle_file *bundle_file(const struct bundle *b, size_t i)
{
    return i < b->nfiles ? &b->files[i] : NULL;
}

const struct bundle_file *bundle_find(const struct bundle *b, const char *name)
{
    size_t lo = 0, hi = b->nfiles, nl = strlen(name);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *n = b->files[mid].name;
        int c = name_cmp((const uint8_t *)n, strlen(n), (const uint8_t *)name, nl);
        if (c == 0)
            return &b->files[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
