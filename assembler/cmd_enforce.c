/* SPDX-License-Identifier: Apache-2.0 */
#include "cmd.h"

int cmd_enforce(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        return cmd_usage_error("enforce", "not implemented yet");
}
