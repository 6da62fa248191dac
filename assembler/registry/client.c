/* SPDX-License-Identifier: Apache-2.0 */
#include "client.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <strings.h>

#include "recipe/yamlnode.h"

#define MAX_SCOPES     16
#define TOKEN_MAX      (64 * 1024)
#define MAX_AUTH_TRIES 2

struct registry_client {
        CURL *curl;
        char *host; /* owned */
        char *base; /* owned; scheme://host */
        bool insecure;
        const char *ca_file;          /* borrowed */
        struct registry_options opts; /* its strings borrowed */
        bool creds_loaded;
        char *user, *password;    /* owned; NULL: anonymous */
        char *auth;               /* owned; the Authorization header line, or NULL */
        bool auth_basic;          /* auth holds the Basic credentials */
        char *scopes[MAX_SCOPES]; /* owned */
        size_t n_scopes;
};

static void free_secret(char **p)
{
        if (*p) {
                OPENSSL_cleanse(*p, strlen(*p));
                free(*p);
                *p = NULL;
        }
}

void registry_client_free(struct registry_client *c)
{
        if (!c)
                return;
        if (c->curl)
                curl_easy_cleanup(c->curl);
        free(c->host);
        free(c->base);
        free_secret(&c->user);
        free_secret(&c->password);
        free_secret(&c->auth);
        for (size_t i = 0; i < c->n_scopes; i++)
                free(c->scopes[i]);
        free(c);
}

const char *registry_client_base(const struct registry_client *c)
{
        return c->base;
}

int registry_client_add_scope(struct registry_client *c, const char *scope)
{
        for (size_t i = 0; i < c->n_scopes; i++)
                if (streq(c->scopes[i], scope))
                        return 0;
        if (c->n_scopes == MAX_SCOPES)
                return -E2BIG;
        c->scopes[c->n_scopes] = strdup(scope);
        if (!c->scopes[c->n_scopes])
                return -ENOMEM;
        c->n_scopes++;
        /* A bearer token covers the scopes it was issued for: ask again on the next 401. */
        return 0;
}

void registry_response_clear(struct registry_response *r)
{
        free(r->location);
        free(r->digest);
        free(r->content_type);
        free(r->range);
        free(r->oci_subject);
        free(r->chunk_min);
        free(r->body);
        *r = (struct registry_response){ .content_length = -1 };
}

/* ---- one HTTP exchange ---- */

struct exchange {
        const struct registry_body *body;
        uint64_t pos;
        int error;
        struct registry_response *resp;
        char *www_auth; /* owned */
        bool www_bearer;
        FILE *out; /* the body being received */
        size_t received;
};

static size_t read_cb(char *buf, size_t one, size_t n, void *userdata)
{
        struct exchange *x = userdata;
        const struct registry_body *b = x->body;
        uint64_t left = b->len - x->pos;
        size_t want = one * n < left ? one * n : (size_t)left;
        if (want == 0)
                return 0;
        size_t got;
        if (b->buf) {
                memcpy(buf, (const uint8_t *)b->buf + x->pos, want);
                got = want;
        } else {
                ssize_t k;
                do
                        k = pread(b->fd, buf, want, (off_t)(b->offset + x->pos));
                while (k < 0 && errno == EINTR);
                if (k <= 0) {
                        x->error = k < 0 ? -errno : -EIO; /* 0: the file is shorter */
                        return CURL_READFUNC_ABORT;
                }
                got = (size_t)k;
                uint64_t off = b->offset + x->pos;
                if (b->hash && *b->hashed >= off && *b->hashed < off + got) {
                        size_t skip = (size_t)(*b->hashed - off);
                        digest_update(b->hash, buf + skip, got - skip);
                        *b->hashed = off + got;
                }
        }
        x->pos += got;
        if (x->pos == b->len && b->before_last) {
                int r = b->before_last(b->data);
                if (r < 0) {
                        x->error = r;
                        return CURL_READFUNC_ABORT;
                }
        }
        return got;
}

static int seek_cb(void *userdata, curl_off_t offset, int origin)
{
        struct exchange *x = userdata;
        if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > x->body->len)
                return CURL_SEEKFUNC_CANTSEEK;
        x->pos = (uint64_t)offset;
        return CURL_SEEKFUNC_OK;
}

