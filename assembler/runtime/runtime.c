/* SPDX-License-Identifier: Apache-2.0 */
/* runtime.json: the model, writing it and reading it back (runtime.h). */
#include "runtime.h"

#include <ctype.h>
#include <inttypes.h>

#include "base/json.h"
#include "recipe/yamlnode.h"

static bool endswith_dotdot(const char *s)
{
        size_t n = strlen(s);
        return n >= 3 && streq(s + n - 3, "/..");
}

static void health_free(struct runtime_health *h)
{
        if (!h)
                return;
        free(h->type);
        free(h->target);
        strv_free(h->command);
        free(h);
}

void runtime_manifest_free(struct runtime_manifest *m)
{
        if (!m)
                return;
        free(m->name);
        free(m->variant);
        strv_free(m->writable);
        strv_free(m->require_env);
        free(m->init);
        free(m->stop_signal);
        strv_free(m->capabilities);
        for (size_t i = 0; i < m->n_tmpfs; i++)
                free(m->tmpfs[i].path);
        free(m->tmpfs);
        strv_free(m->executables);
        health_free(m->health);
        free(m);
}

int runtime_probe_command(const char *target, int expect, int64_t timeout_ns, char ***ret)
{
        _cleanup_strv_free_ char **v = calloc(9, sizeof(char *));
        size_t n = 0;
        if (!v)
                return -ENOMEM;
        int64_t secs = (timeout_ns + 999999999) / 1000000000;
        if (secs < 1)
                secs = 1;
        if (!(v[n++] = strdup(RUNTIME_INIT_PATH)) || !(v[n++] = strdup("--probe")) ||
            !(v[n++] = strdup(target)))
                return -ENOMEM;
        if (expect && (!(v[n++] = strdup("--expect")) || asprintf(&v[n++], "%d", expect) < 0)) {
                v[n - 1] = NULL;
                return -ENOMEM;
        }
        if (!(v[n++] = strdup("--timeout")) || asprintf(&v[n++], "%" PRId64, secs) < 0) {
                v[n - 1] = NULL;
                return -ENOMEM;
        }
        *ret = steal_pointer(&v);
        return 0;
}

static void json_strv(struct json *j, const char *key, char *const *v)
{
        json_key(j, key);
        json_array_begin(j);
        for (size_t i = 0; v && v[i]; i++)
                json_string(j, v[i]);
        json_array_end(j);
}

int runtime_manifest_render(const struct runtime_manifest *m, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        char user[32], mode[8];
        snprintf(user, sizeof(user), "%" PRIu32 ":%" PRIu32, m->uid, m->gid);
        struct json j;
        json_init(&j, f);
        json_object_begin(&j);
        json_kv_string(&j, "schema", RUNTIME_SCHEMA);
        json_kv_string(&j, "name", m->name);
        json_kv_string(&j, "variant", m->variant);
        json_kv_string(&j, "user", user);
        json_key(&j, "read-only");
        json_bool(&j, m->read_only);
        json_strv(&j, "writable", m->writable);
        json_strv(&j, "require-env", m->require_env);
        json_kv_string(&j, "init", m->init ? m->init : "");
        json_kv_string(&j, "stop-signal", m->stop_signal ? m->stop_signal : "SIGTERM");
        json_strv(&j, "capabilities", m->capabilities);
        json_key(&j, "landlock");
        json_bool(&j, m->landlock);
        json_key(&j, "tmpfs");
        json_array_begin(&j);
        for (size_t i = 0; i < m->n_tmpfs; i++) {
                snprintf(mode, sizeof(mode), "%04" PRIo32, m->tmpfs[i].mode & 07777);
                json_object_begin(&j);
                json_kv_string(&j, "path", m->tmpfs[i].path);
                json_kv_string(&j, "mode", mode);
                json_kv_uint(&j, "uid", m->tmpfs[i].uid);
                json_kv_uint(&j, "gid", m->tmpfs[i].gid);
                json_object_end(&j);
        }
        json_array_end(&j);
        json_strv(&j, "executables", m->executables);
        json_key(&j, "healthcheck");
        if (!m->health) {
                json_null(&j);
        } else {
                const struct runtime_health *h = m->health;
                json_object_begin(&j);
                json_kv_string(&j, "type", h->type);
                json_kv_string(&j, "target", h->target);
                json_key(&j, "expect");
                if (h->expect)
                        json_int(&j, h->expect);
                else
                        json_null(&j);
                json_key(&j, "interval");
                json_int(&j, h->interval_ns);
                json_key(&j, "timeout");
                json_int(&j, h->timeout_ns);
                json_key(&j, "start-period");
                json_int(&j, h->start_period_ns);
                json_kv_uint(&j, "retries", h->retries);
                json_strv(&j, "command", h->command);
                json_object_end(&j);
        }
        json_object_end(&j);
        fputc('\n', f);
        bool failed = ferror(f);
        if (fclose(f) != 0 || failed)
                return -ENOMEM;
        *ret = steal_pointer(&buf);
        *ret_len = len;
        return 0;
}

