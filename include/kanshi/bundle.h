/*
 * bundle.h — the signed bundle container (DESIGN.md §6): a manifest and a
 * set of files, signed with Ed25519 by a release key.  One container for
 * signature bundles (kind "rules", built by kanshi-sig) and, later, firmware
 * bundles (kind "firmware", built by kanshi-fw).
 *
 * Format, version 1.  Every integer is big-endian (network order).  Offsets
 * are from the start of the bundle.
 *
 *   Outer header, 32 bytes, the only part read before the signature is
 *   checked (and only after checking the input is at least 96 bytes long):
 *     0   8   magic "KNSHBNDL" (4b 4e 53 48 42 4e 44 4c)
 *     8   2   format version, 1
 *     10  2   reserved, 0
 *     12  8   key id: the first 8 bytes of SHA-256(Ed25519 public key); picks
 *             which trusted key verifies the signature
 *     20  8   total length T of the bundle in bytes, signature included;
 *             must equal the length of the input (96 <= T <= BUNDLE_MAX_SIZE)
 *     28  4   reserved, 0
 *
 *   Manifest, from offset 32, M bytes in all (M counts from offset 32):
 *     32  4   M, the manifest length (29 <= M, 32 + M <= T - 64)
 *     36  4   N, the number of files (N <= BUNDLE_MAX_FILES)
 *     40  8   bundle version: monotonically increasing, 1 or more; a sensor
 *             refuses a bundle whose version is not above the one it runs
 *     48  8   creation time, seconds since 1970-01-01 UTC
 *     56  1   K, length of kind (1..BUNDLE_MAX_KIND)
 *     57  1   V, length of the minimum sensor version (0..BUNDLE_MAX_MINVER)
 *     58  2   reserved, 0
 *     60  K   kind: [a-z0-9_-], e.g. "rules", "firmware"
 *     ..  V   minimum sensor version: [A-Za-z0-9.+~_-], e.g. "0.1.0"; empty
 *             when any version will do
 *     then N file entries, each:
 *         8   size of the file in bytes
 *         32  SHA-256 of the file's contents
 *         2   L, length of the name (1..BUNDLE_MAX_NAME)
 *         L   name: a plain name, made of [A-Za-z0-9._+-], not starting with
 *             '.' — so never '/', '\', "..", NUL or a control byte
 *     The entries are in strictly increasing order of name (byte order, a
 *     prefix first), which also rules out duplicate names.  The last entry
 *     ends exactly at offset 32 + M.
 *
 *   File data, from offset 32 + M: the contents of the N files, back to back
 *   in manifest order, no padding; their sizes add up exactly to
 *   T - 64 - (32 + M).
 *
 *   Signature, the last 64 bytes (offset T - 64): Ed25519 (libsodium
 *   crypto_sign_detached) over bytes [0, T - 64) — header, manifest and data.
 *
 * Files of kind "rules" (what kanshi-sig bundle writes and the sensor reads):
 * "*.rules" rule files, loaded in name order; "classification.config";
 * "threshold.config"; "vars.yaml" (the vars: section in the sensor config's
 * format); "*.mmdb" GeoIP/ASN databases.
 *
 * Key files.  Text, '#' lines are comments, whitespace is ignored:
 *   PREFIX.key  the secret key: 128 hex digits, libsodium's 64-byte Ed25519
 *               secret key (seed then public key).  Must be a regular file of
 *               mode 0600 or stricter (no group or other bits); anything else
 *               is refused.
 *   PREFIX.pub  the public key: 64 hex digits.
 *
 * Threads: every function may be called from any thread; a struct bundle is
 * read-only once open and may be shared.
 */
#ifndef KANSHI_BUNDLE_H
#define KANSHI_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#define BUNDLE_MAGIC "KNSHBNDL"
#define BUNDLE_FORMAT 1
#define BUNDLE_HEADER_LEN 32
#define BUNDLE_SIG_LEN 64
#define BUNDLE_MANIFEST_FIXED 28 /* manifest bytes before kind */
#define BUNDLE_ENTRY_FIXED 42    /* file entry bytes before the name */
#define BUNDLE_MAX_FILES 4096
#define BUNDLE_MAX_NAME 255
#define BUNDLE_MAX_KIND 16
#define BUNDLE_MAX_MINVER 32
#define BUNDLE_MAX_SIZE ((uint64_t)1 << 30) /* 1 GiB, the whole bundle */

#define BUNDLE_KEY_ID_LEN 8
#define BUNDLE_PK_LEN 32
#define BUNDLE_SK_LEN 64

#define BUNDLE_KIND_RULES "rules"
#define BUNDLE_KIND_FIRMWARE "firmware"

/* A trusted public key (what sensors pin). */
struct bundle_pubkey {
    uint8_t pk[BUNDLE_PK_LEN];
};

/* A release secret key, with its public half. */
struct bundle_seckey {
    uint8_t sk[BUNDLE_SK_LEN];
};

/* One file, going into a bundle or seen in an open one. */
struct bundle_file {
    const char *name;
    const uint8_t *data;
    size_t len;
    uint8_t sha256[32]; /* filled in by bundle_open(); ignored by bundle_build() */
};

