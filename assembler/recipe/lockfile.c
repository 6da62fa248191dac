/* SPDX-License-Identifier: Apache-2.0 */
#include "lockfile.h"

#include <stdarg.h>

#include "base/digest.h"
#include "base/json.h"
#include "yamlread.h"

static void source_clear(struct lock_source *s)
{
        free(s->name);
        free(s->url);
        free(s->suite);
        free(s->release_sha256);
        free(s->date);
}

static void package_clear(struct lock_package *p)
{
        free(p->name);
        free(p->version);
        free(p->arch);
        free(p->source);
        free(p->filename);
        free(p->sha256);
        strv_free(p->picked_in);
        strv_free(p->installed_in);
        strv_free(p->needed_by);
}

void lockfile_free(struct lockfile *lock)
{
        if (!lock)
                return;
        for (size_t i = 0; i < lock->n_sources; i++)
                source_clear(&lock->sources[i]);
        free(lock->sources);
        for (size_t i = 0; i < lock->n_utilities; i++) {
                free(lock->utilities[i].request);
                free(lock->utilities[i].package);
        }
        free(lock->utilities);
        for (size_t i = 0; i < lock->n_packages; i++)
                package_clear(&lock->packages[i]);
        free(lock->packages);
        free(lock->recipe);
        free(lock->arch);
        free(lock->inputs);
        free(lock->init);
        lockfile_free(lock->next);
        free(lock);
}

/* ---- reading ---------------------------------------------------------------------------- */

/* A lock is generated, so the reader stops at its first problem: one precise message (with
 * its position) is enough to tell the user to fix or regenerate it. */
static const char regenerate_hint[] = " (regenerate it with 'cairn lock')";

/* Checks m is an object with only known keys, each once, and every one of them present but
 * the optional one (NULL for none). */
static bool check_keys_opt(struct yread *y, const struct ynode *m, const char *what,
                           const char *const *keys, const char *optional)
{
        if (!yread_map(y, m, what, keys))
                return false;
        for (const char *const *p = keys; *p && !yread_failed(y); p++)
                if (!ynode_map_get(m, *p) && !(optional && streq(*p, optional)))
                        yread_fail(y, m->pos, "%s: missing '%s'", what, *p);
        return !yread_failed(y);
}

static bool check_keys(struct yread *y, const struct ynode *m, const char *what,
                       const char *const *keys)
{
        return check_keys_opt(y, m, what, keys, NULL);
}

static char *get_str(struct yread *y, const struct ynode *m, const char *key)
{
        return yread_string(y, ynode_map_get(m, key), key);
}

static bool get_u64(struct yread *y, const struct ynode *m, const char *key, uint64_t *ret)
{
        return yread_uint(y, ynode_map_get(m, key), key, UINT64_MAX, ret);
}

static char **get_strv(struct yread *y, const struct ynode *m, const char *key)
{
        return yread_strv(y, ynode_map_get(m, key), key, SIZE_MAX, yread_string);
}

