/*
 * fuzz_bundle.c — fuzz target of the signed bundle container
 * (signatures/bundle.c, format in include/kanshi/bundle.h).
 *
 * Input framing: byte 0 picks the mode, the rest is the bundle.
 *   bit 0 clear  "as is": the rest is opened as it stands, with the fixed
 *                test key below trusted (and a second one, so the key id
 *                lookup has a choice).  Reaches the outer header and the
 *                signature check; a validly signed seed gets past it.
 *   bit 0 set    "re-signed": the rest is a bundle without its signature;
 *                the harness puts the test key's id in the header, sets the
 *                total length to fit (unless bit 1 is set), appends an
 *                Ed25519 signature made with the test key and opens that —
 *                so every mutation of the manifest reaches the manifest
 *                parser.
 *   bit 2        open expecting kind "rules" rather than any kind.
 *
 * When a bundle opens, every file is checked against the input (inside it,
 * a valid name, in order, its hash right, found by name) and the bundle is
 * built again from what was read with the same key: the encoding is
 * canonical and Ed25519 deterministic, so the bytes must be the input's.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kanshi/bundle.h"
#include "kanshi/kanshi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixed test key's seed; tests/fuzz/corpus/bundle/ is signed with it.
 * Never a release key. */
static const uint8_t fuzz_seed[32] = "kanshi fuzz_bundle test key 0001";

static struct bundle_seckey fuzz_sk;
static struct bundle_pubkey fuzz_pk[2];
static int fuzz_ready;

static void fuzz_init(void)
{
    static const uint8_t other_seed[32] = "kanshi fuzz_bundle other key 002";
    uint8_t sk2[crypto_sign_SECRETKEYBYTES];

    if (sodium_init() < 0)
        abort();
    /* the other key first, so a lookup that stops early would be noticed */
    crypto_sign_seed_keypair(fuzz_pk[0].pk, sk2, other_seed);
    crypto_sign_seed_keypair(fuzz_pk[1].pk, fuzz_sk.sk, fuzz_seed);
    fuzz_ready = 1;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* An opened bundle must be exactly what its bytes say. */
static void fuzz_check(const struct bundle *b, const uint8_t *buf, size_t len)
{
    size_t n = bundle_nfiles(b);
    struct bundle_file *files = calloc(n + 1, sizeof(*files));
    struct bundle_info info = {.kind = bundle_kind(b),
                               .version = bundle_version(b),
                               .created = bundle_created(b),
                               .min_version = bundle_min_version(b)};
    uint8_t *out = NULL, h[32];
    size_t outlen = 0;
    char err[256];

    if (files == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        const struct bundle_file *f = bundle_file(b, i);
        if (f == NULL || !bundle_name_ok(f->name) || f->data < buf || f->len > len ||
            f->data + f->len > buf + len - BUNDLE_SIG_LEN)
            abort();
        if (i > 0 && strcmp(bundle_file(b, i - 1)->name, f->name) >= 0)
            abort();
        crypto_hash_sha256(h, f->data, f->len);
        if (memcmp(h, f->sha256, 32) != 0 || bundle_find(b, f->name) != f)
            abort();
        files[i] = (struct bundle_file){.name = f->name, .data = f->data, .len = f->len};
    }
    if (bundle_file(b, n) != NULL || bundle_version(b) == 0 || bundle_created(b) == 0)
        goto out; /* created 0 means "now" to the builder: not comparable */
    if (bundle_build(&info, files, n, &fuzz_sk, &out, &outlen, err, sizeof(err)) != 0)
        abort();
    if (outlen != len || memcmp(out, buf, len) != 0)
        abort();
out:
    free(out);
    free(files);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bundle *b = NULL;
    uint8_t *buf;
    size_t len;
    char err[256];
    int mode;

    err[0] = '\0';
    if (!fuzz_ready)
        fuzz_init();
    if (size < 1 || size > (1u << 20))
        return 0;
    mode = data[0];
    data++;
    size--;
    if (mode & 1) {
        len = size + BUNDLE_SIG_LEN;
        buf = malloc(len);
        if (buf == NULL)
            return 0;
        memcpy(buf, data, size);
        if (size >= BUNDLE_HEADER_LEN) {
            bundle_key_id(&fuzz_pk[1], buf + 12);
            if (!(mode & 2))
                put64(buf + 20, len);
        }
        crypto_sign_detached(buf + size, NULL, buf, size, fuzz_sk.sk);
    } else {
        len = size;
        buf = malloc(len ? len : 1);
        if (buf == NULL)
            return 0;
        memcpy(buf, data, size);
    }
    if (bundle_open(&b, buf, len, (mode & 4) ? "rules" : NULL, fuzz_pk, 2, err, sizeof(err)) == 0) {
        if ((mode & 4) && strcmp(bundle_kind(b), "rules") != 0)
            abort();
        fuzz_check(b, buf, len);
        bundle_close(b);
    } else if (err[0] == '\0') {
        abort(); /* every refusal names its reason */
    }
    free(buf);
    return 0;
}
