#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cairn verify and cairn diff say why two builds differ (issue 25): another cairn-init (also
# when only a layer shared with another variant holds it), another compressor (a zstd layout
# whose layer is recompressed by another zstd, recorded as another version in index.json's
# dev.cairn.compressor), metadata (which config field), content (which file). "holds the same
# files" only when every file is the same. gzip layouts record no compressor version.
#   CAIRN, CAIRN_INIT
. "$(dirname "$0")/lib.sh"
need_env CAIRN CAIRN_INIT
need_tools cc python3 zstd sha256sum

mkdir -p "$work/r"
static_hello "$work/r/svc"
cat >"$work/r/svc.yaml" <<'EOF2'
recipe: 1
name: svc
epoch: 1700000000
artifacts:
  - { src: svc, dest: /app/svc }
files:
  - { path: /etc/svc.conf, content: "a\n" }
run:
  entrypoint: [/app/svc]
variants:
  dev: { policy: dev }
  prod:
    policy: strict
    run: { init: cairn-init }
EOF2
other=$work/other-init
cp "$CAIRN_INIT" "$other"
printf '\0' >>"$other"
pin=sha256:$(sha256sum <"$CAIRN_INIT" | cut -d' ' -f1)
otherpin=sha256:$(sha256sum <"$other" | cut -d' ' -f1)
v() { "$CAIRN" verify "$work/r/svc.yaml" --against "$1" -q "${@:2}"; }

# Another cairn-init.
"$CAIRN" build "$work/r/svc.yaml" -o "$work/out" --init-binary "$CAIRN_INIT" -q >/dev/null
check "gzip layouts record no compressor version" not grep -q dev.cairn.compressor "$work/out/svc-prod/index.json"
exits 1 v "$work/out" --init-binary "$other" >"$work/v1"
check "another cairn-init: verify says cairn-init, with both digests" \
  grep -q "why: cairn-init: /sbin/cairn-init differs (OUT $pin, rebuilt $otherpin)" "$work/v1"
check "...and how to pin one" grep -q "cairn lock --init-binary PATH" "$work/v1"
check "...not that it is metadata or content" not grep -q -e "why: metadata" -e "why: content" "$work/v1"
check "...nor that prod holds the same files" not grep -q "svc-prod.* holds the same files" "$work/v1"
check "dev, whose shared base layer holds it: cairn-init in layer 1" grep -q "why: cairn-init: layer 1: /sbin/cairn-init differs" "$work/v1"
check "...and not 'holds the same files'" not grep -q "svc-dev holds the same files" "$work/v1"

# Content and metadata.
sed 's/content: "a\\n"/content: "b\\n"/; s|entrypoint: \[/app/svc\]|entrypoint: [/app/svc]\n  workdir: /app|' "$work/r/svc.yaml" >"$work/r/svc2.yaml"
"$CAIRN" build "$work/r/svc2.yaml" -o "$work/out2" --init-binary "$CAIRN_INIT" -q >/dev/null
exits 1 v "$work/out2" --init-binary "$CAIRN_INIT" >"$work/v2"
check "another file: content, 1 file" grep -q "why: content: 1 file differs (listed below)" "$work/v2"
check "...the file named" grep -q "changed  /etc/svc.conf" "$work/v2"
check "another workdir: metadata names the config field" grep -q "why: metadata: image config config.WorkingDir" "$work/v2"
check "...and not cairn-init" not grep -q "why: cairn-init" "$work/v2"

