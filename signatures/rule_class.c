/*
 * rule_class.c — classtypes: the built-in standard table (what Suricata and
 * Snort ship as classification.config) and loading further tables in that
 * format, "config classification: name,description,priority".
 *
 * A rule's classtype must be known when the rule is added, because it sets
 * the rule's default priority; an unknown classtype is a load error.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kanshi/kanshi.h"
#include "kanshi/rules.h"
#include "rule_int.h"

static const struct {
    const char *name, *description;
    int priority;
} class_defaults[] = {
    {"not-suspicious", "Not Suspicious Traffic", 3},
    {"unknown", "Unknown Traffic", 3},
    {"bad-unknown", "Potentially Bad Traffic", 2},
    {"attempted-recon", "Attempted Information Leak", 2},
    {"successful-recon-limited", "Information Leak", 2},
    {"successful-recon-largescale", "Large Scale Information Leak", 2},
    {"attempted-dos", "Attempted Denial of Service", 2},
    {"successful-dos", "Denial of Service", 2},
    {"attempted-user", "Attempted User Privilege Gain", 1},
    {"unsuccessful-user", "Unsuccessful User Privilege Gain", 1},
    {"successful-user", "Successful User Privilege Gain", 1},
    {"attempted-admin", "Attempted Administrator Privilege Gain", 1},
    {"successful-admin", "Successful Administrator Privilege Gain", 1},
    {"rpc-portmap-decode", "Decode of an RPC Query", 2},
    {"shellcode-detect", "Executable code was detected", 1},
    {"string-detect", "A suspicious string was detected", 3},
    {"suspicious-filename-detect", "A suspicious filename was detected", 2},
    {"suspicious-login", "An attempted login using a suspicious username was detected", 2},
    {"system-call-detect", "A system call was detected", 2},
    {"tcp-connection", "A TCP connection was detected", 4},
    {"trojan-activity", "A Network Trojan was detected", 1},
    {"unusual-client-port-connection", "A client was using an unusual port", 2},
    {"network-scan", "Detection of a Network Scan", 3},
    {"denial-of-service", "Detection of a Denial of Service Attack", 2},
    {"non-standard-protocol", "Detection of a non-standard protocol or event", 2},
    {"protocol-command-decode", "Generic Protocol Command Decode", 3},
    {"web-application-activity", "access to a potentially vulnerable web application", 2},
    {"web-application-attack", "Web Application Attack", 1},
    {"misc-activity", "Misc activity", 3},
    {"misc-attack", "Misc Attack", 2},
    {"icmp-event", "Generic ICMP event", 3},
    {"inappropriate-content", "Inappropriate Content was Detected", 1},
    {"policy-violation", "Potential Corporate Privacy Violation", 1},
    {"default-login-attempt", "Attempt to login by a default username and password", 2},
    {"sdf", "Sensitive Data was Transmitted Across the Network", 2},
    {"file-format", "Known malicious file or file based exploit", 1},
    {"malware-cnc", "Known malware command and control traffic", 1},
    {"client-side-exploit", "Known client side exploit attempt", 1},
    {"targeted-activity", "Targeted Malicious Activity was Detected", 1},
    {"exploit-kit", "Exploit Kit Activity Detected", 1},
    {"external-ip-check", "Device Retrieving External IP Address Detected", 2},
    {"domain-c2", "Domain Observed Used for C2 Detected", 1},
    {"pup-activity", "Possibly Unwanted Program Detected", 2},
    {"credential-theft", "Successful Credential Theft Detected", 1},
    {"social-engineering", "Possible Social Engineering Attempted", 2},
    {"coin-mining", "Crypto Currency Mining Activity Detected", 2},
    {"command-and-control", "Malware Command and Control Activity Detected", 1},
};

const struct rule_class *ruleset_find_class(const struct ruleset *rs, const char *name)
{
    for (size_t i = 0; i < rs->nclasses; i++)
        if (strcasecmp(rs->classes[i].name, name) == 0)
            return &rs->classes[i];
    return NULL;
}

/* Adds a classtype or replaces the description and priority of a known one. */
static int class_set(struct ruleset *rs, const char *name, const char *desc, int priority)
{
    struct rule_class *c = (struct rule_class *)ruleset_find_class(rs, name);
    char *d = strdup(desc);

    if (d == NULL)
        return -ENOMEM;
    if (c != NULL) {
        free(c->description);
        c->description = d;
        c->priority = priority;
        return 0;
    }
    c = kanshi_reallocarray(rs->classes, rs->nclasses + 1, sizeof(*c));
    if (c == NULL) {
        free(d);
        return -ENOMEM;
    }
    rs->classes = c;
    c = &rs->classes[rs->nclasses];
    c->name = strdup(name);
    if (c->name == NULL) {
        free(d);
        return -ENOMEM;
    }
    c->description = d;
    c->priority = priority;
    rs->nclasses++;
    return 0;
}

