/*
 * spool_test.c — the sensor's disk spool (sensor/spool.c) on a real
 * directory: numbering across restarts, reading and acknowledging, recovery
 * from torn and corrupt files, the size cap, segment deletion, the fsync
 * policies, a producer and a consumer thread at once, the speed of
 * appending, and renumbering after the collector's numbers (spool_advance).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kanshi/kanshi.h"
#include "kanshi/spool.h"
#include "test.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SPEED_LIMIT 5.0
#else
#define SPEED_LIMIT 1.0
#endif

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
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/kanshi-spool-XXXXXX");
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

/* Record content derived from its sequence, so readers can check it. */
static uint32_t make_rec(uint64_t seq, uint8_t *buf, uint32_t len)
{
    int n = snprintf((char *)buf, len, "{\"seq\":%llu,\"pad\":\"", (unsigned long long)seq);
    uint32_t i = (uint32_t)n;
    for (; i + 2 < len; i++)
        buf[i] = (uint8_t)('a' + (seq + i) % 26);
    buf[i++] = '"';
    buf[i++] = '}';
    return i;
}

static struct spool *open_spool(const char *dir, uint64_t max, uint64_t seg, enum spool_fsync fs,
                                uint32_t ivl)
{
    struct spool_config c = {.dir = dir,
                             .max_bytes = max,
                             .segment_bytes = seg,
                             .fsync = fs,
                             .fsync_interval_ms = ivl};
    struct spool *s = NULL;
    char err[512];
    int rc = spool_open(&s, &c, err, sizeof(err));

    if (rc != 0)
        fprintf(stderr, "spool_open: %s\n", err);
    return s;
}

/* Collects what spool_read hands out and checks it against make_rec(). */
struct collect {
    uint64_t n, first, last;
    uint64_t bad;
    uint32_t len; /* expected record length, 0: any */
    uint64_t stop_after; /* return non-zero after this many, 0: never */
};

static int collect_fn(void *arg, uint64_t seq, const uint8_t *data, uint32_t len)
{
    struct collect *c = arg;
    uint8_t want[4096];

    if (c->n == 0)
        c->first = seq;
    else if (seq != c->last + 1)
        c->bad++;
    c->last = seq;
    c->n++;
    if (c->len != 0 && (len != c->len || len > sizeof(want) || make_rec(seq, want, c->len) != len ||
                        memcmp(want, data, len) != 0))
        c->bad++;
    return c->stop_after != 0 && c->n >= c->stop_after;
}

static int append_n(struct spool *s, uint64_t n, uint32_t len)
{
    uint8_t buf[4096];
    uint64_t seq;

    for (uint64_t i = 0; i < n; i++) {
        struct spool_stats st;
        int rc;
        spool_get_stats(s, &st);
        make_rec(st.next_seq, buf, len);
        if ((rc = spool_append(s, buf, len, &seq)) != 0)
            return rc;
        if (seq != st.next_seq)
            return -1;
    }
    return 0;
}

static int count_segments(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, "seg-", 4) == 0 && strstr(de->d_name, ".corrupt") == NULL)
            n++;
    closedir(d);
    return n;
}

