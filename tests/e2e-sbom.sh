#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cairn build writes NAME-V.spdx.json (issue 8): valid against the SPDX 2.3 JSON schema, every
# regular file of the rootfs tar listed with the SHA-1 and SHA-256 computed independently, and
# byte-for-byte equal across two builds; attached to the OCI layout as an artifact manifest
# whose subject is the image, which umoci, skopeo and cairn still read. Needs no network.
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools cc tar python3 sha1sum sha256sum
python3 -c 'import jsonschema' 2>/dev/null ||
  skip_all "python3-jsonschema is not installed (ci/bootstrap installs it)"

mkdir -p "$work/src/build"
cp "$source_dir/recipes/hello.yaml" "$work/src/hello.yaml"
static_program "$work/src/build/hello" "$source_dir/recipes/hello.c"

"$CAIRN" build "$work/src/hello.yaml" -o "$work/out1" -q >/dev/null
# Its own cache: the second build compresses its layers itself (no cached layer).
"$CAIRN" build "$work/src/hello.yaml" -o "$work/out2" --cache "$work/cache2" -q >/dev/null
sbom=$work/out1/hello-prod.spdx.json

check "an SBOM per variant" test -s "$sbom" -a -s "$work/out1/hello-dev.spdx.json"

validate() { # FILE
  python3 - "$tests_dir/spdx-2.3.schema.json" "$1" <<'PY'
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

# The SBOM attached to the image in the OCI layout: an image-spec 1.1 artifact manifest with
# artifactType application/spdx+json, the empty config, the SBOM as its layer and the image
# manifest as its subject, listed in index.json without a ref name.
referrer() { # LAYOUT SBOM
  python3 - "$1" "$2" <<'PY'
import json, os, sys
layout, sbom = sys.argv[1], sys.argv[2]
blob = lambda d: os.path.join(layout, "blobs/sha256", d.split(":")[1])
index = json.load(open(layout + "/index.json"))
bad = []
m = index["manifests"]
if len(m) != 2:
    bad.append("index.json lists %d manifests" % len(m))
image, art = m[0], m[1]
if image.get("annotations", {}).get("org.opencontainers.image.ref.name") != "prod":
    bad.append("first descriptor is not the prod image")
if art != {"mediaType": "application/vnd.oci.image.manifest.v1+json",
           "artifactType": "application/spdx+json", "digest": art["digest"],
           "size": os.path.getsize(blob(art["digest"]))}:
    bad.append("referrer descriptor %r" % art)
a = json.load(open(blob(art["digest"])))
if list(a) != ["schemaVersion", "mediaType", "artifactType", "config", "layers", "subject",
               "annotations"]:
    bad.append("artifact manifest keys %r" % list(a))
if a["artifactType"] != "application/spdx+json":
    bad.append("artifactType")
if a["config"] != {"mediaType": "application/vnd.oci.empty.v1+json",
                   "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                   "size": 2} or open(blob(a["config"]["digest"]), "rb").read() != b"{}":
    bad.append("config is not the empty descriptor")
if a["subject"] != {"mediaType": image["mediaType"], "digest": image["digest"], "size": image["size"]}:
    bad.append("subject %r is not the image descriptor" % a["subject"])
if len(a["layers"]) != 1 or a["layers"][0]["mediaType"] != "application/spdx+json" \
        or a["layers"][0]["size"] != os.path.getsize(sbom) \
        or open(blob(a["layers"][0]["digest"]), "rb").read() != open(sbom, "rb").read():
    bad.append("the layer is not NAME-V.spdx.json")
print(a["layers"][0]["digest"].split(":")[1])
for b in bad:
    print("# " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}
check "index.json lists the SBOM artifact manifest with the image as its subject" \
  quiet referrer "$work/out1/hello-prod" "$sbom"
sbom_blob=$(referrer "$work/out1/hello-prod" "$sbom" 2>/dev/null || true)
check "the SBOM blob's name is its sha256sum" \
  test "$(sha256sum <"$work/out1/hello-prod/blobs/sha256/$sbom_blob" | cut -d' ' -f1)" = "$sbom_blob"
check "...which is the sha256sum of hello-prod.spdx.json" \
  test "$(sha256sum <"$sbom" | cut -d' ' -f1)" = "$sbom_blob"
check "every blob of the layout is named by its sha256sum" bash -c "
  cd '$work/out1/hello-prod/blobs/sha256' && for f in *; do [ \"\$(sha256sum <\"\$f\" | cut -d' ' -f1)\" = \"\$f\" ] || exit 1; done"
check "the layout with its referrer is reproducible" diff -r "$work/out1/hello-prod" "$work/out2/hello-prod"
if command -v umoci >/dev/null && command -v skopeo >/dev/null; then
  check "umoci still unpacks the image by its ref" \
    bash -c "umoci unpack --image '$work/out1/hello-prod:prod' '$work/bundle' >/dev/null 2>&1 && test -x '$work/bundle/rootfs/app/hello'"
  check "umoci lists only the image's tag" test "$(umoci ls --layout "$work/out1/hello-prod")" = prod
  check "skopeo copies oci:DIR:prod" \
    bash -c "skopeo copy 'oci:$work/out1/hello-prod:prod' 'dir:$work/skopeo' >/dev/null 2>&1 && test -s '$work/skopeo/manifest.json'"
else
  echo "# umoci or skopeo missing: their checks are skipped (ci/bootstrap installs them)"
fi
check "cairn enforce loads the layout without --image (the referrer is not an image)" \
  quiet "$CAIRN" enforce --profile dev "$work/out1/hello-prod"
# A referrer listed without artifactType (as some tools write it) is still recognised by the
# subject in its manifest; two real images still need a ref name.
cp -a "$work/out1/hello-prod" "$work/bare"
python3 - "$work/bare/index.json" <<'PY'
import json, sys
index = json.load(open(sys.argv[1]))
del index["manifests"][1]["artifactType"]
json.dump(index, open(sys.argv[1], "w"))
PY
check "a referrer without artifactType in index.json is recognised by its subject" \
  quiet "$CAIRN" enforce --profile dev "$work/bare"
python3 - "$work/bare/index.json" <<'PY'
import json, sys
index = json.load(open(sys.argv[1]))
index["manifests"][1] = dict(index["manifests"][0], annotations={"org.opencontainers.image.ref.name": "again"})
json.dump(index, open(sys.argv[1], "w"))
PY
set +e
"$CAIRN" enforce --profile dev "$work/bare" >/dev/null 2>"$work/two.err"
rc=$?
set -e
check "two images without a ref name: exit 2, saying how many" \
  bash -c "[ $rc = 2 ] && grep -q 'holds 2 images' '$work/two.err'"
check "the SBOM ends in a newline and is one line" test "$(wc -l <"$sbom")" -eq 1
