/* SPDX-License-Identifier: Apache-2.0 */
#include "readset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <unistd.h>
#include <xxhash.h>

#include "base/util.h"

static int readset_grow(struct readset *s)
{
        size_t n_slots = s->n_slots ? s->n_slots * 2 : 1024;
        size_t *slots = calloc(n_slots, sizeof(*slots));
        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < s->n; i++) {
                size_t h = (size_t)XXH3_64bits(s->paths[i], strlen(s->paths[i]));
                size_t j = h & (n_slots - 1);
                while (slots[j])
                        j = (j + 1) & (n_slots - 1);
                slots[j] = i + 1;
        }
        free(s->slots);
        s->slots = slots;
        s->n_slots = n_slots;
        return 0;
}

int readset_add(struct readset *s, const char *path)
{
        if (s->n >= READSET_MAX) {
                s->truncated = true;
                return 0;
        }
        /* Load factor at most 1/2. */
        if ((s->n + 1) * 2 > s->n_slots) {
                int r = readset_grow(s);
                if (r < 0)
                        return r;
        }
        size_t len = strlen(path);
        size_t j = (size_t)XXH3_64bits(path, len) & (s->n_slots - 1);
        for (; s->slots[j]; j = (j + 1) & (s->n_slots - 1))
                if (streq(s->paths[s->slots[j] - 1], path))
                        return 0;
        if (GROW(s->paths, s->cap, s->n + 1) < 0)
                return -ENOMEM;
        char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        s->paths[s->n++] = copy;
        s->slots[j] = s->n;
        return 0;
}

int readset_drain_fanotify(struct readset *s, int fan, const char *prefix)
{
        size_t plen = strlen(prefix);
        _Alignas(struct fanotify_event_metadata) char buf[16384];
        for (;;) {
                ssize_t n = read(fan, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
                if (n == 0)
                        return 0;
                const struct fanotify_event_metadata *m = (const void *)buf;
                for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
                        if (m->vers != FANOTIFY_METADATA_VERSION || m->fd < 0)
                                continue;
                        char link[64], path[4096];
                        snprintf(link, sizeof(link), "/proc/self/fd/%d", m->fd);
                        ssize_t l = readlink(link, path, sizeof(path) - 1);
                        close(m->fd);
                        if (l <= 0)
                                continue;
                        path[l] = '\0';
                        const char *p = path;
                        /* Seen through our own mount point, or (a mount of another namespace)
                         * from the overlay's root. */
                        if (strncmp(p, prefix, plen) == 0 && (p[plen] == '/' || !p[plen]))
                                p += plen;
                        if (p[0] != '/')
                                continue;
                        int r = readset_add(s, p);
                        if (r < 0)
                                return r;
                }
        }
}

void readset_clear(struct readset *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->paths[i]);
        free(s->paths);
        free(s->slots);
        *s = (struct readset){ 0 };
}
