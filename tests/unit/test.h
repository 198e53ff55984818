/*
 * test.h — the tiny assertion header of kanshi's unit tests.
 *
 * A test program defines TEST(name) functions and calls RUN(name) for each
 * from main(), then returns test_summary().  A test passes when none of its
 * CHECKs failed; a failed CHECK prints file:line and the expression and the
 * test goes on (so one run shows every failure).  test_summary() prints
 * "NAME: N passed, N failed[, N skipped]", the line tests/run.sh reads.
 *
 * Tests that need ../shared (real MaxMind databases, real pcaps) find it with
 * test_shared_path(); when absent they call SKIP() with the reason.
 */
#ifndef KANSHI_TEST_H
#define KANSHI_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int test_passed, test_failed, test_skipped;
static int test_cur_failed, test_cur_skipped;
static const char *test_cur_name;

#define TEST(name) static void name(void)

#define RUN(name)                                                                          \
    do {                                                                                   \
        test_cur_failed = 0;                                                               \
        test_cur_skipped = 0;                                                              \
        test_cur_name = #name;                                                             \
        name();                                                                            \
        if (test_cur_failed)                                                               \
            test_failed++;                                                                 \
        else if (test_cur_skipped)                                                         \
            test_skipped++;                                                                \
        else                                                                               \
            test_passed++;                                                                 \
    } while (0)

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__,           \
                    test_cur_name, #cond);                                                 \
            test_cur_failed = 1;                                                           \
        }                                                                                  \
    } while (0)

#define CHECK_INT(a, b)                                                                    \
    do {                                                                                   \
        long long va_ = (long long)(a), vb_ = (long long)(b);                              \
        if (va_ != vb_) {                                                                  \
            fprintf(stderr, "%s:%d: %s: %s == %lld, expected %s == %lld\n", __FILE__,      \
                    __LINE__, test_cur_name, #a, va_, #b, vb_);                            \
            test_cur_failed = 1;                                                           \
        }                                                                                  \
    } while (0)

#define CHECK_STR(a, b)                                                                    \
    do {                                                                                   \
        const char *sa_ = (a), *sb_ = (b);                                                 \
        if (sa_ == NULL || sb_ == NULL || strcmp(sa_, sb_) != 0) {                         \
            fprintf(stderr, "%s:%d: %s: %s == \"%s\", expected \"%s\"\n", __FILE__,        \
                    __LINE__, test_cur_name, #a, sa_ ? sa_ : "(null)",                     \
                    sb_ ? sb_ : "(null)");                                                 \
            test_cur_failed = 1;                                                           \
        }                                                                                  \
    } while (0)

/* Substring check, for error messages. */
#define CHECK_CONTAINS(hay, needle)                                                        \
    do {                                                                                   \
        const char *h_ = (hay), *n_ = (needle);                                            \
        if (h_ == NULL || strstr(h_, n_) == NULL) {                                        \
            fprintf(stderr, "%s:%d: %s: \"%s\" does not contain \"%s\"\n", __FILE__,       \
                    __LINE__, test_cur_name, h_ ? h_ : "(null)", n_);                      \
            test_cur_failed = 1;                                                           \
        }                                                                                  \
    } while (0)

#define SKIP(why)                                                                          \
    do {                                                                                   \
        fprintf(stderr, "%s: SKIP: %s\n", test_cur_name, why);                             \
        test_cur_skipped = 1;                                                              \
        return;                                                                            \
    } while (0)

/* Path of a file under ../shared (or $KANSHI_SHARED), or NULL when absent.
 * Returns a static buffer. */
static inline const char *test_shared_path(const char *rel)
{
    static char buf[4096];
    const char *base = getenv("KANSHI_SHARED");
    if (base == NULL)
        base = "../shared";
    snprintf(buf, sizeof(buf), "%s/%s", base, rel);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

static inline int test_summary(const char *suite)
{
    if (test_skipped)
        printf("%s: %d passed, %d failed, %d skipped\n", suite, test_passed, test_failed,
               test_skipped);
    else
        printf("%s: %d passed, %d failed\n", suite, test_passed, test_failed);
    return test_failed ? 1 : 0;
}

#endif