/* ---- reading ---- */

struct reader {
        const char *name;
        struct cairn_error *err;
        int r; /* the first failure */
};

static _printf_(3, 4) void bad(struct reader *rd, const struct ynode *n, const char *fmt, ...)
{
        if (rd->r < 0)
                return;
        _cleanup_free_ char *what = NULL;
        va_list ap;
        va_start(ap, fmt);
        int k = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (k < 0) {
                rd->r = -ENOMEM;
                return;
        }
        rd->r = cairn_error_add(rd->err, CAIRN_EXIT_USAGE, -EINVAL, "%s:%u:%u: error: %s", rd->name,
                                n ? n->pos.line : 1, n ? n->pos.column : 1, what);
}

static const struct ynode *need(struct reader *rd, const struct ynode *obj, const char *key)
{
        const struct ynode *n = ynode_map_get(obj, key);
        if (!n)
                bad(rd, obj, "no \"%s\" key", key);
        return n;
}

static char *get_string(struct reader *rd, const struct ynode *n, const char *key)
{
        if (!n)
                return NULL;
        if (n->type != YNODE_SCALAR || n->plain || strlen(n->value) != n->len) {
                bad(rd, n, "\"%s\" must be a string", key);
                return NULL;
        }
        char *s = strdup(n->value);
        if (!s && rd->r >= 0)
                rd->r = -ENOMEM;
        return s;
}

static bool get_bool(struct reader *rd, const struct ynode *n, const char *key, bool *ret)
{
        if (!n)
                return false;
        if (n->type != YNODE_SCALAR || !n->plain ||
            (!streq(n->value, "true") && !streq(n->value, "false"))) {
                bad(rd, n, "\"%s\" must be true or false", key);
                return false;
        }
        *ret = streq(n->value, "true");
        return true;
}

static bool get_uint(struct reader *rd, const struct ynode *n, const char *key, uint64_t max,
                     uint64_t *ret)
{
        if (!n)
                return false;
        uint64_t v = 0;
        bool ok = n->type == YNODE_SCALAR && n->plain && n->len > 0 && n->len <= 19;
        for (size_t i = 0; ok && i < n->len; i++)
                ok = isdigit((unsigned char)n->value[i]);
        if (ok) {
                v = strtoull(n->value, NULL, 10);
                ok = v <= max;
        }
        if (!ok) {
                bad(rd, n, "\"%s\" must be a number from 0 to %" PRIu64, key, max);
                return false;
        }
        *ret = v;
        return true;
}

static char **get_strv(struct reader *rd, const struct ynode *n, const char *key)
{
        if (!n)
                return NULL;
        if (n->type != YNODE_SEQUENCE) {
                bad(rd, n, "\"%s\" must be a list of strings", key);
                return NULL;
        }
        _cleanup_strv_free_ char **v = calloc(n->n_items + 1, sizeof(char *));
        if (!v) {
                rd->r = -ENOMEM;
                return NULL;
        }
        for (size_t i = 0; i < n->n_items; i++)
                if (!(v[i] = get_string(rd, n->items[i], key)))
                        return NULL;
        return steal_pointer(&v);
}

