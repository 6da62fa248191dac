/* SPDX-License-Identifier: Apache-2.0 */
#include "aptsources.h"

#include <ctype.h>
#include <dirent.h>

#define APT_MAX_FILE (1024 * 1024)
#define APT_MAX_URIS 64

static bool has_word(const char *list, const char *word)
{
        size_t n = strlen(word);
        for (const char *p = list; *p;) {
                while (*p && isspace((unsigned char)*p))
                        p++;
                const char *end = p;
                while (*end && !isspace((unsigned char)*end))
                        end++;
                if ((size_t)(end - p) == n && strncmp(p, word, n) == 0)
                        return true;
                p = end;
        }
        return false;
}

static char *strip_slash(const char *uri, size_t len)
{
        while (len > 0 && uri[len - 1] == '/')
                len--;
        return strndup(uri, len);
}

/* Called for every deb entry in lookup order: its URI (no trailing slash) and its suites (one
 * word, or a deb822 Suites: list). Returns 1 to stop, 0 to go on, or a negative errno. */
typedef int (*apt_visit_fn)(const char *uri, const char *suites, void *data);

static int visit_uri(const char *uri, size_t len, const char *suites, apt_visit_fn fn, void *data)
{
        _cleanup_free_ char *u = strip_slash(uri, len);
        return u ? fn(u, suites, data) : -ENOMEM;
}

/* One-line format: "deb [opts] URI SUITE COMPONENT...". */
static int scan_list(char *text, apt_visit_fn fn, void *data)
{
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                char *hash = strchr(line, '#');
                if (hash)
                        *hash = '\0';
                char *save = NULL;
                char *type = strtok_r(line, " \t", &save);
                if (!type || !streq(type, "deb"))
                        continue;
                char *uri = strtok_r(NULL, " \t", &save);
                if (uri && uri[0] == '[') {
                        while (uri && !strchr(uri, ']'))
                                uri = strtok_r(NULL, " \t", &save);
                        uri = strtok_r(NULL, " \t", &save);
                }
                char *s = strtok_r(NULL, " \t", &save);
                if (uri && s) {
                        int r = visit_uri(uri, strlen(uri), s, fn, data);
                        if (r != 0)
                                return r;
                }
        }
        return 0;
}

/* deb822: stanzas separated by blank lines; fields Types, URIs, Suites, Enabled. */
static int scan_sources(const char *text, apt_visit_fn fn, void *data)
{
        const char *p = text;
        while (*p) {
                _cleanup_free_ char *types = NULL, *uris = NULL, *suites = NULL, *enabled = NULL;
                while (*p && *p != '\n') {
                        const char *eol = strchrnul(p, '\n');
                        const char *colon = memchr(p, ':', (size_t)(eol - p));
                        if (p[0] != '#' && colon) {
                                const char *v = colon + 1;
                                while (v < eol && isspace((unsigned char)*v))
                                        v++;
                                char **field = NULL;
                                size_t klen = (size_t)(colon - p);
                                if (klen == 5 && strncasecmp(p, "Types", 5) == 0)
                                        field = &types;
                                else if (klen == 4 && strncasecmp(p, "URIs", 4) == 0)
                                        field = &uris;
                                else if (klen == 6 && strncasecmp(p, "Suites", 6) == 0)
                                        field = &suites;
                                else if (klen == 7 && strncasecmp(p, "Enabled", 7) == 0)
                                        field = &enabled;
                                if (field) {
                                        free(*field);
                                        *field = strndup(v, (size_t)(eol - v));
                                }
                        }
                        p = *eol ? eol + 1 : eol;
                }
                while (*p == '\n')
                        p++;
                if (!types || !uris || !suites || !has_word(types, "deb") ||
                    (enabled && strncasecmp(enabled, "no", 2) == 0))
                        continue;
                for (const char *u = uris; *u;) {
                        while (*u && isspace((unsigned char)*u))
                                u++;
                        size_t n = strcspn(u, " \t");
                        if (n == 0)
                                break;
                        int r = visit_uri(u, n, suites, fn, data);
                        if (r != 0)
                                return r;
                        u += n;
                }
        }
        return 0;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

const char *aptsources_dir(void)
{
        const char *dir = getenv("CAIRN_APT_DIR");
        return dir && *dir ? dir : "/etc/apt";
}

/* Every deb entry of the apt configuration, in lookup order, until fn stops. */
static int apt_walk(apt_visit_fn fn, void *data)
{
        const char *dir = aptsources_dir();
        _cleanup_free_ char *main_list = NULL, *parts = NULL;
        if (asprintf(&main_list, "%s/sources.list", dir) < 0 ||
            asprintf(&parts, "%s/sources.list.d", dir) < 0)
                return -ENOMEM;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        if (read_file_bounded(main_list, APT_MAX_FILE, &buf, &len) == 0) {
                int r = scan_list(buf, fn, data);
                if (r != 0)
                        return r;
        }
        struct dirent **names = NULL;
        int n = scandir(parts, &names, NULL, name_cmp);
        int found = 0;
        for (int pass = 0; pass < 2 && found == 0; pass++)
                for (int i = 0; i < n && found == 0; i++) {
                        const char *name = names[i]->d_name;
                        bool list = ends_with(name, ".list"), sources = ends_with(name, ".sources");
                        if ((pass == 0 && !list) || (pass == 1 && !sources) || name[0] == '.')
                                continue;
                        _cleanup_free_ char *path = NULL, *text = NULL;
                        if (asprintf(&path, "%s/%s", parts, name) < 0) {
                                found = -ENOMEM;
                                break;
                        }
                        if (read_file_bounded(path, APT_MAX_FILE, &text, &len) < 0)
                                continue;
                        found = list ? scan_list(text, fn, data) : scan_sources(text, fn, data);
                }
        for (int i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return found;
}

struct find_ctx {
        const char *suite;
        char *uri;
};

static int find_visit(const char *uri, const char *suites, void *data)
{
        struct find_ctx *c = data;
        if (!has_word(suites, c->suite))
                return 0;
        c->uri = strdup(uri);
        return c->uri ? 1 : -ENOMEM;
}

int aptsources_find(const char *suite, char **ret_uri)
{
        struct find_ctx c = { .suite = suite };
        int r = apt_walk(find_visit, &c);
        if (r < 0)
                return r;
        if (!c.uri)
                return -ENOENT;
        *ret_uri = c.uri;
        return 0;
}

struct uris_ctx {
        char **uris;
        size_t n;
};

static int uris_visit(const char *uri, const char *suites, void *data)
{
        struct uris_ctx *c = data;
        for (size_t i = 0; i < c->n; i++)
                if (streq(c->uris[i], uri))
                        return 0;
        if (c->n >= APT_MAX_URIS)
                return 1;
        char **nv = realloc(c->uris, (c->n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        c->uris = nv;
        if (!(nv[c->n] = strdup(uri)))
                return -ENOMEM;
        nv[++c->n] = NULL;
        return 0;
}

int aptsources_uris(char ***ret_uris)
{
        struct uris_ctx c = { 0 };
        int r = apt_walk(uris_visit, &c);
        if (r < 0 || !c.uris) {
                strv_free(c.uris);
                if (r < 0)
                        return r;
                c.uris = calloc(1, sizeof(char *));
                if (!c.uris)
                        return -ENOMEM;
        }
        *ret_uris = c.uris;
        return 0;
}
