#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The real thing (issue 4): `url: apt` for bookworm, tini-static and catatonit picked file by
# file out of the signed repository, checked against the .debs' own contents, then rebuilt
# offline from the cache with identical bytes. SKIPs when the mirror cannot be reached.
. "$(dirname "$0")/lib.sh"
need_env CAIRN

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -r $keyring ]] || skip_all "$keyring missing (package debian-archive-keyring)"
cat >"$work/tini.yaml" <<EOF2
recipe: 1
name: tini
epoch: 1700000000
sources:
  - { name: debian, url: apt, suite: bookworm, keyring: $keyring }
utilities:
  - package: tini
    files: { /usr/bin/tini-static: /sbin/tini }
  - package: catatonit
    files: { /usr/bin/catatonit: /sbin/catatonit }
run: { entrypoint: [/sbin/tini, --] }
variants: { prod: {} }
EOF2

set +e
"$CAIRN" build "$work/tini.yaml" -o "$work/out" --cache "$work/cache" >"$work/sum" 2>"$work/err"
rc=$?
set -e
if [[ $rc -eq 3 ]] && grep -qiE "resolve|connect|timed out|could not|no deb entry" "$work/err"; then
  skip_all "the Debian mirror is unreachable: $(head -1 "$work/err")"
fi
check "build from the real bookworm repository succeeds" test $rc = 0
[[ $rc -eq 0 ]] || { cat "$work/err" >&2; end_tests; }
check "the strict enforcer passed" grep -q 'enforcer  pass (strict)' "$work/sum"

mkdir -p "$work/rootfs" "$work/debs"
tar -C "$work/rootfs" -xf "$work/out/tini-prod.tar"
for deb in "$work"/cache/debs/*.deb; do dpkg-deb --fsys-tarfile "$deb" | tar -C "$work/debs" -xf -; done
check "/sbin/tini is tini-static from the .deb" cmp "$work/rootfs/sbin/tini" "$work/debs/usr/bin/tini-static"
check "/sbin/catatonit is catatonit from the .deb" cmp "$work/rootfs/sbin/catatonit" "$work/debs/usr/bin/catatonit"
check "nothing else of the packages came along" test ! -e "$work/rootfs/usr/bin/tini"
check "the Debian identity: base-files' /etc/debian_version, ID=debian" \
  bash -c "cmp '$work/rootfs/etc/debian_version' '$work/debs/etc/debian_version' && grep -qx ID=debian '$work/rootfs/etc/os-release'"
check "each package's copyright file came along" \
  cmp "$work/rootfs/usr/share/doc/tini/copyright" "$work/debs/usr/share/doc/tini/copyright"
check "status.d records both packages" test -s "$work/rootfs/var/lib/dpkg/status.d/tini" -a -s "$work/rootfs/var/lib/dpkg/status.d/catatonit"
check "every cached .deb is named by its verified sha256" \
  bash -c "for d in '$work'/cache/debs/*.deb; do [ \"\$(sha256sum < \"\$d\" | cut -d' ' -f1).deb\" = \"\$(basename \"\$d\")\" ] || exit 1; done"

check "the lock file pins tini and catatonit by the cached .debs' sha256" python3 - "$work/tini.lock.json" "$work/cache/debs" <<'PY'
import json, os, sys
lock = json.load(open(sys.argv[1]))
names = sorted(p["name"] for p in lock["packages"])
# base-files: the Debian identity (issue 20)
assert names == ["base-files", "catatonit", "tini"], names
assert [p["needed-by"] for p in lock["packages"] if p["name"] == "base-files"] == [["identity base-files"]], lock
for p in lock["packages"]:
    deb = os.path.join(sys.argv[2], p["sha256"] + ".deb")
    assert os.path.getsize(deb) == p["size"], p
    assert p["filename"].startswith("pool/main/"), p
assert lock["sources"][0]["url"] == "apt", lock["sources"]
PY
cp "$work/tini.lock.json" "$work/lock.before"
check "SBOM: Debian packages with supplier and purl, no machine-specific mirror URL" python3 - "$work/out/tini-prod.spdx.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
debs = [p for p in doc["packages"] if any(r.get("referenceType") == "purl" and r["referenceLocator"].startswith("pkg:deb/") for r in p.get("externalRefs", []))]
assert sorted(p["name"] for p in debs) == ["base-files", "catatonit", "tini"], debs
for p in debs:
    assert p["downloadLocation"] == "NOASSERTION", p
    assert p["supplier"].startswith("Person: ") or p["supplier"].startswith("Organization: "), p
PY

"$CAIRN" build "$work/tini.yaml" -o "$work/out2" --cache "$work/cache" --offline --locked -q >/dev/null
check "an offline rebuild from the lock and cache gives identical bytes" cmp "$work/out/tini-prod.tar" "$work/out2/tini-prod.tar"
check "...and an identical OCI layout" diff -r "$work/out/tini-prod" "$work/out2/tini-prod"
check "...and leaves the lock file as it was" cmp "$work/tini.lock.json" "$work/lock.before"
"$CAIRN" build "$work/tini.yaml" -o "$work/out4" --cache "$work/cache" --offline \
  --lockfile "$work/fresh.lock.json" -q >/dev/null
check "an offline rebuild without a lock (index from the cache) gives identical bytes" \
  cmp "$work/out/tini-prod.tar" "$work/out4/tini-prod.tar"

set +e
"$CAIRN" build "$work/tini.yaml" -o "$work/out3" --cache "$work/empty-cache" --offline -q 2>"$work/err"
rc=$?
set -e
check "--offline with an empty cache fails with exit 3" test $rc = 3
check "...naming what is missing" grep -q 'offline' "$work/err"
