/*
 * config_test.c — the sensor's YAML config: every key, defaults, sizes,
 * lists, vars (including the peer suite's Suricata vars file) and every
 * error message with its file and line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "kanshi/config.h"
#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "test.h"

static char cfg_path[64];
static char err[512];

/* Writes text to a fresh temporary file whose name lands in cfg_path. */
static void write_file(const char *text)
{
    int fd;

    snprintf(cfg_path, sizeof(cfg_path), "/tmp/kanshi-config-XXXXXX");
    fd = mkstemp(cfg_path);
    if (fd < 0) {
        perror("mkstemp");
        exit(2);
    }
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        perror("write");
        exit(2);
    }
    close(fd);
}

/* Loads text over the defaults into *cfg; returns config_load's result. */
static int load(struct sensor_config *cfg, const char *text)
{
    int rc;

    write_file(text);
    if (config_defaults(cfg) != 0)
        return -ENOMEM;
    err[0] = '\0';
    rc = config_load(cfg, cfg_path, err, sizeof(err));
    unlink(cfg_path);
    return rc;
}

/* Loads text that must fail; returns the message after "FILE:". */
static const char *load_err(const char *text)
{
    static char msg[512];
    struct sensor_config cfg;
    int rc = load(&cfg, text);
    size_t n = strlen(cfg_path);

    config_fini(&cfg);
    if (rc != KANSHI_EPARSE) {
        fprintf(stderr, "load_err: rc %d for:\n%s\n", rc, text);
        return "(did not fail)";
    }
    if (strncmp(err, cfg_path, n) != 0 || err[n] != ':') {
        fprintf(stderr, "load_err: message does not start with the path: %s\n", err);
        return "(no path)";
    }
    snprintf(msg, sizeof(msg), "%s", err + n + 1);
    return msg;
}

static const char *var(const struct config_var *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return v[i].value;
    return NULL;
}

TEST(test_defaults)
{
    struct sensor_config cfg;
    char host[256] = "";

    CHECK_INT(config_defaults(&cfg), 0);
    gethostname(host, sizeof(host));
    CHECK_STR(cfg.sensor_id, host);
    CHECK(cfg.path == NULL);
    CHECK(cfg.user == NULL);
    CHECK_STR(cfg.ruleset_version, "local");
    CHECK_INT(cfg.naddr_vars, 0);
    CHECK_INT(cfg.nport_vars, 0);
    CHECK(cfg.geoip_country == NULL);
    CHECK(cfg.geoip_asn == NULL);
    CHECK(cfg.eve_path == NULL);
    CHECK(cfg.classification == NULL);
    CHECK_INT(cfg.nrule_paths, 0);
    CHECK_INT(cfg.flow_memcap, 64ull << 20);
    CHECK_INT(cfg.flow_hash_size, 65536);
    CHECK_INT(cfg.flow_timeout_new, 30);
    CHECK_INT(cfg.flow_timeout_est, 300);
    CHECK_INT(cfg.flow_timeout_closed, 0);
    CHECK_INT(cfg.flow_timeout_udp_est, 300);
    CHECK_INT(cfg.flow_timeout_icmp_est, 300);
    CHECK_INT(cfg.snaplen, 65535);
    CHECK_INT(cfg.buffer_size, 32u << 20);
    CHECK(cfg.promisc);
    CHECK_INT(cfg.nbundle_keys, 0);
    CHECK_STR(cfg.bundle_dir, "/var/lib/kanshi/bundles");
    CHECK(cfg.bundle_incoming == NULL);
    CHECK_INT(cfg.bundle_check_interval, 5);
    config_fini(&cfg);
    CHECK(cfg.sensor_id == NULL);
    config_fini(&cfg); /* twice is harmless */
}

