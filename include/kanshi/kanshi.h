/*
 * kanshi.h — what every kanshi component shares: error codes, the one logging
 * path, and a few size helpers.
 *
 * Error convention (STYLE.md): 0 is success, a negative value an error — a
 * negated errno (-EINVAL, -ENOMEM, ...) or one of the KANSHI_E* codes below.
 * kanshi_strerror() names both kinds.  Positive values are documented counts.
 *
 * Logging: log_warn() appends strerror(errno); log_warnx() does not.  fatal()
 * and fatalx() log and exit(1); only program start-up code (main and what it
 * calls before the first packet) may use them.  The packet path never logs.
 */
#ifndef KANSHI_KANSHI_H
#define KANSHI_KANSHI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define KANSHI_VERSION "0.1.0"

/* Project error codes, below the errno range. */
enum {
    KANSHI_EPARSE = -1000, /* input did not parse (rule, config, message) */
    KANSHI_EUNSUPPORTED,   /* valid syntax, feature not supported */
    KANSHI_EHS,            /* Hyperscan returned an error */
    KANSHI_EPCAP,          /* libpcap returned an error */
    KANSHI_EMMDB,          /* libmaxminddb returned an error */
    KANSHI_ELIMIT,         /* a configured limit (memcap, size cap) was hit */
};

/* Returns a static string naming err (negative errno or KANSHI_E*). */
const char *kanshi_strerror(int err);

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Sets the program name printed before each line and the most verbose level
 * printed.  May be called again (e.g. after reading the config). */
void log_init(const char *progname, enum log_level level);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Overflow-checked allocation helpers: NULL on overflow or out of memory. */
void *kanshi_reallocarray(void *p, size_t n, size_t size);
void *kanshi_calloc(size_t n, size_t size);

/* Value of one hexadecimal digit, or -1 when c is not one. */
static inline int kanshi_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#define KANSHI_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
