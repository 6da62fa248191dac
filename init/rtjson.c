/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A recursive-descent JSON reader over one buffer, bounded in depth, keys and paths. Strings
 * are decoded in place: a decoded string is never longer than its quoted form (an escape of 2,
 * 6 or 12 bytes yields 1 to 4 bytes), so the write cursor never passes the read cursor.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtjson.h"

struct reader {
        char *start, *p, *end;
        char *msg;
        size_t msg_size;
};

static int fail(struct reader *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records "line L, column C: REASON" for the cursor's position; returns -EINVAL. */
static int fail(struct reader *t, const char *fmt, ...)
{
        unsigned line = 1, column = 1;
        va_list ap;
        int n;

        if (!t->msg || t->msg_size == 0)
                return -EINVAL;
        for (const char *q = t->start; q < t->p && q < t->end; q++) {
                if (*q == '\n') {
                        line++;
                        column = 1;
                } else if (((unsigned char)*q & 0xc0) != 0x80) {
                        column++; /* characters, not UTF-8 continuation bytes */
                }
        }
        n = snprintf(t->msg, t->msg_size, "line %u, column %u: ", line, column);
        if (n < 0 || (size_t)n >= t->msg_size)
                return -EINVAL;
        va_start(ap, fmt);
        vsnprintf(t->msg + n, t->msg_size - (size_t)n, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static void skip_ws(struct reader *t)
{
        while (t->p < t->end && (*t->p == ' ' || *t->p == '\t' || *t->p == '\n' || *t->p == '\r'))
                t->p++;
}

/* The length of the well-formed UTF-8 sequence at p (no overlong forms, no surrogates, at
 * most U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
        size_t n;
        uint32_t c;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                n = 2, c = p[0] & 0x1f;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                n = 3, c = p[0] & 0x0f;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                n = 4, c = p[0] & 0x07;
        else
                return 0;
        if ((size_t)(end - p) < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (p[i] & 0x3f);
        }
        if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff ||
            (c >= 0xd800 && c <= 0xdfff))
                return 0;
        return n;
}

static int hex4(const char *p, const char *end, uint32_t *ret)
{
        uint32_t v = 0;

        if (end - p < 4)
                return -1;
        for (int i = 0; i < 4; i++) {
                char c = p[i];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (uint32_t)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (uint32_t)(c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (uint32_t)(c - 'A' + 10);
                else
                        return -1;
        }
        *ret = v;
        return 0;
}

static char *utf8_put(char *out, uint32_t c)
{
        if (c < 0x80) {
                *out++ = (char)c;
        } else if (c < 0x800) {
                *out++ = (char)(0xc0 | (c >> 6));
                *out++ = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
                *out++ = (char)(0xe0 | (c >> 12));
                *out++ = (char)(0x80 | ((c >> 6) & 0x3f));
                *out++ = (char)(0x80 | (c & 0x3f));
        } else {
                *out++ = (char)(0xf0 | (c >> 18));
                *out++ = (char)(0x80 | ((c >> 12) & 0x3f));
                *out++ = (char)(0x80 | ((c >> 6) & 0x3f));
                *out++ = (char)(0x80 | (c & 0x3f));
        }
        return out;
}

/* At '"': decodes the string in place, NUL-terminates it; *ret and *ret_len (may contain NUL
 * bytes from \u0000: compare with strlen where that matters). */
static int read_string(struct reader *t, char **ret, size_t *ret_len)
{
        char *out, *s;

        if (t->p >= t->end || *t->p != '"')
                return fail(t, "expected a string");
        s = out = ++t->p;
        for (;;) {
                unsigned char c;

                if (t->p >= t->end)
                        return fail(t, "unterminated string");
                c = (unsigned char)*t->p;
                if (c == '"')
                        break;
                if (c < 0x20)
                        return fail(t, "control character 0x%02x in a string", c);
                if (c == '\\') {
                        uint32_t u, lo;

                        if (t->end - t->p < 2)
                                return fail(t, "unterminated string");
                        c = (unsigned char)t->p[1];
                        switch (c) {
                        case '"':
                        case '\\':
                        case '/':
                                *out++ = (char)c;
                                break;
                        case 'b':
                                *out++ = '\b';
                                break;
                        case 'f':
                                *out++ = '\f';
                                break;
                        case 'n':
                                *out++ = '\n';
                                break;
                        case 'r':
                                *out++ = '\r';
                                break;
                        case 't':
                                *out++ = '\t';
                                break;
                        case 'u':
                                if (hex4(t->p + 2, t->end, &u) < 0)
                                        return fail(t, "\\u needs four hex digits");
                                if (u >= 0xdc00 && u <= 0xdfff)
                                        return fail(t, "lone low surrogate \\u%04x", u);
                                if (u >= 0xd800 && u <= 0xdbff) {
                                        if (t->end - t->p < 12 || t->p[6] != '\\' ||
                                            t->p[7] != 'u' || hex4(t->p + 8, t->end, &lo) < 0 ||
                                            lo < 0xdc00 || lo > 0xdfff)
                                                return fail(t,
                                                            "high surrogate \\u%04x without "
                                                            "its low half",
                                                            u);
                                        u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                                        t->p += 6;
                                }
                                t->p += 4;
                                out = utf8_put(out, u);
                                break;
                        default:
                                return fail(t, "invalid escape \\%c",
                                            c >= 0x20 && c < 0x7f ? c : '?');
                        }
                        t->p += 2;
                } else if (c < 0x80) {
                        *out++ = (char)c;
                        t->p++;
                } else {
                        size_t n = utf8_seq((const unsigned char *)t->p,
                                            (const unsigned char *)t->end);
                        if (n == 0)
                                return fail(t, "invalid UTF-8 in a string");
                        memmove(out, t->p, n);
                        out += n;
                        t->p += n;
                }
        }
        t->p++; /* the closing quote; out is at or before it */
        *out = '\0';
        *ret = s;
        *ret_len = (size_t)(out - s);
        return 0;
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static int read_number(struct reader *t)
{
        if (t->p < t->end && *t->p == '-')
                t->p++;
        if (t->p >= t->end || !is_digit(*t->p))
                return fail(t, "invalid number");
        if (*t->p == '0')
                t->p++;
        else
                while (t->p < t->end && is_digit(*t->p))
                        t->p++;
        if (t->p < t->end && *t->p == '.') {
                t->p++;
                if (t->p >= t->end || !is_digit(*t->p))
                        return fail(t, "invalid number: digits must follow '.'");
                while (t->p < t->end && is_digit(*t->p))
                        t->p++;
        }
        if (t->p < t->end && (*t->p == 'e' || *t->p == 'E')) {
                t->p++;
                if (t->p < t->end && (*t->p == '+' || *t->p == '-'))
                        t->p++;
                if (t->p >= t->end || !is_digit(*t->p))
                        return fail(t, "invalid number: digits must follow the exponent");
                while (t->p < t->end && is_digit(*t->p))
                        t->p++;
        }
        return 0;
}

static int read_literal(struct reader *t, const char *word)
{
        size_t n = strlen(word);

        if ((size_t)(t->end - t->p) < n || memcmp(t->p, word, n) != 0)
                return fail(t, "unexpected character '%c'",
                            *t->p >= 0x20 && *t->p < 0x7f ? *t->p : '?');
        t->p += n;
        return 0;
}

static int read_value(struct reader *t, unsigned depth);

/* At '{' or '[': a whole container of any content. */
static int read_container(struct reader *t, unsigned depth)
{
        char close = *t->p == '{' ? '}' : ']';
        bool object = close == '}';
        int r;

        if (depth >= RT_MAX_DEPTH)
                return fail(t, "nested deeper than %d levels", RT_MAX_DEPTH);
        t->p++;
        skip_ws(t);
        if (t->p < t->end && *t->p == close) {
                t->p++;
                return 0;
        }
        for (;;) {
                if (object) {
                        char *key;
                        size_t len;

                        r = read_string(t, &key, &len);
                        if (r < 0)
                                return r;
                        skip_ws(t);
                        if (t->p >= t->end || *t->p != ':')
                                return fail(t, "expected ':' after a key");
                        t->p++;
                        skip_ws(t);
                }
                r = read_value(t, depth + 1);
                if (r < 0)
                        return r;
                skip_ws(t);
                if (t->p < t->end && *t->p == ',') {
                        t->p++;
                        skip_ws(t);
                        continue;
                }
                if (t->p < t->end && *t->p == close) {
                        t->p++;
                        return 0;
                }
                return fail(t, "expected ',' or '%c'", close);
        }
}

static int read_value(struct reader *t, unsigned depth)
{
        char *s;
        size_t len;

        if (t->p >= t->end)
                return fail(t, "unexpected end of the document");
        switch (*t->p) {
        case '{':
        case '[':
                return read_container(t, depth);
        case '"':
                return read_string(t, &s, &len);
        case 't':
                return read_literal(t, "true");
        case 'f':
                return read_literal(t, "false");
        case 'n':
                return read_literal(t, "null");
        default:
                if (*t->p == '-' || is_digit(*t->p))
                        return read_number(t);
                return fail(t, "unexpected character '%c'",
                            *t->p >= 0x20 && *t->p < 0x7f ? *t->p : '?');
        }
}

/* At '[': an array of absolute paths into a new NULL-terminated array. */
static int read_paths(struct reader *t, const char *key, size_t max, const char ***ret,
                      size_t *ret_n)
{
        const char **v = NULL;
        size_t n = 0, cap = 0;
        int r = 0;

        if (t->p >= t->end || *t->p != '[')
                return fail(t, "\"%s\" must be an array of paths", key);
        t->p++;
        skip_ws(t);
        if (t->p < t->end && *t->p == ']')
                t->p++;
        else
                for (;;) {
                        char *s;
                        size_t len;

                        r = read_string(t, &s, &len);
                        if (r < 0)
                                break;
                        if (len == 0 || s[0] != '/' || strlen(s) != len || len > RT_MAX_PATH) {
                                r = fail(t,
                                         "\"%s\": every item must be an absolute path of at "
                                         "most %d bytes without NUL",
                                         key, RT_MAX_PATH);
                                break;
                        }
                        if (n >= max) {
                                r = fail(t, "\"%s\": more than %zu paths", key, max);
                                break;
                        }
                        if (n + 1 >= cap) {
                                size_t ncap = cap ? cap * 2 : 16;
                                const char **nv = realloc(v, ncap * sizeof(*v));
                                if (!nv) {
                                        r = -ENOMEM;
                                        break;
                                }
                                v = nv;
                                cap = ncap;
                        }
                        v[n++] = s;
                        skip_ws(t);
                        if (t->p < t->end && *t->p == ',') {
                                t->p++;
                                skip_ws(t);
                                continue;
                        }
                        if (t->p < t->end && *t->p == ']') {
                                t->p++;
                                break;
                        }
                        r = fail(t, "expected ',' or ']'");
                        break;
                }
        if (r >= 0 && !v && !(v = malloc(sizeof(*v))))
                r = -ENOMEM;
        if (r < 0) {
                free(v);
                return r;
        }
        v[n] = NULL;
        *ret = v;
        *ret_n = n;
        return 0;
}

int rt_manifest_parse(char *buf, size_t len, struct rt_manifest *ret, char *msg, size_t msg_size)
{
        struct reader t = {
                .start = buf, .p = buf, .end = buf + len, .msg = msg, .msg_size = msg_size
        };
        struct rt_manifest m = { 0 };
        const char *keys[RT_MAX_TOP_KEYS];
        size_t n_keys = 0;
        bool schema = false;
        int r = 0;

        if (msg && msg_size > 0)
                msg[0] = '\0';
        if (len > RT_MAX_BYTES)
                return fail(&t, "larger than %d bytes", RT_MAX_BYTES);
        skip_ws(&t);
        if (t.p >= t.end || *t.p != '{')
                return fail(&t, "expected a JSON object");
        t.p++;
        skip_ws(&t);
        if (t.p < t.end && *t.p == '}')
                t.p++;
        else
                for (;;) {
                        char *key, *s;
                        size_t klen, slen;

                        r = read_string(&t, &key, &klen);
                        if (r < 0)
                                goto out;
                        if (strlen(key) != klen) {
                                r = fail(&t, "a key holds a NUL character");
                                goto out;
                        }
                        for (size_t i = 0; i < n_keys; i++)
                                if (strcmp(keys[i], key) == 0) {
                                        r = fail(&t, "key \"%s\" given twice", key);
                                        goto out;
                                }
                        if (n_keys >= RT_MAX_TOP_KEYS) {
                                r = fail(&t, "more than %d keys", RT_MAX_TOP_KEYS);
                                goto out;
                        }
                        keys[n_keys++] = key;
                        skip_ws(&t);
                        if (t.p >= t.end || *t.p != ':') {
                                r = fail(&t, "expected ':' after a key");
                                goto out;
                        }
                        t.p++;
                        skip_ws(&t);

                        if (strcmp(key, "schema") == 0) {
                                r = read_string(&t, &s, &slen);
                                if (r >= 0 && strcmp(s, RT_SCHEMA) != 0)
                                        r = fail(&t, "schema \"%.64s\" is not %s", s, RT_SCHEMA);
                                schema = true;
                        } else if (strcmp(key, "writable") == 0) {
                                r = read_paths(&t, key, RT_MAX_WRITABLE, &m.writable,
                                               &m.n_writable);
                        } else if (strcmp(key, "executables") == 0) {
                                r = read_paths(&t, key, RT_MAX_EXECUTABLES, &m.executables,
                                               &m.n_executables);
                        } else if (strcmp(key, "landlock") == 0) {
                                m.landlock = t.p < t.end && *t.p == 't';
                                if (t.p < t.end && (*t.p == 't' || *t.p == 'f'))
                                        r = read_literal(&t, m.landlock ? "true" : "false");
                                else
                                        r = fail(&t, "\"landlock\" must be true or false");
                        } else {
                                r = read_value(&t, 1);
                        }
                        if (r < 0)
                                goto out;
                        skip_ws(&t);
                        if (t.p < t.end && *t.p == ',') {
                                t.p++;
                                skip_ws(&t);
                                continue;
                        }
                        if (t.p < t.end && *t.p == '}') {
                                t.p++;
                                break;
                        }
                        r = fail(&t, "expected ',' or '}'");
                        goto out;
                }
        skip_ws(&t);
        if (t.p != t.end)
                r = fail(&t, "data after the JSON object");
        else if (!schema)
                r = fail(&t, "no \"schema\" key (want \"%s\")", RT_SCHEMA);
        else if (!m.writable)
                r = fail(&t, "no \"writable\" key");
        else if (!m.executables)
                r = fail(&t, "no \"executables\" key");
out:
        if (r < 0) {
                rt_manifest_clear(&m);
                return r;
        }
        *ret = m;
        return 0;
}

void rt_manifest_clear(struct rt_manifest *m)
{
        free(m->writable);
        free(m->executables);
        *m = (struct rt_manifest){ 0 };
}
