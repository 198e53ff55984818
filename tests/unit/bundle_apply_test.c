/*
 * bundle_apply_test.c — the sensor side of signed rules bundles
 * (sensor/bundle_apply.c): a real bundle made with bundle_build() and a key
 * generated here is applied into a store in a fresh directory, its rules
 * loaded and compiled by the real rule parser and detection engine; then
 * each refusal (bad signature, unknown key, corrupt, wrong kind, rollback,
 * too new for this sensor, rules that do not load, no rules), anti-rollback
 * across a restart (a new store reads the state from disk), the state
 * file's atomic replacement, pruning of old versions, version comparison and
 * the drop directory.
 *
 * With "--make-bundle SECKEY VERSION KIND MINVER OUT FILE..." it only
 * writes a bundle of the FILEs (named by their base names) without linting
 * them: tests/e2e/bundle_apply.sh makes its bundle of broken rules this
 * way, which kanshi-sig refuses to sign.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kanshi/bundle.h"
#include "kanshi/bundle_apply.h"
#include "kanshi/detect.h"
#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "test.h"

static struct bundle_seckey sk_rel, sk_other;
static struct bundle_pubkey pk_rel, pk_other;
static char err[2048];
static char root[256];

static const char good_rules[] =
    "alert udp any any -> any any (msg:\"bundle rule\"; content:\"MARKB\"; sid:77;)\n";
static const char bad_rules[] = "alert udp any any -> any any (msg:\"broken\"; nosuchkeyword; "
                                "sid:78;)\n";
static const char class_text[] = "config classification: bundle-test,Bundle test,2\n";
static const char vars_text[] = "vars:\n  address-groups:\n    HOME_NET: \"[10.9.0.0/16]\"\n";

/* A fresh directory under root. */
static const char *fresh_dir(const char *name)
{
    static char buf[512];
    char cmd[600];

    snprintf(buf, sizeof(buf), "%s/%s", root, name);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", buf);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot clean %s\n", buf);
    return buf;
}