# Another zstd: the layer recompressed (other bytes, the same tar), the version it records.
"$CAIRN" build "$work/r/svc.yaml" -o "$work/z" --init-binary "$CAIRN_INIT" --compression zstd -q >/dev/null
check "zstd layouts record the libzstd version" grep -q '"dev.cairn.compressor":"zstd [0-9.]*"' "$work/z/svc-prod/index.json"
mine=$(sed -n 's/.*"dev.cairn.compressor":"\(zstd [0-9.]*\)".*/\1/p' "$work/z/svc-prod/index.json")
python3 - "$work/z/svc-prod" <<'PY'
import hashlib, json, os, subprocess, sys
lay = sys.argv[1]
blob = lambda d: os.path.join(lay, "blobs", "sha256", d.split(":")[1])
def put(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    open(blob(d), "wb").write(data)
    return d, len(data)
idx = json.load(open(os.path.join(lay, "index.json")))
desc = idx["manifests"][0]
man = json.load(open(blob(desc["digest"])))
layer = man["layers"][0]
tar = subprocess.run(["zstd", "-dc", blob(layer["digest"])], capture_output=True, check=True).stdout
again = subprocess.run(["zstd", "-19", "-c", "-q"], input=tar, capture_output=True, check=True).stdout
layer["digest"], layer["size"] = put(again)
desc["digest"], desc["size"] = put(json.dumps(man, separators=(",", ":")).encode())
desc["annotations"]["dev.cairn.compressor"] = "zstd 9.9.9"
open(os.path.join(lay, "index.json"), "w").write(json.dumps(idx, separators=(",", ":")))
PY
exits 1 v "$work/z" --init-binary "$CAIRN_INIT" --variant prod >"$work/v3"
check "another zstd: verify says compressor, naming both versions" \
  grep -q "why: compressor: layer 1: the same tar (sha256:[0-9a-f]*) compressed to other bytes: OUT zstd 9.9.9, rebuilt $mine" "$work/v3"
check "...and nothing else" bash -c "test \$(grep -c 'why:' '$work/v3') = 1"
check "...holds the same files" grep -q "holds the same files as the rebuild, cairn-init included" "$work/v3"

# gzip records nothing: OUT's side is "not recorded", the rebuild's is this machine's zlib.
"$CAIRN" build "$work/r/svc.yaml" -o "$work/g" --init-binary "$CAIRN_INIT" -q >/dev/null
python3 - "$work/g/svc-prod" <<'PY'
import gzip, hashlib, json, os, sys
lay = sys.argv[1]
blob = lambda d: os.path.join(lay, "blobs", "sha256", d.split(":")[1])
def put(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    open(blob(d), "wb").write(data)
    return d, len(data)
idx = json.load(open(os.path.join(lay, "index.json")))
desc = idx["manifests"][0]
man = json.load(open(blob(desc["digest"])))
layer = man["layers"][0]
tar = gzip.decompress(open(blob(layer["digest"]), "rb").read())
layer["digest"], layer["size"] = put(gzip.compress(tar, compresslevel=1, mtime=0))
desc["digest"], desc["size"] = put(json.dumps(man, separators=(",", ":")).encode())
open(os.path.join(lay, "index.json"), "w").write(json.dumps(idx, separators=(",", ":")))
PY
exits 1 v "$work/g" --init-binary "$CAIRN_INIT" --variant prod >"$work/v4"
check "another gzip: OUT's zlib not recorded, the rebuild's named" \
  grep -q "why: compressor: layer 1: .*: OUT gzip (library version not recorded: cairn records it for zstd only), rebuilt gzip (zlib [0-9.]*)" "$work/v4"

# cairn diff of the two layouts says the same.
"$CAIRN" build "$work/r/svc.yaml" -o "$work/z2" --init-binary "$CAIRN_INIT" --compression zstd -q >/dev/null
exits 0 "$CAIRN" diff "$work/z2/svc-prod" "$work/z/svc-prod" >"$work/d1"
check "cairn diff: the same files, the compressor named" \
  grep -q "why: compressor: layer 1: .*: $work/z2/svc-prod $mine, $work/z/svc-prod zstd 9.9.9" "$work/d1"
exits 1 "$CAIRN" diff "$work/out/svc-prod" "$work/out2/svc-prod" >"$work/d2"
check "cairn diff: the file and the metadata" bash -c "grep -q 'changed  /etc/svc.conf' '$work/d2' && grep -q 'why: metadata: image config config.WorkingDir' '$work/d2'"
exits 0 "$CAIRN" diff "$work/out/svc-prod.tar" "$work/out/svc-prod.tar" >"$work/d4"
"$CAIRN" diff "$work/out/svc-prod.tar" "$work/out2/svc-prod.tar" >"$work/d5" || :
check "cairn diff of tars: no why line for files the list names" not grep -q "why:" "$work/d5"
check "cairn diff of identical layouts: exit 0, no why" bash -c "'$CAIRN' diff '$work/out/svc-prod' '$work/out/svc-prod' >'$work/d3' && ! grep -q why: '$work/d3'"
