/*
 * rule_int.h — what the rule parser's own files share (signatures/rule_*.c)
 * and nothing outside them uses: the classification table's set-up and
 * tear-down, called by ruleset_create() and ruleset_destroy().
 */
#ifndef KANSHI_RULE_INT_H
#define KANSHI_RULE_INT_H

#include "kanshi/rules.h"

/* Fills rs->classes with the built-in standard classtypes.  0 or -ENOMEM. */
int rule_class_init_defaults(struct ruleset *rs);
/* Frees rs->classes. */
void rule_class_free_all(struct ruleset *rs);

#endif
