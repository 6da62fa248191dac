/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recipe model: schema version 1 of DESIGN.md §2 as plain C structs.
 *
 * recipe_parse_file() reads and validates a recipe; every string in the result is owned by the
 * struct recipe and freed by recipe_free(). recipe_view_new() gives "the recipe as seen by one
 * variant": the items whose `variants:` include it, and the run/policy settings with the
 * variant's overrides and the safe defaults applied. A view borrows every string from its
 * recipe and must be freed before it.
 *
 * Positions (line, column) are 1-based, from libyaml's marks.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define RECIPE_SCHEMA_VERSION 1
#define RECIPE_MAX_BYTES      (1024 * 1024) /* a recipe larger than this is refused */
#define RECIPE_MAX_VARIANTS   16
#define RECIPE_MODE_UNSET     (-1)
#define RECIPE_ID_UNSET       UINT32_MAX

/* The longest variant name, in bytes: [a-z][a-z0-9-]*. */
#define RECIPE_VARIANT_NAME_MAX 32

struct recipe_pos {
        unsigned line, column;
};

/* Bit i set: the item belongs to variant i of recipe->variants. 0 is never stored: items
 * without `variants:` get RECIPE_ALL_VARIANTS. */
typedef uint32_t recipe_variant_mask;
#define RECIPE_ALL_VARIANTS UINT32_MAX

struct recipe_kv {
        char *key;   /* owned */
        char *value; /* owned */
};

struct recipe_source {
        char *name;        /* owned */
        char *type;        /* owned; "deb" */
        char *url;         /* owned; "apt", http://, https://, file:// */
        char *suite;       /* owned */
        char **components; /* owned, NULL-terminated; default {"main"} */
        char *keyring;     /* owned; NULL only when trusted */
        bool trusted;
        recipe_variant_mask variants;
        struct recipe_pos pos;
};

/*
 * One pick out of a utility's package: package path -> image path. src is a file (copied to
 * dest), a directory (copied with everything below it to dest), or a pattern (`glob`: `*` and
 * `?` within one path component, `**` across components) whose every match is placed under
 * dest with the part after the pattern's fixed prefix (prefix_len bytes of src) kept.
 */
struct recipe_pick {
        char *src;         /* owned; absolute path or pattern inside the package */
        char *dest;        /* owned; absolute normalised path in the image */
        bool glob;         /* src holds '*' or '?' */
        size_t prefix_len; /* globs: length of the leading components without a wildcard */
        struct recipe_pos pos;
};

enum recipe_utility_kind {
        RECIPE_UTILITY_PICK,      /* utilities: files picked by path, directory or pattern */
        RECIPE_UTILITY_CA_BUNDLE, /* certificates: the CA bundle made from the package */
};

/*
 * A package taken without its dependencies: a `utilities:` item (files picked out of it) or a
 * `certificates:` item (the CA bundle update-ca-certificates would make from it). Both kinds
 * are resolved, locked and fetched alike; certificates items follow the utilities in
 * recipe->utilities.
 */
struct recipe_utility {
        enum recipe_utility_kind kind;
        char *package;             /* owned; a libsolv dependency string, "tini (>= 0.19)" */
        struct recipe_pick *files; /* owned, n_files entries, in recipe order (picks) */
        size_t n_files;
        char *bundle;      /* owned; CA bundle path in the image (certificates), else NULL */
        bool no_copyright; /* copyright: false: leave /usr/share/doc/PKG/copyright out */
        recipe_variant_mask variants;
        struct recipe_pos pos;
};

/*
 * A dynamically linked program out of a Debian package, with exactly the files it loads
 * (`programs:`, docs/recipe.md "Programs"): the package's Depends closure is resolved like a
 * packages: item, then only the program, its PT_INTERP and its DT_NEEDED libraries (followed
 * transitively, as ld.so finds them) are placed, plus `dlopen:` paths or patterns and their
 * own libraries.
 */
struct recipe_program {
        char *package;     /* owned; a libsolv dependency string, its Depends closure is searched */
        char *path;        /* owned; the program's path in a package of the closure */
        char *dest;        /* owned; where it goes in the image (default: path) */
        char **dlopen;     /* owned, NULL-terminated: paths or patterns in the closure's packages */
        char **data;       /* owned, NULL-terminated: paths or patterns of files it reads */
        bool only_read;    /* dlopen:/data: patterns keep only the files the reads record lists */
        bool no_copyright; /* copyright: false: no copyright files of the closure */
        recipe_variant_mask variants;
        struct recipe_pos pos;
};

struct recipe_package {
        char *name;        /* owned; a libsolv dependency string */
        bool no_copyright; /* copyright: false: leave the named package's copyright file out */
        recipe_variant_mask variants;
        struct recipe_pos pos;
};