static size_t write_cb(char *data, size_t one, size_t n, void *userdata)
{
        struct exchange *x = userdata;
        size_t len = one * n;
        size_t keep = len;
        if (x->received + keep > REGISTRY_MAX_RESPONSE)
                keep = REGISTRY_MAX_RESPONSE - x->received;
        if (keep && fwrite(data, 1, keep, x->out) != keep)
                return 0;
        x->received += keep;
        return len;
}

static char *trim_dup(const char *s, size_t len)
{
        while (len && (s[0] == ' ' || s[0] == '\t')) {
                s++;
                len--;
        }
        while (len && (s[len - 1] == '\r' || s[len - 1] == '\n' || s[len - 1] == ' ' ||
                       s[len - 1] == '\t'))
                len--;
        return strndup(s, len);
}

static int set_header(char **field, const char *v, size_t len)
{
        char *s = trim_dup(v, len);
        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

static size_t header_cb(char *data, size_t one, size_t n, void *userdata)
{
        struct exchange *x = userdata;
        struct registry_response *r = x->resp;
        size_t len = one * n;
        if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
                /* A new response (after 100 Continue or a redirect): forget the last one's. */
                registry_response_clear(r);
                free(x->www_auth);
                x->www_auth = NULL;
                x->www_bearer = false;
                return len;
        }
        const char *colon = memchr(data, ':', len);
        if (!colon)
                return len;
        size_t nlen = (size_t)(colon - data);
        const char *v = colon + 1;
        size_t vlen = len - nlen - 1;
        static const struct {
                const char *name;
                size_t off;
        } fields[] = {
                { "location", offsetof(struct registry_response, location) },
                { "docker-content-digest", offsetof(struct registry_response, digest) },
                { "content-type", offsetof(struct registry_response, content_type) },
                { "range", offsetof(struct registry_response, range) },
                { "oci-subject", offsetof(struct registry_response, oci_subject) },
                { "oci-chunk-min-length", offsetof(struct registry_response, chunk_min) },
        };
        int rc = 0;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (nlen == strlen(fields[i].name) && strncasecmp(data, fields[i].name, nlen) == 0)
                        rc = set_header((char **)((char *)r + fields[i].off), v, vlen);
        if (nlen == 14 && strncasecmp(data, "content-length", 14) == 0) {
                _cleanup_free_ char *s = trim_dup(v, vlen);
                char *end;
                long long k = s ? strtoll(s, &end, 10) : -1;
                r->content_length = s && *s && !*end && k >= 0 ? k : -1;
        }
        if (nlen == 16 && strncasecmp(data, "www-authenticate", 16) == 0) {
                /* Several challenges may come; Bearer is preferred over Basic. */
                _cleanup_free_ char *s = trim_dup(v, vlen);
                if (!s)
                        return 0;
                bool bearer = strncasecmp(s, "bearer", 6) == 0;
                if (!x->www_auth || (bearer && !x->www_bearer)) {
                        free(x->www_auth);
                        x->www_auth = steal_pointer(&s);
                        x->www_bearer = bearer;
                }
        }
        return rc < 0 ? 0 : len;
}

static int xferinfo_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
        const struct exchange *x = userdata;
        if (x->body->sent && ulnow > 0)
                x->body->sent(x->body->data, (uint64_t)ulnow);
        return 0;
}

static long timeout_seconds(void)
{
        const char *t = getenv("CAIRN_HTTP_TIMEOUT");
        long v = t ? strtol(t, NULL, 10) : 0;
        return v > 0 ? v : 30;
}

/* True when url is on origin ("scheme://host"): the only URLs credentials go to. */
static bool same_origin(const char *url, const char *origin)
{
        size_t n = strlen(origin);
        return strncmp(url, origin, n) == 0 && (url[n] == '/' || url[n] == '\0' || url[n] == '?');
}

/* The absolute URL for a path or URL the registry gave (Location may be relative). */
static int absolute_url(const char *base, const char *u, char **ret)
{
        if (startswith(u, "https://") || startswith(u, "http://"))
                *ret = strdup(u);
        else if (asprintf(ret, "%s%s%s", base, u[0] == '/' ? "" : "/", u) < 0)
                *ret = NULL;
        return *ret ? 0 : -ENOMEM;
}

/*
 * One request without any authentication logic: auth is the Authorization line to send when
 * url is on the registry's origin (or always, for the token realm: auth_any). The response
 * goes to *resp; *www_auth (owned) is its chosen challenge.
 */
