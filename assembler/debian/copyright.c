/* SPDX-License-Identifier: Apache-2.0 */
#include "copyright.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"

/* ---- the deb822 paragraphs of a copyright file ------------------------------------------- */

struct field {
        char *name;  /* owned */
        char *first; /* owned; the value on the field's own line, trimmed */
        char *body;  /* owned; the continuation lines, one leading blank and " ." removed */
};

struct paragraph {
        struct field *fields; /* owned */
        size_t n, cap;
};

struct doc {
        struct paragraph *paras; /* owned */
        size_t n, cap;
};

static void doc_clear(struct doc *d)
{
        for (size_t i = 0; i < d->n; i++) {
                for (size_t k = 0; k < d->paras[i].n; k++) {
                        free(d->paras[i].fields[k].name);
                        free(d->paras[i].fields[k].first);
                        free(d->paras[i].fields[k].body);
                }
                free(d->paras[i].fields);
        }
        free(d->paras);
}

static char *trimmed(const char *s, size_t len)
{
        while (len && isspace((unsigned char)*s))
                s++, len--;
        while (len && isspace((unsigned char)s[len - 1]))
                len--;
        return strndup(s, len);
}

/* Appends a continuation line to f->body. */
static int body_add(struct field *f, const char *line, size_t len)
{
        /* One leading blank is the continuation marker; " ." stands for an empty line. */
        line++, len--;
        if (len == 1 && line[0] == '.')
                len = 0;
        size_t old = f->body ? strlen(f->body) : 0;
        char *n = realloc(f->body, old + len + 2);
        if (!n)
                return -ENOMEM;
        memcpy(n + old, line, len);
        n[old + len] = '\n';
        n[old + len + 1] = '\0';
        f->body = n;
        return 0;
}

static int doc_parse(const char *text, size_t len, struct doc *d)
{
        struct paragraph *cur = NULL;
        struct field *last = NULL;
        for (const char *p = text, *end = text + len; p < end;) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
                const char *line = p;
                p += ll + (nl ? 1 : 0);
                if (ll && line[ll - 1] == '\r')
                        ll--;
                bool blank = true;
                for (size_t i = 0; i < ll && blank; i++)
                        blank = isspace((unsigned char)line[i]);
                if (blank) {
                        cur = NULL;
                        last = NULL;
                        continue;
                }
                if (line[0] == '#')
                        continue;
                if (line[0] == ' ' || line[0] == '\t') {
                        if (last && body_add(last, line, ll) < 0)
                                return -ENOMEM;
                        continue;
                }
                const char *colon = memchr(line, ':', ll);
                if (!colon) {
                        last = NULL; /* not deb822: ignored */
                        continue;
                }
                if (!cur) {
                        if (GROW(d->paras, d->cap, d->n + 1) < 0)
                                return -ENOMEM;
                        cur = &d->paras[d->n++];
                        *cur = (struct paragraph){ 0 };
                }
                if (GROW(cur->fields, cur->cap, cur->n + 1) < 0)
                        return -ENOMEM;
                last = &cur->fields[cur->n];
                *last = (struct field){
                        .name = trimmed(line, (size_t)(colon - line)),
                        .first = trimmed(colon + 1, ll - (size_t)(colon - line) - 1),
                };
                cur->n++;
                if (!last->name || !last->first)
                        return -ENOMEM;
        }
        return 0;
}

static const struct field *para_get(const struct paragraph *p, const char *name)
{
        for (size_t i = 0; i < p->n; i++)
                if (strcasecmp(p->fields[i].name, name) == 0)
                        return &p->fields[i];
        return NULL;
}

/* ---- Debian short names to SPDX ---------------------------------------------------------- */

