/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "options.h"

const char init_usage[] =
        "Usage: cairn-init [OPTIONS] [--] PROGRAM [ARGS...]\n"
        "       cairn-init --probe TARGET [--expect CODE] [--timeout SECONDS]\n"
        "Runs PROGRAM as a child, forwards signals to it, reaps zombies and exits with its\n"
        "status (128+N when signal N killed it).\n"
        "\n"
        "  -g                      forward signals to the child's process group\n"
        "  --require-env NAME      refuse to start unless NAME is set and non-empty\n"
        "  --writable PATH         refuse to start unless PATH exists and is writable\n"
        "  --read-only-root        warn when / is mounted writable\n"
        "  --enforce-read-only     refuse to start when / is mounted writable\n"
        "  --landlock              let PROGRAM execute only the runtime file's executables\n"
        "                          and write only beneath its writable paths (Landlock, and\n"
        "                          a seccomp filter against memory-only executables)\n"
        "  --no-landlock           do not restrict PROGRAM (the default; cancels --landlock)\n"
        "  --runtime-json PATH     the runtime file (default " INIT_RUNTIME_JSON ")\n"
        "  --grace SECONDS         after PROGRAM exits, SIGTERM what it left running and\n"
        "                          SIGKILL it after SECONDS (default 5)\n"
        "  --probe TARGET          one health check, then exit 0 (healthy) or 1:\n"
        "                          http://HOST[:PORT][/PATH] (HTTP/1.0 GET) or tcp://HOST:PORT;\n"
        "                          HOST is an IP address or localhost\n"
        "  --expect CODE           the HTTP status --probe wants (default: any of 200-399)\n"
        "  --timeout SECONDS       how long --probe may take (default 10)\n"
        "  -h, --help              show this help\n"
        "  --version               show the version\n"
        "\n"
        "Exit status: PROGRAM's, 1 when a check refused to start it (also a missing or\n"
        "malformed runtime file under --landlock), 2 on a usage error, 126 when PROGRAM\n"
        "cannot be executed, 127 when it is not found. --probe: 0 healthy, 1 not.\n"
        "CAIRN_INIT_VERBOSE=1 reports what cairn-init does on stderr.\n";

