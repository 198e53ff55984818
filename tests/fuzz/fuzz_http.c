/*
 * fuzz_http.c — fuzz target of the HTTP/1.x parser (sensor/app_http.c).
 *
 * Input framing:
 *   byte 0     configuration: bits 0-1 header_limit (64 KiB, 256, 64, 24),
 *              bit 2 small body limits (16/32), bit 3 small decompress limit
 *              (100), bit 4 max_tx 2, bit 5 compare with a second state fed
 *              one byte per call
 *   records    one control byte, then data for data records:
 *                bit 0       direction (0 to server, 1 to client)
 *                bits 1-2    0: data, (bits 3-7) + 1 bytes follow
 *                            1: data, ((bits 3-7) + 1) * 32 bytes follow
 *                            2: a gap of (bits 3-7) + 1 bytes
 *                            3: bits 3-7 = 0 end of the direction, 1 mark
 *                               every tx done and gc, else mark bodies
 *              (data records are cut at the end of the input)
 * After every record all buffers of all transactions are read byte by byte
 * (so ASan sees any stale pointer) and the limits are checked: kept bodies
 * within their limits, transactions within max_tx, ids increasing.  With bit
 * 5 the byte-by-byte state must expose exactly what the first one does
 * (unless a decompressor failed or hit its limit: where those stop may
 * depend on how the compressed bytes were split).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kanshi/app.h"
#include "kanshi/app_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

/* Reads every buffer; checks the limits.  Returns a hash of what it saw. */
static uint64_t walk(struct http_state *s, const struct http_config *c)
{
    uint64_t h = 1469598103934665603ull, prev_id = 0;
    size_t n = http_tx_count(s);

    if (n > c->max_tx)
        __builtin_trap();
    for (size_t i = 0; i < n; i++) {
        struct http_tx *tx = http_tx_at(s, i);
        if (tx == NULL || (i > 0 && http_tx_id(tx) <= prev_id))
            __builtin_trap();
        prev_id = http_tx_id(tx);
        h = (h ^ prev_id) * 1099511628211ull;
        h = (h ^ (uint64_t)http_tx_status(tx)) * 1099511628211ull;
        for (int dir = 0; dir < 2; dir++) {
            h = (h ^ (uint64_t)http_tx_progress(tx, dir)) * 1099511628211ull;
            h = (h ^ (uint64_t)http_tx_content_length(tx, dir)) * 1099511628211ull;
            h = (h ^ http_tx_body_bytes(tx, dir)) * 1099511628211ull;
            h = (h ^ (uint64_t)http_tx_body_changed(tx, dir)) * 1099511628211ull;
            for (int id = RULE_BUF_PAYLOAD; id < RULE_BUF_COUNT; id++) {
                const uint8_t *d;
                size_t len;
                if (!http_tx_buffer_dir(tx, (enum rule_buffer)id, dir, &d, &len))
                    continue;
                h = (h ^ (uint64_t)(id * 2 + dir + 1)) * 1099511628211ull;
                h = (h ^ len) * 1099511628211ull;
                for (size_t k = 0; k < len; k++)
                    h = (h ^ d[k]) * 1099511628211ull;
                if (id == RULE_BUF_HTTP_REQUEST_BODY && len > c->request_body_limit)
                    __builtin_trap();
                if (id == RULE_BUF_HTTP_RESPONSE_BODY && len > c->response_body_limit)
                    __builtin_trap();
                if (id < RULE_BUF_HTTP_METHOD || id > RULE_BUF_HTTP_RESPONSE_BODY)
                    __builtin_trap();
            }
        }
        sink = (uint8_t)h;
    }
    for (int e = 0; e < HTTP_EV_COUNT; e++)
        h = (h ^ http_state_events(s)[e]) * 1099511628211ull;
    return h;
}

static bool zevents(const struct http_state *s)
{
    return http_state_events(s)[HTTP_EV_DECOMPRESS_FAIL] != 0 ||
           http_state_events(s)[HTTP_EV_DECOMPRESS_LIMIT] != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t hlim[4] = {64 * 1024, 256, 64, 24};
    struct http_config cfg;
    struct http_state *s = NULL, *b = NULL;
    bool diff;
    size_t i = 1;

    if (size < 1 || size > 65536)
        return 0;
    http_config_default(&cfg);
    cfg.header_limit = hlim[data[0] & 3];
    if (data[0] & 4) {
        cfg.request_body_limit = 16;
        cfg.response_body_limit = 32;
    }
    if (data[0] & 8)
        cfg.decompress_limit = 100;
    if (data[0] & 16)
        cfg.max_tx = 2;
    diff = (data[0] & 32) != 0;
    if (http_state_create(&s, &cfg) != 0)
        return 0;
    if (diff && http_state_create(&b, &cfg) != 0) {
        http_state_destroy(s);
        return 0;
    }

    while (i < size) {
        uint8_t ctl = data[i++];
        int dir = ctl & 1, op = (ctl >> 1) & 3;
        size_t arg = (size_t)(ctl >> 3) + 1, n;

        switch (op) {
        case 0:
        case 1:
            n = op == 0 ? arg : arg * 32;
            if (n > size - i)
                n = size - i;
            http_parse(s, dir, data + i, n);
            for (size_t k = 0; b != NULL && k < n; k++)
                http_parse(b, dir, data + i + k, 1);
            i += n;
            break;
        case 2:
            http_gap(s, dir, arg);
            if (b != NULL)
                http_gap(b, dir, arg);
            break;
        default:
            for (int k = 0; k < 2; k++) {
                struct http_state *t = k == 0 ? s : b;
                if (t == NULL)
                    continue;
                if (arg == 1) {
                    http_eof(t, dir);
                } else {
                    for (size_t j = 0; j < http_tx_count(t); j++) {
                        if (arg == 2)
                            http_tx_done(http_tx_at(t, j));
                        else
                            http_tx_body_mark(http_tx_at(t, j), dir);
                    }
                    if (arg == 2)
                        http_state_gc(t);
                }
            }
            break;
        }
        if (walk(s, &cfg) != (b != NULL ? walk(b, &cfg) : walk(s, &cfg)) && !zevents(s) &&
            !zevents(b))
            __builtin_trap();
    }
    for (size_t j = 0; j < http_tx_count(s); j++)
        http_tx_done(http_tx_at(s, j));
    http_eof(s, 0);
    http_eof(s, 1);
    http_state_gc(s);
    if (http_tx_count(s) != 0)
        __builtin_trap();
    http_state_destroy(s);
    http_state_destroy(b);
    return 0;
}
