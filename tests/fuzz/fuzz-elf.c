/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the untrusted-input parsers of the enforcer: the ELF reader and the
 * content marker scanner. Built with -Dfuzz=true (clang); run by ci/fuzz.
 */
#include <stddef.h>
#include <stdint.h>

#include "enforce/content_scan.h"
#include "enforce/elf_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
                (void)elf_debian_arch(info.machine, info.elf_class, info.big_endian);
                (void)elf_matches_arch(&info, "amd64");
                elf_info_clear(&info);
        }
        struct content_scan scan;
        content_scan_buf(data, size, &scan);
        char *ev = content_evidence(&scan);
        free(ev);
        return 0;
}
