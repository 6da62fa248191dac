/* SPDX-License-Identifier: Apache-2.0 */
#include "cmd.h"

#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>

#include "state/build.h"
#include "base/cachemac.h"
#include "base/http.h"
#include "registry/client.h"
#include "registry/ref.h"

#include <openssl/crypto.h>

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

char **cmd_argv;
int cmd_argc;

int cmd_usage_error(const char *command, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "cairn %s: error: ", command);
        if (streq(fmt, "unknown option") && cmd_argv && optind > 0 && optind <= cmd_argc) {
                /* getopt is silent (opterr = 0, main.c): name the option here, once. */
                if (optopt > 0 && optopt < 128 && isalnum(optopt))
                        fprintf(stderr, "option '-%c' is unknown or needs a value", optopt);
                else
                        fprintf(stderr, "option '%s' is unknown or needs a value",
                                cmd_argv[optind - 1]);
        } else {
                vfprintf(stderr, fmt, ap);
        }
        fprintf(stderr, "\nTry 'cairn %s --help'.\n", command);
        va_end(ap);
        return CAIRN_EXIT_USAGE;
}

void cmd_print_lock_notice(const struct build *b, bool written, FILE *f)
{
        if (b->lock_read_path)
                fprintf(f,
                        "lock: read %s, the old name; %s %s, the lock of this recipe file "
                        "(remove the old one once no recipe uses it)\n",
                        b->lock_read_path, written ? "wrote" : "the next unlocked build writes",
                        b->lock_path);
}

void cmd_print_set_lock_changes(const struct build_set *s, FILE *f)
{
        if (s->n == 1) {
                cmd_print_lock_changes(s->builds[0], f);
                return;
        }
        const struct build *b0 = s->builds[0];
        if (!b0->lock)
                return;
        fprintf(f, "lock: wrote %s (", b0->lock_path);
        for (size_t i = 0; i < s->n; i++) {
                const struct build *b = s->builds[i];
                size_t n = b->lock ? b->lock->n_packages : 0;
                fprintf(f, "%s%s: %zu package%s", i ? ", " : "", b->arch, n, n == 1 ? "" : "s");
        }
        fputs(")\n", f);
        for (size_t i = 0; i < s->n; i++)
                for (char **p = s->builds[i]->lock_changes; p && *p; p++)
                        fprintf(f, "lock:   %s: %s\n", s->builds[i]->arch, *p);
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

void cmd_print_lock_unconfirmed(const struct build *b)
{
        if (b->lock_unconfirmed)
                fprintf(stderr,
                        "lock: %zu locked package%s no longer in the verified index of %s "
                        "source; %s SHA-256 comes from %s alone\n",
                        b->lock_unconfirmed, b->lock_unconfirmed == 1 ? " is" : "s are",
                        b->lock_unconfirmed == 1 ? "its" : "their",
                        b->lock_unconfirmed == 1 ? "its" : "their", b->lock_path);
}

static void print_cache_notice(const char *line)
{
        fprintf(stderr, "cairn: %s\n", line);
}

void cmd_cache_notices_setup(void)
{
        cachemac_set_notice(print_cache_notice);
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

void cmd_print_note(void *data, const char *text)
{
        (void)data;
        fprintf(stderr, "cairn: note: %s\n", text);
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
        case CMD_OPT_CONTEXT:
                opts->context_dir = arg;
                return 1;
        case CMD_OPT_ARCH:
                opts->arch = arg;
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

int cmd_registry_option(const char *command, int c, const char *arg, struct cmd_registry *r)
{
        switch (c) {
        case CMD_OPT_USERNAME:
                r->username = arg;
                return 1;
        case CMD_OPT_PASSWORD_STDIN:
                r->password_stdin = true;
                return 1;
        case CMD_OPT_INSECURE:
                r->insecure = true;
                return 1;
        case CMD_OPT_INSECURE_REGISTRY:
                if (r->n_insecure_hosts == CMD_MAX_INSECURE) {
                        cmd_usage_error(command, "--insecure-registry: at most %d hosts",
                                        CMD_MAX_INSECURE);
                        return -1;
                }
                r->insecure_hosts[r->n_insecure_hosts++] = arg;
                return 1;
        case CMD_OPT_CA_FILE:
                if (access(arg, R_OK) < 0) {
                        cmd_usage_error(command, "--ca-file %s: %m", arg);
                        return -1;
                }
                r->ca_file = arg;
                return 1;
        }
        return 0;
}

void cmd_registry_clear(struct cmd_registry *r)
{
        if (r->password) {
                OPENSSL_cleanse(r->password, strlen(r->password));
                free(r->password);
                r->password = NULL;
        }
}

/* host named by --insecure-registry: HOST[:PORT] exactly, or HOST for any port. */
static bool insecure_named(const struct cmd_registry *r, const char *host)
{
        for (size_t i = 0; i < r->n_insecure_hosts; i++) {
                const char *h = r->insecure_hosts[i];
                size_t n = strlen(h);
                if (streq(h, host) || (strncmp(host, h, n) == 0 && host[n] == ':'))
                        return true;
        }
        return false;
}

#define PASSWORD_MAX 4096

int cmd_registry_connect(const char *command, struct cmd_registry *r, const char *host,
                         struct registry_client **ret, struct cairn_error *err)
{
        if (r->password_stdin && !r->username) {
                cmd_usage_error(command, "--password-stdin needs --username");
                return -EINVAL;
        }
        if (r->username && !r->password_stdin) {
                cmd_usage_error(command, "--username needs --password-stdin (the password is "
                                         "never an argument)");
                return -EINVAL;
        }
        if (r->insecure && !registry_host_is_loopback(host) && !insecure_named(r, host)) {
                cmd_usage_error(command,
                                "--insecure applies only to a registry on localhost, 127.0.0.1 "
                                "or [::1]; name %s with --insecure-registry if you mean it",
                                host);
                return -EINVAL;
        }
        if (r->password_stdin && !r->password) {
                char *buf = calloc(1, PASSWORD_MAX + 1);
                if (!buf)
                        return -ENOMEM;
                size_t len = 0;
                for (;;) {
                        ssize_t k = read_retry(STDIN_FILENO, buf + len, PASSWORD_MAX - len);
                        if (k < 0) {
                                free(buf);
                                return cairn_error_errno(err, (int)k,
                                                         "reading the password "
                                                         "from stdin: %s",
                                                         strerror((int)-k));
                        }
                        if (k == 0)
                                break;
                        len += (size_t)k;
                        if (len == PASSWORD_MAX) {
                                OPENSSL_cleanse(buf, len);
                                free(buf);
                                cmd_usage_error(command, "--password-stdin: longer than %d bytes",
                                                PASSWORD_MAX);
                                return -EINVAL;
                        }
                }
                while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
                        buf[--len] = '\0';
                r->password = buf;
        }
        struct registry_options o = {
                .username = r->username,
                .password = r->password,
                .insecure =
                        (r->insecure && registry_host_is_loopback(host)) || insecure_named(r, host),
                .ca_file = r->ca_file,
        };
        return registry_client_new(host, &o, ret, err);
}
