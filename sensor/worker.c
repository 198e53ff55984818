/*
 * worker.c — the per-packet pipeline of one worker (see worker.h).
 *
 * Flow timeouts run every 1024 packets: often enough to keep the table
 * small under load, rarely enough to cost nothing per packet.
 */
#include <errno.h>
#include <pcap/dlt.h>
#include <stdlib.h>

#include "kanshi/config.h"
#include "kanshi/defrag.h"
#include "kanshi/flowvars.h"
#include "kanshi/worker.h"

struct worker {
    struct flow_table *ft;
    struct defrag *defrag;
    struct detect_thread *dt;
    const struct detect_engine *de;
    struct decode_stats dstats;
    struct decode_stats reassembled; /* decoding of rebuilt datagrams */
    uint64_t npackets;
};

void worker_flow_config(const struct sensor_config *cfg, struct flow_config *fc)
{
    *fc = (struct flow_config){
        .memcap = cfg->flow_memcap,
        .hash_size = cfg->flow_hash_size,
        .timeout_new = cfg->flow_timeout_new,
        .timeout_est = cfg->flow_timeout_est,
        .timeout_closed = cfg->flow_timeout_closed,
        .timeout_udp_est = cfg->flow_timeout_udp_est,
        .timeout_icmp_est = cfg->flow_timeout_icmp_est,
    };
}

/* A flow leaves the table: release what other stages hung on it. */
static void worker_flow_end(void *arg, struct flow *f)
{
    (void)arg;
    flowvars_free(f);
}

int worker_create(struct worker **out, const struct flow_config *fc,
                  const struct detect_engine *de)
{
    struct worker *w = calloc(1, sizeof(*w));
    int rc;

    if (w == NULL)
        return -ENOMEM;
    w->de = de;
    struct defrag_config dc;

    defrag_config_default(&dc);
    if ((rc = flow_table_create(&w->ft, fc, worker_flow_end, w)) != 0 ||
        (rc = defrag_create(&w->defrag, &dc)) != 0 ||
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
    if (w->ft != NULL)
        flow_flush(w->ft); /* flows still held get their end callback */
    detect_thread_destroy(w->dt);
    defrag_destroy(w->defrag);
    flow_table_destroy(w->ft);
    free(w);
}

/* Flow and detection for one decoded packet. */
static void worker_inspect(struct worker *w, struct packet *p, detect_alert_fn fn, void *arg)
{
    /* As Suricata: a packet whose L4 header is broken gets no flow (it
     * would make a bogus port-0 flow), but IP-level rules still see it. */
    if (!(p->flags & (PKT_INVALID | PKT_FRAGMENT)))
        flow_lookup(w->ft, p);
    detect_packet(w->dt, w->de, p, fn, arg);
}

void worker_packet(struct worker *w, int linktype, const uint8_t *data, uint32_t caplen,
                   uint32_t wirelen, uint64_t ts_usec, detect_alert_fn fn, void *arg)
{
    struct packet p;

    if (decode_packet(&p, linktype, data, caplen, wirelen, ts_usec, &w->dstats) == 0) {
        worker_inspect(w, &p, fn, arg);
        /* A fragment is inspected as itself (IP-level rules), and the
         * datagram it completes is decoded and inspected as its own packet,
         * with flows, ports and payload. */
        if (p.flags & PKT_FRAGMENT) {
            struct defrag_result res;
            if (defrag_process(w->defrag, &p, &res) == 1) {
                struct packet rp;
                if (decode_packet(&rp, DLT_RAW, res.data, res.len, res.len, ts_usec,
                                  &w->reassembled) == 0) {
                    rp.vlan_id[0] = p.vlan_id[0];
                    rp.vlan_id[1] = p.vlan_id[1];
                    rp.vlan_count = p.vlan_count;
                    worker_inspect(w, &rp, fn, arg);
                }
            }
        }
    }
    if ((++w->npackets & 1023) == 0) {
        flow_timeout(w->ft);
        defrag_timeout(w->defrag, ts_usec);
    }
}

void worker_idle(struct worker *w)
{
    flow_timeout(w->ft);
    defrag_timeout(w->defrag, 0);
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

const struct defrag_stats *worker_defrag_stats(const struct worker *w)
{
    return defrag_stats(w->defrag);
}
