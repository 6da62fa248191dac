/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The checks behind policy_check(). Two passes over the tree: first every regular file is
 * classified by content (ELF headers, toolbox/shell/packer markers from content_scan.c, #!
 * line) and given its verdict (file_verdict(): BusyBox, toolbox, shell, package manager), then
 * each entry is checked, using the classes of whatever its symlinks, scripts and libraries
 * lead to.
 */
#include <assert.h>
#include <elf.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>

#include "content_scan.h"
#include "elf_reader.h"
#include "ld_search.h"
#include "policy.h"

#define SHEBANG_MAX 256 /* what the kernel reads of a #! line */

/*
 * What a file is, by the ladder BusyBox -> other multi-call toolbox -> shell (by content, then
 * by name) -> package manager: the first rung that matches. Decided once per file by
 * file_verdict(); check_file() turns it into the file's own finding, and the scripts and
 * symlinks that lead to the file quote verdict_forbidden().
 */
enum file_kind {
        FILE_ORDINARY,        /* none of the rungs */
        FILE_BUSYBOX,         /* content_is_busybox() */
        FILE_TOOLBOX,         /* content_toolbox(): what = "toybox", "uutils-coreutils" */
        FILE_SHELL,           /* an ELF file with a shell's content marker: what = the shell */
        FILE_SHELL_BY_NAME,   /* an executable (mode or ELF) named like a shell */
        FILE_PACKAGE_MANAGER, /* a package manager program: what = package_manager */
};

struct file_verdict {
        enum file_kind kind;
        const char *what;            /* static, or NULL: see enum file_kind */
        bool named_like_shell;       /* its own path ends in a shell's name */
        const char *package_manager; /* static, or NULL: a package manager program, whatever
                                      * the kind (a BusyBox can carry dpkg too) */
};

struct file_class {
        bool classified;
        bool elf_magic;
        struct elf_probe probe; /* the header as the kernel reads it */
        bool is_elf;            /* parsed */
        struct elf_info elf;
        char *elf_error; /* owned; why the headers did not parse, or NULL */
        char *elf_odd;   /* owned; the identification bytes that lie, or NULL */
        bool shebang;    /* starts with #! */
        bool scanned;    /* the content scan ran */
        struct content_scan scan;
        bool asset_checked; /* CAIRN-LOADER looked at it as an asset */
        bool script;
        char *interp;     /* owned; #! interpreter */
        char *interp_arg; /* owned; the rest of the #! line, or NULL */
        struct file_verdict verdict;
};

struct checker {
        const struct tree *t;
        const struct store *s;
        const struct policy_options *o;
        bool enabled[64];
        const struct policy_rule *rules;
        size_t n_rules;
        struct file_class *classes; /* owned; one per tree index */
        char **named;               /* owned; named paths and what they resolve to */
        size_t n_named, cap_named;
        struct ld_search *libs; /* owned */
        struct policy_report *report;
        size_t cap_findings;
};

static const char *const shell_names[] = {
        "ash",   "bash", "csh",   "dash", "fish", "ksh",  "ksh93", "lksh", "mksh",
        "pdksh", "posh", "rbash", "sash", "sh",   "tcsh", "yash",  "zsh",
};

static bool is_shell_name(const char *path)
{
        const char *b = strrchr(path, '/');
        b = b ? b + 1 : path;
        for (size_t i = 0; i < ELEMENTSOF(shell_names); i++)
                if (streq(b, shell_names[i]))
                        return true;
        return false;
}

static _printf_(5, 0) int finding_addv(struct checker *c, const char *id, bool warning,
                                       const char *path, const char *fmt, va_list ap)
{
        const struct policy_rule *rule = policy_rule_find(id);
        assert(rule);
        if (!c->enabled[rule - c->rules])
                return 0;
        struct policy_report *r = c->report;
        if (r->n_findings >= POLICY_MAX_FINDINGS)
                return -E2BIG;
        if (GROW(r->findings, c->cap_findings, r->n_findings + 1) < 0)
                return -ENOMEM;
        struct policy_finding *x = &r->findings[r->n_findings];
        *x = (struct policy_finding){
                .rule = rule,
                .severity = warning ? POLICY_WARNING : policy_rule_severity(rule, c->o->profile),
        };
        x->path = strdup(path);
        int n = vasprintf(&x->evidence, fmt, ap);
        if (!x->path || n < 0) {
                free(x->path);
                if (n >= 0)
                        free(x->evidence);
                return -ENOMEM;
        }
        r->n_findings++;
        if (x->severity == POLICY_ERROR)
                r->n_errors++;
        else
                r->n_warnings++;
        return 0;
}

static _printf_(4, 5) int finding_add(struct checker *c, const char *id, const char *path,
                                      const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = finding_addv(c, id, false, path, fmt, ap);
        va_end(ap);
        return r;
}

/* A finding of rule id at warning level whatever the rule's severity, when `warning`. */
static _printf_(5, 6) int finding_add_sev(struct checker *c, const char *id, bool warning,
                                          const char *path, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = finding_addv(c, id, warning, path, fmt, ap);
        va_end(ap);
        return r;
}

