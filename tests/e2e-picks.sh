#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Real services, part 1 (issue 20), against a signed repository this test makes: directory and
# pattern picks checked against `dpkg-deb -c`, picks that select nothing, copyright files and
# status.d/NAME.md5sums, the CA bundle of a `certificates:` item byte for byte against this
# machine's update-ca-certificates run in a scratch root (and verified by a static libcrypto
# program), the Debian identity from a base-files package, and `cairn check` listing the picks.
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools gpg dpkg-deb dpkg-scanpackages xz python3 cc openssl md5sum
export SOURCE_DATE_EPOCH=1700000000
repo_key

# deb DIR NAME VERSION [CONTROL-EXTRA]: DIR packed into $work/repo/pool with a Source: field.
deb() {
  mkdir -p "$1/DEBIAN" "$work/repo/pool"
  printf 'Package: %s\nSource: %s-src (%s)\nVersion: %s\nArchitecture: %s\nMaintainer: cairn tests <test@cairn.invalid>\nDescription: test package\n' \
    "$2" "$2" "${3%-*}" "$3" "$repo_arch" >"$1/DEBIAN/control"
  dpkg-deb --root-owner-group -Zxz --build "$1" "$work/repo/pool/${2}_${3}_$repo_arch.deb" >/dev/null
}
dep5() { # LICENSE
  printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: 2023 cairn tests\nLicense: %s\n' "$1"
}

# data 1.0-1: a tree with modes, a symlink, a hardlink and an executable.
d=$work/pkg-data
mkdir -p "$d/usr/share/data/a/b" "$d/usr/share/data/c" "$d/usr/share/doc/data"
echo one >"$d/usr/share/data/a/one.txt"
echo two >"$d/usr/share/data/a/b/two.txt"
echo hidden >"$d/usr/share/data/a/b/.hidden.txt"
echo three >"$d/usr/share/data/c/three.dat"
ln -s one.txt "$d/usr/share/data/a/link"
ln "$d/usr/share/data/a/one.txt" "$d/usr/share/data/c/hard.txt"
static_hello "$d/usr/share/data/c/tool"
chmod 0600 "$d/usr/share/data/c/three.dat"
chmod 0750 "$d/usr/share/data/a/b"
dep5 Expat >"$d/usr/share/doc/data/copyright"
deb "$d" data 1.0-1

# certs 1.0-1: certificates as ca-certificates ships them, with the names its scripts drop.
c=$work/pkg-certs
mkdir -p "$c/usr/share/ca-certificates/test" "$c/usr/share/ca-certificates/other" "$c/usr/share/doc/certs" "$work/ca"
for i in 1 2 3 4; do
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/ca/ca$i.key" -out "$work/ca/ca$i.pem" \
    -days 36500 -subj "/CN=cairn test root $i" -addext basicConstraints=critical,CA:TRUE 2>/dev/null
done
cp "$work/ca/ca1.pem" "$c/usr/share/ca-certificates/test/Zeta_Root.crt"
cp "$work/ca/ca2.pem" "$c/usr/share/ca-certificates/test/alpha_root.crt"
head -c -1 "$work/ca/ca3.pem" >"$c/usr/share/ca-certificates/other/No_Newline.crt" # no last newline
cp "$work/ca/ca4.pem" "$c/usr/share/ca-certificates/test/Has Space.crt"             # dropped
cp "$work/ca/ca4.pem" "$c/usr/share/ca-certificates/test/not-a-crt.pem"             # dropped
ln -s Zeta_Root.crt "$c/usr/share/ca-certificates/test/Link.crt"                    # dropped
dep5 "GPL-2+ or MPL-2.0" >"$c/usr/share/doc/certs/copyright"
deb "$c" certs 1.0-1

