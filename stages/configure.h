/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage configure: Inserts the recipe's files:, the accounts (/etc/passwd, /etc/group),
 * /etc/os-release and cairn-init into v->tree, in layer base.
 */
#pragma once

#include "state/build.h"

int stage_configure(struct build *b, struct build_variant *v, struct cairn_error *err);

/*
 * Once the variant's tree is complete (after artifacts): every user's login shell is in it,
 * unless it is a shell that refuses logins (/sbin/nologin, /usr/sbin/nologin, /bin/false,
 * /usr/bin/false, which need not exist). One positioned error per user that fails.
 */
int stage_configure_check(struct build *b, struct build_variant *v, struct cairn_error *err);