/* The regular file behind e (e itself, or a hardlink's target), or NULL. */
static const struct tree_entry *content_entry(const struct checker *c, const struct tree_entry *e)
{
        if (e->type == TREE_REG)
                return e;
        if (e->type == TREE_HARDLINK && e->target) {
                const struct tree_entry *x = tree_lookup(c->t, e->target);
                return x && x->type == TREE_REG ? x : NULL;
        }
        return NULL;
}

/* Parses a #! line: interpreter and the optional single argument (the rest of the line). */
static int shebang_parse(const uint8_t *buf, size_t n, struct file_class *fc)
{
        size_t i = 2, end;
        while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
                i++;
        for (end = i; end < n && buf[end] != '\n'; end++)
                ;
        size_t s = i;
        while (i < end && buf[i] != ' ' && buf[i] != '\t')
                i++;
        fc->script = true;
        fc->interp = strndup((const char *)buf + s, i - s);
        if (!fc->interp)
                return -ENOMEM;
        while (i < end && (buf[i] == ' ' || buf[i] == '\t'))
                i++;
        size_t e = end;
        while (e > i && (buf[e - 1] == ' ' || buf[e - 1] == '\t' || buf[e - 1] == '\r'))
                e--;
        if (e > i) {
                fc->interp_arg = strndup((const char *)buf + i, e - i);
                if (!fc->interp_arg)
                        return -ENOMEM;
        }
        return 0;
}

/* A program (executable or PIE), as opposed to a plain shared library. */
static bool elf_is_program(const struct elf_info *elf)
{
        return elf->type == ET_EXEC || elf->interp || elf->pie;
}

/* The package manager a file is: its content markers, or for an ELF program the libraries
 * apt and rpm are built on. A library linking librpm (libsolvext does) or carrying rpm's
 * strings is no package manager: only programs are. */
static const char *package_manager_of(const struct file_class *fc)
{
        if (!fc->is_elf)
                return fc->scan.package_manager;
        if (!elf_is_program(&fc->elf))
                return NULL;
        if (fc->scan.package_manager)
                return fc->scan.package_manager;
        for (size_t i = 0; i < fc->elf.n_needed; i++) {
                if (startswith(fc->elf.needed[i], "libapt-pkg.so") ||
                    startswith(fc->elf.needed[i], "libapt-private.so"))
                        return "apt";
                if (startswith(fc->elf.needed[i], "librpm.so"))
                        return "rpm";
        }
        return NULL;
}

/* The one classifier: fc's content (scan, ELF headers) and self's path and mode decide. */
/* The kernel could run or load it: an exec bit, a parsed ELF file (as before: a library is
 * loadable too), or a header binfmt_elf would accept even though cairn cannot parse it. */
static bool file_runnable(const struct file_class *fc, const struct tree_entry *self)
{
        return (self->mode & 0111) || fc->is_elf || fc->probe.kernel_loadable;
}

static struct file_verdict file_verdict(const struct file_class *fc, const struct tree_entry *self)
{
        bool executable = file_runnable(fc, self);
        struct file_verdict v = {
                .named_like_shell = is_shell_name(self->path),
                .package_manager = package_manager_of(fc),
        };
        if (content_is_busybox(&fc->scan))
                v.kind = FILE_BUSYBOX;
        else if (content_toolbox(&fc->scan)) {
                v.kind = FILE_TOOLBOX;
                v.what = content_toolbox(&fc->scan);
        } else if (fc->elf_magic && fc->scan.shell) {
                /* ELF magic, parsed or not: a bash whose header was broken is still bash. */
                v.kind = FILE_SHELL;
                v.what = fc->scan.shell;
        } else if (executable && v.named_like_shell)
                v.kind = FILE_SHELL_BY_NAME;
        else if (v.package_manager) {
                v.kind = FILE_PACKAGE_MANAGER;
                v.what = v.package_manager;
        }
        return v;
}

/* Why a script or symlink may not lead to a file of verdict v ("BusyBox", "a shell"), or
 * NULL when it may. */
static const char *verdict_forbidden(const struct file_verdict *v)
{
        switch (v->kind) {
        case FILE_BUSYBOX:
                return "BusyBox";
        case FILE_TOOLBOX:
                return v->what;
        case FILE_SHELL:
                return "a shell";
        case FILE_SHELL_BY_NAME:
                return "a shell (by name)";
        case FILE_PACKAGE_MANAGER:
                return "a package manager";
        case FILE_ORDINARY:
                break;
        }
        return NULL;
}

/*
 * Classifies the file at idx once. What the content scan sees never depends on the headers:
 * every file the kernel could execute or load (ELF magic, #!, any exec bit) is scanned,
 * whether or not its ELF headers parse; the parse only adds what the ELF rules need.
 */
