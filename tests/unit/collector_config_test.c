/*
 * collector_config_test.c — kanshi-collector's YAML configuration
 * (collector/collector_config.c): defaults, the shipped example, feeds as
 * data, and an error naming file, line and key for each kind of mistake.
 */
#include <errno.h>
#include <stdlib.h>

#include "../../collector/collector_config.h"
#include "kanshi/kanshi.h"
#include "test.h"

static char dir[64];

/* Writes text to a file and loads it; returns the code, err holds the message. */
static int load(const char *text, struct collector_config *c, char *err, size_t errlen)
{
    char path[128];
    FILE *f;
    int rc;

    snprintf(path, sizeof(path), "%s/c.yaml", dir);
    f = fopen(path, "w");
    if (f == NULL)
        return -errno;
    fputs(text, f);
    fclose(f);
    if (collector_config_defaults(c) != 0)
        return -ENOMEM;
    rc = collector_config_load(c, path, err, errlen);
    return rc;
}

TEST(test_defaults)
{
    struct collector_config c;
    char err[256];

    CHECK_INT(load("", &c, err, sizeof(err)), 0);
    CHECK_STR(c.listen, "tcp://0.0.0.0:7700");
    CHECK_STR(c.secret_key_file, "/etc/kanshi/collector.key");
    CHECK_STR(c.database, "/var/lib/kanshi/collector.db");
    CHECK_INT(c.sync, STORE_SYNC_FULL);
    CHECK_INT(c.retention_days, 90);
    CHECK_INT(c.nfeeds, 0);
    collector_config_fini(&c);
    collector_config_fini(&c); /* twice is harmless */
}

TEST(test_example)
{
    struct collector_config c;
    char err[256];

    CHECK(collector_config_defaults(&c) == 0);
    CHECK_INT(collector_config_load(&c, "collector/collector.yaml.example", err, sizeof(err)), 0);
    if (err[0] != '\0')
        fprintf(stderr, "%s\n", err);
    CHECK_INT(c.nfeeds, 3);
    if (c.nfeeds == 3) {
        CHECK_STR(c.feeds[0].name, "tier1");
        CHECK_INT(c.feeds[0].tiers, 1);
        CHECK_INT(c.feeds[1].tiers, 2);
        CHECK_STR(c.feeds[2].name, "coordination");
        CHECK_INT(c.feeds[2].tiers, 3);
        CHECK_STR(collector_tiers_str(c.feeds[2].tiers), "1,2");
    }
    collector_config_fini(&c);
}

TEST(test_values)
{
    struct collector_config c;
    char err[256];

    CHECK_INT(load("listen: ipc:///run/kanshi.sock\n"
                   "secret-key-file: /k\n"
                   "database: /d.db\n"
                   "synchronous: normal\n"
                   "retention-days: 0\n"
                   "feeds:\n"
                   "  - {name: all, endpoint: 'tcp://*:9', tiers: [2, 1]}\n"
                   "  - name: t2\n"
                   "    endpoint: tcp://[::1]:7702\n"
                   "    tiers: 2\n",
                   &c, err, sizeof(err)),
              0);
    CHECK_STR(c.listen, "ipc:///run/kanshi.sock");
    CHECK_INT(c.sync, STORE_SYNC_NORMAL);
    CHECK_INT(c.retention_days, 0);
    CHECK_INT(c.nfeeds, 2);
    if (c.nfeeds == 2) {
        CHECK_INT(c.feeds[0].tiers, 3);
        CHECK_INT(c.feeds[1].tiers, 2);
        CHECK_STR(c.feeds[1].endpoint, "tcp://[::1]:7702");
        CHECK_INT(c.feeds[1].line, 8);
    }
    collector_config_fini(&c);
}