# base-files 12.99-1: the identity, as Debian's base-files carries it.
bf=$work/pkg-base-files
mkdir -p "$bf/etc" "$bf/usr/lib" "$bf/usr/share/doc/base-files"
echo 12.99 >"$bf/etc/debian_version"
cat >"$bf/usr/lib/os-release" <<'EOF'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
EOF
ln -s ../usr/lib/os-release "$bf/etc/os-release"
echo "not machine-readable" >"$bf/usr/share/doc/base-files/copyright"
deb "$bf" base-files 12.99-1
repo_index "$work/repo"

recipe() { # NAME UTILITIES-AND-MORE
  cat <<EOF
recipe: 1
name: $1
epoch: 1700000000
sources:
$(repo_source "$work/repo")
$2
variants: { prod: { policy: dev } }
EOF
}
build() { # RECIPE: builds into $work/out-NAME, 0 or cairn's status
  local name
  name=$(basename "$1" .yaml)
  "$CAIRN" build "$1" -o "$work/out-$name" --cache "$work/cache" -q >/dev/null 2>"$work/err-$name"
}

recipe picks "$(
  cat <<'EOF'
utilities:
  - package: data
    files:
      /usr/share/data: /opt/data
      /usr/share/data/a/*.txt: /txt
      /usr/share/data/**.txt: /all-txt
      /usr/share/data/?/three.dat: /q
certificates:
  - certs
EOF
)" >"$work/picks.yaml"
check "a recipe with directory and pattern picks and a certificates item builds" build "$work/picks.yaml"
cat "$work/err-picks" >&2
mkdir -p "$work/root"
tar -C "$work/root" -xf "$work/out-picks/picks-prod.tar"
tar --numeric-owner -tvf "$work/out-picks/picks-prod.tar" >"$work/listing"

# The directory pick against dpkg-deb -c: every entry below usr/share/data, same type and mode.
deb_list() { # DEB PREFIX NEWPREFIX: "mode path" of dpkg-deb -c below PREFIX, renamed
  dpkg-deb -c "$1" | awk -v p="./$2" -v q="$3" '{ path = $6; if (index(path, p) != 1) next;
    sub(/\/$/, "", path); m = substr($1, 1, 1) == "h" ? "-" substr($1, 2) : $1;
    print m, q substr(path, length(p) + 1) }' | LC_ALL=C sort
}
img_list() { # PREFIX: "mode path" of the image's entries at and below PREFIX
  awk -v p="${1#/}" '{ path = $6; sub(/\/$/, "", path); if (path != p && index(path, p "/") != 1) next;
    print $1, "/" path }' "$work/listing" | LC_ALL=C sort
}
debfile=$work/repo/pool/data_1.0-1_$repo_arch.deb
check "directory pick: the image holds exactly what dpkg-deb -c lists below it (types and modes)" \
  diff <(deb_list "$debfile" usr/share/data /opt/data) <(img_list /opt/data)
check "...the symlink is kept as a symlink" test "$(readlink "$work/root/opt/data/a/link")" = one.txt
check "...the hardlinked file has its target's content" cmp "$work/root/opt/data/a/one.txt" "$work/root/opt/data/c/hard.txt"
check "'*' stays within one component: /txt holds one.txt only" diff <(cd "$work/root/txt" && find . | LC_ALL=C sort) <(printf '.\n./one.txt\n')
check "'**' crosses components, the part after the fixed prefix is kept" \
  diff <(cd "$work/root/all-txt" && find . -type f | LC_ALL=C sort) <(printf './a/b/.hidden.txt\n./a/b/two.txt\n./a/one.txt\n./c/hard.txt\n')
check "'?' matches one character" test -f "$work/root/q/c/three.dat"
check "picked directories keep their modes" matches "$(grep ' opt/data/a/b/$' "$work/listing")" "drwxr-x---*"
check "picked files keep their modes" matches "$(grep ' opt/data/c/three.dat$' "$work/listing")" "-rw-------*"

# Copyright files, status.d and md5sums.
check "a picked package brings its copyright file" cmp "$work/root/usr/share/doc/data/copyright" "$d/usr/share/doc/data/copyright"
check "...so does a certificates package" test -f "$work/root/usr/share/doc/certs/copyright"
check "status.d/data keeps the control file's Source:" grep -qx 'Source: data-src (1.0)' "$work/root/var/lib/dpkg/status.d/data"
check "status.d/data.md5sums lists exactly the regular files the image holds from data" python3 - "$work/root" "$work/listing" <<'PY'
import hashlib, os, sys
root, listing = sys.argv[1], sys.argv[2]
got = {}
for line in open(os.path.join(root, "var/lib/dpkg/status.d/data.md5sums")):
    md5, path = line.rstrip("\n").split("  ", 1)
    assert not path.startswith("/"), line
    got[path] = md5
want = set()
for line in open(listing):
    f = line.split()
    if f[0].startswith("-") and (f[5].startswith(("opt/data/", "txt/", "all-txt/", "q/")) or f[5] == "usr/share/doc/data/copyright"):
        want.add(f[5])
assert set(got) == want, (sorted(set(got) ^ want))
for path, md5 in got.items():
    assert hashlib.md5(open(os.path.join(root, path), "rb").read()).hexdigest() == md5, path
PY
check "the generated bundle is not listed as a file of certs" not grep -q ca-certificates.crt "$work/root/var/lib/dpkg/status.d/certs.md5sums"

# The CA bundle against update-ca-certificates, run in a scratch root on the package's files.
if [[ -x /usr/sbin/update-ca-certificates ]]; then
  s=$work/scratch
  mkdir -p "$s/etc/ssl/certs" "$s/local"
  dpkg-deb -x "$work/repo/pool/certs_1.0-1_$repo_arch.deb" "$s"
  # /etc/ca-certificates.conf as the postinst writes it with debconf's defaults: every regular
  # *.crt, the lists split on blanks and commas, sorted in the C locale.
  (cd "$s/usr/share/ca-certificates" && find . -type f -name '*.crt' | sed 's,^\./,,' |
    tr ' \t,' '\n\n\n' | sed '/^$/d' | LC_ALL=C sort -u) >"$s/ca-certificates.conf"
  (cd / && /usr/sbin/update-ca-certificates --certsconf "$s/ca-certificates.conf" \
    --certsdir "$s/usr/share/ca-certificates" --localcertsdir "$s/local" \
    --etccertsdir "$s/etc/ssl/certs" --hooksdir "") >"$work/uca.log" 2>&1
  check "the CA bundle is byte-identical to update-ca-certificates' output" \
    cmp "$work/root/etc/ssl/certs/ca-certificates.crt" "$s/etc/ssl/certs/ca-certificates.crt"
else
  skip "the CA bundle against update-ca-certificates" "/usr/sbin/update-ca-certificates is missing (ca-certificates)"
fi
bundle=$work/root/etc/ssl/certs/ca-certificates.crt
check "the bundle is in C-locale order: other/ before test/, Zeta before alpha" \
  diff <(openssl crl2pkcs7 -nocrl -certfile "$bundle" | openssl pkcs7 -print_certs -noout | grep '^subject' | grep -o 'cairn test root [0-9]') \
  <(printf 'cairn test root 3\ncairn test root 1\ncairn test root 2\n')

if ${CC:-cc} -static -O1 -o "$work/tls-verify" "$tests_dir/tls-verify.c" -lcrypto -lpthread 2>"$work/cc.log"; then
  check "a static libcrypto program parses the bundle into its 3 certificates" test "$("$work/tls-verify" "$bundle" count)" = 3
  # A server certificate signed by a root in the bundle verifies; one from a CA outside fails.
  mkcert() { # CA NAME
    openssl req -newkey rsa:2048 -nodes -keyout "$work/$2.key" -out "$work/$2.csr" -subj "/CN=$2" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s\n' "$2" >"$work/$2.ext"
    openssl x509 -req -in "$work/$2.csr" -CA "$work/ca/$1.pem" -CAkey "$work/ca/$1.key" -CAcreateserial \
      -days 3650 -extfile "$work/$2.ext" -out "$work/$2.pem" 2>/dev/null
  }
  mkcert ca3 inside.test
  mkcert ca4 outside.test
  check "a TLS server chain to a root of the bundle verifies against it" "$work/tls-verify" "$bundle" verify "$work/inside.test.pem" "$(date +%s)" server
  check "a chain to a CA that is not in the bundle does not" not "$work/tls-verify" "$bundle" verify "$work/outside.test.pem" "$(date +%s)" server
else
  cat "$work/cc.log" >&2
  skip "TLS verification against the bundle" "no static libcrypto (libssl-dev)"
fi

# The Debian identity from base-files, and the recipe's overrides.
check "/etc/debian_version is base-files'" test "$(cat "$work/root/etc/debian_version")" = 12.99
check "os-release: ID=debian and the distribution's fields" grep -qx 'ID=debian' "$work/root/etc/os-release"
check "os-release: VERSION_ID and VERSION_CODENAME as Debian writes them" \
  bash -c "grep -qx 'VERSION_ID=\"12\"' '$work/root/etc/os-release' && grep -qx 'VERSION_CODENAME=bookworm' '$work/root/etc/os-release'"
check "os-release: the recipe's name in PRETTY_NAME, IMAGE_ID, its variant in VARIANT_ID" \
  bash -c "grep -q '^PRETTY_NAME=\"picks (prod, built by cairn from Debian GNU/Linux 12 (bookworm))\"$' '$work/root/etc/os-release' && grep -qx 'IMAGE_ID=picks' '$work/root/etc/os-release' && grep -qx 'VARIANT_ID=prod' '$work/root/etc/os-release' && grep -qx 'BUILD_ID=1700000000' '$work/root/etc/os-release'"
check "os-release is a file, not base-files' symlink" test -f "$work/root/etc/os-release" -a ! -L "$work/root/etc/os-release"
check "base-files is in status.d with its md5sums (etc/debian_version)" grep -q '  etc/debian_version$' "$work/root/var/lib/dpkg/status.d/base-files.md5sums"

check "the SBOM: data MIT, certs an OR expression, base-files NOASSERTION; purls with the distro" python3 - "$work/out-picks/picks-prod.spdx.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
lic = {p["name"]: p["licenseDeclared"] for p in doc["packages"]}
assert lic["data"] == "MIT", lic
assert lic["certs"] == "GPL-2.0-or-later OR MPL-2.0", lic
assert lic["base-files"] == "NOASSERTION", lic
# The purls carry the distro, as scanners matching the SBOM need it.
for p in doc["packages"]:
    for r in p.get("externalRefs", []):
        assert r["referenceLocator"].endswith("&distro=debian-12.99"), r
PY

recipe override "$(
  cat <<'EOF'
utilities:
  - package: data
    files: { /usr/share/data/a/one.txt: /one.txt }
    copyright: false
identity:
  debian-version: "12.5"
  os-release: { HOME_URL: "https://example.invalid/x y", SUPPORT_URL: "" }
EOF
)" >"$work/override.yaml"
check "identity overrides build" build "$work/override.yaml"
mkdir -p "$work/root2"
tar -C "$work/root2" -xf "$work/out-override/override-prod.tar"
check "identity: debian-version replaces base-files' /etc/debian_version" test "$(cat "$work/root2/etc/debian_version")" = 12.5
check "identity: os-release sets a key (quoted as os-release(5) wants)" grep -qx 'HOME_URL="https://example.invalid/x y"' "$work/root2/etc/os-release"
check "identity: os-release with an empty value drops the key" not grep -q '^SUPPORT_URL=' "$work/root2/etc/os-release"
check "copyright: false leaves the copyright file out" test ! -e "$work/root2/usr/share/doc/data/copyright"
check "...and out of data.md5sums" diff <(cut -d' ' -f3 "$work/root2/var/lib/dpkg/status.d/data.md5sums") <(echo one.txt)

recipe nodebian "$(
  cat <<'EOF'
utilities:
  - package: data
    files: { /usr/share/data/a/one.txt: /one.txt }
identity: { debian: false }
EOF
)" >"$work/nodebian.yaml"
check "identity: { debian: false } builds" build "$work/nodebian.yaml"
check "...without /etc/debian_version or base-files" bash -c "! tar -tf '$work/out-nodebian/nodebian-prod.tar' | grep -qE '^etc/debian_version$|status.d/base-files'"
check "...and with cairn's own os-release" bash -c "tar -xOf '$work/out-nodebian/nodebian-prod.tar' etc/os-release | grep -qx 'ID=nodebian'"

# A pick that selects nothing names the package version and the recipe position.
recipe nomatch "$(
  cat <<'EOF'
utilities:
  - package: data
    files:
      /usr/share/data/*.nope: /x
EOF
)" >"$work/nomatch.yaml"
check "a pattern that matches nothing fails the build with exit 3" exits 3 build "$work/nomatch.yaml"
check "...naming the recipe position, the package version and the pattern" \
  grep -q 'nomatch.yaml:[0-9]*:[0-9]*: error: package data 1.0-1 has no path matching /usr/share/data/\*.nope' "$work/err-nomatch"

# The strict enforcer: files below a directory pick are not named by the recipe.
recipe strict "$(
  cat <<'EOF'
utilities:
  - package: data
    files: { /usr/share/data/c: /c }
EOF
)" | sed 's/policy: dev/policy: strict/' >"$work/strict.yaml"
check "strict: an executable inside a directory pick is not allowed by being picked" exits 1 build "$work/strict.yaml"
check "...CAIRN-EXEC-UNLISTED names it" grep -q '/c/tool' "$work/err-strict"

# cairn check: what the picks select, from the lock and the cache.
"$CAIRN" check "$work/picks.yaml" --cache "$work/cache" >"$work/check.out" 2>"$work/check.err"
check "cairn check lists what a pattern selects" grep -qx '  utility data 1.0-1: /usr/share/data/a/b/two.txt -> /all-txt/a/b/two.txt' "$work/check.out"
check "...and what a directory pick copies" grep -qx '  utility data 1.0-1: /usr/share/data/c/hard.txt -> /opt/data/c/hard.txt' "$work/check.out"
check "cairn check: a pick that selects nothing is an error" exits 3 "$CAIRN" check "$work/nomatch.yaml" --cache "$work/cache"
"$CAIRN" check "$work/picks.yaml" --cache "$work/empty-cache" >/dev/null 2>"$work/check.err"
check "cairn check without the packages in the cache says so and passes" grep -q 'picks are not listed' "$work/check.err"

# Trivy (when ci/bootstrap could install it) reads the identity and status.d of this image too.
trivy=${CAIRN_TRIVY:-/opt/cairn-test/bin/trivy}
if [[ -x $trivy ]]; then
  TRIVY_CACHE_DIR=$work/trivy-cache "$trivy" rootfs --offline-scan --skip-db-update --scanners license \
    --format cyclonedx --output "$work/trivy.json" "$work/root" 2>"$work/trivy.log" || cat "$work/trivy.log" >&2
  check "Trivy rootfs: every package with a pkg:deb/debian purl and distro=debian-12.99" python3 - "$work/trivy.json" <<'PY'
import json, sys
bom = json.load(open(sys.argv[1]))
purls = sorted(c["purl"] for c in bom["components"] if c.get("type") == "library")
names = sorted(p.split("/")[2].split("@")[0] for p in purls)
assert names == ["base-files", "certs", "data"], purls
assert all(p.startswith("pkg:deb/debian/") and p.endswith("&distro=debian-12.99") for p in purls), purls
PY
else
  skip "Trivy rootfs scan" "no Trivy at $trivy (ci/bootstrap installs it where npm is available)"
fi