static int classify(struct checker *c, size_t idx, struct cairn_error *err)
{
        struct file_class *fc = &c->classes[idx];
        if (fc->classified)
                return 0;
        fc->classified = true;
        const struct tree_entry *self = tree_at(c->t, idx);
        const struct tree_entry *e = content_entry(c, self);
        if (!e) {
                /* No content (a hardlink to nothing): only its name and mode can count. */
                fc->verdict = file_verdict(fc, self);
                return 0;
        }
        _cleanup_close_ int fd = store_open_key(c->s, &e->key);
        if (fd < 0)
                return cairn_error_errno(err, fd, "%s: cannot open its content: %s", e->path,
                                         strerror(-fd));
        uint8_t head[SHEBANG_MAX];
        ssize_t n = pread(fd, head, sizeof(head), 0);
        if (n < 0)
                return cairn_error_errno(err, -errno, "%s: %m", e->path);
        bool exec_bit = self->mode & 0111;

        elf_probe(head, (size_t)n, &fc->probe);
        fc->elf_magic = fc->probe.magic;
        fc->shebang = n >= 2 && head[0] == '#' && head[1] == '!';
        if (fc->elf_magic) {
                _cleanup_cairn_error_ struct cairn_error perr = CAIRN_ERROR_INIT;
                int r = elf_read_fd(fd, &fc->elf, &perr);
                if (r == -ENOMEM)
                        return r;
                fc->is_elf = r >= 0;
                if (!fc->is_elf) {
                        fc->elf_error = strdup(perr.n_messages ? perr.messages[0]
                                                               : "the headers do not parse");
                        if (!fc->elf_error)
                                return -ENOMEM;
                } else if (fc->elf.ident_odd) {
                        fc->elf_odd = elf_ident_odd_describe(head, (size_t)n, &fc->probe);
                        if (!fc->elf_odd)
                                return -ENOMEM;
                }
        } else if (fc->shebang && exec_bit) {
                int r = shebang_parse(head, (size_t)n, fc);
                if (r < 0)
                        return r;
        }
        if (fc->elf_magic || fc->shebang || exec_bit) {
                char sha1[DIGEST_HEX_MAX], sha256[DIGEST_HEX_MAX];
                bool hashed = !c->o->scan_limit && c->o->scan_cache &&
                              store_object_digests(c->s, &e->key, sha1, sha256) >= 0;
                int r = c->o->scan_limit
                                ? content_scan_fd_limit(fd, c->o->scan_limit, &fc->scan)
                                : content_scan_fd_cached(fd, c->o->scan_cache,
                                                         hashed ? sha256 : NULL, &fc->scan);
                if (r < 0)
                        return cairn_error_errno(err, r, "%s: %s", e->path, strerror(-r));
                fc->scanned = true;
        }
        fc->verdict = file_verdict(fc, self);
        return 0;
}

/* The class of what path resolves to inside the image, or NULL (missing, not a file). */
static int class_of_path(struct checker *c, const char *path, char **ret_resolved,
                         struct file_class **ret, struct cairn_error *err)
{
        _cleanup_free_ char *resolved = NULL;
        const struct tree_entry *e = NULL;
        int r = tree_resolve(c->t, path, 0, &resolved, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !e) {
                *ret = NULL;
                return 0;
        }
        size_t idx;
        if (tree_index(c->t, resolved, &idx) < 0 || !content_entry(c, e)) {
                *ret = NULL;
                return 0;
        }
        r = classify(c, idx, err);
        if (r < 0)
                return r;
        *ret = &c->classes[idx];
        if (ret_resolved)
                *ret_resolved = steal_pointer(&resolved);
        return 0;
}

static bool is_allowed(const struct checker *c, const struct tree_entry *e)
{
        if (e->flags & TREE_ENTRY_NAMED)
                return true;
        for (size_t i = 0; i < c->n_named; i++)
                if (streq(c->named[i], e->path))
                        return true;
        for (size_t i = 0; i < c->o->n_allow; i++)
                if (fnmatch(c->o->allow[i], e->path, 0) == 0)
                        return true;
        return false;
}

static int named_add(struct checker *c, const char *path)
{
        if (GROW(c->named, c->cap_named, c->n_named + 1) < 0)
                return -ENOMEM;
        c->named[c->n_named] = strdup(path);
        if (!c->named[c->n_named])
                return -ENOMEM;
        c->n_named++;
        return 0;
}

/* Named paths count as themselves and as what they resolve to (an entrypoint symlink names
 * its target). */
