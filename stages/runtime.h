/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage runtime: the run-time contract of v (DESIGN.md §9) into v->runtime and, as
 * /etc/cairn/runtime.json (layer base), into v->tree. Runs after artifacts: the list of
 * executables PROGRAM may run is read off the finished tree (enforce/policy.h,
 * policy_executables), minus what lies beneath a writable path (PROGRAM could rewrite it).
 */
#pragma once

#include "state/build.h"

int stage_runtime(struct build *b, struct build_variant *v, struct cairn_error *err);