static int perform(struct registry_client *c, const char *method, const char *url,
                   const struct registry_body *body, const char *const *headers, const char *auth,
                   bool auth_any, bool verify, struct registry_response *resp, char **www_auth,
                   struct cairn_error *err)
{
        CURL *h = c->curl;
        curl_easy_reset(h);
        struct registry_body none = { .fd = -1 };
        struct exchange x = { .body = body ? body : &none };
        *resp = (struct registry_response){ .content_length = -1 };
        x.resp = resp;
        _cleanup_free_ char *received = NULL;
        size_t received_len = 0;
        x.out = open_memstream(&received, &received_len);
        if (!x.out)
                return -ENOMEM;
        struct curl_slist *list = NULL;
        bool oom = false;
        for (size_t i = 0; headers && headers[i]; i++) {
                struct curl_slist *l = curl_slist_append(list, headers[i]);
                oom |= !l;
                list = l ? l : list;
        }
        _cleanup_free_ char *ctype = NULL;
        bool has_body = x.body->len > 0;
        if (has_body &&
            asprintf(&ctype, "Content-Type: %s",
                     x.body->content_type ? x.body->content_type : "application/octet-stream") < 0)
                ctype = NULL, oom = true;
        const char *extra[] = { ctype, "Expect:",
                                (auth && (auth_any || same_origin(url, c->base))) ? auth : NULL };
        for (size_t i = 0; i < ELEMENTSOF(extra); i++) {
                if (!extra[i])
                        continue;
                struct curl_slist *l = curl_slist_append(list, extra[i]);
                oom |= !l;
                list = l ? l : list;
        }
        if (oom) {
                curl_slist_free_all(list);
                fclose(x.out);
                return -ENOMEM;
        }
        char msg[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, msg);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        /* A verified registry cannot redirect anything to plain http. */
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, verify ? "https" : "http,https");
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, timeout_seconds());
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "cairn");
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
        if (c->ca_file)
                curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
        if (streq(method, "HEAD"))
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        else if (streq(method, "GET")) {
                curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
                /* Blobs may be served from elsewhere; curl drops the Authorization header
                 * when a redirect leaves the host. */
                curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
                curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
        } else if (streq(method, "POST") && !has_body) {
                curl_easy_setopt(h, CURLOPT_POST, 1L);
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        } else if (streq(method, "DELETE"))
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        else {
                curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
                curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x.body->len);
                curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
                curl_easy_setopt(h, CURLOPT_READDATA, &x);
                curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb);
                curl_easy_setopt(h, CURLOPT_SEEKDATA, &x);
                if (x.body->sent) {
                        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
                        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
                        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
                }
        }
        CURLcode rc = curl_easy_perform(h);
        curl_slist_free_all(list);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        bool failed = ferror(x.out);
        if (fclose(x.out) != 0 || failed) {
                free(x.www_auth);
                registry_response_clear(resp);
                return -ENOMEM;
        }
        x.out = NULL;
        if (x.error < 0 || rc != CURLE_OK) {
                free(x.www_auth);
                registry_response_clear(resp);
                if (x.error == -EBADMSG || x.error == -ECANCELED)
                        return x.error; /* before_last refused: the caller said why */
                if (x.error < 0)
                        return cairn_error_errno(err, x.error, "%s %s: reading the body: %s",
                                                 method, url, strerror(-x.error));
                return cairn_error_add(
                        err, CAIRN_EXIT_SOURCE, rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO,
                        "%s %s: %s", method, url, msg[0] ? msg : curl_easy_strerror(rc));
        }
        resp->status = status;
        resp->body = steal_pointer(&received);
        resp->body_len = x.received;
        if (resp->location) {
                char *abs = NULL;
                if (absolute_url(c->base, resp->location, &abs) < 0) {
                        free(x.www_auth);
                        registry_response_clear(resp);
                        return -ENOMEM;
                }
                free(resp->location);
                resp->location = abs;
        }
        *www_auth = x.www_auth;
        return 0;
}

/* ---- messages ---- */

