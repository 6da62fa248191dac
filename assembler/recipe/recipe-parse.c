/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recipe schema 1: reading a recipe (recipe_parse_file, recipe_parse_buffer) and the top-level
 * walk over its YAML node tree into struct recipe, with every check of DESIGN.md §2; the
 * sections are walked in recipe-parse-inputs.c, recipe-parse-files.c and recipe-parse-run.c.
 * The walk never stops at the first problem: each check reports through yread_fail() and the
 * walk goes on, so one run shows every error in the file (up to YREAD_MAX_ERRORS), sorted by
 * position.
 */
#include <ctype.h>
#include <libgen.h>
#include <limits.h>

#include "recipe-internal.h"

static int arch_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * arch: one Debian architecture name or a list of them. The list is kept in byte order
 * (the order of every per-architecture output: docs/multiarch.md), whatever order the recipe
 * writes; a name given twice is an error.
 */
static void recipe_walk_arch(struct yread *y, struct recipe *r, const struct ynode *v)
{
        r->arch_pos = v->pos;
        char **archs = NULL;
        if (v->type == YNODE_SEQUENCE) {
                if (v->n_items == 0) {
                        yread_fail(y, v->pos,
                                   "arch: the list is empty; name at least one "
                                   "Debian architecture (amd64, arm64, ...)");
                        return;
                }
                archs = yread_strv(y, v, "arch", RECIPE_MAX_ARCHS, yread_string);
        } else {
                char *one = yread_string(y, v, "arch");
                if (one && !(archs = calloc(2, sizeof(char *))))
                        yread_oom(y);
                if (archs)
                        archs[0] = one;
                else
                        free(one);
        }
        if (!archs)
                return;
        size_t n = strv_length(archs);
        for (size_t i = 0; i < n; i++)
                if (!recipe_name_ok(archs[i], LOWER_DIGITS, LOWER_DIGITS "-", 32))
                        yread_fail(y, v->type == YNODE_SEQUENCE ? v->items[i]->pos : v->pos,
                                   "arch: '%s' is not a Debian architecture name", archs[i]);
        qsort(archs, n, sizeof(char *), arch_cmp);
        for (size_t i = 1; i < n; i++)
                if (streq(archs[i - 1], archs[i]))
                        yread_fail(y, v->pos, "arch: '%s' is named twice", archs[i]);
        r->archs = archs;
        r->n_archs = n;
        r->arch = n == 1 ? archs[0] : NULL;
}

/*
 * Fills r from the YAML tree, reporting every problem into err as
 * "FILE:LINE:COL: error: ...". Returns -EINVAL when any was found, -ENOMEM when an
 * allocation failed. r is partially filled either way and must be released with recipe_free.
 */
static int recipe_walk(const char *file, const struct ynode *root, struct recipe *r,
                       struct cairn_error *err)
{
        static const char *const keys[] = {
                "recipe",    "name",         "arch",        "epoch",    "sources",
                "utilities", "certificates", "packages",    "programs", "artifacts",
                "accounts",  "files",        "identity",    "run",      "variants",
                "policy",    "context",      "annotations", NULL
        };
        struct yread y = { .file = file, .err = err, .kind = YREAD_AUTHORED };
        r->epoch = -1;
        r->run.read_only = -1;
        r->identity.debian = -1;
        r->run.landlock = -1;
        if (!yread_map(&y, root, "the recipe", keys))
                return -EINVAL;