static int named_setup(struct checker *c)
{
        for (size_t i = 0; i < c->o->n_named + tree_count(c->t); i++) {
                const char *p;
                if (i < c->o->n_named)
                        p = c->o->named[i];
                else if (tree_at(c->t, i - c->o->n_named)->flags & TREE_ENTRY_NAMED)
                        p = tree_at(c->t, i - c->o->n_named)->path;
                else
                        continue;
                int r = named_add(c, p);
                if (r < 0)
                        return r;
                _cleanup_free_ char *resolved = NULL;
                r = tree_resolve(c->t, p, 0, &resolved, NULL);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0) {
                        r = named_add(c, resolved);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* A relative symlink target that climbs above "/" from the link's directory. */
static bool symlink_escapes(const char *path, const char *target)
{
        if (target[0] == '/')
                return false;
        long depth = 0;
        for (const char *p = path; *p; p++)
                if (*p == '/')
                        depth++;
        depth--; /* components of the link's directory */
        for (const char *p = target; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        if (--depth < 0)
                                return true;
                } else if (n > 0 && !(n == 1 && p[0] == '.'))
                        depth++;
                p += n + (p[n] == '/');
        }
        return false;
}

static int check_elf(struct checker *c, const struct tree_entry *e, struct file_class *fc)
{
        const struct elf_info *elf = &fc->elf;
        int r = 0;
        if (c->o->arch) {
                int m = elf_matches_arch(elf, c->o->arch);
                if (m == 0) {
                        const char *a =
                                elf_debian_arch(elf->machine, elf->elf_class, elf->big_endian);
                        r = finding_add(c, "CAIRN-ARCH", e->path,
                                        "e_machine %u, %u-bit %s (%s); the image is %s",
                                        elf->machine, elf->elf_class,
                                        elf->big_endian ? "big-endian" : "little-endian",
                                        a ? a : "unknown", c->o->arch);
                        if (r < 0)
                                return r;
                }
        }
        /* A program (not a plain shared library) that needs the dynamic loader; allowed only in
         * the load closure of a program the recipe names (programs:, docs/enforcer.md). */
        if (elf->link == ELF_LINK_DYNAMIC && elf_is_program(elf) &&
            !(e->flags & TREE_ENTRY_LOADED)) {
                r = finding_add(c, "CAIRN-DYNAMIC", e->path, "PT_INTERP %s, %zu DT_NEEDED%s%s",
                                elf->interp ? elf->interp : "(none)", elf->n_needed,
                                elf->n_needed ? ", first " : "",
                                elf->n_needed ? elf->needed[0] : "");
                if (r < 0)
                        return r;
        }
        if (elf->interp) {
                _cleanup_free_ char *resolved = NULL;
                const struct tree_entry *x = NULL;
                r = tree_resolve(c->t, elf->interp, 0, &resolved, &x);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || !x || !content_entry(c, x)) {
                        r = finding_add(c, "CAIRN-INTERP-MISSING", e->path,
                                        "PT_INTERP %s is not a file in the image", elf->interp);
                        if (r < 0)
                                return r;
                }
        }
        if (elf->n_needed > 0) {
                _cleanup_free_ char *missing = NULL;
                size_t size = 0, n_missing = 0;
                FILE *f = open_memstream(&missing, &size);
                if (!f)
                        return -ENOMEM;
                int found = 0;
                for (size_t i = 0; found >= 0 && i < elf->n_needed; i++) {
                        found = ld_search_find(c->libs, e->path, elf, elf->needed[i]);
                        if (found == 0)
                                fprintf(f, "%s%s", n_missing++ ? ", " : "", elf->needed[i]);
                }
                if (fclose(f) != 0 || found < 0)
                        return -ENOMEM;
                if (n_missing > 0)
                        r = finding_add(c, "CAIRN-NEEDED-MISSING", e->path, "not found: %s%s%s",
                                        missing, elf->runpath ? "; RUNPATH " : "",
                                        elf->runpath ? elf->runpath : "");
        }
        return r;
}

static int check_script(struct checker *c, const struct tree_entry *e, struct file_class *fc,
                        struct cairn_error *err)
{
        if (fc->interp[0] != '/')
                return finding_add(c, "CAIRN-SCRIPT-INTERP", e->path,
                                   "#!%s is not an absolute path", fc->interp);
        struct file_class *ic = NULL;
        _cleanup_free_ char *resolved = NULL;
        int r = class_of_path(c, fc->interp, &resolved, &ic, err);
        if (r < 0)
                return r;
        if (!ic)
                return finding_add(c, "CAIRN-SCRIPT-INTERP", e->path,
                                   "#!%s is not a file in the image", fc->interp);
        const char *forbidden = verdict_forbidden(&ic->verdict);
        if (forbidden || is_shell_name(fc->interp))
                return finding_add(c, "CAIRN-SCRIPT-FORBIDDEN", e->path, "#!%s is %s", fc->interp,
                                   forbidden ? forbidden : "a shell (by name)");

        /* #!/usr/bin/env PROG: PROG is looked up in the default PATH. */
        const char *b = strrchr(resolved, '/');
        if (b && streq(b + 1, "env") && fc->interp_arg && fc->interp_arg[0] != '-') {
                size_t n = strcspn(fc->interp_arg, " \t");
                _cleanup_free_ char *prog = strndup(fc->interp_arg, n);
                if (!prog)
                        return -ENOMEM;
                static const char *const path_dirs[] = { "/usr/local/sbin", "/usr/local/bin",
                                                         "/usr/sbin",       "/usr/bin",
                                                         "/sbin",           "/bin" };
                struct file_class *pc = NULL;
                for (size_t i = 0; i < ELEMENTSOF(path_dirs) && !pc && !strchr(prog, '/'); i++) {
                        _cleanup_free_ char *p = NULL;
                        if (asprintf(&p, "%s/%s", path_dirs[i], prog) < 0)
                                return -ENOMEM;
                        r = class_of_path(c, p, NULL, &pc, err);
                        if (r < 0)
                                return r;
                }
                if (!pc)
                        return finding_add(c, "CAIRN-SCRIPT-INTERP", e->path,
                                           "#!%s %s: %s is not in the image's PATH", fc->interp,
                                           fc->interp_arg, prog);
                forbidden = verdict_forbidden(&pc->verdict);
                if (forbidden || is_shell_name(prog))
                        return finding_add(c, "CAIRN-SCRIPT-FORBIDDEN", e->path, "#!%s %s runs %s",
                                           fc->interp, fc->interp_arg,
                                           forbidden ? forbidden : "a shell (by name)");
        }
        return 0;
}

