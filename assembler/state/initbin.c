/* SPDX-License-Identifier: Apache-2.0 */
#include "initbin.h"

#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>

#include "base/digest.h"
#include "version.h"

void initbin_clear(struct initbin *ib)
{
        free(ib->path);
        if (ib->fd >= 0)
                close(ib->fd);
        *ib = (struct initbin)INITBIN_INIT;
}

int initbin_open(const char *option, struct initbin *ret, struct cairn_error *err)
{
        _cleanup_free_ char *tried = NULL, *exe_dir = NULL, *c3 = NULL, *c4 = NULL;
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
                exe[n] = '\0';
                exe_dir = strdup(dirname(exe));
        }
        const char *env = getenv("CAIRN_INIT_BINARY");
        if (exe_dir && (asprintf(&c3, "%s/cairn-init", exe_dir) < 0 ||
                        asprintf(&c4, "%s/init/cairn-init", exe_dir) < 0))
                return -ENOMEM;
        const char *candidates[] = { option, env && *env ? env : NULL, c3, c4,
                                     CAIRN_LIBEXECDIR "/cairn-init" };
        size_t tlen = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&tried, &tlen);
        if (!f)
                return -ENOMEM;
        const char *path = NULL;
        for (size_t i = 0; i < ELEMENTSOF(candidates) && !path; i++) {
                if (!candidates[i])
                        continue;
                if (access(candidates[i], R_OK) == 0) {
                        path = candidates[i];
                        break;
                }
                fprintf(f, "%s%s", tlen ? ", " : "", candidates[i]);
                fflush(f);
                /* --init-binary names the one to use: no fallback past it. */
                if (i == 0)
                        break;
        }
        if (fflush(f) != 0)
                return -ENOMEM;
        if (!path)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                                       "run.init: cairn-init not found (looked at %s); build it "
                                       "(ninja -C build) or pass --init-binary PATH",
                                       tlen ? tried : "nothing");
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > INITBIN_MAX)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -EINVAL,
                                       "%s: cairn-init must be a regular file of at most %llu "
                                       "MiB",
                                       path, INITBIN_MAX >> 20);
        char hex[DIGEST_HEX_MAX];
        if (digest_fd_hex(DIGEST_SHA256, fd, hex) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        ret->path = steal_pointer(&p);
        ret->fd = steal_fd(&fd);
        snprintf(ret->sha256, sizeof(ret->sha256), "sha256:%s", hex);
        return 0;
}
