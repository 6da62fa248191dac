/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `cairn profile` prints about a run (profile_run.h): the report on stdout, as text (a
 * comment line and the `writable:` block to paste into the recipe) or as JSON, and the
 * warnings on stderr (writes outside the recipe's writable: list, writes nothing can cover).
 *
 * The JSON report, keys in this order:
 *   {"image", "variant",
 *    "run": {"end", "timed_out", "killed", "exit_status" (or null), "signal" (or null)},
 *    "writable": [the suggested directories],
 *    "writes": [{"path", "op", "type" ("file"/"dir"), "in_writable", "dir" (or null),
 *                "unplaceable" (only when set)}],
 *    "reads": {"truncated", "opened": [...], "never_opened": [...]}  (only with --reads)}
 * pretty-printed with a fixed layout (base/json.h), so equal runs give equal bytes.
 */
#pragma once

#include <stdbool.h>

#include "profile_run.h"
#include "recipe/recipe.h"
#include "tree/tree.h"

enum profile_format {
        PROFILE_FORMAT_TEXT,
        PROFILE_FORMAT_JSON,
};

struct profile_report {
        const char *image;                   /* "NAME-VARIANT" */
        const char *variant;                 /* the variant's name */
        const struct tree *tree;             /* the variant's tree: files never opened */
        const struct profile_result *result; /* the run */
        bool reads;                          /* list what was opened (the run recorded reads) */
};

/* Renders the report in format. *ret (owned by the caller) on success; -ENOMEM. */
int profile_report_format(const struct profile_report *r, enum profile_format format, char **ret);

/*
 * The warning lines ("cairn profile: warning: ...\n", one per unplaceable write and one per
 * write outside run->writable), or "" when there is none. *ret owned by the caller; -ENOMEM.
 */
int profile_report_warnings(const struct profile_result *res, const struct recipe_run *run,
                            char **ret);