static bool hex_ok(const char *s, size_t len)
{
        if (!s || strlen(s) != len)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

/* A Filename: that stays below its source: relative, no "..", no empty components. */
static bool filename_ok(const char *s)
{
        if (!s || !*s || s[0] == '/')
                return false;
        for (const char *p = s; *p;) {
                const char *end = strchrnul(p, '/');
                size_t n = (size_t)(end - p);
                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                p = *end ? end + 1 : end;
        }
        return !strchr(s, '\n');
}

static const struct ynode *get_list(struct yread *y, const struct ynode *m, const char *key,
                                    size_t max)
{
        const struct ynode *n = ynode_map_get(m, key);
        return n && yread_seq(y, n, key, max) ? n : NULL;
}

static void read_sources(struct yread *y, const struct ynode *list, struct lockfile *lock)
{
        static const char *const keys[] = {
                "name", "url", "suite", "release-sha256", "date", NULL
        };
        lock->sources = yread_calloc(y, list->n_items + 1, sizeof(*lock->sources));
        if (!lock->sources)
                return;
        for (size_t i = 0; i < list->n_items && !yread_failed(y); i++) {
                const struct ynode *n = list->items[i];
                if (!check_keys(y, n, "source", keys))
                        return;
                struct lock_source *s = &lock->sources[lock->n_sources++];
                s->name = get_str(y, n, "name");
                s->url = get_str(y, n, "url");
                s->suite = get_str(y, n, "suite");
                s->release_sha256 = get_str(y, n, "release-sha256");
                s->date = get_str(y, n, "date");
                if (!yread_failed(y) && !hex_ok(s->release_sha256, 64))
                        yread_fail(y, ynode_map_get(n, "release-sha256")->pos,
                                   "release-sha256: expected 64 lower-case hex digits");
        }
}

static void read_utilities(struct yread *y, const struct ynode *list, struct lockfile *lock)
{
        static const char *const keys[] = { "request", "package", NULL };
        lock->utilities = yread_calloc(y, list->n_items + 1, sizeof(*lock->utilities));
        if (!lock->utilities)
                return;
        for (size_t i = 0; i < list->n_items && !yread_failed(y); i++) {
                const struct ynode *n = list->items[i];
                if (!check_keys(y, n, "utility", keys))
                        return;
                struct lock_utility *u = &lock->utilities[lock->n_utilities++];
                u->request = get_str(y, n, "request");
                u->package = get_str(y, n, "package");
        }
}

static void read_packages(struct yread *y, const struct ynode *list, struct lockfile *lock)
{
        static const char *const keys[] = { "name",         "version",   "arch",   "source",
                                            "filename",     "size",      "sha256", "picked-in",
                                            "installed-in", "needed-by", NULL };
        lock->packages = yread_calloc(y, list->n_items + 1, sizeof(*lock->packages));
        if (!lock->packages)
                return;
        for (size_t i = 0; i < list->n_items && !yread_failed(y); i++) {
                const struct ynode *n = list->items[i];
                if (!check_keys(y, n, "package", keys))
                        return;
                struct lock_package *p = &lock->packages[lock->n_packages++];
                p->name = get_str(y, n, "name");
                p->version = get_str(y, n, "version");
                p->arch = get_str(y, n, "arch");
                p->source = get_str(y, n, "source");
                p->filename = get_str(y, n, "filename");
                get_u64(y, n, "size", &p->size);
                p->sha256 = get_str(y, n, "sha256");
                p->picked_in = get_strv(y, n, "picked-in");
                p->installed_in = get_strv(y, n, "installed-in");
                p->needed_by = get_strv(y, n, "needed-by");
                if (yread_failed(y))
                        return;
                if (!hex_ok(p->sha256, 64))
                        return yread_fail(y, ynode_map_get(n, "sha256")->pos,
                                          "sha256: expected 64 lower-case hex digits");
                if (!filename_ok(p->filename))
                        return yread_fail(y, ynode_map_get(n, "filename")->pos,
                                          "filename: '%s' must be a relative path without '..'",
                                          p->filename);
                bool known = false;
                for (size_t s = 0; s < lock->n_sources && !known; s++)
                        known = streq(lock->sources[s].name, p->source);
                if (!known)
                        return yread_fail(y, ynode_map_get(n, "source")->pos,
                                          "source: '%s' is not one of the lock's sources",
                                          p->source);
        }
}

/* One architecture's part of a lock: arch, inputs, cairn-init and the three lists, in n (the
 * top level of a single-architecture lock, or one element of "architectures"). */
static void read_section(struct yread *y, const struct ynode *n, struct lockfile *lock)
{
        lock->arch = get_str(y, n, "arch");
        lock->inputs = get_str(y, n, "inputs");
        const struct ynode *init = ynode_map_get(n, "cairn-init");
        if (init) {
                lock->init = yread_string(y, init, "cairn-init");
                if (!yread_failed(y) &&
                    !(startswith(lock->init, "sha256:") && hex_ok(lock->init + 7, 64)))
                        yread_fail(y, init->pos,
                                   "cairn-init: expected sha256: and 64 lower-case hex digits");
        }
        const struct ynode *l = get_list(y, n, "sources", LOCKFILE_MAX_ITEMS);
        if (l)
                read_sources(y, l, lock);
        l = get_list(y, n, "utilities", LOCKFILE_MAX_ITEMS);
        if (l)
                read_utilities(y, l, lock);
        l = get_list(y, n, "packages", LOCKFILE_MAX_ITEMS);
        if (l)
                read_packages(y, l, lock);
}

/* "architectures": one section per architecture, in byte order, each named once; chained
 * behind head (which holds the first). */
static void read_sections(struct yread *y, const struct ynode *l, struct lockfile *head)
{
        static const char *const keys[] = { "arch",      "inputs",   "cairn-init", "sources",
                                            "utilities", "packages", NULL };
        if (l->n_items == 0) {
                yread_fail(y, l->pos, "architectures: the list is empty");
                return;
        }
        struct lockfile *at = head, *prev = NULL;
        for (size_t i = 0; i < l->n_items && !yread_failed(y); i++) {
                const struct ynode *n = l->items[i];
                if (i > 0) {
                        if (!(at->next = calloc(1, sizeof(*at->next)))) {
                                yread_oom(y);
                                return;
                        }
                        prev = at;
                        at = at->next;
                        at->version = head->version;
                        if (!(at->recipe = strdup(head->recipe ? head->recipe : ""))) {
                                yread_oom(y);
                                return;
                        }
                }
                if (!check_keys_opt(y, n, "architectures item", keys, "cairn-init"))
                        return;
                read_section(y, n, at);
                if (!yread_failed(y) && prev && strcmp(prev->arch, at->arch) >= 0)
                        yread_fail(y, ynode_map_get(n, "arch")->pos,
                                   "arch: '%s' is out of order or named twice (sections are in "
                                   "byte order of their architecture)",
                                   at->arch);
        }
}

int lockfile_parse(const char *name, const char *buf, size_t len, struct lockfile **ret,
                   struct cairn_error *err)
{
        static const char *const keys[] = { "lockfile",  "recipe",     "arch",
                                            "inputs",    "cairn-init", "sources",
                                            "utilities", "packages",   NULL };
        static const char *const multi_keys[] = { "lockfile", "recipe", "architectures", NULL };
        _cleanup_ynode_ struct ynode *root = NULL;
        int r = ynode_load(name, buf, len, &root, err);
        if (r < 0)
                return cairn_error_wrap(err, r,
                                        "%s: not a lock file (regenerate it with "
                                        "'cairn lock')",
                                        name);
        struct yread y = {
                .file = name, .err = err, .kind = YREAD_GENERATED, .hint = regenerate_hint
        };
        _cleanup_lockfile_ struct lockfile *lock = calloc(1, sizeof(*lock));
        if (!lock)
                return -ENOMEM;
        uint64_t version = 0;
        if (root->type == YNODE_MAPPING && get_u64(&y, root, "lockfile", &version) &&
            version != LOCKFILE_VERSION)
                yread_fail(&y, ynode_map_get(root, "lockfile")->pos,
                           "lockfile: version %llu is not supported by this cairn (it reads %d)",
                           (unsigned long long)version, LOCKFILE_VERSION);
        /* A multi-architecture lock holds one section per architecture (docs/multiarch.md). */
        bool multi = root->type == YNODE_MAPPING && ynode_map_get(root, "architectures");
        if (!yread_failed(&y) && multi &&
            check_keys_opt(&y, root, "the lock file", multi_keys, NULL)) {
                lock->version = (unsigned)version;
                lock->recipe = get_str(&y, root, "recipe");
                const struct ynode *l = get_list(&y, root, "architectures", LOCKFILE_MAX_ARCHS);
                if (l)
                        read_sections(&y, l, lock);
        } else if (!yread_failed(&y) &&
                   check_keys_opt(&y, root, "the lock file", keys, "cairn-init")) {
                lock->version = (unsigned)version;
                lock->recipe = get_str(&y, root, "recipe");
                read_section(&y, root, lock);
        }
        r = yread_result(&y);
        if (r < 0)
                return r;
        *ret = steal_pointer(&lock);
        return 0;
}

struct lockfile *lockfile_take_arch(struct lockfile **chain, const char *arch)
{
        for (struct lockfile **p = chain; *p; p = &(*p)->next)
                if (streq_ptr((*p)->arch, arch)) {
                        struct lockfile *l = *p;
                        *p = l->next;
                        l->next = NULL;
                        return l;
                }
        return NULL;
}

int lockfile_read(const char *path, struct lockfile **ret, struct cairn_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = read_file_bounded(path, LOCKFILE_MAX_BYTES, &buf, &len);
        if (r == -ENOENT)
                return r;
        if (r == -EFBIG)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, r,
                                       "%s: larger than %d MiB; not a lock file cairn wrote", path,
                                       LOCKFILE_MAX_BYTES >> 20);
        if (r == -EINVAL || r == -EISDIR || r == -EAGAIN)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, r,
                                       "%s: the lock file is not a regular file (a directory, "
                                       "fifo, device or socket); remove it or give --lockfile",
                                       path);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", path, strerror(-r));
        return lockfile_parse(path, buf, len, ret, err);
}

