/* SPDX-License-Identifier: Apache-2.0 */
/* cairn lock RECIPE [--cache DIR] [--offline] [--lockfile PATH] [--init-binary PATH] [-q] */
#include <getopt.h>

#include "state/build.h"
#include "stages/pipeline.h"
#include "cmd.h"

static void lock_help(FILE *f)
{
        fprintf(f, "Usage: cairn lock RECIPE [OPTIONS]\n\n"
                   "Resolve RECIPE's utilities and packages afresh against its sources, download\n"
                   "and verify every chosen .deb into the cache, and write the lock file\n"
                   "(RECIPE.lock.json beside RECIPE.yaml). 'cairn build' then builds exactly\n"
                   "these packages for as long as the lock matches the recipe. When a variant\n"
                   "runs cairn-init, the lock also pins its SHA-256.\n\n"
                   "Options:\n"
                   "      --cache DIR        download cache (default: $XDG_CACHE_HOME/cairn)\n"
                   "      --offline          use only the cache, never the network\n"
                   "      --lockfile PATH    lock file to write (default: beside RECIPE)\n"
                   "      --init-binary PATH the cairn-init to pin when the recipe runs one\n"
                   "                         (default: as 'cairn build' finds it)\n"
                   "      --arch ARCH        resolve only this one of the recipe's architectures\n"
                   "                         (its section replaces the lock's; the others stay)\n"
                   "      --check            write nothing; exit 1 when the lock file is missing\n"
                   "                         or would change\n"
                   "  -q, --quiet            print nothing but errors\n"
                   "  -h, --help             show this help\n");
}

int cmd_lock(int argc, char **argv)
{
        enum { OPT_CHECK = CMD_OPT_OWN };
        static const struct option options[] = {
                { "cache", required_argument, NULL, CMD_OPT_CACHE },
                { "offline", no_argument, NULL, CMD_OPT_OFFLINE },
                { "lockfile", required_argument, NULL, CMD_OPT_LOCKFILE },
                { "init-binary", required_argument, NULL, CMD_OPT_INIT },
                { "arch", required_argument, NULL, CMD_OPT_ARCH },
                { "check", no_argument, NULL, OPT_CHECK },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct build_options opts = { .epoch = -1, .refresh_lock = true };
        bool check = false;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "qh", options, NULL)) >= 0) {
                int k = cmd_build_option("lock", c, optarg, &opts);
                if (k < 0)
                        return CAIRN_EXIT_USAGE;
                if (k > 0)
                        continue;
                switch (c) {
                case OPT_CHECK:
                        check = true;
                        break;
                case 'q':
                        opts.quiet = true;
                        break;
                case 'h':
                        lock_help(stdout);
                        return CAIRN_EXIT_OK;
                default:
                        return cmd_usage_error("lock", "unknown option");
                }
        }
        if (optind != argc - 1)
                return cmd_usage_error("lock", "expected exactly one RECIPE");
        opts.recipe_path = argv[optind];
        /* --check also confirms every locked SHA-256 against the verified index. */
        opts.confirm_lock = check;

        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        _cleanup_build_set_ struct build_set *set = NULL;
        int r = build_set_new(&opts, &set, &err);
        for (size_t k = 0; r >= 0 && !opts.quiet && k < set->n; k++) {
                set->builds[k]->progress = cmd_print_fetched;
                set->builds[k]->note = cmd_print_note;
        }
        cmd_progress_setup(opts.quiet);
        if (r >= 0)
                r = pipeline_set_resolve(set, &err);
        if (r < 0)
                return cmd_fail(&err);
        const struct build *b0 = set->builds[0];
        if (!b0->lock) {
                if (!opts.quiet)
                        printf("%s: no utilities or packages from Debian sources and no "
                               "cairn-init: nothing to lock\n",
                               opts.recipe_path);
                return CAIRN_EXIT_OK;
        }
        if (check) {
                bool same = true;
                for (size_t k = 0; k < set->n; k++) {
                        const struct build *b = set->builds[k];
                        const char *label = set->n > 1 ? b->arch : NULL;
                        cmd_print_lock_unconfirmed(b);
                        bool this_same = b->lock_old && !b->lock_changes;
                        same = same && this_same;
                        if (opts.quiet)
                                continue;
                        if (!b->lock_old)
                                printf("%s: missing%s%s\n", b->lock_path, label ? " for " : "",
                                       label ? label : "");
                        for (char **p = b->lock_changes; p && *p; p++)
                                printf("%s%s%s\n", label ? label : "", label ? ": " : "", *p);
                        if (this_same)
                                printf("%s: up to date (%s%s%zu packages)\n", b->lock_path,
                                       label ? label : "", label ? ": " : "", b->lock->n_packages);
                }
                return same ? CAIRN_EXIT_OK : CAIRN_EXIT_POLICY;
        }
        bool written = false;
        r = pipeline_set_write_lock(set, true, &written, &err);
        if (r < 0)
                return cmd_fail(&err);
        if (!opts.quiet) {
                cmd_print_lock_notice(b0, written, stderr);
                cmd_print_set_lock_changes(set, stdout);
        }
        return CAIRN_EXIT_OK;
}
