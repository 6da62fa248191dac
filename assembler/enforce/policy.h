/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The enforcer's rules and reports (DESIGN.md §5).
 *
 * policy_check() inspects a finished tree, reading file contents from the store, and returns
 * every finding of the rules its profile enables. Rule ids are stable: recipes disable them by
 * id and CI systems key annotations on them. The formats (text, JSON, SARIF 2.1.0) are made
 * here and printed by the command layer.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "tree/store.h"
#include "tree/tree.h"

#define POLICY_MAX_GLOBS    1024 /* allow-executables / --allow patterns */
#define POLICY_MAX_FINDINGS 100000

enum policy_profile {
        POLICY_STRICT = 1 << 0, /* prod default: every rule */
        POLICY_DEV = 1 << 1,    /* dev default: BusyBox, setuid, devices, interpreters */
};

enum policy_severity {
        POLICY_ERROR,
        POLICY_WARNING,
};

struct policy_rule {
        const char *id; /* "CAIRN-BUSYBOX" */
        enum policy_severity severity;
        unsigned profiles; /* enum policy_profile: where the rule is on by default */
        const char *title; /* short name */
        const char *help;  /* one line: why, and how to fix it */
        const char *basis; /* what the rule decides on (--list-rules, docs/enforcer.md) */
        unsigned warn_in;  /* enum policy_profile: where its findings are warnings */
};

/* Every rule, in a fixed order. */
const struct policy_rule *policy_rules(size_t *ret_n);
/* What no rule can see, a paragraph for --list-rules (static). */
const char *policy_scan_limits(void);
/* The rule with this id, or NULL. */
const struct policy_rule *policy_rule_find(const char *id);
/* What a finding of rule is worth under profile. */
enum policy_severity policy_rule_severity(const struct policy_rule *rule,
                                          enum policy_profile profile);

/* "strict" / "dev" -> profile; -EINVAL for anything else. */
int policy_profile_from_string(const char *s, enum policy_profile *ret);
const char *policy_profile_name(enum policy_profile p);

struct policy_options {
        enum policy_profile profile;
        const char *arch;         /* Debian architecture to require, or NULL: no check */
        const char *const *allow; /* fnmatch(3) globs of allowed executables (borrowed) */
        size_t n_allow;
        const char *const *named; /* exact paths allowed by being named (borrowed); entries
                                      flagged TREE_ENTRY_NAMED are named too */
        size_t n_named;
        const char *const *disabled; /* rule ids switched off (borrowed) */
        size_t n_disabled;
        const char *scan_cache; /* directory remembering content scans by SHA-256 (CACHE/scan),
                                   or NULL */
        uint64_t scan_limit;    /* bytes of data scanned per file; 0: CONTENT_SCAN_MAX (a lower
                                   limit is never cached) */
};

struct policy_finding {
        const struct policy_rule *rule;
        enum policy_severity severity; /* the rule's, or lower for this finding (a data file
                                          with the ELF magic, a rule warning in this profile) */
        char *path;                    /* owned */
        char *evidence;                /* owned; what was seen, e.g. "DT_NEEDED libc.so.6" */
};

struct policy_report {
        enum policy_profile profile;
        struct policy_finding *findings; /* owned, n_findings, sorted by rule order then path */
        size_t n_findings;
        size_t n_errors, n_warnings;
        size_t n_entries; /* entries inspected */
};

/*
 * Checks t (contents from s) against o. On success *ret (owned by the caller) holds the
 * findings, whatever they are; the caller decides what a failure means (policy_report_passed).
 * Fails only when the checks could not run: an unknown rule id in o->disabled (-EINVAL,
 * CAIRN_EXIT_USAGE), an unreadable store object (I/O), too many findings, no memory; err
 * always says which (an allocation failure never drops or invents a finding).
 */
int policy_check(const struct tree *t, const struct store *s, const struct policy_options *o,
                 struct policy_report **ret, struct cairn_error *err);

/*
 * The files of t that PROGRAM may execute at run time (cairn-init's Landlock list, DESIGN.md
 * §9): every regular file (or hardlink) with an execute bit that o allows, the way
 * policy_check() decides it: under the strict profile only the named ones (o->named, entries
 * flagged TREE_ENTRY_NAMED, what they resolve to) and those matching o->allow; under the dev
 * profile every one. Then, followed transitively, the interpreters the kernel must execute
 * to run them: PT_INTERP, a #! interpreter, and PROG of #!/usr/bin/env PROG, each resolved
 * inside the image. Shared libraries are not in it: they are mapped, not executed.
 * *ret (owned by the caller) is NULL-terminated, sorted, without duplicates. 0 or -errno
 * (err says which file could not be read).
 */
int policy_executables(const struct tree *t, const struct store *s, const struct policy_options *o,
                       char ***ret, struct cairn_error *err);

void policy_report_free(struct policy_report *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct policy_report *, policy_report_free)
#define _cleanup_policy_report_ _cleanup_(policy_report_freep)

/* No error-level finding. */
bool policy_report_passed(const struct policy_report *r);

enum policy_format {
        POLICY_FORMAT_TEXT,
        POLICY_FORMAT_JSON,
        POLICY_FORMAT_SARIF,
};

int policy_format_from_string(const char *s, enum policy_format *ret);

/*
 * Renders r. `target` names what was checked (a path, "NAME-VARIANT") and goes into the
 * headline and the JSON. *ret is owned by the caller.
 */
int policy_report_format(const struct policy_report *r, enum policy_format fmt, const char *target,
                         char **ret);

/*
 * Renders the n reports of one target checked once per architecture (archs[i] names r[i]'s;
 * archs or an entry may be NULL: none named). Text: one block each, its headline "TARGET
 * (ARCH)". JSON: with n == 1 the document of policy_report_format plus an "arch" key; else
 * {"schema": "cairn-enforce-archs/1", "target", "passed" (all passed), "reports": [those
 * documents]}. SARIF: one log, one run per report, its architecture in the run's properties
 * and automationDetails id "cairn-enforce/ARCH/". With archs NULL and n == 1, exactly
 * policy_report_format's output. *ret is owned by the caller.
 */
int policy_report_format_archs(const struct policy_report *const *r, const char *const *archs,
                               size_t n, enum policy_format fmt, const char *target, char **ret);

/* One line: "pass (strict)" or "FAIL (strict): 2 errors, 1 warning". Owned by the caller. */
int policy_report_summary(const struct policy_report *r, char **ret);
