/* SPDX-License-Identifier: Apache-2.0 */
#include "emit.h"

/* Placeholder until the stage lands: adds nothing. */
int stage_emit(struct build *b, const char *out_dir, struct cairn_error *err)
{
        (void)b;
        (void)out_dir;
        (void)err;
        return 0;
}
