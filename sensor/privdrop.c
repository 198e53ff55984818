/*
 * privdrop.c — drop root after opening capture handles (OpenBSD ntpd's
 * "privdrop before speaking to the outside world").  See privdrop.h.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "kanshi/kanshi.h"
#include "kanshi/privdrop.h"

int privdrop_to(const char *user, char *err, size_t errlen)
{
    if (user != NULL && *user != '\0') {
        struct passwd *pw = getpwnam(user);
        uid_t ruid, euid, suid;

        if (pw == NULL) {
            snprintf(err, errlen, "user '%s': no such user", user);
            return -ENOENT;
        }
        if (geteuid() == 0) {
            if (setgroups(1, &pw->pw_gid) != 0 ||
                setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
                setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
                int e = errno;
                snprintf(err, errlen, "dropping privileges to '%s': %s", user, strerror(e));
                return -e;
            }
            /* Paranoia: it must be impossible to get root back. */
            if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
                snprintf(err, errlen, "dropping privileges to '%s': could regain root", user);
                return -EPERM;
            }
        } else if (geteuid() != pw->pw_uid) {
            snprintf(err, errlen, "cannot switch to user '%s': not running as root", user);
            return -EPERM;
        }
        if (getresuid(&ruid, &euid, &suid) != 0 || ruid != pw->pw_uid || euid != pw->pw_uid ||
            suid != pw->pw_uid) {
            snprintf(err, errlen, "dropping privileges to '%s': ids did not change", user);
            return -EPERM;
        }
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        int e = errno;
        snprintf(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(e));
        return -e;
    }
    return 0;
}
