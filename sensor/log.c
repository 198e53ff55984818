/*
 * log.c — the one logging path of every kanshi program, and the names of
 * kanshi's error codes.
 *
 * Lines go to stderr as "PROG: message".  A daemon's stderr is captured by
 * its service manager (journald), so no syslog plumbing is needed here.
 * Logging is for start-up, reloads and rare events; the packet path counts
 * instead of logging.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kanshi/kanshi.h"

static const char *log_progname = "kanshi";
static enum log_level log_max = LOG_LEVEL_INFO;

void log_init(const char *progname, enum log_level level)
{
    if (progname != NULL)
        log_progname = progname;
    log_max = level;
}

__attribute__((format(printf, 3, 0))) static void log_vwrite(enum log_level lvl, int errnum,
                                                           const char *fmt, va_list ap)
{
    char msg[2048];

    if (lvl > log_max)
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (errnum != 0)
        fprintf(stderr, "%s: %s: %s\n", log_progname, msg, strerror(errnum));
    else
        fprintf(stderr, "%s: %s\n", log_progname, msg);
}

void log_warn(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(LOG_LEVEL_WARN, saved, fmt, ap);
    va_end(ap);
    errno = saved;
}

void log_warnx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(LOG_LEVEL_WARN, 0, fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(LOG_LEVEL_INFO, 0, fmt, ap);
    va_end(ap);
}

void log_debug(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(LOG_LEVEL_DEBUG, 0, fmt, ap);
    va_end(ap);
}

void fatal(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(LOG_LEVEL_ERROR, saved, fmt, ap);
    va_end(ap);
    exit(1);
}

void fatalx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(LOG_LEVEL_ERROR, 0, fmt, ap);
    va_end(ap);
    exit(1);
}

const char *kanshi_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case KANSHI_EPARSE:
        return "parse error";
    case KANSHI_EUNSUPPORTED:
        return "not supported";
    case KANSHI_EHS:
        return "Hyperscan error";
    case KANSHI_EPCAP:
        return "libpcap error";
    case KANSHI_EMMDB:
        return "MaxMind database error";
    case KANSHI_ELIMIT:
        return "limit reached";
    default:
        if (err < 0 && err > -4096)
            return strerror(-err);
        return "unknown error";
    }
}

void *kanshi_reallocarray(void *p, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, n * size);
}

void *kanshi_calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return calloc(n, size);
}