/* ---- writing ---------------------------------------------------------------------------- */

static void print_strv(struct json *j, const char *key, char *const *v)
{
        json_key(j, key);
        json_array_begin(j);
        for (char *const *p = v; p && *p; p++)
                json_string(j, *p);
        json_array_end(j);
}

/* One architecture's keys, into the object being written. */
static void print_section(struct json *j, const struct lockfile *lock)
{
        json_kv_string(j, "arch", lock->arch);
        json_kv_string(j, "inputs", lock->inputs);
        if (lock->init)
                json_kv_string(j, "cairn-init", lock->init);
        json_key(j, "sources");
        json_array_begin(j);
        for (size_t i = 0; i < lock->n_sources; i++) {
                const struct lock_source *s = &lock->sources[i];
                json_object_begin(j);
                json_kv_string(j, "name", s->name);
                json_kv_string(j, "url", s->url);
                json_kv_string(j, "suite", s->suite);
                json_kv_string(j, "release-sha256", s->release_sha256);
                json_kv_string(j, "date", s->date);
                json_object_end(j);
        }
        json_array_end(j);
        json_key(j, "utilities");
        json_array_begin(j);
        for (size_t i = 0; i < lock->n_utilities; i++) {
                json_object_begin(j);
                json_kv_string(j, "request", lock->utilities[i].request);
                json_kv_string(j, "package", lock->utilities[i].package);
                json_object_end(j);
        }
        json_array_end(j);
        json_key(j, "packages");
        json_array_begin(j);
        for (size_t i = 0; i < lock->n_packages; i++) {
                const struct lock_package *p = &lock->packages[i];
                json_object_begin(j);
                json_kv_string(j, "name", p->name);
                json_kv_string(j, "version", p->version);
                json_kv_string(j, "arch", p->arch);
                json_kv_string(j, "source", p->source);
                json_kv_string(j, "filename", p->filename);
                json_kv_uint(j, "size", p->size);
                json_kv_string(j, "sha256", p->sha256);
                print_strv(j, "picked-in", p->picked_in);
                print_strv(j, "installed-in", p->installed_in);
                print_strv(j, "needed-by", p->needed_by);
                json_object_end(j);
        }
        json_array_end(j);
}

