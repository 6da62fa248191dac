/* SPDX-License-Identifier: Apache-2.0 */
#include "picks.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "debcache.h"

enum token { TOKEN_LITERAL, TOKEN_ONE, TOKEN_STAR, TOKEN_STARSTAR };

/*
 * A dynamic programme over (pattern token, path position), one row at a time: no
 * backtracking, so a hostile package name cannot make a match take exponential time.
 */
bool pick_glob_match(const char *pattern, const char *path)
{
        size_t n = strlen(path);
        if (n > 1 << 16)
                return false;
        _cleanup_free_ bool *prev = calloc(n + 1, sizeof(bool));
        _cleanup_free_ bool *cur = calloc(n + 1, sizeof(bool));
        if (!prev || !cur)
                return false;
        prev[0] = true;
        for (const char *p = pattern; *p;) {
                enum token t = TOKEN_LITERAL;
                char lit = *p;
                if (p[0] == '*' && p[1] == '*') {
                        t = TOKEN_STARSTAR;
                        while (*p == '*')
                                p++;
                } else if (*p == '*') {
                        t = TOKEN_STAR;
                        p++;
                } else if (*p == '?') {
                        t = TOKEN_ONE;
                        p++;
                } else
                        p++;
                cur[0] = (t == TOKEN_STAR || t == TOKEN_STARSTAR) && prev[0];
                bool any = cur[0];
                for (size_t j = 1; j <= n; j++) {
                        char c = path[j - 1];
                        switch (t) {
                        case TOKEN_LITERAL:
                                cur[j] = prev[j - 1] && c == lit;
                                break;
                        case TOKEN_ONE:
                                cur[j] = prev[j - 1] && c != '/';
                                break;
                        case TOKEN_STAR:
                                cur[j] = prev[j] || (cur[j - 1] && c != '/');
                                break;
                        case TOKEN_STARSTAR:
                                cur[j] = prev[j] || cur[j - 1];
                                break;
                        }
                        any = any || cur[j];
                }
                if (!any)
                        return false;
                bool *swap = prev;
                prev = cur;
                cur = swap;
        }
        return prev[n];
}

/* dest followed by rest (which is empty or starts with '/'), without doubling the root. */
static int join(const char *dest, const char *rest, char **ret)
{
        if (streq(dest, "/") && *rest)
                dest = "";
        return asprintf(ret, "%s%s", dest, rest) < 0 ? -ENOMEM : 1;
}

int pick_dest(const struct recipe_pick *p, bool src_is_dir, const char *path, char **ret)
{
        if (p->glob) {
                /* The fixed prefix first: most entries of a package fail right there. */
                if (strncmp(path, p->src, p->prefix_len) != 0 || path[p->prefix_len] != '/' ||
                    !pick_glob_match(p->src + p->prefix_len, path + p->prefix_len))
                        return 0;
                return join(p->dest, path + p->prefix_len, ret);
        }
        if (streq(path, p->src))
                return join(p->dest, "", ret);
        size_t len = strlen(p->src);
        if (src_is_dir && strncmp(path, p->src, len) == 0 && path[len] == '/')
                return join(p->dest, path + len, ret);
        return 0;
}

static const char *last_component(const char *p)
{
        const char *s = strrchr(p, '/');
        return s ? s + 1 : p;
}

const char *pick_nearest(const struct deb_contents *dc, const char *src)
{
        const char *base = last_component(src), *best = NULL;
        size_t best_d = SIZE_MAX;
        for (size_t i = 0; i < dc->n_members; i++) {
                const char *m = dc->members[i].path;
                if (streq(last_component(m), base) && str_distance(m, src) < best_d) {
                        best_d = str_distance(m, src);
                        best = m;
                }
        }
        if (best)
                return best;
        size_t max = strlen(src) / 4 > 3 ? strlen(src) / 4 : 3;
        best_d = max + 1;
        for (size_t i = 0; i < dc->n_members; i++) {
                size_t d = str_distance(dc->members[i].path, src);
                if (d < best_d) {
                        best_d = d;
                        best = dc->members[i].path;
                }
        }
        return best;
}
