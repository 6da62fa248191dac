/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registry references: HOST[:PORT]/REPO[:TAG][@sha256:HEX], the grammar of the distribution
 * project's reference package (lower-case path components separated by '/', tags of at most
 * 128 characters from [A-Za-z0-9_.-], no leading '.' or '-'). cairn has no default registry:
 * the first component must name a host (it holds a '.' or a ':', is "localhost", or is a
 * bracketed IPv6 address), so `hello:prod` is an error, never a push to somebody's registry.
 */
#pragma once

#include <stdbool.h>

#include "base/digest.h"
#include "base/error.h"

#define REGISTRY_NAME_MAX 255 /* HOST/REPO, as the distribution reference grammar bounds it */
#define REGISTRY_TAG_MAX  128

struct registry_ref {
        char *host;   /* owned; "HOST" or "HOST:PORT" as written */
        char *repo;   /* owned; "a/b/c" */
        char *tag;    /* owned; NULL when none was given */
        char *digest; /* owned; "sha256:HEX", NULL when none was given */
};

void registry_ref_free(struct registry_ref *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct registry_ref *, registry_ref_free)

/* Parses s into *ret (owned by the caller). Errors are CAIRN_EXIT_USAGE naming s. */
int registry_ref_parse(const char *s, struct registry_ref **ret, struct cairn_error *err);

/* True when t is a valid tag. */
bool registry_tag_valid(const char *t);

/* True when host (with or without a port) is localhost, 127.0.0.0/8 or [::1]: a registry on
 * this machine, the only kind --insecure applies to without naming it. */
bool registry_host_is_loopback(const char *host);

/* The fallback tag of the referrers tag schema for a "sha256:HEX" digest: "sha256-HEX"
 * (distribution-spec, "Referrers Tag Schema"); out holds DIGEST_OCI_LEN bytes. */
void registry_referrers_tag(const char *digest, char out[DIGEST_OCI_LEN]);
