/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn-init's command line and exit-status rules, kept apart from the process handling so a
 * cmocka test (built with the ordinary compiler) links exactly the code the static init runs.
 *
 * Nothing here allocates: the parsed options point into argv, which outlives them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "probe_target.h"

/* Bounds on what a command line may ask for; parsing fails naming the limit. */
#define INIT_MAX_REQUIRE_ENV 64
#define INIT_MAX_WRITABLE    64
#define INIT_MAX_NAME        255  /* length of a --require-env NAME */
#define INIT_MAX_PATH        4095 /* length of a --writable PATH */
#define INIT_MAX_GRACE       3600 /* seconds of --grace */
#define INIT_MAX_TIMEOUT     3600 /* seconds of --timeout */

#define INIT_RUNTIME_JSON    "/etc/cairn/runtime.json"
#define INIT_DEFAULT_GRACE   5  /* seconds the remaining processes get after PROGRAM exits */
#define INIT_DEFAULT_TIMEOUT 10 /* seconds one --probe may take */

/* cairn-init's own exit statuses; the program's status is passed through otherwise. */
enum init_exit {
        INIT_EXIT_REFUSED = 1,       /* a pre-start check failed, or setting up failed */
        INIT_EXIT_USAGE = 2,         /* bad command line */
        INIT_EXIT_CANNOT_EXEC = 126, /* PROGRAM exists but cannot be executed */
        INIT_EXIT_NOT_FOUND = 127,   /* PROGRAM was not found */
};

enum init_action {
        INIT_ACTION_RUN,
        INIT_ACTION_HELP,
        INIT_ACTION_VERSION,
        INIT_ACTION_PROBE, /* --probe: one health check, exit 0 or 1 */
};

struct init_options {
        enum init_action action;
        bool signal_group;      /* -g: forward signals to the child's process group */
        bool read_only_root;    /* --read-only-root: warn when / is writable */
        bool enforce_read_only; /* --enforce-read-only: refuse when / is writable */
        const char *require_env[INIT_MAX_REQUIRE_ENV]; /* into argv */
        size_t n_require_env;
        const char *writable[INIT_MAX_WRITABLE]; /* into argv */
        size_t n_writable;
        bool landlock;             /* --landlock: restrict PROGRAM from the runtime file */
        const char *runtime_json;  /* --runtime-json PATH, else INIT_RUNTIME_JSON; into argv */
        unsigned grace;            /* --grace: seconds before SIGKILL for what PROGRAM left */
        struct probe_target probe; /* --probe TARGET */
        const char *probe_arg;     /* the TARGET as given; into argv */
        int probe_expect;          /* --expect CODE; 0: any of 200-399 */
        unsigned probe_timeout;    /* --timeout SECONDS */
        char *const *argv; /* PROGRAM [ARGS...], NULL-terminated, into argv; NULL for --probe */
};

/*
 * Parses `cairn-init [options] [--] PROGRAM [ARGS...]`. PROGRAM starts after `--` or at the
 * first argument that is not an option. Options take their value as the next argument or
 * after `=` (--writable=/tmp). Returns 0 and fills *ret, or -EINVAL with a one-line reason
 * (without the "cairn-init: " prefix) in msg[0..msg_size). *ret is written only on success.
 */
int init_options_parse(int argc, char *const *argv, struct init_options *ret, char *msg,
                       size_t msg_size);

/* The usage text printed by --help. */
extern const char init_usage[];

/*
 * The exit status cairn-init reports for a child's wait status: the exit code when it exited,
 * 128+N when signal N killed it.
 */
int init_exit_status_from_wait(int wstatus);

/* The exit status for an execve failure with errno errnum: 127 for not found, else 126. */
int init_exit_status_from_exec_errno(int errnum);