        const struct ynode *v = ynode_map_get(root, "recipe");
        uint64_t schema;
        if (!v)
                yread_fail(&y, root->pos,
                           "missing required key 'recipe' (the schema version: "
                           "recipe: 1)");
        else if (yread_uint(&y, v, "recipe", UINT32_MAX, &schema)) {
                if (schema != RECIPE_SCHEMA_VERSION)
                        yread_fail(&y, v->pos,
                                   "recipe: schema version %llu is not supported; this "
                                   "cairn reads version %d",
                                   (unsigned long long)schema, RECIPE_SCHEMA_VERSION);
                r->schema = (unsigned)schema;
        }
        if (!(v = ynode_map_get(root, "name")))
                yread_fail(&y, root->pos, "missing required key 'name'");
        else if ((r->name = yread_string(&y, v, "name")) &&
                 !recipe_name_ok(r->name, LOWER_DIGITS, LOWER_DIGITS "._-", RECIPE_MAX_NAME))
                yread_fail(&y, v->pos,
                           "name: '%s' must match [a-z0-9][a-z0-9._-]* (at most %d "
                           "characters)",
                           r->name, RECIPE_MAX_NAME);
        if ((v = ynode_map_get(root, "arch")))
                recipe_walk_arch(&y, r, v);
        if ((v = ynode_map_get(root, "epoch"))) {
                uint64_t e;
                if (yread_uint(&y, v, "epoch", 253402300799ULL, &e))
                        r->epoch = (int64_t)e;
                r->epoch_pos = v->pos;
        }
        /* The build context: artifacts are read beneath it (stages/artifacts.c). */
        if ((v = ynode_map_get(root, "context"))) {
                r->context = recipe_read_context_path(&y, v, "context");
                r->context_pos = v->pos;
        }
        /* Variants first: every item's `variants:` refers to them. */
        recipe_walk_variants(&y, r, ynode_map_get(root, "variants"));
        if ((v = ynode_map_get(root, "policy")))
                recipe_walk_policy(&y, r, v);
        if ((v = ynode_map_get(root, "accounts")))
                recipe_walk_accounts(&y, r, v);
        if ((v = ynode_map_get(root, "sources")))
                recipe_walk_sources(&y, r, v);
        recipe_walk_utilities(&y, r, ynode_map_get(root, "utilities"),
                              ynode_map_get(root, "certificates"));
        if ((v = ynode_map_get(root, "packages")))
                recipe_walk_packages(&y, r, v);
        if ((v = ynode_map_get(root, "programs")))
                recipe_walk_programs(&y, r, v);
        if ((v = ynode_map_get(root, "artifacts")))
                recipe_walk_artifacts(&y, r, v);
        if ((v = ynode_map_get(root, "files")))
                recipe_walk_files(&y, r, v);
        if ((v = ynode_map_get(root, "identity")))
                recipe_walk_identity(&y, r, v);
        if ((v = ynode_map_get(root, "run")))
                recipe_walk_run(&y, r, v, "run", &r->run);
        if ((v = ynode_map_get(root, "annotations")))
                recipe_read_kv(&y, v, "annotations", &r->annotations, &r->n_annotations);

        if ((r->n_utilities || r->n_packages || r->n_programs) && r->n_sources == 0)
                yread_fail(&y, root->pos,
                           "utilities, certificates, packages and programs need at least one "
                           "entry under sources:");
        /* After accounts: a variant's run: (walked first) may name a user declared later. */
        recipe_check_run_users(&y, r);
        const struct ynode *acc = ynode_map_get(root, "accounts");
        recipe_check_destinations(&y, r, acc ? acc->pos : root->pos, r->n_users || r->n_groups);
        return yread_result(&y);
}

/* Refuses input that is not text before libyaml sees it: a clearer message than a scanner
 * error in the middle of binary data. */
