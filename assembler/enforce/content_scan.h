/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Content markers for the enforcer: what a file *is*, decided from its bytes, never its name.
 * The BusyBox, toybox, uutils, shell, package-manager and UPX markers all live here
 * (content_scan.c; BusyBox's applet names in busybox_applets.h).
 *
 * The file is read in fixed chunks with an overlap, so memory stays flat and a marker split
 * across two chunks is still found. Several independent markers identify each multi-call
 * toolbox, so that editing one (BusyBox's banner, say) does not hide it: see DESIGN.md §5.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONTENT_SCAN_MAX ((uint64_t)1 << 30) /* bytes scanned per file; the rest is skipped */

enum content_marker {
        CONTENT_BUSYBOX_BANNER = 1 << 0,    /* "BusyBox v" */
        CONTENT_BUSYBOX_MULTICALL = 1 << 1, /* "BusyBox is a multi-call binary" */
        CONTENT_BUSYBOX_USAGE = 1 << 2,     /* "Usage: busybox" */
        CONTENT_BUSYBOX_LIST = 1 << 3,      /* "busybox --list" */
        CONTENT_APPLET_TABLE = 1 << 4,      /* a NUL-separated run of BusyBox applet names */
        CONTENT_TOYBOX_NAME = 1 << 5,       /* "Toybox " */
        CONTENT_TOYBOX_MULTICALL = 1 << 6,  /* "multicall binary" */
        CONTENT_TOYBOX_USAGE = 1 << 7,      /* "usage: toybox" */
        CONTENT_UUTILS_MULTICALL = 1 << 8,  /* "(multi-call binary)" */
        CONTENT_UUTILS_SOURCE = 1 << 9,     /* "src/uu/" */
        CONTENT_UPX_MAGIC = 1 << 10,        /* "UPX!" in the first 4 KiB */
        CONTENT_UPX_INFO = 1 << 11,         /* "This file is packed with the UPX" */
};

struct content_scan {
        unsigned markers;            /* enum content_marker */
        const char *shell;           /* static string: "bash", "dash", ... or NULL */
        const char *package_manager; /* static string: "dpkg", "apk", "rpm", "pip" or NULL */
        size_t applet_run;           /* longest run of known applet names seen */
        bool truncated;              /* the file was larger than CONTENT_SCAN_MAX */
};

/* Scans fd from offset 0. 0, or -errno of a read failure. */
int content_scan_fd(int fd, struct content_scan *ret);
/*
 * content_scan_fd, remembered: the result for content whose SHA-256 is sha256 (hex) is kept
 * in dir (CACHE/scan) as a small file named by that digest and the scanner's version, so
 * content scanned once is never scanned again. Keyed by a cryptographic digest, a cached
 * verdict can only stand for those exact bytes. dir NULL or a cache that cannot be read or
 * written: plain content_scan_fd.
 */
int content_scan_fd_cached(int fd, const char *dir, const char *sha256, struct content_scan *ret);
/* Same on a buffer (tests, fuzzing). */
void content_scan_buf(const uint8_t *buf, size_t len, struct content_scan *ret);

/* What the markers add up to. */
bool content_is_busybox(const struct content_scan *s);
/* "toybox", "uutils-coreutils" or NULL. */
const char *content_toolbox(const struct content_scan *s);
bool content_is_packed(const struct content_scan *s);
/* The markers found, for a finding's evidence ("banner \"BusyBox v\", applet table (57
 * names)"). Owned by the caller; NULL on allocation failure. */
char *content_evidence(const struct content_scan *s);
