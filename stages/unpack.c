/* SPDX-License-Identifier: Apache-2.0 */
#include "unpack.h"

/* Placeholder until the stage lands: adds nothing. */
int stage_unpack(struct build *b, struct build_variant *v, struct cairn_error *err)
{
        (void)b;
        (void)v;
        (void)err;
        return 0;
}
