#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# recipes/static-base.yaml from the real bookworm repository (issue 20): it builds and passes
# strict; tzdata's and netbase's picks match `dpkg-deb -c`; the CA bundle is byte-identical to
# what the package's own update-ca-certificates writes in a scratch root, parses into one
# certificate per mozilla/*.crt and verifies each of them; the SBOM validates against SPDX 2.3
# with tini MIT and tzdata LicenseRef-public-domain; Trivy (rootfs and OCI layout scans,
# offline) reports every package with a pkg:deb/debian/...&distro=debian-12... purl. SKIPs
# when the mirror cannot be reached; the Trivy checks SKIP without Trivy (ci/bootstrap).
. "$(dirname "$0")/lib.sh"
need_env CAIRN CAIRN_SOURCE_DIR
need_tools dpkg-deb python3 cc openssl
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -r $keyring ]] || skip_all "$keyring missing (package debian-archive-keyring)"

cp "$CAIRN_SOURCE_DIR/recipes/static-base.yaml" "$work/"
set +e
"$CAIRN" build "$work/static-base.yaml" -o "$work/out" --cache "$work/cache" >"$work/sum" 2>"$work/err"
rc=$?
set -e
if [[ $rc -eq 3 ]] && grep -qiE "resolve|connect|timed out|could not|no deb entry" "$work/err"; then
  skip_all "the Debian mirror is unreachable: $(head -1 "$work/err")"
fi
check "recipes/static-base.yaml builds from bookworm" test $rc = 0
[[ $rc -eq 0 ]] || { cat "$work/err" >&2; end_tests; }
check "both variants pass the strict enforcer" test "$(grep -c 'enforcer  pass (strict)' "$work/sum")" = 2

root=$work/root
mkdir -p "$root"
tar -C "$root" -xf "$work/out/static-base-nonroot.tar"
tar --numeric-owner -tvf "$work/out/static-base-nonroot.tar" >"$work/listing"
deb_of() { # PACKAGE: the cached .deb the lock names
  python3 -c 'import json,sys; l=json.load(open(sys.argv[1])); print(sys.argv[2] + "/" + [p["sha256"] for p in l["packages"] if p["name"] == sys.argv[3]][0] + ".deb")' \
    "$work/static-base.lock.json" "$work/cache/debs" "$1"
}
deb_list() { # DEB PREFIX: "mode path" of dpkg-deb -c at and below PREFIX (hardlinks as files)
  dpkg-deb -c "$1" | awk -v p="./$2" '{ path = $6; if (path != p "/" && index(path, p "/") != 1) next;
    sub(/\/$/, "", path); m = substr($1, 1, 1) == "h" ? "-" substr($1, 2) : $1;
    print m, substr(path, 2) }' | LC_ALL=C sort
}
img_list() { # PREFIX [FILTER-REGEX]
  awk -v p="$1" '{ path = $6; sub(/\/$/, "", path); if (path != p && index(path, p "/") != 1) next;
    print $1, "/" path }' "$work/listing" | grep -E "${2:-.}" | LC_ALL=C sort
}
check "tzdata: /usr/share/zoneinfo is exactly what dpkg-deb -c lists (types and modes)" \
  diff <(deb_list "$(deb_of tzdata)" usr/share/zoneinfo) <(img_list usr/share/zoneinfo)
check "netbase: /etc/* selects exactly its files in /etc" \
  diff <(deb_list "$(deb_of netbase)" etc | grep -v ' /etc$') <(img_list etc '^-' | grep -E ' /etc/(services|protocols|rpc|ethertypes)$')
check "/etc/services and /etc/protocols are netbase's" \
  bash -c "dpkg-deb --fsys-tarfile '$(deb_of netbase)' | tar -xOf - ./etc/services | cmp - '$root/etc/services'"
check "/tmp is 1777, /home/nonroot 0700 owned by 65532" \
  bash -c "grep -q '^drwxrwxrwt 0/0 .* tmp/$' '$work/listing' && grep -q '^drwx------ 65532/65532 .* home/nonroot/$' '$work/listing'"
