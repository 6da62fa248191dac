/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `cairn-init --probe TARGET` checks: http://HOST[:PORT][/PATH] (one plain HTTP/1.0 GET)
 * or tcp://HOST:PORT (one TCP connect). HOST is an IPv4 address, an IPv6 address in brackets
 * or `localhost` (127.0.0.1): the probe runs inside the container, and a static init resolves
 * no names (no NSS, no DNS). PATH is printable ASCII without spaces or '#'.
 *
 * One parser for both sides: cairn-init parses its option with it, and the build refuses a
 * recipe's run.healthcheck with exactly the same rules (the file is also linked into
 * libcairn). Nothing here allocates, prints or does I/O.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PROBE_PATH_MAX 1024 /* bytes of an http request target, with its NUL */
#define PROBE_HOST_MAX 64   /* bytes of HOST as written, brackets included, with its NUL */

enum probe_kind {
        PROBE_HTTP,
        PROBE_TCP,
};

struct probe_target {
        enum probe_kind kind;
        int family;                /* AF_INET or AF_INET6 */
        unsigned char addr[16];    /* network byte order; 4 bytes used for AF_INET */
        uint16_t port;             /* host byte order */
        char host[PROBE_HOST_MAX]; /* HOST[:PORT] as written, for the Host: header */
        char path[PROBE_PATH_MAX]; /* http: the request target, "/" when the URL has none */
};

/*
 * Parses s into *ret. Returns 0, or -EINVAL with a one-line reason naming s in
 * msg[0..msg_size). *ret is written only on success.
 */
int probe_target_parse(const char *s, struct probe_target *ret, char *msg, size_t msg_size);
