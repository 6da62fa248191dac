#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cairn build writes NAME-V.spdx.json (issue 8): valid against the SPDX 2.3 JSON schema, every
# regular file of the rootfs tar listed with the SHA-1 and SHA-256 computed independently, and
# byte-for-byte equal across two builds. Needs no network.
set -euo pipefail

: "${CAIRN:?CAIRN must point at the cairn binary}"
CAIRN=$(realpath "$CAIRN")
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
work=$(mktemp -d /tmp/cairn-e2e-sbom-XXXXXX)
trap 'rm -rf "$work"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }

for tool in cc tar python3 sha1sum sha256sum; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (ci/bootstrap installs it)"; exit 77; }
done
python3 -c 'import jsonschema' 2>/dev/null ||
  { echo "SKIP: python3-jsonschema is not installed (ci/bootstrap installs it)"; exit 77; }

mkdir -p "$work/src/build"
cp "$top/recipes/hello.yaml" "$work/src/hello.yaml"
cc -static -O1 -o "$work/src/build/hello" "$top/recipes/hello.c"
export XDG_CACHE_HOME="$work/cache"

"$CAIRN" build "$work/src/hello.yaml" -o "$work/out1" -q >/dev/null
"$CAIRN" build "$work/src/hello.yaml" -o "$work/out2" -q >/dev/null
sbom=$work/out1/hello-prod.spdx.json

check "an SBOM per variant" test -s "$sbom" -a -s "$work/out1/hello-dev.spdx.json"

validate() { # FILE
  python3 - "$here/spdx-2.3.schema.json" "$1" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
errors = list(jsonschema.Draft7Validator(schema).iter_errors(doc))
for e in errors:
    print("# %s: %s" % (list(e.path), e.message))
sys.exit(1 if errors else 0)
PY
}
check "hello-prod SBOM validates against the SPDX 2.3 schema" validate "$sbom"
check "hello-dev SBOM validates against the SPDX 2.3 schema" validate "$work/out1/hello-dev.spdx.json"

# The document's own invariants: namespace from the manifest digest, DESCRIBES the image, every
# SPDXID unique and every relationship end defined, each file CONTAINed exactly once.
structure() { # FILE OCI-LAYOUT
  python3 - "$1" "$2" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
index = json.load(open(sys.argv[2] + "/index.json"))
manifest = index["manifests"][0]["digest"]
bad = []
if doc["documentNamespace"] != "https://cairn.invalid/spdx/hello-prod-" + manifest.split(":")[1]:
    bad.append("namespace " + doc["documentNamespace"])
ids = [p["SPDXID"] for p in doc["packages"]] + [f["SPDXID"] for f in doc["files"]]
if len(ids) != len(set(ids)):
    bad.append("duplicate SPDXIDs")
known = set(ids) | {"SPDXRef-DOCUMENT"}
image = [p for p in doc["packages"] if p["name"] == "hello-prod"]
if len(image) != 1 or image[0]["versionInfo"] != manifest:
    bad.append("image package")
rel = doc["relationships"]
if {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
    "relatedSpdxElement": image[0]["SPDXID"]} not in rel:
    bad.append("DOCUMENT DESCRIBES image missing")
for r in rel:
    if r["spdxElementId"] not in known or r["relatedSpdxElement"] not in known:
        bad.append("dangling relationship %r" % r)
files = {f["SPDXID"]: f["fileName"] for f in doc["files"]}
contained = [r["relatedSpdxElement"] for r in rel
             if r["relationshipType"] == "CONTAINS" and r["relatedSpdxElement"] in files]
if sorted(contained) != sorted(files):
    bad.append("files not CONTAINed exactly once")
owner = {files[r["relatedSpdxElement"]]: r["spdxElementId"] for r in rel
         if r["relationshipType"] == "CONTAINS" and r["relatedSpdxElement"] in files}
art = [p for p in doc["packages"] if p["name"] == "/app/hello"]
if len(art) != 1 or owner.get("./app/hello") != art[0]["SPDXID"]:
    bad.append("/app/hello not contained by its artifact package")
if owner.get("./etc/passwd") != image[0]["SPDXID"]:
    bad.append("generated /etc/passwd not contained by the image")
for b in bad:
    print("# " + b)
sys.exit(1 if bad else 0)
PY
}
check "namespace, DESCRIBES, ids and CONTAINS are consistent" structure "$sbom" "$work/out1/hello-prod"

# Independently: every regular file of the unpacked tar with sha1sum and sha256sum.
mkdir "$work/root"
tar -xf "$work/out1/hello-prod.tar" -C "$work/root"
(cd "$work/root" && find . -type f | LC_ALL=C sort | while read -r f; do
  printf '%s %s %s\n' "$f" "$(sha1sum <"$f" | cut -d' ' -f1)" "$(sha256sum <"$f" | cut -d' ' -f1)"
done) >"$work/expected"
python3 - "$sbom" >"$work/listed" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for f in sorted(doc["files"], key=lambda f: f["fileName"]):
    algs = [c["algorithm"] for c in f["checksums"]]
    assert algs == ["SHA1", "SHA256"], algs
    print(f["fileName"], f["checksums"][0]["checksumValue"], f["checksums"][1]["checksumValue"])
PY
check "the tar has regular files" test -s "$work/expected"
check "every regular file of the tar is listed with its SHA-1 and SHA-256" \
  diff -u "$work/expected" "$work/listed"

check "the SBOM is reproducible across builds" cmp "$sbom" "$work/out2/hello-prod.spdx.json"
check "the SBOM ends in a newline and is one line" test "$(wc -l <"$sbom")" -eq 1

echo "1..$n"
exit $((fails > 0))
