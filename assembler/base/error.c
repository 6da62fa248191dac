/* SPDX-License-Identifier: Apache-2.0 */
#include "error.h"

#include <ctype.h>

static int push_message(struct cairn_error *err, char *msg)
{
        char **v = realloc(err->messages, (err->n_messages + 1) * sizeof(*v));
        if (!v) {
                free(msg);
                return -ENOMEM;
        }
        err->messages = v;
        err->messages[err->n_messages++] = msg;
        return 0;
}

int cairn_error_addv(struct cairn_error *err, enum cairn_exit exit, int code, const char *fmt,
                     va_list ap)
{
        if (code >= 0)
                code = -EINVAL;
        if (!err)
                return code;
        if (err->code >= 0) {
                err->code = code;
                err->exit = exit;
        }
        char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                return code;
        (void)push_message(err, msg);
        return code;
}

int cairn_error_add(struct cairn_error *err, enum cairn_exit exit, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = cairn_error_addv(err, exit, code, fmt, ap);
        va_end(ap);
        return r;
}

static enum cairn_exit exit_for_errno(int code)
{
        switch (-code) {
        case EINVAL:
        case ENOENT:
        case ENOTDIR:
        case EISDIR:
        case EEXIST:
        case ELOOP:
        case ENAMETOOLONG:
        case E2BIG:
                return CAIRN_EXIT_USAGE;
        default:
                return CAIRN_EXIT_IO;
        }
}

int cairn_error_errno(struct cairn_error *err, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = cairn_error_addv(err, exit_for_errno(code < 0 ? code : -EINVAL), code, fmt, ap);
        va_end(ap);
        return r;
}

int cairn_error_wrap(struct cairn_error *err, int code, const char *fmt, ...)
{
        if (!err)
                return code < 0 ? code : -EINVAL;
        _cleanup_free_ char *ctx = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&ctx, fmt, ap);
        va_end(ap);
        if (r < 0)
                return err->code < 0 ? err->code : code;

        if (err->n_messages == 0) {
                int c = code < 0 ? code : -EINVAL;
                return cairn_error_add(err, exit_for_errno(c), c, "%s: %s", ctx, strerror(-c));
        }
        for (size_t i = 0; i < err->n_messages; i++) {
                char *m = NULL;
                if (asprintf(&m, "%s: %s", ctx, err->messages[i]) < 0)
                        continue;
                free(err->messages[i]);
                err->messages[i] = m;
        }
        return err->code;
}

void cairn_error_clear(struct cairn_error *err)
{
        if (!err)
                return;
        int saved = errno;
        for (size_t i = 0; i < err->n_messages; i++)
                free(err->messages[i]);
        free(err->messages);
        *err = (struct cairn_error)CAIRN_ERROR_INIT;
        errno = saved;
}

/* "FILE:LINE:COL: ..." messages are compiler-style and printed without a program prefix. */
static bool has_position(const char *m)
{
        const char *c = strchr(m, ':');
        const char *sp = strchr(m, ' ');
        if (!c || c == m || (sp && sp < c))
                return false;
        return isdigit((unsigned char)c[1]);
}

/* The length of m's "FILE:LINE:" or "FILE:LINE:COLUMN: " prefix (has_position(m) is true). */
static size_t position_len(const char *m)
{
        const char *p = strchr(m, ':') + 1;
        while (isdigit((unsigned char)*p))
                p++;
        if (*p == ':' && isdigit((unsigned char)p[1])) {
                p++;
                while (isdigit((unsigned char)*p))
                        p++;
        }
        if (*p == ':')
                p++;
        while (*p == ' ')
                p++;
        return (size_t)(p - m);
}

void cairn_error_print(const struct cairn_error *err, FILE *f)
{
        if (!err)
                return;
        for (size_t i = 0; i < err->n_messages; i++) {
                const char *m = err->messages[i];
                size_t n = has_position(m) ? position_len(m) : 0;
                /* One format (docs/commands.md, "Errors"): FILE:LINE:COLUMN: error: MESSAGE,
                 * whatever form the message was made in. */
                if (n && (startswith(m + n, "error: ") || startswith(m + n, "warning: ")))
                        fprintf(f, "%s\n", m);
                else if (n)
                        fprintf(f, "%.*s%serror: %s\n", (int)n, m, m[n - 1] == ' ' ? "" : " ",
                                m + n);
                else
                        fprintf(f, "cairn: error: %s\n", m);
        }
        if (err->n_messages == 0 && err->code < 0)
                fprintf(f, "cairn: error: %s\n", strerror(-err->code));
}

int cairn_error_exit_status(const struct cairn_error *err)
{
        if (!err || err->code >= 0)
                return CAIRN_EXIT_OK;
        return err->exit ? (int)err->exit : CAIRN_EXIT_IO;
}