static void seg_path(char *buf, size_t len, const char *dir, uint64_t first)
{
    snprintf(buf, len, "%s/seg-%020llu.ks", dir, (unsigned long long)first);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

TEST(append_read_ack)
{
    const char *dir = mktemp_dir();
    struct spool *s = open_spool(dir, 0, 0, SPOOL_FSYNC_NEVER, 0);
    struct spool_stats st;
    struct collect c = {.len = 100};
    uint8_t buf[100];
    uint64_t seq = 0;

    CHECK(s != NULL);
    if (s == NULL)
        return;
    spool_get_stats(s, &st);
    CHECK(st.next_seq == 1 && st.acked_seq == 0 && st.pending == 0 && st.bytes == 0);
    CHECK_INT(spool_read(s, 0, 100, 1 << 20, collect_fn, &c), 0);

    CHECK_INT(append_n(s, 10, 100), 0);
    spool_get_stats(s, &st);
    CHECK_INT(st.next_seq, 11);
    CHECK_INT(st.pending, 10);
    CHECK_INT(st.bytes, 8 + 10 * (16 + 100));
    CHECK_INT(st.segments, 1);

    CHECK_INT(spool_read(s, 0, 100, 1 << 20, collect_fn, &c), 10);
    CHECK(c.first == 1 && c.last == 10 && c.bad == 0);
    /* max_records, max_bytes (at least one record always), early stop by fn */
    c = (struct collect){.len = 100};
    CHECK_INT(spool_read(s, 0, 3, 1 << 20, collect_fn, &c), 3);
    CHECK(c.first == 1 && c.last == 3);
    c = (struct collect){.len = 100};
    CHECK_INT(spool_read(s, 3, 100, 250, collect_fn, &c), 2);
    CHECK(c.first == 4 && c.last == 5);
    c = (struct collect){.len = 100};
    CHECK_INT(spool_read(s, 3, 100, 1, collect_fn, &c), 1);
    c = (struct collect){.len = 100, .stop_after = 4};
    CHECK_INT(spool_read(s, 0, 100, 1 << 20, collect_fn, &c), 4);
    CHECK_INT(c.last, 4);
    /* Going back (a resend) after reading further. */
    c = (struct collect){.len = 100};
    CHECK_INT(spool_read(s, 8, 100, 1 << 20, collect_fn, &c), 2);
    c = (struct collect){.len = 100};
    CHECK_INT(spool_read(s, 1, 100, 1 << 20, collect_fn, &c), 9);
    CHECK(c.first == 2 && c.last == 10 && c.bad == 0);

    CHECK_INT(spool_ack(s, 5), 0);
    spool_get_stats(s, &st);
    CHECK_INT(st.acked_seq, 5);
    CHECK_INT(st.pending, 5);
    /* Acks for the future or the past are ignored. */
    CHECK_INT(spool_ack(s, 11), 0);
    CHECK_INT(spool_ack(s, 3), 0);
    spool_get_stats(s, &st);
    CHECK_INT(st.acked_seq, 5);

    CHECK_INT(spool_ack(s, 10), 0);
    spool_get_stats(s, &st);
    CHECK_INT(st.pending, 0);
    CHECK_INT(st.bytes, 0);
    CHECK_INT(st.segments, 0);
    CHECK_INT(count_segments(dir), 0);

    /* Appends go on into a new segment with the next number. */
    make_rec(11, buf, 100);
    CHECK_INT(spool_append(s, buf, 100, &seq), 0);
    CHECK_INT(seq, 11);
    c = (struct collect){.len = 100};
    CHECK_INT(spool_read(s, 10, 100, 1 << 20, collect_fn, &c), 1);
    CHECK_INT(c.first, 11);
    CHECK_INT(count_segments(dir), 1);

    CHECK_INT(spool_append(s, buf, 0, &seq), -EINVAL);
    CHECK_INT(spool_append(s, NULL, 10, &seq), -EINVAL);
    {
        uint8_t *big = calloc(1, SPOOL_MAX_RECORD + 1);
        CHECK_INT(spool_append(s, big, SPOOL_MAX_RECORD + 1, &seq), -EINVAL);
        memset(big, 'x', SPOOL_MAX_RECORD);
        CHECK_INT(spool_append(s, big, SPOOL_MAX_RECORD, &seq), 0);
        CHECK_INT(seq, 12);
        free(big);
    }
    spool_close(s);
    rm_dir(dir);
}

TEST(restart_keeps_sequence)
{
    const char *dir = mktemp_dir();
    struct spool *s = open_spool(dir, 0, 0, SPOOL_FSYNC_BATCH, 0);
    struct spool_stats st;
    struct collect c = {.len = 200};

    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_INT(append_n(s, 7, 200), 0);
    CHECK_INT(spool_flush(s), 0);
    CHECK_INT(spool_ack(s, 3), 0);
    spool_close(s);

    s = open_spool(dir, 0, 0, SPOOL_FSYNC_BATCH, 0);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    spool_get_stats(s, &st);
    CHECK_INT(st.next_seq, 8);
    CHECK_INT(st.acked_seq, 3);
    CHECK_INT(st.pending, 4);
    CHECK_INT(st.recovered_truncated, 0);
    CHECK_INT(spool_read(s, 3, 100, 1 << 20, collect_fn, &c), 4);
    CHECK(c.first == 4 && c.last == 7 && c.bad == 0);
    /* The reopened segment takes more appends. */
    CHECK_INT(append_n(s, 2, 200), 0);
    CHECK_INT(spool_flush(s), 0);
    CHECK_INT(spool_ack(s, 9), 0);
    spool_close(s);

    /* Everything acknowledged, no segment left: the ack file carries the number. */
    CHECK_INT(count_segments(dir), 0);
    s = open_spool(dir, 0, 0, SPOOL_FSYNC_NEVER, 0);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    spool_get_stats(s, &st);
    CHECK_INT(st.next_seq, 10);
    CHECK_INT(st.pending, 0);
    CHECK_INT(append_n(s, 1, 50), 0);
    spool_close(s);
    rm_dir(dir);
}

TEST(torn_tail_every_offset)
{
    char path[256];
    /* Cut the last of 5 records at every byte of it. */
    for (uint32_t cut = 0; cut < 16 + 60; cut += 1) {
        const char *dir = mktemp_dir();
        struct spool *s = open_spool(dir, 0, 0, SPOOL_FSYNC_NEVER, 0);
        struct spool_stats st;
        struct collect c = {.len = 60};
        off_t full;

        if (s == NULL) {
            CHECK(s != NULL);
            return;
        }
        CHECK_INT(append_n(s, 5, 60), 0);
        spool_close(s);
        seg_path(path, sizeof(path), dir, 1);
        full = file_size(path);
        CHECK_INT(full, 8 + 5 * 76);
        CHECK_INT(truncate(path, full - 76 + cut), 0);

        s = open_spool(dir, 0, 0, SPOOL_FSYNC_NEVER, 0);
        CHECK(s != NULL);
        if (s == NULL)
            return;
        spool_get_stats(s, &st);
        CHECK_INT(st.next_seq, 5);
        CHECK_INT(st.pending, 4);
        CHECK_INT(st.recovered_truncated, cut);
        CHECK_INT(file_size(path), full - 76);
        /* The seat of the torn record is taken by the next append. */
        CHECK_INT(append_n(s, 2, 60), 0);
        CHECK_INT(spool_read(s, 0, 100, 1 << 20, collect_fn, &c), 6);
        CHECK(c.first == 1 && c.last == 6 && c.bad == 0);
        spool_close(s);
        rm_dir(dir);
    }
}

TEST(torn_segment_creation)
{
    const char *dir = mktemp_dir();
    struct spool *s = open_spool(dir, 0, 0, SPOOL_FSYNC_NEVER, 0);
    struct spool_stats st;
    char path[256];
    int fd;

    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_INT(append_n(s, 3, 40), 0);
    spool_close(s);
    /* A crash right after creating the next segment: 3 bytes of magic. */
    seg_path(path, sizeof(path), dir, 4);
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    CHECK(fd >= 0 && write(fd, "KSS", 3) == 3);
    close(fd);
    s = open_spool(dir, 0, 0, SPOOL_FSYNC_NEVER, 0);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    spool_get_stats(s, &st);
    CHECK_INT(st.next_seq, 4);
    CHECK_INT(st.recovered_truncated, 3);
    CHECK_INT(file_size(path), -1);
    CHECK_INT(append_n(s, 1, 40), 0);
    spool_close(s);
    rm_dir(dir);
}

TEST(corrupt_crc)
{
    const char *dir = mktemp_dir();
    struct spool *s = open_spool(dir, 0, 0, SPOOL_FSYNC_NEVER, 0);
    struct spool_stats st;
    struct collect c = {.len = 50};
    char path[256];
    int fd;

    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_INT(append_n(s, 5, 50), 0);
    spool_close(s);
    /* Flip one data byte of record 3: it and what follows are cut. */
    seg_path(path, sizeof(path), dir, 1);
    fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, "#", 1, 8 + 2 * 66 + 16 + 20) == 1);
    close(fd);

    s = open_spool(dir, 0, 0, SPOOL_FSYNC_NEVER, 0);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    spool_get_stats(s, &st);
    CHECK_INT(st.pending, 2);
    CHECK_INT(st.next_seq, 3);
    CHECK_INT(st.recovered_truncated, 3 * 66);
    CHECK_INT(spool_read(s, 0, 100, 1 << 20, collect_fn, &c), 2);
    CHECK(c.last == 2 && c.bad == 0);
    spool_close(s);

    /* Corruption while running is caught when reading, never sent. */
    s = open_spool(dir, 0, 0, SPOOL_FSYNC_NEVER, 0);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    fd = open(path, O_RDWR);
    CHECK(pwrite(fd, "#", 1, 8 + 66 + 16 + 5) == 1);
    close(fd);
    c = (struct collect){.len = 50};
    CHECK_INT(spool_read(s, 0, 100, 1 << 20, collect_fn, &c), -EIO);
    CHECK_INT(c.n, 1);
    spool_close(s);
    rm_dir(dir);
}

