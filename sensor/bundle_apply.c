/*
 * bundle_apply.c — applying signed rules bundles on the sensor: the bundle
 * store (bundles.dir: the running version in a state file, the unpacked
 * bundles beside it), the checks a bundle must pass before its rules are
 * loaded, and the drop directory (bundles.incoming).
 *
 * The order of the checks follows the trust model: nothing of a bundle is
 * believed before bundle_open() has checked its signature against a pinned
 * key; only then are its kind, version and minimum sensor version looked
 * at, and only a bundle that passes those is written to disk and its rules
 * handed to the caller to load and compile.  The store's version changes
 * only in bundle_apply_commit(), after the caller runs the new rules.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kanshi/bundle_apply.h"
#include "kanshi/kanshi.h"

#define BUNDLE_STATE_MAGIC "kanshi-bundle-state 1"
#define BUNDLE_STATE_MAX 256

struct bundle_store {
    char dir[BUNDLE_STORE_PATH_MAX];
    struct bundle_pubkey *keys;
    size_t nkeys;
    uint64_t version;
};

const char *bundle_refusal_name(enum bundle_refusal r)
{
    switch (r) {
    case BUNDLE_REFUSE_NONE:
        return "applied";
    case BUNDLE_REFUSE_INVALID:
        return "bad-bundle";
    case BUNDLE_REFUSE_KIND:
        return "wrong-kind";
    case BUNDLE_REFUSE_ROLLBACK:
        return "rollback";
    case BUNDLE_REFUSE_SENSOR:
        return "sensor-too-old";
    case BUNDLE_REFUSE_RULES:
        return "rules";
    case BUNDLE_REFUSE_IO:
        return "store";
    }
    return "unknown";
}

/* ---- the state file ----------------------------------------------------------------------- */

static int bundle_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd) != 0)
        rc = -errno;
    close(fd);
    return rc;
}

/* Writes all of data to fd, then fsyncs it.  0 or -errno. */
static int bundle_write_fd(int fd, const uint8_t *data, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        off += (size_t)w;
    }
    return fsync(fd) != 0 ? -errno : 0;
}

int bundle_state_read(const char *dir, uint64_t *version, char *err, size_t errlen)
{
    char path[BUNDLE_STORE_PATH_MAX], buf[BUNDLE_STATE_MAX + 1], *p, *end;
    unsigned long long v;
    ssize_t n;
    int fd, rc;

    if ((size_t)snprintf(path, sizeof(path), "%s/state", dir) >= sizeof(path)) {
        snprintf(err, errlen, "%.200s: path too long", dir);
        return -ENAMETOOLONG;
    }
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        if (errno == ENOENT) {
            *version = 0;
            return 0;
        }
        rc = -errno;
        snprintf(err, errlen, "%.900s: %s", path, strerror(-rc));
        return rc;
    }
    n = read(fd, buf, sizeof(buf));
    rc = n < 0 ? -errno : 0;
    close(fd);
    if (rc != 0) {
        snprintf(err, errlen, "%.900s: %s", path, strerror(-rc));
        return rc;
    }
    if (n > BUNDLE_STATE_MAX)
        goto bad;
    buf[n] = '\0';
    if (strncmp(buf, BUNDLE_STATE_MAGIC "\nversion ", sizeof(BUNDLE_STATE_MAGIC "\nversion ") - 1))
        goto bad;
    p = buf + sizeof(BUNDLE_STATE_MAGIC "\nversion ") - 1;
    if (*p < '0' || *p > '9')
        goto bad;
    errno = 0;
    v = strtoull(p, &end, 10);
    if (errno != 0 || strcmp(end, "\n") != 0)
        goto bad;
    *version = v;
    return 0;
bad:
    snprintf(err, errlen,
             "%s: not a bundle state file (expected \"" BUNDLE_STATE_MAGIC
             "\" and \"version N\"); the running bundle version is unknown, so no bundle "
             "can be checked against it: restore or remove the file",
             path);
    return KANSHI_EPARSE;
}