static const struct {
        const char *debian, *spdx;
} names[] = {
        { "Expat", "MIT" },
        { "MIT", "MIT" },
        { "Perl", "(Artistic-1.0-Perl OR GPL-1.0-or-later)" },
        { "Artistic", "Artistic-1.0" },
        { "Artistic-1.0", "Artistic-1.0" },
        { "Artistic-2.0", "Artistic-2.0" },
        { "Apache-1.0", "Apache-1.0" },
        { "Apache-1.1", "Apache-1.1" },
        { "Apache-2.0", "Apache-2.0" },
        { "BSD-2-clause", "BSD-2-Clause" },
        { "BSD-3-clause", "BSD-3-Clause" },
        { "BSD-4-clause", "BSD-4-Clause" },
        { "0BSD", "0BSD" },
        { "ISC", "ISC" },
        { "X11", "X11" },
        { "Zlib", "Zlib" },
        { "Zope-2.1", "ZPL-2.1" },
        { "ZPL-2.1", "ZPL-2.1" },
        { "Python-2.0", "Python-2.0" },
        { "PSF-2", "PSF-2.0" },
        { "PSF-2.0", "PSF-2.0" },
        { "QPL-1.0", "QPL-1.0" },
        { "W3C", "W3C" },
        { "CC0-1.0", "CC0-1.0" },
        { "CC0", "CC0-1.0" },
        { "CDDL-1.0", "CDDL-1.0" },
        { "CDDL-1.1", "CDDL-1.1" },
        { "CPL-1.0", "CPL-1.0" },
        { "EPL-1.0", "EPL-1.0" },
        { "EPL-2.0", "EPL-2.0" },
        { "EFL-1.0", "EFL-1.0" },
        { "EFL-2.0", "EFL-2.0" },
        { "MPL-1.0", "MPL-1.0" },
        { "MPL-1.1", "MPL-1.1" },
        { "MPL-2.0", "MPL-2.0" },
        { "BSL-1.0", "BSL-1.0" },
        { "Unlicense", "Unlicense" },
        { "WTFPL", "WTFPL" },
        { "curl", "curl" },
        { "OpenSSL", "OpenSSL" },
        { "OFL-1.1", "OFL-1.1" },
        { "LPPL-1.3c", "LPPL-1.3c" },
        { "Ruby", "Ruby" },
        { "Vim", "Vim" },
        { "FTL", "FTL" },
        { "libpng", "Libpng" },
        { "Libpng", "Libpng" },
        { "bzip2-1.0.6", "bzip2-1.0.6" },
        { "GPL-1", "GPL-1.0-only" },
        { "GPL-1+", "GPL-1.0-or-later" },
        { "GPL-2", "GPL-2.0-only" },
        { "GPL-2+", "GPL-2.0-or-later" },
        { "GPL-3", "GPL-3.0-only" },
        { "GPL-3+", "GPL-3.0-or-later" },
        { "LGPL-2", "LGPL-2.0-only" },
        { "LGPL-2+", "LGPL-2.0-or-later" },
        { "LGPL-2.0", "LGPL-2.0-only" },
        { "LGPL-2.0+", "LGPL-2.0-or-later" },
        { "LGPL-2.1", "LGPL-2.1-only" },
        { "LGPL-2.1+", "LGPL-2.1-or-later" },
        { "LGPL-3", "LGPL-3.0-only" },
        { "LGPL-3+", "LGPL-3.0-or-later" },
        { "AGPL-3", "AGPL-3.0-only" },
        { "AGPL-3+", "AGPL-3.0-or-later" },
        { "GFDL-1.1", "GFDL-1.1-only" },
        { "GFDL-1.1+", "GFDL-1.1-or-later" },
        { "GFDL-1.2", "GFDL-1.2-only" },
        { "GFDL-1.2+", "GFDL-1.2-or-later" },
        { "GFDL-1.3", "GFDL-1.3-only" },
        { "GFDL-1.3+", "GFDL-1.3-or-later" },
        { "GFDL-NIV-1.2", "GFDL-1.2-no-invariants-only" },
        { "GFDL-NIV-1.3", "GFDL-1.3-no-invariants-only" },
        { "GFDL-NIV-1.3+", "GFDL-1.3-no-invariants-or-later" },
        { "CC-BY-3.0", "CC-BY-3.0" },
        { "CC-BY-4.0", "CC-BY-4.0" },
        { "CC-BY-SA-3.0", "CC-BY-SA-3.0" },
        { "CC-BY-SA-4.0", "CC-BY-SA-4.0" },
};

/* GNU licences also appear with ".0" ("GPL-2.0+") or SPDX's own spelling. */
static const char *const gnu[] = { "GPL", "LGPL", "AGPL" };

char *copyright_spdx_id(const char *debian_name)
{
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcasecmp(names[i].debian, debian_name) == 0)
                        return strdup(names[i].spdx);
        /* "GPL-2.0+", "GPL-2.0-or-later", "LGPL-2.1-only": SPDX spellings pass through. */
        for (size_t i = 0; i < ELEMENTSOF(gnu); i++) {
                size_t n = strlen(gnu[i]);
                if (strncasecmp(debian_name, gnu[i], n) != 0 || debian_name[n] != '-')
                        continue;
                const char *v = debian_name + n + 1;
                static const char *const versions[] = { "1.0", "2.0", "2.1", "3.0" };
                for (size_t k = 0; k < ELEMENTSOF(versions); k++) {
                        size_t vl = strlen(versions[k]);
                        if (strncmp(v, versions[k], vl) != 0)
                                continue;
                        const char *rest = v + vl;
                        const char *suffix = streq(rest, "+") || streq(rest, "-or-later")
                                                     ? "-or-later"
                                             : !*rest || streq(rest, "-only") ? "-only"
                                                                              : NULL;
                        char *s = NULL;
                        if (suffix && asprintf(&s, "%s-%s%s", gnu[i], versions[k], suffix) < 0)
                                return NULL;
                        if (suffix)
                                return s;
                }
        }
        return NULL;
}

