/*
 * worker.c — the per-packet pipeline of one worker (see worker.h).
 *
 * Flow timeouts run every 1024 packets: often enough to keep the table
 * small under load, rarely enough to cost nothing per packet.
 */
#include <errno.h>
#include <stdlib.h>

#include "kanshi/worker.h"

struct worker {
    struct flow_table *ft;
    struct detect_thread *dt;
    const struct detect_engine *de;
    struct decode_stats dstats;
    uint64_t npackets;
};

int worker_create(struct worker **out, const struct flow_config *fc,
                  const struct detect_engine *de)
{
    struct worker *w = calloc(1, sizeof(*w));
    int rc;

    if (w == NULL)
        return -ENOMEM;
    w->de = de;
    if ((rc = flow_table_create(&w->ft, fc, NULL, NULL)) != 0 ||
        (rc = detect_thread_create(&w->dt, de)) != 0) {
        worker_destroy(w);
        return rc;
    }
    *out = w;
    return 0;
}

void worker_destroy(struct worker *w)
{
    if (w == NULL)
        return;
    detect_thread_destroy(w->dt);
    flow_table_destroy(w->ft);
    free(w);
}

void worker_packet(struct worker *w, int linktype, const uint8_t *data, uint32_t caplen,
                   uint32_t wirelen, uint64_t ts_usec, detect_alert_fn fn, void *arg)
{
    struct packet p;

    if (decode_packet(&p, linktype, data, caplen, wirelen, ts_usec, &w->dstats) == 0) {
        /* As Suricata: a packet whose L4 header is broken gets no flow (it
         * would make a bogus port-0 flow), but IP-level rules still see it. */
        if (!(p.flags & PKT_INVALID))
            flow_lookup(w->ft, &p);
        detect_packet(w->dt, w->de, &p, fn, arg);
    }
    if ((++w->npackets & 1023) == 0)
        flow_timeout(w->ft);
}

void worker_idle(struct worker *w)
{
    flow_timeout(w->ft);
}

void worker_flush(struct worker *w)
{
    flow_flush(w->ft);
}

const struct decode_stats *worker_decode_stats(const struct worker *w)
{
    return &w->dstats;
}

const struct flow_stats *worker_flow_stats(const struct worker *w)
{
    return flow_table_stats(w->ft);
}
