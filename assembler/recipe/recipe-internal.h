/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to the recipe parser, whose walk is split by section:
 *   recipe-parse.c         reading a recipe, the top-level walk
 *   recipe-parse-values.c  the typed values every section reads (ids, modes, paths, variants)
 *   recipe-parse-inputs.c  sources:, utilities:, certificates:, packages:, artifacts:
 *   recipe-parse-programs.c programs:
 *   recipe-parse-files.c   accounts:, files:, identity:, and no path written twice in a variant
 *   recipe-parse-run.c     run:, variants:, policy:
 * Each recipe_walk_SECTION() fills its part of r from node n, reports every problem through y
 * and goes on (DESIGN.md §2); an allocation failure is recorded in y (yread_result is
 * -ENOMEM). The model (recipe.c) never includes this header.
 */
#pragma once

#include "recipe.h"
#include "yamlread.h"

#define RECIPE_MAX_ITEMS 10000 /* entries of any one list */
#define RECIPE_MAX_NAME  128   /* the recipe's and a source's name */
#define RECIPE_MAX_ARCHS 16    /* architectures in arch: */
#define LOWER_DIGITS     "abcdefghijklmnopqrstuvwxyz0123456789"

/* True when s has 1 to max characters, the first one of `first` and the others of `rest`. */
bool recipe_name_ok(const char *s, const char *first, const char *rest, size_t max);

/* A uid or gid: a number below UINT32_MAX (which is RECIPE_ID_UNSET). */
bool recipe_read_id(struct yread *y, const struct ynode *n, const char *what, uint32_t *ret);

/* A mode written as a quoted octal string, "0755" (at most 07777). */
bool recipe_read_mode(struct yread *y, const struct ynode *n, const char *what, int *ret);

/* An absolute, normalised path shorter than TREE_PATH_MAX; the caller owns it. NULL after a
 * problem. A yread_string_fn, for yread_strv. */
char *recipe_read_path(struct yread *y, const struct ynode *n, const char *what);
/* A path inside the build context (artifact src, context:): relative and without '..'
 * components, else NULL after reporting the problem. Symlinks are checked when it is opened
 * (base/beneath.h). */
char *recipe_read_context_path(struct yread *y, const struct ynode *n, const char *what);

/* A mapping of strings to strings (env:, labels:), in recipe order. False after a problem.
 * Whenever the array was allocated (also after a problem in an entry) *ret holds it, owned by
 * the caller, with *ret_n entries. */
bool recipe_read_kv(struct yread *y, const struct ynode *n, const char *what,
                    struct recipe_kv **ret, size_t *ret_n);

/* The mask of item's `variants:` (r->variants already read), or RECIPE_ALL_VARIANTS when it
 * has none or after a problem. */
recipe_variant_mask recipe_item_variants(struct yread *y, const struct recipe *r,
                                         const struct ynode *item);

/* recipe-parse-inputs.c. Variants must be read first. */
void recipe_walk_sources(struct yread *y, struct recipe *r, const struct ynode *n);
/* utilities: and certificates: (either may be NULL) into r->utilities, certificates last. */
void recipe_walk_utilities(struct yread *y, struct recipe *r, const struct ynode *utilities,
                           const struct ynode *certificates);
void recipe_walk_packages(struct yread *y, struct recipe *r, const struct ynode *n);
void recipe_walk_artifacts(struct yread *y, struct recipe *r, const struct ynode *n);
/* recipe-parse-programs.c: programs: (dynamic programs with their load closure). */
void recipe_walk_programs(struct yread *y, struct recipe *r, const struct ynode *n);

/* recipe-parse-files.c. Variants must be read first. */
void recipe_walk_accounts(struct yread *y, struct recipe *r, const struct ynode *n);
void recipe_walk_files(struct yread *y, struct recipe *r, const struct ynode *n);
void recipe_walk_identity(struct yread *y, struct recipe *r, const struct ynode *n);
/* After every section: two items that write one path in one variant. accounts says whether
 * /etc/passwd and /etc/group are written (at accounts_pos). */
void recipe_check_destinations(struct yread *y, const struct recipe *r,
                               struct recipe_pos accounts_pos, bool accounts);

/* recipe-parse-run.c. A run: block (what names it in messages: "run", "variant run") into
 * *run; run.user is checked later, by recipe_check_run_users(). */
/* Every run.user (the recipe's and each variant's) names a declared account, root or an id. */
void recipe_check_run_users(struct yread *y, const struct recipe *r);
void recipe_walk_run(struct yread *y, const struct recipe *r, const struct ynode *n,
                     const char *what, struct recipe_run *run);
/* n NULL: the default variants, dev and prod. */
void recipe_walk_variants(struct yread *y, struct recipe *r, const struct ynode *n);
void recipe_walk_policy(struct yread *y, struct recipe *r, const struct ynode *n);