TEST(test_errors)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"lisen: tcp://a:1\n", "c.yaml:1: lisen: unknown key"},
        {"listen: http://a:1\n", ":1: listen: expected tcp://HOST:PORT or ipc://PATH"},
        {"listen: tcp://a\n", ":1: listen: expected tcp://HOST:PORT"},
        {"listen: [a]\n", ":1: listen: expected a value, not a list"},
        {"database:\n", ":1: database: expected a value, not null"},
        {"synchronous: off\n", ":1: synchronous: expected full or normal, not \"off\""},
        {"retention-days: 40000\n", ":1: retention-days: expected an integer between 0 and 36500"},
        {"retention-days: -1\n", "retention-days: expected an integer"},
        {"database: a\ndatabase: b\n", ":2: database: duplicate key (first set on line 1)"},
        {"feeds: 5\n", ":1: feeds: expected a list of feeds, not a value"},
        {"feeds:\n  - 5\n", ":2: feeds[0]: expected a mapping with name, endpoint and tiers"},
        {"feeds:\n  - name: a\n    endpoint: tcp://h:1\n", ":2: feeds[0]: missing tiers"},
        {"feeds:\n  - {name: a, endpoint: tcp://h:1, tiers: [3]}\n",
         "feeds[0].tiers: expected tier 1 or 2, not \"3\""},
        {"feeds:\n  - {name: a, endpoint: tcp://h:1, tiers: [1, 1]}\n", "tier 1 listed twice"},
        {"feeds:\n  - {name: a, endpoint: tcp://h:1, tiers: []}\n", "at least one tier"},
        {"feeds:\n  - {name: a, endpoint: tcp://h:1, tiers: [1], colour: red}\n",
         "feeds[0].colour: unknown key"},
        {"feeds:\n  - {name: A B, endpoint: tcp://h:1, tiers: [1]}\n",
         "feeds[0].name: expected 1 to 32 of a-z 0-9 _ -"},
        {"feeds:\n  - {name: a, endpoint: tcp://h:1, tiers: [1]}\n"
         "  - {name: a, endpoint: tcp://h:2, tiers: [2]}\n",
         ":3: feeds[1]: feed name \"a\" already used on line 2"},
        {"feeds:\n  - {name: a, endpoint: tcp://h:1, tiers: [1]}\n"
         "  - {name: b, endpoint: tcp://h:1, tiers: [2]}\n",
         "endpoint tcp://h:1 already used by feed \"a\""},
        {"listen: tcp://h:1\nfeeds:\n  - {name: a, endpoint: tcp://h:1, tiers: [1]}\n",
         "feed \"a\" uses the listen endpoint"},
        {"- a\n", ":1: (top): expected a mapping of keys, not a list"},
        {"listen: [\n", "c.yaml:2: yaml:"},
        /* An alias of its own list: the walk must not loop. */
        {"feeds:\n  - {name: a, endpoint: tcp://h:1, tiers: &x [*x]}\n", "expected tier 1 or 2"},
    };
    struct collector_config c;
    char err[256];

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(cases); i++) {
        err[0] = '\0';
        CHECK(load(cases[i].text, &c, err, sizeof(err)) != 0);
        if (strstr(err, cases[i].want) == NULL)
            fprintf(stderr, "case %zu: %s\n", i, cases[i].text);
        CHECK_CONTAINS(err, cases[i].want);
        collector_config_fini(&c);
    }
}

TEST(test_missing_file)
{
    struct collector_config c;
    char err[256];

    CHECK(collector_config_defaults(&c) == 0);
    CHECK_INT(collector_config_load(&c, "/nonexistent/collector.yaml", err, sizeof(err)), -ENOENT);
    CHECK_CONTAINS(err, "/nonexistent/collector.yaml: No such file");
    CHECK_INT(collector_config_load(&c, "/", err, sizeof(err)), -EISDIR);
    collector_config_fini(&c);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/kanshi-cconf-test-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_defaults);
    RUN(test_example);
    RUN(test_values);
    RUN(test_errors);
    RUN(test_missing_file);
    {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return test_summary("collector_config");
}