static char *read_text(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    size_t n;

    if (f == NULL)
        return NULL;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A signed bundle: kind, version, minimum sensor version, with or without
 * the rules file being broken or present. */
static uint8_t *make_bundle(const struct bundle_seckey *sk, const char *kind, uint64_t version,
                            const char *minver, const char *rules, size_t *len)
{
    struct bundle_file f[4] = {
        {.name = "classification.config",
         .data = (const uint8_t *)class_text,
         .len = sizeof(class_text) - 1},
        {.name = "vars.yaml", .data = (const uint8_t *)vars_text, .len = sizeof(vars_text) - 1},
        {.name = "local.rules", .data = (const uint8_t *)rules, .len = rules ? strlen(rules) : 0},
    };
    struct bundle_info info = {.kind = kind, .version = version, .min_version = minver};
    uint8_t *out = NULL;

    if (bundle_build(&info, f, rules != NULL ? 3 : 2, sk, &out, len, err, sizeof(err)) != 0) {
        fprintf(stderr, "bundle_build: %s\n", err);
        return NULL;
    }
    return out;
}

/* The load step, as the sensor does it: every rule must load, the engine
 * must build.  Counts its calls and keeps the directory it was given. */
struct load_ctx {
    int calls;
    size_t nrules;
    char dir[4096];
};

static int load_rules(void *arg, const char *dir, char *e, size_t elen)
{
    struct load_ctx *c = arg;
    struct rule_vars *vars = NULL;
    struct ruleset *rs = NULL;
    struct detect_engine *de = NULL;
    int rc;

    c->calls++;
    snprintf(c->dir, sizeof(c->dir), "%s", dir);
    if (rule_vars_create(&vars) != 0 || rule_vars_set_defaults(vars) != 0 ||
        ruleset_create(&rs, vars, NULL, NULL) != 0) {
        rule_vars_destroy(vars);
        return -ENOMEM;
    }
    if ((rc = ruleset_load_path(rs, dir)) < 0) {
        snprintf(e, elen, "%s: %s", dir, kanshi_strerror(rc));
    } else if (rs->nerrors > 0) {
        snprintf(e, elen, "%zu rules could not be loaded", rs->nerrors);
        rc = KANSHI_EPARSE;
    } else {
        rc = detect_engine_create(&de, rs, e, elen);
        c->nrules = rs->nrules;
    }
    detect_engine_destroy(de);
    ruleset_destroy(rs);
    return rc < 0 ? rc : 0;
}

static struct bundle_store *open_store(const char *dir)
{
    struct bundle_pubkey keys[1] = {pk_rel};
    struct bundle_store *st = NULL;

    if (bundle_store_open(&st, dir, keys, 1, err, sizeof(err)) != 0) {
        fprintf(stderr, "bundle_store_open: %s\n", err);
        return NULL;
    }
    if (bundle_store_mkdir(st, err, sizeof(err)) != 0)
        fprintf(stderr, "bundle_store_mkdir: %s\n", err);
    return st;
}

/* Number of entries in dir other than . and .. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

TEST(apply_good_bundle)
{
    const char *dir = fresh_dir("good");
    struct bundle_store *st = open_store(dir);
    struct bundle_staged sg;
    struct load_ctx lc = {0};
    char path[4200], want[4000];
    size_t len;
    uint8_t *b = make_bundle(&sk_rel, BUNDLE_KIND_RULES, 3, "0.1.0", good_rules, &len);
    uint64_t v = 99;

    CHECK(st != NULL && b != NULL);
    if (st == NULL || b == NULL)
        return;
    CHECK_INT(bundle_store_version(st), 0);
    CHECK_INT(bundle_apply_prepare(st, b, len, load_rules, &lc, &sg, err, sizeof(err)), 0);
    CHECK_INT(sg.refusal, BUNDLE_REFUSE_NONE);
    CHECK_INT(sg.version, 3);
    CHECK_INT(sg.nfiles, 3);
    snprintf(want, sizeof(want), "%.600s/3", dir);
    CHECK_STR(sg.dir, want);
    CHECK_INT(lc.calls, 1);
    CHECK_STR(lc.dir, want);
    CHECK_INT(lc.nrules, 1);
    /* Every file unpacked with its contents, nothing else. */
    snprintf(path, sizeof(path), "%s/local.rules", want);
    CHECK_STR(read_text(path), good_rules);
    snprintf(path, sizeof(path), "%s/vars.yaml", want);
    CHECK_STR(read_text(path), vars_text);
    snprintf(path, sizeof(path), "%s/classification.config", want);
    CHECK_STR(read_text(path), class_text);
    CHECK_INT(count_entries(want), 3);
    /* Not running until committed: the state still says none. */
    CHECK_INT(bundle_store_version(st), 0);
    CHECK_INT(bundle_state_read(dir, &v, err, sizeof(err)), 0);
    CHECK_INT(v, 0);
    CHECK_INT(bundle_apply_commit(st, &sg, err, sizeof(err)), 0);
    CHECK_INT(bundle_store_version(st), 3);
    CHECK_INT(bundle_state_read(dir, &v, err, sizeof(err)), 0);
    CHECK_INT(v, 3);
    /* The store holds the state file and 3/, no temporary left. */
    CHECK_INT(count_entries(dir), 2);
    free(b);
    bundle_store_close(st);
}

TEST(refuse_bad_signature)
{
    const char *dir = fresh_dir("badsig");
    struct bundle_store *st = open_store(dir);
    struct bundle_staged sg;
    struct load_ctx lc = {0};
    size_t len;
    uint8_t *b = make_bundle(&sk_rel, BUNDLE_KIND_RULES, 3, NULL, good_rules, &len);

    if (st == NULL || b == NULL) {
        CHECK(0);
        return;
    }
    b[len - 10] ^= 0x01; /* in the signature */
    CHECK(bundle_apply_prepare(st, b, len, load_rules, &lc, &sg, err, sizeof(err)) < 0);
    CHECK_INT(sg.refusal, BUNDLE_REFUSE_INVALID);
    CHECK_CONTAINS(err, "signature");
    b[len - 10] ^= 0x01;
    b[len - 100] ^= 0x80; /* in the signed data */
    CHECK(bundle_apply_prepare(st, b, len, load_rules, &lc, &sg, err, sizeof(err)) < 0);
    CHECK_INT(sg.refusal, BUNDLE_REFUSE_INVALID);
    CHECK_CONTAINS(err, "signature");
    CHECK_INT(lc.calls, 0);
    CHECK_INT(bundle_store_version(st), 0);
    CHECK_INT(count_entries(dir), 0);
    free(b);
    bundle_store_close(st);
}