static const char full_config[] = "# every key\n"
                                  "sensor-id: tokyo-gw-01\n"
                                  "user: kanshi\n"
                                  "ruleset-version: \"2024.04.01-1\"\n"
                                  "vars:\n"
                                  "  address-groups:\n"
                                  "    HOME_NET: \"[10.0.0.0/8,192.168.0.0/16]\"\n"
                                  "    EXTERNAL_NET: \"!$HOME_NET\"\n"
                                  "  port-groups:\n"
                                  "    HTTP_PORTS: \"[80,8080]\"\n"
                                  "    SSH_PORTS: 22\n"
                                  "geoip:\n"
                                  "  country: /var/lib/kanshi/GeoLite2-Country.mmdb\n"
                                  "  asn: /var/lib/kanshi/GeoLite2-ASN.mmdb\n"
                                  "output:\n"
                                  "  eve: /var/log/kanshi/eve.json\n"
                                  "classification-file: /etc/kanshi/classification.config\n"
                                  "rules:\n"
                                  "  - /etc/kanshi/rules\n"
                                  "  - /etc/kanshi/local.rules\n"
                                  "flow:\n"
                                  "  memcap: 128mb\n"
                                  "  hash-size: 131072\n"
                                  "  timeouts:\n"
                                  "    new: 10\n"
                                  "    established: 600\n"
                                  "    closed: 5\n"
                                  "    udp-established: 120\n"
                                  "    icmp-established: 60\n"
                                  "capture:\n"
                                  "  snaplen: 9000\n"
                                  "  buffer-size: 1gb\n"
                                  "  promisc: no\n";

TEST(test_every_key)
{
    struct sensor_config cfg;

    CHECK_INT(load(&cfg, full_config), 0);
    CHECK_STR(err, "");
    CHECK_STR(cfg.path, cfg_path);
    CHECK_STR(cfg.sensor_id, "tokyo-gw-01");
    CHECK_STR(cfg.user, "kanshi");
    CHECK_STR(cfg.ruleset_version, "2024.04.01-1");
    CHECK_INT(cfg.naddr_vars, 2);
    if (cfg.naddr_vars == 2) {
        CHECK_STR(cfg.addr_vars[0].name, "HOME_NET");
        CHECK_STR(cfg.addr_vars[0].value, "[10.0.0.0/8,192.168.0.0/16]");
        CHECK_STR(cfg.addr_vars[1].name, "EXTERNAL_NET");
        CHECK_STR(cfg.addr_vars[1].value, "!$HOME_NET");
    }
    CHECK_INT(cfg.nport_vars, 2);
    CHECK_STR(var(cfg.port_vars, cfg.nport_vars, "HTTP_PORTS"), "[80,8080]");
    CHECK_STR(var(cfg.port_vars, cfg.nport_vars, "SSH_PORTS"), "22");
    CHECK_STR(cfg.geoip_country, "/var/lib/kanshi/GeoLite2-Country.mmdb");
    CHECK_STR(cfg.geoip_asn, "/var/lib/kanshi/GeoLite2-ASN.mmdb");
    CHECK_STR(cfg.eve_path, "/var/log/kanshi/eve.json");
    CHECK_STR(cfg.classification, "/etc/kanshi/classification.config");
    CHECK_INT(cfg.nrule_paths, 2);
    if (cfg.nrule_paths == 2) {
        CHECK_STR(cfg.rule_paths[0], "/etc/kanshi/rules");
        CHECK_STR(cfg.rule_paths[1], "/etc/kanshi/local.rules");
    }
    CHECK_INT(cfg.flow_memcap, 128ull << 20);
    CHECK_INT(cfg.flow_hash_size, 131072);
    CHECK_INT(cfg.flow_timeout_new, 10);
    CHECK_INT(cfg.flow_timeout_est, 600);
    CHECK_INT(cfg.flow_timeout_closed, 5);
    CHECK_INT(cfg.flow_timeout_udp_est, 120);
    CHECK_INT(cfg.flow_timeout_icmp_est, 60);
    CHECK_INT(cfg.snaplen, 9000);
    CHECK_INT(cfg.buffer_size, 1u << 30);
    CHECK(!cfg.promisc);
    config_fini(&cfg);
}

