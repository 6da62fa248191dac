/* SPDX-License-Identifier: Apache-2.0 */
#include "aptsources.h"

#include <ctype.h>
#include <dirent.h>

#define APT_MAX_FILE (1024 * 1024)

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

/* One-line format: "deb [opts] URI SUITE COMPONENT...". */
static int scan_list(char *text, const char *suite, char **ret)
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
                if (uri && s && streq(s, suite)) {
                        *ret = strip_slash(uri, strlen(uri));
                        return *ret ? 1 : -ENOMEM;
                }
        }
        return 0;
}

/* deb822: stanzas separated by blank lines; fields Types, URIs, Suites, Enabled. */
static int scan_sources(const char *text, const char *suite, char **ret)
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
                    !has_word(suites, suite) || (enabled && strncasecmp(enabled, "no", 2) == 0))
                        continue;
                const char *u = uris;
                while (*u && isspace((unsigned char)*u))
                        u++;
                size_t n = strcspn(u, " \t");
                *ret = strip_slash(u, n);
                return *ret ? 1 : -ENOMEM;
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

int aptsources_find(const char *suite, char **ret_uri, struct cairn_error *err)
{
        const char *dir = getenv("CAIRN_APT_DIR");
        if (!dir || !*dir)
                dir = "/etc/apt";
        _cleanup_free_ char *main_list = NULL, *parts = NULL;
        if (asprintf(&main_list, "%s/sources.list", dir) < 0 ||
            asprintf(&parts, "%s/sources.list.d", dir) < 0)
                return -ENOMEM;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        if (read_file_bounded(main_list, APT_MAX_FILE, &buf, &len) == 0) {
                int r = scan_list(buf, suite, ret_uri);
                if (r != 0)
                        return r < 0 ? r : 0;
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
                        found = list ? scan_list(text, suite, ret_uri)
                                     : scan_sources(text, suite, ret_uri);
                }
        for (int i = 0; i < n; i++)
                free(names[i]);
        free(names);
        if (found < 0)
                return found;
        if (found == 0)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -ENOENT,
                                       "url: apt: no deb entry for suite '%s' in %s or %s/*.list, "
                                       "*.sources; add one or give the source an explicit url",
                                       suite, main_list, parts);
        return 0;
}
