/*
 * fuzz_rule.c — fuzz target for the rule language (signatures/rule_*.c).
 *
 * By default the input is one rule's text, added to a fresh ruleset with
 * Suricata's default vars; a rule that loads is then matched against a few
 * addresses and ports, and its payload tests (content, pcre, byte_*,
 * isdataat) run over a few buffers, the rule text itself among them.  A
 * leading control byte picks another parser so one corpus reaches them all:
 *   0x01  address expression      0x02  port expression
 *   0x03  a rules file (comments, continuation lines) through a memfd
 *   0x04  a classification.config through a memfd
 *   0x05  a threshold.config text, then finalize
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kanshi/detect.h"
#include "kanshi/kanshi.h"
#include "kanshi/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct kanshi_addr probes[] = {
    {AF_INET, {0, 0, 0, 0}},
    {AF_INET, {10, 1, 2, 3}},
    {AF_INET, {192, 168, 0, 0}},
    {AF_INET, {255, 255, 255, 255}},
    {AF_INET6, {0}},
    {AF_INET6, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}},
    {AF_INET6, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0xff, 0xff}},
    {0, {0}},
};
static const uint16_t port_probes[] = {0, 1, 80, 1023, 1024, 65534, 65535};

/* Vars shared by the expression modes: the defaults plus a loop to find. */
static struct rule_vars *fuzz_vars(void)
{
    static struct rule_vars *v;

    if (v == NULL) {
        if (rule_vars_create(&v) != 0)
            abort();
        rule_vars_set_address(v, "LOOP", "[1.2.3.4,$LOOP2]");
        rule_vars_set_address(v, "LOOP2", "!$LOOP");
        rule_vars_set_port(v, "PLOOP", "[1,$PLOOP]");
        if (rule_vars_set_defaults(v) != 0)
            abort();
    }
    return v;
}

static void probe_addr(const struct addr_set *s)
{
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(probes); i++)
        (void)addr_set_match(s, &probes[i]);
}

static void probe_port(const struct port_set *s)
{
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(port_probes); i++)
        (void)port_set_match(s, port_probes[i]);
}

static void fuzz_expr(int kind, const char *text)
{
    char err[256];

    if (kind == 1) {
        struct addr_set s;
        if (addr_set_parse(&s, text, fuzz_vars(), err, sizeof(err)) == 0) {
            probe_addr(&s);
            addr_set_fini(&s);
        }
    } else {
        struct port_set s;
        if (port_set_parse(&s, text, fuzz_vars(), err, sizeof(err)) == 0) {
            probe_port(&s);
            port_set_fini(&s);
        }
    }
}

static void check_message(void *arg, const char *file, unsigned line, const char *msg)
{
    (void)arg;
    (void)file;
    (void)line;
    /* every message names what it is about: "KEYWORD: reason" */
    if (strstr(msg, ": ") == NULL)
        abort();
}

/* Loads data as a rules file or classification file through a memfd. */
static void fuzz_file(struct ruleset *rs, int kind, const uint8_t *data, size_t size)
{
    char path[64];
    int fd = memfd_create("fuzz_rule", 0);

    if (fd < 0)
        return;
    if (write(fd, data, size) == (ssize_t)size) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if (kind == 3)
            ruleset_load_path(rs, path);
        else
            ruleset_load_classification(rs, path);
    }
    close(fd);
}

/* Runs the payload tests of r over fixed buffers and over text. */
static void probe_payload(const struct rule *r, const char *text, size_t len)
{
    static const uint8_t bin[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, '1', '2', '3', 'a',
                                  'b',  'c',  'G',  'E',  'T',  ' ', '/', 0x0a, 0x0d, 0x00};

    (void)detect_match_payload(r, bin, sizeof(bin));
    (void)detect_match_payload(r, bin, 1);
    (void)detect_match_payload(r, (const uint8_t *)text, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ruleset *rs = NULL;
    int kind = size > 0 && data[0] >= 1 && data[0] <= 5 ? data[0] : 0;
    char *text;

    if (kind != 0) {
        data++;
        size--;
    }
    if (kind == 1 || kind == 2 || kind == 0 || kind == 5) {
        text = malloc(size + 1);
        if (text == NULL)
            return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        if (kind == 1 || kind == 2) {
            fuzz_expr(kind, text);
            free(text);
            return 0;
        }
    } else {
        text = NULL;
    }
    if (ruleset_create(&rs, NULL, check_message, NULL) != 0) {
        free(text);
        return 0;
    }
    if (kind == 0) {
        if (ruleset_add_rule(rs, text, "fuzz", 1) == 0) {
            const struct rule *r = rs->rules[0];
            probe_addr(&r->src);
            probe_addr(&r->dst);
            probe_port(&r->sp);
            probe_port(&r->dp);
            probe_payload(r, text, size);
        }
    } else if (kind == 5) {
        (void)ruleset_add_rule(rs, "alert tcp any any -> any any (sid:1;)", "fuzz", 1);
        (void)ruleset_load_threshold_text(rs, text, "fuzz");
        (void)ruleset_finalize(rs);
    } else {
        fuzz_file(rs, kind, data, size);
    }
    ruleset_destroy(rs);
    free(text);
    return 0;
}