int rule_class_init_defaults(struct ruleset *rs)
{
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(class_defaults); i++) {
        int rc = class_set(rs, class_defaults[i].name, class_defaults[i].description,
                           class_defaults[i].priority);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void rule_class_free_all(struct ruleset *rs)
{
    for (size_t i = 0; i < rs->nclasses; i++) {
        free(rs->classes[i].name);
        free(rs->classes[i].description);
    }
    free(rs->classes);
    rs->classes = NULL;
    rs->nclasses = 0;
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

#define CLASS_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"

/* Skips the word w and any blanks after it; NULL when s does not start with w. */
static char *skip_word(char *s, const char *w)
{
    size_t n = strlen(w);

    if (strncasecmp(s, w, n) != 0)
        return NULL;
    s += n;
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

/*
 * Parses one non-comment line: config classification: name,description,prio.
 * The description may hold commas (the last comma separates the priority).
 * Returns 0, KANSHI_EPARSE with a reason in err, or -ENOMEM.
 */
static int class_parse_line(struct ruleset *rs, char *line, char *err, size_t errlen)
{
    char *p = skip_word(line, "config"), *name, *desc, *prio, *end;
    long priority;

    if (p == NULL || (p = skip_word(p, "classification")) == NULL || *p != ':') {
        snprintf(err, errlen, "expected 'config classification: name,description,priority'");
        return KANSHI_EPARSE;
    }
    name = p + 1;
    desc = strchr(name, ',');
    prio = strrchr(name, ',');
    if (desc == NULL || prio == desc) {
        snprintf(err, errlen, "expected name,description,priority");
        return KANSHI_EPARSE;
    }
    *desc++ = '\0';
    *prio++ = '\0';
    name = trim(name);
    desc = trim(desc);
    prio = trim(prio);
    if (!isalpha((unsigned char)name[0]) || name[strspn(name, CLASS_NAME_CHARS)] != '\0') {
        snprintf(err, errlen, "invalid classtype name '%.64s'", name);
        return KANSHI_EPARSE;
    }
    errno = 0;
    priority = strtol(prio, &end, 10);
    if (prio[0] < '0' || prio[0] > '9' || *end != '\0' || errno != 0 || priority > 255) {
        snprintf(err, errlen, "invalid priority '%.32s'", prio);
        return KANSHI_EPARSE;
    }
    return class_set(rs, name, desc, (int)priority);
}

int ruleset_load_classification(struct ruleset *rs, const char *path)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, err[160], msg[200];
    size_t cap = 0;
    unsigned lineno = 0;
    int ret = 0;

    if (f == NULL)
        return -errno;
    while (getline(&line, &cap, f) >= 0) {
        char *s = trim(line);
        int rc;

        lineno++;
        if (s[0] == '\0' || s[0] == '#')
            continue;
        rc = class_parse_line(rs, s, err, sizeof(err));
        if (rc == -ENOMEM) {
            ret = rc;
            break;
        }
        if (rc != 0) {
            ret = KANSHI_EPARSE;
            snprintf(msg, sizeof(msg), "classification: %s", err);
            if (rs->on_error != NULL)
                rs->on_error(rs->on_error_arg, path, lineno, msg);
        }
    }
    if (ret == 0 && ferror(f))
        ret = -EIO;
    free(line);
    fclose(f);
    return ret;
}
