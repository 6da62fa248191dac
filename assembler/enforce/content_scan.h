/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Content markers for the enforcer: what a file *is*, decided from its bytes, never its name.
 * The BusyBox, toybox, uutils, shell, package-manager and UPX markers all live here
 * (content_scan.c; BusyBox's applet names in busybox_applets.h).
 *
 * The file is read in fixed chunks with an overlap, so memory stays flat and a marker split
 * across two chunks is still found. Several independent markers identify each multi-call
 * toolbox, so that editing one (BusyBox's banner, say) does not hide it: see DESIGN.md §5.
 *
 * Only data is read: holes (SEEK_DATA/SEEK_HOLE) and all-zero chunks are skipped, as the zeros
 * they stand for can hold no marker, so a program moved past a gigabyte of hole in a sparse
 * file is scanned where its bytes are. A hole ends a string: what precedes it never joins
 * what follows. Up to CONTENT_SCAN_MAX bytes of data are scanned; a file with more sets
 * `truncated`, which the policy reports (CAIRN-SCAN-INCOMPLETE): nothing past the limit is
 * ever taken as seen.
 *
 * Besides markers the scanner measures entropy in 4 KiB blocks (all-zero blocks left out):
 * compressed or encrypted code is opaque to every marker (content_is_opaque).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONTENT_SCAN_MAX      ((uint64_t)4 << 30) /* bytes of data scanned per file */
#define CONTENT_ENTROPY_BLOCK 4096
#define CONTENT_HIGH_ENTROPY  7.5 /* bits per byte: compressed or encrypted */

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
        CONTENT_UPX_ID = 1 << 12,           /* "$Id: UPX " (the stub's copyright line) */
        CONTENT_UPX_TRAILER = 1 << 13,      /* "UPX!" in the last 4 KiB (the pack header) */
        CONTENT_MEMFD_CREATE = 1 << 14,     /* the symbol name "memfd_create", NUL-delimited */
        CONTENT_FEXECVE = 1 << 15,          /* "fexecve", NUL-delimited */
        CONTENT_EXECVEAT = 1 << 16,         /* "execveat", NUL-delimited */
};

struct content_scan {
        unsigned markers;            /* enum content_marker */
        const char *shell;           /* static string: "bash", "dash", ... or NULL */
        const char *package_manager; /* static string: "dpkg", "apk", "rpm", "pip" or NULL */
        size_t applet_run;           /* longest run of known applet names seen */
        bool truncated;              /* more than CONTENT_SCAN_MAX bytes of data: not all seen */
        uint64_t scanned;            /* bytes of data scanned */
        uint64_t entropy_bytes;      /* bytes in whole non-zero 4 KiB blocks */
        uint64_t high_entropy_bytes; /* of those, in blocks above CONTENT_HIGH_ENTROPY */
};

/* Scans fd's data from offset 0. 0, or -errno of a read failure. */
int content_scan_fd(int fd, struct content_scan *ret);
/* Scans at most `limit` bytes of data (content_scan_fd: CONTENT_SCAN_MAX); tests use small
 * limits. */
int content_scan_fd_limit(int fd, uint64_t limit, struct content_scan *ret);
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
/* UPX's magic, info string, stub id or pack header. */
bool content_is_packed(const struct content_scan *s);
/* Mostly compressed or encrypted: at least 16 KiB measured and 70% of it above
 * CONTENT_HIGH_ENTROPY. In a program that is a packer's payload (a UPX whose markers were
 * rubbed out, any other packer); beside one, an opaque asset. */
bool content_is_opaque(const struct content_scan *s);
/* Percent of the measured bytes above CONTENT_HIGH_ENTROPY (0 when nothing was measured). */
unsigned content_high_entropy_percent(const struct content_scan *s);
/* The symbol names of a memory-only exec: memfd_create with fexecve or execveat. */
bool content_memfd_exec(const struct content_scan *s);
/*
 * Entropy of a file that is not otherwise scanned (an asset beside a program): `samples`
 * blocks of 4 KiB spread evenly over its size, into ret's entropy fields (markers are not
 * looked for). 0 or -errno.
 */
int content_entropy_sample_fd(int fd, uint64_t size, unsigned samples, struct content_scan *ret);
/* The markers found, for a finding's evidence ("banner \"BusyBox v\", applet table (57
 * names)"). Owned by the caller; NULL on allocation failure. */
char *content_evidence(const struct content_scan *s);