TEST(test_partial_keeps_defaults)
{
    struct sensor_config cfg;

    CHECK_INT(load(&cfg, "flow:\n  timeouts:\n    new: 5\ncapture:\n  promisc: yes\n"), 0);
    CHECK_INT(cfg.flow_timeout_new, 5);
    CHECK_INT(cfg.flow_timeout_est, 300);
    CHECK_INT(cfg.flow_memcap, 64ull << 20);
    CHECK_STR(cfg.ruleset_version, "local");
    CHECK(cfg.promisc);
    config_fini(&cfg);

    /* Empty file, comment-only file and an empty document: all defaults. */
    CHECK_INT(load(&cfg, ""), 0);
    CHECK_INT(cfg.snaplen, 65535);
    config_fini(&cfg);
    CHECK_INT(load(&cfg, "# nothing here\n"), 0);
    config_fini(&cfg);
    CHECK_INT(load(&cfg, "---\n...\n"), 0);
    config_fini(&cfg);
    /* Empty sections are fine. */
    CHECK_INT(load(&cfg, "flow:\ngeoip: {}\nvars:\n  address-groups:\n"), 0);
    CHECK_INT(cfg.naddr_vars, 0);
    config_fini(&cfg);
}

TEST(test_suricata_header)
{
    struct sensor_config cfg;

    CHECK_INT(load(&cfg, "%YAML 1.1\n---\n\nsensor-id: s1\n"), 0);
    CHECK_STR(err, "");
    CHECK_STR(cfg.sensor_id, "s1");
    config_fini(&cfg);
    CHECK_INT(load(&cfg, "---\nsensor-id: s2\n...\n"), 0);
    CHECK_STR(cfg.sensor_id, "s2");
    config_fini(&cfg);
}

TEST(test_bools)
{
    static const struct {
        const char *text;
        bool v;
    } cases[] = {{"yes", true},  {"no", false}, {"true", true}, {"false", false}, {"on", true},
                 {"off", false}, {"1", true},   {"0", false},   {"YES", true},    {"False", false}};
    struct sensor_config cfg;
    char text[64];

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(cases); i++) {
        snprintf(text, sizeof(text), "capture:\n  promisc: %s\n", cases[i].text);
        CHECK_INT(load(&cfg, text), 0);
        CHECK_INT(cfg.promisc, cases[i].v);
        config_fini(&cfg);
    }
}

TEST(test_strings_and_nulls)
{
    struct sensor_config cfg;

    CHECK_INT(load(&cfg, "user: ~\ngeoip:\n  country: ''\n  asn: null\noutput:\n  eve: '-'\n"), 0);
    CHECK(cfg.user == NULL);
    CHECK(cfg.geoip_country == NULL);
    CHECK(cfg.geoip_asn == NULL);
    CHECK_STR(cfg.eve_path, "-");
    config_fini(&cfg);

    /* A YAML number is a fine string; quoting keeps "null" literal. */
    CHECK_INT(load(&cfg, "sensor-id: 42\nuser: \"null\"\nruleset-version: 1.5\n"), 0);
    CHECK_STR(cfg.sensor_id, "42");
    CHECK_STR(cfg.user, "null");
    CHECK_STR(cfg.ruleset_version, "1.5");
    config_fini(&cfg);

    /* Block scalars and non-ASCII. */
    CHECK_INT(load(&cfg, "sensor-id: >-\n  gw\n  one\nuser: \"\\u00e9t\\u00e9\"\n"), 0);
    CHECK_STR(cfg.sensor_id, "gw one");
    CHECK_STR(cfg.user, "\xc3\xa9t\xc3\xa9");
    config_fini(&cfg);
}

