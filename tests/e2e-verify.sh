#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cairn verify end to end (issue 8): a fresh build verifies; one changed byte of the input
# artifact, of the rootfs tar or of a layer blob fails with that entry named; OUT is never
# modified and nothing is left in $TMPDIR; --against DIGEST; zstd layouts; diffoscope finds no
# difference between two builds' tars. Needs no network.
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools cc python3 sha256sum diffoscope

mkdir -p "$work/src/build" "$work/tmp"
cp "$source_dir/recipes/hello.yaml" "$work/src/hello.yaml"
static_program "$work/src/build/hello" "$source_dir/recipes/hello.c"
cp "$work/src/build/hello" "$work/hello.orig"
# Every temporary file of cairn goes here, so the test can see that none is left behind.
export TMPDIR="$work/tmp"

"$CAIRN" build "$work/src/hello.yaml" -o "$work/out" >"$work/summary"
digest_of() { # LAYOUT: the image manifest digest index.json names first
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1] + "/index.json"))["manifests"][0]["digest"])' "$1"
}
prod=$(digest_of "$work/out/hello-prod")
dev=$(digest_of "$work/out/hello-dev")
# OUT's every path with mode, size and mtime, then every file's sha256.
out_state() { (cd "$work/out" && find . -printf '%p %m %s %T@\n' | LC_ALL=C sort) && snapshot "$work/out"; }
out_state >"$work/before"

# A fresh build verifies, every variant OUT holds.
set +e
"$CAIRN" verify "$work/src/hello.yaml" --against "$work/out" -q >"$work/v1" 2>"$work/v1.err"
rc=$?
set -e
check "verify of a fresh build exits 0" test $rc = 0
check "it prints 'reproducible: hello-dev DIGEST'" grep -qx "reproducible: hello-dev $dev" "$work/v1"
check "it prints 'reproducible: hello-prod DIGEST'" grep -qx "reproducible: hello-prod $prod" "$work/v1"
check "two lines, nothing else" test "$(wc -l <"$work/v1")" = 2

# --variant, and a bare manifest digest.
check "--variant prod verifies prod only" \
  bash -c "'$CAIRN' verify '$work/src/hello.yaml' --variant prod --against '$work/out' -q >'$work/v2' && test \"\$(cat '$work/v2')\" = 'reproducible: hello-prod $prod'"
check "--against the prod manifest digest with --variant prod exits 0" \
  quiet "$CAIRN" verify "$work/src/hello.yaml" --variant prod --against "$prod" -q
set +e
"$CAIRN" verify "$work/src/hello.yaml" --variant prod --against "$dev" -q >"$work/v3"
rc_wrong=$?
"$CAIRN" verify "$work/src/hello.yaml" --against "$prod" -q >"$work/v4" 2>"$work/v4.err"
rc_any=$?
"$CAIRN" verify "$work/src/hello.yaml" --against sha256:0000000000000000000000000000000000000000000000000000000000000000 -q >"$work/v6" 2>/dev/null
rc_none=$?
"$CAIRN" verify "$work/src/hello.yaml" -q 2>/dev/null
rc_noagainst=$?
"$CAIRN" verify "$work/src/hello.yaml" --against "$work/nonexistent" -q 2>/dev/null
rc_nodir=$?
"$CAIRN" verify "$work/src/hello.yaml" --against "$work/tmp" -q 2>"$work/v5.err"
rc_empty=$?
set -e
check "another variant's digest exits 1" test $rc_wrong = 1
check "...naming both digests" grep -q "image manifest: expected $dev, rebuilt $prod" "$work/v3"
check "a digest without --variant: every variant is rebuilt, the one that matches is named" \
  test "$rc_any:$(cat "$work/v4")" = "0:reproducible: hello-prod $prod"
check "a digest no variant rebuilds to exits 1" test $rc_none = 1
check "...listing each variant's rebuilt digest" \
  test "$(cat "$work/v6")" = "$(printf 'not reproducible: no variant of hello rebuilds to sha256:%064d\n  hello-dev rebuilt %s\n  hello-prod rebuilt %s' 0 "$dev" "$prod")"