int registry_response_message(const struct registry_response *r, char **ret)
{
        _cleanup_free_ char *text = NULL;
        if (r->body && r->body_len) {
                _cleanup_ynode_ struct ynode *doc = NULL;
                if (ynode_load("response", r->body, r->body_len, &doc, NULL) == 0) {
                        const struct ynode *errs = ynode_map_get(doc, "errors");
                        if (errs && errs->type == YNODE_SEQUENCE && errs->n_items > 0) {
                                const struct ynode *code = ynode_map_get(errs->items[0], "code");
                                const struct ynode *m = ynode_map_get(errs->items[0], "message");
                                if (asprintf(&text, "%s%s%s",
                                             code && code->type == YNODE_SCALAR ? code->value : "",
                                             code && m ? ": " : "",
                                             m && m->type == YNODE_SCALAR ? m->value : "") < 0)
                                        return -ENOMEM;
                        }
                        /* A token server's answer ({"details": "..."}). */
                        const struct ynode *d = ynode_map_get(doc, "details");
                        if (!text && d && d->type == YNODE_SCALAR && !(text = strdup(d->value)))
                                return -ENOMEM;
                }
        }
        _cleanup_free_ char *shown = text ? str_escape(text, 300) : NULL;
        if (text && !shown)
                return -ENOMEM;
        if (asprintf(ret, "HTTP %ld%s%s%s", r->status, shown ? " (" : "", shown ? shown : "",
                     shown ? ")" : "") < 0)
                return -ENOMEM;
        return 0;
}

int registry_fail(struct cairn_error *err, const char *method, const char *url,
                  const struct registry_response *r)
{
        _cleanup_free_ char *m = NULL;
        if (registry_response_message(r, &m) < 0)
                return -ENOMEM;
        int code = r->status == 404                       ? -ENOENT
                   : r->status == 401 || r->status == 403 ? -EACCES
                                                          : -EIO;
        return cairn_error_add(err, CAIRN_EXIT_SOURCE, code, "%s %s: %s", method, url, m);
}

/* ---- authentication ---- */

static int load_credentials(struct registry_client *c, struct cairn_error *err)
{
        if (c->creds_loaded)
                return 0;
        if (c->opts.username) {
                c->user = strdup(c->opts.username);
                c->password = strdup(c->opts.password ? c->opts.password : "");
                if (!c->user || !c->password)
                        return -ENOMEM;
        } else {
                int r = registry_docker_credentials(c->host, &c->user, &c->password, err);
                if (r < 0)
                        return r;
        }
        c->creds_loaded = true;
        return 0;
}

static int basic_header(const char *user, const char *password, char **ret)
{
        _cleanup_(free_secret) char *plain = NULL;
        if (asprintf(&plain, "%s:%s", user, password) < 0)
                return -ENOMEM;
        size_t n = strlen(plain);
        _cleanup_(free_secret) char *b64 = calloc(4 * ((n + 2) / 3) + 1, 1);
        if (!b64)
                return -ENOMEM;
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)plain, (int)n);
        if (asprintf(ret, "Authorization: Basic %s", b64) < 0)
                return -ENOMEM;
        return 0;
}

/* Appends s to *q as a query value, percent-encoding what is not unreserved. */
static void query_escape(FILE *f, const char *s)
{
        for (; *s; s++) {
                unsigned char ch = (unsigned char)*s;
                if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~')
                        fputc(ch, f);
                else
                        fprintf(f, "%%%02X", ch);
        }
}

/* Host part of an absolute URL ("https://HOST[:PORT]/..."), for comparing with c->host. */
static bool url_on_host(const char *url, const char *host)
{
        const char *p = strstr(url, "://");
        if (!p)
                return false;
        p += 3;
        size_t n = strlen(host);
        return strncmp(p, host, n) == 0 && (p[n] == '/' || p[n] == '\0' || p[n] == '?');
}

/* Asks the challenge's realm for a token covering the client's scopes (and the one the
 * challenge names) and makes it the client's Authorization. */