/* The finding of what the file is (BusyBox, a toolbox, a shell), and of the package manager
 * it is, even when it is also one of the others. */
static int check_verdict(struct checker *c, const struct tree_entry *e, const struct file_class *fc)
{
        const struct file_verdict *v = &fc->verdict;
        _cleanup_free_ char *ev = NULL;
        int r = 0;
        if (v->kind == FILE_BUSYBOX || v->kind == FILE_TOOLBOX) {
                ev = content_evidence(&fc->scan);
                if (!ev)
                        return -ENOMEM;
        }
        switch (v->kind) {
        case FILE_BUSYBOX:
                r = finding_add(c, "CAIRN-BUSYBOX", e->path, "%s", ev);
                break;
        case FILE_TOOLBOX:
                r = finding_add(c, "CAIRN-MULTICALL", e->path, "%s: %s", v->what, ev);
                break;
        case FILE_SHELL:
                r = finding_add(c, "CAIRN-SHELL", e->path, "content marker of %s%s", v->what,
                                v->named_like_shell ? ", and its name" : "");
                break;
        case FILE_SHELL_BY_NAME:
                r = finding_add(c, "CAIRN-SHELL", e->path, "executable named like a shell");
                break;
        case FILE_PACKAGE_MANAGER:
        case FILE_ORDINARY:
                break;
        }
        if (r >= 0 && v->package_manager)
                r = finding_add(c, "CAIRN-PKG-MANAGER", e->path, "%s", v->package_manager);
        return r;
}

/* CAIRN-PACKED and CAIRN-SCAN-INCOMPLETE: what hides content from every other rule. Named and
 * allowed files get them too: being named allows a file to exist, it never waives a content
 * rule. */
static int check_content_limits(struct checker *c, const struct tree_entry *e,
                                const struct file_class *fc)
{
        int r = 0;
        bool opaque = fc->elf_magic && content_is_opaque(&fc->scan);
        if (content_is_packed(&fc->scan) || opaque) {
                _cleanup_free_ char *ev = content_evidence(&fc->scan), *entropy = NULL;
                if (!ev)
                        return -ENOMEM;
                if (opaque && asprintf(&entropy,
                                       "%s%u%% of its %" PRIu64 " measured bytes above %.1f bits "
                                       "per byte (compressed or encrypted)",
                                       *ev ? ", " : "", content_high_entropy_percent(&fc->scan),
                                       fc->scan.entropy_bytes, CONTENT_HIGH_ENTROPY) < 0) {
                        entropy = NULL;
                        return -ENOMEM;
                }
                r = finding_add(c, "CAIRN-PACKED", e->path, "%s%s", ev, entropy ? entropy : "");
                if (r < 0)
                        return r;
        }
        if (fc->scanned && fc->scan.truncated)
                r = finding_add(c, "CAIRN-SCAN-INCOMPLETE", e->path,
                                "scanned %" PRIu64 " bytes of data, the limit is %" PRIu64
                                " bytes; the rest of its %" PRIu64 " bytes was not read",
                                fc->scan.scanned,
                                c->o->scan_limit ? c->o->scan_limit : CONTENT_SCAN_MAX, e->size);
        return r;
}

#define LOADER_ASSET_MIN     ((uint64_t)1 << 20) /* bytes: a "large" asset */
#define LOADER_ASSET_SAMPLES 64                  /* 4 KiB blocks sampled per asset */

/* An asset the program at prog could decode into code: a large non-executable regular file
 * without ELF magic or #!, mostly high-entropy. */
static int check_asset(struct checker *c, const struct tree_entry *prog, size_t idx,
                       struct cairn_error *err)
{
        const struct tree_entry *a = tree_at(c->t, idx);
        struct file_class *ac = &c->classes[idx];
        if (a->type != TREE_REG || (a->mode & 0111) || a->size < LOADER_ASSET_MIN ||
            ac->asset_checked)
                return 0;
        ac->asset_checked = true;
        int r = classify(c, idx, err);
        if (r < 0)
                return r;
        if (ac->elf_magic || ac->shebang || ac->probe.kernel_loadable)
                return 0; /* scanned and judged as a file the kernel runs */
        _cleanup_close_ int fd = store_open_key(c->s, &a->key);
        if (fd < 0)
                return cairn_error_errno(err, fd, "%s: cannot open its content: %s", a->path,
                                         strerror(-fd));
        struct content_scan sample;
        r = content_entropy_sample_fd(fd, a->size, LOADER_ASSET_SAMPLES, &sample);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: %s", a->path, strerror(-r));
        if (!content_is_opaque(&sample))
                return 0;
        return finding_add(c, "CAIRN-LOADER", a->path,
                           "%" PRIu64 " bytes, %u%% of %" PRIu64
                           " sampled bytes above %.1f bits per byte, beside the allowed "
                           "program %s: an opaque asset a loader could decode into code",
                           a->size, content_high_entropy_percent(&sample), sample.entropy_bytes,
                           CONTENT_HIGH_ENTROPY, prog->path);
}