TEST(corrupt_older_segment)
{
    const char *dir = mktemp_dir();
    /* Segments of about 4 records. */
    struct spool *s = open_spool(dir, 0, 8 + 4 * 116, SPOOL_FSYNC_NEVER, 0);
    struct spool_stats st;
    struct collect c = {.len = 100};
    char path[256];
    int fd;

    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_INT(append_n(s, 12, 100), 0);
    spool_get_stats(s, &st);
    CHECK_INT(st.segments, 3);
    CHECK_INT(count_segments(dir), 3);
    spool_close(s);

    /* Damage the CRC of record 3 in the first segment (records 1-4). */
    seg_path(path, sizeof(path), dir, 1);
    fd = open(path, O_RDWR);
    CHECK(fd >= 0 && pwrite(fd, "\xff\xff", 2, 8 + 2 * 116 + 12) == 2);
    close(fd);
    s = open_spool(dir, 0, 8 + 4 * 116, SPOOL_FSYNC_NEVER, 0);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    spool_get_stats(s, &st);
    CHECK_INT(st.next_seq, 13);
    CHECK_INT(st.recovered_truncated, 0);
    CHECK_INT(st.pending, 10);
    /* 1, 2, then the next segment: 3 and 4 are lost, nothing else. */
    CHECK_INT(spool_read(s, 0, 100, 1 << 20, collect_fn, &c), 10);
    CHECK(c.first == 1 && c.last == 12 && c.bad == 1);
    c = (struct collect){.len = 100};
    CHECK_INT(spool_read(s, 2, 100, 1 << 20, collect_fn, &c), 8);
    CHECK(c.first == 5 && c.last == 12 && c.bad == 0);
    /* Acknowledging past it deletes it like any other. */
    CHECK_INT(spool_ack(s, 8), 0);
    CHECK_INT(count_segments(dir), 1);
    spool_close(s);

    /* A file with a segment's name but not a segment is moved aside. */
    seg_path(path, sizeof(path), dir, 2);
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    CHECK(fd >= 0 && write(fd, "not a spool file", 16) == 16);
    close(fd);
    s = open_spool(dir, 0, 8 + 4 * 116, SPOOL_FSYNC_NEVER, 0);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    spool_get_stats(s, &st);
    CHECK_INT(st.next_seq, 13);
    CHECK_INT(st.pending, 4);
    {
        char aside[300];
        snprintf(aside, sizeof(aside), "%s.corrupt", path);
        CHECK_INT(file_size(aside), 16);
        CHECK_INT(file_size(path), -1);
    }
    spool_close(s);
    rm_dir(dir);
}

