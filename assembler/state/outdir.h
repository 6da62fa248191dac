/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OUT and its temporary siblings. A build writes into ".BASE.cairn-KIND-PID-RANDOM" beside
 * OUT (same filesystem, so the final move is a rename) and moves the result into place only
 * when everything was written (DESIGN.md §4).
 */
#pragma once

#include "base/error.h"

/*
 * Makes a fresh directory ".BASE.cairn-KIND-PID-XXXXXX" next to out_dir; *ret is owned. The
 * process holds an flock on it until it exits, so no other build removes it.
 */
int outdir_make_sibling(const char *out_dir, const char *kind, char **ret);

/* Removes the temporary siblings ".BASE.cairn-*" in parent whose PID is gone, that nobody
 * holds locked and that were untouched for CAIRN_TEMP_AGE seconds. */
void outdir_remove_stale_siblings(const char *parent, const char *base);

/*
 * Puts the outputs written into tmp in place in out, all or nothing (docs/security.md,
 * "Outputs"). tmp becomes out when out does not exist. Otherwise each of tmp's entries
 * replaces its namesake in out with renameat2(RENAME_EXCHANGE) (or takes a free name with
 * RENAME_NOREPLACE), and out's OUTMANIFEST_NAME list last; when one rename fails the earlier
 * ones are undone, so out is as before. Only what out's list says cairn wrote is replaced: an
 * entry of the user's in the way (a name, or a path beneath an output directory) is a
 * CAIRN_EXIT_IO error naming it, before anything changed; other entries of out are left
 * alone. An out that is not a directory is a CAIRN_EXIT_USAGE error.
 *
 * On success *ret_consumed is true when tmp itself became out (else tmp holds the previous
 * outputs, for the caller to remove). It is also set, on a failure, when undoing failed and
 * tmp holds previous outputs that must be kept.
 */
int outdir_replace(const char *tmp, const char *out, bool *ret_consumed, struct cairn_error *err);
