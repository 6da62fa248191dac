/* SPDX-License-Identifier: Apache-2.0 */
#include "cmd.h"

#include <stdarg.h>

#include "state/build.h"
#include "base/http.h"

int cmd_fail(struct cairn_error *err)
{
        /* Called only after a failure: one that left no error behind (a bare -errno from
         * below) must still fail the command, never exit 0. */
        if (err->code >= 0) {
                fprintf(stderr, "cairn: error: the operation failed without a message (a bug; "
                                "please report it)\n");
                return CAIRN_EXIT_IO;
        }
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

/* Redraws one status line for the transfer in progress; cleared when it ends. Redrawn every
 * 256 KiB so a fast mirror does not flood the terminal. */
static void tty_progress(void *data, const char *url, uint64_t received, uint64_t total)
{
        static uint64_t last;
        (void)data;
        if (!url) {
                fputs("\r\033[K", stderr);
                last = 0;
                return;
        }
        if (received < last || (received - last < (256u << 10) && received != total))
                return;
        last = received;
        const char *name = strrchr(url, '/') ? strrchr(url, '/') + 1 : url;
        if (total)
                fprintf(stderr, "\r\033[Kfetching %s  %.1f / %.1f MiB", name,
                        (double)received / 1048576.0, (double)total / 1048576.0);
        else
                fprintf(stderr, "\r\033[Kfetching %s  %.1f MiB", name,
                        (double)received / 1048576.0);
        fflush(stderr);
}

void cmd_progress_setup(bool quiet)
{
        if (!quiet && isatty(STDERR_FILENO))
                http_set_progress(tty_progress, NULL);
}

void cmd_print_fetched(void *data, const char *what)
{
        (void)data;
        fprintf(stderr, "fetched %s\n", what);
}

int cmd_build_option(const char *command, int c, const char *arg, struct build_options *opts)
{
        switch (c) {
        case CMD_OPT_VARIANT:
                opts->only_variant = arg;
                return 1;
        case CMD_OPT_EPOCH: {
                char *end;
                errno = 0;
                long long v = strtoll(arg, &end, 10);
                if (errno || *end || end == arg || v < 0) {
                        cmd_usage_error(command, "--epoch %s: not a number of seconds since 1970",
                                        arg);
                        return -1;
                }
                opts->epoch = v;
                return 1;
        }
        case CMD_OPT_CACHE:
                opts->cache_dir = arg;
                return 1;
        case CMD_OPT_LOCKED:
                opts->locked = true;
                return 1;
        case CMD_OPT_LOCKFILE:
                opts->lock_path = arg;
                return 1;
        case CMD_OPT_OFFLINE:
                opts->offline = true;
                return 1;
        case CMD_OPT_INIT:
                opts->init_binary = arg;
                return 1;
        case CMD_OPT_COMPRESSION:
                if (!streq(arg, "gzip") && !streq(arg, "zstd")) {
                        cmd_usage_error(command, "--compression %s: use gzip or zstd", arg);
                        return -1;
                }
                opts->compression = arg;
                return 1;
        }
        return 0;
}
