/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the two readers of /etc/cairn/runtime.json: cairn-init's own bounded
 * reader (init/rtjson.c, in the static init, where nothing else would catch a fault) and
 * cairn's (assembler/runtime/runtime.c, `cairn runtime IMAGE`, which reads images somebody
 * else built). Besides not crashing: what cairn's reader accepts renders to a document both
 * readers accept, with the same paths, and that renders to the same bytes again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init/rtjson.h"
#include "runtime/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int init_parse(const char *buf, size_t len, struct rt_manifest *m, char **ret_copy)
{
        char msg[256];
        char *copy = malloc(len + 1);
        if (!copy)
                return -1;
        memcpy(copy, buf, len);
        copy[len] = '\0';
        int r = rt_manifest_parse(copy, len, m, msg, sizeof(msg));
        if (r < 0) {
                free(copy);
                return r;
        }
        *ret_copy = copy;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct rt_manifest im;
        char *copy = NULL;
        if (init_parse((const char *)data, size, &im, &copy) == 0) {
                for (size_t i = 0; i < im.n_executables; i++)
                        if (im.executables[i][0] != '/')
                                __builtin_trap();
                rt_manifest_clear(&im);
                free(copy);
        }

        struct cairn_error err = CAIRN_ERROR_INIT;
        struct runtime_manifest *m = NULL;
        if (runtime_manifest_parse("fuzz.json", (const char *)data, size, &m, &err) < 0) {
                cairn_error_clear(&err);
                return 0;
        }
        char *text = NULL, *text2 = NULL;
        size_t len = 0, len2 = 0;
        struct runtime_manifest *again = NULL;
        if (runtime_manifest_render(m, &text, &len) < 0 ||
            runtime_manifest_parse("again.json", text, len, &again, &err) < 0 ||
            runtime_manifest_render(again, &text2, &len2) < 0 || len != len2 ||
            memcmp(text, text2, len) != 0)
                __builtin_trap();
        if (init_parse(text, len, &im, &copy) < 0 || im.n_writable != strv_length(m->writable) ||
            im.n_executables != strv_length(m->executables))
                __builtin_trap();
        for (size_t i = 0; i < im.n_executables; i++)
                if (strcmp(im.executables[i], m->executables[i]) != 0)
                        __builtin_trap();
        rt_manifest_clear(&im);
        free(copy);
        /* The snippets of anything accepted are written without failing. */
        FILE *f = fopen("/dev/null", "w");
        if (f) {
                if (runtime_format_kubernetes(m, "i", f) < 0 ||
                    runtime_format_docker(m, "i", f) < 0 || runtime_format_compose(m, "i", f) < 0)
                        __builtin_trap();
                fclose(f);
        }
        free(text);
        free(text2);
        runtime_manifest_free(again);
        runtime_manifest_free(m);
        return 0;
}
