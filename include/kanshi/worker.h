/*
 * worker.h — one packet-processing worker: decode → flow → detect.
 *
 * A worker owns everything that changes per packet — its flow table, its
 * decoder counters, its detection scratch — so several workers can run on
 * their own threads without locks, each fed whole flows (DESIGN.md §3).
 * The detection engine is shared, read-only.
 *
 * kanshi-sensor runs workers over capture input; kanshi-sig runs one over a
 * pcap to test rules.  Neither repeats the pipeline.
 */
#ifndef KANSHI_WORKER_H
#define KANSHI_WORKER_H

#include <stdint.h>

#include "kanshi/decode.h"
#include "kanshi/detect.h"
#include "kanshi/flow.h"

struct worker;
struct sensor_config;

/* The flow table settings of a sensor config (flow.memcap, flow.hash-size,
 * flow.timeouts.*), for worker_create(). */
void worker_flow_config(const struct sensor_config *cfg, struct flow_config *fc);

/* 0, -ENOMEM, or a detect_thread_create() error. */
int worker_create(struct worker **out, const struct flow_config *fc,
                  const struct detect_engine *de);
void worker_destroy(struct worker *w);

/* Runs one captured packet through the pipeline; fn is called for every
 * rule that matched (in ruleset order). */
void worker_packet(struct worker *w, int linktype, const uint8_t *data, uint32_t caplen,
                   uint32_t wirelen, uint64_t ts_usec, detect_alert_fn fn, void *arg);

/* Housekeeping while input is quiet: ends timed-out flows. */
void worker_idle(struct worker *w);

/* End of input: ends every flow. */
void worker_flush(struct worker *w);

const struct decode_stats *worker_decode_stats(const struct worker *w);
const struct flow_stats *worker_flow_stats(const struct worker *w);
struct defrag_stats;
const struct defrag_stats *worker_defrag_stats(const struct worker *w);

#endif
