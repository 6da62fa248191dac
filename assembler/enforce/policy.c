/* SPDX-License-Identifier: Apache-2.0 */
/* The rule table and the three report formats; the checks live in policy_check.c. */
#include "policy.h"
#include "base/json.h"

#include "version.h"

#define S POLICY_STRICT
#define D POLICY_DEV

/* The order here is the order of every report. Ids never change once published. */
static const struct policy_rule rules[] = {
        { "CAIRN-BUSYBOX", POLICY_ERROR, S | D, "BusyBox multi-call binary",
          "BusyBox carries a shell and ~300 tools in one file and no profile allows it; remove "
          "it and pick the static tools you need as utilities",
          "content of every file the kernel could run or load: the banner, the multi-call help "
          "text, \"Usage: busybox\", \"busybox --list\", the sorted applet-name table" },
        { "CAIRN-MULTICALL", POLICY_ERROR, S, "multi-call toolbox (toybox, uutils)",
          "a multi-call toolbox is a shell-equivalent toolkit; remove it from the image",
          "content: toybox's usage and multicall strings, uutils' multi-call text and sources" },
        { "CAIRN-SHELL", POLICY_ERROR, S, "shell",
          "a shell lets an attacker run anything; prod images run the entrypoint directly, "
          "remove the shell or limit it to the dev variant (variants: [dev] on its recipe item)",
          "content markers of bash, dash, mksh, lksh, pdksh, ksh93, zsh, sash, yash, posh, "
          "fish, tcsh in a file with the ELF magic; or an executable (or a symlink to one) "
          "named like a shell" },
        { "CAIRN-PKG-MANAGER", POLICY_ERROR, S, "package manager",
          "a package manager installs software at run time; list what the image needs in the "
          "recipe and leave the manager out",
          "content markers of dpkg, apk, rpm, pip; a program linking libapt-pkg or librpm" },
        { "CAIRN-PACKED", POLICY_ERROR, S, "packed or opaque executable",
          "a packed executable hides its content from every other rule; ship it unpacked (being "
          "named or allowed does not waive this)",
          "UPX's magic (first 4 KiB), info string, stub id or pack header (last 4 KiB); or a file "
          "with the ELF magic whose bytes are mostly compressed or encrypted (70% of its 4 KiB "
          "blocks above 7.5 bits per byte), whatever its path" },
        { "CAIRN-SCAN-INCOMPLETE", POLICY_ERROR, S | D, "content scan incomplete",
          "cairn did not read all of the file, so no verdict on it is complete; shrink the file "
          "or split data from code",
          "a file the kernel could run or load with more data than the scan limit (holes and "
          "zeros are not counted)",
          D },
        { "CAIRN-LOADER", POLICY_WARNING, S, "named program that may run hidden code",
          "a static scan cannot see code a program decodes at run time; keep cairn-init's "
          "run-time restrictions on, and check that the program needs this",
          "a named or allowed program with the symbols memfd_create and fexecve or execveat; or "
          "a large (1 MiB or more) mostly high-entropy file without exec bit in its directory" },
        { "CAIRN-DYNAMIC", POLICY_ERROR, S, "dynamically linked executable",
          "the strict profile is static-only; use a statically linked build (e.g. the "
          "package's -static variant)",
          "program headers: PT_INTERP, or DT_NEEDED read through DT_STRTAB mapped via PT_LOAD" },
        { "CAIRN-NEEDED-MISSING", POLICY_ERROR, S, "unresolvable DT_NEEDED",
          "a library the program needs is not in the image; add the library or link "
          "statically",
          "DT_NEEDED searched like ld.so: RPATH/RUNPATH, $ORIGIN, ld.so.conf, default dirs" },
        { "CAIRN-INTERP-MISSING", POLICY_ERROR, S | D, "missing ELF interpreter",
          "the PT_INTERP loader is not in the image, so the program cannot start; add the "
          "loader or link statically",
          "PT_INTERP resolved inside the image root" },
        /* A warning in dev: whole Debian packages ship scripts whose interpreter (/bin/sh,
         * made by a maintainer script) is missing, and dev images are for debugging. */
        { "CAIRN-SCRIPT-INTERP", POLICY_ERROR, S | D, "missing script interpreter",
          "the #! interpreter is not in the image, so the script cannot run; add it or "
          "remove the script",
          "the #! line (256 bytes, as the kernel reads it) of an executable file; env's PATH", D },
        { "CAIRN-SCRIPT-FORBIDDEN", POLICY_ERROR, S, "script run by a forbidden interpreter",
          "the #! interpreter is a shell or toolbox that the profile forbids; rewrite the "
          "script as a program or move it to the dev variant",
          "the content verdict of the file the #! interpreter (through symlinks) resolves to" },
        { "CAIRN-ARCH", POLICY_ERROR, S, "wrong architecture",
          "the ELF file is built for another architecture than the image; pick the package "
          "or artifact for the recipe's arch",
          "e_machine and the layout the kernel reads, against the image's architecture" },
        { "CAIRN-SYMLINK-DANGLING", POLICY_ERROR, S, "dangling symlink",
          "the symlink points at nothing inside the image; remove it or add its target",
          "the link resolved inside the image root" },
        { "CAIRN-SYMLINK-ESCAPE", POLICY_ERROR, S, "symlink escapes the root",
          "a relative target climbs above /; at run time it resolves outside the image's "
          "intent, rewrite it as an absolute path inside the image",
          "the relative target's .. components" },
        { "CAIRN-SYMLINK-FORBIDDEN", POLICY_ERROR, S, "symlink to a forbidden file",
          "the symlink leads to a shell, toolbox or package manager; remove the link (and its "
          "target)",
          "the content verdict of the file at the end of the chain" },
        { "CAIRN-EXEC-UNLISTED", POLICY_ERROR, S, "executable not on the allow list",
          "every executable must be named by the recipe or match policy allow-executables; "
          "name it, allow it, or drop its exec bit",
          "exec bits, or ELF program headers the kernel would run, against the named paths and "
          "allow-executables globs" },
        { "CAIRN-SETUID", POLICY_ERROR, S | D, "setuid/setgid file",
          "setuid/setgid bits raise privileges at exec; clear them (mode without 04000/02000)",
          "the mode" },
        { "CAIRN-WORLD-WRITABLE", POLICY_ERROR, S, "world-writable path",
          "anyone may modify it; remove o+w, or set the sticky bit on directories (1777)",
          "the mode" },
        { "CAIRN-DEVICE", POLICY_ERROR, S | D, "device node",
          "device nodes belong to the runtime, not the image; remove it (the runtime creates "
          "/dev)",
          "the entry type" },
        { "CAIRN-SPECIAL-FILE", POLICY_ERROR, S, "fifo or socket",
          "fifos and sockets are created by running programs, not shipped; remove it",
          "the entry type" },
        { "CAIRN-ELF-MALFORMED", POLICY_ERROR, S, "malformed or lying ELF header",
          "the kernel would run or load this file but its header does not parse, or says "
          "something the kernel ignores; cairn cannot vouch for it: rebuild it or drop it",
          "the header as binfmt_elf reads it: magic, e_type, e_machine (which fixes class and "
          "byte order), program headers; e_ident bytes the kernel ignores that no toolchain "
          "writes. An error for an executable or kernel-loadable file, a warning for a data "
          "file that only starts with the magic" },
};