/* What bundle_build() writes into the manifest. */
struct bundle_info {
    const char *kind;        /* BUNDLE_KIND_RULES, ... */
    uint64_t version;        /* 1 or more */
    uint64_t created;        /* seconds since the epoch; 0: now */
    const char *min_version; /* NULL or "" for any */
};

struct bundle;

/* Key id of pk: the first 8 bytes of its SHA-256. */
void bundle_key_id(const struct bundle_pubkey *pk, uint8_t id[BUNDLE_KEY_ID_LEN]);

/* A fresh key pair.  0, or -EIO when libsodium cannot initialise. */
int bundle_keygen(struct bundle_seckey *sk, struct bundle_pubkey *pk);

/* The public half of a secret key. */
void bundle_seckey_public(const struct bundle_seckey *sk, struct bundle_pubkey *pk);

/*
 * Writes PREFIX.key (mode 0600, created exclusively: an existing file is not
 * overwritten) and PREFIX.pub (0644) in the key file format above.  0, or
 * -errno with "PATH: reason" in err.
 */
int bundle_key_write(const char *prefix, const struct bundle_seckey *sk,
                     const struct bundle_pubkey *pk, char *err, size_t errlen);

/*
 * Reads a secret key file.  Refuses (-EPERM) a file that is not regular or
 * whose mode has any group or other bit ("PATH: mode 0644, a secret key file
 * must be 0600 or stricter"), KANSHI_EPARSE for bad contents (wrong length,
 * not hex, public half not matching the seed), -errno when unreadable.
 */
int bundle_seckey_load(const char *path, struct bundle_seckey *sk, char *err, size_t errlen);

/* Reads a public key file.  0, KANSHI_EPARSE or -errno, with err set. */
int bundle_pubkey_load(const char *path, struct bundle_pubkey *pk, char *err, size_t errlen);

/*
 * Reads a whole file (a bundle) into malloc'd memory, refusing one larger
 * than max bytes (KANSHI_ELIMIT).  *out is the caller's to free.  0 or a
 * negative code with "PATH: reason" in err.
 */
int bundle_read_file(const char *path, size_t max, uint8_t **out, size_t *outlen, char *err,
                     size_t errlen);

/* True when name is a valid bundle file name (see the format above). */
int bundle_name_ok(const char *name);

/*
 * Builds and signs a bundle of the nfiles files (any order: they are sorted
 * by name) into *out (malloc'd, the caller frees) of *outlen bytes.  Refuses
 * (KANSHI_EPARSE, err naming it) a bad kind or minimum version, version 0, a
 * bad or duplicate file name; KANSHI_ELIMIT past a BUNDLE_MAX_* limit;
 * -ENOMEM.
 */
int bundle_build(const struct bundle_info *info, const struct bundle_file *files, size_t nfiles,
                 const struct bundle_seckey *sk, uint8_t **out, size_t *outlen, char *err,
                 size_t errlen);

/*
 * Verifies and opens the bundle in data[0..len).  Only the outer header is
 * read before the signature is checked against the trusted key whose id the
 * header names (keys[0..nkeys)); then the manifest is parsed with every
 * bound checked and every file's SHA-256 compared.  With kind non-NULL, a
 * bundle of another kind is refused.
 *
 * The bundle is a view: data must stay allocated and unchanged until
 * bundle_close() (read the bundle into private memory first, not a shared
 * mapping another process may write).
 *
 * Returns 0 and sets *out, or KANSHI_EPARSE with a message in err naming
 * what is wrong ("signature does not verify", "unknown key id 0011..",
 * "file 'x.rules': SHA-256 mismatch", "kind 'firmware', expected 'rules'",
 * ...), KANSHI_ELIMIT for a bundle over a limit, -ENOMEM.
 */
int bundle_open(struct bundle **out, const uint8_t *data, size_t len, const char *kind,
                const struct bundle_pubkey *keys, size_t nkeys, char *err, size_t errlen);
void bundle_close(struct bundle *b);

/*
 * The outer header of a bundle, read without verifying anything (for
 * `kanshi-sig show` without a key): 0 and the fields, or KANSHI_EPARSE when
 * it is too short, has a bad magic or an unknown format version.  Nothing
 * after the outer header is read.
 */
int bundle_peek_header(const uint8_t *data, size_t len, uint8_t key_id[BUNDLE_KEY_ID_LEN],
                       uint64_t *total_len, char *err, size_t errlen);

/* Accessors of an open bundle; strings are NUL-terminated and live as long
 * as b. */
const char *bundle_kind(const struct bundle *b);
uint64_t bundle_version(const struct bundle *b);
uint64_t bundle_created(const struct bundle *b);
const char *bundle_min_version(const struct bundle *b); /* "" when none */
void bundle_signer(const struct bundle *b, uint8_t id[BUNDLE_KEY_ID_LEN]);
size_t bundle_nfiles(const struct bundle *b);
/* File i (0 <= i < bundle_nfiles(b)), in name order; NULL past the end. */
const struct bundle_file *bundle_file(const struct bundle *b, size_t i);
/* The file called name, or NULL. */
const struct bundle_file *bundle_find(const struct bundle *b, const char *name);

#endif
