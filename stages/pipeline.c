/* SPDX-License-Identifier: Apache-2.0 */
#include "pipeline.h"

#include <sys/stat.h>

#include "artifacts.h"
#include "state/outdir.h"
#include "configure.h"
#include "emit.h"
#include "enforce.h"
#include "fetch.h"
#include "lock.h"
#include "programs.h"
#include "reads.h"
#include "resolve.h"
#include "runtime.h"
#include "unpack.h"

int pipeline_resolve(struct build *b, struct cairn_error *err)
{
        int r = stage_lock_read(b, err);
        if (r < 0)
                return r;
        r = stage_resolve(b, err);
        if (r < 0)
                return r;
        r = stage_fetch(b, err);
        if (r < 0)
                return r;
        return stage_lock_settle(b, err);
}

int pipeline_layout(struct build *b, struct cairn_error *err)
{
        int r = pipeline_resolve(b, err);
        if (r < 0)
                return r;
        r = stage_reads(b, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < b->n_variants; i++) {
                struct build_variant *v = &b->variants[i];
                /* Before unpack: unpack writes the md5sums of every package, these too. */
                r = stage_programs(b, v, err);
                if (r < 0)
                        return r;
                r = stage_unpack(b, v, err);
                if (r < 0)
                        return r;
                /* Base before app: implicit parents take the layer of their first child. */
                r = stage_configure(b, v, err);
                if (r < 0)
                        return r;
                r = stage_artifacts(b, v, err);
                if (r >= 0)
                        r = stage_configure_check(b, v, err);
                if (r < 0)
                        return r;
                /* Last: it lists what the finished tree may execute. */
                r = stage_runtime(b, v, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int pipeline_enforce(struct build *b, struct cairn_error *err)
{
        bool failed = false;
        for (size_t i = 0; i < b->n_variants; i++) {
                struct build_variant *v = &b->variants[i];
                if (!v->selected)
                        continue;
                int r = stage_enforce(b, v, err);
                if (r < 0)
                        return r;
                if (v->verdict.ran && !v->verdict.passed)
                        failed = true;
        }
        if (failed)
                return cairn_error_add(err, CAIRN_EXIT_POLICY, -EPERM,
                                       "%s: policy violation, nothing was written",
                                       b->opts.recipe_path);
        return 0;
}

int pipeline_emit(struct build *b, struct cairn_error *err)
{
        if (!b->opts.out_dir)
                return 0;
        int r = outdir_make_sibling(b->opts.out_dir, "out", &b->tmp_out);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: cannot create a temporary output: %s",
                                         b->opts.out_dir, strerror(-r));
        if (chmod(b->tmp_out, 0755) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", b->tmp_out);
        r = stage_emit(b, b->tmp_out, err);
        if (r < 0)
                return cairn_error_wrap(err, r, "%s: writing the output (in %s; OUT is unchanged)",
                                        b->opts.out_dir, b->tmp_out);
        bool consumed = false;
        r = outdir_replace(b->tmp_out, b->opts.out_dir, &consumed, err);
        /* Consumed: tmp became OUT, or (a failed undo) holds previous outputs to keep. */
        if (consumed) {
                free(b->tmp_out);
                b->tmp_out = NULL;
        }
        return r < 0 ? r : 0;
}

int pipeline_write_lock(struct build *b, bool force, bool *ret_written, struct cairn_error *err)
{
        return stage_lock_write(b, force, ret_written, err);
}