static const char scan_limits[] =
        "What a static scan cannot see: code that a program decodes, decrypts or downloads at "
        "run time (a named loader reading an opaque asset, a script fed to an allowed "
        "interpreter on stdin); markers that exist only in compressed or encrypted form "
        "(CAIRN-PACKED flags programs that are mostly such data, CAIRN-LOADER the cheap loader "
        "cases); data past the scan limit (reported as CAIRN-SCAN-INCOMPLETE); files without "
        "exec bit, ELF magic or #!, which are not scanned for markers. cairn-init's run-time "
        "restrictions (Landlock: execute only what the image named; seccomp against "
        "memory-only executables) are the defence for what the scan cannot see.";

const char *policy_scan_limits(void)
{
        return scan_limits;
}

#undef S
#undef D

const struct policy_rule *policy_rules(size_t *ret_n)
{
        *ret_n = ELEMENTSOF(rules);
        return rules;
}

enum policy_severity policy_rule_severity(const struct policy_rule *rule,
                                          enum policy_profile profile)
{
        return rule->warn_in & profile ? POLICY_WARNING : rule->severity;
}

const struct policy_rule *policy_rule_find(const char *id)
{
        for (size_t i = 0; i < ELEMENTSOF(rules); i++)
                if (streq(rules[i].id, id))
                        return &rules[i];
        return NULL;
}