TEST(refuse_unknown_key)
{
    const char *dir = fresh_dir("otherkey");
    struct bundle_store *st = open_store(dir);
    struct bundle_staged sg;
    struct load_ctx lc = {0};
    size_t len;
    uint8_t *b = make_bundle(&sk_other, BUNDLE_KIND_RULES, 5, NULL, good_rules, &len);

    if (st == NULL || b == NULL) {
        CHECK(0);
        return;
    }
    CHECK(bundle_apply_prepare(st, b, len, load_rules, &lc, &sg, err, sizeof(err)) < 0);
    CHECK_INT(sg.refusal, BUNDLE_REFUSE_INVALID);
    CHECK_CONTAINS(err, "key id");
    CHECK_INT(lc.calls, 0);
    CHECK_INT(count_entries(dir), 0);
    free(b);
    bundle_store_close(st);
}

TEST(refuse_corrupt)
{
    const char *dir = fresh_dir("corrupt");
    struct bundle_store *st = open_store(dir);
    struct bundle_staged sg;
    struct load_ctx lc = {0};
    char path[600];
    size_t len;
    uint8_t *b = make_bundle(&sk_rel, BUNDLE_KIND_RULES, 5, NULL, good_rules, &len);

    if (st == NULL || b == NULL) {
        CHECK(0);
        return;
    }
    /* Truncated (a cut transfer), garbage, empty. */
    CHECK(bundle_apply_prepare(st, b, len / 2, load_rules, &lc, &sg, err, sizeof(err)) < 0);
    CHECK_INT(sg.refusal, BUNDLE_REFUSE_INVALID);
    CHECK(bundle_apply_prepare(st, (const uint8_t *)"hello", 5, load_rules, &lc, &sg, err,
                               sizeof(err)) < 0);
    CHECK_INT(sg.refusal, BUNDLE_REFUSE_INVALID);
    /* From a file: a missing one, and one holding a cut bundle. */
    snprintf(path, sizeof(path), "%s/none.bundle", root);
    CHECK(bundle_apply_file(st, path, load_rules, &lc, &sg, err, sizeof(err)) < 0);
    CHECK_INT(sg.refusal, BUNDLE_REFUSE_IO);
    CHECK_CONTAINS(err, "none.bundle");
    snprintf(path, sizeof(path), "%s/cut.bundle", root);
    {
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        if (f != NULL) {
            fwrite(b, 1, len - 1, f);
            fclose(f);
        }
    }
    CHECK(bundle_apply_file(st, path, load_rules, &lc, &sg, err, sizeof(err)) < 0);
    CHECK_INT(sg.refusal, BUNDLE_REFUSE_INVALID);
    CHECK_INT(lc.calls, 0);
    CHECK_INT(count_entries(dir), 0);
    free(b);
    bundle_store_close(st);
}

TEST(refuse_wrong_kind)
{
    const char *dir = fresh_dir("kind");
    struct bundle_store *st = open_store(dir);
    struct bundle_staged sg;
    struct load_ctx lc = {0};
    size_t len;
    uint8_t *b = make_bundle(&sk_rel, BUNDLE_KIND_FIRMWARE, 5, NULL, good_rules, &len);

    if (st == NULL || b == NULL) {
        CHECK(0);
        return;
    }
    CHECK(bundle_apply_prepare(st, b, len, load_rules, &lc, &sg, err, sizeof(err)) < 0);
    CHECK_INT(sg.refusal, BUNDLE_REFUSE_KIND);
    CHECK_INT(sg.version, 5);
    CHECK_CONTAINS(err, "kind 'firmware'");
    CHECK_STR(bundle_refusal_name(sg.refusal), "wrong-kind");
    CHECK_INT(lc.calls, 0);
    CHECK_INT(count_entries(dir), 0);
    free(b);
    bundle_store_close(st);
}

