/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command layer: one file per subcommand (cmd_NAME.c). A command parses its own options,
 * runs the library code, prints results and errors, and returns the process exit status
 * (DESIGN.md §6). Nothing below this layer prints.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "error.h"

struct cairn_command {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
};

int cmd_check(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_enforce(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_lock(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_diff(int argc, char **argv);

/* The build's progress hook: "fetched URL", one line per downloaded file, on stderr. */
void cmd_print_fetched(void *data, const char *what);
/* Live download progress on stderr when it is a terminal and quiet is false. */
void cmd_progress_setup(bool quiet);

struct build;
/* "lock: wrote PATH (N packages)" and one line per changed package, for build and lock. */
void cmd_print_lock_changes(const struct build *b, FILE *f);

/* Prints err to stderr and returns its exit status. */
int cmd_fail(struct cairn_error *err);

/* Prints "cairn COMMAND: MESSAGE\nTry 'cairn COMMAND --help'." and returns CAIRN_EXIT_USAGE. */
int cmd_usage_error(const char *command, const char *fmt, ...) _printf_(2, 3);
