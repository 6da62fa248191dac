/* SPDX-License-Identifier: Apache-2.0 */
#include "reads.h"

int reads_packages_digest(const struct build *b, char out[72])
{
        _cleanup_free_ const char **names = calloc(b->n_packages + 1, sizeof(char *));
        _cleanup_free_ const char **versions = calloc(b->n_packages + 1, sizeof(char *));
        _cleanup_free_ const char **sums = calloc(b->n_packages + 1, sizeof(char *));
        if (!names || !versions || !sums)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_packages; i++) {
                names[i] = b->packages[i].name;
                versions[i] = b->packages[i].version;
                sums[i] = b->packages[i].sha256;
        }
        return readsfile_packages_digest(names, versions, sums, b->n_packages, out);
}

int stage_reads(struct build *b, struct cairn_error *err)
{
        bool needed = false;
        for (size_t i = 0; i < b->recipe->n_programs; i++)
                needed = needed || b->recipe->programs[i].only_read;
        b->reads_state = BUILD_READS_NONE;
        if (!needed || b->opts.ignore_reads)
                return 0;
        _cleanup_readsfile_ struct readsfile *rf = NULL;
        int r = readsfile_read(b->reads_path, &rf, err);
        if (r == -ENOENT) {
                b->reads_state = BUILD_READS_MISSING;
                if (b->opts.locked)
                        return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                                               "%s: no reads record, and a programs: item keeps "
                                               "only-read files (--locked); record it with "
                                               "'cairn profile %s --write-reads' and commit it",
                                               b->reads_path, b->opts.recipe_path);
                return 0;
        }
        if (r < 0)
                return r;
        char digest[72];
        r = reads_packages_digest(b, digest);
        if (r < 0)
                return r;
        if (!streq_ptr(rf->recipe, b->recipe->name) || !streq_ptr(rf->packages, digest)) {
                b->reads_state = BUILD_READS_STALE;
                if (b->opts.locked)
                        return cairn_error_add(
                                err, CAIRN_EXIT_USAGE, -ESTALE,
                                "%s: the reads record is stale: it was made %s (--locked); "
                                "record it again with 'cairn profile %s --write-reads'",
                                b->reads_path,
                                !streq_ptr(rf->recipe, b->recipe->name)
                                        ? "for another recipe"
                                        : "with other packages than this build's",
                                b->opts.recipe_path);
                return 0;
        }
        b->reads_state = BUILD_READS_USED;
        b->reads = steal_pointer(&rf);
        return 0;
}
