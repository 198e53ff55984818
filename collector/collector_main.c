/*
 * collector_main.c — kanshi-collector: the command line, signals and
 * start-up around collector.c.
 *
 * Runs in the foreground and logs to stderr (a service manager keeps both).
 * SIGINT/SIGTERM stop it after the frame in hand; SIGHUP re-reads the
 * registry at once (it is also re-read by itself whenever it changes).
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "collector_config.h"
#include "kanshi/kanshi.h"
#include "kanshi/uplink.h"

static volatile sig_atomic_t sig_stop, sig_reload;

static void on_stop(int sig)
{
    (void)sig;
    sig_stop = 1;
}

static void on_hup(int sig)
{
    (void)sig;
    sig_reload = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: kanshi-collector [-nqv] [-c FILE]\n"
               "\n"
               "GSOC collector: admits enrolled sensors over CURVE, stores their alerts in\n"
               "SQLite, acknowledges them, and publishes each on the feeds of its tier.\n"
               "\n"
               "  -c, --config FILE   collector.yaml (default /etc/kanshi/collector.yaml)\n"
               "  -n, --test          check the config and the secret key file, then exit\n"
               "      --config-keys   list every config key with its default\n"
               "  -q, --quiet         warnings only\n"
               "  -v, --verbose       more log output (each admitted handshake)\n"
               "  -V, --version       print the version\n"
               "  -h, --help          this help\n"
               "\n"
               "SIGHUP re-reads the registry now; SIGINT/SIGTERM stop.  Manage the\n"
               "registry with kanshictl(8).  See kanshi-collector(8).\n");
}

int main(int argc, char **argv)
{
    enum { OPT_KEYS = 256 };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"test", no_argument, NULL, 'n'},
        {"config-keys", no_argument, NULL, OPT_KEYS},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = "/etc/kanshi/collector.yaml";
    enum log_level level = LOG_LEVEL_INFO;
    struct collector_config cfg;
    struct collector_stats st;
    struct collector *c = NULL;
    struct sigaction sa;
    bool test = false;
    char err[512];
    int ch, rc;

    log_init("kanshi-collector", level);
    while ((ch = getopt_long(argc, argv, "c:nqvVh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            path = optarg;
            break;
        case 'n':
            test = true;
            break;
        case OPT_KEYS:
            collector_config_keys(stdout);
            return 0;
        case 'q':
            level = LOG_LEVEL_WARN;
            break;
        case 'v':
            level = LOG_LEVEL_DEBUG;
            break;
        case 'V':
            printf("kanshi-collector %s\n", KANSHI_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kanshi-collector: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    log_init("kanshi-collector", level);

    if (collector_config_defaults(&cfg) != 0)
        fatalx("out of memory");
    if (collector_config_load(&cfg, path, err, sizeof(err)) != 0) {
        log_warnx("%s", err);
        collector_config_fini(&cfg);
        return 1;
    }
    if (test) {
        char key[UPLINK_KEY_LEN + 1];
        rc = uplink_read_key_file(cfg.secret_key_file, 1, key, err, sizeof(err));
        explicit_bzero(key, sizeof(key));
        if (rc != 0) {
            log_warnx("%s", err);
            collector_config_fini(&cfg);
            return 1;
        }
        if (cfg.nfeeds == 0)
            log_warnx("%s: no feeds: alerts will be stored but not published", path);
        printf("%s: configuration OK (%zu feed(s), database %s)\n", path, cfg.nfeeds, cfg.database);
        collector_config_fini(&cfg);
        return 0;
    }
    if (cfg.nfeeds == 0)
        log_warnx("%s: no feeds: alerts will be stored but not published", path);

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    if ((rc = collector_create(&c, &cfg, err, sizeof(err))) != 0) {
        log_warnx("%s", err);
        collector_config_fini(&cfg);
        return 1;
    }
    rc = collector_run(c, &sig_stop, &sig_reload);
    collector_get_stats(c, &st);
    log_info("stopping: %" PRIu64 " frames, %" PRIu64 " alerts stored, %" PRIu64
             " duplicates ignored, %" PRIu64 " frames rejected, %" PRIu64
             " dropped (revoked), %" PRIu64 " store errors, %" PRIu64 " gaps, %" PRIu64
             " published, handshakes %" PRIu64 " admitted / %" PRIu64 " refused",
             st.frames, st.alerts_stored, st.alerts_duplicate, st.rejected, st.dropped,
             st.store_errors, st.gaps, st.published, st.zap_admitted, st.zap_refused);
    collector_destroy(c);
    collector_config_fini(&cfg);
    return rc == 0 ? 0 : 1;
}
