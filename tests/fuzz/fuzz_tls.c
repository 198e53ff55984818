/*
 * fuzz_tls.c — fuzz target of the TLS handshake parser (sensor/app_tls.c).
 *
 * Input framing: a sequence of segments, each one header byte then data:
 *   bit 0      direction (APP_DIR_TOSERVER 0, APP_DIR_TOCLIENT 1)
 *   bits 1-7   data length 0..126 (fewer at the end of input); 127 means a
 *              gap in that direction (tls_gap(), no data follows)
 * Each segment is fed with tls_parse(); afterwards every buffer is read and
 * checked for the shapes the contract promises (hashes in lower-case hex,
 * fingerprint colon-separated, serial upper-case), and a direction that
 * gave up must keep answering KANSHI_EPARSE.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kanshi/app.h"
#include "kanshi/app_tls.h"
#include "kanshi/kanshi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_hex(const uint8_t *p, size_t n, size_t want, const char *digits, char sep)
{
    if (n != want)
        __builtin_trap();
    for (size_t i = 0; i < n; i++) {
        if (sep != 0 && i % 3 == 2) {
            if (p[i] != (uint8_t)sep)
                __builtin_trap();
        } else if (p[i] == 0 || strchr(digits, p[i]) == NULL) {
            __builtin_trap();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum rule_buffer ids[] = {
        RULE_BUF_TLS_SNI,         RULE_BUF_TLS_CERT_SUBJECT,     RULE_BUF_TLS_CERT_ISSUER,
        RULE_BUF_TLS_CERT_SERIAL, RULE_BUF_TLS_CERT_FINGERPRINT, RULE_BUF_TLS_JA3_HASH,
        RULE_BUF_TLS_JA3_STRING,  RULE_BUF_TLS_JA3S_HASH,        RULE_BUF_TLS_JA3S_STRING,
        RULE_BUF_PAYLOAD,
    };
    struct tls_state *s;
    bool failed[2] = {false, false};
    size_t i = 0;
    volatile uint8_t sink = 0;
    const uint8_t *d;
    size_t n;
    int64_t nb, na;

    if (size > 65536 || tls_state_create(&s) != 0)
        return 0;
    while (i < size) {
        int dir = data[i] & 1;
        size_t len = data[i] >> 1;
        int rc;

        i++;
        if (len == 127) {
            tls_gap(s, dir);
            continue;
        }
        if (len > size - i)
            len = size - i;
        rc = tls_parse(s, dir, data + i, len);
        i += len;
        if (failed[dir] && rc != KANSHI_EPARSE)
            __builtin_trap();
        if (rc == KANSHI_EPARSE)
            failed[dir] = true;
        else if (rc != 0)
            __builtin_trap();
    }

    for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
        if (!tls_buffer(s, ids[k], 0, &d, &n))
            continue;
        if (ids[k] == RULE_BUF_PAYLOAD)
            __builtin_trap();
        for (size_t j = 0; j < n; j++) /* every byte readable */
            sink ^= d[j];
        if (ids[k] == RULE_BUF_TLS_JA3_HASH || ids[k] == RULE_BUF_TLS_JA3S_HASH)
            check_hex(d, n, 32, "0123456789abcdef", 0);
        if (ids[k] == RULE_BUF_TLS_CERT_FINGERPRINT)
            check_hex(d, n, 59, "0123456789abcdef", ':');
        if (ids[k] == RULE_BUF_TLS_CERT_SERIAL)
            check_hex(d, n, (n + 1) % 3 == 0 ? n : 0, "0123456789ABCDEF", ':');
    }
    for (uint32_t k = 0; tls_buffer(s, RULE_BUF_TLS_CERTS, k, &d, &n); k++) {
        if (k > 64)
            __builtin_trap();
        for (size_t j = 0; j < n; j++)
            sink ^= d[j];
    }
    if (tls_cert_validity(s, &nb, &na) != tls_buffer(s, RULE_BUF_TLS_CERT_SUBJECT, 0, &d, &n))
        __builtin_trap();
    if ((tls_state_progress(s) & TLS_SEEN_CERT) == 0 &&
        tls_buffer(s, RULE_BUF_TLS_CERTS, 0, &d, &n))
        __builtin_trap();
    if (tls_version_name(tls_version(s)) == NULL)
        __builtin_trap();
    for (int k = 0; k < TLS_EV_COUNT; k++)
        sink ^= (uint8_t)tls_state_events(s)[k];
    (void)sink;
    tls_state_destroy(s);
    return 0;
}
