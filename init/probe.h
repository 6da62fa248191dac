/* SPDX-License-Identifier: Apache-2.0 */
/* cairn-init's health probe mode (`--probe`): see probe.c. */
#pragma once

#include "probe_target.h"

/*
 * Checks t once within timeout_s seconds: a TCP connect, and for http:// a GET whose status
 * must be expect (0: any of 200-399, as Kubernetes' httpGet). Returns the exit status: 0
 * healthy, 1 not (with one line on stderr naming `what`, the target as given).
 */
int probe_run(const struct probe_target *t, const char *what, int expect, unsigned timeout_s);
