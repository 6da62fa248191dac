/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cairn-init --probe TARGET`: one health check without a shell or curl. tcp:// connects;
 * http:// sends one HTTP/1.0 GET and reads the status line. Everything happens before one
 * deadline (--timeout), with non-blocking sockets and poll(2). The answer is the exit status:
 * 0 healthy, 1 not, with one line on stderr saying why (Docker keeps it in the health log).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

#define STATUS_LINE_MAX 512

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or the deadline passes: 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, long long deadline)
{
        for (;;) {
                struct pollfd p = { .fd = fd, .events = events };
                long long left = deadline - now_ms();
                int n;

                if (left <= 0)
                        return -ETIMEDOUT;
                n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
                if (n > 0)
                        return 0;
                if (n < 0 && errno != EINTR)
                        return -errno;
        }
}

static int connect_to(const struct probe_target *t, long long deadline, int *ret_fd)
{
        struct sockaddr_in in4 = { .sin_family = AF_INET, .sin_port = htons(t->port) };
        struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(t->port) };
        const struct sockaddr *sa;
        socklen_t len;
        int fd, r, e = 0;
        socklen_t elen = sizeof(e);

        if (t->family == AF_INET6) {
                memcpy(&in6.sin6_addr, t->addr, 16);
                sa = (const struct sockaddr *)&in6;
                len = sizeof(in6);
        } else {
                memcpy(&in4.sin_addr, t->addr, 4);
                sa = (const struct sockaddr *)&in4;
                len = sizeof(in4);
        }
        fd = socket(t->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, sa, len) < 0) {
                if (errno != EINPROGRESS) {
                        r = -errno;
                        close(fd);
                        return r;
                }
                r = wait_fd(fd, POLLOUT, deadline);
                if (r >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
                        r = -errno;
                else if (r >= 0 && e != 0)
                        r = -e;
                if (r < 0) {
                        close(fd);
                        return r;
                }
        }
        *ret_fd = fd;
        return 0;
}

/* Sends the request and reads the status line: the status code, or -errno / -EPROTO. */
static int http_status(int fd, const struct probe_target *t, long long deadline)
{
        char req[PROBE_PATH_MAX + PROBE_HOST_MAX + 128];
        char line[STATUS_LINE_MAX + 1];
        size_t off = 0, have = 0;
        int n, r;

        n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: cairn-init\r\n"
                     "Connection: close\r\n\r\n",
                     t->path, t->host);
        if (n < 0 || (size_t)n >= sizeof(req))
                return -EINVAL;
        while (off < (size_t)n) {
                ssize_t w = send(fd, req + off, (size_t)n - off, MSG_NOSIGNAL);
                if (w > 0) {
                        off += (size_t)w;
                        continue;
                }
                if (w < 0 && errno != EAGAIN && errno != EINTR)
                        return -errno;
                r = wait_fd(fd, POLLOUT, deadline);
                if (r < 0)
                        return r;
        }
        /* "HTTP/1.x NNN ...": the status line is all that counts; read until its end. */
        while (have < STATUS_LINE_MAX && !memchr(line, '\n', have)) {
                ssize_t got = recv(fd, line + have, STATUS_LINE_MAX - have, 0);
                if (got > 0) {
                        have += (size_t)got;
                        continue;
                }
                if (got == 0)
                        break;
                if (errno != EAGAIN && errno != EINTR)
                        return -errno;
                r = wait_fd(fd, POLLIN, deadline);
                if (r < 0)
                        return r;
        }
        line[have] = '\0';
        if (have < 12 || strncmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' ||
            line[8] != ' ' || line[9] < '1' || line[9] > '5' || line[10] < '0' || line[10] > '9' ||
            line[11] < '0' || line[11] > '9' ||
            (have > 12 && line[12] != ' ' && line[12] != '\r' && line[12] != '\n'))
                return -EPROTO;
        return (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
}

int probe_run(const struct probe_target *t, const char *what, int expect, unsigned timeout_s)
{
        long long deadline = now_ms() + (long long)timeout_s * 1000;
        int fd = -1, r, status;
        char line[256];

        r = connect_to(t, deadline, &fd);
        if (r < 0) {
                snprintf(line, sizeof(line), "cairn-init: probe %s: %s\n", what,
                         r == -ETIMEDOUT ? "no connection within the timeout" : strerror(-r));
                (void)!write(STDERR_FILENO, line, strlen(line));
                return 1;
        }
        if (t->kind == PROBE_TCP) {
                close(fd);
                return 0;
        }
        status = http_status(fd, t, deadline);
        close(fd);
        if (status < 0) {
                snprintf(line, sizeof(line), "cairn-init: probe %s: %s\n", what,
                         status == -ETIMEDOUT ? "no answer within the timeout"
                         : status == -EPROTO  ? "the answer is not HTTP/1.x"
                                              : strerror(-status));
                (void)!write(STDERR_FILENO, line, strlen(line));
                return 1;
        }
        if (expect ? status == expect : status >= 200 && status <= 399)
                return 0;
        if (expect)
                snprintf(line, sizeof(line), "cairn-init: probe %s: status %d, expected %d\n", what,
                         status, expect);
        else
                snprintf(line, sizeof(line), "cairn-init: probe %s: status %d, expected 200-399\n",
                         what, status);
        (void)!write(STDERR_FILENO, line, strlen(line));
        return 1;
}