check "accounts: root and nonroot (65532)" \
  bash -c "grep -qx 'root:x:0:0::/root:/sbin/nologin' '$root/etc/passwd' && grep -q '^nonroot:x:65532:65532::/home/nonroot:' '$root/etc/passwd'"
check "Debian identity: /etc/debian_version is bookworm's base-files'" \
  bash -c "dpkg-deb --fsys-tarfile '$(deb_of base-files)' | tar -xOf - ./etc/debian_version | cmp - '$root/etc/debian_version'"
check "os-release: ID=debian, VERSION_CODENAME=bookworm, the recipe in PRETTY_NAME" \
  bash -c "grep -qx ID=debian '$root/etc/os-release' && grep -qx VERSION_CODENAME=bookworm '$root/etc/os-release' && grep -q '^PRETTY_NAME=\"static-base (nonroot' '$root/etc/os-release'"
check "status.d: one file and one md5sums per package" \
  diff <(ls "$root/var/lib/dpkg/status.d") <(printf '%s\n' base-files base-files.md5sums ca-certificates ca-certificates.md5sums netbase netbase.md5sums tini tini.md5sums tzdata tzdata.md5sums)

# The CA bundle against the package's own update-ca-certificates, in a scratch root.
s=$work/scratch
mkdir -p "$s/etc/ssl/certs" "$s/local"
dpkg-deb -x "$(deb_of ca-certificates)" "$s"
(cd "$s/usr/share/ca-certificates" && find . -type f -name '*.crt' | sed 's,^\./,,' |
  tr ' \t,' '\n\n\n' | sed '/^$/d' | LC_ALL=C sort -u) >"$s/ca-certificates.conf"
(cd / && sh "$s/usr/sbin/update-ca-certificates" --certsconf "$s/ca-certificates.conf" \
  --certsdir "$s/usr/share/ca-certificates" --localcertsdir "$s/local" \
  --etccertsdir "$s/etc/ssl/certs" --hooksdir "") >"$work/uca.log" 2>&1
bundle=$root/etc/ssl/certs/ca-certificates.crt
check "the CA bundle is byte-identical to the package's update-ca-certificates output" cmp "$bundle" "$s/etc/ssl/certs/ca-certificates.crt"
host_version=$(dpkg-query -W -f='${Version}' ca-certificates 2>/dev/null || true)
lock_version=$(python3 -c 'import json,sys; print([p["version"] for p in json.load(open(sys.argv[1]))["packages"] if p["name"] == "ca-certificates"][0])' "$work/static-base.lock.json")
# This machine's bundle without its local certificates (update-ca-certificates appends each
# /usr/local/share/ca-certificates file as it is, with a final newline).
python3 - /etc/ssl/certs/ca-certificates.crt "$work/host-bundle.crt" /usr/local/share/ca-certificates <<'PY' || true
import os, sys
src, out, local = sys.argv[1:4]
text = open(src).read()
for root, _, names in os.walk(local):
    for name in sorted(names):
        if name.endswith(".crt"):
            pem = open(os.path.join(root, name)).read()
            pem += "" if pem.endswith("\n") else "\n"
            if pem not in text:
                sys.exit("%s is not in %s" % (name, src))
            text = text.replace(pem, "", 1)
open(out, "w").write(text)
PY
if [[ $host_version == "$lock_version" && -s $work/host-bundle.crt ]] &&
  ! grep -q '^!' /etc/ca-certificates.conf 2>/dev/null; then
  check "...and to this machine's /etc/ssl/certs/ca-certificates.crt without its local certificates (ca-certificates $host_version, installed by dpkg)" \
    cmp "$bundle" "$work/host-bundle.crt"
else
  skip "the bundle against this machine's" "ca-certificates $host_version here, $lock_version in the image (or a changed configuration)"