/*
 * `identity:` - how the image names its distribution (docs/recipe.md, "Debian identity").
 * By default an image with files from Debian sources gets /etc/debian_version and a Debian
 * /etc/os-release from the suite's base-files; `debian: false` turns that off.
 */
struct recipe_identity {
        int debian;           /* -1 unset (on), 0 or 1 */
        char *debian_version; /* owned; /etc/debian_version's text without the newline, or NULL */
        struct recipe_kv *os_release; /* owned, n_os_release: os-release keys to set ("" drops) */
        size_t n_os_release;
        struct recipe_pos pos;
};

struct recipe_artifact {
        char *src;    /* owned; as written, relative to the build context, no '..' */
        char *dest;   /* owned; absolute normalised image path */
        int mode;     /* 0..07777, or RECIPE_MODE_UNSET: keep the source's (files), 0755 dirs */
        uint32_t uid; /* RECIPE_ID_UNSET: 0 */
        uint32_t gid; /* RECIPE_ID_UNSET: 0 */
        char *sha256; /* owned; 64 lower-case hex digits, or NULL */
        /* owned, n_sha256_by_arch: `sha256: { ARCH: HEX, ... }`, a pin per architecture (key:
         * the Debian architecture, value: the digest); sha256 is NULL then. */
        struct recipe_kv *sha256_by_arch;
        size_t n_sha256_by_arch;
        recipe_variant_mask variants;
        struct recipe_pos pos;
};

struct recipe_group {
        char *name; /* owned */
        uint32_t gid;
        recipe_variant_mask variants;
        struct recipe_pos pos;
};

struct recipe_user {
        char *name; /* owned */
        uint32_t uid;
        uint32_t gid; /* RECIPE_ID_UNSET: same as uid */
        char *home;   /* owned; default "/" */
        char *shell;  /* owned; default "/sbin/nologin" */
        recipe_variant_mask variants;
        struct recipe_pos pos;
};

enum recipe_file_type {
        RECIPE_FILE_REGULAR, /* default when `content` is given */
        RECIPE_FILE_DIR,
        RECIPE_FILE_SYMLINK,
};

struct recipe_file {
        char *path; /* owned; absolute normalised */
        enum recipe_file_type type;
        int mode;          /* RECIPE_MODE_UNSET: 0644 files, 0755 dirs, 0777 symlinks */
        uint32_t uid, gid; /* RECIPE_ID_UNSET: 0 */
        char *content;     /* owned; regular files only; may contain NULs */
        size_t content_len;
        char *target; /* owned; symlinks only; kept as written */
        recipe_variant_mask variants;
        struct recipe_pos pos;
};

/* How run.healthcheck probes the service (cairn-init --probe). */
enum recipe_probe {
        RECIPE_PROBE_HTTP, /* `http: URL`: one GET, status `expect` (default 200-399) */
        RECIPE_PROBE_TCP,  /* `tcp: HOST:PORT`: one connect */
};

#define RECIPE_HEALTH_INTERVAL_NS     (30LL * 1000000000) /* Docker's default */
#define RECIPE_HEALTH_TIMEOUT_NS      (10LL * 1000000000) /* cairn-init --probe's default */
#define RECIPE_HEALTH_RETRIES         3                   /* Docker's default */
#define RECIPE_HEALTH_MAX_DURATION_NS (24LL * 3600 * 1000000000)
#define RECIPE_HEALTH_MAX_TIMEOUT_NS  (3600LL * 1000000000) /* cairn-init's --timeout limit */
#define RECIPE_HEALTH_MAX_RETRIES     100

/* `run.healthcheck:`, with the defaults applied at parse time. */
struct recipe_healthcheck {
        enum recipe_probe kind;
        char *target; /* owned; "http://HOST[:PORT]/PATH" or "tcp://HOST:PORT" */
        int expect;   /* http: the one status wanted, or 0 for any of 200-399 */
        int64_t interval_ns, timeout_ns, start_period_ns;
        unsigned retries;
        struct recipe_pos pos;
};

/*
 * `run:`, also the shape of a variant's `run:` override. Each field has a "set" marker so an
 * override replaces exactly the keys it names (merge key by key).
 */