void lockfile_print(const struct lockfile *lock, FILE *f)
{
        struct json j;
        json_init_pretty(&j, f);
        json_object_begin(&j);
        json_kv_uint(&j, "lockfile", lock->version ? lock->version : LOCKFILE_VERSION);
        json_kv_string(&j, "recipe", lock->recipe);
        if (!lock->next) {
                /* One architecture: the flat form every lock had before multi-architecture
                 * recipes, byte for byte. */
                print_section(&j, lock);
        } else {
                json_key(&j, "architectures");
                json_array_begin(&j);
                for (const struct lockfile *l = lock; l; l = l->next) {
                        json_object_begin(&j);
                        print_section(&j, l);
                        json_object_end(&j);
                }
                json_array_end(&j);
        }
        json_object_end(&j);
        fputc('\n', f);
}

int lockfile_write(const struct lockfile *lock, const char *path, struct cairn_error *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        lockfile_print(lock, f);
        if (fclose(f) != 0)
                return -ENOMEM;
        /* Synced: the lock is a source file people commit, not a cache. */
        int r = write_file_atomic(path, text, len, true);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: cannot write the lock file: %s", path,
                                         strerror(-r));
        return 0;
}

/* ---- consistency and changes ------------------------------------------------------------ */

static void put_variants(FILE *f, const struct recipe *r, recipe_variant_mask m)
{
        for (size_t i = 0; i < r->n_variants; i++)
                if (m & ((recipe_variant_mask)1 << i))
                        fprintf(f, " %s", r->variants[i].name);
}

