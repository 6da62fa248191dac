/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CA bundle of a `certificates:` item: /etc/ssl/certs/ca-certificates.crt as Debian's
 * update-ca-certificates writes it with the default configuration, made without running any
 * script (docs/recipe.md, "Certificates").
 *
 * On a fresh install the package's postinst writes /etc/ca-certificates.conf listing every
 * regular file *.crt below /usr/share/ca-certificates, relative to it and sorted (sort(1) in
 * the C locale dpkg runs it in: byte order), all selected (debconf's default); then
 * update-ca-certificates appends each listed file to the bundle, adding a newline where a file
 * lacks its last one (`sed -e '$a\'`). Names the configuration scripts cannot carry are
 * dropped as they drop them: names with blanks or commas (the lists are split on both) and
 * lines starting with '#' or '!' (comments and deselections in the .conf).
 */
#pragma once

#include <stddef.h>

#include "base/error.h"
#include "debcache.h"

#define CABUNDLE_CERTS_DIR "/usr/share/ca-certificates/"
#define CABUNDLE_MAX_BYTES (64ULL << 20)

/*
 * The bundle made from the certificates of package contents dc (file contents in s). origin
 * names the package in messages. On success *ret (owned by the caller, ret_len bytes) holds
 * the bundle and *ret_count the number of certificate files in it. A package without any
 * certificate is -ENOENT with err set.
 */
int cabundle_build(const struct deb_contents *dc, const struct store *s, const char *origin,
                   char **ret, size_t *ret_len, size_t *ret_count, struct cairn_error *err);