TEST(cap_and_dropped)
{
    const char *dir = mktemp_dir();
    /* Room for the magic and 10 records of 116 bytes. */
    struct spool *s = open_spool(dir, 8 + 10 * 116, 0, SPOOL_FSYNC_NEVER, 0);
    struct spool_stats st;
    uint8_t buf[100];
    uint64_t seq = 0;

    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_INT(append_n(s, 10, 100), 0);
    make_rec(11, buf, 100);
    CHECK_INT(spool_append(s, buf, 100, &seq), KANSHI_ELIMIT);
    CHECK_INT(spool_append(s, buf, 100, &seq), KANSHI_ELIMIT);
    spool_get_stats(s, &st);
    CHECK_INT(st.dropped_full, 2);
    CHECK_INT(st.next_seq, 11); /* a refused alert takes no number */
    CHECK_INT(st.pending, 10);
    /* Acknowledging frees the room. */
    CHECK_INT(spool_ack(s, 10), 0);
    CHECK_INT(spool_append(s, buf, 100, &seq), 0);
    CHECK_INT(seq, 11);
    spool_get_stats(s, &st);
    CHECK_INT(st.dropped_full, 2);
    spool_close(s);
    rm_dir(dir);
}

TEST(segments_deleted_after_ack)
{
    const char *dir = mktemp_dir();
    struct spool *s = open_spool(dir, 0, 4096, SPOOL_FSYNC_NEVER, 0);
    struct spool_stats st;
    struct collect c = {.len = 600};
    int before;

    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_INT(append_n(s, 100, 600), 0);
    before = count_segments(dir);
    spool_get_stats(s, &st);
    CHECK_INT(before, 17); /* 6 records of 616 bytes per 4 KiB segment */
    CHECK_INT(st.segments, 17);
    CHECK_INT(spool_read(s, 0, 1000, 1 << 30, collect_fn, &c), 100);
    CHECK(c.bad == 0);
    CHECK_INT(spool_ack(s, 50), 0);
    /* Segments 1-8 hold 1-48; 49-54 share a segment with unacked 51-54. */
    CHECK_INT(count_segments(dir), 9);
    spool_get_stats(s, &st);
    CHECK_INT(st.segments, 9);
    CHECK_INT(st.pending, 50);
    CHECK_INT(spool_ack(s, 100), 0);
    CHECK_INT(count_segments(dir), 0);
    spool_get_stats(s, &st);
    CHECK_INT(st.bytes, 0);
    CHECK_INT(st.pending, 0);
    spool_close(s);
    rm_dir(dir);
}

