/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers every cairn file uses: cleanup attributes, steal_pointer, bounded string
 * helpers. Conventions (docs/hacking.md):
 *   - cleanup functions accept NULL, reset the variable and preserve errno;
 *   - ownership leaves a scope only through steal_pointer() / steal_fd();
 *   - ret_ out-parameters are written only on success.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _nonnull_(...) __attribute__((nonnull(__VA_ARGS__)))
#define _must_check_   __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void *steal_pointer_impl(void *pp)
{
        void **p = pp;
        void *v = *p;
        *p = NULL;
        return v;
}
/* Hands ownership of *pp to the caller and leaves NULL behind, so the cleanup is a no-op. */
#define steal_pointer(pp) ((__typeof__(*(pp)))steal_pointer_impl(pp))

static inline int steal_fd(int *fdp)
{
        int fd = *fdp;
        *fdp = -1;
        return fd;
}

static inline void freep(void *p)
{
        int saved = errno;
        free(*(void **)p);
        *(void **)p = NULL;
        errno = saved;
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
        int saved = errno;
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
        errno = saved;
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
        int saved = errno;
        if (*f)
                fclose(*f);
        *f = NULL;
        errno = saved;
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Frees a NULL-terminated or counted array of strings. */
static inline void strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}
static inline void strv_freep(char ***v)
{
        int saved = errno;
        strv_free(*v);
        *v = NULL;
        errno = saved;
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* The number of strings before the NULL that ends v (0 for a NULL v). */
size_t strv_length(char *const *v);

/* Levenshtein distance of a and b; SIZE_MAX when one is longer than STR_DISTANCE_MAX bytes.
 * For "did you mean": commands, keys, package names, package paths. */
#define STR_DISTANCE_MAX 255
size_t str_distance(const char *a, const char *b);
/* The candidate nearest to s, at most max edits away (the first of equals), or NULL. */
const char *str_nearest(const char *const *candidates, size_t n, const char *s, size_t max);
/* A deep copy of the NULL-terminated v (an empty one for a NULL v), or NULL without memory. */
char **strv_copy(char *const *v);

/*
 * Declares name##p(type **) that calls func(*p) when non-NULL and resets *p: the way typed
 * cleanups (Pool, Solver, struct archive, ...) are made.
 */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                    \
        static inline void func##p(type *p)                                                        \
        {                                                                                          \
                int saved = errno;                                                                 \
                if (*p)                                                                            \
                        func(*p);                                                                  \
                *p = NULL;                                                                         \
                errno = saved;                                                                     \
        }

static inline bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

static inline bool startswith(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Growth for dynamic arrays: returns 0 or -ENOMEM; *arr and *cap updated only on success. */
int grow_array(void **arr, size_t *cap, size_t need, size_t elem_size);
#define GROW(arr, cap, need) grow_array((void **)&(arr), &(cap), (need), sizeof(*(arr)))

/* read(2) retried on EINTR: bytes read (0 at end of file), or -errno. */
ssize_t read_retry(int fd, void *buf, size_t len);

/* Writes all of buf to fd, retrying on EINTR and short writes. 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);

/* Copies in, from its offset to its end, to out at its offset: copy_file_range where the kernel
 * can (also across filesystems), else read/write. 0 or -errno. */
int copy_fd_all(int in, int out);

/* Reads a whole regular file (at most max bytes, else -EFBIG). NUL-terminated; *ret_len
 * excludes it. Opened with O_NONBLOCK: a directory is -EISDIR, anything else that is not a
 * regular file (fifo, device, socket) -EINVAL at once; a /proc file with nothing to read yet
 * (/proc/kmsg) is -EAGAIN, never a wait. */
int read_file_bounded(const char *path, size_t max, char **ret, size_t *ret_len);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void hex_encode(const uint8_t *bytes, size_t len, char *out);

/* Removes a directory tree without following symlinks. 0, or -errno of the first failure. */
int rm_rf(const char *path);

/* True when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF). */
bool utf8_valid(const char *s, size_t len);

/*
 * A copy of s fit for one line of an error message: bytes outside printable ASCII (newlines,
 * control characters, UTF-8 and invalid bytes alike) and backslashes written as \xNN, cut
 * after max input bytes with "...". The caller frees it; NULL on allocation failure.
 */
char *str_escape(const char *s, size_t max);

/*
 * Removes (rm_rf) the entries of dir named PREFIX[WORD-]PID-... whose PID no longer exists
 * here, that no process holds an flock on (a live build in another PID namespace holds its
 * temporary directories locked) and that were last modified at least min_age seconds ago: what
 * a killed process left of its temporary files. Best effort; errors are ignored.
 */
void remove_dead_temps(const char *dir, const char *prefix, unsigned min_age);

/* Seconds a dead process's temporary file or directory must be untouched before it is removed:
 * the cache, or OUT's parent, may be shared with builds in other PID namespaces, where a live
 * build's PID looks dead. */
#define CAIRN_TEMP_AGE 600

/*
 * Replaces path with buf (mode 0644) through a temporary sibling ".tmp-PID-RANDOM" and
 * rename(2), so a reader sees the old file or the new one, never half of either; with sync the
 * data is on disk before the rename. The temporary file is gone afterwards either way.
 * 0 or -errno.
 */
int write_file_atomic(const char *path, const void *buf, size_t len, bool sync);

/* mkdir -p with mode for each missing component. 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);