check "no --against is a usage error (2)" test $rc_noagainst = 2
check "a missing OUT is a usage error (2)" test $rc_nodir = 2
check "an OUT without any output of the recipe is a usage error (2)" test $rc_empty = 2

# One byte of the input artifact changes: the rebuild differs and /app/hello is named.
printf 'X' | dd of="$work/src/build/hello" bs=1 seek=4096 conv=notrunc 2>/dev/null
set +e
"$CAIRN" verify "$work/src/hello.yaml" --variant prod --against "$work/out" -q >"$work/v6"
rc=$?
set -e
cp "$work/hello.orig" "$work/src/build/hello"
check "a changed artifact byte: verify exits 1" test $rc = 1
check "...says hello-prod is not reproducible" grep -q '^not reproducible: hello-prod' "$work/v6"
check "...names the image manifest" grep -q "^  image manifest: OUT $prod, rebuilt sha256:" "$work/v6"
check "...names the app layer's diff_id" grep -q '^  layer app diff_id: OUT sha256:' "$work/v6"
check "...but not the base layer" bash -c "! grep -q 'layer base' '$work/v6'"
check "...names the rootfs tar" grep -q '^  rootfs tar: OUT sha256:' "$work/v6"
check "...names the SBOM" grep -q '^  sbom: OUT sha256:' "$work/v6"
check "...and the one differing file with its content digests" \
  grep -qE '^    changed  /app/hello: content sha256:[0-9a-f]{64} -> sha256:[0-9a-f]{64}$' "$work/v6"
check "...and nothing else differs in the files" grep -qx '    0 added, 0 removed, 1 changed' "$work/v6"

# One byte of OUT's rootfs tar changes (inside /app/hello's data).
cp -a "$work/out" "$work/out-tar"
offset=$(python3 - "$work/out-tar/hello-prod.tar" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    m = t.getmember("app/hello")
    print(m.offset_data + 100)
PY
)
printf 'Z' | dd of="$work/out-tar/hello-prod.tar" bs=1 seek="$offset" conv=notrunc 2>/dev/null
set +e
"$CAIRN" verify "$work/src/hello.yaml" --variant prod --against "$work/out-tar" -q >"$work/v7"
rc=$?
set -e
check "a changed byte in OUT's tar: verify exits 1" test $rc = 1
check "...names only the rootfs tar among the digests" \
  test "$(grep -c '^  [a-z].*: OUT ' "$work/v7")" = 1 -a "$(grep -c '^  rootfs tar: OUT ' "$work/v7")" = 1
check "...and /app/hello as the changed file" grep -q '^    changed  /app/hello: content ' "$work/v7"

# One byte of a layer blob changes in place: the manifest still agrees, the blob does not.
cp -a "$work/out" "$work/out-blob"
app_blob=$(python3 - "$work/out-blob/hello-prod" <<'PY'
import json, sys
d = sys.argv[1]
m = json.load(open(d + "/blobs/sha256/" + json.load(open(d + "/index.json"))["manifests"][0]["digest"][7:]))
print(m["layers"][1]["digest"][7:])
PY
)
chmod u+w "$work/out-blob/hello-prod/blobs/sha256/$app_blob"
printf 'Z' | dd of="$work/out-blob/hello-prod/blobs/sha256/$app_blob" bs=1 seek=200 conv=notrunc 2>/dev/null
set +e
"$CAIRN" verify "$work/src/hello.yaml" --variant prod --against "$work/out-blob" -q >"$work/v8"
rc=$?
set -e
check "a changed byte in a layer blob: verify exits 1" test $rc = 1
check "...names the app layer blob whose content does not match its name" \
  grep -q '^  layer app blob (content does not match its name): OUT sha256:' "$work/v8"
check "...and not the manifest" bash -c "! grep -q '^  image manifest' '$work/v8'"

