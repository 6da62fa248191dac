/* SPDX-License-Identifier: Apache-2.0 */
#include "yamlread.h"

#include <ctype.h>
#include <strings.h>
#include <stdarg.h>

static bool generated(const struct yread *y)
{
        return y->kind == YREAD_GENERATED;
}

void yread_fail(struct yread *y, struct recipe_pos pos, const char *fmt, ...)
{
        y->n_errors++;
        if (generated(y) && y->n_errors > 1)
                return;
        if (y->n_errors > YREAD_MAX_ERRORS) {
                if (y->n_errors == YREAD_MAX_ERRORS + 1)
                        cairn_error_add(y->err, CAIRN_EXIT_USAGE, -EINVAL,
                                        "%s: too many errors, stopping after %d", y->file,
                                        YREAD_MAX_ERRORS);
                return;
        }
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0) {
                msg = NULL;
                y->oom = true;
        }
        cairn_error_add(y->err, CAIRN_EXIT_USAGE, -EINVAL, "%s:%u:%u: error: %s%s", y->file,
                        pos.line, pos.column, msg ? msg : "out of memory", y->hint ? y->hint : "");
}

bool yread_oom(struct yread *y)
{
        y->oom = true;
        return false;
}

void *yread_calloc(struct yread *y, size_t n, size_t size)
{
        void *p = calloc(n, size);
        if (!p)
                yread_oom(y);
        return p;
}

char *yread_strdup(struct yread *y, const char *s)
{
        char *d = strdup(s);
        if (!d)
                yread_oom(y);
        return d;
}

/* The known key nearest to key (at most two edits away), or NULL. */
static const char *nearest_key(const char *const *known, const char *key)
{
        const char *best = NULL;
        size_t best_d = 3;
        for (const char *const *p = known; *p; p++) {
                size_t d = str_distance(*p, key);
                if (d < best_d) {
                        best_d = d;
                        best = *p;
                }
        }
        return best;
}

static bool key_known(const char *const *known, const char *key)
{
        for (const char *const *p = known; *p; p++)
                if (streq(*p, key))
                        return true;
        return false;
}

bool yread_map(struct yread *y, const struct ynode *m, const char *what, const char *const *known)
{
        if (m->type != YNODE_MAPPING) {
                if (generated(y))
                        yread_fail(y, m->pos, "%s: expected an object, got %s", what,
                                   ynode_type_name(m));
                else
                        yread_fail(y, m->pos, "%s: expected a mapping, got %s", what,
                                   ynode_type_name(m));
                return false;
        }
        for (size_t i = 0; i + 1 < m->n_items; i += 2) {
                const struct ynode *k = m->items[i];
                if (k->type != YNODE_SCALAR) {
                        if (generated(y))
                                yread_fail(y, k->pos, "%s: keys must be strings", what);
                        else
                                yread_fail(y, k->pos, "%s: keys must be plain strings", what);
                        continue;
                }
                if (!key_known(known, k->value)) {
                        const char *best = generated(y) ? NULL : nearest_key(known, k->value);
                        if (best)
                                yread_fail(y, k->pos, "unknown key '%s' in %s (did you mean '%s'?)",
                                           k->value, what, best);
                        else
                                yread_fail(y, k->pos, "unknown key '%s' in %s", k->value, what);
                }
                for (size_t j = 0; j < i; j += 2) {
                        const struct ynode *o = m->items[j];
                        if (o->type != YNODE_SCALAR || !streq(o->value, k->value))
                                continue;
                        if (generated(y))
                                yread_fail(y, k->pos, "duplicate key '%s' in %s", k->value, what);
                        else
                                yread_fail(y, k->pos, "duplicate key '%s' in %s (first at line %u)",
                                           k->value, what, o->pos.line);
                        break;
                }
        }
        return true;
}

/* A JSON string: a quoted scalar without NUL characters. */
static bool json_string(const struct ynode *n)
{
        return n->type == YNODE_SCALAR && !n->plain && strlen(n->value) == n->len;
}

char *yread_string(struct yread *y, const struct ynode *n, const char *what)
{
        if (!n)
                return NULL;
        if (generated(y)) {
                /* a plain JSON scalar is a number, true, false or null */
                if (!json_string(n)) {
                        yread_fail(y, n->pos, "%s: expected a string", what);
                        return NULL;
                }
        } else if (n->type != YNODE_SCALAR) {
                yread_fail(y, n->pos, "%s: expected a string, got %s", what, ynode_type_name(n));
                return NULL;
        } else if (ynode_is_null(n)) {
                yread_fail(y, n->pos, "%s: expected a string, got nothing", what);
                return NULL;
        } else if (strlen(n->value) != n->len) {
                yread_fail(y, n->pos, "%s: NUL characters are not allowed here", what);
                return NULL;
        }
        return yread_strdup(y, n->value);
}