static bool keys_known(struct reader *rd, const struct ynode *obj, const char *const *keys)
{
        if (obj->type != YNODE_MAPPING) {
                bad(rd, obj, "expected an object");
                return false;
        }
        for (size_t i = 0; i + 1 < obj->n_items; i += 2) {
                const struct ynode *k = obj->items[i];
                bool known = false;
                for (size_t x = 0; keys[x] && !known; x++)
                        known = k->type == YNODE_SCALAR && streq(k->value, keys[x]);
                if (!known) {
                        bad(rd, k, "unknown key \"%s\"", k->type == YNODE_SCALAR ? k->value : "?");
                        return false;
                }
                for (size_t p = 0; p < i; p += 2)
                        if (obj->items[p]->type == YNODE_SCALAR && k->type == YNODE_SCALAR &&
                            streq(obj->items[p]->value, k->value)) {
                                bad(rd, k, "key \"%s\" given twice", k->value);
                                return false;
                        }
        }
        return true;
}

static bool charset_ok(const char *s, const char *first, const char *rest, size_t max)
{
        size_t n = strlen(s);
        if (n == 0 || n > max || !strchr(first, s[0]))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!strchr(rest, s[i]))
                        return false;
        return true;
}

#define LOWER  "abcdefghijklmnopqrstuvwxyz"
#define UPPER  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGITS "0123456789"

/* Paths as the build writes them: absolute, no control characters, no "..". */
static void check_paths(struct reader *rd, const struct ynode *n, char *const *v, const char *key)
{
        for (size_t i = 0; v && v[i]; i++) {
                bool ok = v[i][0] == '/' && !strstr(v[i], "/../") && !endswith_dotdot(v[i]);
                for (const char *p = v[i]; ok && *p; p++)
                        ok = (unsigned char)*p >= 0x20 && *p != 0x7f;
                if (!ok) {
                        bad(rd, n, "\"%s\": '%s' is not an absolute path", key, v[i]);
                        return;
                }
        }
}

static bool parse_user(const char *s, uint32_t *uid, uint32_t *gid)
{
        char *end;
        errno = 0;
        unsigned long u = strtoul(s, &end, 10);
        if (errno || end == s || *end != ':' || u >= UINT32_MAX || !isdigit((unsigned char)*s))
                return false;
        const char *g = end + 1;
        unsigned long v = strtoul(g, &end, 10);
        if (errno || end == g || *end || v >= UINT32_MAX || !isdigit((unsigned char)*g))
                return false;
        *uid = (uint32_t)u;
        *gid = (uint32_t)v;
        return true;
}

static void read_tmpfs(struct reader *rd, const struct ynode *n, struct runtime_manifest *m)
{
        static const char *const keys[] = { "path", "mode", "uid", "gid", NULL };
        if (!n)
                return;
        if (n->type != YNODE_SEQUENCE) {
                bad(rd, n, "\"tmpfs\" must be a list of objects");
                return;
        }
        m->tmpfs = calloc(n->n_items + 1, sizeof(*m->tmpfs));
        if (!m->tmpfs) {
                rd->r = -ENOMEM;
                return;
        }
        for (size_t i = 0; i < n->n_items && rd->r >= 0; i++) {
                const struct ynode *t = n->items[i];
                struct runtime_tmpfs *x = &m->tmpfs[m->n_tmpfs];
                uint64_t uid = 0, gid = 0;
                if (!keys_known(rd, t, keys))
                        return;
                x->path = get_string(rd, need(rd, t, "path"), "path");
                if (!x->path)
                        return;
                m->n_tmpfs++;
                _cleanup_free_ char *mode = get_string(rd, need(rd, t, "mode"), "mode");
                char *end = NULL;
                unsigned long v = mode ? strtoul(mode, &end, 8) : 0;
                if (mode && (!*mode || *end || v > 07777 || strlen(mode) != 4))
                        bad(rd, t, "\"mode\" must be four octal digits like \"1777\"");
                x->mode = (uint32_t)v;
                if (get_uint(rd, need(rd, t, "uid"), "uid", UINT32_MAX - 1, &uid))
                        x->uid = (uint32_t)uid;
                if (get_uint(rd, need(rd, t, "gid"), "gid", UINT32_MAX - 1, &gid))
                        x->gid = (uint32_t)gid;
        }
}