/* Applies version v; returns the prepare's code (committed when 0). */
static int apply_version(struct bundle_store *st, uint64_t v, struct bundle_staged *sg)
{
    struct load_ctx lc = {0};
    size_t len;
    uint8_t *b = make_bundle(&sk_rel, BUNDLE_KIND_RULES, v, NULL, good_rules, &len);
    int rc;

    if (b == NULL)
        return -ENOMEM;
    rc = bundle_apply_prepare(st, b, len, load_rules, &lc, sg, err, sizeof(err));
    if (rc == 0)
        rc = bundle_apply_commit(st, sg, err, sizeof(err));
    free(b);
    return rc;
}

TEST(refuse_rollback_across_restart)
{
    const char *dir = fresh_dir("rollback");
    char dirc[512];
    struct bundle_store *st = open_store(dir);
    struct bundle_staged sg;

    snprintf(dirc, sizeof(dirc), "%s", dir);
    if (st == NULL) {
        CHECK(0);
        return;
    }
    CHECK_INT(apply_version(st, 10, &sg), 0);
    CHECK_INT(bundle_store_version(st), 10);
    /* The same version and an older one are refused while it runs. */
    CHECK(apply_version(st, 10, &sg) < 0);
    CHECK_INT(sg.refusal, BUNDLE_REFUSE_ROLLBACK);
    CHECK_CONTAINS(err, "not newer than version 10");
    CHECK(apply_version(st, 9, &sg) < 0);
    CHECK_INT(sg.refusal, BUNDLE_REFUSE_ROLLBACK);
    bundle_store_close(st);

    /* A restart: a new store reads version 10 from the state file. */
    st = open_store(dirc);
    if (st == NULL) {
        CHECK(0);
        return;
    }
    CHECK_INT(bundle_store_version(st), 10);
    CHECK(apply_version(st, 2, &sg) < 0);
    CHECK_INT(sg.refusal, BUNDLE_REFUSE_ROLLBACK);
    CHECK_STR(bundle_refusal_name(sg.refusal), "rollback");
    /* Nothing of the refused ones was written. */
    {
        char p[600];
        snprintf(p, sizeof(p), "%s/2", dirc);
        CHECK(!exists(p));
        snprintf(p, sizeof(p), "%s/10/local.rules", dirc);
        CHECK(exists(p));
    }
    /* A rollback is a newer version carrying older rules: taken. */
    CHECK_INT(apply_version(st, 11, &sg), 0);
    CHECK_INT(bundle_store_version(st), 11);
    bundle_store_close(st);
}

TEST(refuse_newer_sensor)
{
    const char *dir = fresh_dir("minver");
    struct bundle_store *st = open_store(dir);
    struct bundle_staged sg;
    struct load_ctx lc = {0};
    size_t len;
    uint8_t *b = make_bundle(&sk_rel, BUNDLE_KIND_RULES, 4, "99.0.0", good_rules, &len);

    if (st == NULL || b == NULL) {
        CHECK(0);
        return;
    }
    CHECK(bundle_apply_prepare(st, b, len, load_rules, &lc, &sg, err, sizeof(err)) < 0);
    CHECK_INT(sg.refusal, BUNDLE_REFUSE_SENSOR);
    CHECK_CONTAINS(err, "needs sensor version 99.0.0");
    CHECK_CONTAINS(err, KANSHI_VERSION);
    CHECK_INT(lc.calls, 0);
    free(b);
    /* The running version itself is fine. */
    b = make_bundle(&sk_rel, BUNDLE_KIND_RULES, 4, KANSHI_VERSION, good_rules, &len);
    CHECK(b != NULL);
    if (b != NULL)
        CHECK_INT(bundle_apply_prepare(st, b, len, load_rules, &lc, &sg, err, sizeof(err)), 0);
    free(b);
    bundle_store_close(st);
}

