/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Linux capability names as the OCI runtime spec writes them ("CAP_NET_BIND_SERVICE"), for
 * the recipe's run.capabilities and the bundle's config.json. The table is the kernel's
 * (linux/capability.h) up to CAP_CHECKPOINT_RESTORE (40), the last one runc 1.1 knows.
 */
#pragma once

#include <stdbool.h>

#define CAPABILITY_LAST 40

/* The number of the capability called name ("CAP_CHOWN" or "CHOWN"), or -1. */
int capability_from_name(const char *name);

/* "CAP_CHOWN" for 0 ... ; NULL beyond CAPABILITY_LAST. */
const char *capability_name(int cap);
