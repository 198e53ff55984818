/*
 * fuzz_collector_config.c — libFuzzer target for kanshi-collector's YAML
 * config reader (collector/collector_config.c).
 *
 * Each input is written to one memfd opened through /proc/self/fd, as in
 * fuzz_config.c.  The loaded config is checked for consistency and always
 * freed, so leaks on error paths show up under ASan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../collector/collector_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    struct collector_config c;
    char err[512];

    if (fd < 0) {
        if ((fd = memfd_create("fuzz_collector_config", 0)) < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    if (collector_config_defaults(&c) != 0)
        return 0;
    if (collector_config_load(&c, path, err, sizeof(err)) == 0) {
        /* A loaded config is complete: every feed named, bound and routed. */
        if (c.listen == NULL || c.database == NULL || c.secret_key_file == NULL ||
            (c.nfeeds != 0) != (c.feeds != NULL))
            abort();
        for (size_t i = 0; i < c.nfeeds; i++)
            if (c.feeds[i].name == NULL || c.feeds[i].endpoint == NULL || c.feeds[i].tiers == 0 ||
                c.feeds[i].tiers > 3)
                abort();
    } else if (err[0] == '\0') {
        abort(); /* every failure says what went wrong */
    }
    collector_config_fini(&c);
    return 0;
}