TEST(fsync_policies)
{
    const char *dir = mktemp_dir();
    struct spool *s = open_spool(dir, 0, 4096, SPOOL_FSYNC_ALWAYS, 0);
    struct collect c = {.len = 300};

    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_INT(append_n(s, 30, 300), 0);
    CHECK_INT(spool_read(s, 0, 100, 1 << 20, collect_fn, &c), 30);
    spool_close(s);
    rm_dir(dir);

    /* batch: nothing is handed out before it was synced by spool_flush(). */
    dir = mktemp_dir();
    s = open_spool(dir, 0, 4096, SPOOL_FSYNC_BATCH, 50);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_INT(append_n(s, 30, 300), 0);
    c = (struct collect){.len = 300};
    CHECK_INT(spool_read(s, 0, 100, 1 << 20, collect_fn, &c), 0);
    CHECK_INT(spool_flush(s), 0); /* within the interval of the open: no sync yet */
    CHECK_INT(spool_read(s, 0, 100, 1 << 20, collect_fn, &c), 0);
    usleep(60 * 1000);
    CHECK_INT(spool_flush(s), 0);
    CHECK_INT(spool_read(s, 0, 100, 1 << 20, collect_fn, &c), 30);
    CHECK_INT(append_n(s, 5, 300), 0);
    c = (struct collect){.len = 300};
    CHECK_INT(spool_read(s, 30, 100, 1 << 20, collect_fn, &c), 0);
    usleep(60 * 1000);
    CHECK_INT(spool_flush(s), 0);
    CHECK_INT(spool_read(s, 30, 100, 1 << 20, collect_fn, &c), 5);
    spool_close(s);
    rm_dir(dir);
}

TEST(open_errors)
{
    const char *dir = mktemp_dir();
    struct spool_config cfg = {.dir = dir};
    struct spool *s = NULL, *s2 = NULL;
    char err[512], path[256];
    int fd, rc;

    /* One spool, one process. */
    CHECK_INT(spool_open(&s, &cfg, err, sizeof(err)), 0);
    rc = spool_open(&s2, &cfg, err, sizeof(err));
    CHECK(rc < 0);
    CHECK(s2 == NULL);
    CHECK_CONTAINS(err, "in use by another process");
    CHECK_INT(append_n(s, 2, 30), 0);
    spool_close(s);

    /* Not a directory. */
    snprintf(path, sizeof(path), "%s/file", dir);
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    close(fd);
    cfg.dir = path;
    CHECK_INT(spool_open(&s, &cfg, err, sizeof(err)), -ENOTDIR);
    CHECK_CONTAINS(err, path);
    cfg.dir = "";
    CHECK_INT(spool_open(&s, &cfg, err, sizeof(err)), -EINVAL);
    CHECK_CONTAINS(err, "no directory");
    cfg.dir = dir;

    /* A corrupt ack with segments left: resend from the oldest, with the
     * numbering unconfirmed until the collector answers. */
    snprintf(path, sizeof(path), "%s/acked", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, "garbage", 7) == 7);
    close(fd);
    s = NULL;
    CHECK_INT(spool_open(&s, &cfg, err, sizeof(err)), 0);
    if (s != NULL) {
        struct spool_stats st;
        spool_get_stats(s, &st);
        CHECK_INT(st.acked_seq, 0);
        CHECK_INT(st.next_seq, 3);
        CHECK_INT(st.confirmed, 0);
        CHECK_INT(spool_ack(s, 2), 0);
        spool_get_stats(s, &st);
        CHECK_INT(st.confirmed, 1);
        spool_close(s);
    }
    /* A corrupt ack and nothing else: it opens, numbering from 1 but
     * unconfirmed, so the collector's answer decides the numbers and none
     * is reused for another alert. */
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, "garbage", 7) == 7);
    close(fd);
    s = NULL;
    CHECK_INT(spool_open(&s, &cfg, err, sizeof(err)), 0);
    if (s != NULL) {
        struct spool_stats st;
        CHECK_INT(append_n(s, 1, 30), 0);
        CHECK_INT(spool_advance(s, 2), 1);
        spool_get_stats(s, &st);
        CHECK_INT(st.acked_seq, 2);
        CHECK_INT(st.next_seq, 4);
        CHECK_INT(st.pending, 1);
        spool_close(s);
    }
    /* An ack of the right size whose checksum is wrong is corrupt too (and
     * takes the shift with it: unconfirmed again, the one record left is
     * numbered as on disk until the collector answers). */
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, "0123456789abcdefghij", 20) == 20);
    close(fd);
    s = NULL;
    CHECK_INT(spool_open(&s, &cfg, err, sizeof(err)), 0);
    if (s != NULL) {
        struct spool_stats st;
        spool_get_stats(s, &st);
        CHECK_INT(st.confirmed, 0);
        CHECK_INT(st.acked_seq, 0);
        CHECK_INT(st.next_seq, 2);
        spool_close(s);
    }
    rm_dir(dir);
}

/* ---- renumbering (spool_advance) ----------------------------------------------------------- */

/* Checks records came out as wire numbers first.. with the content of disk
 * numbers disk_first.. (make_rec wrote the number the spool gave). */
struct renum {
    uint64_t n, first, last, bad, disk_next;
    uint32_t len;
};

static int renum_fn(void *arg, uint64_t seq, const uint8_t *data, uint32_t len)
{
    struct renum *r = arg;
    uint8_t want[4096];

    if (r->n == 0)
        r->first = seq;
    else if (seq != r->last + 1)
        r->bad++;
    r->last = seq;
    r->n++;
    if (len != r->len || make_rec(r->disk_next, want, r->len) != len || memcmp(want, data, len))
        r->bad++;
    r->disk_next++;
    return 0;
}

