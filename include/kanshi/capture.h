/*
 * capture.h — packet sources: pcap/pcapng files and live interfaces (libpcap).
 *
 * A capture is opened completely (files opened, interface activated, BPF
 * filter compiled) before the sensor drops privileges; reading needs none.
 * Files are read one after another in the order given; each keeps its own
 * link type, which capture_next() reports with every packet.
 *
 * Live capture on Linux goes through libpcap's TPACKET_V3 ring.  The read
 * timeout is short so the caller's loop can notice signals and run
 * housekeeping (flow timeouts) while the link is quiet.
 */
#ifndef KANSHI_CAPTURE_H
#define KANSHI_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

struct capture;

struct capture_pkt {
    const uint8_t *data;
    uint32_t caplen, wirelen;
    uint64_t ts_usec;
    int linktype;
};

struct capture_stats {
    uint64_t packets, bytes; /* delivered to the sensor */
    uint64_t kernel_drops;   /* live: ps_drop */
    uint64_t if_drops;       /* live: ps_ifdrop */
    uint64_t file_errors;    /* files that could not be read to the end */
};

/* Opens every file up front (a missing or unreadable file is an error
 * naming it).  bpf may be NULL.  0 or KANSHI_EPCAP with "FILE: reason" in
 * err. */
int capture_open_files(struct capture **out, char *const *files, size_t nfiles, const char *bpf,
                       char *err, size_t errlen);

/* Opens and activates a live interface. */
int capture_open_live(struct capture **out, const char *iface, uint32_t snaplen, int promisc,
                      uint32_t buffer_size, const char *bpf, char *err, size_t errlen);

/*
 * Reads the next packet.  Returns 1 with *pkt filled (valid until the next
 * call), 0 on a live read timeout (nothing arrived: call again), -ENOENT at
 * the end of all input.  A file that turns out corrupt mid-way is reported
 * through log_warnx() with its name and packet number, counted in
 * file_errors, and reading goes on with the next file.
 */
int capture_next(struct capture *c, struct capture_pkt *pkt);

/* Asks a blocking capture_next() to return; safe from a signal handler. */
void capture_break(struct capture *c);

void capture_get_stats(struct capture *c, struct capture_stats *st);
void capture_close(struct capture *c);

#endif
