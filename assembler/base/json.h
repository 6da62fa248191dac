/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny streaming JSON writer for cairn's generated files (OCI config/manifest/index,
 * runtime.json, lock files, SBOMs, reports). Keys come out in the order the caller writes
 * them and the output is compact (no whitespace) or, for lock files and reports, pretty with a
 * fixed layout, so equal inputs give equal bytes.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
        FILE *f; /* borrowed */
        unsigned depth;
        bool has_items[JSON_MAX_DEPTH]; /* a comma is due before the next item */
        bool one_line[JSON_MAX_DEPTH];  /* pretty: this container's items share its line */
        bool after_key;
        bool pretty;     /* one item per line, two-space indent, "key": value */
        bool line_break; /* pretty: the next item of a one-line container starts a line */
};

void json_init(struct json *j, FILE *f);
/* Like json_init, but for files people read and review in diffs (lock files): one item per
 * line, indented by two spaces per level. Still deterministic; no trailing newline. */
void json_init_pretty(struct json *j, FILE *f);
void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
/*
 * In pretty output, a container whose items stay on its own line, separated by ", " (and so
 * do the items of every container inside it): {"a": 1, "b": [2, 3]}. In compact output the
 * same as json_object_begin/json_array_begin. Closed with json_object_end/json_array_end.
 */
void json_object_begin_line(struct json *j);
void json_array_begin_line(struct json *j);
/* In pretty output, inside a one-line container: the next item starts a new line, indented
 * one level deeper than the container's key. No effect anywhere else. */
void json_line_break(struct json *j);
/* Writes "key": inside an object; the next call writes its value. */
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);
void json_int(struct json *j, int64_t v);
void json_uint(struct json *j, uint64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Shorthands for "key": value. */
void json_kv_string(struct json *j, const char *key, const char *s);
void json_kv_uint(struct json *j, const char *key, uint64_t v);

/*
 * Writes s as a JSON string literal. Valid UTF-8 passes through; control characters are
 * escaped and each byte of an invalid sequence becomes U+FFFD, so the output is always valid.
 */
void json_write_string(FILE *f, const char *s);

/* RFC 3339 UTC time ("2023-11-14T22:13:20Z") of epoch seconds into out (32 bytes). */
void json_format_time(int64_t epoch, char out[32]);