TEST(test_rules_list)
{
    struct sensor_config cfg;

    CHECK_INT(load(&cfg, "rules: /etc/kanshi/only.rules\n"), 0);
    CHECK_INT(cfg.nrule_paths, 1);
    if (cfg.nrule_paths == 1)
        CHECK_STR(cfg.rule_paths[0], "/etc/kanshi/only.rules");
    config_fini(&cfg);

    CHECK_INT(load(&cfg, "rules: [a.rules, b.rules, c.rules]\n"), 0);
    CHECK_INT(cfg.nrule_paths, 3);
    if (cfg.nrule_paths == 3)
        CHECK_STR(cfg.rule_paths[2], "c.rules");
    config_fini(&cfg);

    CHECK_INT(load(&cfg, "rules: []\n"), 0);
    CHECK_INT(cfg.nrule_paths, 0);
    config_fini(&cfg);
}

TEST(test_vars_forms)
{
    struct sensor_config cfg;

    CHECK_INT(load(&cfg, "vars:\n"
                         "  address-groups:\n"
                         "    HOME_NET: [10.0.0.0/8, \"192.168.0.0/16\"]\n"
                         "    DNS_SERVERS: $HOME_NET\n"
                         "    V6_NET: 2001:db8::/32\n"
                         "  port-groups:\n"
                         "    HTTP_PORTS: 80\n"
                         "    WEB_PORTS:\n"
                         "      - 80\n"
                         "      - 443\n"
                         "      - $HTTP_PORTS\n"
                         "    HIGH: \"1024:\"\n"),
              0);
    CHECK_STR(err, "");
    CHECK_INT(cfg.naddr_vars, 3);
    CHECK_STR(var(cfg.addr_vars, cfg.naddr_vars, "HOME_NET"), "[10.0.0.0/8,192.168.0.0/16]");
    CHECK_STR(var(cfg.addr_vars, cfg.naddr_vars, "DNS_SERVERS"), "$HOME_NET");
    CHECK_STR(var(cfg.addr_vars, cfg.naddr_vars, "V6_NET"), "2001:db8::/32");
    CHECK_INT(cfg.nport_vars, 3);
    CHECK_STR(var(cfg.port_vars, cfg.nport_vars, "HTTP_PORTS"), "80");
    CHECK_STR(var(cfg.port_vars, cfg.nport_vars, "WEB_PORTS"), "[80,443,$HTTP_PORTS]");
    CHECK_STR(var(cfg.port_vars, cfg.nport_vars, "HIGH"), "1024:");
    if (cfg.nport_vars == 3)
        CHECK_STR(cfg.port_vars[1].name, "WEB_PORTS"); /* file order */
    config_fini(&cfg);
}

TEST(test_load_twice)
{
    struct sensor_config cfg;

    CHECK_INT(load(&cfg, "vars:\n  address-groups:\n    HOME_NET: 10.0.0.0/8\n    A: 1.1.1.1\n"
                         "rules: [one.rules]\n"),
              0);
    write_file("vars:\n  address-groups:\n    HOME_NET: 172.16.0.0/12\n    B: 2.2.2.2\n"
               "rules: [two.rules, three.rules]\n");
    CHECK_INT(config_load(&cfg, cfg_path, err, sizeof(err)), 0);
    unlink(cfg_path);
    CHECK_INT(cfg.naddr_vars, 3);
    CHECK_STR(var(cfg.addr_vars, cfg.naddr_vars, "HOME_NET"), "172.16.0.0/12");
    CHECK_STR(var(cfg.addr_vars, cfg.naddr_vars, "A"), "1.1.1.1");
    CHECK_STR(var(cfg.addr_vars, cfg.naddr_vars, "B"), "2.2.2.2");
    CHECK_INT(cfg.nrule_paths, 2);
    if (cfg.nrule_paths == 2)
        CHECK_STR(cfg.rule_paths[0], "two.rules");
    config_fini(&cfg);
}