static int check_text(const char *name, const char *buf, size_t len, struct cairn_error *err)
{
        unsigned line = 1, col = 1;
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char)buf[i];
                if (ch == '\n') {
                        line++;
                        col = 1;
                        continue;
                }
                if (ch == 0 || (ch < 0x20 && ch != '\t' && ch != '\r'))
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "%s:%u:%u: error: control character 0x%02x: "
                                               "this is not a YAML text file",
                                               name, line, col, ch);
                if (ch >= 0x80) {
                        /* libyaml reports bad UTF-8 by byte offset only; give the position */
                        size_t n = ch >= 0xf0 && ch <= 0xf4  ? 3
                                   : ch >= 0xe0              ? 2
                                   : ch >= 0xc2 && ch < 0xe0 ? 1
                                                             : 0;
                        bool ok = n > 0 && i + n < len;
                        for (size_t k = 1; ok && k <= n; k++)
                                ok = ((unsigned char)buf[i + k] & 0xc0) == 0x80;
                        if (!ok)
                                return cairn_error_add(
                                        err, CAIRN_EXIT_USAGE, -EINVAL,
                                        "%s:%u:%u: error: invalid UTF-8 byte 0x%02x: "
                                        "recipes are UTF-8 text",
                                        name, line, col, ch);
                        i += n;
                }
                col++;
        }
        return 0;
}

static void msg_position(const char *m, const char *name, unsigned long *line, unsigned long *col)
{
        size_t n = strlen(name);
        *line = *col = ULONG_MAX;
        /* "FILE: too many errors" has no position: it sorts last */
        if (strncmp(m, name, n) != 0 || m[n] != ':' || !isdigit((unsigned char)m[n + 1]))
                return;
        char *end;
        *line = strtoul(m + n + 1, &end, 10);
        if (*end == ':')
                *col = strtoul(end + 1, NULL, 10);
}

static int msg_cmp(const void *a, const void *b, void *name)
{
        unsigned long la, ca, lb, cb;
        msg_position(*(char *const *)a, name, &la, &ca);
        msg_position(*(char *const *)b, name, &lb, &cb);
        if (la != lb)
                return la < lb ? -1 : 1;
        return ca < cb ? -1 : ca > cb;
}

/* Orders the recipe's messages by position, as a compiler does; "too many errors" (no
 * position) stays last. first is the index of the first message this parse added. */
static void sort_messages(struct cairn_error *err, const char *name, size_t first)
{
        if (!err || err->n_messages <= first + 1)
                return;
        qsort_r(err->messages + first, err->n_messages - first, sizeof(char *), msg_cmp,
                (void *)name);
}

int recipe_parse_buffer(const char *name, const char *buf, size_t len, struct recipe **ret,
                        struct cairn_error *err)
{
        if (len > RECIPE_MAX_BYTES)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EFBIG,
                                       "%s: the recipe is larger than %d bytes", name,
                                       RECIPE_MAX_BYTES);
        int r = check_text(name, buf, len, err);
        if (r < 0)
                return r;
        _cleanup_ynode_ struct ynode *root = NULL;
        r = ynode_load(name, buf, len, &root, err);
        if (r < 0)
                return r == -ENODATA ? -EINVAL : r;

        _cleanup_recipe_ struct recipe *rec = calloc(1, sizeof(*rec));
        if (!rec)
                return -ENOMEM;
        rec->path = strdup(name);
        _cleanup_free_ char *copy = strdup(name);
        if (!rec->path || !copy)
                return -ENOMEM;
        rec->dir = strdup(dirname(copy));
        if (!rec->dir)
                return -ENOMEM;
        size_t first = err ? err->n_messages : 0;
        r = recipe_walk(name, root, rec, err);
        if (r < 0) {
                sort_messages(err, name, first);
                return r;
        }
        *ret = steal_pointer(&rec);
        return 0;
}

int recipe_parse_file(const char *path, struct recipe **ret, struct cairn_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = read_file_bounded(path, RECIPE_MAX_BYTES, &buf, &len);
        if (r == -EFBIG)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, r,
                                       "%s: the recipe is larger than %d bytes", path,
                                       RECIPE_MAX_BYTES);
        if (r == -EINVAL || r == -EISDIR || r == -EAGAIN)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, r,
                                       "%s: the recipe is not a regular file (a directory, fifo, "
                                       "device or socket); give the path of a recipe file",
                                       path);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: cannot read the recipe: %s", path,
                                         strerror(-r));
        return recipe_parse_buffer(path, buf, len, ret, err);
}