int bundle_state_write(const char *dir, uint64_t version, char *err, size_t errlen)
{
    char path[BUNDLE_STORE_PATH_MAX], tmp[BUNDLE_STORE_PATH_MAX + 8], text[BUNDLE_STATE_MAX];
    int fd, rc, n;

    if ((size_t)snprintf(path, sizeof(path), "%s/state", dir) >= sizeof(path)) {
        snprintf(err, errlen, "%.200s: path too long", dir);
        return -ENAMETOOLONG;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    n = snprintf(text, sizeof(text), BUNDLE_STATE_MAGIC "\nversion %" PRIu64 "\n", version);
    /* A state.tmp left by a crash is stale: replace it. */
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "%.900s: %s", tmp, strerror(-rc));
        return rc;
    }
    rc = bundle_write_fd(fd, (const uint8_t *)text, (size_t)n);
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0) {
        snprintf(err, errlen, "%.900s: %s", path, strerror(-rc));
        unlink(tmp);
        return rc;
    }
    if ((rc = bundle_fsync_dir(dir)) != 0) {
        snprintf(err, errlen, "%.900s: fsync: %s", dir, strerror(-rc));
        return rc;
    }
    return 0;
}

/* ---- the store ---------------------------------------------------------------------------- */

int bundle_store_open(struct bundle_store **out, const char *dir, const struct bundle_pubkey *keys,
                      size_t nkeys, char *err, size_t errlen)
{
    struct bundle_store *st;
    int rc;

    /* Leave room for "/.tmp-N-PID/NAME" under it. */
    if (strlen(dir) + 64 + BUNDLE_MAX_NAME >= sizeof(st->dir)) {
        snprintf(err, errlen, "%.200s: path too long", dir);
        return -ENAMETOOLONG;
    }
    if ((st = calloc(1, sizeof(*st))) == NULL ||
        (nkeys > 0 && (st->keys = kanshi_calloc(nkeys, sizeof(*keys))) == NULL)) {
        free(st);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    snprintf(st->dir, sizeof(st->dir), "%s", dir);
    if (nkeys > 0)
        memcpy(st->keys, keys, nkeys * sizeof(*keys));
    st->nkeys = nkeys;
    if ((rc = bundle_state_read(dir, &st->version, err, errlen)) != 0) {
        bundle_store_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

void bundle_store_close(struct bundle_store *st)
{
    if (st == NULL)
        return;
    free(st->keys);
    free(st);
}

int bundle_store_mkdir(const struct bundle_store *st, char *err, size_t errlen)
{
    struct stat sb;
    int rc;

    if (mkdir(st->dir, 0750) == 0 ||
        (errno == EEXIST && stat(st->dir, &sb) == 0 && S_ISDIR(sb.st_mode)))
        return 0;
    rc = errno == EEXIST ? -ENOTDIR : -errno;
    snprintf(err, errlen, "%.900s: %s", st->dir, strerror(-rc));
    return rc;
}

uint64_t bundle_store_version(const struct bundle_store *st)
{
    return st->version;
}

int bundle_store_path(const struct bundle_store *st, uint64_t version, char *buf, size_t len)
{
    if ((size_t)snprintf(buf, len, "%s/%" PRIu64, st->dir, version) >= len)
        return -ENAMETOOLONG;
    return 0;
}

/*
 * Removes dir and the plain files in it (what an unpacked bundle holds: the
 * names were checked by bundle_open, no subdirectory).  0 or -errno.
 */
static int bundle_rmdir_files(const char *dir)
{
    char path[BUNDLE_STORE_PATH_MAX + BUNDLE_MAX_NAME + 2];
    struct dirent *de;
    DIR *d = opendir(dir);
    int rc = 0;

    if (d == NULL)
        return errno == ENOENT ? 0 : -errno;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (unlink(path) != 0 && rc == 0)
            rc = -errno;
    }
    closedir(d);
    if (rmdir(dir) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

/* Writes the bundle's files into a fresh DIR/.tmp-N-PID, then renames it to
 * DIR/N (replacing a DIR/N left by an attempt that was not committed). */
static int bundle_unpack(struct bundle_store *st, const struct bundle *b,
                         struct bundle_staged *staged, char *err, size_t errlen)
{
    char tmp[BUNDLE_STORE_PATH_MAX + 64], path[BUNDLE_STORE_PATH_MAX + 64 + BUNDLE_MAX_NAME + 2];
    uint64_t version = bundle_version(b);
    int rc = 0;

    snprintf(tmp, sizeof(tmp), "%s/.tmp-%" PRIu64 "-%ld", st->dir, version, (long)getpid());
    bundle_rmdir_files(tmp);
    if (mkdir(tmp, 0750) != 0) {
        rc = -errno;
        snprintf(err, errlen, "%.900s: %s", tmp, strerror(-rc));
        return rc;
    }
    for (size_t i = 0; i < bundle_nfiles(b) && rc == 0; i++) {
        const struct bundle_file *f = bundle_file(b, i);
        int fd;
        snprintf(path, sizeof(path), "%s/%s", tmp, f->name);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0) {
            rc = -errno;
        } else {
            rc = bundle_write_fd(fd, f->data, f->len);
            if (close(fd) != 0 && rc == 0)
                rc = -errno;
        }
        if (rc != 0)
            snprintf(err, errlen, "%.900s: %s", path, strerror(-rc));
    }
    if (rc == 0 && (rc = bundle_fsync_dir(tmp)) != 0)
        snprintf(err, errlen, "%.900s: fsync: %s", tmp, strerror(-rc));
    if (rc == 0) {
        /* Not the running version (that is <= st->version): a leftover. */
        bundle_rmdir_files(staged->dir);
        if (rename(tmp, staged->dir) != 0) {
            rc = -errno;
            snprintf(err, errlen, "%.900s: %s", staged->dir, strerror(-rc));
        }
    }
    if (rc == 0 && (rc = bundle_fsync_dir(st->dir)) != 0)
        snprintf(err, errlen, "%.900s: fsync: %s", st->dir, strerror(-rc));
    if (rc != 0) {
        bundle_rmdir_files(tmp);
        bundle_rmdir_files(staged->dir);
    }
    return rc;
}

static bool bundle_has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static int bundle_refuse(struct bundle_staged *staged, enum bundle_refusal why, int rc)
{
    staged->refusal = why;
    return rc;
}

int bundle_apply_prepare(struct bundle_store *st, const uint8_t *data, size_t len,
                         bundle_load_fn load, void *arg, struct bundle_staged *staged, char *err,
                         size_t errlen)
{
    struct bundle *b = NULL;
    const char *minver;
    char why[1024];
    size_t nrules = 0;
    int rc;

    memset(staged, 0, sizeof(*staged));
    if (errlen > 0)
        err[0] = '\0';
    /* The kind is checked below, after the signature, with its own reason. */
    rc = bundle_open(&b, data, len, NULL, st->keys, st->nkeys, why, sizeof(why));
    if (rc != 0) {
        snprintf(err, errlen, "not applied: %s", why);
        return bundle_refuse(staged, BUNDLE_REFUSE_INVALID, rc == -ENOMEM ? rc : KANSHI_EPARSE);
    }
    staged->version = bundle_version(b);
    staged->nfiles = bundle_nfiles(b);
    if (strcmp(bundle_kind(b), BUNDLE_KIND_RULES) != 0) {
        snprintf(err, errlen, "version %" PRIu64 " not applied: kind '%s', expected '%s'",
                 staged->version, bundle_kind(b), BUNDLE_KIND_RULES);
        rc = bundle_refuse(staged, BUNDLE_REFUSE_KIND, KANSHI_EPARSE);
        goto out;
    }
    if (staged->version <= st->version) {
        snprintf(err, errlen,
                 "version %" PRIu64 " not applied: not newer than version %" PRIu64
                 " already applied (a rollback is a new bundle with a higher version)",
                 staged->version, st->version);
        rc = bundle_refuse(staged, BUNDLE_REFUSE_ROLLBACK, KANSHI_EPARSE);
        goto out;
    }
    minver = bundle_min_version(b);
    if (minver[0] != '\0' && bundle_version_cmp(minver, KANSHI_VERSION) > 0) {
        snprintf(err, errlen,
                 "version %" PRIu64 " not applied: needs sensor version %s or later, this is %s",
                 staged->version, minver, KANSHI_VERSION);
        rc = bundle_refuse(staged, BUNDLE_REFUSE_SENSOR, KANSHI_EUNSUPPORTED);
        goto out;
    }
    for (size_t i = 0; i < staged->nfiles; i++)
        if (bundle_has_suffix(bundle_file(b, i)->name, ".rules"))
            nrules++;
    if (nrules == 0) {
        snprintf(err, errlen, "version %" PRIu64 " not applied: no *.rules file in it",
                 staged->version);
        rc = bundle_refuse(staged, BUNDLE_REFUSE_RULES, KANSHI_EPARSE);
        goto out;
    }
    if (bundle_store_path(st, staged->version, staged->dir, sizeof(staged->dir)) != 0 ||
        (rc = bundle_unpack(st, b, staged, why, sizeof(why))) != 0) {
        snprintf(err, errlen, "version %" PRIu64 " not applied: cannot store it: %s",
                 staged->version, why);
        rc = bundle_refuse(staged, BUNDLE_REFUSE_IO, rc != 0 ? rc : -ENAMETOOLONG);
        goto out;
    }
    /* The files are on disk: the signed bytes are no longer needed. */
    bundle_close(b);
    b = NULL;
    if (load != NULL) {
        why[0] = '\0';
        if ((rc = load(arg, staged->dir, why, sizeof(why))) != 0) {
            snprintf(err, errlen, "version %" PRIu64 " not applied: rules: %s", staged->version,
                     why[0] != '\0' ? why : kanshi_strerror(rc));
            bundle_rmdir_files(staged->dir);
            rc = bundle_refuse(staged, BUNDLE_REFUSE_RULES, rc);
            goto out;
        }
    }
    staged->refusal = BUNDLE_REFUSE_NONE;
    rc = 0;
out:
    bundle_close(b);
    return rc;
}

int bundle_apply_file(struct bundle_store *st, const char *path, bundle_load_fn load, void *arg,
                      struct bundle_staged *staged, char *err, size_t errlen)
{
    uint8_t *data = NULL;
    size_t len = 0;
    char why[1024];
    int rc;

    memset(staged, 0, sizeof(*staged));
    if ((rc = bundle_read_file(path, BUNDLE_APPLY_MAX_FILE, &data, &len, why, sizeof(why))) != 0) {
        snprintf(err, errlen, "not applied: %s", why);
        staged->refusal = rc == KANSHI_ELIMIT ? BUNDLE_REFUSE_INVALID : BUNDLE_REFUSE_IO;
        return rc;
    }
    rc = bundle_apply_prepare(st, data, len, load, arg, staged, err, errlen);
    free(data);
    return rc;
}

/* Removes DIR/N for every N other than keep and keep_too, and stale
 * .tmp-* directories of this process's earlier attempts. */
static void bundle_prune(struct bundle_store *st, uint64_t keep, uint64_t keep_too)
{
    char path[BUNDLE_STORE_PATH_MAX + BUNDLE_MAX_NAME + 2];
    struct dirent *de;
    DIR *d = opendir(st->dir);

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        char *end;
        uint64_t v;
        if (n[0] == '.' && strncmp(n, ".tmp-", 5) != 0)
            continue;
        if (n[0] == '.') {
            snprintf(path, sizeof(path), "%s/%s", st->dir, n);
            bundle_rmdir_files(path);
            continue;
        }
        if (n[0] < '1' || n[0] > '9')
            continue;
        errno = 0;
        v = strtoull(n, &end, 10);
        if (errno != 0 || *end != '\0' || v == keep || v == keep_too)
            continue;
        snprintf(path, sizeof(path), "%s/%s", st->dir, n);
        bundle_rmdir_files(path);
    }
    closedir(d);
}

int bundle_apply_commit(struct bundle_store *st, const struct bundle_staged *staged, char *err,
                        size_t errlen)
{
    uint64_t previous = st->version;
    int rc;

    if ((rc = bundle_state_write(st->dir, staged->version, err, errlen)) != 0)
        return rc;
    st->version = staged->version;
    bundle_prune(st, staged->version, previous);
    return 0;
}

void bundle_apply_abort(struct bundle_store *st, const struct bundle_staged *staged)
{
    (void)st;
    if (staged->dir[0] != '\0' && staged->version > st->version)
        bundle_rmdir_files(staged->dir);
}

/* ---- versions ----------------------------------------------------------------------------- */

int bundle_version_cmp(const char *a, const char *b)
{
    while (*a != '\0' || *b != '\0') {
        unsigned long long na = 0, nb = 0;
        size_t ra, rb;
        int c;
        /* Numeric prefixes, leading zeros ignored. */
        for (; *a >= '0' && *a <= '9'; a++)
            na = na > ULLONG_MAX / 10 - 1 ? ULLONG_MAX : na * 10 + (unsigned long long)(*a - '0');
        for (; *b >= '0' && *b <= '9'; b++)
            nb = nb > ULLONG_MAX / 10 - 1 ? ULLONG_MAX : nb * 10 + (unsigned long long)(*b - '0');
        if (na != nb)
            return na < nb ? -1 : 1;
        /* The rest of the component, up to the next '.'. */
        ra = strcspn(a, ".");
        rb = strcspn(b, ".");
        c = strncmp(a, b, ra < rb ? ra : rb);
        if (c != 0)
            return c < 0 ? -1 : 1;
        if (ra != rb) /* "1.0" before "1.0rc"?  A suffix is a pre-release: it comes first. */
            return ra > rb ? -1 : 1;
        a += ra;
        b += rb;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
    }
    return 0;
}

/* ---- the drop directory ------------------------------------------------------------------- */

int bundle_incoming_next(const char *dir, char *name, size_t len)
{
    struct dirent *de;
    DIR *d = opendir(dir);
    bool found = false;

    if (d == NULL)
        return -errno;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        /* ".name" files are being written by whoever drops bundles here. */
        if (n[0] == '.' || !bundle_has_suffix(n, ".bundle") || strlen(n) >= len)
            continue;
        if (!found || strcmp(n, name) < 0) {
            snprintf(name, len, "%s", n);
            found = true;
        }
    }
    closedir(d);
    return found ? 1 : 0;
}

int bundle_incoming_reject(const char *path, const char *reason)
{
    char rej[BUNDLE_STORE_PATH_MAX + 16], rsn[BUNDLE_STORE_PATH_MAX + 24];
    int fd, rc = 0;

    if ((size_t)snprintf(rej, sizeof(rej), "%s.rejected", path) >= sizeof(rej))
        return -ENAMETOOLONG;
    snprintf(rsn, sizeof(rsn), "%s.reason", rej);
    if (rename(path, rej) != 0)
        return -errno;
    fd = open(rsn, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        return -errno;
    {
        size_t n = strlen(reason);
        const char *p = reason;
        while (n > 0) {
            ssize_t w = write(fd, p, n);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = -errno;
                break;
            }
            p += w;
            n -= (size_t)w;
        }
        if (rc == 0 && write(fd, "\n", 1) != 1)
            rc = -EIO;
    }
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    return rc;
}
