/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs a libFuzzer target's entry point over files, without libFuzzer: how the crashers kept
 * under tests/fuzz/regress/ and the committed seeds are replayed by the ordinary test suite
 * (and under ASan+UBSan in build-asan). Arguments are files or directories of files.
 */
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = read_file_bounded(path, 64 << 20, &buf, &len);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(-r));
                return r;
        }
        printf("replaying %s (%zu bytes)\n", path, len);
        fflush(stdout);
        (void)LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
        return 0;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
        int status = 0;
        size_t n_files = 0;
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "%s: %m\n", argv[i]);
                        return 1;
                }
                if (!S_ISDIR(st.st_mode)) {
                        status |= replay_file(argv[i]) < 0;
                        n_files++;
                        continue;
                }
                struct dirent **names = NULL;
                int n = scandir(argv[i], &names, NULL, name_cmp);
                for (int k = 0; k < n; k++) {
                        if (names[k]->d_name[0] != '.') {
                                _cleanup_free_ char *p = NULL;
                                if (asprintf(&p, "%s/%s", argv[i], names[k]->d_name) >= 0) {
                                        status |= replay_file(p) < 0;
                                        n_files++;
                                }
                        }
                        free(names[k]);
                }
                free(names);
        }
        printf("%zu inputs replayed\n", n_files);
        return status;
}