static void read_health(struct reader *rd, const struct ynode *n, struct runtime_manifest *m)
{
        static const char *const keys[] = { "type",     "target",  "expect",
                                            "interval", "timeout", "start-period",
                                            "retries",  "command", NULL };
        if (!n || (n->type == YNODE_SCALAR && n->plain && streq(n->value, "null")))
                return;
        if (!keys_known(rd, n, keys))
                return;
        struct runtime_health *h = calloc(1, sizeof(*h));
        if (!h) {
                rd->r = -ENOMEM;
                return;
        }
        m->health = h;
        h->type = get_string(rd, need(rd, n, "type"), "type");
        if (h->type && !streq(h->type, "http") && !streq(h->type, "tcp"))
                bad(rd, ynode_map_get(n, "type"), "\"type\" must be \"http\" or \"tcp\"");
        h->target = get_string(rd, need(rd, n, "target"), "target");
        const struct ynode *e = need(rd, n, "expect");
        uint64_t v = 0;
        if (e && !(e->type == YNODE_SCALAR && e->plain && streq(e->value, "null")) &&
            get_uint(rd, e, "expect", 599, &v))
                h->expect = (int)v;
        if (get_uint(rd, need(rd, n, "interval"), "interval", INT64_MAX, &v))
                h->interval_ns = (int64_t)v;
        if (get_uint(rd, need(rd, n, "timeout"), "timeout", INT64_MAX, &v))
                h->timeout_ns = (int64_t)v;
        if (get_uint(rd, need(rd, n, "start-period"), "start-period", INT64_MAX, &v))
                h->start_period_ns = (int64_t)v;
        if (get_uint(rd, need(rd, n, "retries"), "retries", UINT32_MAX, &v))
                h->retries = (unsigned)v;
        h->command = get_strv(rd, need(rd, n, "command"), "command");
}