/* A new spool (a replaced disk) meets a collector holding 1..1000. */
TEST(advance_reset_spool)
{
    const char *dir = mktemp_dir();
    struct spool *s = open_spool(dir, 0, 0, SPOOL_FSYNC_BATCH, 0);
    struct spool_stats st;
    struct renum r = {.len = 80, .disk_next = 1};
    uint8_t buf[80];
    uint64_t seq;
    char path[256];

    CHECK(s != NULL);
    if (s == NULL)
        return;
    spool_get_stats(s, &st);
    CHECK_INT(st.confirmed, 0);
    CHECK_INT(append_n(s, 5, 80), 0);
    CHECK_INT(spool_flush(s), 0);
    CHECK_INT(spool_advance(s, 1000), 1);
    spool_get_stats(s, &st);
    CHECK_INT(st.confirmed, 1);
    CHECK_INT(st.acked_seq, 1000);
    CHECK_INT(st.next_seq, 1006);
    CHECK_INT(st.pending, 5);
    /* The records keep their content, under the new numbers. */
    CHECK_INT(spool_read(s, 0, 100, 1 << 20, renum_fn, &r), 5);
    CHECK(r.first == 1001 && r.last == 1005 && r.bad == 0);
    r = (struct renum){.len = 80, .disk_next = 3};
    CHECK_INT(spool_read(s, 1002, 100, 1 << 20, renum_fn, &r), 3);
    CHECK(r.first == 1003 && r.bad == 0);
    /* Appends follow, and report the new numbers. */
    make_rec(6, buf, 80);
    CHECK_INT(spool_append(s, buf, 80, &seq), 0);
    CHECK_INT(seq, 1006);
    CHECK_INT(spool_flush(s), 0);
    /* Acks are in the new numbering; ones from before it are ignored. */
    CHECK_INT(spool_ack(s, 3), 0);
    spool_get_stats(s, &st);
    CHECK_INT(st.acked_seq, 1000);
    CHECK_INT(spool_ack(s, 1003), 0);
    spool_get_stats(s, &st);
    CHECK_INT(st.acked_seq, 1003);
    CHECK_INT(st.pending, 3);
    /* A second answer that agrees changes nothing. */
    CHECK_INT(spool_advance(s, 1003), 0);
    CHECK_INT(spool_advance(s, 1006), 0);
    CHECK_INT(spool_advance(s, 17), 0); /* a collector that lost data: not ours to fix */
    spool_get_stats(s, &st);
    CHECK_INT(st.next_seq, 1007);
    spool_close(s);

    /* All of it survives a restart: "acked" holds the shift (20 bytes). */
    snprintf(path, sizeof(path), "%s/acked", dir);
    CHECK_INT(file_size(path), 20);
    s = open_spool(dir, 0, 0, SPOOL_FSYNC_BATCH, 0);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    spool_get_stats(s, &st);
    CHECK_INT(st.confirmed, 1);
    CHECK_INT(st.acked_seq, 1003);
    CHECK_INT(st.next_seq, 1007);
    CHECK_INT(st.pending, 3);
    r = (struct renum){.len = 80, .disk_next = 4};
    CHECK_INT(spool_read(s, 1003, 100, 1 << 20, renum_fn, &r), 3);
    CHECK(r.first == 1004 && r.last == 1006 && r.bad == 0);
    CHECK_INT(spool_ack(s, 1006), 0);
    CHECK_INT(count_segments(dir), 0);
    spool_close(s);
    s = open_spool(dir, 0, 0, SPOOL_FSYNC_NEVER, 0);
    CHECK(s != NULL);
    if (s != NULL) {
        spool_get_stats(s, &st);
        CHECK_INT(st.next_seq, 1007);
        CHECK_INT(st.pending, 0);
        spool_close(s);
    }
    rm_dir(dir);
}

/* The first answer to a new spool of a new sensor (0) only confirms; a
 * confirmed spool renumbers only for a number it never gave. */