/* CAIRN-LOADER: the cheap cases of a named loader that runs code no scan saw. */
static int check_loader(struct checker *c, const struct tree_entry *e, const struct file_class *fc,
                        struct cairn_error *err)
{
        int r = 0;
        if (fc->elf_magic && content_memfd_exec(&fc->scan)) {
                r = finding_add(c, "CAIRN-LOADER", e->path,
                                "symbols memfd_create and %s: it can execute a program that "
                                "exists only in memory",
                                (fc->scan.markers & CONTENT_FEXECVE) ? "fexecve" : "execveat");
                if (r < 0)
                        return r;
        }
        /* Its directory and below (only the directory itself when it is /). */
        const char *slash = strrchr(e->path, '/');
        size_t dlen = slash ? (size_t)(slash - e->path) : 0;
        size_t start;
        _cleanup_free_ char *dir = strndup(e->path, dlen);
        if (!dir)
                return -ENOMEM;
        if (dlen == 0)
                start = 0;
        else if (tree_index(c->t, dir, &start) < 0)
                return 0;
        for (size_t i = start; r >= 0 && i < tree_count(c->t); i++) {
                const char *p = tree_at(c->t, i)->path;
                /* strcmp order keeps every path starting with "DIR" together after DIR. */
                if (dlen > 0 && strncmp(p, dir, dlen) != 0)
                        break;
                if (p[dlen] != '/' || (dlen == 0 && strchr(p + 1, '/')))
                        continue;
                r = check_asset(c, e, i, err);
        }
        return r;
}

static size_t loader_rule(const struct checker *c)
{
        return (size_t)(policy_rule_find("CAIRN-LOADER") - c->rules);
}