int policy_profile_from_string(const char *s, enum policy_profile *ret)
{
        if (streq(s, "strict"))
                *ret = POLICY_STRICT;
        else if (streq(s, "dev"))
                *ret = POLICY_DEV;
        else
                return -EINVAL;
        return 0;
}

const char *policy_profile_name(enum policy_profile p)
{
        return p == POLICY_DEV ? "dev" : "strict";
}

int policy_format_from_string(const char *s, enum policy_format *ret)
{
        if (streq(s, "text"))
                *ret = POLICY_FORMAT_TEXT;
        else if (streq(s, "json"))
                *ret = POLICY_FORMAT_JSON;
        else if (streq(s, "sarif"))
                *ret = POLICY_FORMAT_SARIF;
        else
                return -EINVAL;
        return 0;
}

void policy_report_free(struct policy_report *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n_findings; i++) {
                free(r->findings[i].path);
                free(r->findings[i].evidence);
        }
        free(r->findings);
        free(r);
}

bool policy_report_passed(const struct policy_report *r)
{
        return r->n_errors == 0;
}

static const char *severity_name(enum policy_severity s)
{
        return s == POLICY_WARNING ? "warning" : "error";
}

int policy_report_summary(const struct policy_report *r, char **ret)
{
        char *s = NULL;
        int n;
        if (policy_report_passed(r) && r->n_warnings == 0)
                n = asprintf(&s, "pass (%s)", policy_profile_name(r->profile));
        else if (policy_report_passed(r))
                n = asprintf(&s, "pass (%s): %zu warning%s", policy_profile_name(r->profile),
                             r->n_warnings, r->n_warnings == 1 ? "" : "s");
        else
                n = asprintf(&s, "FAIL (%s): %zu error%s, %zu warning%s",
                             policy_profile_name(r->profile), r->n_errors,
                             r->n_errors == 1 ? "" : "s", r->n_warnings,
                             r->n_warnings == 1 ? "" : "s");
        if (n < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* A relative URI reference for SARIF: the path without its leading '/', percent-encoded. */
static void uri_string(FILE *f, const char *path)
{
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)path + (path[0] == '/'); *p; p++) {
                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("-._~/", *p))
                        fputc(*p, f);
                else
                        fprintf(f, "%%%02X", *p);
        }
        fputc('"', f);
}

/*
 * The recipe-level answer to the findings of one rule, starting at findings[first]: the
 * policy: tuning that accepts them (allow-executables for unlisted executables, disable-rules
 * otherwise) and the matching cairn enforce flag. BusyBox gets the replacement instead: a
 * tuning that accepts a multi-call shell is never the fix a newcomer is looking for.
 */
static void print_recipe_fix(FILE *f, const struct policy_report *r, size_t first)
{
        const struct policy_rule *rule = r->findings[first].rule;
        const char *profile = policy_profile_name(r->profile);
        if (streq(rule->id, "CAIRN-BUSYBOX")) {
                fprintf(f, "  a debug shell instead, in the recipe: utilities: [{ package: "
                           "bash-static, files: { /bin/bash-static: /bin/sh }, variants: [dev] "
                           "}]\n");
                return;
        }
        if (streq(rule->id, "CAIRN-EXEC-UNLISTED")) {
                fprintf(f, "  to allow them, in the recipe: policy: { %s: { allow-executables: [",
                        profile);
                size_t shown = 0;
                for (size_t i = first; i < r->n_findings && r->findings[i].rule == rule; i++) {
                        if (shown == 3) {
                                fputs(", ...", f);
                                break;
                        }
                        fprintf(f, "%s%s", shown ? ", " : "", r->findings[i].path);
                        shown++;
                }
                fputs("] } }\n    (cairn enforce: --allow GLOB)\n", f);
                return;
        }
        fprintf(f,
                "  to accept it, in the recipe: policy: { %s: { disable-rules: [%s] } }\n"
                "    (cairn enforce: --disable %s)\n",
                profile, rule->id, rule->id);
}

