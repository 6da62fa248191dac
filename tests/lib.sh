# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# What every end-to-end test (tests/e2e-*.sh, tests/fuzz-regress.sh) shares. Its preamble is
#
#   #!/usr/bin/env bash
#   # what the test covers (a comment)
#   . "$(dirname "$0")/lib.sh"
#
# Sourcing this sets `set -euo pipefail`, makes the private work directory $work, changes into
# it and removes it at exit (CAIRN_TEST_KEEP=1 keeps it and says where). XDG_CACHE_HOME is
# $work/xdg-cache, so no build touches the user's layer cache. The paths meson passes (CAIRN,
# CAIRN_INIT, ...) are made absolute; $tests_dir and $source_dir are this folder and the tree.
#
# Output is TAP (meson: protocol 'tap'); nothing else may go to stdout, diagnostics go to stderr
# or through diag.
#   check NAME CMD...   `ok N - NAME` when CMD succeeds, else `not ok N - NAME`; CMD's stdout
#                       goes to stderr. A failed check is counted and the test goes on.
#   ok NAME / not_ok NAME / skip NAME REASON / diag TEXT   one result, or `# ` comment lines
#   skip_all REASON     nothing (more) can be tested here: before the first check it prints
#                       `1..0 # SKIP REASON` and exits 0, which meson counts as SKIP (meson's
#                       'tap' protocol calls any non-zero exit, 77 too, an ERROR); after some
#                       checks it records the rest as one skipped check and ends the test
#   end_tests           ends the test here (what follows depends on a check that failed)
#   bail_out REASON     the test itself is broken: `Bail out! REASON`, exit 1
# At exit the plan `1..N` is printed and the status is 1 when a check failed. A test stopped by
# an unexpected error (errexit) gets a last `not ok` naming the line and the command, and keeps
# that error's status.
#
# Helpers: need_env VAR... (bail out when meson did not set one), need_tools TOOL... (skip_all
# when one is missing), apt_download PACKAGE... (below), at_exit SHELL-TEXT (cleanup, latest
# first), not CMD, matches STRING PATTERN, quiet CMD (no stdout), silent CMD (no output), exits
# STATUS CMD. Fixtures: snapshot
# DIR, static_program OUT SRC, static_hello OUT [TEXT], tar_list TAR [TAR-OPTION...], make_oci
# OUT LAYER..., and signed local Debian repositories: repo_key, repo_other_key, repo_deb_dir,
# repo_deb_raw, repo_index, repo_release, repo_source (below).

set -euo pipefail

tests_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$tests_dir/.." && pwd)
test_name=$(basename "$0" .sh)
# The paths tests/meson.build passes, made absolute: the tests change directories.
for _lib_v in CAIRN CAIRN_INIT CAIRN_SOURCE_DIR INIT_PROBE MEMFD_LOADER PROBE_SRC \
  FUZZ_BUILD_DIR FUZZ_SOURCE_DIR; do
  if [[ -n ${!_lib_v:-} ]]; then printf -v "$_lib_v" %s "$(realpath -m -- "${!_lib_v}")"; fi
done

# ---- TAP

n=0
fails=0
# Prepended to every check's name (e2e-init-runtime names the runtime this way).
name_prefix=
_lib_planned=0
_lib_stopped_at=

ok() {
  n=$((n + 1))
  echo "ok $n - $name_prefix$*"
}
not_ok() {
  n=$((n + 1))
  fails=$((fails + 1))
  echo "not ok $n - $name_prefix$*"
}
skip() { # NAME REASON
  n=$((n + 1))
  echo "ok $n - $name_prefix$1 # SKIP $2"
}
diag() {
  local line
  while IFS= read -r line; do echo "# $line"; done <<<"$*"
}
# check NAME CMD...: CMD's stdout goes to stderr, so that only TAP is on stdout. Always
# returns 0: a failed check is counted, it does not stop the test.
check() {
  local what=$1
  shift
  if "$@" >&2; then ok "$what"; else
    not_ok "$what"
    echo "# failed: $*" >&2
  fi
}
skip_all() {
  # People and CI logs read "SKIP: reason" on stderr; meson reads the TAP plan on stdout.
  echo "SKIP: $*" >&2
  if ((n == 0)); then
    echo "1..0 # SKIP $*"
    _lib_planned=1
  else
    skip "the remaining checks" "$*"
  fi
  exit 0
}
# end_tests: ends the test here, when the checks that would follow depend on one that failed;
# the plan and the exit status follow from the checks so far.
end_tests() { exit 0; }
bail_out() {
  echo "Bail out! $*"
  _lib_planned=1
  exit 1
}

