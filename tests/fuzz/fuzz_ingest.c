/*
 * fuzz_ingest.c — libFuzzer target for the collector's alert reader
 * (collector/ingest.c), which reads JSON written by machines the GSOC does
 * not control.
 *
 * Beyond "no crash", it checks the property the collector relies on: an
 * accepted alert comes out as JSON that ingest accepts again and whose
 * identity — sensor, organisation, tier — is exactly the one put in,
 * whatever the input claimed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../collector/ingest.h"
#include "kanshi/eve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char ident[] =
        "\"sensor_id\":\"fz-1\",\"organisation\":\"Fuzz Agency\",\"tier\":2,"
        "\"supervising_ministry\":\"Fuzz Ministry\"";
    struct ingest_fields f;
    struct jbuf out, again;
    char *copy;

    jbuf_init(&out);
    jbuf_init(&again);
    if (ingest_alert(data, size, ident, sizeof(ident) - 1, &f, &out) == 0) {
        /* An exactly sized copy, so ASan sees a read past the output. */
        if ((copy = malloc(out.len)) == NULL)
            abort();
        memcpy(copy, out.p, out.len);
        if (ingest_alert((const uint8_t *)copy, out.len, "", 0, &f, &again) != 0)
            abort();
        if (strcmp(f.sensor_id, "fz-1") != 0 || strcmp(f.org, "Fuzz Agency") != 0 || f.tier != 2)
            abort();
        free(copy);
    } else if (out.len != 0) {
        abort(); /* a refused alert leaves nothing behind */
    }
    jbuf_fini(&out);
    jbuf_fini(&again);
    return 0;
}