TEST(advance_confirms_or_renumbers)
{
    const char *dir = mktemp_dir();
    struct spool *s = open_spool(dir, 0, 0, SPOOL_FSYNC_NEVER, 0);
    struct spool_stats st;
    struct renum r = {.len = 60, .disk_next = 4};
    char path[256];

    CHECK(s != NULL);
    if (s == NULL)
        return;
    snprintf(path, sizeof(path), "%s/acked", dir);
    CHECK_INT(append_n(s, 3, 60), 0);
    CHECK_INT(file_size(path), -1);
    CHECK_INT(spool_advance(s, 0), 0);
    CHECK_INT(file_size(path), 12); /* confirmed, written the old way */
    spool_get_stats(s, &st);
    CHECK(st.confirmed == 1 && st.next_seq == 4 && st.acked_seq == 0 && st.pending == 3);
    /* Within what it numbered: an ordinary ACK's business, not this one's. */
    CHECK_INT(spool_advance(s, 2), 0);
    CHECK_INT(spool_advance(s, 3), 0);
    CHECK_INT(spool_ack(s, 2), 0);
    CHECK_INT(append_n(s, 2, 60), 0);
    /* Beyond it: 3, 4 and 5 are unacknowledged and become 51, 52, 53. */
    CHECK_INT(spool_advance(s, 50), 1);
    spool_get_stats(s, &st);
    CHECK(st.acked_seq == 50 && st.next_seq == 54 && st.pending == 3);
    r = (struct renum){.len = 60, .disk_next = 3};
    CHECK_INT(spool_read(s, 0, 100, 1 << 20, renum_fn, &r), 3);
    CHECK(r.first == 51 && r.last == 53 && r.bad == 0);
    /* Twice over: the shift adds up. */
    CHECK_INT(spool_advance(s, 100), 1);
    r = (struct renum){.len = 60, .disk_next = 3};
    CHECK_INT(spool_read(s, 0, 100, 1 << 20, renum_fn, &r), 3);
    CHECK(r.first == 101 && r.last == 103 && r.bad == 0);
    /* No room for the new numbers: nothing changes. */
    CHECK_INT(spool_advance(s, UINT64_MAX - 2), -EOVERFLOW);
    spool_get_stats(s, &st);
    CHECK(st.acked_seq == 100 && st.next_seq == 104);
    CHECK_INT(spool_ack(s, 103), 0);
    spool_get_stats(s, &st);
    CHECK_INT(st.pending, 0);
    spool_close(s);

    /* A directory that cannot be written: the error, and no change. */
    if (geteuid() != 0) {
        s = open_spool(dir, 0, 0, SPOOL_FSYNC_NEVER, 0);
        CHECK(s != NULL);
        if (s != NULL) {
            CHECK_INT(chmod(dir, 0500), 0);
            CHECK_INT(spool_advance(s, 5000), -EACCES);
            spool_get_stats(s, &st);
            CHECK_INT(st.next_seq, 104);
            CHECK_INT(chmod(dir, 0700), 0);
            spool_close(s);
        }
    }
    rm_dir(dir);
}

/* Renumbering while the producer appends: every record keeps its order and
 * the numbers stay gapless. */
struct advance_prod {
    struct spool *s;
    uint64_t n, last, bad;
};

static void *advance_producer(void *arg)
{
    struct advance_prod *p = arg;
    uint8_t buf[100];

    memset(buf, 'x', sizeof(buf));
    for (uint64_t i = 0; i < p->n; i++) {
        uint64_t seq;
        if (spool_append(p->s, buf, sizeof(buf), &seq) != 0)
            p->bad++;
        else if (seq <= p->last && i > 0)
            p->bad++;
        p->last = seq;
    }
    return NULL;
}

static int advance_count(void *arg, uint64_t seq, const uint8_t *data, uint32_t len)
{
    uint64_t *last = arg;

    (void)data;
    (void)len;
    if (*last != 0 && seq != *last + 1)
        return 1;
    *last = seq;
    return 0;
}

TEST(advance_while_appending)
{
    const char *dir = mktemp_dir();
    struct spool *s = open_spool(dir, 0, 64 << 10, SPOOL_FSYNC_NEVER, 0);
    struct advance_prod p = {.s = s, .n = 30000};
    struct spool_stats st;
    pthread_t th;
    uint64_t last = 0;
    int renumbered = 0;

    CHECK(s != NULL);
    if (s == NULL)
        return;
    pthread_create(&th, NULL, advance_producer, &p);
    for (uint64_t target = 100000; target <= 500000; target += 100000) {
        usleep(2000);
        if (spool_advance(s, target) == 1)
            renumbered++;
    }
    pthread_join(th, NULL);
    CHECK_INT(p.bad, 0);
    CHECK(renumbered >= 1);
    spool_get_stats(s, &st);
    CHECK_INT(st.pending, 30000);
    CHECK_INT(st.next_seq, st.acked_seq + 30001);
    CHECK(p.last >= 30000 && p.last < st.next_seq);
    CHECK_INT(spool_read(s, 0, 100000, SIZE_MAX, advance_count, &last), 30000);
    CHECK_INT(last, st.next_seq - 1);
    spool_close(s);
    rm_dir(dir);
}

/* ---- concurrency --------------------------------------------------------------------------- */

#define CONC_N 60000u

struct conc {
    struct spool *s;
    uint64_t got, bad, acks;
    int err;
};

