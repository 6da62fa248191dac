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
int cmd_push(int argc, char **argv);
int cmd_runtime(int argc, char **argv);
int cmd_init(int argc, char **argv);

/*
 * The run-time snippets (cmd_runtime.c), for cairn runtime and cairn bundle --format: the
 * variant's runtime.json read from path (a recipe, assembled, or an image) and printed as
 * format_name (kubernetes, docker, compose or json; NULL: kubernetes) for image (NULL:
 * NAME:VARIANT). command names the caller in usage errors. Returns the exit status.
 */
int cmd_runtime_print(const char *command, struct build_options *opts, const char *path,
                      const char *format_name, const char *image);
/* CAIRN_EXIT_OK when ref can be printed as one word, else a usage error for command. */
int cmd_image_ref_option(const char *command, const char *ref);

/* The build's progress hook: "fetched URL", one line per downloaded file, on stderr. */
void cmd_print_fetched(void *data, const char *what);
/* Live download progress on stderr when it is a terminal and quiet is false. */
void cmd_progress_setup(bool quiet);
/* Says on stderr how many locked packages cairn verify or lock --check could not confirm
 * against the indexes (b->lock_unconfirmed), when there are any. */
void cmd_print_lock_unconfirmed(const struct build *b);
/* Cache entries that did not verify are reported on stderr, one line each (base/cachemac.h). */
void cmd_cache_notices_setup(void);

/* One line when the lock was read under its old name (NAME.lock.json, build.h lock_read_path):
 * which file was read and which one is (written) or will be the recipe file's own. */
void cmd_print_lock_notice(const struct build *b, bool written, FILE *f);

/* "lock: wrote PATH (N packages)" and one line per changed package, for build and lock. */
/* A build's note (struct build's note callback): "cairn: note: TEXT" on stderr. */
void cmd_print_note(void *data, const char *text);
void cmd_print_lock_changes(const struct build *b, FILE *f);
/* The same for a set: one line for the file, each architecture's changes prefixed by it. */
void cmd_print_set_lock_changes(const struct build_set *s, FILE *f);

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
        CMD_OPT_USERNAME,
        CMD_OPT_PASSWORD_STDIN,
        CMD_OPT_INSECURE,
        CMD_OPT_INSECURE_REGISTRY,
        CMD_OPT_CA_FILE,
        CMD_OPT_CONTEXT,
        CMD_OPT_ARCH,
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
        { "compression", required_argument, NULL, CMD_OPT_COMPRESSION }, \
        { "context", required_argument, NULL, CMD_OPT_CONTEXT },         \
        { "arch", required_argument, NULL, CMD_OPT_ARCH }
/* clang-format on */

/* The options of the commands that talk to a registry (push, verify --against REF). */
/* clang-format off */
#define CMD_REGISTRY_OPTIONS                                                       \
        { "username", required_argument, NULL, CMD_OPT_USERNAME },                 \
        { "password-stdin", no_argument, NULL, CMD_OPT_PASSWORD_STDIN },           \
        { "insecure", no_argument, NULL, CMD_OPT_INSECURE },                       \
        { "insecure-registry", required_argument, NULL, CMD_OPT_INSECURE_REGISTRY }, \
        { "ca-file", required_argument, NULL, CMD_OPT_CA_FILE }
/* clang-format on */
#define CMD_REGISTRY_HELP                                                                          \
        "      --username USER    log in as USER; the password is read from stdin\n"               \
        "      --password-stdin   read the password from stdin (one line)\n"                       \
        "      --insecure         allow plain http or an unverified certificate, for a\n"          \
        "                         registry on localhost, 127.0.0.1 or [::1] only\n"                \
        "      --insecure-registry HOST  the same for HOST[:PORT], named explicitly\n"             \
        "      --ca-file FILE     verify the registry's certificate with the CAs in FILE\n"

#define CMD_MAX_INSECURE 8

struct cmd_registry {
        const char *username;
        bool password_stdin;
        bool insecure;
        const char *insecure_hosts[CMD_MAX_INSECURE];
        size_t n_insecure_hosts;
        const char *ca_file;
        char *password; /* owned; read from stdin by cmd_registry_connect */
};

/* Like cmd_build_option, for CMD_REGISTRY_OPTIONS into r. */
int cmd_registry_option(const char *command, int c, const char *arg, struct cmd_registry *r);

struct registry_client;
/*
 * Opens a client for host with r's options: reads the password from stdin once, refuses
 * --insecure for a host that is not loopback (a usage error printed here: -EINVAL, nothing
 * in err). Frees nothing of r; call cmd_registry_clear after.
 */
int cmd_registry_connect(const char *command, struct cmd_registry *r, const char *host,
                         struct registry_client **ret, struct cairn_error *err);
void cmd_registry_clear(struct cmd_registry *r);

/* Applies the shared option c (argument arg) to opts: 1 when c is one of CMD_OPT_*, 0 when it
 * is not, or -1 after printing a usage error for command. */
int cmd_build_option(const char *command, int c, const char *arg, struct build_options *opts);

/* Prints err to stderr and returns its exit status; never 0 (call it only after a failure). */
int cmd_fail(struct cairn_error *err);

/*
 * Prints "cairn COMMAND: error: MESSAGE\nTry 'cairn COMMAND --help'." and returns
 * CAIRN_EXIT_USAGE. The message "unknown option" becomes one naming the option getopt
 * stopped at (cmd_argv[optind - 1], or optopt), which main.c keeps getopt from printing.
 */
int cmd_usage_error(const char *command, const char *fmt, ...) _printf_(2, 3);
/* The command's argc/argv as main.c passed them (argv[0] is the command's name). */
extern char **cmd_argv;
extern int cmd_argc;