static void format_text(FILE *f, const struct policy_report *r, const char *target)
{
        _cleanup_free_ char *summary = NULL;
        (void)policy_report_summary(r, &summary);
        fprintf(f, "%s: %s, %zu entries checked\n", target, summary ? summary : "?", r->n_entries);
        const struct policy_rule *cur = NULL;
        enum policy_severity shown = POLICY_ERROR;
        for (size_t i = 0; i < r->n_findings; i++) {
                const struct policy_finding *x = &r->findings[i];
                if (x->rule != cur) {
                        cur = x->rule;
                        fprintf(f, "\n%s (%s): %s\n  %s\n", cur->id, severity_name(x->severity),
                                cur->title, cur->help);
                        if (x->severity == POLICY_ERROR)
                                print_recipe_fix(f, r, i);
                        shown = x->severity;
                }
                fprintf(f, "  - %s", x->path);
                if (x->severity != shown)
                        fprintf(f, " (%s)", severity_name(x->severity));
                if (x->evidence && *x->evidence)
                        fprintf(f, ": %s", x->evidence);
                fputc('\n', f);
        }
}

static void format_json(FILE *f, const struct policy_report *r, const char *target,
                        const char *arch)
{
        fputs("{\n  \"schema\": \"cairn-enforce/1\",\n  \"target\": ", f);
        json_write_string(f, target);
        if (arch) {
                fputs(",\n  \"arch\": ", f);
                json_write_string(f, arch);
        }
        fprintf(f,
                ",\n  \"profile\": \"%s\",\n  \"passed\": %s,\n  \"errors\": %zu,\n"
                "  \"warnings\": %zu,\n  \"entries\": %zu,\n  \"findings\": [",
                policy_profile_name(r->profile), policy_report_passed(r) ? "true" : "false",
                r->n_errors, r->n_warnings, r->n_entries);
        for (size_t i = 0; i < r->n_findings; i++) {
                const struct policy_finding *x = &r->findings[i];
                fprintf(f,
                        "%s\n    {\"rule\": \"%s\", \"severity\": \"%s\", \"path\": ", i ? "," : "",
                        x->rule->id, severity_name(x->severity));
                json_write_string(f, x->path);
                fputs(", \"message\": ", f);
                json_write_string(f, x->rule->help);
                fputs(", \"evidence\": ", f);
                json_write_string(f, x->evidence);
                fputc('}', f);
        }
        fputs(r->n_findings ? "\n  ]\n}\n" : "]\n}\n", f);
}

/* One SARIF run: the tool with every rule, r's results; with arch, the architecture in the
 * run's properties and its automation id (one category per architecture). */