not() { ! "$@"; }
# matches STRING PATTERN: STRING matches the shell PATTERN ([[ == ]]).
matches() { [[ $1 == $2 ]]; }
quiet() { "$@" >/dev/null; }
silent() { "$@" >/dev/null 2>&1; }
# exits STATUS CMD...: CMD exits with STATUS.
exits() {
  local want=$1 rc=0
  shift
  "$@" || rc=$?
  [[ $rc == "$want" ]] || {
    echo "# exit status $rc, want $want: $*" >&2
    return 1
  }
}

# need_env VAR...: the variables meson.build sets for the test.
need_env() {
  local v
  for v in "$@"; do
    [[ -n ${!v:-} ]] || bail_out "$v is not set (tests/meson.build sets it)"
  done
}
# need_tools TOOL...: skips the test when one is missing.
need_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || skip_all "$tool is not installed (ci/bootstrap installs it)"
  done
}

# apt_download PACKAGE...: `apt-get download` into the current directory, bounded at 180 s.
# When the mirror cannot be reached the test SKIPs; any other failure (the mirror answered, or
# the apt lists are empty or stale and name no such package) bails out: that is a broken
# machine, not a skip (ci/bootstrap refreshes the lists).
apt_download() {
  if timeout 180 apt-get download "$@" >download.log 2>&1; then return 0; fi
  if grep -qiE 'could not resolve|temporary failure (in name )?resolv|could not connect|connection (timed out|refused)|network is unreachable|no route to host|unable to connect|failed to fetch.*(timed out|connect)' download.log; then
    skip_all "mirror unreachable ($(grep -m1 -E '^(E|W):' download.log || tail -n1 download.log))"
  fi
  sed 's/^/# /' download.log >&2
  bail_out "apt-get download failed although nothing says the mirror is unreachable (ci/bootstrap refreshes the apt lists): $(grep -m1 '^E:' download.log || tail -n1 download.log)"
}

# ---- the work directory and exit

_lib_at_exit=()
# at_exit SHELL-TEXT: evaluated at exit, the latest first, its failures ignored.
at_exit() { _lib_at_exit+=("$1"); }

_lib_exit() {
  local rc=$? i
  set +eu
  trap - ERR
  if ((!_lib_planned)); then
    if ((rc != 0)); then
      not_ok "the test stopped early${_lib_stopped_at:+ at $_lib_stopped_at} (exit status $rc)"
    fi
    echo "1..$n"
  fi
  for ((i = ${#_lib_at_exit[@]} - 1; i >= 0; i--)); do
    eval "${_lib_at_exit[i]}" >&2 || true
  done
  cd /
  if [[ ${CAIRN_TEST_KEEP:-0} == 1 ]]; then
    echo "# kept the work directory $work"
  else
    rm -rf "$work"
  fi
  if ((rc == 0 && fails > 0)); then rc=1; fi
  exit "$rc"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-$test_name-XXXXXX")
set -E
trap '_lib_stopped_at="line $LINENO: $BASH_COMMAND"' ERR
trap _lib_exit EXIT
cd "$work"
export XDG_CACHE_HOME="$work/xdg-cache"
# The cache key (docs/security.md) of this test alone, never the user's.
export XDG_STATE_HOME="$work/xdg-state"
unset CAIRN_CACHE_KEY

# ---- fixtures

# snapshot DIR: the sha256 of every file under DIR, sorted by path; two snapshots compare equal
# when no file was added, removed or changed.
snapshot() { (cd "$1" && find . -type f -exec sha256sum {} + | LC_ALL=C sort); }

# static_program OUT SRC: SRC compiled into a static executable OUT.
static_program() { ${CC:-cc} -static -O1 -o "$1" "$2"; }
# static_program_for ARCH OUT SOURCE: the same for the Debian architecture ARCH (amd64 with the
# native compiler on an amd64 host, arm64 with aarch64-linux-gnu-gcc; ci/bootstrap installs it).
static_program_for() {
  local cc
  case $1 in
    "$(dpkg --print-architecture)") cc=${CC:-cc} ;;
    arm64) cc=aarch64-linux-gnu-gcc ;;
    amd64) cc=x86_64-linux-gnu-gcc ;;
    *) return 1 ;;
  esac
  "$cc" -static -O1 -o "$2" "$3"
}
# example_programs DIR SOURCE: the artifacts the example recipes ship, built from SOURCE
# (recipes/hello.c): DIR/hello, and DIR/hello-amd64 and DIR/hello-arm64 for multiarch.yaml.
example_programs() {
  static_program "$1/hello" "$2" &&
    static_program_for amd64 "$1/hello-amd64" "$2" &&
    static_program_for arm64 "$1/hello-arm64" "$2"
}
# static_hello OUT [TEXT]: a static program printing TEXT (default "hello") and exiting 0.
static_hello() {
  printf '#include <stdio.h>\nint main(void) { puts("%s"); return 0; }\n' "${2:-hello}" |
    ${CC:-cc} -static -O1 -x c -o "$1" -
}

