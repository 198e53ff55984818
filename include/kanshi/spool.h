/*
 * spool.h — the sensor's durable, append-only alert queue.
 *
 * Every alert is numbered with a 64-bit sequence (1, 2, 3, ...) that
 * survives restarts and is written to the spool before anything tries to
 * send it.  The uplink reads from the spool and deletes only what the
 * collector acknowledged.  A sensor killed at any moment loses nothing it
 * had numbered; one that loses power loses at most what the fsync policy
 * allows.
 *
 * On disk, in the spool directory:
 *   seg-<first seq, 20 digits>.ks   segments, written in sequence order
 *   acked                           the acknowledged sequence (atomic rename)
 *
 * A segment starts with the 8 bytes "KSSPOOL1" and holds records:
 *   offset  size  field (big-endian)
 *   0       4     data length L (1 ≤ L ≤ SPOOL_MAX_RECORD)
 *   4       8     sequence number
 *   12      4     CRC-32 (IEEE) of the sequence field and the data
 *   16      L     the alert (EVE JSON, no newline)
 * The "acked" file is 8 bytes of sequence followed by their CRC-32.
 *
 * Recovery (spool_open): segments are scanned in order; a torn or corrupt
 * tail of the last segment (a crash mid-write) is cut off and counted; a
 * corrupt record elsewhere ends that segment's readable part and is reported
 * with the file and offset.  The next sequence is one past the highest seen
 * (or past "acked" when the spool is empty).
 *
 * Threads: one producer (the packet path) calls spool_append(); one consumer
 * (the uplink thread) calls spool_read() and spool_ack().  They may run at
 * the same time; the spool locks internally and never holds its lock
 * across disk waits of the other side.
 */
#ifndef KANSHI_SPOOL_H
#define KANSHI_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_MAX_RECORD (256u << 10)

enum spool_fsync {
    SPOOL_FSYNC_NEVER,  /* leave it to the kernel: survives a process crash only */
    SPOOL_FSYNC_BATCH,  /* fsync at most every interval_ms, from spool_flush() */
    SPOOL_FSYNC_ALWAYS, /* fsync after every append */
};

struct spool_config {
    const char *dir;          /* created (0700) when missing */
    uint64_t max_bytes;       /* cap on unacknowledged data on disk */
    uint64_t segment_bytes;   /* segment size before a new one starts (default 16 MiB) */
    enum spool_fsync fsync;
    uint32_t fsync_interval_ms;
};

struct spool_stats {
    uint64_t next_seq;     /* number the next alert will get */
    uint64_t acked_seq;    /* highest acknowledged */
    uint64_t bytes;        /* on disk, unacknowledged */
    uint64_t pending;      /* alerts not yet acknowledged */
    uint64_t dropped_full; /* alerts refused because the spool was full */
    uint64_t recovered_truncated; /* torn bytes cut off at open */
    uint64_t segments;
};

struct spool;

/* Opens (and recovers) the spool.  0, or -errno / KANSHI_EPARSE with
 * "DIR/FILE: reason" in err. */
int spool_open(struct spool **out, const struct spool_config *cfg, char *err, size_t errlen);
void spool_close(struct spool *s);

/* Appends one alert and gives it the next sequence number (*seq).  Returns
 * 0, KANSHI_ELIMIT when the spool is full (counted in dropped_full; the
 * caller logs, rate-limited), -EINVAL for an empty or oversized record, or
 * -errno on a write error. */
int spool_append(struct spool *s, const uint8_t *data, uint32_t len, uint64_t *seq);

/* Applies the fsync policy now (call it from the packet loop's idle
 * moments and at shutdown).  0 or -errno. */
int spool_flush(struct spool *s);

/* Calls fn for records with sequence > after, in order, until max_records
 * or max_bytes (of data) are reached or fn returns non-zero.  Returns the
 * number of records passed to fn, or -errno. */
typedef int (*spool_record_fn)(void *arg, uint64_t seq, const uint8_t *data, uint32_t len);
int spool_read(struct spool *s, uint64_t after, size_t max_records, size_t max_bytes,
               spool_record_fn fn, void *arg);

/* Records that everything up to seq is stored at the collector: persists
 * it and deletes segments that hold nothing newer.  Acks for sequences not
 * yet written or older than the current ack are ignored.  0 or -errno. */
int spool_ack(struct spool *s, uint64_t seq);

void spool_get_stats(struct spool *s, struct spool_stats *st);

#endif