struct recipe_run {
        char *user; /* owned; a name from accounts, or "UID[:GID]" */
        struct recipe_pos user_pos;
        char **entrypoint; /* owned, NULL-terminated */
        bool has_entrypoint;
        char **cmd; /* owned, NULL-terminated */
        bool has_cmd;
        char *workdir;         /* owned */
        struct recipe_kv *env; /* owned, n_env entries, in recipe order */
        size_t n_env;
        bool has_env;
        struct recipe_kv *labels; /* owned, n_labels entries, in recipe order */
        size_t n_labels;
        bool has_labels;
        char *stop_signal; /* owned; "SIGTERM" form */
        char *init;        /* owned; "cairn-init" or NULL */
        int read_only;     /* -1 unset, 0, 1 */
        char **writable;   /* owned, NULL-terminated */
        bool has_writable;
        char **require_env; /* owned, NULL-terminated */
        bool has_require_env;
        char **capabilities; /* owned, NULL-terminated: "CAP_NET_BIND_SERVICE", recipe order */
        bool has_capabilities;
        int landlock; /* -1 unset (a view: the effective read_only), 0, 1 */
        struct recipe_pos landlock_pos;
        struct recipe_healthcheck *healthcheck; /* owned; NULL: none (or `healthcheck: none`) */
        bool has_healthcheck;
        char **ports; /* owned, NULL-terminated: "8080/tcp" (the config's ExposedPorts) */
        bool has_ports;
        char **volumes; /* owned, NULL-terminated absolute paths (the config's Volumes) */
        bool has_volumes;
        struct recipe_kv *annotations; /* owned, n_annotations: the manifest's, recipe order */
        size_t n_annotations;
        bool has_annotations;
};

/* Tuning of one enforcer profile (`policy: NAME:`). */
struct recipe_policy {
        char *name;               /* owned; "strict", "dev", or a recipe-defined name */
        char **allow_executables; /* owned, NULL-terminated globs */
        char **disable_rules;     /* owned, NULL-terminated rule ids */
        struct recipe_pos pos;
};

struct recipe_variant {
        char *name;            /* owned */
        char *policy;          /* owned; NULL: "strict" for prod, "dev" otherwise */
        struct recipe_run run; /* the override; only the has_/set keys apply */
        struct recipe_pos pos;
};

struct recipe {
        char *path; /* owned; as given to recipe_parse_file */
        char *dir;  /* owned; directory of path, for artifact sources */
        unsigned schema;
        char *name; /* owned */
        /* owned, NULL-terminated, in byte order, no duplicates: the Debian architectures
         * `arch:` names (one name or a list); NULL: the host's. arch is archs[0] when the
         * recipe names exactly one, NULL otherwise (borrowed from archs). */
        char **archs;
        size_t n_archs;
        const char *arch;
        struct recipe_pos arch_pos;
        int64_t epoch; /* -1 when the recipe does not set it */
        struct recipe_pos epoch_pos;
        /* owned; context: (the build context), relative to dir, no '..'; NULL: dir itself */
        char *context;
        struct recipe_pos context_pos;

        struct recipe_source *sources;
        size_t n_sources;
        struct recipe_utility *utilities;
        size_t n_utilities;
        struct recipe_package *packages;
        size_t n_packages;
        struct recipe_program *programs;
        size_t n_programs;
        struct recipe_artifact *artifacts;
        size_t n_artifacts;
        struct recipe_group *groups;
        size_t n_groups;
        struct recipe_user *users;
        size_t n_users;
        struct recipe_file *files;
        size_t n_files;
        size_t n_certificates; /* the last n_certificates of utilities are certificates: */
        struct recipe_identity identity;
        struct recipe_kv *annotations; /* owned, n_annotations: top-level annotations:, for the
                                          manifest of every variant (run: keys win) */
        size_t n_annotations;
        struct recipe_run run;
        struct recipe_variant *variants; /* default: dev, prod (in that order) */
        size_t n_variants;
        struct recipe_policy *policies;
        size_t n_policies;
};

/*
 * Parses and validates the recipe at path. On failure returns -EINVAL (or the errno of a read
 * failure) and err holds one "FILE:LINE:COLUMN: error: MESSAGE" per problem found, all of them,
 * with exit class CAIRN_EXIT_USAGE. On success *ret owns the recipe.
 */
int recipe_parse_file(const char *path, struct recipe **ret, struct cairn_error *err);

/* Same, from a buffer; `name` is used in messages and to find relative artifact sources. */
int recipe_parse_buffer(const char *name, const char *buf, size_t len, struct recipe **ret,
                        struct cairn_error *err);

void recipe_free(struct recipe *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct recipe *, recipe_free)
#define _cleanup_recipe_ _cleanup_(recipe_freep)

/* Index of the variant called name, or -ENOENT. */
int recipe_variant_index(const struct recipe *r, const char *name);

/* The host's Debian architecture name ("amd64", "arm64", ...) for the compiler's target. */
const char *recipe_host_arch(void);

/* True when the recipe builds for architecture arch (the host's when it names none). */
bool recipe_has_arch(const struct recipe *r, const char *arch);

/* The marker an artifact's src may hold, replaced by the architecture being built. */
#define RECIPE_ARCH_MARKER "${arch}"

