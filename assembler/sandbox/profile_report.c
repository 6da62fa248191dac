/* SPDX-License-Identifier: Apache-2.0 */
#include "profile_report.h"

#include <sys/wait.h>

#include "base/json.h"

/* "exited with status 0", "stopped at --duration (SIGTERM)", ... */
static void describe_end(char *buf, size_t size, const struct sandbox_result *res)
{
        if (res->interrupted)
                snprintf(buf, size, "interrupted");
        else if (res->timed_out)
                snprintf(buf, size, "stopped at --duration%s",
                         res->killed ? " (SIGKILL after the grace period)" : " (SIGTERM)");
        else if (WIFEXITED(res->wait_status))
                snprintf(buf, size, "exited with status %d", WEXITSTATUS(res->wait_status));
        else if (WIFSIGNALED(res->wait_status))
                snprintf(buf, size, "killed by signal %d", WTERMSIG(res->wait_status));
        else
                snprintf(buf, size, "ended");
}

/* A path as a YAML flow scalar: plain when that is safe, else double-quoted with escapes. */
static void yaml_path(FILE *f, const char *p)
{
        bool plain = p[0] == '/';
        for (const char *c = p; *c && plain; c++)
                plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                        (*c >= '0' && *c <= '9') || strchr("/._-+@", *c);
        if (plain) {
                fputs(p, f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *c = (const unsigned char *)p; *c; c++) {
                if (*c == '"' || *c == '\\')
                        fprintf(f, "\\%c", *c);
                else if (*c < 0x20 || *c >= 0x7f)
                        fprintf(f, "\\x%02x", *c);
                else
                        fputc(*c, f);
        }
        fputc('"', f);
}

static int str_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool was_read(const struct sandbox_result *res, const char *path)
{
        return res->n_reads &&
               bsearch(&path, res->reads, res->n_reads, sizeof(*res->reads), str_cmp);
}

/* Regular files of the image never opened during the run: candidates for removal. */
static void text_unread(FILE *f, const struct tree *t, const struct sandbox_result *res)
{
        const struct tree_entry *e;
        size_t n_files = 0, n_unread = 0;
        uint64_t bytes = 0;
        tree_foreach (e, t) {
                if (e->type != TREE_REG)
                        continue;
                n_files++;
                if (was_read(res, e->path))
                        continue;
                if (!n_unread)
                        fprintf(f, "# never opened (slimming hints):\n");
                fprintf(f, "#   %s\n", e->path);
                n_unread++;
                bytes += e->size;
        }
        fprintf(f, "# --reads: %zu of %zu image files never opened (%llu bytes)%s\n", n_unread,
                n_files, (unsigned long long)bytes,
                res->reads_truncated ? "; too many opens, list truncated" : "");
}

static void format_text(FILE *f, const struct profile_report *r)
{
        const struct sandbox_result *res = &r->result->run;
        const struct profile_suggestion *p = &r->result->suggestion;
        char end[128];
        describe_end(end, sizeof(end), res);
        fprintf(f, "# cairn profile %s: the program %s; %zu path%s written\n", r->image, end,
                p->n_writes, p->n_writes == 1 ? "" : "s");
        fprintf(f, "writable: [");
        for (size_t i = 0; i < p->n_dirs; i++) {
                if (i)
                        fprintf(f, ", ");
                yaml_path(f, p->dirs[i]);
        }
        fprintf(f, "]\n");
        if (r->reads)
                text_unread(f, r->tree, res);
}

static void json_run(struct json *j, const struct sandbox_result *res)
{
        char end[128];
        describe_end(end, sizeof(end), res);
        json_key(j, "run");
        json_object_begin_line(j);
        json_kv_string(j, "end", end);
        json_key(j, "timed_out");
        json_bool(j, res->timed_out);
        json_key(j, "killed");
        json_bool(j, res->killed);
        json_key(j, "exit_status");
        if (WIFEXITED(res->wait_status))
                json_int(j, WEXITSTATUS(res->wait_status));
        else
                json_null(j);
        json_key(j, "signal");
        if (WIFEXITED(res->wait_status))
                json_null(j);
        else
                json_int(j, WIFSIGNALED(res->wait_status) ? WTERMSIG(res->wait_status) : 0);
        json_object_end(j);
}

static void json_writes(struct json *j, const struct profile_suggestion *p)
{
        json_key(j, "writes");
        json_array_begin(j);
        for (size_t i = 0; i < p->n_writes; i++) {
                const struct profile_write *w = &p->writes[i];
                json_object_begin_line(j);
                json_kv_string(j, "path", w->write->path);
                json_kv_string(j, "op", sandbox_op_name(w->write->op));
                json_kv_string(j, "type", w->write->is_dir ? "dir" : "file");
                json_key(j, "in_writable");
                json_bool(j, w->covered);
                json_key(j, "dir");
                if (w->dir)
                        json_string(j, w->dir);
                else
                        json_null(j);
                if (w->unplaceable)
                        json_kv_string(j, "unplaceable", w->unplaceable);
                json_object_end(j);
        }
        json_array_end(j);
}

static void json_reads(struct json *j, const struct tree *t, const struct sandbox_result *res)
{
        json_key(j, "reads");
        json_object_begin_line(j);
        json_key(j, "truncated");
        json_bool(j, res->reads_truncated);
        json_key(j, "opened");
        json_array_begin(j);
        for (size_t i = 0; i < res->n_reads; i++)
                json_string(j, res->reads[i]);
        json_array_end(j);
        json_line_break(j);
        json_key(j, "never_opened");
        json_array_begin(j);
        const struct tree_entry *e;
        tree_foreach (e, t) {
                if (e->type == TREE_REG && !was_read(res, e->path))
                        json_string(j, e->path);
        }
        json_array_end(j);
        json_object_end(j);
}

static void format_json(FILE *f, const struct profile_report *r)
{
        const struct profile_suggestion *p = &r->result->suggestion;
        struct json j;
        json_init_pretty(&j, f);
        json_object_begin(&j);
        json_kv_string(&j, "image", r->image);
        json_kv_string(&j, "variant", r->variant);
        json_run(&j, &r->result->run);
        json_key(&j, "writable");
        json_array_begin_line(&j);
        for (size_t i = 0; i < p->n_dirs; i++)
                json_string(&j, p->dirs[i]);
        json_array_end(&j);
        json_writes(&j, p);
        if (r->reads)
                json_reads(&j, r->tree, &r->result->run);
        json_object_end(&j);
        fputc('\n', f);
}

int profile_report_format(const struct profile_report *r, enum profile_format format, char **ret)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        if (format == PROFILE_FORMAT_JSON)
                format_json(f, r);
        else
                format_text(f, r);
        if (ferror(f) | (fclose(f) != 0))
                return -ENOMEM;
        *ret = steal_pointer(&buf);
        return 0;
}

int profile_report_warnings(const struct profile_result *res, const struct recipe_run *run,
                            char **ret)
{
        const struct profile_suggestion *p = &res->suggestion;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_writes; i++) {
                const struct profile_write *w = &p->writes[i];
                if (w->unplaceable)
                        fprintf(f, "cairn profile: warning: %s (%s): %s\n", w->write->path,
                                sandbox_op_name(w->write->op), w->unplaceable);
                if (w->covered)
                        continue;
                fprintf(f, "cairn profile: warning: %s (%s) is outside writable: [", w->write->path,
                        sandbox_op_name(w->write->op));
                for (char **wp = run->writable; wp && *wp; wp++)
                        fprintf(f, "%s%s", wp == run->writable ? "" : ", ", *wp);
                fprintf(f, "]: that write would fail in prod%s\n",
                        run->read_only == 0 ? " (this variant's root is not read-only)" : "");
        }
        if (ferror(f) | (fclose(f) != 0))
                return -ENOMEM;
        *ret = steal_pointer(&buf);
        return 0;
}
