/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A client for one registry host speaking the OCI distribution API over libcurl: requests
 * with their bodies (a buffer, or a range of a file hashed as it is sent), the response's
 * status, headers and bounded body, and authentication:
 *
 * - anonymous until the registry answers 401;
 * - Basic (RFC 7617) when its WWW-Authenticate challenge says so, with the credentials given
 *   (--username/--password-stdin) or found in $DOCKER_CONFIG/config.json, else
 *   ~/.docker/config.json ("auths": {"HOST": {"auth": base64("user:password")}});
 * - Bearer (the Docker registry v2 token flow): the challenge's realm is asked for a token
 *   with its service and the scopes the client needs ("repository:REPO:pull,push"), with Basic
 *   credentials when there are some; the answer's "token" (or "access_token") is sent from
 *   then on, and fetched again when the registry answers 401 to it.
 *
 * Credentials and tokens are never part of a message, and the Authorization header goes only
 * to the registry's own scheme://host (an upload location on another host gets none; curl
 * drops it on redirects to another host). TLS is verified unless the client was opened
 * insecure, which the command layer allows only for a loopback host or a host the user
 * named; an insecure client tries https first and falls back to plain http.
 *
 * Every failure to reach the registry, and every answer that is not what the protocol
 * promises, is a CAIRN_EXIT_SOURCE error naming the method and URL and, when the registry
 * sent one, its own error message (the "errors" array of the distribution API).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/error.h"

#define REGISTRY_MAX_RESPONSE (4 * 1024 * 1024) /* response bodies kept in memory */

struct registry_options {
        const char *username; /* borrowed; NULL: look in the docker config */
        const char *password; /* borrowed */
        bool insecure;        /* plain http or unverified TLS allowed for this host */
        const char *ca_file;  /* borrowed; PEM bundle to verify the registry with, or NULL */
};

struct registry_client;

/*
 * Opens a client for host ("HOST[:PORT]") and checks that it speaks the API (GET /v2/, which
 * may answer 401). *ret is owned by the caller; the strings o points to must outlive it.
 */
int registry_client_new(const char *host, const struct registry_options *o,
                        struct registry_client **ret, struct cairn_error *err);
void registry_client_free(struct registry_client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct registry_client *, registry_client_free)

/* "https://HOST" or "http://HOST": what requests are made to. Borrowed. */
const char *registry_client_base(const struct registry_client *c);

/* Adds scope ("repository:NAME:pull,push") to what bearer tokens are asked for; a token
 * already held is dropped when the scope is new. */
int registry_client_add_scope(struct registry_client *c, const char *scope);

/* A request body: none, a buffer, or len bytes of fd from offset. */
struct registry_body {
        const void *buf; /* borrowed, len bytes; or NULL */
        int fd;          /* with buf NULL and len > 0: read with pread from offset */
        uint64_t offset, len;
        const char *content_type; /* NULL: application/octet-stream when there is a body */
        /* When set, the bytes of fd are also added to hash, each once and in order, however
         * often a request is retried; *hashed is how far the hash has got. */
        struct digest *hash;
        uint64_t *hashed;
        /* Called before the last byte of the body is handed to curl; a negative return aborts
         * the request (the registry then never sees a complete body). */
        int (*before_last)(void *data);
        /* Called as bytes go out (live progress), with how many of len have been sent. */
        void (*sent)(void *data, uint64_t n);
        void *data;
};

struct registry_response {
        long status;
        char *location;         /* owned; absolute URL, or NULL */
        char *digest;           /* owned; Docker-Content-Digest, or NULL */
        char *content_type;     /* owned, or NULL */
        char *range;            /* owned; Range, or NULL */
        char *oci_subject;      /* owned; OCI-Subject, or NULL */
        char *chunk_min;        /* owned; OCI-Chunk-Min-Length, or NULL */
        int64_t content_length; /* -1 when not given */
        char *body;             /* owned, NUL-terminated; at most REGISTRY_MAX_RESPONSE bytes */
        size_t body_len;
};

void registry_response_clear(struct registry_response *r);
#define _cleanup_registry_response_ _cleanup_(registry_response_clear)

/*
 * Sends method ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE") to url: a path ("/v2/...")
 * on the registry, or an absolute URL (an upload location). headers are extra "Name: value"
 * lines (NULL-terminated, may be NULL). Authentication is handled here (one retry after a
 * 401 with a new challenge); any other status is the caller's to judge. A body larger than
 * REGISTRY_MAX_RESPONSE is cut there. *ret is filled on success and cleared by the caller.
 */
int registry_request(struct registry_client *c, const char *method, const char *url,
                     const struct registry_body *body, const char *const *headers,
                     struct registry_response *ret, struct cairn_error *err);

/*
 * The registry's own explanation of a failed response r: "CODE: message" from its "errors"
 * array, or "HTTP STATUS". *ret is owned by the caller (printable ASCII, bounded).
 */
int registry_response_message(const struct registry_response *r, char **ret);

/* Adds "METHOD URL: HTTP STATUS (registry message)" to err as a CAIRN_EXIT_SOURCE error. */
int registry_fail(struct cairn_error *err, const char *method, const char *url,
                  const struct registry_response *r);

/* The Accept header for every manifest type cairn reads (OCI and Docker, image and index). */
#define REGISTRY_ACCEPT_MANIFESTS                                                                  \
        "Accept: application/vnd.oci.image.manifest.v1+json, "                                     \
        "application/vnd.oci.image.index.v1+json, "                                                \
        "application/vnd.docker.distribution.manifest.v2+json, "                                   \
        "application/vnd.docker.distribution.manifest.list.v2+json"

/* ---- authentication helpers (auth.c) ---- */

/* A parsed WWW-Authenticate challenge. */
struct registry_challenge {
        char *scheme;                  /* owned; "basic" or "bearer" (lower-cased) */
        char *realm, *service, *scope; /* owned, NULL when absent */
};
void registry_challenge_clear(struct registry_challenge *ch);

/* Parses one WWW-Authenticate value (`Bearer realm="...",service="...",scope="..."`). 0,
 * -EINVAL when it is not a challenge, -ENOMEM. */
int registry_challenge_parse(const char *value, struct registry_challenge *ret);

/*
 * The credentials for host from the docker config ($DOCKER_CONFIG/config.json, else
 * $HOME/.docker/config.json): *ret_user and *ret_password (owned), or both NULL when the
 * config has none for host. A config that exists but cannot be read or parsed is an error
 * naming it (never showing its content).
 */
int registry_docker_credentials(const char *host, char **ret_user, char **ret_password,
                                struct cairn_error *err);
