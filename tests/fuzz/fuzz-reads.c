/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the reads-record reader (assembler/recipe/readsfile.c, through
 * yamlnode.c and yamlread.c). The record is committed beside the recipe and edited by people
 * and merge tools. Besides not crashing, whatever the reader accepts must be sorted and
 * unique, print and read back to the same bytes, and find each of its paths.
 */
#include <stdio.h>
#include <string.h>

#include "recipe/readsfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *print(const struct readsfile *rf, size_t *ret_len)
{
        char *buf = NULL;
        FILE *f = open_memstream(&buf, ret_len);
        if (!f)
                return NULL;
        readsfile_print(rf, f);
        fclose(f);
        return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct cairn_error err = CAIRN_ERROR_INIT;
        struct readsfile *rf = NULL;
        if (readsfile_parse("fuzz.reads.json", (const char *)data, size, &rf, &err) < 0) {
                cairn_error_clear(&err);
                return 0;
        }
        for (size_t i = 0; i < rf->n_reads; i++)
                if (!readsfile_has(rf, rf->reads[i]) ||
                    (i > 0 && strcmp(rf->reads[i - 1], rf->reads[i]) >= 0))
                        __builtin_trap();
        size_t len = 0, len2 = 0;
        char *text = print(rf, &len);
        struct readsfile *again = NULL;
        if (!text || readsfile_parse("again.reads.json", text, len, &again, &err) < 0)
                __builtin_trap();
        char *text2 = print(again, &len2);
        if (!text2 || len != len2 || memcmp(text, text2, len) != 0)
                __builtin_trap();
        free(text);
        free(text2);
        readsfile_free(rf);
        readsfile_free(again);
        cairn_error_clear(&err);
        return 0;
}
