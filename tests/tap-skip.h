/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmocka 1.1 reports a skip() in TAP as "not ok N # SKIP NAME", which meson's TAP reader counts
 * as a failure (TAP says a skipped test is "ok N # SKIP"). tap_skips_fix() puts a line filter in
 * front of stdout that writes such a line as "ok N - NAME # SKIP" and every other line as it is.
 * Call it first in main() of a unit test that can skip(). Header-only: the cairn-init tests
 * link no libcairn.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tap_filter {
        char line[4096];
        size_t n;
};

static struct tap_filter tap_filter_state;

static void tap_filter_put(const char *s, size_t len)
{
        while (len > 0) {
                ssize_t w = write(STDOUT_FILENO, s, len);
                if (w <= 0)
                        return;
                s += w;
                len -= (size_t)w;
        }
}

static void tap_filter_line(struct tap_filter *f)
{
        unsigned num;
        int off = 0;
        f->line[f->n] = '\0';
        if (sscanf(f->line, "not ok %u # SKIP %n", &num, &off) == 1 && off > 0) {
                char out[sizeof(f->line) + 32];
                size_t name = strcspn(f->line + off, "\n");
                int len = snprintf(out, sizeof(out), "ok %u - %.*s # SKIP\n", num, (int)name,
                                   f->line + off);
                tap_filter_put(out, len > 0 && (size_t)len < sizeof(out) ? (size_t)len : 0);
        } else {
                tap_filter_put(f->line, f->n);
        }
        f->n = 0;
}

static ssize_t tap_filter_write(void *cookie, const char *buf, size_t len)
{
        struct tap_filter *f = cookie;
        for (size_t i = 0; i < len; i++) {
                f->line[f->n++] = buf[i];
                if (buf[i] == '\n' || f->n == sizeof(f->line) - 1)
                        tap_filter_line(f);
        }
        return (ssize_t)len;
}

static void tap_filter_atexit(void)
{
        fflush(stdout);
        if (tap_filter_state.n)
                tap_filter_line(&tap_filter_state);
}

static inline void tap_skips_fix(void)
{
        cookie_io_functions_t io = { .write = tap_filter_write };
        FILE *s = fopencookie(&tap_filter_state, "w", io);
        if (!s)
                return;
        setvbuf(s, NULL, _IOLBF, 0);
        fflush(stdout);
        stdout = s;
        atexit(tap_filter_atexit);
}
