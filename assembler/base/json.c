/* SPDX-License-Identifier: Apache-2.0 */
#include "json.h"

#include <inttypes.h>
#include <time.h>

#include "util.h"

void json_write_string(FILE *f, const char *s)
{
        const unsigned char *p = (const unsigned char *)(s ? s : "");
        fputc('"', f);
        while (*p) {
                unsigned char c = *p;
                if (c == '"' || c == '\\') {
                        fprintf(f, "\\%c", c);
                        p++;
                } else if (c == '\n') {
                        fputs("\\n", f);
                        p++;
                } else if (c < 0x20 || c == 0x7f) {
                        fprintf(f, "\\u%04x", c);
                        p++;
                } else if (c < 0x80) {
                        fputc(c, f);
                        p++;
                } else {
                        size_t n = c >= 0xf0 && c <= 0xf4  ? 4
                                   : c >= 0xe0             ? 3
                                   : c >= 0xc2 && c < 0xe0 ? 2
                                                           : 0;
                        if (c >= 0xf5)
                                n = 0;
                        bool ok = n > 0;
                        for (size_t i = 1; ok && i < n; i++)
                                ok = (p[i] & 0xc0) == 0x80;
                        /* No overlong forms, no UTF-16 surrogates, nothing past U+10FFFF. */
                        if (ok && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) ||
                                   (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
                                ok = false;
                        /* YAML readers (libyaml reads cairn's JSON back) fold U+0085,
                         * U+2028 and U+2029 as line breaks and refuse C1 controls, U+FEFF,
                         * U+FFFE and U+FFFF inside a scalar: those go out as \u escapes so
                         * that what is printed reads back to the same string. */
                        uint32_t cp = 0;
                        if (ok && n == 2)
                                cp = (uint32_t)(c & 0x1f) << 6 | (p[1] & 0x3f);
                        else if (ok && n == 3)
                                cp = (uint32_t)(c & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 |
                                     (p[2] & 0x3f);
                        if (ok && ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
                                   cp == 0xfeff || cp == 0xfffe || cp == 0xffff)) {
                                fprintf(f, "\\u%04x", (unsigned)cp);
                                p += n;
                        } else if (ok) {
                                fwrite(p, 1, n, f);
                                p += n;
                        } else {
                                fputs("\\ufffd", f);
                                p++;
                        }
                }
        }
        fputc('"', f);
}

void json_init(struct json *j, FILE *f)
{
        *j = (struct json){ .f = f };
}

void json_init_pretty(struct json *j, FILE *f)
{
        *j = (struct json){ .f = f, .pretty = true };
}

static void json_newline(struct json *j, unsigned depth)
{
        fputc('\n', j->f);
        for (unsigned i = 0; i < depth; i++)
                fputs("  ", j->f);
}

/* Comma handling before an item (a value in an array, a key in an object). */
static void json_item(struct json *j)
{
        bool line_break = j->line_break;
        j->line_break = false;
        if (j->after_key) {
                j->after_key = false;
                return;
        }
        /* Deeper than JSON_MAX_DEPTH nothing is tracked (no caller nests that far). */
        if (j->depth == 0 || j->depth > JSON_MAX_DEPTH)
                return;
        bool first = !j->has_items[j->depth - 1];
        if (!first)
                fputc(',', j->f);
        j->has_items[j->depth - 1] = true;
        if (j->pretty && j->one_line[j->depth - 1]) {
                if (line_break)
                        json_newline(j, j->depth);
                else if (!first)
                        fputc(' ', j->f);
        } else if (j->pretty)
                json_newline(j, j->depth);
}

static void json_open(struct json *j, char c, bool one_line)
{
        json_item(j);
        fputc(c, j->f);
        if (j->depth < JSON_MAX_DEPTH) {
                j->has_items[j->depth] = false;
                j->one_line[j->depth] = one_line || (j->depth > 0 && j->one_line[j->depth - 1]);
        }
        j->depth++;
}

static void json_close(struct json *j, char c)
{
        if (j->depth > 0) {
                j->depth--;
                if (j->pretty && j->depth < JSON_MAX_DEPTH && j->has_items[j->depth] &&
                    !j->one_line[j->depth])
                        json_newline(j, j->depth);
        }
        fputc(c, j->f);
}

void json_object_begin(struct json *j)
{
        json_open(j, '{', false);
}

void json_object_begin_line(struct json *j)
{
        json_open(j, '{', true);
}

void json_object_end(struct json *j)
{
        json_close(j, '}');
}

void json_array_begin(struct json *j)
{
        json_open(j, '[', false);
}

void json_array_begin_line(struct json *j)
{
        json_open(j, '[', true);
}

void json_line_break(struct json *j)
{
        j->line_break = true;
}

void json_array_end(struct json *j)
{
        json_close(j, ']');
}

void json_key(struct json *j, const char *key)
{
        json_item(j);
        json_write_string(j->f, key);
        fputs(j->pretty ? ": " : ":", j->f);
        j->after_key = true;
}

void json_string(struct json *j, const char *s)
{
        json_item(j);
        json_write_string(j->f, s);
}

void json_int(struct json *j, int64_t v)
{
        json_item(j);
        fprintf(j->f, "%" PRId64, v);
}

void json_uint(struct json *j, uint64_t v)
{
        json_item(j);
        fprintf(j->f, "%" PRIu64, v);
}

void json_bool(struct json *j, bool v)
{
        json_item(j);
        fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j)
{
        json_item(j);
        fputs("null", j->f);
}

void json_kv_string(struct json *j, const char *key, const char *s)
{
        json_key(j, key);
        json_string(j, s);
}

void json_kv_uint(struct json *j, const char *key, uint64_t v)
{
        json_key(j, key);
        json_uint(j, v);
}

void json_format_time(int64_t epoch, char out[32])
{
        time_t t = (time_t)epoch;
        struct tm tm;
        if (!gmtime_r(&t, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(out, 32, "1970-01-01T00:00:00Z");
}
