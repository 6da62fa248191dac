/* SPDX-License-Identifier: Apache-2.0 */
#include "cmd.h"

#include <stdarg.h>

int cmd_fail(struct cairn_error *err)
{
        cairn_error_print(err, stderr);
        return cairn_error_exit_status(err);
}

int cmd_usage_error(const char *command, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "cairn %s: ", command);
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\nTry 'cairn %s --help'.\n", command);
        va_end(ap);
        return CAIRN_EXIT_USAGE;
}