fi
n_crt=$(dpkg-deb -c "$(deb_of ca-certificates)" | grep -c '^-.* \./usr/share/ca-certificates/mozilla/.*\.crt$')
if ${CC:-cc} -static -O1 -o "$work/tls-verify" "$tests_dir/tls-verify.c" -lcrypto -lpthread 2>"$work/cc.log"; then
  check "a static libcrypto program parses the bundle into one certificate per mozilla/*.crt ($n_crt)" \
    test "$("$work/tls-verify" "$bundle" count)" = "$n_crt"
  check "every Mozilla root of the package is a trust anchor of the bundle (validity periods aside)" bash -c "
    for c in '$s'/usr/share/ca-certificates/mozilla/*.crt; do
      '$work/tls-verify' '$bundle' verify \"\$c\" any anchor >/dev/null || { echo \"\$c\"; exit 1; }
    done"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/self.key" -out "$work/self.pem" -days 30 \
    -subj "/CN=self-made.test" -addext subjectAltName=DNS:self-made.test 2>/dev/null
  check "a self-made certificate does not verify against it" not "$work/tls-verify" "$bundle" verify "$work/self.pem" "$(date +%s)" server
else
  cat "$work/cc.log" >&2
  skip "TLS verification against the bundle" "no static libcrypto (libssl-dev)"
fi

check "the SBOM validates against SPDX 2.3; tini is MIT, tzdata LicenseRef-public-domain (declared); purls with the distro" \
  python3 - "$work/out/static-base-nonroot.spdx.json" "$tests_dir/spdx-2.3.schema.json" <<'PY'
import json, sys
import jsonschema
doc = json.load(open(sys.argv[1]))
jsonschema.validate(doc, json.load(open(sys.argv[2])))
lic = {p["name"]: p["licenseDeclared"] for p in doc["packages"]}
assert lic["tini"] == "MIT", lic
assert lic["tzdata"] == "LicenseRef-public-domain", lic
refs = {r["licenseId"]: r for r in doc["hasExtractedLicensingInfos"]}
assert "public domain" in refs["LicenseRef-public-domain"]["extractedText"], refs
import re
for p in doc["packages"]:
    for r in p.get("externalRefs", []):
        assert re.fullmatch(r"pkg:deb/debian/[^?]+\?arch=[a-z0-9]+&distro=debian-12\.\d+", r["referenceLocator"]), r
PY

# Trivy: every Debian package of the image with a Debian purl and the distro.
trivy=${CAIRN_TRIVY:-/opt/cairn-test/bin/trivy}
if [[ ! -x $trivy ]]; then
  skip "Trivy scans" "no Trivy at $trivy (ci/bootstrap installs it where npm is available)"
  end_tests
fi
export TRIVY_CACHE_DIR=$work/trivy-cache
purls_ok() { # CYCLONEDX-JSON STATUS-DIR
  python3 - "$1" "$2" <<'PY'
import json, os, re, sys
bom = json.load(open(sys.argv[1]))
purls = {c["name"]: c.get("purl", "") for c in bom.get("components", []) if c.get("type") == "library"}
want = {}
for f in os.listdir(sys.argv[2]):
    if f.endswith(".md5sums"):
        continue
    ctl = open(os.path.join(sys.argv[2], f)).read()
    want[f] = (re.search(r"^Version: (.*)$", ctl, re.M).group(1), re.search(r"^Architecture: (.*)$", ctl, re.M).group(1))
assert want, "no status.d"
for name, (ver, arch) in want.items():
    p = purls.get(name, "")
    assert re.fullmatch(r"pkg:deb/debian/%s@%s\?arch=%s&distro=debian-12\.\d+" % (re.escape(name), re.escape(ver.replace(":", "%3A")), arch), p), (name, p)
PY
}
"$trivy" rootfs --offline-scan --skip-db-update --scanners license --format cyclonedx \
  --output "$work/rootfs.cdx.json" "$root" 2>"$work/trivy.log" || cat "$work/trivy.log" >&2
check "Trivy rootfs: every package as pkg:deb/debian/NAME@VERSION?arch=...&distro=debian-12.N" \
  purls_ok "$work/rootfs.cdx.json" "$root/var/lib/dpkg/status.d"
"$trivy" image --input "$work/out/static-base-nonroot" --offline-scan --skip-db-update --scanners license \
  --format cyclonedx --output "$work/image.cdx.json" 2>"$work/trivy.log" || cat "$work/trivy.log" >&2
check "Trivy image --input (the OCI layout): the same purls" purls_ok "$work/image.cdx.json" "$root/var/lib/dpkg/status.d"