int lockfile_inputs_digest(const struct recipe *r, const char *arch, char out[72])
{
        /* A line-based canonical form of the resolution's inputs; strings are written with
         * their length so no value can imitate a separator. */
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "cairn-lock-inputs 1\narch %zu:%s\nvariants", strlen(arch), arch);
        put_variants(f, r, RECIPE_ALL_VARIANTS);
        fputc('\n', f);
        for (size_t i = 0; i < r->n_sources; i++) {
                const struct recipe_source *s = &r->sources[i];
                fprintf(f, "source %zu:%s %zu:%s %zu:%s %zu:%s %d", strlen(s->name), s->name,
                        strlen(s->url), s->url, strlen(s->suite), s->suite,
                        s->keyring ? strlen(s->keyring) : 0, s->keyring ? s->keyring : "",
                        s->trusted);
                for (char **c = s->components; c && *c; c++)
                        fprintf(f, " %zu:%s", strlen(*c), *c);
                fputs(" in", f);
                put_variants(f, r, s->variants);
                fputc('\n', f);
        }
        for (size_t i = 0; i < r->n_utilities; i++) {
                const struct recipe_utility *u = &r->utilities[i];
                fprintf(f, "%s %zu:%s in",
                        u->kind == RECIPE_UTILITY_CA_BUNDLE ? "certificates" : "utility",
                        strlen(u->package), u->package);
                put_variants(f, r, u->variants);
                fputc('\n', f);
        }
        for (size_t i = 0; i < r->n_packages; i++) {
                const struct recipe_package *p = &r->packages[i];
                fprintf(f, "package %zu:%s in", strlen(p->name), p->name);
                put_variants(f, r, p->variants);
                fputc('\n', f);
        }
        /* Written only when there are some: older recipes keep their locks. */
        for (size_t i = 0; i < r->n_programs; i++) {
                const struct recipe_program *p = &r->programs[i];
                fprintf(f, "program %zu:%s in", strlen(p->package), p->package);
                put_variants(f, r, p->variants);
                fputc('\n', f);
        }
        /* The Debian identity resolves base-files (stages/resolve.c): a lock made without it
         * is stale. */
        if (recipe_debian_identity(r))
                fputs("identity base-files\n", f);
        if (fclose(f) != 0)
                return -ENOMEM;
        char hex[DIGEST_HEX_MAX];
        digest_buf_hex(DIGEST_SHA256, text, len, hex);
        snprintf(out, 72, "sha256:%s", hex);
        return 0;
}

static int strv_push_printf(char ***lines, size_t *n, const char *fmt, ...) _printf_(3, 4);
static int strv_push_printf(char ***lines, size_t *n, const char *fmt, ...)
{
        char **nv = realloc(*lines, (*n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        *lines = nv;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&nv[*n], fmt, ap);
        va_end(ap);
        if (r < 0) {
                nv[*n] = NULL;
                return -ENOMEM;
        }
        nv[++*n] = NULL;
        return 0;
}

static const struct lock_package *find_by_name(const struct lockfile *l, const char *name)
{
        for (size_t i = 0; l && i < l->n_packages; i++)
                if (streq(l->packages[i].name, name))
                        return &l->packages[i];
        return NULL;
}

int lockfile_diff(const struct lockfile *old, const struct lockfile *new, char ***lines)
{
        size_t n = 0;
        for (char **p = *lines; p && *p; p++)
                n++;
        int r = 0;
        for (size_t i = 0; r >= 0 && new &&i < new->n_packages; i++) {
                const struct lock_package *p = &new->packages[i];
                const struct lock_package *o = find_by_name(old, p->name);
                if (!o)
                        r = strv_push_printf(lines, &n, "+ %s %s", p->name, p->version);
                else if (!streq(o->version, p->version) || !streq(o->sha256, p->sha256))
                        r = strv_push_printf(lines, &n, "~ %s %s -> %s", p->name, o->version,
                                             p->version);
        }
        for (size_t i = 0; r >= 0 && old && i < old->n_packages; i++) {
                const struct lock_package *o = &old->packages[i];
                if (!find_by_name(new, o->name))
                        r = strv_push_printf(lines, &n, "- %s %s", o->name, o->version);
        }
        const char *oi = old ? old->init : NULL, *ni = new ? new->init : NULL;
        if (r >= 0 && oi && ni && !streq(oi, ni))
                r = strv_push_printf(lines, &n, "~ cairn-init %s -> %s", oi, ni);
        else if (r >= 0 && !oi != !ni)
                r = strv_push_printf(lines, &n, "%c cairn-init %s", ni ? '+' : '-', ni ? ni : oi);
        return r;
}
