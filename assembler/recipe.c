/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder: the parser lands with issue 2. */
#include "recipe.h"

int recipe_parse_file(const char *path, struct recipe **ret, struct cairn_error *err)
{
        (void)ret;
        return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOSYS, "%s: parser not implemented", path);
}

void recipe_free(struct recipe *r)
{
        free(r);
}

int recipe_variant_index(const struct recipe *r, const char *name)
{
        (void)r;
        (void)name;
        return -ENOENT;
}

const char *recipe_host_arch(void)
{
        return "amd64";
}

int recipe_view_new(const struct recipe *r, const char *name, struct recipe_view **ret,
                    struct cairn_error *err)
{
        (void)r;
        (void)ret;
        return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOSYS, "no variant %s", name);
}

void recipe_view_free(struct recipe_view *v)
{
        free(v);
}
