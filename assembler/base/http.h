/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Downloads for the Debian stages: http:// and https:// through libcurl, file:// as plain
 * reads. Every transfer is bounded in size and time: a server that stops sending fails after
 * $CAIRN_HTTP_TIMEOUT seconds (default 30) of less than one byte per second. Failures are
 * CAIRN_EXIT_SOURCE errors naming the URL. One libcurl handle is kept for the process, so
 * the .debs of one build share their connection to the mirror.
 */
#pragma once

#include <stdint.h>

#include "error.h"

/*
 * Live progress of http(s) transfers, for a terminal: cb(data, url, received, total) is called
 * as bytes arrive (total 0 when the server does not say) and once more with url NULL when the
 * transfer ends. The command layer installs it; NULL (the default) for none.
 */
typedef void (*http_progress_fn)(void *data, const char *url, uint64_t received, uint64_t total);
void http_set_progress(http_progress_fn cb, void *data);

/* Writes the body of url to fd. At most max bytes (-EFBIG beyond). */
int http_fetch_fd(const char *url, int fd, uint64_t max, struct cairn_error *err);

/* The body of url in a NUL-terminated buffer owned by the caller. */
int http_fetch_buf(const char *url, uint64_t max, char **ret, size_t *ret_len,
                   struct cairn_error *err);
