/* SPDX-License-Identifier: Apache-2.0 */
#include "resolve.h"

/* Placeholder until the stage lands: adds nothing. */
int stage_resolve(struct build *b, struct cairn_error *err)
{
        (void)b;
        (void)err;
        return 0;
}

void resolve_state_free(void *state)
{
        free(state);
}
