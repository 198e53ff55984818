/*
 * spool.c — the sensor's durable, append-only alert queue (see spool.h for
 * the on-disk format and the contract).
 *
 * Segments are plain files written with one writev() per alert, so a process
 * killed at any moment leaves at most one torn record at the end of the last
 * segment, which spool_open() cuts off.  The newest segment is the active
 * one: only the producer writes to it.  The uplink (the consumer) reads
 * records back with pread() on its own descriptor, acknowledges, and deletes
 * segments that hold nothing newer than the acknowledgement — including the
 * active one, which the producer then replaces on its next append.
 *
 * Locking: one mutex guards the segment list and the counters.  The producer
 * takes it twice per append (reserve a sequence, publish the record) and
 * writes in between without it; the consumer takes it to snapshot what it may
 * read and to apply an acknowledgement.  Neither holds it across a write,
 * read or fsync, so an uplink waiting on the disk never stalls capture.
 *
 * Accounting: the size cap and the "bytes" statistic count whole segments
 * still on disk, so acknowledged records that share a segment with newer
 * ones count until the segment goes (at most one segment's worth).
 *
 * Durability: a record is handed to the uplink only once it is as durable as
 * the fsync policy makes it (with "batch", after the next spool_flush()).  A
 * record the collector stored must never be lost by the sensor after a power
 * failure, or the sensor would give its sequence number to a new alert that
 * the collector then ignores as a duplicate.
 *
 * Numbering: everything inside this file (the segment list, the counters,
 * the cursor) uses the numbers written on disk ("disk" numbers).  The API
 * speaks the collector's numbers: disk + shift.  Only the consumer changes
 * the shift and the ack (spool_advance, spool_ack), under the lock; the
 * producer never needs the shift except to report the number it gave.  Wire
 * numbers are computed from the ack (wire ack + distance on disk), which is
 * the same modulo 2^64 and keeps every comparison free of wrap-around.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "kanshi/kanshi.h"
#include "kanshi/spool.h"

#define SPOOL_MAGIC "KSSPOOL1"
#define SPOOL_MAGIC_LEN 8u
#define SPOOL_REC_HDR 16u
#define SPOOL_DEFAULT_SEGMENT (16u << 20)
/* Read chunk of the consumer; holds at least one maximal record. */
#define SPOOL_READ_BUF (1u << 20)
#define SPOOL_NAME_LEN 32 /* "seg-" + 20 digits + ".ks" + NUL = 28 */

_Static_assert(SPOOL_READ_BUF >= SPOOL_REC_HDR + SPOOL_MAX_RECORD, "read buffer too small");

/* ---- CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) --------------------------------- */

/* Slicing-by-8: eight 256-entry tables, so the consumer's check of every
 * record it reads costs little next to the copy into a frame. */
static uint32_t spool_crc_table[8][256];
static pthread_once_t spool_crc_once = PTHREAD_ONCE_INIT;

static void spool_crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        spool_crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            spool_crc_table[t][i] = (spool_crc_table[t - 1][i] >> 8) ^
                                    spool_crc_table[0][spool_crc_table[t - 1][i] & 0xff];
}

/* Continues a CRC: start with crc = 0. */
static uint32_t spool_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n >= 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                             (uint32_t)p[3] << 24);
        crc = spool_crc_table[7][lo & 0xff] ^ spool_crc_table[6][(lo >> 8) & 0xff] ^
              spool_crc_table[5][(lo >> 16) & 0xff] ^ spool_crc_table[4][lo >> 24] ^
              spool_crc_table[3][p[4]] ^ spool_crc_table[2][p[5]] ^ spool_crc_table[1][p[6]] ^
              spool_crc_table[0][p[7]];
        p += 8;
        n -= 8;
    }
    while (n-- > 0)
        crc = spool_crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- helpers -------------------------------------------------------------------------------- */

static void spool_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void spool_put64(uint8_t *p, uint64_t v)
{
    spool_put32(p, (uint32_t)(v >> 32));
    spool_put32(p + 4, (uint32_t)v);
}

static uint32_t spool_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t spool_get64(const uint8_t *p)
{
    return (uint64_t)spool_get32(p) << 32 | spool_get32(p + 4);
}

static uint64_t spool_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void spool_seg_name(char *buf, uint64_t first)
{
    snprintf(buf, SPOOL_NAME_LEN, "seg-%020" PRIu64 ".ks", first);
}

