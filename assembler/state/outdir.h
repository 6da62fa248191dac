/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OUT and its temporary siblings. A build writes into ".BASE.cairn-KIND-PID-RANDOM" beside
 * OUT (same filesystem, so the final move is a rename) and moves the result into place only
 * when everything was written (DESIGN.md §4).
 */
#pragma once

#include "base/error.h"

/* Makes a fresh directory ".BASE.cairn-KIND-PID-XXXXXX" next to out_dir; *ret is owned. */
int outdir_make_sibling(const char *out_dir, const char *kind, char **ret);

/* Removes the temporary siblings ".BASE.cairn-*" in parent whose PID is gone. */
void outdir_remove_stale_siblings(const char *parent, const char *base);

/*
 * Moves the outputs written into tmp to out: tmp becomes out when out does not exist;
 * otherwise every entry of tmp replaces its namesake in out, directories exchanged atomically
 * (the old one lands in tmp and goes with it). An out that is not a directory is a
 * CAIRN_EXIT_USAGE error. *ret_consumed is true when tmp itself became out.
 */
int outdir_replace(const char *tmp, const char *out, bool *ret_consumed, struct cairn_error *err);
