/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command layer: one file per subcommand (cmd_NAME.c). A command parses its own options,
 * runs the library code, prints results and errors, and returns the process exit status
 * (DESIGN.md §6). Nothing below this layer prints.
 */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "state/build.h"
#include "base/error.h"

struct cairn_command {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
};

int cmd_check(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
int cmd_enforce(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_lock(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_diff(int argc, char **argv);

/* The build's progress hook: "fetched URL", one line per downloaded file, on stderr. */
void cmd_print_fetched(void *data, const char *what);
/* Live download progress on stderr when it is a terminal and quiet is false. */
void cmd_progress_setup(bool quiet);

/* "lock: wrote PATH (N packages)" and one line per changed package, for build and lock. */
void cmd_print_lock_changes(const struct build *b, FILE *f);

/*
 * The options cairn build, verify and lock share, all filling struct build_options. A command
 * lists the ones it takes (CMD_BUILD_OPTIONS: all of them) in its getopt table, numbers its own
 * long options from CMD_OPT_OWN, and hands every parsed option to cmd_build_option() first.
 */
enum {
        CMD_OPT_VARIANT = 256,
        CMD_OPT_EPOCH,
        CMD_OPT_CACHE,
        CMD_OPT_LOCKED,
        CMD_OPT_LOCKFILE,
        CMD_OPT_OFFLINE,
        CMD_OPT_INIT,
        CMD_OPT_COMPRESSION,
        CMD_OPT_OWN,
};
/* clang-format off */
#define CMD_BUILD_OPTIONS                                                \
        { "variant", required_argument, NULL, CMD_OPT_VARIANT },         \
        { "epoch", required_argument, NULL, CMD_OPT_EPOCH },             \
        { "cache", required_argument, NULL, CMD_OPT_CACHE },             \
        { "locked", no_argument, NULL, CMD_OPT_LOCKED },                 \
        { "lockfile", required_argument, NULL, CMD_OPT_LOCKFILE },       \
        { "offline", no_argument, NULL, CMD_OPT_OFFLINE },               \
        { "init-binary", required_argument, NULL, CMD_OPT_INIT },        \
        { "compression", required_argument, NULL, CMD_OPT_COMPRESSION }
/* clang-format on */

/* Applies the shared option c (argument arg) to opts: 1 when c is one of CMD_OPT_*, 0 when it
 * is not, or -1 after printing a usage error for command. */
int cmd_build_option(const char *command, int c, const char *arg, struct build_options *opts);

/* Prints err to stderr and returns its exit status; never 0 (call it only after a failure). */
int cmd_fail(struct cairn_error *err);

/* Prints "cairn COMMAND: MESSAGE\nTry 'cairn COMMAND --help'." and returns CAIRN_EXIT_USAGE. */
int cmd_usage_error(const char *command, const char *fmt, ...) _printf_(2, 3);