TEST(test_peer_suite_vars)
{
    const char *path = test_shared_path("peer-tests/suricata-verify/default-vars.yaml");
    struct sensor_config cfg;

    if (path == NULL)
        SKIP("../shared/peer-tests absent");
    CHECK_INT(config_defaults(&cfg), 0);
    CHECK_INT(config_load(&cfg, path, err, sizeof(err)), 0);
    CHECK_STR(err, "");
    CHECK_INT(cfg.naddr_vars, 15);
    CHECK_INT(cfg.nport_vars, 12);
    if (cfg.naddr_vars == 15 && cfg.nport_vars == 12) {
        CHECK_STR(cfg.addr_vars[0].name, "HOME_NET");
        CHECK_STR(cfg.addr_vars[0].value, "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]");
        CHECK_STR(cfg.addr_vars[1].value, "!$HOME_NET");
        CHECK_STR(cfg.addr_vars[14].name, "ENIP_SERVER");
        CHECK_STR(cfg.port_vars[0].name, "HTTP_PORTS");
        CHECK_STR(cfg.port_vars[0].value, "80");
        CHECK_STR(cfg.port_vars[1].value, "!80");
        CHECK_STR(var(cfg.port_vars, 12, "FILE_DATA_PORTS"), "[$HTTP_PORTS,110,143]");
        CHECK_STR(var(cfg.port_vars, 12, "SIP_PORTS"), "[5060, 5061]");
    }
    config_fini(&cfg);

    path = test_shared_path("peer-tests/suricata-verify/vars/ftp-retr-bypass-realserver.yaml");
    if (path != NULL) {
        CHECK_INT(config_defaults(&cfg), 0);
        CHECK_INT(config_load(&cfg, path, err, sizeof(err)), 0);
        CHECK_STR(var(cfg.addr_vars, cfg.naddr_vars, "HOME_NET"), "[192.168.0.0/16]");
        config_fini(&cfg);
    }
}

TEST(test_apply_vars)
{
    struct sensor_config cfg;
    struct rule_vars *v = NULL;
    struct addr_set as;
    struct port_set ps;
    struct kanshi_addr a = {.family = AF_INET};
    char perr[256];

    CHECK_INT(load(&cfg, "vars:\n  address-groups:\n    HOME_NET: [10.0.0.0/8]\n"
                         "  port-groups:\n    HTTP_PORTS: [80, 8080]\n"),
              0);
    CHECK_INT(rule_vars_create(&v), 0);
    if (v == NULL) {
        config_fini(&cfg);
        return;
    }
    CHECK_INT(config_apply_vars(&cfg, v), 0);
    CHECK_INT(addr_set_parse(&as, "$HOME_NET", v, perr, sizeof(perr)), 0);
    inet_pton(AF_INET, "10.1.2.3", a.a);
    CHECK(addr_set_match(&as, &a));
    inet_pton(AF_INET, "11.1.2.3", a.a);
    CHECK(!addr_set_match(&as, &a));
    addr_set_fini(&as);
    CHECK_INT(port_set_parse(&ps, "$HTTP_PORTS", v, perr, sizeof(perr)), 0);
    CHECK(port_set_match(&ps, 8080));
    CHECK(!port_set_match(&ps, 443));
    port_set_fini(&ps);
    rule_vars_destroy(v);
    config_fini(&cfg);
}