static void *consumer(void *arg)
{
    struct conc *cc = arg;
    struct collect c = {.len = 200};
    uint64_t after = 0;
    double deadline = now_s() + 60;

    while (after < CONC_N && now_s() < deadline) {
        int n;
        c = (struct collect){.len = 200};
        n = spool_read(cc->s, after, 1000, 1 << 20, collect_fn, &c);
        if (n < 0) {
            cc->err = n;
            break;
        }
        if (n == 0) {
            usleep(100);
            continue;
        }
        if (c.first != after + 1 || c.bad != 0)
            cc->bad++;
        cc->got += (uint64_t)n;
        after = c.last;
        if (spool_ack(cc->s, after) != 0)
            cc->bad++;
        cc->acks++;
    }
    return NULL;
}

TEST(concurrent_producer_consumer)
{
    const char *dir = mktemp_dir();
    /* Small segments and a small cap: rotation, deletion of the active
     * segment and the cap all happen while both threads run. */
    struct spool *s = open_spool(dir, 256 << 10, 16 << 10, SPOOL_FSYNC_NEVER, 0);
    struct conc cc = {.s = s};
    struct spool_stats st;
    pthread_t th;
    uint8_t buf[200];
    uint64_t appended = 0, full = 0;

    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_INT(pthread_create(&th, NULL, consumer, &cc), 0);
    while (appended < CONC_N) {
        uint64_t seq;
        int rc;
        make_rec(appended + 1, buf, 200);
        rc = spool_append(s, buf, 200, &seq);
        if (rc == KANSHI_ELIMIT) {
            full++;
            usleep(50);
            continue;
        }
        if (rc != 0 || seq != appended + 1) {
            CHECK_INT(rc, 0);
            break;
        }
        appended++;
    }
    pthread_join(th, NULL);
    CHECK_INT(cc.err, 0);
    CHECK_INT(cc.bad, 0);
    CHECK_INT(cc.got, CONC_N);
    spool_get_stats(s, &st);
    CHECK_INT(st.acked_seq, CONC_N);
    CHECK_INT(st.pending, 0);
    CHECK_INT(st.bytes, 0);
    CHECK_INT(st.dropped_full, full);
    CHECK_INT(count_segments(dir), 0);
    fprintf(stderr, "concurrent: %u alerts, %llu acks, spool full %llu times\n", CONC_N,
            (unsigned long long)cc.acks, (unsigned long long)full);
    spool_close(s);
    rm_dir(dir);
}

/* ---- speed ---------------------------------------------------------------------------------- */

static void speed(enum spool_fsync fs, const char *name)
{
    const char *dir = mktemp_dir();
    struct spool *s = open_spool(dir, 1ull << 30, 0, fs, 100);
    struct collect c = {.len = 600};
    uint8_t buf[600];
    double t0, t1, t2;
    uint64_t seq;
    int rc = 0;

    CHECK(s != NULL);
    if (s == NULL)
        return;
    make_rec(1, buf, sizeof(buf));
    t0 = now_s();
    for (uint32_t i = 0; i < 100000 && rc == 0; i++) {
        make_rec(i + 1, buf, sizeof(buf));
        rc = spool_append(s, buf, sizeof(buf), &seq);
        if ((i & 1023) == 0)
            spool_flush(s);
    }
    t1 = now_s();
    CHECK_INT(rc, 0);
    usleep(110 * 1000);
    spool_flush(s);
    for (uint64_t after = 0; after < 100000;) {
        c = (struct collect){.len = 600};
        int n = spool_read(s, after, 2000, 8 << 20, collect_fn, &c);
        if (n <= 0 || c.bad != 0) {
            CHECK(n > 0 && c.bad == 0);
            break;
        }
        after = c.last;
    }
    t2 = now_s();
    fprintf(stderr,
            "speed (fsync %s): 100000 appends of 600 bytes in %.3f s, read back in %.3f s\n", name,
            t1 - t0, t2 - t1 - 0.11);
    CHECK(t1 - t0 < SPEED_LIMIT);
    spool_close(s);
    rm_dir(dir);
}

TEST(speed_never)
{
    speed(SPOOL_FSYNC_NEVER, "never");
}

TEST(speed_batch)
{
    speed(SPOOL_FSYNC_BATCH, "batch");
}

int main(void)
{
    log_init("spool_test", LOG_LEVEL_ERROR);
    RUN(append_read_ack);
    RUN(restart_keeps_sequence);
    RUN(torn_tail_every_offset);
    RUN(torn_segment_creation);
    RUN(corrupt_crc);
    RUN(corrupt_older_segment);
    RUN(cap_and_dropped);
    RUN(segments_deleted_after_ack);
    RUN(fsync_policies);
    RUN(open_errors);
    RUN(advance_reset_spool);
    RUN(advance_confirms_or_renumbers);
    RUN(advance_while_appending);
    RUN(concurrent_producer_consumer);
    RUN(speed_never);
    RUN(speed_batch);
    return test_summary("spool");
}
