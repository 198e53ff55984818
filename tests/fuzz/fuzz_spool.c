/*
 * fuzz_spool.c — libFuzzer target for the spool's recovery (sensor/spool.c):
 * whatever a crash, a full disk or bit rot left in the spool directory,
 * spool_open() must not crash, and what it then hands out must be sane.
 *
 * The first byte holds flags: bit 0, the next 12 bytes are the "acked" file
 * (20 with bit 2: the form that carries a shift); bit 1, the rest is two
 * segments, the first as long as the next two bytes say (so a damaged
 * segment need not be the last one); bit 3, the last 8 bytes of the input are
 * a collector's number the spool is then squared with (spool_advance).
 * The files go into a private directory, which is emptied after every input.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kanshi/kanshi.h"
#include "kanshi/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[64];

static void fuzz_write(const char *name, const uint8_t *p, size_t n)
{
    char path[128];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", fuzz_dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (n > 0 && write(fd, p, n) != (ssize_t)n))
        abort();
    close(fd);
}

static void fuzz_clean(void)
{
    DIR *d = opendir(fuzz_dir);
    struct dirent *de;
    char path[512];

    if (d == NULL)
        abort();
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", fuzz_dir, de->d_name);
        unlink(path);
    }
    closedir(d);
}

static void fuzz_atexit(void)
{
    fuzz_clean();
    rmdir(fuzz_dir);
}

struct fuzz_read {
    uint64_t last, n;
};

static int fuzz_record(void *arg, uint64_t seq, const uint8_t *data, uint32_t len)
{
    struct fuzz_read *r = arg;

    /* In order, never twice, never empty or oversized. */
    if (seq <= r->last || len < 1 || len > SPOOL_MAX_RECORD || data == NULL)
        abort();
    r->last = seq;
    r->n++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct spool_config cfg = {.fsync = SPOOL_FSYNC_NEVER, .segment_bytes = 1 << 20};
    struct spool *s = NULL;
    struct spool_stats st;
    struct fuzz_read r = {0};
    char err[512];
    uint8_t flags;
    uint64_t seq, collector = 0;
    size_t acklen;
    int n;

    if (fuzz_dir[0] == '\0') {
        /* tmpfs when there is one: the spool fsyncs its ack file. */
        snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/kanshi-fuzz-spool-XXXXXX",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (mkdtemp(fuzz_dir) == NULL)
            abort();
        atexit(fuzz_atexit);
        log_init("fuzz_spool", LOG_LEVEL_ERROR);
    }
    if (size < 1)
        return 0;
    flags = data[0];
    data++;
    size--;
    if ((flags & 8) && size >= 8) {
        for (size_t i = size - 8; i < size; i++)
            collector = collector << 8 | data[i];
        size -= 8;
    }
    acklen = (flags & 4) ? 20 : 12;
    if ((flags & 1) && size >= acklen) {
        fuzz_write("acked", data, acklen);
        data += acklen;
        size -= acklen;
    }
    if ((flags & 2) && size >= 2) {
        size_t split = (size_t)data[0] << 8 | data[1];
        data += 2;
        size -= 2;
        if (split > size)
            split = size;
        fuzz_write("seg-00000000000000000001.ks", data, split);
        fuzz_write("seg-00000000000000001000.ks", data + split, size - split);
    } else {
        fuzz_write("seg-00000000000000000001.ks", data, size);
    }

    cfg.dir = fuzz_dir;
    if (spool_open(&s, &cfg, err, sizeof(err)) == 0) {
        spool_get_stats(s, &st);
        if (st.next_seq <= st.acked_seq)
            abort();
        if (flags & 8) {
            /* A collector's answer: afterwards everything pending follows it. */
            uint64_t pending = st.pending;
            n = spool_advance(s, collector);
            spool_get_stats(s, &st);
            if (n < 0 && n != -EOVERFLOW)
                abort();
            if (n == 1 && (st.acked_seq != collector || st.pending != pending ||
                           st.next_seq <= st.acked_seq || !st.confirmed))
                abort();
            r.last = st.acked_seq;
        }
        n = spool_read(s, 0, SIZE_MAX, SIZE_MAX, fuzz_record, &r);
        if (n >= 0 && ((uint64_t)n != r.n || (r.n > 0 && r.last >= st.next_seq)))
            abort();
        /* What recovery left must take appends and acks. */
        if (spool_append(s, (const uint8_t *)"{}", 2, &seq) == 0) {
            if (seq != st.next_seq)
                abort();
            spool_ack(s, seq);
            spool_get_stats(s, &st);
            if (st.pending != 0)
                abort();
        }
        spool_close(s);
    }
    fuzz_clean();
    return 0;
}
