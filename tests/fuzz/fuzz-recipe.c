/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the recipe parser: assembler/recipe/yamlnode.c (libyaml events into a
 * bounded node tree), yamlread.c (the typed getters and their messages), recipe-parse.c (the
 * top-level walk) with recipe-parse-values.c, -inputs.c, -files.c and -run.c (the sections),
 * and recipe.c (views, run settings). A recipe that parses is looked at through every
 * variant's view.
 */
#include "recipe/recipe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_recipe_ struct recipe *r = NULL;
        int rc = recipe_parse_buffer("fuzz.yaml", (const char *)data, size, &r, &err);
        if (rc < 0) {
                /* A refused recipe always says why, with at most the promised 50 errors + 1. */
                if (err.n_messages == 0 && rc != -ENOMEM)
                        __builtin_trap();
                return 0;
        }
        for (size_t i = 0; i < r->n_variants; i++) {
                _cleanup_cairn_error_ struct cairn_error verr = CAIRN_ERROR_INIT;
                _cleanup_recipe_view_ struct recipe_view *v = NULL;
                if (recipe_view_new(r, r->variants[i].name, &v, &verr) < 0)
                        continue;
                uint32_t uid, gid;
                (void)recipe_view_run_ids(v, &uid, &gid, &verr);
                for (size_t k = 0; k < v->n_files; k++)
                        if (!path_is_normalized(v->files[k]->path))
                                __builtin_trap();
                for (size_t k = 0; k < v->n_artifacts; k++)
                        if (!path_is_normalized(v->artifacts[k]->dest))
                                __builtin_trap();
        }
        return 0;
}
