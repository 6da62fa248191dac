/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn init [--static|--debian] [--name NAME] [FILE]: a commented starter recipe that builds
 * as written once the application is at build/NAME (a static program). Never overwrites.
 */
#include <fcntl.h>
#include <getopt.h>

#include "cmd.h"

static void init_help(FILE *f)
{
        fprintf(f, "Usage: cairn init [--static|--debian] [--name NAME] [FILE]\n\n"
                   "Write a commented starter recipe to FILE (default: NAME.yaml; '-' for\n"
                   "stdout). It builds as written once the application, a static program, is\n"
                   "at build/NAME beside it; every section says what to change.\n\n"
                   "Options:\n"
                   "      --static     no Debian packages: the application, accounts, files and\n"
                   "                   run settings only (default)\n"
                   "      --debian     also a Debian source (url: apt, bookworm): the CA bundle\n"
                   "                   in every variant, bash-static as the dev debug shell\n"
                   "      --name NAME  the recipe's name (default: app)\n"
                   "  -h, --help       show this help\n\n"
                   "Exit status: 0 written, 2 usage (FILE exists: remove it or name another),\n"
                   "4 I/O error.\n");
}

static const char head[] =
        "# %s: a cairn recipe (docs/recipe.md has every key; `cairn check %s` validates it).\n"
        "#\n"
        "# Build the application as a static program first, e.g.\n"
        "#   cc -static -O2 -o build/%s main.c      (or CGO_ENABLED=0 go build -o build/%s)\n"
        "# then: cairn build %s -o out   -> out/%s-dev/ and out/%s-prod/ (OCI layouts),\n"
        "#                                  their rootfs tars and SBOMs.\n"
        "recipe: 1\n"
        "name: %s\n"
        "epoch: 1700000000            # every mtime; SOURCE_DATE_EPOCH overrides it\n"
        "\n";

static const char debian[] =
        "sources:\n"
        "  - name: debian\n"
        "    url: apt                 # the mirror this machine's apt configuration uses\n"
        "    suite: bookworm\n"
        "    keyring: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        "\n"
        "# Static tools picked file by file out of Debian packages (no dependencies pulled).\n"
        "utilities:\n"
        "  - package: bash-static       # the dev image's debug shell: podman run -it\n"
        "    files:                     #   --entrypoint /bin/sh oci:out/NAME-dev\n"
        "      /bin/bash-static: /bin/sh\n"
        "    variants: [dev]            # prod has no shell (the strict enforcer refuses one)\n"
        "\n"
        "# The CA bundle Debian's update-ca-certificates writes, without running it.\n"
        "certificates:\n"
        "  - ca-certificates            # /etc/ssl/certs/ca-certificates.crt\n"
        "\n";

static const char body[] =
        "# The application: a file, a directory or a tar archive, beside this recipe.\n"
        "artifacts:\n"
        "  - src: build/%s\n"
        "    dest: /app/%s\n"
        "    mode: \"0755\"\n"
        "\n"
        "# Accounts go into /etc/passwd and /etc/group; a home is created, owned by its user.\n"
        "accounts:\n"
        "  groups: [{ name: app, gid: 65532 }]\n"
        "  users:  [{ name: app, uid: 65532, home: /home/app }]\n"
        "\n"
        "files:\n"
        "  - { path: /tmp, type: dir, mode: \"1777\" }\n"
        "\n"
        "run:\n"
        "  user: app\n"
        "  entrypoint: [/app/%s]\n"
        "  workdir: /app\n"
        "  env: { LANG: C.UTF-8 }\n"
        "  writable: [/tmp]            # the only writable paths when the root is read-only\n"
        "  # ports: [8080]             # the image config's ExposedPorts\n"
        "  # volumes: [/data]          # ... and Volumes\n"
        "\n"
        "# One recipe, two images: items may say `variants: [dev]`, and a variant's run:\n"
        "# replaces the keys it gives.\n"
        "variants:\n"
        "  dev:\n"
        "    policy: dev               # the enforcer profile: dev allows shells and tools\n"
        "    run: { read-only: false }\n"
        "  prod:\n"
        "    policy: strict            # static, named executables only; read-only root\n"
        "    run: { init: cairn-init } # the bundled PID 1: signals, checks, Landlock\n"
        "\n"
        "# When the enforcer refuses something you mean to ship, its report names the line\n"
        "# to add here, e.g.:\n"
        "# policy:\n"
        "#   strict:\n"
        "#     allow-executables: [/app/bin/*]\n"
        "#     disable-rules: [CAIRN-WORLD-WRITABLE]\n";

static bool name_ok(const char *s)
{
        if (!*s || strlen(s) > 64 || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
                return false;
        for (const char *c = s; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || strchr("._-", *c)))
                        return false;
        return true;
}

int cmd_init(int argc, char **argv)
{
        enum { OPT_STATIC = 256, OPT_DEBIAN, OPT_NAME };
        static const struct option options[] = {
                { "static", no_argument, NULL, OPT_STATIC },
                { "debian", no_argument, NULL, OPT_DEBIAN },
                { "name", required_argument, NULL, OPT_NAME },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool with_debian = false;
        const char *name = "app";
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_STATIC:
                        with_debian = false;
                        break;
                case OPT_DEBIAN:
                        with_debian = true;
                        break;
                case OPT_NAME:
                        if (!name_ok(optarg))
                                return cmd_usage_error(
                                        "init", "--name %s: use [a-z0-9][a-z0-9._-]*", optarg);
                        name = optarg;
                        break;
                case 'h':
                        init_help(stdout);
                        return CAIRN_EXIT_OK;
                default:
                        return cmd_usage_error("init", "unknown option");
                }
        }
        if (argc - optind > 1)
                return cmd_usage_error("init", "expected at most one FILE");
        _cleanup_free_ char *deflt = NULL;
        if (asprintf(&deflt, "%s.yaml", name) < 0)
                return CAIRN_EXIT_IO;
        const char *path = optind < argc ? argv[optind] : deflt;
        const char *shown = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

        FILE *f = stdout;
        _cleanup_fclose_ FILE *out = NULL;
        if (!streq(path, "-")) {
                int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0 && errno == EEXIST)
                        return cmd_usage_error("init",
                                               "%s exists; cairn init never overwrites a "
                                               "recipe (remove it or name another FILE)",
                                               path);
                if (fd < 0 || !(out = fdopen(fd, "w"))) {
                        fprintf(stderr, "cairn: error: %s: cannot create it: %m\n", path);
                        if (fd >= 0)
                                close(fd);
                        return CAIRN_EXIT_IO;
                }
                f = out;
        } else {
                shown = "RECIPE.yaml";
        }
        fprintf(f, head, name, shown, name, name, shown, name, name, name);
        if (with_debian)
                fputs(debian, f);
        fprintf(f, body, name, name, name);
        if (fflush(f) != 0 || ferror(f)) {
                fprintf(stderr, "cairn: error: %s: cannot write it: %m\n", path);
                return CAIRN_EXIT_IO;
        }
        if (f != stdout)
                fprintf(stderr,
                        "wrote %s; put the application at build/%s beside it, then: cairn build "
                        "%s -o out\n",
                        path, name, path);
        return CAIRN_EXIT_OK;
}