static void format_sarif_run(FILE *f, const struct policy_report *r, const char *arch)
{
        size_t n_rules;
        const struct policy_rule *all = policy_rules(&n_rules);
        fputs("    {\n      \"tool\": {\n        \"driver\": {\n"
              "          \"name\": \"cairn\",\n          \"version\": \"" CAIRN_VERSION "\",\n"
              "          \"rules\": [",
              f);
        for (size_t i = 0; i < n_rules; i++) {
                fprintf(f, "%s\n            {\"id\": \"%s\", \"name\": ", i ? "," : "", all[i].id);
                json_write_string(f, all[i].title);
                fputs(", \"shortDescription\": {\"text\": ", f);
                json_write_string(f, all[i].title);
                fputs("}, \"fullDescription\": {\"text\": ", f);
                json_write_string(f, all[i].help);
                fprintf(f, "}, \"defaultConfiguration\": {\"level\": \"%s\"}}",
                        severity_name(all[i].severity));
        }
        fputs("\n          ]\n        }\n      },\n", f);
        if (arch) {
                _cleanup_free_ char *id = NULL;
                fputs("      \"automationDetails\": {\"id\": ", f);
                if (asprintf(&id, "cairn-enforce/%s/", arch) < 0)
                        id = NULL;
                json_write_string(f, id ? id : "cairn-enforce/");
                fputs("},\n      \"properties\": {\"arch\": ", f);
                json_write_string(f, arch);
                fputs("},\n", f);
        }
        fputs("      \"results\": [", f);
        for (size_t i = 0; i < r->n_findings; i++) {
                const struct policy_finding *x = &r->findings[i];
                _cleanup_free_ char *text = NULL;
                if (asprintf(&text, "%s: %s%s%s", x->path, x->rule->help,
                             x->evidence && *x->evidence ? " — " : "",
                             x->evidence ? x->evidence : "") < 0)
                        text = NULL;
                fprintf(f,
                        "%s\n        {\"ruleId\": \"%s\", \"ruleIndex\": %td, \"level\": "
                        "\"%s\", \"message\": {\"text\": ",
                        i ? "," : "", x->rule->id, x->rule - all, severity_name(x->severity));
                json_write_string(f, text ? text : x->rule->help);
                fputs("}, \"locations\": [{\"physicalLocation\": {\"artifactLocation\": {\"uri\": ",
                      f);
                uri_string(f, x->path);
                fputs("}}}]}", f);
        }
        fputs(r->n_findings ? "\n      ]\n    }" : "]\n    }", f);
}

static void format_sarif(FILE *f, const struct policy_report *const *r, const char *const *archs,
                         size_t n)
{
        fputs("{\n  \"version\": \"2.1.0\",\n"
              "  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
              "  \"runs\": [\n",
              f);
        for (size_t i = 0; i < n; i++) {
                if (i)
                        fputs(",\n", f);
                format_sarif_run(f, r[i], archs ? archs[i] : NULL);
        }
        fputs("\n  ]\n}\n", f);
}

int policy_report_format_archs(const struct policy_report *const *r, const char *const *archs,
                               size_t n, enum policy_format fmt, const char *target, char **ret)
{
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);
        if (!f)
                return -ENOMEM;
        bool passed = true;
        for (size_t i = 0; i < n; i++)
                passed &= policy_report_passed(r[i]);
        switch (fmt) {
        case POLICY_FORMAT_TEXT:
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *label = NULL;
                        const char *a = archs ? archs[i] : NULL;
                        if (a && asprintf(&label, "%s (%s)", target, a) < 0)
                                label = NULL;
                        if (i)
                                fputc('\n', f);
                        format_text(f, r[i], label ? label : target);
                }
                break;
        case POLICY_FORMAT_JSON:
                if (n == 1) {
                        format_json(f, r[0], target, archs ? archs[0] : NULL);
                        break;
                }
                fputs("{\n\"schema\": \"cairn-enforce-archs/1\",\n\"target\": ", f);
                json_write_string(f, target);
                fprintf(f, ",\n\"passed\": %s,\n\"reports\": [\n", passed ? "true" : "false");
                for (size_t i = 0; i < n; i++) {
                        if (i)
                                fputs(",\n", f);
                        format_json(f, r[i], target, archs ? archs[i] : NULL);
                }
                fputs("]\n}\n", f);
                break;
        case POLICY_FORMAT_SARIF:
                format_sarif(f, r, archs, n);
                break;
        }
        if (fclose(f) != 0) {
                free(out);
                return -ENOMEM;
        }
        *ret = out;
        return 0;
}

int policy_report_format(const struct policy_report *r, enum policy_format fmt, const char *target,
                         char **ret)
{
        return policy_report_format_archs(&r, NULL, 1, fmt, target, ret);
}
