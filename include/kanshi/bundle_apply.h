/*
 * bundle_apply.h — the sensor side of signed rules bundles (issue 6, item 4;
 * DESIGN.md §6 and trust-model rule 4: "only bundles signed by a release key
 * are applied; never an older one").
 *
 * A bundle store is a directory (the config's bundles.dir) that keeps the
 * bundles a sensor applied and the version it runs:
 *
 *   DIR/state         the highest bundle version applied, text:
 *                       "kanshi-bundle-state 1\n" "version N\n"
 *                     written to DIR/state.tmp, fsync'd, renamed over
 *                     DIR/state, then DIR is fsync'd: after a crash it holds
 *                     the old or the new version, never a mix.  Missing: no
 *                     bundle applied yet (version 0).
 *   DIR/N/            the files of bundle version N (decimal), unpacked
 *                     into DIR/.tmp-N-PID/ and renamed into place, so that
 *                     DIR/N is either absent or complete.  The running
 *                     version and the one before it are kept; older ones
 *                     are removed when a newer one is committed.
 *
 * Applying a bundle has two steps, because the new rules become the running
 * ones only when the sensor swaps them in (sensor/main.c, the rule reload):
 *
 *  1. bundle_apply_prepare() (any thread, e.g. the reload's loader thread):
 *     verifies the bundle with the pinned release keys (bundle_open: the
 *     signature first), then refuses, with the reason in err and in
 *     staged->refusal, a bundle that is
 *       BUNDLE_REFUSE_INVALID   not a valid bundle signed by a pinned key
 *                               (bad signature, unknown key, corrupt, truncated)
 *       BUNDLE_REFUSE_KIND      of another kind than "rules"
 *       BUNDLE_REFUSE_ROLLBACK  of a version not above the store's version
 *       BUNDLE_REFUSE_SENSOR    for a newer sensor (its minimum sensor version
 *                               is above the running one)
 *       BUNDLE_REFUSE_RULES     without a *.rules file, or whose rules the
 *                               caller's load function refuses (they do not
 *                               load or do not compile)
 *       BUNDLE_REFUSE_IO        when the store cannot be written
 *     and otherwise unpacks it into DIR/N and calls load(arg, "DIR/N", ...),
 *     which loads and compiles the rules there (and keeps what it built).
 *     On any refusal DIR/N is removed again and the store is unchanged.
 *  2. After the caller swapped the new rules in: bundle_apply_commit() makes
 *     N the store's version (the state file); when the swap did not happen,
 *     bundle_apply_abort() removes DIR/N.
 *
 * The uplink (OFFER/FETCH/CHUNK) hands a complete fetched bundle to the
 * same two steps; so does the drop directory (bundles.incoming), with
 * bundle_incoming_next() and bundle_incoming_reject().
 *
 * Threads: a store is used by one thread at a time (the caller serialises:
 * the sensor prepares on its loader thread and commits on the packet loop
 * after joining it).  Nothing here touches packets.
 */
#ifndef KANSHI_BUNDLE_APPLY_H
#define KANSHI_BUNDLE_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "kanshi/bundle.h"

#define BUNDLE_STORE_PATH_MAX 4096
/* The largest bundle file the sensor reads (rules, vars, GeoIP databases). */
#define BUNDLE_APPLY_MAX_FILE ((size_t)256 << 20)

enum bundle_refusal {
    BUNDLE_REFUSE_NONE,
    BUNDLE_REFUSE_INVALID,
    BUNDLE_REFUSE_KIND,
    BUNDLE_REFUSE_ROLLBACK,
    BUNDLE_REFUSE_SENSOR,
    BUNDLE_REFUSE_RULES,
    BUNDLE_REFUSE_IO,
};

struct bundle_store;

/* A bundle unpacked by bundle_apply_prepare(), not yet committed. */
struct bundle_staged {
    uint64_t version;
    enum bundle_refusal refusal; /* why it was refused; NONE on success */
    size_t nfiles;
    char dir[BUNDLE_STORE_PATH_MAX]; /* DIR/N */
};

