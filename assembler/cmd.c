/* SPDX-License-Identifier: Apache-2.0 */
#include "cmd.h"

#include <stdarg.h>

#include "build.h"

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

void cmd_print_lock_changes(const struct build *b, FILE *f)
{
        if (!b->lock)
                return;
        fprintf(f, "lock: wrote %s (%zu package%s)\n", b->lock_path, b->lock->n_packages,
                b->lock->n_packages == 1 ? "" : "s");
        for (char **p = b->lock_changes; p && *p; p++)
                fprintf(f, "lock:   %s\n", *p);
}