/* src with every RECIPE_ARCH_MARKER replaced by arch, into *ret (owned). 0 or -ENOMEM. */
int recipe_expand_arch(const char *src, const char *arch, char **ret);

/* The pin of artifact a for architecture arch: its sha256, or its sha256_by_arch entry for
 * arch; NULL when it has none. Borrowed. */
const char *recipe_artifact_pin(const struct recipe_artifact *a, const char *arch);

/*
 * The recipe as seen by one variant. Arrays hold pointers into the recipe (borrowed); the
 * run settings are merged key by key: recipe `run:` then the variant's `run:` override, then
 * defaults (prod: read_only=1 when unset, user = the first declared non-root user when unset;
 * landlock = read_only when unset and cairn-init is the init, else 0).
 */
struct recipe_view {
        const struct recipe *recipe;
        const struct recipe_variant *variant;
        unsigned index;                            /* variant index */
        const char *policy;                        /* effective profile name */
        const struct recipe_policy *policy_tuning; /* NULL when the recipe does not tune it */
        int64_t epoch; /* recipe epoch, or 0 when unset (callers apply overrides) */

        const struct recipe_source **sources;
        size_t n_sources;
        const struct recipe_utility **utilities;
        size_t n_utilities;
        const struct recipe_package **packages;
        size_t n_packages;
        const struct recipe_program **programs;
        size_t n_programs;
        const struct recipe_artifact **artifacts;
        size_t n_artifacts;
        const struct recipe_group **groups;
        size_t n_groups;
        const struct recipe_user **users;
        size_t n_users;
        const struct recipe_file **files;
        size_t n_files;

        struct recipe_run run; /* merged; strings and arrays borrowed, never freed via view */
};

/* Builds the view of variant `name`. -ENOENT (with err) when the recipe has no such variant;
 * -EINVAL (with err, FILE:LINE:COLUMN) when its run: asks for landlock or a healthcheck
 * without run.init: cairn-init, which provides both. */
int recipe_view_new(const struct recipe *r, const char *name, struct recipe_view **ret,
                    struct cairn_error *err);
void recipe_view_free(struct recipe_view *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct recipe_view *, recipe_view_free)
#define _cleanup_recipe_view_ _cleanup_(recipe_view_freep)

/* Looks up a user/group of the view by name; NULL when absent. */
const struct recipe_user *recipe_view_find_user(const struct recipe_view *v, const char *name);
const struct recipe_group *recipe_view_find_group(const struct recipe_view *v, const char *name);

/* Where cairn-init lives in an image (run.init: cairn-init). */
#define RECIPE_INIT_PATH "/sbin/cairn-init"
/* The image's PATH when run.env does not set one. */
#define RECIPE_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/*
 * The image config's Env for run (what every runtime, `cairn bundle` and `cairn profile` give
 * the program): PATH=RECIPE_DEFAULT_PATH first unless run.env sets PATH, then run.env in
 * recipe order. *ret is a NULL-terminated strv owned by the caller. 0 or -ENOMEM.
 */
int recipe_run_env(const struct recipe_run *run, char ***ret);

/*
 * The image config's Entrypoint for run: run.entrypoint, or with run.init cairn-init in front
 * of it, the run: checks as its options: RECIPE_INIT_PATH [--require-env NAME]...
 * [--writable PATH]... [--read-only-root] [--landlock] -- ENTRYPOINT.... Both flags only when
 * restricted: --read-only-root when the root is read-only, --landlock when the view's
 * run.landlock is on (what stages/runtime.c writes into runtime.json's "landlock"). A profile
 * run (not restricted) leaves them out, so that it sees every write and exec the program
 * tries. *ret is NULL-terminated and owned by the caller, its strings are borrowed from run;
 * NULL when run has no entrypoint. 0 or -ENOMEM.
 */
int recipe_run_entrypoint(const struct recipe_run *run, bool restricted, const char ***ret);

/*
 * Resolves view->run.user to numeric ids: a declared user name, "UID" or "UID:GID".
 * NULL user means 0:0. -ENOENT (with err) for an unknown name.
 */
int recipe_view_run_ids(const struct recipe_view *v, uint32_t *ret_uid, uint32_t *ret_gid,
                        struct cairn_error *err);

/*
 * Path helpers shared with the stages: true when p is absolute, has no empty, "." or ".."
 * component and no trailing slash (except "/" itself).
 */
bool path_is_normalized(const char *p);

/* True when the Debian identity applies: the recipe takes packages from its sources and does
 * not turn it off (identity: { debian: false }). */
bool recipe_debian_identity(const struct recipe *r);

/* The default path of a certificates: item's bundle. */
#define RECIPE_CA_BUNDLE_PATH "/etc/ssl/certs/ca-certificates.crt"