TEST(refuse_rules)
{
    const char *dir = fresh_dir("rules");
    struct bundle_store *st = open_store(dir);
    struct bundle_staged sg;
    struct load_ctx lc = {0};
    char p[600];
    size_t len;
    uint8_t *b = make_bundle(&sk_rel, BUNDLE_KIND_RULES, 6, NULL, bad_rules, &len);

    if (st == NULL || b == NULL) {
        CHECK(0);
        return;
    }
    CHECK(bundle_apply_prepare(st, b, len, load_rules, &lc, &sg, err, sizeof(err)) < 0);
    CHECK_INT(sg.refusal, BUNDLE_REFUSE_RULES);
    CHECK_CONTAINS(err, "version 6 not applied: rules: 1 rules could not be loaded");
    CHECK_INT(lc.calls, 1);
    /* What was unpacked for the load is gone again. */
    snprintf(p, sizeof(p), "%s/6", dir);
    CHECK(!exists(p));
    CHECK_INT(count_entries(dir), 0);
    CHECK_INT(bundle_store_version(st), 0);
    free(b);
    /* No rules file at all. */
    b = make_bundle(&sk_rel, BUNDLE_KIND_RULES, 7, NULL, NULL, &len);
    CHECK(b != NULL);
    if (b != NULL) {
        CHECK(bundle_apply_prepare(st, b, len, load_rules, &lc, &sg, err, sizeof(err)) < 0);
        CHECK_INT(sg.refusal, BUNDLE_REFUSE_RULES);
        CHECK_CONTAINS(err, "no *.rules file");
        CHECK_INT(lc.calls, 1);
    }
    free(b);
    bundle_store_close(st);
}

TEST(abort_and_leftovers)
{
    const char *dir = fresh_dir("abort");
    char dirc[512], p[700];
    struct bundle_store *st;
    struct bundle_staged sg;
    struct load_ctx lc = {0};
    size_t len;
    uint8_t *b = make_bundle(&sk_rel, BUNDLE_KIND_RULES, 8, NULL, good_rules, &len);

    snprintf(dirc, sizeof(dirc), "%s", dir);
    st = open_store(dirc);
    if (st == NULL || b == NULL) {
        CHECK(0);
        return;
    }
    /* A directory 8/ left by an attempt that was never committed (a crash
     * between unpacking and the swap), with a stray file in it, and a
     * temporary directory: replaced / removed. */
    snprintf(p, sizeof(p), "%s/8", dirc);
    CHECK_INT(mkdir(p, 0750), 0);
    snprintf(p, sizeof(p), "%s/8/stale.rules", dirc);
    CHECK_INT(write_text(p, "garbage\n"), 0);
    snprintf(p, sizeof(p), "%s/.tmp-1-1", dirc);
    CHECK_INT(mkdir(p, 0750), 0);
    CHECK_INT(bundle_apply_prepare(st, b, len, load_rules, &lc, &sg, err, sizeof(err)), 0);
    snprintf(p, sizeof(p), "%s/8/stale.rules", dirc);
    CHECK(!exists(p));
    CHECK_INT(count_entries(sg.dir), 3);
    /* The swap did not happen: abort removes it. */
    bundle_apply_abort(st, &sg);
    CHECK(!exists(sg.dir));
    CHECK_INT(bundle_store_version(st), 0);
    /* Applied for real this time; the commit clears the temporary. */
    CHECK_INT(bundle_apply_prepare(st, b, len, load_rules, &lc, &sg, err, sizeof(err)), 0);
    CHECK_INT(bundle_apply_commit(st, &sg, err, sizeof(err)), 0);
    snprintf(p, sizeof(p), "%s/.tmp-1-1", dirc);
    CHECK(!exists(p));
    /* Abort never removes the running version. */
    bundle_apply_abort(st, &sg);
    CHECK(exists(sg.dir));
    free(b);
    bundle_store_close(st);
}

TEST(prune_keeps_two)
{
    const char *dir = fresh_dir("prune");
    char dirc[512], p[700];
    struct bundle_store *st;
    struct bundle_staged sg;

    snprintf(dirc, sizeof(dirc), "%s", dir);
    st = open_store(dirc);
    if (st == NULL) {
        CHECK(0);
        return;
    }
    CHECK_INT(apply_version(st, 3, &sg), 0);
    CHECK_INT(apply_version(st, 4, &sg), 0);
    CHECK_INT(apply_version(st, 6, &sg), 0);
    snprintf(p, sizeof(p), "%s/3", dirc);
    CHECK(!exists(p));
    snprintf(p, sizeof(p), "%s/4", dirc);
    CHECK(exists(p));
    snprintf(p, sizeof(p), "%s/6", dirc);
    CHECK(exists(p));
    CHECK_INT(count_entries(dirc), 3); /* state, 4, 6 */
    bundle_store_close(st);
}

