/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the Release handling of assembler/debian/debrepo.c: the SHA256 list of a
 * (signed, but written by the repository's owner) Release file, looked up for the index paths
 * cairn asks for.
 */
#include <string.h>

#include "debian/debrepo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *release = malloc(size + 1);
        if (!release)
                return 0;
        memcpy(release, data, size);
        release[size] = '\0';
        static const char *const paths[] = {
                "main/binary-amd64/Packages.xz",
                "main/binary-amd64/Packages.gz",
                "main/binary-amd64/Packages",
                "contrib/binary-arm64/Packages.xz",
        };
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                char hex[65];
                memset(hex, 'x', sizeof(hex));
                uint64_t len = 0;
                if (debrepo_release_lookup(release, paths[i], hex, &len) &&
                    strnlen(hex, sizeof(hex)) == sizeof(hex))
                        __builtin_trap();
        }
        free(release);
        return 0;
}