# tar_list TAR [TAR-OPTIONS...]: GNU tar's verbose listing with numeric owners.
tar_list() { tar --numeric-owner -tvf "$1" "${@:2}"; }

# make_oci OUT LAYER...: a minimal OCI image layout (oci-layout, index.json with ref name
# "latest", manifest, config, layer blobs named by their sha256) from layer tar files, in order.
make_oci() {
  local out=$1 tmp layer d c m layers="" diffs="" sep=""
  shift
  tmp=$(mktemp -d "$work/.oci-XXXXXX")
  mkdir -p "$out/blobs/sha256"
  echo '{"imageLayoutVersion": "1.0.0"}' >"$out/oci-layout"
  for layer in "$@"; do
    d=$(sha256sum "$layer" | cut -d' ' -f1)
    cp "$layer" "$out/blobs/sha256/$d"
    layers+="$sep{\"mediaType\": \"application/vnd.oci.image.layer.v1.tar\", \"digest\": \"sha256:$d\", \"size\": $(stat -c %s "$layer")}"
    diffs+="$sep\"sha256:$d\""
    sep=", "
  done
  printf '{"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [%s]}}' \
    "$diffs" >"$tmp/config.json"
  c=$(sha256sum "$tmp/config.json" | cut -d' ' -f1)
  cp "$tmp/config.json" "$out/blobs/sha256/$c"
  printf '{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:%s", "size": %s}, "layers": [%s]}' \
    "$c" "$(stat -c %s "$tmp/config.json")" "$layers" >"$tmp/manifest.json"
  m=$(sha256sum "$tmp/manifest.json" | cut -d' ' -f1)
  cp "$tmp/manifest.json" "$out/blobs/sha256/$m"
  printf '{"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:%s", "size": %s, "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}' \
    "$m" "$(stat -c %s "$tmp/manifest.json")" >"$out/index.json"
  rm -rf "$tmp"
}

# ---- signed local Debian repositories
# A throwaway gpg key, .debs packed by dpkg-deb or assembled by hand (for data.tar contents
# dpkg-deb would never write), Packages and a signed Release, all under $work. Needs gpg,
# dpkg-deb, dpkg-scanpackages, xz and ar (need_tools them first).

repo_arch=$(dpkg --print-architecture 2>/dev/null || true)

# repo_key: a throwaway signing key in $work/gnupg (GNUPGHOME), exported to $work/keyring.gpg.
repo_key() {
  export GNUPGHOME="$work/gnupg"
  mkdir -p -m 700 "$GNUPGHOME"
  at_exit 'gpgconf --homedir "$work/gnupg" --kill all >/dev/null 2>&1'
  gpg --batch -q --passphrase '' --quick-gen-key "cairn test <test@cairn.invalid>" rsa2048 sign never 2>/dev/null
  gpg --batch -q --export >"$work/keyring.gpg"
}

