/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the lock-file reader (assembler/recipe/lockfile.c, reading through
 * yamlnode.c and yamlread.c). A lock is usually written by cairn, but it is committed beside
 * the recipe and edited by people and merge tools. Besides not crashing, whatever the reader
 * accepts must print and read back to the same bytes, and a lock never differs from itself.
 */
#include <stdio.h>
#include <string.h>

#include "recipe/lockfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *print(const struct lockfile *lock, size_t *ret_len)
{
        char *buf = NULL;
        FILE *f = open_memstream(&buf, ret_len);
        if (!f)
                return NULL;
        lockfile_print(lock, f);
        fclose(f);
        return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct cairn_error err = CAIRN_ERROR_INIT;
        struct lockfile *lock = NULL;
        if (lockfile_parse("fuzz.lock.json", (const char *)data, size, &lock, &err) < 0) {
                cairn_error_clear(&err);
                return 0;
        }
        size_t len = 0, len2 = 0;
        char *text = print(lock, &len);
        struct lockfile *again = NULL;
        if (!text || lockfile_parse("again.lock.json", text, len, &again, &err) < 0)
                __builtin_trap();
        char *text2 = print(again, &len2);
        if (!text2 || len != len2 || memcmp(text, text2, len) != 0)
                __builtin_trap();
        char **lines = NULL;
        if (lockfile_diff(lock, again, &lines) < 0 || lines)
                __builtin_trap();
        free(text);
        free(text2);
        lockfile_free(lock);
        lockfile_free(again);
        cairn_error_clear(&err);
        return 0;
}
