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
          "BusyBox carries a shell and ~300 tools in one file; remove it, or pick the one "
          "static tool you need as a utility" },
        { "CAIRN-MULTICALL", POLICY_ERROR, S, "multi-call toolbox (toybox, uutils)",
          "a multi-call toolbox is a shell-equivalent toolkit; remove it from the image" },
        { "CAIRN-SHELL", POLICY_ERROR, S, "shell",
          "a shell lets an attacker run anything; prod images run the entrypoint directly, "
          "remove the shell or limit it to the dev variant" },
        { "CAIRN-PKG-MANAGER", POLICY_ERROR, S, "package manager",
          "a package manager installs software at run time; list what the image needs in the "
          "recipe and leave the manager out" },
        { "CAIRN-PACKED", POLICY_ERROR, S, "packed executable",
          "a packed (UPX) executable hides its content from inspection; ship it unpacked, or "
          "allow its path explicitly" },
        { "CAIRN-DYNAMIC", POLICY_ERROR, S, "dynamically linked executable",
          "the strict profile is static-only; use a statically linked build (e.g. the "
          "package's -static variant)" },
        { "CAIRN-NEEDED-MISSING", POLICY_ERROR, S, "unresolvable DT_NEEDED",
          "a library the program needs is not in the image; add the library or link "
          "statically" },
        { "CAIRN-INTERP-MISSING", POLICY_ERROR, S | D, "missing ELF interpreter",
          "the PT_INTERP loader is not in the image, so the program cannot start; add the "
          "loader or link statically" },
        /* A warning in dev: whole Debian packages ship scripts whose interpreter (/bin/sh,
         * made by a maintainer script) is missing, and dev images are for debugging. */
        { "CAIRN-SCRIPT-INTERP", POLICY_ERROR, S | D, "missing script interpreter",
          "the #! interpreter is not in the image, so the script cannot run; add it or "
          "remove the script",
          D },
        { "CAIRN-SCRIPT-FORBIDDEN", POLICY_ERROR, S, "script run by a forbidden interpreter",
          "the #! interpreter is a shell or toolbox that the profile forbids; rewrite the "
          "script as a program or move it to the dev variant" },
        { "CAIRN-ARCH", POLICY_ERROR, S, "wrong architecture",
          "the ELF file is built for another architecture than the image; pick the package "
          "or artifact for the recipe's arch" },
        { "CAIRN-SYMLINK-DANGLING", POLICY_ERROR, S, "dangling symlink",
          "the symlink points at nothing inside the image; remove it or add its target" },
        { "CAIRN-SYMLINK-ESCAPE", POLICY_ERROR, S, "symlink escapes the root",
          "a relative target climbs above /; at run time it resolves outside the image's "
          "intent, rewrite it as an absolute path inside the image" },
        { "CAIRN-SYMLINK-FORBIDDEN", POLICY_ERROR, S, "symlink to a forbidden file",
          "the symlink leads to a shell, toolbox or package manager; remove the link (and its "
          "target)" },
        { "CAIRN-EXEC-UNLISTED", POLICY_ERROR, S, "executable not on the allow list",
          "every executable must be named by the recipe or match policy allow-executables; "
          "name it, allow it, or drop its exec bit" },
        { "CAIRN-SETUID", POLICY_ERROR, S | D, "setuid/setgid file",
          "setuid/setgid bits raise privileges at exec; clear them (mode without 04000/02000)" },
        { "CAIRN-WORLD-WRITABLE", POLICY_ERROR, S, "world-writable path",
          "anyone may modify it; remove o+w, or set the sticky bit on directories (1777)" },
        { "CAIRN-DEVICE", POLICY_ERROR, S | D, "device node",
          "device nodes belong to the runtime, not the image; remove it (the runtime creates "
          "/dev)" },
        { "CAIRN-SPECIAL-FILE", POLICY_ERROR, S, "fifo or socket",
          "fifos and sockets are created by running programs, not shipped; remove it" },
        { "CAIRN-ELF-MALFORMED", POLICY_WARNING, S, "malformed ELF executable",
          "an executable starts with the ELF magic but its headers do not parse; the kernel "
          "may still run it, so cairn cannot vouch for it: rebuild it or drop its exec bit" },
};

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
        return rule->warn_profiles & profile ? POLICY_WARNING : rule->severity;
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

static void format_text(FILE *f, const struct policy_report *r, const char *target)
{
        _cleanup_free_ char *summary = NULL;
        (void)policy_report_summary(r, &summary);
        fprintf(f, "%s: %s, %zu entries checked\n", target, summary ? summary : "?", r->n_entries);
        const struct policy_rule *cur = NULL;
        for (size_t i = 0; i < r->n_findings; i++) {
                const struct policy_finding *x = &r->findings[i];
                if (x->rule != cur) {
                        cur = x->rule;
                        fprintf(f, "\n%s (%s): %s\n  %s\n", cur->id, severity_name(x->severity),
                                cur->title, cur->help);
                }
                fprintf(f, "  - %s", x->path);
                if (x->evidence && *x->evidence)
                        fprintf(f, ": %s", x->evidence);
                fputc('\n', f);
        }
}

static void format_json(FILE *f, const struct policy_report *r, const char *target)
{
        fputs("{\n  \"schema\": \"cairn-enforce/1\",\n  \"target\": ", f);
        json_write_string(f, target);
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

static void format_sarif(FILE *f, const struct policy_report *r)
{
        size_t n_rules;
        const struct policy_rule *all = policy_rules(&n_rules);
        fputs("{\n  \"version\": \"2.1.0\",\n"
              "  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
              "  \"runs\": [\n    {\n      \"tool\": {\n        \"driver\": {\n"
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
        fputs("\n          ]\n        }\n      },\n      \"results\": [", f);
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
        fputs(r->n_findings ? "\n      ]\n    }\n  ]\n}\n" : "]\n    }\n  ]\n}\n", f);
}

int policy_report_format(const struct policy_report *r, enum policy_format fmt, const char *target,
                         char **ret)
{
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);
        if (!f)
                return -ENOMEM;
        switch (fmt) {
        case POLICY_FORMAT_TEXT:
                format_text(f, r, target);
                break;
        case POLICY_FORMAT_JSON:
                format_json(f, r, target);
                break;
        case POLICY_FORMAT_SARIF:
                format_sarif(f, r);
                break;
        }
        if (fclose(f) != 0) {
                free(out);
                return -ENOMEM;
        }
        *ret = out;
        return 0;
}
