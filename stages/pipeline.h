/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pipeline driver (DESIGN.md §1): the one place that knows the order of the stages.
 *
 *   lock? -> resolve -> fetch -> lock -> unpack -> configure -> artifacts -> enforce -> emit
 *
 * The commands call these steps; each runs stages in order over the shared struct build
 * (state/build.h). Stages never print; the command layer prints the summary and the error.
 */
#pragma once

#include "state/build.h"

/* The lock stage, resolve and fetch: b->packages are chosen and verified in the cache, and
 * b->lock holds the resolution (the lock file's contents). */
int pipeline_resolve(struct build *b, struct cairn_error *err);

/* pipeline_resolve, then unpack, configure and artifacts for every variant: every variant's
 * tree is complete afterwards. */
int pipeline_layout(struct build *b, struct cairn_error *err);

/* The enforcer on every selected variant; -EPERM (class CAIRN_EXIT_POLICY) when one fails. */
int pipeline_enforce(struct build *b, struct cairn_error *err);

/* Writes every selected variant into a temporary sibling of opts.out_dir, then moves the
 * outputs into place. Nothing without opts.out_dir. */
int pipeline_emit(struct build *b, struct cairn_error *err);

/* Writes the lock file when this build resolved afresh (or `force`); sets *ret_written. */
int pipeline_write_lock(struct build *b, bool force, bool *ret_written, struct cairn_error *err);

/*
 * The same steps over a build_set (one build per architecture; docs/multiarch.md). A set of
 * one is exactly the single-build step. The emit writes every build into one temporary
 * sibling of OUT (each architecture's NAME-V-ARCH.tar and SBOM, the shared layouts and their
 * indexes) and replaces OUT once; the lock file, one for every architecture, is written once.
 */
int pipeline_set_resolve(struct build_set *s, struct cairn_error *err);
int pipeline_set_layout(struct build_set *s, struct cairn_error *err);
int pipeline_set_enforce(struct build_set *s, struct cairn_error *err);
int pipeline_set_emit(struct build_set *s, struct cairn_error *err);
int pipeline_set_write_lock(struct build_set *s, bool force, bool *ret_written,
                            struct cairn_error *err);