/* ---- the synopsis into an expression ----------------------------------------------------- */

struct builder {
        FILE *out;
        struct copyright_license *lic;
        const struct doc *doc;
        const struct field *files_license;
        bool oom;
};

static void ref_id(const char *name, char **ret)
{
        size_t n = strlen(name);
        char *s = malloc(n * 9 + sizeof("LicenseRef-"));
        if (!s) {
                *ret = NULL;
                return;
        }
        char *o = stpcpy(s, "LicenseRef-");
        for (const char *p = name; *p; p++) {
                if (isalnum((unsigned char)*p) || *p == '.' || *p == '-')
                        *o++ = *p;
                else if (*p == '+')
                        o = stpcpy(o, "-or-later");
                else if (o[-1] != '-')
                        *o++ = '-';
        }
        while (o > s + strlen("LicenseRef-") && o[-1] == '-')
                o--;
        if (o == s + strlen("LicenseRef-"))
                o = stpcpy(o, "unnamed");
        *o = '\0';
        *ret = s;
}

/* The text the file gives for license name: a standalone License paragraph, else the body of
 * the Files: * paragraph's License field. */
static char *license_text(const struct builder *b, const char *name)
{
        for (size_t i = 0; i < b->doc->n; i++) {
                const struct paragraph *p = &b->doc->paras[i];
                const struct field *l = para_get(p, "License");
                if (l && !para_get(p, "Files") && l->body && strcasecmp(l->first, name) == 0)
                        return strdup(l->body);
        }
        if (b->files_license->body)
                return strdup(b->files_license->body);
        char *s = NULL;
        if (asprintf(&s, "The Debian copyright file names the license '%s' without its text.",
                     name) < 0)
                return NULL;
        return s;
}

/* One license name (maybe "NAME with EXCEPTION exception") into the output. */
static void put_license(struct builder *b, const char *term)
{
        _cleanup_free_ char *id = strchr(term, ' ') ? NULL : copyright_spdx_id(term);
        if (id) {
                fputs(id, b->out);
                return;
        }
        _cleanup_free_ char *ref = NULL;
        ref_id(term, &ref);
        if (!ref) {
                b->oom = true;
                return;
        }
        fputs(ref, b->out);
        struct copyright_license *l = b->lic;
        for (size_t i = 0; i < l->n_refs; i++)
                if (streq(l->refs[i].id, ref))
                        return;
        struct copyright_ref *n = realloc(l->refs, (l->n_refs + 1) * sizeof(*n));
        if (!n) {
                b->oom = true;
                return;
        }
        l->refs = n;
        n[l->n_refs] = (struct copyright_ref){
                .id = steal_pointer(&ref),
                .name = strdup(term),
                .text = license_text(b, term),
        };
        if (!n[l->n_refs].name || !n[l->n_refs].text)
                b->oom = true;
        l->n_refs++;
}

static bool word_is(const char *w, size_t len, const char *s)
{
        return len == strlen(s) && strncasecmp(w, s, len) == 0;
}

/*
 * One comma-separated group into the output: names joined by `or`/`and` (a name may carry
 * `with X exception`). *ret_terms: how many names it held. False when it is malformed (an
 * operator without a name on each side).
 */
static bool put_group(struct builder *b, const char *g, size_t len, bool paren, size_t *ret_terms)
{
        _cleanup_free_ char *expr = NULL, *term = NULL;
        size_t elen = 0, tlen = 0, terms = 0;
        _cleanup_fclose_ FILE *e = open_memstream(&expr, &elen);
        _cleanup_fclose_ FILE *t = NULL;
        if (!e) {
                b->oom = true;
                return false;
        }
        FILE *out = b->out;
        b->out = e;
        bool want_name = true, ok = true;
        for (const char *p = g, *end = g + len; ok;) {
                while (p < end && isspace((unsigned char)*p))
                        p++;
                const char *w = p;
                while (p < end && !isspace((unsigned char)*p))
                        p++;
                size_t wl = (size_t)(p - w);
                bool op = word_is(w, wl, "or") || word_is(w, wl, "and");
                if (wl && !op) {
                        if (!t && !(t = open_memstream(&term, &tlen))) {
                                b->oom = true;
                                ok = false;
                                break;
                        }
                        if (tlen)
                                fputc(' ', t);
                        fwrite(w, 1, wl, t);
                        fflush(t);
                        want_name = false;
                        continue;
                }
                if (want_name) { /* an operator first, twice, or last */
                        ok = false;
                        break;
                }
                if (fclose(steal_pointer(&t)) != 0) {
                        b->oom = true;
                        ok = false;
                        break;
                }
                put_license(b, term);
                free(steal_pointer(&term));
                tlen = 0;
                terms++;
                if (!wl)
                        break;
                fputs(word_is(w, wl, "or") ? " OR " : " AND ", e);
                want_name = true;
        }
        b->out = out;
        if (fclose(steal_pointer(&e)) != 0)
                b->oom = true;
        if (!ok || b->oom || terms == 0)
                return false;
        paren = paren && terms > 1;
        fprintf(out, "%s%s%s", paren ? "(" : "", expr, paren ? ")" : "");
        *ret_terms = terms;
        return true;
}

