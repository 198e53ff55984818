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
 *   4       8     sequence number, as the spool numbered the record
 *   12      4     CRC-32 (IEEE) of the sequence field and the data
 *   16      L     the alert (EVE JSON, no newline)
 * The "acked" file:
 *   0       8     the highest sequence the collector acknowledged
 *   8       8     shift, present only when not 0 (then the file is 20 bytes)
 *   8 or 16 4     CRC-32 of the bytes before it
 * Segment names and record headers keep the numbers the spool gave; the
 * sequence an alert has everywhere else — this API, the wire, the collector
 * — is that number plus the shift (modulo 2^64).  The shift is 0 unless
 * spool_advance() renumbered, which is one atomic rewrite of "acked", never
 * of a segment.
 *
 * "acked" also means the collector has confirmed the numbering: a spool
 * without one (new, or its "acked" lost or corrupt) is unconfirmed, and the
 * first answer of the collector to HELLO decides its numbers (see
 * spool_advance()).
 *
 * Recovery (spool_open): segments are scanned in order; a torn or corrupt
 * tail of the last segment (a crash mid-write) is cut off and counted; a
 * corrupt record elsewhere ends that segment's readable part and is reported
 * with the file and offset.  The next sequence is one past the highest seen
 * (or past "acked" when the spool is empty).  A corrupt "acked" is reported,
 * its records are kept as unacknowledged and the numbering is unconfirmed.
 *
 * Threads: one producer (the packet path) calls spool_append(); one consumer
 * (the uplink thread) calls spool_read(), spool_ack() and spool_advance().
 * They may run at the same time; the spool locks internally and never holds
 * its lock across disk waits of the other side.
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
    int confirmed; /* 1 once the collector confirmed the numbering ("acked" exists) */
};

struct spool;

/* Opens (and recovers) the spool.  0, or -errno / KANSHI_EPARSE with
 * "DIR/FILE: reason" in err. */
int spool_open(struct spool **out, const struct spool_config *cfg, char *err, size_t errlen);
void spool_close(struct spool *s);

/* Appends one alert and gives it the next sequence number (*seq; until a
 * spool_advance() renumbers it, as every unacknowledged alert).  Returns
 * 0, KANSHI_ELIMIT when the spool is full (counted in dropped_full; the
 * caller logs, rate-limited), -EINVAL for an empty or oversized record, or
 * -errno on a write error. */
int spool_append(struct spool *s, const uint8_t *data, uint32_t len, uint64_t *seq);

/* Applies the fsync policy now (call it from the packet loop's idle
 * moments and at shutdown).  0 or -errno. */
int spool_flush(struct spool *s);

/* Calls fn for unacknowledged records with sequence > after, in order, until max_records
 * or max_bytes (of data) are reached or fn returns non-zero.  Returns the
 * number of records passed to fn, or -errno. */
typedef int (*spool_record_fn)(void *arg, uint64_t seq, const uint8_t *data, uint32_t len);
int spool_read(struct spool *s, uint64_t after, size_t max_records, size_t max_bytes,
               spool_record_fn fn, void *arg);

/* Records that everything up to seq is stored at the collector: persists
 * it and deletes segments that hold nothing newer.  Acks for sequences not
 * yet written or older than the current ack are ignored.  0 or -errno. */
int spool_ack(struct spool *s, uint64_t seq);

/*
 * Squares the spool's numbering with the collector's.  seq is the highest
 * sequence the collector holds for this sensor's key (any ACK; above all the
 * one answering HELLO).  The spool renumbers when seq cannot be about its own
 * alerts:
 *  - seq is above every number the spool has given out: the collector holds
 *    alerts of an earlier life of this sensor (a new or wiped disk, a restored
 *    backup, a power cut that took alerts sent under fsync "never"); or
 *  - the numbering is unconfirmed (no "acked") and seq is not the spool's ack.
 * Renumbering gives the unacknowledged alerts seq+1, seq+2, ... in order,
 * numbers later alerts after them and records seq as acknowledged, in one
 * atomic write of "acked".  Otherwise the call only confirms the numbering
 * (writing "acked" when it is missing).
 *
 * Without this, a reset sensor's new alerts would carry numbers the collector
 * already holds: it would acknowledge them as duplicates, and both sides
 * would drop them without a word.  The price: an unacknowledged alert that
 * had reached the collector under its old number is stored twice.  The
 * uplink makes that impossible for an unconfirmed spool by sending no alert
 * before the collector has answered its HELLO.
 *
 * Returns 1 when it renumbered, 0 when the numbering stands, -EOVERFLOW when
 * the new numbers would pass 2^64, or -errno from writing "acked" (nothing
 * changed).  Consumer thread only.
 */
int spool_advance(struct spool *s, uint64_t seq);

void spool_get_stats(struct spool *s, struct spool_stats *st);

#endif