TEST(test_parse_size)
{
    static const struct {
        const char *s;
        int rc;
        uint64_t v;
    } cases[] = {
        {"100", 0, 100},
        {"0", 0, 0},
        {"512kb", 0, 512ull << 10},
        {"64mb", 0, 64ull << 20},
        {"64MB", 0, 64ull << 20},
        {"1gb", 0, 1ull << 30},
        {"2tb", 0, 2ull << 40},
        {"10 mb", 0, 10ull << 20},
        {" 7k ", 0, 7ull << 10},
        {"3MiB", 0, 3ull << 20},
        {"5b", 0, 5},
        {"18446744073709551615", 0, UINT64_MAX},
        {"18446744073709551616", -ERANGE, 0},
        {"16777216tb", -ERANGE, 0},
        {"", -EINVAL, 0},
        {"mb", -EINVAL, 0},
        {"-1", -EINVAL, 0},
        {"1.5mb", -EINVAL, 0},
        {"12xb", -EINVAL, 0},
        {"12 m b", -EINVAL, 0},
        {"64mbb", -EINVAL, 0},
        {"0x10", -EINVAL, 0},
    };

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(cases); i++) {
        uint64_t v = 12345;
        int rc = config_parse_size(cases[i].s, &v);
        if (rc != cases[i].rc)
            fprintf(stderr, "size \"%s\"\n", cases[i].s);
        CHECK_INT(rc, cases[i].rc);
        if (rc == 0)
            CHECK_INT(v, cases[i].v);
    }
}

