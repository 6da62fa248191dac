/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "probe_target.h"

static int fail(char *msg, size_t msg_size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fail(char *msg, size_t msg_size, const char *fmt, ...)
{
        va_list ap;

        if (msg && msg_size > 0) {
                va_start(ap, fmt);
                vsnprintf(msg, msg_size, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* Decimal 1..65535, the whole of [s, end). */
static int parse_port(const char *s, const char *end, uint16_t *ret)
{
        unsigned v = 0;

        if (s == end || end - s > 5)
                return -1;
        for (const char *p = s; p < end; p++) {
                if (*p < '0' || *p > '9')
                        return -1;
                v = v * 10 + (unsigned)(*p - '0');
        }
        if (v == 0 || v > 65535)
                return -1;
        *ret = (uint16_t)v;
        return 0;
}

int probe_target_parse(const char *s, struct probe_target *ret, char *msg, size_t msg_size)
{
        struct probe_target t = { 0 };
        const char *host, *host_end, *port = NULL, *rest;
        char name[PROBE_HOST_MAX];
        size_t n;

        if (msg && msg_size > 0)
                msg[0] = '\0';
        if (strncmp(s, "http://", 7) == 0) {
                t.kind = PROBE_HTTP;
                host = s + 7;
        } else if (strncmp(s, "tcp://", 6) == 0) {
                t.kind = PROBE_TCP;
                host = s + 6;
        } else if (strncmp(s, "https://", 8) == 0) {
                return fail(msg, msg_size,
                            "probe %s: https is not supported (cairn-init speaks plain HTTP); "
                            "probe a plain-HTTP port of the service, or tcp://",
                            s);
        } else {
                return fail(msg, msg_size,
                            "probe %s: want http://HOST[:PORT][/PATH] or "
                            "tcp://HOST:PORT",
                            s);
        }

        /* HOST: [v6] or up to ':' or '/'. */
        if (*host == '[') {
                host_end = strchr(host, ']');
                if (!host_end)
                        return fail(msg, msg_size, "probe %s: '[' without ']'", s);
                n = (size_t)(host_end - host - 1);
                rest = host_end + 1;
                if (n == 0 || n >= sizeof(name))
                        return fail(msg, msg_size, "probe %s: bad IPv6 address", s);
                memcpy(name, host + 1, n);
                name[n] = '\0';
                if (inet_pton(AF_INET6, name, t.addr) != 1)
                        return fail(msg, msg_size, "probe %s: '%s' is not an IPv6 address", s,
                                    name);
                t.family = AF_INET6;
        } else {
                rest = host + strcspn(host, ":/");
                n = (size_t)(rest - host);
                if (n == 0 || n >= sizeof(name))
                        return fail(msg, msg_size, "probe %s: no HOST", s);
                memcpy(name, host, n);
                name[n] = '\0';
                t.family = AF_INET;
                if (strcmp(name, "localhost") == 0) {
                        static const unsigned char loopback[4] = { 127, 0, 0, 1 };
                        memcpy(t.addr, loopback, 4);
                } else if (inet_pton(AF_INET, name, t.addr) != 1) {
                        return fail(msg, msg_size,
                                    "probe %s: HOST '%s' must be an IP address or localhost "
                                    "(cairn-init resolves no names)",
                                    s, name);
                }
        }

        if (*rest == ':') {
                port = rest + 1;
                rest = port + strcspn(port, "/");
                if (parse_port(port, rest, &t.port) < 0)
                        return fail(msg, msg_size, "probe %s: the port must be 1 to 65535", s);
        } else if (t.kind == PROBE_TCP) {
                return fail(msg, msg_size, "probe %s: tcp:// needs HOST:PORT", s);
        } else {
                t.port = 80;
        }
        n = (size_t)(rest - host);
        if (n >= sizeof(t.host))
                return fail(msg, msg_size, "probe %s: HOST:PORT longer than %d bytes", s,
                            PROBE_HOST_MAX - 1);
        memcpy(t.host, host, n);
        t.host[n] = '\0';

        if (t.kind == PROBE_TCP) {
                if (*rest != '\0')
                        return fail(msg, msg_size, "probe %s: tcp:// takes no path", s);
        } else {
                const char *path = *rest ? rest : "/";
                size_t len = strlen(path);
                if (len >= sizeof(t.path))
                        return fail(msg, msg_size, "probe %s: the path is longer than %d bytes", s,
                                    PROBE_PATH_MAX - 1);
                for (const char *p = path; *p; p++)
                        if (*p <= 0x20 || *p >= 0x7f || *p == '#')
                                return fail(msg, msg_size,
                                            "probe %s: the path must be printable ASCII "
                                            "without spaces or '#' (percent-encode it)",
                                            s);
                memcpy(t.path, path, len + 1);
        }
        *ret = t;
        return 0;
}
