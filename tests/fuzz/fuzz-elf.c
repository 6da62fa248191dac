/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the untrusted-input parsers of the enforcer: the ELF reader (with the
 * kernel-layout probe and the description of lying identification bytes) and the content
 * marker scanner, on a buffer and on a file whose second half sits behind a hole (the
 * SEEK_DATA/SEEK_HOLE path and the hole's string break). Built with -Dfuzz=true (clang); run by
 * ci/fuzz.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include "enforce/content_scan.h"
#include "enforce/elf_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One memory file for the process, rewritten per input. */
static int scan_file(void)
{
        static int fd = -2;
        if (fd == -2)
                fd = memfd_create("fuzz-elf", MFD_CLOEXEC);
        return fd;
}

static void scan_with_hole(const uint8_t *data, size_t size)
{
        int fd = scan_file();
        if (fd < 0 || ftruncate(fd, 0) < 0)
                return;
        size_t half = size / 2;
        /* The second half 1 MiB on: a hole between them, as in a sparse program. */
        if (pwrite(fd, data, half, 0) != (ssize_t)half ||
            pwrite(fd, data + half, size - half, (1 << 20) + 4096) != (ssize_t)(size - half))
                return;
        struct content_scan s;
        if (content_scan_fd(fd, &s) == 0) {
                char *ev = content_evidence(&s);
                free(ev);
                if (s.high_entropy_bytes > s.entropy_bytes)
                        __builtin_trap();
        }
        if (content_scan_fd_limit(fd, 4096, &s) == 0 && s.scanned > 4096)
                __builtin_trap();
        (void)content_entropy_sample_fd(fd, (1 << 20) + 4096 + size - half, 8, &s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct elf_probe probe;
        elf_probe(data, size, &probe);
        if (probe.layout_known) {
                char *d = elf_ident_odd_describe(data, size, &probe);
                free(d);
        }
        struct elf_info info;
        _cleanup_cairn_error_ struct cairn_error err = CAIRN_ERROR_INIT;
        if (elf_read(data, size, &info, &err) == 0) {
                /* Touch every string so a bad pointer or length shows up under ASan. */
                size_t n = 0;
                n += info.interp ? strlen(info.interp) : 0;
                for (size_t i = 0; i < info.n_needed; i++)
                        n += strlen(info.needed[i]);
                n += info.rpath ? strlen(info.rpath) : 0;
                n += info.runpath ? strlen(info.runpath) : 0;
                if (info.needed[info.n_needed] != NULL || n > size)
                        __builtin_trap();
                /* The reader reads the layout the probe found, never e_ident's. */
                if (!probe.layout_known || info.elf_class != probe.elf_class ||
                    info.big_endian != probe.big_endian || info.ident_odd != probe.ident_odd)
                        __builtin_trap();
                (void)elf_debian_arch(info.machine, info.elf_class, info.big_endian);
                (void)elf_matches_arch(&info, "amd64");
                elf_info_clear(&info);
        }
        struct content_scan scan;
        content_scan_buf(data, size, &scan);
        char *ev = content_evidence(&scan);
        free(ev);
        (void)content_is_opaque(&scan);
        (void)content_memfd_exec(&scan);
        scan_with_hole(data, size);
        return 0;
}