TEST(test_errors)
{
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"sensor-id: a\nbogus: 1\n", "2: bogus: unknown key"},
        {"flow:\n  memcap: 1mb\n  bogus: 3\n", "3: flow.bogus: unknown key"},
        {"flow:\n  timeouts:\n    new: 0\n",
         "3: flow.timeouts.new: expected an integer between 1 and 3600"},
        {"flow:\n  timeouts:\n    new: 3601\n",
         "3: flow.timeouts.new: expected an integer between 1 and 3600"},
        {"flow:\n  timeouts:\n    new: ten\n",
         "3: flow.timeouts.new: expected an integer between 1 and 3600"},
        {"flow:\n  timeouts:\n    new: -5\n",
         "3: flow.timeouts.new: expected an integer between 1 and 3600"},
        {"flow:\n  timeouts:\n    closed: 99999999999999999999999\n",
         "3: flow.timeouts.closed: expected an integer between 0 and 3600"},
        {"flow:\n  timeouts:\n    established:\n",
         "3: flow.timeouts.established: expected an integer between 1 and 86400"},
        {"capture:\n  snaplen: 10\n", "2: capture.snaplen: expected an integer between 64 and "
                                      "262144"},
        {"flow:\n  memcap: lots\n",
         "2: flow.memcap: expected a size between 64kb and 1tb (like 64mb)"},
        {"flow:\n  memcap: 1kb\n",
         "2: flow.memcap: expected a size between 64kb and 1tb (like 64mb)"},
        {"capture:\n  buffer-size: 4gb\n",
         "2: capture.buffer-size: expected a size between 64kb and 2gb (like 64mb)"},
        {"capture:\n  promisc: maybe\n", "2: capture.promisc: expected yes or no"},
        {"sensor-id:\n", "1: sensor-id: expected a non-empty string"},
        {"sensor-id: ''\n", "1: sensor-id: expected a non-empty string"},
        {"ruleset-version: [a, b]\n", "1: ruleset-version: expected a single value, not a list"},
        {"sensor-id: {}\n", "1: sensor-id: expected a single value, not a mapping"},
        {"sensor-id:\n  name: x\n", "2: sensor-id.name: unknown key"},
        {"sensor-id: a\nsensor-id: b\n", "2: sensor-id: duplicate key (first set on line 1)"},
        {"rules: [a]\nrules: b\n", "2: rules: duplicate key (first set on line 1)"},
        {"rules: [a, '']\n", "1: rules: expected a path, not an empty string"},
        {"rules: [a, ~]\n", "1: rules: expected a path, not null"},
        {"rules: {}\n", "1: rules: expected a path, not a mapping"},
        {"rules: [a, {}]\n", "1: rules: expected a path, not a mapping"},
        {"vars:\n  port-groups:\n    P: [80, []]\n",
         "3: vars.port-groups.P: expected a value, not a list"},
        {"flow: 5\n", "1: flow: expected a mapping of keys"},
        {"flow: [a]\n", "1: flow: expected a mapping of keys"},
        {"vars: x\n", "1: vars: expected a mapping of keys"},
        {"vars:\n  address-groups:\n    HOME_NET:\n",
         "3: vars.address-groups.HOME_NET: expected an address group, not null"},
        {"vars:\n  port-groups:\n    HTTP_PORTS: ''\n",
         "3: vars.port-groups.HTTP_PORTS: expected a port group, not an empty string"},
        {"vars:\n  port-groups:\n    HTTP_PORTS: []\n",
         "3: vars.port-groups.HTTP_PORTS: expected a port group, not a list"},
        {"vars:\n  address-groups:\n    HOME-NET: 1.2.3.4\n",
         "3: vars.address-groups.HOME-NET: variable names may only hold letters, digits and "
         "'_'"},
        {"vars:\n  address-groups:\n    HOME_NET:\n      a: b\n",
         "4: vars.address-groups.HOME_NET.a: expected a value or a list of values"},
        {"vars:\n  address-groups:\n    A: 1.1.1.1\n    A: 2.2.2.2\n",
         "4: vars.address-groups.A: duplicate key (first set on line 3)"},
        {"vars:\n  address-groups:\n    EXTERNAL_NET: !$HOME_NET\n",
         "3: vars.address-groups.EXTERNAL_NET: unquoted !$HOME_NET is read as a YAML tag; "
         "quote it"},
        {"vars:\n  bogus-groups:\n    A: 1\n", "3: vars.bogus-groups.A: unknown key"},
        /* YAML syntax and structure. */
        {"sensor-id: a\n  user: b\n", "2: yaml: mapping values are not allowed in this context"},
        {"sensor-id: \"unterminated\n", "2: yaml: found unexpected end of stream"},
        {"rules:\n  - a\n - b\n", "3: yaml: did not find expected key"},
        {"a: &x 1\nb: *x\n", "2: yaml: aliases (*name) are not supported"},
        {"sensor-id: a\n---\nsensor-id: b\n", "2: yaml: more than one document in the file"},
        {"just a string\n", "1: yaml: the top level must be a mapping of keys"},
        {"- a\n- b\n", "1: yaml: the top level must be a mapping of keys"},
        {"? [a, b]\n: c\n", "1: yaml: a key must be a plain value, not a list or mapping"},
        {"'': x\n", "1: yaml: empty key"},
        {"%YAML 2.0\n---\na: b\n", "1: yaml: found incompatible YAML document"},
        {"sensor-id: \"\\0\"\n", "1: yaml: value holds a NUL character"},
        {"sensor-id: \xff\xfe\n", "1: yaml: invalid leading UTF-8 octet"},
        {"a:\n b:\n  c:\n   d:\n    e:\n     f:\n      g:\n       h:\n        i:\n         j:\n"
         "          k:\n           l:\n            m:\n             n:\n              o:\n"
         "               p:\n                q: 1\n",
         "17: yaml: nested too deeply"},
    };

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(cases); i++) {
        const char *msg = load_err(cases[i].text);
        if (strcmp(msg, cases[i].msg) != 0)
            fprintf(stderr, "case %zu: \"%s\"\n   expected \"%s\"\n", i, msg, cases[i].msg);
        CHECK_STR(msg, cases[i].msg);
    }
}

TEST(test_file_errors)
{
    struct sensor_config cfg;
    char big[64];
    FILE *f;

    CHECK_INT(config_defaults(&cfg), 0);
    CHECK_INT(config_load(&cfg, "/nonexistent/kanshi.yaml", err, sizeof(err)), -ENOENT);
    CHECK_STR(err, "/nonexistent/kanshi.yaml: No such file or directory");
    CHECK_INT(config_load(&cfg, "/tmp", err, sizeof(err)), -EISDIR);
    CHECK_STR(err, "/tmp: Is a directory");
    /* Defaults are untouched by a failed load. */
    CHECK_INT(cfg.snaplen, 65535);

    /* A huge file is refused before parsing. */
    snprintf(big, sizeof(big), "/tmp/kanshi-config-big-%d", (int)getpid());
    f = fopen(big, "w");
    if (f != NULL) {
        for (int i = 0; i < (5 << 20) / 16; i++)
            fputs("# padding line\n", f);
        fclose(f);
        CHECK_INT(config_load(&cfg, big, err, sizeof(err)), -EFBIG);
        CHECK_CONTAINS(err, big);
        unlink(big);
    }
    config_fini(&cfg);
}