TEST(state_file_atomic)
{
    const char *dir = fresh_dir("state");
    char dirc[512], p[700], q[700];
    struct bundle_store *st = NULL;
    uint64_t v = 0;

    snprintf(dirc, sizeof(dirc), "%s", dir);
    CHECK_INT(mkdir(dirc, 0750), 0);
    /* Missing: version 0. */
    CHECK_INT(bundle_state_read(dirc, &v, err, sizeof(err)), 0);
    CHECK_INT(v, 0);
    CHECK_INT(bundle_state_write(dirc, 41, err, sizeof(err)), 0);
    snprintf(p, sizeof(p), "%s/state", dirc);
    snprintf(q, sizeof(q), "%s/state.tmp", dirc);
    CHECK_STR(read_text(p), "kanshi-bundle-state 1\nversion 41\n");
    CHECK(!exists(q));
    /* A crash while writing the next one leaves state.tmp half written:
     * the state still reads 41, and the next write replaces the leftover. */
    CHECK_INT(write_text(q, "kanshi-bundle-state 1\nvers"), 0);
    CHECK_INT(bundle_state_read(dirc, &v, err, sizeof(err)), 0);
    CHECK_INT(v, 41);
    CHECK_INT(bundle_state_write(dirc, 42, err, sizeof(err)), 0);
    CHECK_INT(bundle_state_read(dirc, &v, err, sizeof(err)), 0);
    CHECK_INT(v, 42);
    CHECK(!exists(q));
    /* A state file that does not parse: the store refuses to open, it does
     * not guess version 0 (that would let any old bundle in). */
    CHECK_INT(write_text(p, "version 42\n"), 0);
    CHECK_INT(bundle_state_read(dirc, &v, err, sizeof(err)), KANSHI_EPARSE);
    CHECK_INT(bundle_store_open(&st, dirc, &pk_rel, 1, err, sizeof(err)), KANSHI_EPARSE);
    CHECK(st == NULL);
    CHECK_CONTAINS(err, "state");
    CHECK_INT(write_text(p, "kanshi-bundle-state 1\nversion 12x\n"), 0);
    CHECK_INT(bundle_state_read(dirc, &v, err, sizeof(err)), KANSHI_EPARSE);
    CHECK_INT(write_text(p, "kanshi-bundle-state 1\nversion 99999999999999999999999\n"), 0);
    CHECK_INT(bundle_state_read(dirc, &v, err, sizeof(err)), KANSHI_EPARSE);
    /* Unwritable store: the write fails and says where. */
    CHECK(bundle_state_write("/nonexistent/kanshi", 1, err, sizeof(err)) < 0);
    CHECK_CONTAINS(err, "/nonexistent/kanshi/state");
}

TEST(version_compare)
{
    CHECK(bundle_version_cmp("0.1.0", "0.1.0") == 0);
    CHECK(bundle_version_cmp("0.1", "0.1.0") == 0);
    CHECK(bundle_version_cmp("0.2.0", "0.10.0") < 0);
    CHECK(bundle_version_cmp("1.0.0", "0.99.99") > 0);
    CHECK(bundle_version_cmp("0.1.1", "0.1.0") > 0);
    CHECK(bundle_version_cmp("0.2.0-rc1", "0.2.0") < 0);
    CHECK(bundle_version_cmp("0.2.0", "0.2.0-rc1") > 0);
    CHECK(bundle_version_cmp("0.2.0-rc1", "0.2.0-rc2") < 0);
    CHECK(bundle_version_cmp("", "0") == 0);
    CHECK(bundle_version_cmp("99999999999999999999999", "1") > 0);
}

