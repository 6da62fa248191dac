/* SPDX-License-Identifier: Apache-2.0 */
/* cairn: argument dispatch through the command table; everything else lives in libcairn. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "version.h"

static const struct cairn_command commands[] = {
        { "init", cmd_init, "write a commented starter recipe that builds" },
        { "check", cmd_check, "validate a recipe and show what each variant contains" },
        { "lock", cmd_lock, "resolve a recipe's Debian packages and write its lock file" },
        { "build", cmd_build, "assemble a recipe into OCI layouts, rootfs tars and SBOMs" },
        { "enforce", cmd_enforce, "check a directory, rootfs tar or OCI layout against a policy" },
        { "bundle", cmd_bundle, "write an OCI runtime bundle that runs a variant as prod runs" },
        { "profile", cmd_profile, "run a variant under runc and list the paths it writes" },
        { "verify", cmd_verify, "rebuild a recipe and check that an output has the same digests" },
        { "diff", cmd_diff, "compare two images entry by entry" },
        { "push", cmd_push, "push images with their SBOMs to an OCI registry, digests unchanged" },
        { "runtime", cmd_runtime, "print how to run an image: Kubernetes, docker, compose" },
};

static void usage(FILE *f)
{
        fprintf(f, "Usage: cairn [--version] [--help] COMMAND [ARGS...]\n\n"
                   "Assemble minimal, reproducible root filesystems from a YAML recipe.\n\n"
                   "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
        fprintf(f, "\nRun 'cairn COMMAND --help' for a command's options.\n"
                   "Exit status: 0 success, 1 policy violation, 2 usage or recipe error,\n"
                   "3 source/network/verification failure, 4 I/O error.\n");
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                usage(stderr);
                return CAIRN_EXIT_USAGE;
        }
        const char *name = argv[1];
        if (streq(name, "--help") || streq(name, "-h") || streq(name, "help")) {
                usage(stdout);
                return CAIRN_EXIT_OK;
        }
        if (streq(name, "--version") || streq(name, "-V")) {
                printf("cairn %s\n", CAIRN_VERSION);
                return CAIRN_EXIT_OK;
        }
        cmd_cache_notices_setup();
        const char *names[ELEMENTSOF(commands)];
        opterr = 0; /* cmd_usage_error names a bad option, in cairn's one error format */
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                if (streq(commands[i].name, name)) {
                        cmd_argc = argc - 1;
                        cmd_argv = argv + 1;
                        return commands[i].run(argc - 1, argv + 1);
                }
                names[i] = commands[i].name;
        }
        const char *near = str_nearest(names, ELEMENTSOF(names), name, 2);
        if (near)
                fprintf(stderr, "cairn: error: unknown command '%s' (did you mean '%s'?)\n", name,
                        near);
        else
                fprintf(stderr, "cairn: error: unknown command '%s'; try 'cairn --help'\n", name);
        return CAIRN_EXIT_USAGE;
}
