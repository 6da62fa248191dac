/* SPDX-License-Identifier: Apache-2.0 */
#include "initbin.h"

#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>

#include "base/digest.h"
#include "enforce/elf_reader.h"
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
        return initbin_open_arch(option, NULL, ret, err);
}

int initbin_open_arch(const char *option, const char *arch, struct initbin *ret,
                      struct cairn_error *err)
{
        _cleanup_free_ char *tried = NULL, *exe_dir = NULL, *c3 = NULL, *c4 = NULL, *opt = NULL,
                            *envp = NULL, *libexec = NULL, *suffix = NULL;
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n > 0) {
                exe[n] = '\0';
                exe_dir = strdup(dirname(exe));
        }
        const char *env = getenv("CAIRN_INIT_BINARY");
        /* Another architecture's cairn-init: the same places, named cairn-init-ARCH. */
        if (asprintf(&suffix, "%s%s", arch ? "-" : "", arch ? arch : "") < 0)
                return -ENOMEM;
        if ((exe_dir && (asprintf(&c3, "%s/cairn-init%s", exe_dir, suffix) < 0 ||
                         asprintf(&c4, "%s/init/cairn-init%s", exe_dir, suffix) < 0)) ||
            (option && asprintf(&opt, "%s%s", option, suffix) < 0) ||
            (env && *env && asprintf(&envp, "%s%s", env, suffix) < 0) ||
            asprintf(&libexec, CAIRN_LIBEXECDIR "/cairn-init%s", suffix) < 0)
                return -ENOMEM;
        const char *candidates[] = { opt, envp, c3, c4, libexec };
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
        if (!path && arch)
                return cairn_error_add(err, CAIRN_EXIT_USAGE, -ENOENT,
                                       "run.init: no cairn-init for %s (looked at %s); install "
                                       "Debian's cross compiler for %s and rebuild (ninja -C "
                                       "build makes init/cairn-init-%s), or build this "
                                       "architecture alone with --arch %s --init-binary PATH",
                                       arch, tlen ? tried : "nothing", arch, arch, arch);
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
        /* The image runs it as PID 1: one for another machine would not start. */
        if (arch) {
                _cleanup_cairn_error_ struct cairn_error eerr = CAIRN_ERROR_INIT;
                struct elf_info info;
                int e = elf_read_fd(fd, &info, &eerr);
                if (e == -ENOMEM)
                        return e;
                if (e < 0 || elf_matches_arch(&info, arch) != true)
                        return cairn_error_add(
                                err, CAIRN_EXIT_USAGE, -ENOEXEC, "%s: not a cairn-init for %s (%s)",
                                path, arch,
                                e < 0 ? "not an ELF program"
                                : elf_debian_arch(info.machine, info.elf_class, info.big_endian)
                                        ? elf_debian_arch(info.machine, info.elf_class,
                                                          info.big_endian)
                                        : "another architecture");
        }
        char hex[DIGEST_HEX_MAX];
        if (lseek(fd, 0, SEEK_SET) < 0 || digest_fd_hex(DIGEST_SHA256, fd, hex) < 0 ||
            lseek(fd, 0, SEEK_SET) < 0)
                return cairn_error_errno(err, -errno, "%s: %m", path);
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        ret->path = steal_pointer(&p);
        ret->fd = steal_fd(&fd);
        snprintf(ret->sha256, sizeof(ret->sha256), "sha256:%s", hex);
        return 0;
}