# repo_other_key OUT: a second key nobody trusts (its own GNUPGHOME), exported to OUT.
repo_other_key() {
  local home="$work/gnupg-other"
  mkdir -p -m 700 "$home"
  at_exit 'gpgconf --homedir "$work/gnupg-other" --kill all >/dev/null 2>&1'
  GNUPGHOME=$home gpg --batch -q --passphrase '' --quick-gen-key "other <o@cairn.invalid>" rsa2048 sign never 2>/dev/null
  GNUPGHOME=$home gpg --batch -q --export >"$1"
}

# repo_deb_dir REPO NAME VERSION DIR: packs DIR (with DIR/DEBIAN/control written here) into
# REPO/pool/NAME_VERSION_ARCH.deb with dpkg-deb.
repo_deb_dir() {
  local repo=$1 name=$2 ver=$3 dir=$4
  mkdir -p "$dir/DEBIAN" "$repo/pool"
  printf 'Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: cairn tests <test@cairn.invalid>\nDescription: test package\n' \
    "$name" "$ver" "$repo_arch" >"$dir/DEBIAN/control"
  dpkg-deb --root-owner-group -Zxz --build "$dir" "$repo/pool/${name}_${ver}_$repo_arch.deb" >/dev/null
}

# repo_deb_raw REPO NAME VERSION DATA_TAR: a .deb assembled with ar around DATA_TAR (any
# compression; its member name follows the file's suffix), for entries dpkg-deb refuses.
repo_deb_raw() {
  local repo=$1 name=$2 ver=$3 data=$4 d
  d=$(mktemp -d "$work/raw-XXXXXX")
  mkdir -p "$d/control" "$repo/pool"
  printf 'Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: cairn tests <test@cairn.invalid>\nDescription: test package\n' \
    "$name" "$ver" "$repo_arch" >"$d/control/control"
  tar -C "$d/control" --owner=0 --group=0 -czf "$d/control.tar.gz" ./control
  echo 2.0 >"$d/debian-binary"
  cp "$data" "$d/data.tar${data##*.tar}"
  (cd "$d" && ar rc "$repo/pool/${name}_${ver}_$repo_arch.deb" debian-binary control.tar.gz "data.tar${data##*.tar}")
  rm -rf "$d"
}

# repo_index REPO [PACKAGES-EXTRA]: writes dists/stable/main/binary-ARCH/Packages(.xz) for
# REPO/pool/*.deb (PACKAGES-EXTRA, when given, is appended to Packages first) and a Release
# signed with the throwaway key.
repo_index() {
  local repo=$1 extra=${2:-} p="$1/dists/stable/main/binary-$repo_arch/Packages"
  mkdir -p "${p%/*}"
  (cd "$repo" && dpkg-scanpackages --multiversion pool /dev/null 2>/dev/null) >"$p"
  if [[ -n $extra ]]; then cat "$extra" >>"$p"; fi
  xz -kf "$p"
  repo_release "$repo"
}

# repo_release REPO: a Release listing REPO's Packages and Packages.xz as they are, signed with
# the throwaway key.
repo_release() {
  local d="$1/dists/stable" f
  {
    printf 'Origin: cairn-test\nSuite: stable\nCodename: stable\nDate: Tue, 14 Nov 2023 22:13:20 UTC\nArchitectures: %s\nComponents: main\nSHA256:\n' "$repo_arch"
    for f in "main/binary-$repo_arch/Packages" "main/binary-$repo_arch/Packages.xz"; do
      printf ' %s %s %s\n' "$(sha256sum <"$d/$f" | cut -d' ' -f1)" "$(stat -c %s "$d/$f")" "$f"
    done
  } >"$d/Release"
  rm -f "$d/Release.gpg"
  gpg --batch -q --detach-sign -o "$d/Release.gpg" "$d/Release"
}

# repo_source REPO [KEYRING]: the sources: line of a recipe using REPO (file://) and KEYRING
# (default: the throwaway key's).
repo_source() {
  printf '  - { name: test, url: "file://%s", suite: stable, keyring: %s }\n' "$1" "${2:-$work/keyring.gpg}"
}
