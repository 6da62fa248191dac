/* SPDX-License-Identifier: Apache-2.0 */
#include "cmd.h"
#include "recipe.h"

int cmd_check(int argc, char **argv)
{
        if (argc != 2)
                return cmd_usage_error("check", "expected exactly one RECIPE");
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_recipe_ struct recipe *r = NULL;
        if (recipe_parse_file(argv[1], &r, &err) < 0)
                return cmd_fail(&err);
        return CAIRN_EXIT_OK;
}
