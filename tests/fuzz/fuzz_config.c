/*
 * fuzz_config.c — libFuzzer target for the sensor's YAML config reader.
 *
 * config_load() takes a path, so each input is written to one memfd that is
 * opened through /proc/self/fd: no files pile up in /tmp and no disk I/O
 * slows the fuzzer.  Loading runs over the defaults and is always freed, so
 * leaks and use-after-free on every error path show up under ASan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kanshi/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    struct sensor_config cfg;
    char err[512];

    if (fd < 0) {
        fd = memfd_create("fuzz_config", 0);
        if (fd < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    if (config_defaults(&cfg) != 0)
        return 0;
    config_load(&cfg, path, err, sizeof(err));
    /* Whatever happened, the config stays consistent. */
    if ((cfg.nrule_paths != 0) != (cfg.rule_paths != NULL) ||
        (cfg.naddr_vars != 0) != (cfg.addr_vars != NULL) ||
        (cfg.nport_vars != 0) != (cfg.port_vars != NULL) || cfg.sensor_id == NULL ||
        cfg.ruleset_version == NULL)
        abort();
    config_fini(&cfg);
    return 0;
}