/*
 * Loads and compiles the rules unpacked in dir ("*.rules", and
 * classification.config, threshold.config, vars.yaml when present).
 * Returns 0 when they may run, else a negative code with "what: why" in err.
 */
typedef int (*bundle_load_fn)(void *arg, const char *dir, char *err, size_t errlen);

/* Short name of a refusal ("bad-bundle", "wrong-kind", "rollback",
 * "sensor-too-old", "rules", "store"), for logs and RESULT messages. */
const char *bundle_refusal_name(enum bundle_refusal r);

/*
 * Opens the store in dir with the pinned keys (copied), reading DIR/state.
 * The directory need not exist (version 0; bundle_store_mkdir() makes it).
 * 0 and *out, or KANSHI_EPARSE for a state file that does not parse (the
 * sensor cannot know which versions are older then: it says so and does not
 * guess), -errno when it cannot be read, -ENOMEM; err says which.
 */
int bundle_store_open(struct bundle_store **out, const char *dir, const struct bundle_pubkey *keys,
                      size_t nkeys, char *err, size_t errlen);
void bundle_store_close(struct bundle_store *st);

/* Makes the store's directory (mode 0750) when missing.  0 or -errno, err set. */
int bundle_store_mkdir(const struct bundle_store *st, char *err, size_t errlen);

/* The version in the state file: the highest applied, 0 for none. */
uint64_t bundle_store_version(const struct bundle_store *st);

/* "DIR/N" for version N into buf.  0, or -ENAMETOOLONG. */
int bundle_store_path(const struct bundle_store *st, uint64_t version, char *buf, size_t len);

/* Step 1 above, from the bundle's bytes.  0, or a negative code with err
 * and staged->refusal set. */
int bundle_apply_prepare(struct bundle_store *st, const uint8_t *data, size_t len,
                         bundle_load_fn load, void *arg, struct bundle_staged *staged, char *err,
                         size_t errlen);

/* Step 1 from a bundle file (read whole into private memory first, at most
 * BUNDLE_APPLY_MAX_FILE bytes). */
int bundle_apply_file(struct bundle_store *st, const char *path, bundle_load_fn load, void *arg,
                      struct bundle_staged *staged, char *err, size_t errlen);

/*
 * Step 2: records staged->version in the state file (atomically, see
 * above) and removes the versions older than the previous one.  0, or
 * -errno with err set: the store keeps its old version then.
 */
int bundle_apply_commit(struct bundle_store *st, const struct bundle_staged *staged, char *err,
                        size_t errlen);

/* Step 2 when the prepared rules were not swapped in: removes DIR/N. */
void bundle_apply_abort(struct bundle_store *st, const struct bundle_staged *staged);

/*
 * The state file on its own (the store uses these; tests read the state as
 * a restarted sensor would).  Read: 0 with *version (0 when the file is
 * missing), KANSHI_EPARSE or -errno with err set.  Write: 0 or -errno.
 */
int bundle_state_read(const char *dir, uint64_t *version, char *err, size_t errlen);
int bundle_state_write(const char *dir, uint64_t version, char *err, size_t errlen);

/*
 * Compares two versions such as "0.1.0", "1.2", "0.10.0-rc1": numeric
 * components compared as numbers, a non-numeric rest of a component as text,
 * and a component with such a rest comes before the same one without it
 * ("0.2.0-rc1" < "0.2.0"); a missing component is 0.  <0, 0, >0.
 */
int bundle_version_cmp(const char *a, const char *b);

/*
 * The drop directory: the name (not the path) of the first "*.bundle" file
 * in dir, in byte order, into name.  1 when one is there, 0 when none, or
 * -errno when dir cannot be read.
 */
int bundle_incoming_next(const char *dir, char *name, size_t len);

/* Renames path (a refused bundle) to PATH.rejected, replacing an older one,
 * and writes the reason, one line, to PATH.rejected.reason.  0 or -errno. */
int bundle_incoming_reject(const char *path, const char *reason);

#endif