static int check_file(struct checker *c, size_t idx, struct cairn_error *err)
{
        const struct tree_entry *e = tree_at(c->t, idx);
        struct file_class *fc = &c->classes[idx];
        int r = classify(c, idx, err);
        if (r < 0)
                return r;
        if (e->mode & 06000) {
                r = finding_add(c, "CAIRN-SETUID", e->path, "mode %04o", e->mode);
                if (r < 0)
                        return r;
        }
        if (e->mode & 0002) {
                r = finding_add(c, "CAIRN-WORLD-WRITABLE", e->path, "mode %04o", e->mode);
                if (r < 0)
                        return r;
        }
        bool executable = file_runnable(fc, e);
        bool allowed = is_allowed(c, e);
        /* Run or loaded by the kernel: an exec bit or a header binfmt_elf accepts. */
        bool kernel_runs = (e->mode & 0111) || fc->probe.kernel_loadable;

        r = check_verdict(c, e, fc);
        if (r < 0)
                return r;
        r = check_content_limits(c, e, fc);
        if (r < 0)
                return r;
        if (fc->is_elf) {
                r = check_elf(c, e, fc);
                if (r < 0)
                        return r;
        }
        if (fc->elf_magic && (fc->elf_error || fc->elf_odd)) {
                /* The kernel would run or load it: cairn must be able to read it as the kernel
                 * does. A data file that merely starts with the magic is only a warning. */
                r = finding_add_sev(c, "CAIRN-ELF-MALFORMED", !kernel_runs, e->path, "%s%s%s",
                                    fc->elf_error ? fc->elf_error : fc->elf_odd,
                                    kernel_runs ? "" : "; not executable and not loadable",
                                    !kernel_runs || (e->mode & 0111)
                                            ? ""
                                            : "; binfmt_elf would load it (ET_EXEC/ET_DYN for a "
                                              "known e_machine)");
                if (r < 0)
                        return r;
        }
        if (fc->script) {
                r = check_script(c, e, fc, err);
                if (r < 0)
                        return r;
        }
        if (executable && !allowed) {
                r = finding_add(c, "CAIRN-EXEC-UNLISTED", e->path, "%s, mode %04o",
                                fc->is_elf      ? elf_link_name(fc->elf.link)
                                : fc->elf_magic ? "ELF file the kernel would load"
                                : fc->script    ? "script"
                                                : "executable file",
                                e->mode);
                if (r < 0)
                        return r;
        }
        if (executable && allowed && (e->mode & 0111) && c->enabled[loader_rule(c)]) {
                r = check_loader(c, e, fc, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_symlink(struct checker *c, const struct tree_entry *e, struct cairn_error *err)
{
        const char *target = e->target ? e->target : "";
        if (symlink_escapes(e->path, target))
                return finding_add(c, "CAIRN-SYMLINK-ESCAPE", e->path, "-> %s", target);
        _cleanup_free_ char *resolved = NULL;
        const struct tree_entry *x = NULL;
        int r = tree_resolve(c->t, e->path, 0, &resolved, &x);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !x)
                return finding_add(c, "CAIRN-SYMLINK-DANGLING", e->path, "-> %s: %s", target,
                                   r == -ELOOP ? "symlink loop" : "nothing there");
        struct file_class *fc = NULL;
        r = class_of_path(c, e->path, NULL, &fc, err);
        if (r < 0)
                return r;
        const char *forbidden = fc ? verdict_forbidden(&fc->verdict) : NULL;
        if (forbidden)
                return finding_add(c, "CAIRN-SYMLINK-FORBIDDEN", e->path, "-> %s, which is %s",
                                   resolved, forbidden);
        if (fc && is_shell_name(e->path) && ((x->mode & 0111) || fc->is_elf))
                return finding_add(c, "CAIRN-SHELL", e->path, "symlink named like a shell -> %s",
                                   resolved);
        return 0;
}

static int check_entry(struct checker *c, size_t idx, struct cairn_error *err)
{
        const struct tree_entry *e = tree_at(c->t, idx);
        switch (e->type) {
        case TREE_REG:
        case TREE_HARDLINK:
                return check_file(c, idx, err);
        case TREE_DIR:
                if ((e->mode & 0002) && !(e->mode & 01000))
                        return finding_add(c, "CAIRN-WORLD-WRITABLE", e->path,
                                           "directory mode %04o without the sticky bit", e->mode);
                return 0;
        case TREE_SYMLINK:
                return check_symlink(c, e, err);
        case TREE_CHR:
        case TREE_BLK:
                return finding_add(c, "CAIRN-DEVICE", e->path, "%s device %u:%u",
                                   e->type == TREE_CHR ? "character" : "block", e->dev_major,
                                   e->dev_minor);
        case TREE_FIFO:
        case TREE_SOCK:
                return finding_add(c, "CAIRN-SPECIAL-FILE", e->path, "%s", tree_type_name(e->type));
        }
        return 0;
}

static int finding_cmp(const void *a, const void *b)
{
        const struct policy_finding *x = a, *y = b;
        if (x->rule != y->rule)
                return x->rule < y->rule ? -1 : 1;
        int r = strcmp(x->path, y->path);
        return r ? r : strcmp(x->evidence, y->evidence);
}

static void checker_done(struct checker *c)
{
        for (size_t i = 0; c->classes && i < tree_count(c->t); i++) {
                elf_info_clear(&c->classes[i].elf);
                free(c->classes[i].elf_error);
                free(c->classes[i].elf_odd);
                free(c->classes[i].interp);
                free(c->classes[i].interp_arg);
        }
        free(c->classes);
        for (size_t i = 0; i < c->n_named; i++)
                free(c->named[i]);
        free(c->named);
        ld_search_free(c->libs);
        policy_report_free(c->report);
}

int policy_check(const struct tree *t, const struct store *s, const struct policy_options *o,
                 struct policy_report **ret, struct cairn_error *err)
{
        _cleanup_(checker_done) struct checker c = { .t = t, .s = s, .o = o };
        c.rules = policy_rules(&c.n_rules);
        assert(c.n_rules <= ELEMENTSOF(c.enabled));
        for (size_t i = 0; i < c.n_rules; i++)
                c.enabled[i] = c.rules[i].profiles & o->profile;
        for (size_t i = 0; i < o->n_disabled; i++) {
                const struct policy_rule *rule = policy_rule_find(o->disabled[i]);
                if (!rule)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                               "policy: unknown rule id '%s' in disable-rules "
                                               "(see 'cairn enforce --list-rules')",
                                               o->disabled[i]);
                c.enabled[rule - c.rules] = false;
        }
        if (o->n_allow > POLICY_MAX_GLOBS)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -E2BIG,
                                       "policy: more than %d allow-executables globs",
                                       POLICY_MAX_GLOBS);
        c.report = calloc(1, sizeof(*c.report));
        c.classes = calloc(tree_count(t) + 1, sizeof(*c.classes));
        if (!c.report || !c.classes)
                return cairn_error_errno(err, -ENOMEM, "policy: %s", strerror(ENOMEM));
        c.report->profile = o->profile;
        /* What a tar of the tree holds: the root "/" is checked but not counted, so the count
         * is the build summary's. */
        c.report->n_entries = tree_count(t) - (tree_lookup(t, "/") ? 1 : 0);

        int r = named_setup(&c);
        if (r >= 0)
                r = ld_search_new(t, s, &c.libs);
        for (size_t i = 0; r >= 0 && i < tree_count(t); i++)
                r = check_entry(&c, i, err);
        if (r == -E2BIG && !cairn_error_isset(err))
                return cairn_error_add(err, CAIRN_EXIT_POLICY, r,
                                       "policy: more than %d findings; fix the first ones",
                                       POLICY_MAX_FINDINGS);
        /* A bare errno (allocation failure) still needs a message: an error without one
         * would read as success to the command layer. */
        if (r < 0 && !cairn_error_isset(err))
                return cairn_error_errno(err, r, "policy: %s", strerror(-r));
        if (r < 0)
                return r;
        if (c.report->n_findings > 0)
                qsort(c.report->findings, c.report->n_findings, sizeof(*c.report->findings),
                      finding_cmp);
        *ret = steal_pointer(&c.report);
        return 0;
}

/* ---- the run-time execute list ---- */