/* "seg-<20 digits>.ks" → first sequence; false for any other name. */
static bool spool_parse_name(const char *name, uint64_t *first)
{
    uint64_t v = 0;

    if (strlen(name) != 27 || strncmp(name, "seg-", 4) != 0 || strcmp(name + 24, ".ks") != 0)
        return false;
    for (int i = 4; i < 24; i++) {
        unsigned d = (unsigned)(name[i] - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *first = v;
    return true;
}

/* Full write at an offset-less (O_APPEND) descriptor; -errno on failure. */
static int spool_write_all(int fd, struct iovec *iov, int iovcnt)
{
    while (iovcnt > 0) {
        ssize_t n = writev(fd, iov, iovcnt);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

static ssize_t spool_pread_all(int fd, uint8_t *buf, size_t len, uint64_t off)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* ---- the spool ------------------------------------------------------------------------------ */

struct spool_seg {
    uint64_t first;     /* from the file name */
    uint64_t first_rec; /* sequence of the first record, 0: none yet */
    uint64_t last_rec;  /* sequence of the last record, 0: none yet */
    uint64_t nrec;
    uint64_t size; /* readable bytes: magic plus complete, published records */
};

struct spool {
    pthread_mutex_t mu;
    char *dir;
    int dirfd;
    enum spool_fsync fsync;
    uint32_t fsync_interval_ms;
    uint64_t max_bytes, segment_bytes;

    /* Under mu. */
    struct spool_seg *segs; /* in sequence order; the last is active when active_open */
    size_t nsegs, segcap;
    bool active_open; /* segs[nsegs-1] is the producer's file */
    bool writing;     /* the producer is between reserve and publish */
    uint64_t next_seq, committed_seq, durable_seq, acked; /* disk numbers */
    uint64_t shift; /* wire number = disk number + shift (modulo 2^64) */
    bool confirmed; /* "acked" exists: the collector confirmed the numbering */
    uint64_t bytes, dropped_full, recovered_truncated;

    /* Producer only. */
    int wfd;     /* active segment, O_APPEND; may be a retired (deleted) file */
    int sync_fd; /* batch: a finished segment still to be fsync'd */
    uint64_t wsize;
    bool dirty, dir_dirty;
    uint64_t last_sync_ms;

    /* Consumer only. */
    int rfd;
    uint64_t rseg;          /* first sequence of the segment rfd reads, 0: none */
    uint64_t roff, rprev;   /* cursor: the record at roff is the first after rprev */
    uint8_t *rbuf;
    struct spool_seg *snap; /* copy of the segment list for one read */
    size_t snapcap;
};

static int spool_err(char *err, size_t errlen, int rc, const char *dir, const char *file,
                     const char *what)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s%s%s: %s", dir, file != NULL ? "/" : "", file ? file : "",
                 what != NULL ? what : kanshi_strerror(rc));
    return rc;
}

static int spool_seg_push(struct spool *s, const struct spool_seg *seg)
{
    if (s->nsegs == s->segcap) {
        size_t cap = s->segcap != 0 ? s->segcap * 2 : 16;
        struct spool_seg *v = kanshi_reallocarray(s->segs, cap, sizeof(*v));
        if (v == NULL)
            return -ENOMEM;
        s->segs = v;
        s->segcap = cap;
    }
    s->segs[s->nsegs++] = *seg;
    return 0;
}

static uint64_t spool_pending_locked(const struct spool *s)
{
    uint64_t n = 0;

    for (size_t i = 0; i < s->nsegs; i++) {
        const struct spool_seg *g = &s->segs[i];
        if (g->nrec == 0 || g->last_rec <= s->acked)
            continue;
        if (g->first_rec > s->acked)
            n += g->nrec;
        else
            n += g->last_rec - s->acked < g->nrec ? g->last_rec - s->acked : g->nrec;
    }
    return n;
}

/* ---- recovery ------------------------------------------------------------------------------- */

struct spool_scan {
    uint64_t first;
    uint64_t first_rec, last_rec, nrec;
    uint64_t valid_end, file_size;
    bool bad_magic;
    bool gone; /* deleted or set aside during recovery */
    char name[SPOOL_NAME_LEN];
};

/*
 * Reads one segment and finds where its valid records end: the first record
 * with a bad length, a bad CRC, a sequence not above prev, or cut short.
 */
static int spool_scan_segment(struct spool *s, struct spool_scan *sc, uint64_t prev)
{
    int fd = openat(s->dirfd, sc->name, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint64_t off = SPOOL_MAGIC_LEN;
    uint8_t magic[SPOOL_MAGIC_LEN];
    ssize_t n;
    int rc = 0;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        goto out;
    }
    sc->file_size = (uint64_t)st.st_size;
    sc->valid_end = 0;
    n = spool_pread_all(fd, magic, sizeof(magic), 0);
    if (n < 0) {
        rc = (int)n;
        goto out;
    }
    if ((size_t)n < sizeof(magic) || memcmp(magic, SPOOL_MAGIC, SPOOL_MAGIC_LEN) != 0) {
        sc->bad_magic = true;
        goto out;
    }
    sc->valid_end = off;
    while (off < sc->file_size) {
        size_t avail;
        n = spool_pread_all(fd, s->rbuf, SPOOL_READ_BUF, off);
        if (n < 0) {
            rc = (int)n;
            goto out;
        }
        avail = (size_t)n;
        if (avail < SPOOL_REC_HDR)
            break;
        size_t pos = 0;
        bool stop = false;
        while (avail - pos >= SPOOL_REC_HDR) {
            const uint8_t *h = s->rbuf + pos;
            uint32_t len = spool_get32(h);
            uint64_t seq = spool_get64(h + 4);
            if (len < 1 || len > SPOOL_MAX_RECORD || seq <= prev) {
                stop = true;
                break;
            }
            if (avail - pos - SPOOL_REC_HDR < len) {
                /* Cut short by the buffer or by the end of the file. */
                stop = off + pos + SPOOL_REC_HDR + len > sc->file_size;
                break;
            }
            if (spool_crc32(spool_crc32(0, h + 4, 8), h + SPOOL_REC_HDR, len) !=
                spool_get32(h + 12)) {
                stop = true;
                break;
            }
            if (sc->nrec++ == 0)
                sc->first_rec = seq;
            sc->last_rec = prev = seq;
            pos += SPOOL_REC_HDR + len;
            sc->valid_end = off + pos;
        }
        if (stop || pos == 0)
            break;
        off += pos;
    }
out:
    close(fd);
    return rc;
}

static int spool_scan_cmp(const void *a, const void *b)
{
    const struct spool_scan *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Reads "acked" (wire ack and shift): *found=false when missing, *bad=true
 * when unreadable. */
static int spool_read_acked(struct spool *s, uint64_t *acked, uint64_t *shift, bool *found,
                            bool *bad)
{
    uint8_t b[21];
    int fd = openat(s->dirfd, "acked", O_RDONLY | O_CLOEXEC);
    ssize_t n;

    *acked = *shift = 0;
    *found = *bad = false;
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    *found = true;
    n = spool_pread_all(fd, b, sizeof(b), 0);
    close(fd);
    if (n < 0)
        return (int)n;
    if ((n != 12 && n != 20) || spool_crc32(0, b, (size_t)n - 4) != spool_get32(b + n - 4)) {
        *bad = true;
        return 0;
    }
    *acked = spool_get64(b);
    if (n == 20)
        *shift = spool_get64(b + 8);
    return 0;
}

/* Writes "acked" (12 bytes when the shift is 0, as before there was one). */
static int spool_write_acked(struct spool *s, uint64_t seq, uint64_t shift)
{
    uint8_t b[20];
    size_t len = shift != 0 ? 20 : 12;
    int fd, rc = 0;

    spool_put64(b, seq);
    if (shift != 0)
        spool_put64(b + 8, shift);
    spool_put32(b + len - 4, spool_crc32(0, b, len - 4));
    fd = openat(s->dirfd, "acked.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    if (pwrite(fd, b, len, 0) != (ssize_t)len)
        rc = errno != 0 ? -errno : -EIO;
    /* The ack is what lets segments be deleted: it must be on disk first. */
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    close(fd);
    if (rc == 0 && renameat(s->dirfd, "acked.tmp", s->dirfd, "acked") != 0)
        rc = -errno;
    if (rc == 0 && fsync(s->dirfd) != 0)
        rc = -errno;
    return rc;
}

/* Moves an unreadable file aside for the operator instead of deleting it. */
static void spool_set_aside(struct spool *s, const char *name, const char *why)
{
    char aside[SPOOL_NAME_LEN + 16];

    snprintf(aside, sizeof(aside), "%s.corrupt", name);
    if (renameat(s->dirfd, name, s->dirfd, aside) == 0)
        log_warnx("%s/%s: %s; moved to %s", s->dir, name, why, aside);
    else
        log_warn("%s/%s: %s; cannot move it aside", s->dir, name, why);
}

static int spool_recover(struct spool *s, char *err, size_t errlen)
{
    struct spool_scan *scans = NULL;
    size_t nscans = 0, cap = 0;
    uint64_t acked, wire_acked, shift, prev = 0, max_seq = 0;
    bool acked_found, acked_bad;
    DIR *d;
    struct dirent *de;
    int dfd, rc;

    if ((rc = spool_read_acked(s, &wire_acked, &shift, &acked_found, &acked_bad)) != 0)
        return spool_err(err, errlen, rc, s->dir, "acked", NULL);
    acked = wire_acked - shift; /* the disk number */
    if (unlinkat(s->dirfd, "acked.tmp", 0) != 0 && errno != ENOENT)
        return spool_err(err, errlen, -errno, s->dir, "acked.tmp", NULL);

    if ((dfd = dup(s->dirfd)) < 0 || (d = fdopendir(dfd)) == NULL) {
        rc = -errno;
        if (dfd >= 0)
            close(dfd);
        return spool_err(err, errlen, rc, s->dir, NULL, NULL);
    }
    rewinddir(d);
    while ((de = readdir(d)) != NULL) {
        uint64_t first;
        if (!spool_parse_name(de->d_name, &first))
            continue;
        if (nscans == cap) {
            size_t ncap = cap != 0 ? cap * 2 : 16;
            struct spool_scan *v = kanshi_reallocarray(scans, ncap, sizeof(*v));
            if (v == NULL) {
                closedir(d);
                free(scans);
                return spool_err(err, errlen, -ENOMEM, s->dir, NULL, NULL);
            }
            scans = v;
            cap = ncap;
        }
        scans[nscans] = (struct spool_scan){.first = first};
        spool_seg_name(scans[nscans].name, first); /* the same name: parsed exactly */
        nscans++;
    }
    closedir(d);
    if (nscans > 1)
        qsort(scans, nscans, sizeof(*scans), spool_scan_cmp);

    for (size_t i = 0; i < nscans; i++) {
        struct spool_scan *sc = &scans[i];
        bool last = i + 1 == nscans;
        char what[128];

        if ((rc = spool_scan_segment(s, sc, prev)) != 0) {
            spool_err(err, errlen, rc, s->dir, sc->name, NULL);
            goto out;
        }
        if (sc->bad_magic) {
            sc->gone = true;
            if (last && sc->file_size < SPOOL_MAGIC_LEN) {
                /* Created just before a crash, magic not even complete. */
                if (unlinkat(s->dirfd, sc->name, 0) != 0) {
                    rc = spool_err(err, errlen, -errno, s->dir, sc->name, NULL);
                    goto out;
                }
                s->recovered_truncated += sc->file_size;
            } else {
                spool_set_aside(s, sc->name, "not a spool segment (bad magic)");
            }
            continue;
        }
        if (sc->valid_end < sc->file_size) {
            if (last) {
                /* A crash mid-write: cut the torn tail so appends can go on. */
                int fd = openat(s->dirfd, sc->name, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || ftruncate(fd, (off_t)sc->valid_end) != 0 || fsync(fd) != 0) {
                    rc = -errno;
                    if (fd >= 0)
                        close(fd);
                    spool_err(err, errlen, rc, s->dir, sc->name, NULL);
                    goto out;
                }
                close(fd);
                s->recovered_truncated += sc->file_size - sc->valid_end;
                log_warnx("%s/%s: offset %" PRIu64 ": cut %" PRIu64 " bytes of a torn or corrupt "
                          "tail",
                          s->dir, sc->name, sc->valid_end, sc->file_size - sc->valid_end);
            } else if (sc->nrec == 0) {
                snprintf(what, sizeof(what), "offset %" PRIu64 ": corrupt record, nothing readable",
                         sc->valid_end);
                spool_set_aside(s, sc->name, what);
                sc->gone = true;
                continue;
            } else {
                log_warnx("%s/%s: offset %" PRIu64 ": corrupt record; the %" PRIu64
                          " bytes after it cannot be read",
                          s->dir, sc->name, sc->valid_end, sc->file_size - sc->valid_end);
            }
        }
        if (sc->nrec > 0) {
            prev = sc->last_rec;
            max_seq = sc->last_rec;
        }
    }

    if (acked_bad) {
        /* Keep every record as unacknowledged.  The numbers (and the shift)
         * are unknown now, so the numbering is unconfirmed: the collector's
         * answer to the next HELLO renumbers whatever it cannot be about
         * (spool_advance), so no number is reused for a different alert. */
        uint64_t lowest = 0;
        for (size_t i = 0; i < nscans && lowest == 0; i++)
            if (!scans[i].gone && scans[i].nrec > 0)
                lowest = scans[i].first_rec;
        acked = lowest > 0 ? lowest - 1 : 0;
        shift = 0;
        log_warnx("%s/acked: corrupt; keeping the %s as unacknowledged and taking the "
                  "numbering from the collector at the next connection",
                  s->dir, lowest > 0 ? "spooled alerts" : "(empty) spool");
    }

    for (size_t i = 0; i < nscans; i++) {
        struct spool_scan *sc = &scans[i];
        struct spool_seg seg;
        if (sc->gone)
            continue;
        if (sc->nrec == 0 || sc->last_rec <= acked) {
            /* Empty (a segment created just before a crash) or fully acknowledged. */
            if (unlinkat(s->dirfd, sc->name, 0) != 0 && errno != ENOENT) {
                rc = spool_err(err, errlen, -errno, s->dir, sc->name, NULL);
                goto out;
            }
            continue;
        }
        seg = (struct spool_seg){.first = sc->first,
                                 .first_rec = sc->first_rec,
                                 .last_rec = sc->last_rec,
                                 .nrec = sc->nrec,
                                 .size = sc->valid_end};
        if ((rc = spool_seg_push(s, &seg)) != 0) {
            spool_err(err, errlen, rc, s->dir, NULL, NULL);
            goto out;
        }
        s->bytes += seg.size;
    }

    /* The next number must exist, on disk and on the wire. */
    if (acked == UINT64_MAX || max_seq == UINT64_MAX ||
        (acked > max_seq ? 1 : max_seq - acked + 1) > UINT64_MAX - (acked + shift)) {
        rc = spool_err(err, errlen, KANSHI_EPARSE, s->dir, NULL,
                       "sequence numbers exhausted (corrupt ack or segment?)");
        goto out;
    }
    s->acked = acked;
    s->shift = shift;
    s->confirmed = acked_found && !acked_bad;
    s->next_seq = (acked > max_seq ? acked : max_seq) + 1;
    s->committed_seq = s->durable_seq = s->next_seq - 1;

    /* Keep appending to the last segment when it has room. */
    if (s->nsegs > 0 && s->segs[s->nsegs - 1].last_rec == max_seq &&
        s->segs[s->nsegs - 1].size < s->segment_bytes) {
        char name[SPOOL_NAME_LEN];
        spool_seg_name(name, s->segs[s->nsegs - 1].first);
        s->wfd = openat(s->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (s->wfd < 0) {
            rc = spool_err(err, errlen, -errno, s->dir, name, NULL);
            goto out;
        }
        s->wsize = s->segs[s->nsegs - 1].size;
        s->active_open = true;
    }
    rc = 0;
out:
    free(scans);
    return rc;
}

int spool_open(struct spool **out, const struct spool_config *cfg, char *err, size_t errlen)
{
    struct spool *s;
    int rc;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (cfg == NULL || cfg->dir == NULL || cfg->dir[0] == '\0')
        return spool_err(err, errlen, -EINVAL, "spool", NULL, "no directory given");
    pthread_once(&spool_crc_once, spool_crc_init);
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return spool_err(err, errlen, -ENOMEM, cfg->dir, NULL, NULL);
    s->dirfd = s->wfd = s->sync_fd = s->rfd = -1;
    s->fsync = cfg->fsync;
    s->fsync_interval_ms = cfg->fsync_interval_ms;
    s->max_bytes = cfg->max_bytes != 0 ? cfg->max_bytes : UINT64_MAX;
    s->segment_bytes = cfg->segment_bytes != 0 ? cfg->segment_bytes : SPOOL_DEFAULT_SEGMENT;
    if ((s->dir = strdup(cfg->dir)) == NULL || (s->rbuf = malloc(SPOOL_READ_BUF)) == NULL) {
        rc = spool_err(err, errlen, -ENOMEM, cfg->dir, NULL, NULL);
        goto fail;
    }
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        rc = spool_err(err, errlen, -ENOMEM, cfg->dir, NULL, NULL);
        free(s->dir);
        free(s->rbuf);
        free(s);
        return rc;
    }
    if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
        rc = spool_err(err, errlen, -errno, s->dir, NULL, NULL);
        goto fail;
    }
    if ((s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        rc = spool_err(err, errlen, -errno, s->dir, NULL, NULL);
        goto fail;
    }
    /* Two sensors numbering into one spool would reuse sequence numbers. */
    if (flock(s->dirfd, LOCK_EX | LOCK_NB) != 0) {
        rc = -errno;
        spool_err(err, errlen, rc, s->dir, NULL,
                  rc == -EWOULDBLOCK ? "in use by another process" : NULL);
        goto fail;
    }
    if ((rc = spool_recover(s, err, errlen)) != 0)
        goto fail;
    s->last_sync_ms = spool_now_ms();
    *out = s;
    return 0;
fail:
    spool_close(s);
    return rc;
}

void spool_close(struct spool *s)
{
    if (s == NULL)
        return;
    /* Whatever the policy, a clean stop leaves everything on disk. */
    if (s->fsync != SPOOL_FSYNC_NEVER) {
        if (s->sync_fd >= 0)
            fdatasync(s->sync_fd);
        if (s->wfd >= 0 && s->dirty)
            fdatasync(s->wfd);
        if (s->dirfd >= 0 && s->dir_dirty)
            fsync(s->dirfd);
    }
    if (s->sync_fd >= 0)
        close(s->sync_fd);
    if (s->wfd >= 0)
        close(s->wfd);
    if (s->rfd >= 0)
        close(s->rfd);
    if (s->dirfd >= 0)
        close(s->dirfd); /* releases the flock */
    if (s->rbuf != NULL)
        pthread_mutex_destroy(&s->mu);
    free(s->segs);
    free(s->snap);
    free(s->rbuf);
    free(s->dir);
    free(s);
}

/* ---- producer ------------------------------------------------------------------------------- */

/* Opens a new active segment for records from seq on (producer, unlocked). */
static int spool_new_segment(struct spool *s, uint64_t seq, bool retired)
{
    char name[SPOOL_NAME_LEN];
    int fd, rc;

    if (s->wfd >= 0) {
        if (retired || s->fsync == SPOOL_FSYNC_NEVER) {
            close(s->wfd);
        } else if (s->fsync == SPOOL_FSYNC_ALWAYS) {
            close(s->wfd); /* every record is already synced */
        } else {
            /* batch: the next spool_flush() syncs it; a second rotation
             * before that syncs the older one now. */
            if (s->sync_fd >= 0) {
                fdatasync(s->sync_fd);
                close(s->sync_fd);
            }
            s->sync_fd = s->wfd;
        }
        s->wfd = -1;
    }
    spool_seg_name(name, seq);
    fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    if (pwrite(fd, SPOOL_MAGIC, SPOOL_MAGIC_LEN, 0) != (ssize_t)SPOOL_MAGIC_LEN) {
        rc = errno != 0 ? -errno : -EIO;
        close(fd);
        unlinkat(s->dirfd, name, 0);
        return rc;
    }
    if (s->fsync == SPOOL_FSYNC_ALWAYS) {
        if (fdatasync(fd) != 0 || fsync(s->dirfd) != 0) {
            rc = -errno;
            close(fd);
            unlinkat(s->dirfd, name, 0);
            return rc;
        }
    } else if (s->fsync == SPOOL_FSYNC_BATCH) {
        s->dir_dirty = true;
    }
    s->wfd = fd;
    s->wsize = SPOOL_MAGIC_LEN;
    return 0;
}

int spool_append(struct spool *s, const uint8_t *data, uint32_t len, uint64_t *seq)
{
    uint8_t hdr[SPOOL_REC_HDR];
    struct iovec iov[2];
    uint64_t reclen = SPOOL_REC_HDR + (uint64_t)len, need, n;
    bool newseg, retired;
    int rc;

    if (data == NULL || len < 1 || len > SPOOL_MAX_RECORD)
        return -EINVAL;

    pthread_mutex_lock(&s->mu);
    retired = !s->active_open && s->wfd >= 0;
    newseg = !s->active_open ||
             (s->segs[s->nsegs - 1].nrec > 0 && s->wsize + reclen > s->segment_bytes);
    need = reclen + (newseg ? SPOOL_MAGIC_LEN : 0);
    if (s->bytes + need > s->max_bytes || s->bytes + need < s->bytes) {
        s->dropped_full++;
        pthread_mutex_unlock(&s->mu);
        return KANSHI_ELIMIT;
    }
    n = s->next_seq;
    /* 584 years at a billion alerts a second, unless a collector's number
     * (spool_advance) or a damaged "acked" started us near the end. */
    if (n == UINT64_MAX || n - s->acked >= UINT64_MAX - (s->acked + s->shift)) {
        pthread_mutex_unlock(&s->mu);
        return -EOVERFLOW;
    }
    s->writing = true;
    pthread_mutex_unlock(&s->mu);

    if (newseg) {
        struct spool_seg seg = {.first = n, .size = SPOOL_MAGIC_LEN};
        if ((rc = spool_new_segment(s, n, retired)) != 0) {
            /* The old segment is closed either way: start afresh next time. */
            pthread_mutex_lock(&s->mu);
            s->active_open = false;
            pthread_mutex_unlock(&s->mu);
            goto fail;
        }
        pthread_mutex_lock(&s->mu);
        rc = spool_seg_push(s, &seg);
        if (rc == 0) {
            s->bytes += SPOOL_MAGIC_LEN;
            s->active_open = true;
        }
        pthread_mutex_unlock(&s->mu);
        if (rc != 0) {
            char name[SPOOL_NAME_LEN];
            spool_seg_name(name, n);
            close(s->wfd);
            s->wfd = -1;
            unlinkat(s->dirfd, name, 0);
            goto fail;
        }
    }

    spool_put32(hdr, len);
    spool_put64(hdr + 4, n);
    spool_put32(hdr + 12, spool_crc32(spool_crc32(0, hdr + 4, 8), data, len));
    iov[0] = (struct iovec){.iov_base = hdr, .iov_len = sizeof(hdr)};
    iov[1] = (struct iovec){.iov_base = (void *)data, .iov_len = len};
    rc = spool_write_all(s->wfd, iov, 2);
    if (rc == 0 && s->fsync == SPOOL_FSYNC_ALWAYS && fdatasync(s->wfd) != 0)
        rc = -errno;
    if (rc != 0) {
        /* Leave no partial record behind: later records must stay readable. */
        if (ftruncate(s->wfd, (off_t)s->wsize) != 0) {
            /* The file now ends in garbage; a new segment keeps the rest safe. */
            pthread_mutex_lock(&s->mu);
            s->active_open = false;
            pthread_mutex_unlock(&s->mu);
            close(s->wfd);
            s->wfd = -1;
        }
        goto fail;
    }
    s->wsize += reclen;
    if (s->fsync == SPOOL_FSYNC_BATCH)
        s->dirty = true;

    pthread_mutex_lock(&s->mu);
    {
        struct spool_seg *g = &s->segs[s->nsegs - 1];
        if (g->nrec++ == 0)
            g->first_rec = n;
        g->last_rec = n;
        g->size += reclen;
    }
    s->bytes += reclen;
    s->next_seq = n + 1;
    s->committed_seq = n;
    if (s->fsync != SPOOL_FSYNC_BATCH)
        s->durable_seq = n;
    s->writing = false;
    /* Under the lock, so the number matches the shift of this moment. */
    if (seq != NULL)
        *seq = n + s->shift;
    pthread_mutex_unlock(&s->mu);
    return 0;

fail:
    pthread_mutex_lock(&s->mu);
    s->writing = false;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int spool_flush(struct spool *s)
{
    uint64_t now, target;

    if (s->fsync != SPOOL_FSYNC_BATCH || (!s->dirty && !s->dir_dirty && s->sync_fd < 0))
        return 0;
    now = spool_now_ms();
    if (now - s->last_sync_ms < s->fsync_interval_ms)
        return 0;
    pthread_mutex_lock(&s->mu);
    target = s->committed_seq;
    pthread_mutex_unlock(&s->mu);
    if (s->sync_fd >= 0) {
        if (fdatasync(s->sync_fd) != 0)
            return -errno;
        close(s->sync_fd);
        s->sync_fd = -1;
    }
    if (s->dirty && s->wfd >= 0 && fdatasync(s->wfd) != 0)
        return -errno;
    if (s->dir_dirty && fsync(s->dirfd) != 0)
        return -errno;
    s->dirty = s->dir_dirty = false;
    s->last_sync_ms = now;
    pthread_mutex_lock(&s->mu);
    if (target > s->durable_seq)
        s->durable_seq = target;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* ---- consumer ------------------------------------------------------------------------------- */

int spool_read(struct spool *s, uint64_t wire_after, size_t max_records, size_t max_bytes,
               spool_record_fn fn, void *arg)
{
    uint64_t limit, after, shift, wire_acked;
    size_t nsnap = 0, count = 0, bytes = 0;

    if (max_records == 0)
        return 0;
    if (max_records > INT_MAX)
        max_records = INT_MAX; /* the count is returned as an int */
    pthread_mutex_lock(&s->mu);
    limit = s->durable_seq;
    shift = s->shift;
    /* To a disk number: nothing at or below the ack, nothing past the last. */
    wire_acked = s->acked + shift;
    if (wire_after <= wire_acked)
        after = s->acked;
    else if (wire_after - wire_acked >= s->committed_seq - s->acked)
        after = s->committed_seq;
    else
        after = s->acked + (wire_after - wire_acked);
    if (after < limit) {
        if (s->snapcap < s->nsegs) {
            struct spool_seg *v = kanshi_reallocarray(s->snap, s->nsegs, sizeof(*v));
            if (v == NULL) {
                pthread_mutex_unlock(&s->mu);
                return -ENOMEM;
            }
            s->snap = v;
            s->snapcap = s->nsegs;
        }
        for (size_t i = 0; i < s->nsegs; i++)
            if (s->segs[i].nrec > 0 && s->segs[i].last_rec > after)
                s->snap[nsnap++] = s->segs[i];
    }
    pthread_mutex_unlock(&s->mu);

    for (size_t i = 0; i < nsnap; i++) {
        const struct spool_seg *g = &s->snap[i];
        uint64_t off = SPOOL_MAGIC_LEN;

        if (s->rseg != g->first || s->rfd < 0) {
            char name[SPOOL_NAME_LEN];
            if (s->rfd >= 0)
                close(s->rfd);
            spool_seg_name(name, g->first);
            s->rseg = 0;
            if ((s->rfd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC)) < 0)
                return -errno;
            s->rseg = g->first;
            s->roff = SPOOL_MAGIC_LEN;
            s->rprev = 0;
        }
        /* Sequential reading resumes where the last call stopped. */
        if (after >= s->rprev && s->roff <= g->size)
            off = s->roff;
        while (off < g->size) {
            size_t want = g->size - off < SPOOL_READ_BUF ? (size_t)(g->size - off) : SPOOL_READ_BUF;
            ssize_t got = spool_pread_all(s->rfd, s->rbuf, want, off);
            size_t pos = 0;

            if (got < 0)
                return (int)got;
            if ((size_t)got < want)
                return -EIO; /* the file shrank under us: not ours any more */
            while (want - pos >= SPOOL_REC_HDR) {
                const uint8_t *h = s->rbuf + pos;
                uint32_t len = spool_get32(h);
                uint64_t seq = spool_get64(h + 4);

                if (len < 1 || len > SPOOL_MAX_RECORD)
                    return -EIO;
                if (want - pos - SPOOL_REC_HDR < len)
                    break; /* continues in the next chunk */
                if (seq > limit)
                    return (int)count;
                if (seq > after) {
                    if (count > 0 && (count >= max_records || bytes + len > max_bytes))
                        return (int)count;
                    /* Written by us, but a disk may rot; never send garbage. */
                    if (spool_crc32(spool_crc32(0, h + 4, 8), h + SPOOL_REC_HDR, len) !=
                        spool_get32(h + 12))
                        return -EIO;
                }
                pos += SPOOL_REC_HDR + len;
                s->roff = off + pos;
                s->rprev = seq;
                if (seq > after) {
                    count++;
                    bytes += len;
                    if (fn(arg, seq + shift, h + SPOOL_REC_HDR, len) != 0 || count >= max_records)
                        return (int)count;
                }
            }
            if (pos == 0)
                return -EIO; /* a record longer than the segment claims to hold */
            off += pos;
        }
    }
    return (int)count;
}

int spool_ack(struct spool *s, uint64_t wire_seq)
{
    uint64_t *doomed = NULL, seq, shift, wire_acked;
    size_t ndoomed = 0, keep = 0;
    int rc;

    pthread_mutex_lock(&s->mu);
    shift = s->shift;
    wire_acked = s->acked + shift;
    if (wire_seq <= wire_acked || wire_seq - wire_acked > s->committed_seq - s->acked) {
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    seq = s->acked + (wire_seq - wire_acked);
    pthread_mutex_unlock(&s->mu);

    /* Only the consumer acks or renumbers, so nothing changes the ack or
     * the shift meanwhile. */
    if ((rc = spool_write_acked(s, wire_seq, shift)) != 0)
        return rc;

    pthread_mutex_lock(&s->mu);
    s->acked = seq;
    s->confirmed = true;
    doomed = kanshi_reallocarray(NULL, s->nsegs != 0 ? s->nsegs : 1, sizeof(*doomed));
    for (size_t i = 0; i < s->nsegs; i++) {
        struct spool_seg *g = &s->segs[i];
        bool active = s->active_open && i + 1 == s->nsegs;
        /* The active segment goes too once it is fully acknowledged and no
         * write is in flight; the producer opens a new one next time. */
        if (doomed != NULL && g->nrec > 0 && g->last_rec <= seq && (!active || !s->writing)) {
            doomed[ndoomed++] = g->first;
            s->bytes -= g->size;
            if (active)
                s->active_open = false;
            continue;
        }
        s->segs[keep++] = *g;
    }
    s->nsegs = keep;
    pthread_mutex_unlock(&s->mu);

    for (size_t i = 0; i < ndoomed; i++) {
        char name[SPOOL_NAME_LEN];
        spool_seg_name(name, doomed[i]);
        if (unlinkat(s->dirfd, name, 0) != 0 && errno != ENOENT && rc == 0)
            rc = -errno;
        if (doomed[i] == s->rseg && s->rfd >= 0) {
            close(s->rfd);
            s->rfd = -1;
            s->rseg = 0;
        }
    }
    free(doomed);
    return rc;
}

int spool_advance(struct spool *s, uint64_t seq)
{
    uint64_t wire_acked, given, shift;
    bool renumber;
    int rc;

    pthread_mutex_lock(&s->mu);
    wire_acked = s->acked + s->shift;
    given = s->committed_seq - s->acked; /* numbers given out after the ack */
    if (s->confirmed)
        renumber = seq > wire_acked && seq - wire_acked > given;
    else
        renumber = seq != wire_acked;
    if (!renumber && s->confirmed) {
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    /* Room for what is spooled and one more, as spool_append() wants. */
    if (renumber && s->next_seq - s->acked >= UINT64_MAX - seq) {
        pthread_mutex_unlock(&s->mu);
        return -EOVERFLOW;
    }
    /* The disk number of the ack stays; the shift moves it to seq.  Records
     * the producer adds meanwhile are after the ack, so they follow too. */
    shift = renumber ? seq - s->acked : s->shift;
    if (!renumber)
        seq = wire_acked;
    pthread_mutex_unlock(&s->mu);

    if ((rc = spool_write_acked(s, seq, shift)) != 0)
        return rc;
    pthread_mutex_lock(&s->mu);
    s->shift = shift;
    s->confirmed = true;
    pthread_mutex_unlock(&s->mu);
    return renumber ? 1 : 0;
}

void spool_get_stats(struct spool *s, struct spool_stats *st)
{
    pthread_mutex_lock(&s->mu);
    st->next_seq = s->next_seq + s->shift;
    st->acked_seq = s->acked + s->shift;
    st->confirmed = s->confirmed;
    st->bytes = s->bytes;
    st->pending = spool_pending_locked(s);
    st->dropped_full = s->dropped_full;
    st->recovered_truncated = s->recovered_truncated;
    st->segments = s->nsegs;
    pthread_mutex_unlock(&s->mu);
}