# The image config, index.json, the SBOM file and the SBOM blob edited in place (a blob keeps
# its name): verify compares their content, not the digests the JSON claims.
blob_of() { # LAYOUT config|sbom: the blob's path
  python3 - "$1" "$2" <<'PY'
import json, sys
d, what = sys.argv[1], sys.argv[2]
blob = lambda dg: d + "/blobs/sha256/" + dg[7:]
ms = json.load(open(d + "/index.json"))["manifests"]
img = [m for m in ms if "artifactType" not in m]
art = [m for m in ms if m.get("artifactType") == "application/spdx+json"]
if len(img) != 1 or len(art) != 1:
    sys.exit("want one image manifest and one SBOM artifact in index.json")
if what == "config":
    print(blob(json.load(open(blob(img[0]["digest"])))["config"]["digest"]))
else:
    print(blob(json.load(open(blob(art[0]["digest"])))["layers"][0]["digest"]))
PY
}
# tampered NAME EXPECTED-LINE-PATTERN EDIT...: EDIT runs in a copy of OUT ($t), then verify.
tampered() {
  local name=$1 pattern=$2 rc=0
  shift 2
  t="$work/out-$name"
  cp -a "$work/out" "$t"
  chmod -R u+w "$t"
  "$@"
  "$CAIRN" verify "$work/src/hello.yaml" --variant prod --against "$t" -q >"$work/v-$name" || rc=$?
  check "$name edited in place: verify exits 1" test $rc = 1
  check "...names it" grep -q "$pattern" "$work/v-$name"
}
user_root() { # FILE: the config's User set to 0:0, compact as cairn writes it
  python3 - "$1" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["config"]["User"] = "0:0"
open(sys.argv[1], "w").write(json.dumps(c, separators=(",", ":")))
PY
}
tampered config '^  image config (content does not match its name): OUT sha256:' \
  eval 'user_root "$(blob_of "$t/hello-prod" config)"'
tampered index '^  index.json: OUT sha256:' \
  eval 'sed -i "s/\"prod\"}/\"prod\",\"x\":\"y\"}/" "$t/hello-prod/index.json"'
tampered sbom-file '^  sbom: OUT sha256:' \
  eval 'sed -i "s/hello/hellx/" "$t/hello-prod.spdx.json"'
tampered sbom-blob '^  sbom blob (content does not match its name): OUT sha256:' \
  eval 'sed -i "s/hello/hellx/" "$(blob_of "$t/hello-prod" sbom)"'

check "OUT is exactly as it was after every verify" diff <(out_state) "$work/before"
check "nothing is left in \$TMPDIR" test -z "$(ls -A "$work/tmp")"

# zstd layers: verify rebuilds with the compression OUT's layout uses.
"$CAIRN" build "$work/src/hello.yaml" -o "$work/out-zstd" --compression zstd -q >/dev/null
check "a zstd OUT verifies without --compression" \
  quiet "$CAIRN" verify "$work/src/hello.yaml" --against "$work/out-zstd" -q
set +e
"$CAIRN" verify "$work/src/hello.yaml" --against "$work/out-zstd" --compression gzip --variant prod -q >"$work/v9"
rc=$?
set -e
check "...and --compression gzip against it differs in the blobs only" test $rc = 1
check "...where the files are the same" grep -q 'holds the same files as the rebuild' "$work/v9"

# A different epoch is a different build: the files differ in mtime only.
set +e
"$CAIRN" verify "$work/src/hello.yaml" --against "$work/out" --variant prod --epoch 1700000001 -q >"$work/v10"
rc=$?
set -e
check "verify --epoch N against a build with another epoch exits 1" test $rc = 1
check "...with mtime changes named" grep -q '^    changed  /app/hello: mtime 2023-11-14T22:13:20Z -> 2023-11-14T22:13:21Z$' "$work/v10"

# diffoscope, the reproducible-builds tool, finds no difference between two builds' tars.
(cd / && umask 077 && TZ=Asia/Tokyo "$CAIRN" build "$work/src/hello.yaml" -o "$work/out2" -q >/dev/null)
set +e
diffoscope --no-progress "$work/out/hello-prod.tar" "$work/out2/hello-prod.tar" >"$work/diffoscope.out" 2>&1
rc=$?
set -e
check "diffoscope finds no difference between two builds' prod tars" test $rc = 0
set +e
diffoscope --no-progress "$work/out/hello-prod.tar" "$work/out-tar/hello-prod.tar" >"$work/diffoscope2.out" 2>&1
rc=$?
set -e
check "...and does find the changed byte (the comparison can fail)" test $rc = 1
