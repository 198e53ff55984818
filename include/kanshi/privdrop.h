/*
 * privdrop.h — giving up root before the first packet is parsed.
 *
 * privdrop_to() switches to `user` (supplementary groups, gid, uid, all
 * three ids so root cannot be regained), and sets PR_SET_NO_NEW_PRIVS so no
 * later exec can gain privileges.  Run unprivileged from the start (tests,
 * CI) it takes the same path minus the uid change.  Returns 0 or -errno with
 * a message in err.
 */
#ifndef KANSHI_PRIVDROP_H
#define KANSHI_PRIVDROP_H

#include <stddef.h>

int privdrop_to(const char *user, char *err, size_t errlen);

#endif