/* A failed load leaves cfg freeable and errors stop at the first problem. */
TEST(test_partial_failure_is_freeable)
{
    struct sensor_config cfg;

    CHECK_INT(load(&cfg, "sensor-id: x\nrules: [a, b]\nvars:\n  address-groups:\n"
                         "    A: 1.1.1.1\nflow:\n  memcap: nope\n"),
              KANSHI_EPARSE);
    CHECK_CONTAINS(err, ":7: flow.memcap: expected a size");
    config_fini(&cfg);
    CHECK(cfg.rule_paths == NULL);
    CHECK(cfg.addr_vars == NULL);
}

TEST(test_example_file)
{
    struct sensor_config cfg;

    CHECK_INT(config_defaults(&cfg), 0);
    CHECK_INT(config_load(&cfg, "sensor/kanshi-sensor.yaml.example", err, sizeof(err)), 0);
    CHECK_STR(err, "");
    CHECK(cfg.naddr_vars > 0);
    CHECK(cfg.nrule_paths > 0);
    CHECK_INT(cfg.nbundle_keys, 1);
    if (cfg.nbundle_keys == 1)
        CHECK_STR(cfg.bundle_keys[0], "/etc/kanshi/release.pub");
    CHECK_STR(cfg.bundle_incoming, "/var/lib/kanshi/incoming");
    config_fini(&cfg);
}

/* bundles.*: a list of key files, the store, the drop directory, the interval. */
TEST(test_bundles)
{
    struct sensor_config cfg;

    CHECK_INT(load(&cfg, "bundles:\n  keys: [/k/a.pub, /k/b.pub]\n  dir: /s/b\n"
                         "  incoming: /s/in\n  check-interval: 30\n"),
              0);
    CHECK_INT(cfg.nbundle_keys, 2);
    if (cfg.nbundle_keys == 2) {
        CHECK_STR(cfg.bundle_keys[0], "/k/a.pub");
        CHECK_STR(cfg.bundle_keys[1], "/k/b.pub");
    }
    CHECK_STR(cfg.bundle_dir, "/s/b");
    CHECK_STR(cfg.bundle_incoming, "/s/in");
    CHECK_INT(cfg.bundle_check_interval, 30);
    config_fini(&cfg);
    CHECK_INT(load(&cfg, "bundles:\n  keys: /k/one.pub\n"), 0);
    CHECK_INT(cfg.nbundle_keys, 1);
    config_fini(&cfg);
    CHECK_INT(load(&cfg, "bundles:\n  check-interval: 0\n"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "bundles.check-interval");
    config_fini(&cfg);
    CHECK_INT(load(&cfg, "bundles:\n  dir: ''\n"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "bundles.dir");
    config_fini(&cfg);
    CHECK_INT(load(&cfg, "bundles:\n  key: /k/a.pub\n"), KANSHI_EPARSE);
    CHECK_CONTAINS(err, "unknown key");
    config_fini(&cfg);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_every_key);
    RUN(test_partial_keeps_defaults);
    RUN(test_suricata_header);
    RUN(test_bools);
    RUN(test_strings_and_nulls);
    RUN(test_rules_list);
    RUN(test_vars_forms);
    RUN(test_load_twice);
    RUN(test_peer_suite_vars);
    RUN(test_apply_vars);
    RUN(test_parse_size);
    RUN(test_errors);
    RUN(test_file_errors);
    RUN(test_partial_failure_is_freeable);
    RUN(test_example_file);
    RUN(test_bundles);
    return test_summary("config");
}
