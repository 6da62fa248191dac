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

int pipeline_set_resolve(struct build_set *s, struct cairn_error *err)
{
        for (size_t i = 0; i < s->n; i++) {
                int r = pipeline_resolve(s->builds[i], err);
                if (r < 0)
                        return s->n > 1 ? cairn_error_wrap(err, r, "architecture %s",
                                                           s->builds[i]->arch)
                                        : r;
        }
        return 0;
}

int pipeline_set_layout(struct build_set *s, struct cairn_error *err)
{
        for (size_t i = 0; i < s->n; i++) {
                int r = pipeline_layout(s->builds[i], err);
                if (r < 0)
                        return s->n > 1 ? cairn_error_wrap(err, r, "architecture %s",
                                                           s->builds[i]->arch)
                                        : r;
        }
        return 0;
}

int pipeline_set_enforce(struct build_set *s, struct cairn_error *err)
{
        /* Every architecture is checked, so one run reports every finding; the first policy
         * failure is the one returned, any other error stops at once. */
        int ret = 0;
        for (size_t i = 0; i < s->n; i++) {
                _cleanup_cairn_error_ struct cairn_error one = CAIRN_ERROR_INIT;
                int r = pipeline_enforce(s->builds[i], &one);
                if (r >= 0 || (r == -EPERM && ret < 0))
                        continue;
                cairn_error_clear(err);
                *err = one;
                one = (struct cairn_error)CAIRN_ERROR_INIT;
                if (r != -EPERM)
                        return r;
                ret = r;
        }
        return ret;
}

int pipeline_set_emit(struct build_set *s, struct cairn_error *err)
{
        if (s->n == 1)
                return pipeline_emit(s->builds[0], err);
        const char *out = s->builds[0]->opts.out_dir;
        if (!out)
                return 0;
        int r = outdir_make_sibling(out, "out", &s->tmp_out);
        if (r < 0)
                return cairn_error_errno(err, r, "%s: cannot create a temporary output: %s", out,
                                         strerror(-r));
        if (chmod(s->tmp_out, 0755) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", s->tmp_out);
        for (size_t i = 0; i < s->n && r >= 0; i++)
                r = stage_emit(s->builds[i], s->tmp_out, err);
        if (r >= 0)
                r = stage_emit_platforms(s->builds, s->n, s->tmp_out, err);
        if (r < 0)
                return cairn_error_wrap(err, r, "%s: writing the output (in %s; OUT is unchanged)",
                                        out, s->tmp_out);
        bool consumed = false;
        r = outdir_replace(s->tmp_out, out, &consumed, err);
        if (consumed) {
                free(s->tmp_out);
                s->tmp_out = NULL;
        }
        return r < 0 ? r : 0;
}

int pipeline_set_write_lock(struct build_set *s, bool force, bool *ret_written,
                            struct cairn_error *err)
{
        if (s->n == 1)
                return pipeline_write_lock(s->builds[0], force, ret_written, err);
        return stage_lock_write_set(s->builds, s->n, force, ret_written, err);
}