static int fetch_token(struct registry_client *c, const struct registry_challenge *ch,
                       struct cairn_error *err)
{
        if (!ch->realm)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EPROTO,
                                       "registry %s: a Bearer challenge without a realm", c->host);
        bool https = startswith(ch->realm, "https://");
        if (!https && !(startswith(ch->realm, "http://") && c->insecure)) {
                _cleanup_free_ char *shown = str_escape(ch->realm, 200);
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EPROTO,
                                       "registry %s: the token realm '%s' is not an https:// URL "
                                       "(credentials are sent to it)",
                                       c->host, shown ? shown : "");
        }
        int r = load_credentials(c, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *url = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&url, &len);
        if (!f)
                return -ENOMEM;
        fputs(ch->realm, f);
        char sep = strchr(ch->realm, '?') ? '&' : '?';
        if (ch->service) {
                fprintf(f, "%cservice=", sep);
                query_escape(f, ch->service);
                sep = '&';
        }
        bool challenge_scope_known = false;
        for (size_t i = 0; i < c->n_scopes; i++) {
                fprintf(f, "%cscope=", sep);
                query_escape(f, c->scopes[i]);
                sep = '&';
                challenge_scope_known |= ch->scope && streq(ch->scope, c->scopes[i]);
        }
        if (ch->scope && !challenge_scope_known) {
                fprintf(f, "%cscope=", sep);
                query_escape(f, ch->scope);
        }
        bool failed = ferror(f);
        if (fclose(f) != 0 || failed)
                return -ENOMEM;
        _cleanup_(free_secret) char *basic = NULL;
        if (c->user && basic_header(c->user, c->password, &basic) < 0)
                return -ENOMEM;
        /* The realm is verified like any https server, unless it is the insecure registry
         * host itself. */
        bool verify = !(c->insecure && url_on_host(url, c->host));
        _cleanup_registry_response_ struct registry_response resp = { .content_length = -1 };
        _cleanup_free_ char *www = NULL;
        r = perform(c, "GET", url, NULL, NULL, basic, true, verify, &resp, &www, err);
        if (r < 0)
                return cairn_error_wrap(err, r, "asking for a token");
        if (resp.status != 200) {
                _cleanup_free_ char *m = NULL;
                if (registry_response_message(&resp, &m) < 0)
                        return -ENOMEM;
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EACCES,
                                       "registry %s: the token server refused %s: %s", c->host,
                                       c->user ? "the credentials" : "an anonymous token", m);
        }
        _cleanup_ynode_ struct ynode *doc = NULL;
        if (ynode_load("token", resp.body, resp.body_len, &doc, NULL) < 0)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EPROTO,
                                       "registry %s: the token server's answer is not JSON",
                                       c->host);
        const struct ynode *t = ynode_map_get(doc, "token");
        if (!t || t->type != YNODE_SCALAR || !t->len)
                t = ynode_map_get(doc, "access_token");
        if (!t || t->type != YNODE_SCALAR || !t->len || t->len > TOKEN_MAX ||
            strcspn(t->value, "\r\n") != t->len)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EPROTO,
                                       "registry %s: the token server's answer holds no token",
                                       c->host);
        char *line = NULL;
        if (asprintf(&line, "Authorization: Bearer %s", t->value) < 0)
                return -ENOMEM;
        free_secret(&c->auth);
        c->auth = line;
        c->auth_basic = false;
        return 0;
}

/*
 * Answers the challenge www_auth of a 401: 1 when the next attempt sends something new, 0
 * when there is nothing new to send (no credentials, or the same ones were refused).
 */
static int authenticate(struct registry_client *c, const char *www_auth, struct cairn_error *err)
{
        struct registry_challenge ch = { 0 };
        int r = www_auth ? registry_challenge_parse(www_auth, &ch) : -EINVAL;
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        if (streq(ch.scheme, "bearer")) {
                _cleanup_free_ char *before = c->auth ? strdup(c->auth) : NULL;
                r = fetch_token(c, &ch, err);
                registry_challenge_clear(&ch);
                if (r < 0)
                        return r;
                return !before || !streq(before, c->auth);
        }
        bool basic = streq(ch.scheme, "basic");
        registry_challenge_clear(&ch);
        if (!basic)
                return 0;
        r = load_credentials(c, err);
        if (r < 0)
                return r;
        if (!c->user || c->auth_basic)
                return 0;
        char *line = NULL;
        if (basic_header(c->user, c->password, &line) < 0)
                return -ENOMEM;
        free_secret(&c->auth);
        c->auth = line;
        c->auth_basic = true;
        return 1;
}

/*
 * The error for a request the registry still refuses after authentication: its own message,
 * asked for with GET /v2/ when the refused request was a HEAD (which has no body).
 */