int runtime_manifest_parse(const char *name, const char *buf, size_t len,
                           struct runtime_manifest **ret, struct cairn_error *err)
{
        static const char *const keys[] = {
                "schema",   "name",        "variant",     "user",        "read-only",
                "writable", "require-env", "init",        "stop-signal", "capabilities",
                "landlock", "tmpfs",       "executables", "healthcheck", NULL,
        };
        if (len > RUNTIME_MAX_BYTES)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EFBIG, "%s: larger than %d bytes",
                                       name, RUNTIME_MAX_BYTES);
        _cleanup_cairn_error_ struct cairn_error lerr = CAIRN_ERROR_INIT;
        _cleanup_ynode_ struct ynode *root = NULL;
        int r = ynode_load(name, buf, len, &root, &lerr);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL, "%s: not valid JSON", name);
        struct reader rd = { .name = name, .err = err };
        _cleanup_runtime_manifest_ struct runtime_manifest *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        if (!keys_known(&rd, root, keys))
                return rd.r;
        _cleanup_free_ char *schema = get_string(&rd, need(&rd, root, "schema"), "schema");
        if (schema && !streq(schema, RUNTIME_SCHEMA))
                bad(&rd, ynode_map_get(root, "schema"), "schema \"%s\" is not %s", schema,
                    RUNTIME_SCHEMA);
        m->name = get_string(&rd, need(&rd, root, "name"), "name");
        m->variant = get_string(&rd, need(&rd, root, "variant"), "variant");
        _cleanup_free_ char *user = get_string(&rd, need(&rd, root, "user"), "user");
        if (user && !parse_user(user, &m->uid, &m->gid))
                bad(&rd, ynode_map_get(root, "user"), "\"user\" must be \"UID:GID\"");
        get_bool(&rd, need(&rd, root, "read-only"), "read-only", &m->read_only);
        m->writable = get_strv(&rd, need(&rd, root, "writable"), "writable");
        m->require_env = get_strv(&rd, need(&rd, root, "require-env"), "require-env");
        m->init = get_string(&rd, need(&rd, root, "init"), "init");
        m->stop_signal = get_string(&rd, need(&rd, root, "stop-signal"), "stop-signal");
        m->capabilities = get_strv(&rd, need(&rd, root, "capabilities"), "capabilities");
        get_bool(&rd, need(&rd, root, "landlock"), "landlock", &m->landlock);
        read_tmpfs(&rd, need(&rd, root, "tmpfs"), m);
        m->executables = get_strv(&rd, need(&rd, root, "executables"), "executables");
        read_health(&rd, need(&rd, root, "healthcheck"), m);
        /* What the snippets print comes from here: names and paths as the build makes them. */
        if (m->name && !charset_ok(m->name, LOWER DIGITS, LOWER DIGITS "._-", 128))
                bad(&rd, ynode_map_get(root, "name"), "\"name\" is not an image name");
        if (m->variant && !charset_ok(m->variant, LOWER, LOWER DIGITS "-", 32))
                bad(&rd, ynode_map_get(root, "variant"), "\"variant\" is not a variant name");
        for (size_t i = 0; m->require_env && m->require_env[i]; i++)
                if (!charset_ok(m->require_env[i], UPPER LOWER "_", UPPER LOWER DIGITS "_", 256))
                        bad(&rd, ynode_map_get(root, "require-env"),
                            "\"require-env\": '%s' is not a variable name", m->require_env[i]);
        for (size_t i = 0; m->capabilities && m->capabilities[i]; i++)
                if (!charset_ok(m->capabilities[i], UPPER, UPPER DIGITS "_", 64))
                        bad(&rd, ynode_map_get(root, "capabilities"),
                            "\"capabilities\": '%s' is not a capability name", m->capabilities[i]);
        check_paths(&rd, ynode_map_get(root, "writable"), m->writable, "writable");
        check_paths(&rd, ynode_map_get(root, "executables"), m->executables, "executables");
        for (size_t i = 0; i < m->n_tmpfs; i++) {
                char *one[] = { m->tmpfs[i].path, NULL };
                check_paths(&rd, ynode_map_get(root, "tmpfs"), one, "tmpfs");
        }
        if (m->health && m->health->target) {
                for (const char *p = m->health->target; *p; p++)
                        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
                                bad(&rd, ynode_map_get(root, "healthcheck"),
                                    "\"target\" holds a space or a control character");
                                break;
                        }
        }
        if (rd.r < 0)
                return rd.r;
        *ret = steal_pointer(&m);
        return 0;
}

int runtime_json_read(const struct tree *t, const struct store *s, char **ret, size_t *ret_len)
{
        const struct tree_entry *e = tree_lookup(t, RUNTIME_JSON_PATH);
        if (e && e->type == TREE_HARDLINK && e->target)
                e = tree_lookup(t, e->target);
        if (!e || e->type != TREE_REG)
                return -ENOENT;
        if (e->size > RUNTIME_MAX_BYTES)
                return -EFBIG;
        _cleanup_close_ int fd = store_open_key(s, &e->key);
        if (fd < 0)
                return fd;
        _cleanup_free_ char *buf = malloc(e->size + 1);
        if (!buf)
                return -ENOMEM;
        size_t len = 0;
        while (len < e->size) {
                ssize_t n = read_retry(fd, buf + len, e->size - len);
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        return -EIO;
                len += (size_t)n;
        }
        buf[len] = '\0';
        *ret = steal_pointer(&buf);
        *ret_len = len;
        return 0;
}