TEST(drop_directory)
{
    const char *dir = fresh_dir("incoming");
    char dirc[512], p[700], name[256];

    snprintf(dirc, sizeof(dirc), "%s", dir);
    CHECK_INT(mkdir(dirc, 0750), 0);
    CHECK_INT(bundle_incoming_next(dirc, name, sizeof(name)), 0);
    snprintf(p, sizeof(p), "%s/b.bundle", dirc);
    CHECK_INT(write_text(p, "b"), 0);
    snprintf(p, sizeof(p), "%s/a.bundle", dirc);
    CHECK_INT(write_text(p, "a"), 0);
    snprintf(p, sizeof(p), "%s/.0.bundle", dirc); /* being written */
    CHECK_INT(write_text(p, "."), 0);
    snprintf(p, sizeof(p), "%s/0.txt", dirc);
    CHECK_INT(write_text(p, "x"), 0);
    CHECK_INT(bundle_incoming_next(dirc, name, sizeof(name)), 1);
    CHECK_STR(name, "a.bundle");
    snprintf(p, sizeof(p), "%s/a.bundle", dirc);
    CHECK_INT(bundle_incoming_reject(p, "rollback: version 2 not newer than 3"), 0);
    CHECK(!exists(p));
    snprintf(p, sizeof(p), "%s/a.bundle.rejected", dirc);
    CHECK_STR(read_text(p), "a");
    snprintf(p, sizeof(p), "%s/a.bundle.rejected.reason", dirc);
    CHECK_STR(read_text(p), "rollback: version 2 not newer than 3\n");
    CHECK_INT(bundle_incoming_next(dirc, name, sizeof(name)), 1);
    CHECK_STR(name, "b.bundle");
    /* A refused file of the same name again replaces the older rejection. */
    snprintf(p, sizeof(p), "%s/a.bundle", dirc);
    CHECK_INT(write_text(p, "a2"), 0);
    CHECK_INT(bundle_incoming_reject(p, "second"), 0);
    snprintf(p, sizeof(p), "%s/a.bundle.rejected", dirc);
    CHECK_STR(read_text(p), "a2");
    snprintf(p, sizeof(p), "%s/missing", root);
    CHECK_INT(bundle_incoming_next(p, name, sizeof(name)), -ENOENT);
}

/* --make-bundle SECKEY VERSION KIND MINVER OUT FILE...: for the e2e test. */
static int make_bundle_main(int argc, char **argv)
{
    struct bundle_seckey sk;
    struct bundle_file *f;
    struct bundle_info info = {0};
    uint8_t *out = NULL;
    size_t outlen = 0, nf = (size_t)(argc - 7);
    FILE *o;

    if (argc < 8) {
        fprintf(stderr, "usage: %s --make-bundle SECKEY VERSION KIND MINVER OUT FILE...\n",
                argv[0]);
        return 2;
    }
    if (bundle_seckey_load(argv[2], &sk, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    info.version = strtoull(argv[3], NULL, 10);
    info.kind = argv[4];
    info.min_version = argv[5];
    f = calloc(nf, sizeof(*f));
    for (size_t i = 0; f != NULL && i < nf; i++) {
        const char *path = argv[7 + i], *base = strrchr(path, '/');
        uint8_t *data;
        size_t len;
        if (bundle_read_file(path, 1u << 26, &data, &len, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        f[i] = (struct bundle_file){.name = base ? base + 1 : path, .data = data, .len = len};
    }
    if (f == NULL || bundle_build(&info, f, nf, &sk, &out, &outlen, err, sizeof(err)) != 0) {
        fprintf(stderr, "bundle_build: %s\n", err);
        return 1;
    }
    if ((o = fopen(argv[6], "w")) == NULL || fwrite(out, 1, outlen, o) != outlen ||
        fclose(o) != 0) {
        perror(argv[6]);
        return 1;
    }
    for (size_t i = 0; i < nf; i++)
        free((void *)f[i].data);
    free(f);
    free(out);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--make-bundle") == 0)
        return make_bundle_main(argc, argv);
    snprintf(root, sizeof(root), "/tmp/kanshi-bundle-apply-test.%ld", (long)getpid());
    if (mkdir(root, 0700) != 0 || bundle_keygen(&sk_rel, &pk_rel) != 0 ||
        bundle_keygen(&sk_other, &pk_other) != 0) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    RUN(apply_good_bundle);
    RUN(refuse_bad_signature);
    RUN(refuse_unknown_key);
    RUN(refuse_corrupt);
    RUN(refuse_wrong_kind);
    RUN(refuse_rollback_across_restart);
    RUN(refuse_newer_sensor);
    RUN(refuse_rules);
    RUN(abort_and_leftovers);
    RUN(prune_keeps_two);
    RUN(state_file_atomic);
    RUN(version_compare);
    RUN(drop_directory);
    if (test_failed == 0) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", root);
    }
    return test_summary("bundle_apply");
}