static int fail(char *msg, size_t msg_size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fail(char *msg, size_t msg_size, const char *fmt, ...)
{
        va_list ap;

        if (msg && msg_size > 0) {
                va_start(ap, fmt);
                vsnprintf(msg, msg_size, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/*
 * Matches argv[*i] against a value-taking long option NAME. On a match sets *ret_value to the
 * value (after `=` or the next argument, advancing *i) and returns 1; returns 0 when argv[*i]
 * is another option, -EINVAL when the value is missing.
 */
static int option_value(int argc, char *const *argv, int *i, const char *name,
                        const char **ret_value, char *msg, size_t msg_size)
{
        const char *arg = argv[*i];
        size_t n = strlen(name);

        if (strncmp(arg, name, n) != 0)
                return 0;
        if (arg[n] == '=') {
                *ret_value = arg + n + 1;
                return 1;
        }
        if (arg[n] != '\0')
                return 0;
        if (*i + 1 >= argc)
                return fail(msg, msg_size, "%s needs a value", name);
        *i += 1;
        *ret_value = argv[*i];
        return 1;
}

static int check_env_name(const char *name, char *msg, size_t msg_size)
{
        size_t len = strlen(name);

        if (len == 0)
                return fail(msg, msg_size, "--require-env needs a non-empty NAME");
        if (len > INIT_MAX_NAME)
                return fail(msg, msg_size, "--require-env NAME longer than %d bytes",
                            INIT_MAX_NAME);
        if (strchr(name, '='))
                return fail(msg, msg_size, "--require-env %s: NAME cannot contain '='", name);
        return 0;
}

static int check_path(const char *path, char *msg, size_t msg_size)
{
        size_t len = strlen(path);

        if (len == 0)
                return fail(msg, msg_size, "--writable needs a non-empty PATH");
        if (len > INIT_MAX_PATH)
                return fail(msg, msg_size, "--writable PATH longer than %d bytes", INIT_MAX_PATH);
        return 0;
}

/* Decimal min..max, the whole string. */
static int parse_uint(const char *name, const char *s, unsigned min, unsigned max, unsigned *ret,
                      char *msg, size_t msg_size)
{
        unsigned long v = 0;

        if (*s == '\0')
                return fail(msg, msg_size, "%s needs a number", name);
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9' || v > max)
                        return fail(msg, msg_size, "%s %s: want a number from %u to %u", name, s,
                                    min, max);
                v = v * 10 + (unsigned long)(*p - '0');
        }
        if (v < min || v > max)
                return fail(msg, msg_size, "%s %s: want a number from %u to %u", name, s, min, max);
        *ret = (unsigned)v;
        return 0;
}

int init_options_parse(int argc, char *const *argv, struct init_options *ret, char *msg,
                       size_t msg_size)
{
        struct init_options o = {
                .action = INIT_ACTION_RUN,
                .runtime_json = INIT_RUNTIME_JSON,
                .grace = INIT_DEFAULT_GRACE,
                .probe_timeout = INIT_DEFAULT_TIMEOUT,
        };
        bool expect_set = false, timeout_set = false;
        unsigned u;
        int i, r;

        if (msg && msg_size > 0)
                msg[0] = '\0';

        for (i = 1; i < argc; i++) {
                const char *arg = argv[i];
                const char *value = NULL;

                if (strcmp(arg, "--") == 0) {
                        i++;
                        break;
                }
                if (arg[0] != '-' || arg[1] == '\0')
                        break; /* PROGRAM; "-" alone is a file name too */

                if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
                        o.action = INIT_ACTION_HELP;
                        *ret = o;
                        return 0;
                }
                if (strcmp(arg, "--version") == 0) {
                        o.action = INIT_ACTION_VERSION;
                        *ret = o;
                        return 0;
                }
                if (strcmp(arg, "-g") == 0) {
                        o.signal_group = true;
                        continue;
                }
                if (strcmp(arg, "--read-only-root") == 0) {
                        o.read_only_root = true;
                        continue;
                }
                if (strcmp(arg, "--enforce-read-only") == 0) {
                        o.enforce_read_only = true;
                        continue;
                }
                if (strcmp(arg, "--landlock") == 0 || strcmp(arg, "--no-landlock") == 0) {
                        o.landlock = arg[2] == 'l'; /* the last one counts */
                        continue;
                }

                r = option_value(argc, argv, &i, "--runtime-json", &value, msg, msg_size);
                if (r < 0)
                        return r;
                if (r > 0) {
                        if (value[0] == '\0' || strlen(value) > INIT_MAX_PATH)
                                return fail(msg, msg_size,
                                            "--runtime-json needs a PATH of 1 to %d bytes",
                                            INIT_MAX_PATH);
                        o.runtime_json = value;
                        continue;
                }

                r = option_value(argc, argv, &i, "--grace", &value, msg, msg_size);
                if (r < 0)
                        return r;
                if (r > 0) {
                        r = parse_uint("--grace", value, 0, INIT_MAX_GRACE, &o.grace, msg,
                                       msg_size);
                        if (r < 0)
                                return r;
                        continue;
                }

                r = option_value(argc, argv, &i, "--probe", &value, msg, msg_size);
                if (r < 0)
                        return r;
                if (r > 0) {
                        r = probe_target_parse(value, &o.probe, msg, msg_size);
                        if (r < 0)
                                return r;
                        o.action = INIT_ACTION_PROBE;
                        o.probe_arg = value;
                        continue;
                }

                r = option_value(argc, argv, &i, "--expect", &value, msg, msg_size);
                if (r < 0)
                        return r;
                if (r > 0) {
                        r = parse_uint("--expect", value, 100, 599, &u, msg, msg_size);
                        if (r < 0)
                                return r;
                        o.probe_expect = (int)u;
                        expect_set = true;
                        continue;
                }

                r = option_value(argc, argv, &i, "--timeout", &value, msg, msg_size);
                if (r < 0)
                        return r;
                if (r > 0) {
                        r = parse_uint("--timeout", value, 1, INIT_MAX_TIMEOUT, &o.probe_timeout,
                                       msg, msg_size);
                        if (r < 0)
                                return r;
                        timeout_set = true;
                        continue;
                }

                r = option_value(argc, argv, &i, "--require-env", &value, msg, msg_size);
                if (r < 0)
                        return r;
                if (r > 0) {
                        r = check_env_name(value, msg, msg_size);
                        if (r < 0)
                                return r;
                        if (o.n_require_env >= INIT_MAX_REQUIRE_ENV)
                                return fail(msg, msg_size, "more than %d --require-env options",
                                            INIT_MAX_REQUIRE_ENV);
                        o.require_env[o.n_require_env++] = value;
                        continue;
                }

                r = option_value(argc, argv, &i, "--writable", &value, msg, msg_size);
                if (r < 0)
                        return r;
                if (r > 0) {
                        r = check_path(value, msg, msg_size);
                        if (r < 0)
                                return r;
                        if (o.n_writable >= INIT_MAX_WRITABLE)
                                return fail(msg, msg_size, "more than %d --writable options",
                                            INIT_MAX_WRITABLE);
                        o.writable[o.n_writable++] = value;
                        continue;
                }

                return fail(msg, msg_size, "unknown option %s (see --help)", arg);
        }

        if (o.action == INIT_ACTION_PROBE) {
                if (i < argc)
                        return fail(msg, msg_size,
                                    "--probe runs one check and takes no PROGRAM (got %s)",
                                    argv[i]);
                if (expect_set && o.probe.kind != PROBE_HTTP)
                        return fail(msg, msg_size, "--expect applies to http:// probes only");
                *ret = o;
                return 0;
        }
        if (expect_set || timeout_set)
                return fail(msg, msg_size, "%s needs --probe",
                            expect_set ? "--expect" : "--timeout");

        if (i >= argc)
                return fail(msg, msg_size,
                            "no PROGRAM given (usage: cairn-init [OPTIONS] -- "
                            "PROGRAM [ARGS...])");
        if (argv[i][0] == '\0')
                return fail(msg, msg_size, "PROGRAM is an empty string");

        o.argv = argv + i;
        *ret = o;
        return 0;
}

int init_exit_status_from_wait(int wstatus)
{
        if (WIFEXITED(wstatus))
                return WEXITSTATUS(wstatus);
        if (WIFSIGNALED(wstatus))
                return 128 + WTERMSIG(wstatus);
        /* Stopped or continued are never final; report a generic failure rather than 0. */
        return INIT_EXIT_REFUSED;
}

int init_exit_status_from_exec_errno(int errnum)
{
        /* ENOENT: no such file or PATH search found nothing; ENOTDIR: a path prefix is a file. */
        if (errnum == ENOENT || errnum == ENOTDIR)
                return INIT_EXIT_NOT_FOUND;
        return INIT_EXIT_CANNOT_EXEC;
}