bool yread_uint(struct yread *y, const struct ynode *n, const char *what, uint64_t max,
                uint64_t *ret)
{
        if (!n)
                return false;
        if (n->type != YNODE_SCALAR || !n->plain || n->len == 0 || (generated(y) && n->len > 19)) {
                if (generated(y))
                        yread_fail(y, n->pos, "%s: expected a non-negative integer", what);
                else
                        yread_fail(y, n->pos, "%s: expected a number, got %s", what,
                                   n->type == YNODE_SCALAR ? "a string" : ynode_type_name(n));
                return false;
        }
        uint64_t v = 0;
        for (size_t i = 0; i < n->len; i++) {
                char ch = n->value[i];
                if (!isdigit((unsigned char)ch)) {
                        if (generated(y))
                                yread_fail(y, n->pos, "%s: expected a non-negative integer", what);
                        else
                                yread_fail(y, n->pos, "%s: '%s' is not a non-negative integer",
                                           what, n->value);
                        return false;
                }
                if (v > (max - (uint64_t)(ch - '0')) / 10) {
                        if (generated(y))
                                yread_fail(y, n->pos, "%s: expected a non-negative integer", what);
                        else
                                yread_fail(y, n->pos, "%s: %s is larger than %llu", what, n->value,
                                           (unsigned long long)max);
                        return false;
                }
                v = v * 10 + (uint64_t)(ch - '0');
        }
        *ret = v;
        return true;
}

bool yread_bool(struct yread *y, const struct ynode *n, const char *what, bool *ret)
{
        if (!n)
                return false;
        if (n->type == YNODE_SCALAR && n->plain &&
            (streq(n->value, "true") || streq(n->value, "false"))) {
                *ret = streq(n->value, "true");
                return true;
        }
        if (generated(y) || n->type != YNODE_SCALAR)
                yread_fail(y, n->pos, "%s: expected true or false", what);
        else
                yread_fail(y, n->pos, "%s: expected true or false, got '%.64s'%s", what, n->value,
                           strcasecmp(n->value, "yes") == 0 || strcasecmp(n->value, "on") == 0
                                   ? " (write true)"
                           : strcasecmp(n->value, "no") == 0 || strcasecmp(n->value, "off") == 0
                                   ? " (write false)"
                                   : "");
        return false;
}

bool yread_seq(struct yread *y, const struct ynode *n, const char *what, size_t max)
{
        if (n->type != YNODE_SEQUENCE) {
                if (generated(y))
                        yread_fail(y, n->pos, "%s: expected a list", what);
                else if (n->type == YNODE_SCALAR)
                        yread_fail(y, n->pos, "%s: expected a list, got a string (write [%s])",
                                   what, n->value);
                else
                        yread_fail(y, n->pos, "%s: expected a list, got %s", what,
                                   ynode_type_name(n));
                return false;
        }
        if (n->n_items > max) {
                if (generated(y))
                        yread_fail(y, n->pos, "%s: more than %zu entries", what, max);
                else
                        yread_fail(y, n->pos, "%s: more than %zu items", what, max);
                return false;
        }
        return true;
}

char **yread_strv(struct yread *y, const struct ynode *n, const char *what, size_t max,
                  yread_string_fn get)
{
        if (!n)
                return NULL;
        if (generated(y) && n->type != YNODE_SEQUENCE) {
                yread_fail(y, n->pos, "%s: expected a list of strings", what);
                return NULL;
        }
        if (!yread_seq(y, n, what, max))
                return NULL;
        _cleanup_strv_free_ char **v = yread_calloc(y, n->n_items + 1, sizeof(char *));
        if (!v)
                return NULL;
        bool ok = true;
        for (size_t i = 0, k = 0; i < n->n_items; i++) {
                const struct ynode *e = n->items[i];
                if (generated(y) && !json_string(e)) {
                        yread_fail(y, e->pos, "%s: expected a list of strings", what);
                        ok = false;
                        continue;
                }
                /* after a problem the remaining elements are only checked */
                char *s = get(y, e, what);
                if (!s)
                        ok = false;
                else if (ok)
                        v[k++] = s;
                else
                        free(s);
        }
        return ok ? steal_pointer(&v) : NULL;
}