static int auth_failure(struct registry_client *c, const char *method, const char *url,
                        struct registry_response *resp, struct cairn_error *err)
{
        if (resp->body_len == 0) {
                _cleanup_free_ char *probe = NULL, *www = NULL;
                struct registry_response again;
                if (asprintf(&probe, "%s/v2/", c->base) < 0)
                        return -ENOMEM;
                if (perform(c, "GET", probe, NULL, NULL, c->auth, false, !c->insecure, &again, &www,
                            NULL) == 0) {
                        if (again.status == resp->status && again.body_len) {
                                registry_response_clear(resp);
                                *resp = again;
                        } else
                                registry_response_clear(&again);
                }
        }
        _cleanup_free_ char *m = NULL;
        if (registry_response_message(resp, &m) < 0)
                return -ENOMEM;
        if (c->user)
                return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EACCES,
                                       "registry %s: authentication as '%s' failed: %s", c->host,
                                       c->user, m);
        return cairn_error_add(err, CAIRN_EXIT_SOURCE, -EACCES,
                               "registry %s: %s %s needs credentials: %s (give --username and "
                               "--password-stdin, or log in with a client that writes "
                               "~/.docker/config.json)",
                               c->host, method, url, m);
}

int registry_request(struct registry_client *c, const char *method, const char *url,
                     const struct registry_body *body, const char *const *headers,
                     struct registry_response *ret, struct cairn_error *err)
{
        _cleanup_free_ char *abs = NULL;
        if (absolute_url(c->base, url, &abs) < 0)
                return -ENOMEM;
        for (int attempt = 0;; attempt++) {
                struct registry_response resp;
                _cleanup_free_ char *www = NULL;
                int r = perform(c, method, abs, body, headers, c->auth, false, !c->insecure, &resp,
                                &www, err);
                if (r < 0)
                        return r;
                if (resp.status != 401) {
                        *ret = resp;
                        return 0;
                }
                r = attempt < MAX_AUTH_TRIES ? authenticate(c, www, err) : 0;
                if (r <= 0) {
                        if (r == 0)
                                r = auth_failure(c, method, abs, &resp, err);
                        registry_response_clear(&resp);
                        return r;
                }
                registry_response_clear(&resp);
        }
}

/* ---- opening ---- */

int registry_client_new(const char *host, const struct registry_options *o,
                        struct registry_client **ret, struct cairn_error *err)
{
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
                return -ENOMEM;
        _cleanup_(registry_client_freep) struct registry_client *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->curl = curl_easy_init();
        c->host = strdup(host);
        if (!c->curl || !c->host)
                return -ENOMEM;
        c->opts = *o;
        c->insecure = o->insecure;
        c->ca_file = o->ca_file;
        static const char *const schemes[] = { "https", "http" };
        _cleanup_cairn_error_ struct cairn_error first = CAIRN_ERROR_INIT;
        for (size_t i = 0; i < (c->insecure ? 2u : 1u); i++) {
                free(c->base);
                if (asprintf(&c->base, "%s://%s", schemes[i], host) < 0) {
                        c->base = NULL;
                        return -ENOMEM;
                }
                _cleanup_free_ char *url = NULL, *www = NULL;
                if (asprintf(&url, "%s/v2/", c->base) < 0)
                        return -ENOMEM;
                _cleanup_registry_response_ struct registry_response resp = { .content_length =
                                                                                      -1 };
                _cleanup_cairn_error_ struct cairn_error e = CAIRN_ERROR_INIT;
                int r = perform(c, "GET", url, NULL, NULL, NULL, false, !c->insecure, &resp, &www,
                                &e);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        if (i == 0)
                                first = e, e = (struct cairn_error)CAIRN_ERROR_INIT;
                        continue;
                }
                if (resp.status == 200 || resp.status == 401) {
                        *ret = steal_pointer(&c);
                        return 0;
                }
                _cleanup_free_ char *m = NULL;
                if (registry_response_message(&resp, &m) < 0)
                        return -ENOMEM;
                return cairn_error_add(
                        err, CAIRN_EXIT_SOURCE, -EPROTO,
                        "registry %s: does not answer as an OCI registry (GET %s: %s)", host, url,
                        m);
        }
        return cairn_error_add(err, CAIRN_EXIT_SOURCE, first.code < 0 ? first.code : -EIO,
                               "registry %s: cannot reach it over https%s: %s%s", host,
                               c->insecure ? " or http" : "",
                               first.n_messages ? first.messages[0] : "no answer",
                               c->insecure ? ""
                                           : " (--ca-file FILE for a private CA; "
                                             "--insecure-registry HOST for one without a "
                                             "trusted certificate)");
}
