/*
 * worker.h — one packet-processing worker: decode → flow → detect.
 *
 * A worker owns everything that changes per packet — its flow table, its
 * decoder counters, its detection scratch — so several workers can run on
 * their own threads without locks, each fed whole flows (DESIGN.md §3).
 * The detection engine is shared, read-only; a rule reload gives the
 * worker another one between two packets (worker_set_engine()).
 *
 * kanshi-sensor runs workers over capture input; kanshi-sig runs one over a
 * pcap to test rules.  Neither repeats the pipeline.
 */
#ifndef KANSHI_WORKER_H
#define KANSHI_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "kanshi/app_layer.h"
#include "kanshi/decode.h"
#include "kanshi/defrag.h"
#include "kanshi/detect.h"
#include "kanshi/flow.h"
#include "kanshi/stream.h"

struct worker;
struct sensor_config;

/* What a worker is made with: every stage's settings. */
struct worker_config {
    struct flow_config flow;
    struct stream_config stream;
    struct defrag_config defrag;
    unsigned checksum;  /* enum config_checksum */
    uint32_t chunk[2];  /* per direction (FLOW_DIR_*): acknowledged bytes that make the
                           raw stream ready for inspection, as Suricata's chunk sizes */
    struct app_layer_config app; /* app-layer.* */
};

/* The worker settings of a sensor config (flow.*, stream.*, defrag.*,
 * capture.checksum-checks), for worker_create(). */
void worker_config_from(const struct sensor_config *cfg, struct worker_config *wc);

/* 0, -EINVAL (a setting stream_ctx_create or defrag_create refuses),
 * -ENOMEM, or a detect_thread_create() error. */
int worker_create(struct worker **out, const struct worker_config *wc,
                  const struct detect_engine *de);
void worker_destroy(struct worker *w);

/*
 * Switches w to another detection engine (a rule reload), between two
 * packets: the caller calls it from the thread that runs w, never from
 * inside fn.  dt is a detection thread made for de with
 * detect_thread_create(), which w takes over; NULL makes one here (Hyperscan
 * scratch: an allocation, so the reloading thread had better make it).  The
 * new detection thread exists before the old one is freed; on failure
 * (a detect_thread_create() error) w keeps its engine.
 *
 * Flows, streams and application-layer state carry on.  What detection
 * kept per flow under the old engine: flowbits and flowints read as unset
 * under the new ruleset (flowvars.h: they are tagged with the ruleset's
 * generation); a flow direction whose IP-only rules already ran does not
 * run them again (the new ruleset's IP-only rules apply to new flows), as
 * Suricata does; threshold counters start afresh.  The old engine (and its
 * ruleset) is no longer used by w once this returns, so the caller may free
 * it.
 */
int worker_set_engine(struct worker *w, const struct detect_engine *de, struct detect_thread *dt);

/* Runs one captured packet through the pipeline; fn is called for every
 * rule that matched (in ruleset order).  fn and arg are also used for the
 * inspection of what is left of a TCP stream when its flow ends (in a later
 * call, worker_idle or worker_flush). */
void worker_packet(struct worker *w, int linktype, const uint8_t *data, uint32_t caplen,
                   uint32_t wirelen, uint64_t ts_usec, detect_alert_fn fn, void *arg);

/* Housekeeping while input is quiet: ends timed-out flows. */
void worker_idle(struct worker *w);

/* End of input: ends every flow. */
void worker_flush(struct worker *w);

const struct decode_stats *worker_decode_stats(const struct worker *w);
const struct flow_stats *worker_flow_stats(const struct worker *w);
const struct defrag_stats *worker_defrag_stats(const struct worker *w);
const struct stream_stats *worker_stream_stats(const struct worker *w);
const struct app_layer_stats *worker_app_stats(const struct worker *w);
/* Whether TCP checksums are validated now (capture.checksum-checks: auto
 * turns it off after 1000 packets if more than 1 in 11 of them are bad,
 * i.e. checksum offloading on the capture host, as Suricata does). */
bool worker_checksum_validation(const struct worker *w);

#endif
