/*
 * capture.c — libpcap packet sources (see include/kanshi/capture.h).
 *
 * Files: all are opened by capture_open_files() so that a wrong path fails
 * at start-up, before any packet is processed and before privileges are
 * dropped.  libpcap reads pcap and pcapng alike; timestamps are requested
 * in microseconds whatever the file's precision.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kanshi/capture.h"
#include "kanshi/kanshi.h"

struct capture_src {
    pcap_t *pcap;
    char *name;
    uint64_t pkts;
};

struct capture {
    struct capture_src *srcs;
    size_t nsrcs, cur;
    int live;
    struct capture_stats st;
};

static int capture_set_filter(pcap_t *p, const char *name, const char *bpf, char *err,
                              size_t errlen)
{
    struct bpf_program prog;

    if (bpf == NULL || *bpf == '\0')
        return 0;
    if (pcap_compile(p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errlen, "%s: BPF filter '%s': %s", name, bpf, pcap_geterr(p));
        return KANSHI_EPCAP;
    }
    if (pcap_setfilter(p, &prog) != 0) {
        snprintf(err, errlen, "%s: BPF filter: %s", name, pcap_geterr(p));
        pcap_freecode(&prog);
        return KANSHI_EPCAP;
    }
    pcap_freecode(&prog);
    return 0;
}

int capture_open_files(struct capture **out, char *const *files, size_t nfiles, const char *bpf,
                       char *err, size_t errlen)
{
    struct capture *c = calloc(1, sizeof(*c));
    int rc;

    if (c == NULL)
        return -ENOMEM;
    c->srcs = kanshi_calloc(nfiles ? nfiles : 1, sizeof(*c->srcs));
    if (c->srcs == NULL) {
        free(c);
        return -ENOMEM;
    }
    for (size_t i = 0; i < nfiles; i++) {
        char ebuf[PCAP_ERRBUF_SIZE] = "";
        pcap_t *p = pcap_open_offline_with_tstamp_precision(files[i], PCAP_TSTAMP_PRECISION_MICRO,
                                                            ebuf);
        if (p == NULL) {
            snprintf(err, errlen, "%s: %s", files[i], ebuf);
            capture_close(c);
            return KANSHI_EPCAP;
        }
        c->srcs[c->nsrcs].pcap = p;
        c->srcs[c->nsrcs].name = strdup(files[i]);
        c->nsrcs++;
        if ((rc = capture_set_filter(p, files[i], bpf, err, errlen)) != 0) {
            capture_close(c);
            return rc;
        }
    }
    *out = c;
    return 0;
}

int capture_open_live(struct capture **out, const char *iface, uint32_t snaplen, int promisc,
                      uint32_t buffer_size, const char *bpf, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    struct capture *c;
    pcap_t *p;
    int rc;

    p = pcap_create(iface, ebuf);
    if (p == NULL) {
        snprintf(err, errlen, "%s: %s", iface, ebuf);
        return KANSHI_EPCAP;
    }
    pcap_set_snaplen(p, (int)snaplen);
    pcap_set_promisc(p, promisc);
    pcap_set_timeout(p, 100);
    pcap_set_buffer_size(p, (int)buffer_size);
    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_MICRO);
    rc = pcap_activate(p);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", iface,
                 rc == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(rc));
        pcap_close(p);
        return KANSHI_EPCAP;
    }
    if (rc > 0)
        log_warnx("%s: %s", iface, pcap_statustostr(rc));
    if ((rc = capture_set_filter(p, iface, bpf, err, errlen)) != 0) {
        pcap_close(p);
        return rc;
    }
    /* Non-blocking, waited on with our own poll(): libpcap's blocking read
     * retries on timeouts and on EINTR, so a quiet link or a signal would
     * never hand control back to the packet loop. */
    if (pcap_setnonblock(p, 1, ebuf) != 0 || pcap_get_selectable_fd(p) < 0) {
        snprintf(err, errlen, "%s: cannot poll the capture: %s", iface, ebuf);
        pcap_close(p);
        return KANSHI_EPCAP;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL || (c->srcs = calloc(1, sizeof(*c->srcs))) == NULL) {
        free(c);
        pcap_close(p);
        return -ENOMEM;
    }
    c->srcs[0].pcap = p;
    c->srcs[0].name = strdup(iface);
    c->nsrcs = 1;
    c->live = 1;
    *out = c;
    return 0;
}

int capture_next(struct capture *c, struct capture_pkt *pkt)
{
    while (c->cur < c->nsrcs) {
        struct capture_src *s = &c->srcs[c->cur];
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(s->pcap, &h, &data);

        if (rc == 1) {
            s->pkts++;
            c->st.packets++;
            c->st.bytes += h->len;
            pkt->data = data;
            pkt->caplen = h->caplen;
            pkt->wirelen = h->len;
            pkt->ts_usec = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
            pkt->linktype = pcap_datalink(s->pcap);
            return 1;
        }
        if (rc == 0) {
            /* Live and nothing ready: wait up to 100 ms (TPACKET_V3 hands
             * over a block at the latest after its 100 ms timeout).  A
             * signal ends the wait early, which is the point. */
            struct pollfd pfd = {.fd = pcap_get_selectable_fd(s->pcap), .events = POLLIN};
            poll(&pfd, 1, 100);
            return 0;
        }
        if (rc == PCAP_ERROR) {
            log_warnx("%s: after packet %llu: %s; going on with the next input", s->name,
                      (unsigned long long)s->pkts, pcap_geterr(s->pcap));
            c->st.file_errors++;
        }
        if (rc == PCAP_ERROR_BREAK && c->live)
            return -ENOENT;
        c->cur++;
    }
    return -ENOENT;
}

void capture_break(struct capture *c)
{
    if (c != NULL && c->cur < c->nsrcs)
        pcap_breakloop(c->srcs[c->cur].pcap);
}

void capture_get_stats(struct capture *c, struct capture_stats *st)
{
    *st = c->st;
    if (c->live && c->nsrcs > 0) {
        struct pcap_stat ps;
        if (pcap_stats(c->srcs[0].pcap, &ps) == 0) {
            st->kernel_drops = ps.ps_drop;
            st->if_drops = ps.ps_ifdrop;
        }
    }
}

void capture_close(struct capture *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nsrcs; i++) {
        pcap_close(c->srcs[i].pcap);
        free(c->srcs[i].name);
    }
    free(c->srcs);
    free(c);
}