struct exec_list {
        char **v; /* owned */
        size_t n, cap;
        size_t n_sorted; /* v[0..n_sorted) is in byte order (the tree's), the rest is not */
};

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void exec_list_clear(struct exec_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
}

static int exec_list_add(struct exec_list *l, const char *path)
{
        if (l->n_sorted && bsearch(&path, l->v, l->n_sorted, sizeof(*l->v), cmp_str))
                return 0;
        for (size_t i = l->n_sorted; i < l->n; i++)
                if (streq(l->v[i], path))
                        return 0;
        if (GROW(l->v, l->cap, l->n + 2) < 0)
                return -ENOMEM;
        l->v[l->n] = strdup(path);
        if (!l->v[l->n])
                return -ENOMEM;
        l->n++;
        l->v[l->n] = NULL;
        return 1;
}

/* Adds what path resolves to inside the image when that is a file with content. */
static int exec_list_add_resolved(struct checker *c, struct exec_list *l, const char *path)
{
        _cleanup_free_ char *resolved = NULL;
        const struct tree_entry *x = NULL;
        int r = tree_resolve(c->t, path, 0, &resolved, &x);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !x || !content_entry(c, x))
                return 0;
        return exec_list_add(l, resolved);
}

/* The interpreters the kernel executes to run the file at path: added to l. */
static int exec_interpreters(struct checker *c, struct exec_list *l, const char *path,
                             struct cairn_error *err)
{
        const struct tree_entry *e = tree_lookup(c->t, path);
        const struct tree_entry *content = e ? content_entry(c, e) : NULL;
        if (!content)
                return 0;
        _cleanup_close_ int fd = store_open_key(c->s, &content->key);
        if (fd < 0)
                return cairn_error_errno(err, fd, "%s: cannot open its content: %s", path,
                                         strerror(-fd));
        uint8_t head[SHEBANG_MAX];
        ssize_t n = pread(fd, head, sizeof(head), 0);
        if (n < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        if (elf_has_magic(head, (size_t)n)) {
                _cleanup_cairn_error_ struct cairn_error ignore = CAIRN_ERROR_INIT;
                struct elf_info elf = { 0 };
                int r = elf_read_fd(fd, &elf, &ignore);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0 && elf.interp)
                        r = exec_list_add_resolved(c, l, elf.interp);
                elf_info_clear(&elf);
                return r < 0 ? r : 0;
        }
        if (n < 2 || head[0] != '#' || head[1] != '!')
                return 0;
        struct file_class fc = { 0 };
        int r = shebang_parse(head, (size_t)n, &fc);
        if (r >= 0 && fc.interp[0] == '/')
                r = exec_list_add_resolved(c, l, fc.interp);
        /* #!/usr/bin/env PROG: env execs PROG from the default PATH. */
        const char *b = fc.interp ? strrchr(fc.interp, '/') : NULL;
        if (r >= 0 && b && streq(b + 1, "env") && fc.interp_arg && fc.interp_arg[0] != '-') {
                static const char *const path_dirs[] = { "/usr/local/sbin", "/usr/local/bin",
                                                         "/usr/sbin",       "/usr/bin",
                                                         "/sbin",           "/bin" };
                size_t k = strcspn(fc.interp_arg, " \t");
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(path_dirs); i++) {
                        _cleanup_free_ char *p = NULL;
                        if (asprintf(&p, "%s/%.*s", path_dirs[i], (int)k, fc.interp_arg) < 0)
                                r = -ENOMEM;
                        else if (!memchr(fc.interp_arg, '/', k))
                                r = exec_list_add_resolved(c, l, p);
                }
        }
        free(fc.interp);
        free(fc.interp_arg);
        return r < 0 ? r : 0;
}

int policy_executables(const struct tree *t, const struct store *s, const struct policy_options *o,
                       char ***ret, struct cairn_error *err)
{
        _cleanup_(checker_done) struct checker c = { .t = t, .s = s, .o = o };
        struct exec_list l = { 0 };
        int r = named_setup(&c);
        for (size_t i = 0; r >= 0 && i < tree_count(t); i++) {
                const struct tree_entry *e = tree_at(t, i);
                if ((e->type != TREE_REG && e->type != TREE_HARDLINK) || !(e->mode & 0111))
                        continue;
                if (o->profile == POLICY_STRICT && !is_allowed(&c, e))
                        continue;
                r = exec_list_add(&l, e->path);
                l.n_sorted = l.n; /* tree order is byte order: still sorted */
        }
        /* The interpreters of everything listed, and theirs (l grows while it is walked). */
        for (size_t i = 0; r >= 0 && i < l.n; i++)
                r = exec_interpreters(&c, &l, l.v[i], err);
        if (r < 0) {
                exec_list_clear(&l);
                return r == -ENOMEM && !cairn_error_isset(err)
                               ? cairn_error_errno(err, r, "policy: %s", strerror(-r))
                               : r;
        }
        if (l.n > 1)
                qsort(l.v, l.n, sizeof(*l.v), cmp_str);
        if (!l.v && !(l.v = calloc(1, sizeof(*l.v))))
                return -ENOMEM;
        *ret = l.v;
        return 0;
}