/* The synopsis (the License: field's first line) into an SPDX expression; false when it is
 * not one DEP-5 allows. */
static bool put_synopsis(struct builder *b, const char *syn)
{
        size_t groups = 1;
        for (const char *c = syn; *c; c++)
                groups += *c == ',';
        for (const char *g = syn; b->oom == false;) {
                const char *comma = strchr(g, ',');
                size_t len = comma ? (size_t)(comma - g) : strlen(g);
                if (g != syn) {
                        /* ", and X" / ", or X": the operator joining this group. */
                        while (len && isspace((unsigned char)*g))
                                g++, len--;
                        bool is_or = len >= 3 && strncasecmp(g, "or", 2) == 0 &&
                                     isspace((unsigned char)g[2]);
                        bool is_and = len >= 4 && strncasecmp(g, "and", 3) == 0 &&
                                      isspace((unsigned char)g[3]);
                        size_t skip = is_or ? 2 : is_and ? 3 : 0;
                        g += skip;
                        len -= skip;
                        fputs(is_or ? " OR " : " AND ", b->out);
                }
                size_t terms;
                if (!put_group(b, g, len, groups > 1, &terms))
                        return false;
                if (!comma)
                        return true;
                g = comma + 1;
        }
        return false;
}

static bool machine_readable(const struct doc *d)
{
        if (d->n == 0)
                return false;
        const struct field *f = para_get(&d->paras[0], "Format");
        if (!f)
                f = para_get(&d->paras[0], "Format-Specification"); /* the DEP-5 drafts */
        return f && (strstr(f->first, "copyright-format") || strstr(f->first, "dep5") ||
                     strstr(f->first, "DEP5") || strstr(f->first, "dep.debian.net"));
}

/* The `Files: *` paragraph's License field, or NULL. */
static const struct field *files_star_license(const struct doc *d)
{
        for (size_t i = 1; i < d->n; i++) {
                const struct field *files = para_get(&d->paras[i], "Files");
                if (!files)
                        continue;
                bool star = false;
                for (int part = 0; part < 2 && !star; part++) {
                        const char *v = part ? files->body : files->first;
                        for (const char *w = v; w && *w && !star;) {
                                while (isspace((unsigned char)*w))
                                        w++;
                                const char *e = w;
                                while (*e && !isspace((unsigned char)*e))
                                        e++;
                                star = e - w == 1 && *w == '*';
                                w = e;
                        }
                }
                if (star)
                        return para_get(&d->paras[i], "License");
        }
        return NULL;
}

void copyright_license_clear(struct copyright_license *l)
{
        free(l->expression);
        for (size_t i = 0; i < l->n_refs; i++) {
                free(l->refs[i].id);
                free(l->refs[i].name);
                free(l->refs[i].text);
        }
        free(l->refs);
        *l = (struct copyright_license){ 0 };
}

int copyright_license_parse(const char *text, size_t len, struct copyright_license *ret)
{
        *ret = (struct copyright_license){ 0 };
        if (len > COPYRIGHT_MAX_BYTES)
                return 0;
        struct doc d = { 0 };
        int r = doc_parse(text, len, &d);
        const struct field *lic = r >= 0 && machine_readable(&d) ? files_star_license(&d) : NULL;
        if (r < 0 || !lic || !*lic->first) {
                doc_clear(&d);
                return r < 0 ? r : 0;
        }
        char *expr = NULL;
        size_t elen = 0;
        struct builder b = { .lic = ret, .doc = &d, .files_license = lic };
        b.out = open_memstream(&expr, &elen);
        bool ok = b.out && put_synopsis(&b, lic->first);
        if (b.out && fclose(b.out) != 0)
                b.oom = true;
        doc_clear(&d);
        if (b.oom || !b.out) {
                free(expr);
                copyright_license_clear(ret);
                return -ENOMEM;
        }
        if (!ok) {
                free(expr);
                copyright_license_clear(ret);
                return 0;
        }
        ret->expression = expr;
        return 0;
}
