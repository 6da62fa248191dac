#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Multi-architecture recipes (issue 22) against a signed repository this test makes for amd64
# and arm64 (a static tool per architecture, compiled here) and an artifact per architecture
# (src: build/hello-${arch}): the image index per variant, read by skopeo and umoci, the
# per-architecture outputs, one lock with a section per architecture, CAIRN-ARCH for each
# architecture, reproducible rebuilds, --arch, per-architecture pins, check and verify. The
# example recipes/multiarch.yaml is built from the Debian mirror at the end (skipped when it is
# unreachable, and under the sanitizers, whose index parse takes minutes).
. "$(dirname "$0")/lib.sh"
need_env CAIRN CAIRN_INIT CAIRN_SOURCE_DIR
need_tools gpg dpkg-deb dpkg-scanpackages xz python3 skopeo umoci aarch64-linux-gnu-gcc
export SOURCE_DATE_EPOCH=1700000000
[[ $(dpkg --print-architecture) == amd64 ]] || skip_all "the fixtures assume an amd64 build machine"

# ---- a repository with amd64 and arm64 packages

repo_key
repo=$work/repo
mkdir -p "$repo/pool"
printf '#include <stdio.h>\nint main(void) { puts("tool"); return 0; }\n' >tool.c
for arch in amd64 arm64; do
  pkg=$work/pkg-$arch
  mkdir -p "$pkg/usr/bin"
  static_program_for "$arch" "$pkg/usr/bin/tool-static" tool.c
  repo_arch=$arch repo_deb_dir "$repo" tool 1.0 "$pkg"
done
# only-amd64: a package the arm64 index lacks.
mkdir -p "$work/pkg-only/usr/bin"
static_program_for amd64 "$work/pkg-only/usr/bin/only" tool.c
repo_arch=amd64 repo_deb_dir "$repo" only-amd64 1.0 "$work/pkg-only"
mkdir -p "$repo/dists/stable"
{
  printf 'Origin: cairn-test\nSuite: stable\nCodename: stable\nDate: Tue, 14 Nov 2023 22:13:20 UTC\nArchitectures: amd64 arm64\nComponents: main\nSHA256:\n'
  for arch in amd64 arm64; do
    p=main/binary-$arch/Packages
    mkdir -p "$repo/dists/stable/main/binary-$arch"
    (cd "$repo" && dpkg-scanpackages -a "$arch" --multiversion pool /dev/null 2>/dev/null) >"$repo/dists/stable/$p"
    xz -kf "$repo/dists/stable/$p"
    for f in "$p" "$p.xz"; do
      printf ' %s %s %s\n' "$(sha256sum <"$repo/dists/stable/$f" | cut -d' ' -f1)" "$(stat -c %s "$repo/dists/stable/$f")" "$f"
    done
  done
} >"$repo/dists/stable/Release"
gpg --batch -q --detach-sign -o "$repo/dists/stable/Release.gpg" "$repo/dists/stable/Release"

mkdir -p build
for arch in amd64 arm64; do static_program_for "$arch" "build/hello-$arch" "$CAIRN_SOURCE_DIR/recipes/hello.c"; done

# recipe ARCH-LINE [EXTRA-ARTIFACT-KEYS]: a recipe over the repository.
recipe() {
  cat <<EOF
recipe: 1
name: ma
$1
sources:
  - { name: test, url: "file://$repo", suite: stable, keyring: $work/keyring.gpg }
utilities:
  - package: tool
    files: { /usr/bin/tool-static: /sbin/tool }
artifacts:
  - { src: "build/hello-\${arch}", dest: /app/hello, mode: "0755"${2:-} }
files:
  - { path: /etc/dev.conf, content: "debug = true\n", variants: [dev] }
run: { entrypoint: [/sbin/tool, /app/hello] }
EOF
}
# The list in another order than the outputs': they follow byte order of the names.
recipe "arch: [arm64, amd64]" >ma.yaml

run_build() { # NAME OUT [ARGS...]
  local name=$1 out=$2
  shift 2
  set +e
  "$CAIRN" build ma.yaml -o "$out" --cache "$work/cache" "$@" >"$name.out" 2>"$name.err"
  echo $? >"$name.rc"
  set -e
}
run_build first out --format json
check "a two-architecture recipe builds" test "$(cat first.rc)" = 0 || cat first.err >&2
check "per architecture: NAME-V-ARCH.tar and NAME-V-ARCH.spdx.json; one layout per variant" \
  bash -c 'cd out && ls -d ma-dev ma-prod ma-dev-amd64.tar ma-dev-arm64.tar ma-prod-amd64.tar ma-prod-arm64.tar ma-dev-amd64.spdx.json ma-prod-arm64.spdx.json >/dev/null && ! ls ma-prod.tar ma-prod-amd64 2>/dev/null'
check "the JSON summary has one entry per variant and architecture, with the index" \
  python3 - first.out <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
got = [(v["variant"], v["architecture"]) for v in d["variants"]]
assert got == [("dev", "amd64"), ("dev", "arm64"), ("prod", "amd64"), ("prod", "arm64")], got
for v in d["variants"]:
    assert v["index"].startswith("sha256:") and v["rootfs"]["path"].endswith("-%s.tar" % v["architecture"])
PY
check "the summary validates against docs/build-summary.schema.json" \
  python3 -c "import json,sys,jsonschema; jsonschema.validate(json.load(open('first.out')), json.load(open('$CAIRN_SOURCE_DIR/docs/build-summary.schema.json')))"

# index.json and the image index, as the issue describes them
check "index.json: the index under V, each image under V-ARCH with its platform, each SBOM attached to its image" \
  python3 - out/ma-prod <<'PY'
import json, os, sys
lay = sys.argv[1]
blob = lambda d: json.load(open(os.path.join(lay, "blobs/sha256", d.split(":")[1])))
top = json.load(open(os.path.join(lay, "index.json")))["manifests"]
assert top[0]["mediaType"] == "application/vnd.oci.image.index.v1+json", top[0]
assert top[0]["annotations"]["org.opencontainers.image.ref.name"] == "prod"
want = [("prod-amd64", {"architecture": "amd64", "os": "linux"}),
        ("prod-arm64", {"architecture": "arm64", "os": "linux", "variant": "v8"})]
assert [(d["annotations"]["org.opencontainers.image.ref.name"], d["platform"]) for d in top[1:3]] == want, top
idx = blob(top[0]["digest"])
assert [(m["digest"], m["platform"]) for m in idx["manifests"]] == [(d["digest"], d["platform"]) for d in top[1:3]]
sboms = [d for d in top[3:] if d.get("artifactType") == "application/spdx+json"]
assert [blob(s["digest"])["subject"]["digest"] for s in sboms] == [top[1]["digest"], top[2]["digest"]]
for d, arch in ((top[1], "amd64"), (top[2], "arm64")):
    cfg = blob(blob(d["digest"])["config"]["digest"])
    assert cfg["architecture"] == arch and cfg["os"] == "linux" and "variant" not in cfg, cfg
PY
check "a layer whose tar is the same on both architectures (dev's delta) is one blob" \
  python3 - out/ma-dev <<'PY'
import json, os, sys
lay = sys.argv[1]
blob = lambda d: json.load(open(os.path.join(lay, "blobs/sha256", d.split(":")[1])))
top = json.load(open(os.path.join(lay, "index.json")))["manifests"]
a, b = (blob(d["digest"])["layers"] for d in top[1:3])
assert a[2]["digest"] == b[2]["digest"], (a, b)
assert a[0]["digest"] != b[0]["digest"]
PY
check "the text summary says the dev layer is shared with the other architecture" \
  bash -c "'$CAIRN' build ma.yaml -o out --cache '$work/cache' | grep -q 'layer     dev .*shared with dev/arm64'"

# real readers
check "skopeo inspect --raw reads the index with both platforms" \
  bash -c "skopeo inspect --raw oci:out/ma-prod:prod | python3 -c 'import json,sys; d=json.load(sys.stdin); assert [m[\"platform\"][\"architecture\"] for m in d[\"manifests\"]]==[\"amd64\",\"arm64\"]'"
check "skopeo inspect --override-arch arm64 picks the arm64 image" \
  bash -c "skopeo inspect --override-arch arm64 oci:out/ma-prod:prod | grep -q '\"Architecture\": \"arm64\"'"
check "skopeo inspect picks the amd64 image on this machine" \
  bash -c "skopeo inspect oci:out/ma-prod:prod | grep -q '\"Architecture\": \"amd64\"'"
# elf_machine FILE: e_machine of an ELF file (62 x86-64, 183 AArch64).
elf_machine() { python3 -c "import struct,sys; print(struct.unpack('<H', open(sys.argv[1],'rb').read()[18:20])[0])" "$1"; }
for arch in amd64 arm64; do
  machine=62
  [[ $arch == arm64 ]] && machine=183
  rm -rf "unpack-$arch"
  check "umoci unpack --image ma-prod:prod-$arch" silent umoci unpack --rootless --image "out/ma-prod:prod-$arch" "unpack-$arch"
  check "the $arch image's picked tool is $arch ELF" test "$(elf_machine "unpack-$arch/rootfs/sbin/tool")" = $machine
  check "the $arch image's artifact is $arch ELF" test "$(elf_machine "unpack-$arch/rootfs/app/hello")" = $machine
  check "ma-prod-$arch.tar holds the same tool as the $arch package" \
    bash -c "tar -xOf out/ma-prod-$arch.tar sbin/tool | cmp - '$work/pkg-$arch/usr/bin/tool-static'"
done
check "umoci refuses the index ref (two images), so each image has its own ref" \
  not silent umoci unpack --rootless --image out/ma-prod:prod unpack-both

# the lock: one file, a section per architecture in byte order
check "one lock with a section per architecture (amd64, arm64)" \
  python3 -c "import json; d=json.load(open('ma.lock.json')); assert [s['arch'] for s in d['architectures']]==['amd64','arm64'] and [p['arch'] for p in d['architectures'][1]['packages']]==['arm64']"
check "cairn lock --check: up to date for both" bash -c "'$CAIRN' lock --check ma.yaml --cache '$work/cache' | grep -c 'up to date' | grep -qx 2"

# reproducible: a rebuild with a fresh cache, under --locked
snapshot out >out.sum
run_build again out2 --locked
rm -rf "$work/cache2"
set +e
"$CAIRN" build ma.yaml -o out3 --cache "$work/cache2" --locked -q
rc3=$?
set -e
check "a --locked rebuild with a fresh cache succeeds" test $rc3 = 0
check "rebuilds are byte-identical (every file of OUT)" \
  bash -c "snapshot() { (cd \"\$1\" && find . -type f -exec sha256sum {} + | LC_ALL=C sort); }; snapshot out2 | cmp - out.sum && snapshot out3 | cmp - out.sum"
check "cairn verify --against OUT: every variant and architecture reproducible" \
  bash -c "'$CAIRN' verify ma.yaml --against out --cache '$work/cache' -q >verify.out && grep -c '^reproducible: ma-\(dev\|prod\)-\(amd64\|arm64\) ' verify.out | grep -qx 4"
index=$(python3 -c "import json; print(json.load(open('out/ma-prod/index.json'))['manifests'][0]['digest'])")
check "cairn verify --against the index digest names it" \
  bash -c "'$CAIRN' verify ma.yaml --against $index --cache '$work/cache' -q | grep -q '^reproducible: ma-prod $index (image index)'"
cp -r out tampered
chmod -R u+w tampered
printf 'x' >>tampered/ma-prod-arm64.tar
set +e
"$CAIRN" verify ma.yaml --against tampered --cache "$work/cache" -q >tampered.out
rc=$?
set -e
check "verify: a changed arm64 tar is not reproducible, and named" \
  bash -c "test $rc = 1 && grep -q '^not reproducible: ma-prod-arm64' tampered.out && grep -q '^reproducible: ma-prod-amd64' tampered.out"

check "verify --arch amd64 compares amd64 only: the arm64 change is not looked at" \
  bash -c "'$CAIRN' verify ma.yaml --against tampered --arch amd64 --cache '$work/cache' -q >va.out && ! grep -q arm64 va.out && grep -c '^reproducible' va.out | grep -qx 2"
check "verify --arch arm64 finds it" \
  bash -c "! '$CAIRN' verify ma.yaml --against tampered --arch arm64 --cache '$work/cache' -q >vb.out && grep -q '^not reproducible: ma-prod-arm64' vb.out"

# --arch: one architecture, named as a recipe of one; the lock keeps the other section
run_build one out-one --arch arm64
check "--arch arm64 builds one image, with the single-architecture names" \
  bash -c "test \$(cat one.rc) = 0 && test -f out-one/ma-prod.tar && ! grep -q platform out-one/ma-prod/index.json"
check "--arch arm64 keeps the lock's amd64 section" \
  python3 -c "import json; d=json.load(open('ma.lock.json')); assert [s['arch'] for s in d['architectures']]==['amd64','arm64']"
check "cairn lock --arch amd64 rewrites amd64's section and keeps arm64's" \
  bash -c "'$CAIRN' lock ma.yaml --arch amd64 --cache '$work/cache' -q && python3 -c \"import json; d=json.load(open('ma.lock.json')); assert [s['arch'] for s in d['architectures']]==['amd64','arm64']\""
run_build bad-arch out-bad --arch s390x
check "--arch of an architecture the recipe does not build: exit 2, named" \
  bash -c "test \$(cat bad-arch.rc) = 2 && grep -q 's390x' bad-arch.err"

# a list of one is the scalar, byte for byte
recipe "arch: amd64" >one.yaml
recipe "arch: [amd64]" >list.yaml
"$CAIRN" build one.yaml -o o-scalar --cache "$work/cache" -q --lockfile one.lock.json
"$CAIRN" build list.yaml -o o-list --cache "$work/cache" -q --lockfile list.lock.json
check "arch: [amd64] gives exactly the bytes of arch: amd64 (outputs and lock)" \
  bash -c "diff <(cd o-scalar && find . -type f -exec sha256sum {} + | LC_ALL=C sort) <(cd o-list && find . -type f -exec sha256sum {} + | LC_ALL=C sort) && cmp one.lock.json list.lock.json"
check "a single-architecture layout keeps today's index.json (no platform, one image)" \
  bash -c "! grep -q platform o-scalar/ma-prod/index.json && test -f o-scalar/ma-prod.tar"

# CAIRN-ARCH for each architecture: an amd64 binary slipped into the arm64 image
snapshot out >before.sum
cp build/hello-arm64 hello-arm64.real
cp build/hello-amd64 build/hello-arm64
run_build slipped out
check "an amd64 artifact in the arm64 image: exit 1 (policy)" test "$(cat slipped.rc)" = 1
check "... CAIRN-ARCH names the arm64 image's /app/hello" \
  bash -c "grep -q 'CAIRN-ARCH' slipped.err && grep -q '== prod arm64' slipped.err && grep -q '/app/hello' slipped.err"
check "... and OUT is as it was" bash -c "snapshot() { (cd \"\$1\" && find . -type f -exec sha256sum {} + | LC_ALL=C sort); }; snapshot out | cmp - before.sum"
cp hello-arm64.real build/hello-arm64

# per-architecture pins
amd=$(sha256sum <build/hello-amd64 | cut -d' ' -f1)
arm=$(sha256sum <build/hello-arm64 | cut -d' ' -f1)
recipe "arch: [amd64, arm64]" ", sha256: { amd64: $amd, arm64: $arm }" >pinned.yaml
check "per-architecture sha256 pins that hold: the build succeeds" \
  silent "$CAIRN" build pinned.yaml -o out-pinned --cache "$work/cache" -q
recipe "arch: [amd64, arm64]" ", sha256: { amd64: $amd, arm64: $amd }" >wrongpin.yaml
set +e
"$CAIRN" build wrongpin.yaml -o out-wrong --cache "$work/cache" -q 2>wrongpin.err
rc=$?
set -e
check "a wrong arm64 pin: exit 2, a sha256 mismatch" bash -c "test $rc = 2 && grep -q 'sha256 mismatch' wrongpin.err && grep -q 'architecture arm64' wrongpin.err"
recipe "arch: [amd64, arm64]" ", sha256: { amd64: $amd }" >missingpin.yaml
check "a pin map without arm64: a recipe error naming arm64" \
  bash -c "! '$CAIRN' check missingpin.yaml >/dev/null 2>err && grep -q 'no pin for arm64' err"
recipe "arch: [amd64, arm64]" ", sha256: $amd" >onepin.yaml
check "one pin for a src that differs per architecture: a recipe error" \
  bash -c "! '$CAIRN' check onepin.yaml >/dev/null 2>err && grep -q 'pin each' err"
recipe "arch: [amd64, amd64]" >twice.yaml
check "an architecture named twice: a positioned recipe error" \
  bash -c "! '$CAIRN' check twice.yaml >/dev/null 2>err && grep -qE 'twice.yaml:[0-9]+:[0-9]+: .*named twice' err"

# a package one architecture lacks: named by check and build
sed 's|package: tool$|package: only-amd64|; s|/usr/bin/tool-static: /sbin/tool|/usr/bin/only: /sbin/tool|' ma.yaml >only.yaml
set +e
"$CAIRN" check only.yaml --online --cache "$work/cache" >only.out 2>only.err
rc=$?
"$CAIRN" build only.yaml -o out-only --cache "$work/cache" -q 2>only-build.err
rc2=$?
set -e
check "cairn check --online: a package missing for arm64 is an error naming it" \
  bash -c "test $rc != 0 && grep -q \"only-amd64' for arm64\" only.err"
check "cairn build: the same error, nothing written" \
  bash -c "test $rc2 != 0 && grep -q \"only-amd64' for arm64\" only-build.err && test ! -e out-only"

# cairn-init per architecture: each image gets its own, each lock section pins its own
sed 's|^run: { entrypoint: \[/sbin/tool, /app/hello\] }|run: { entrypoint: [/sbin/tool, /app/hello], init: cairn-init }|' ma.yaml >init.yaml
check "the init recipe runs cairn-init" grep -q 'init: cairn-init' init.yaml
if [[ -x $CAIRN_INIT-arm64 ]]; then
  set +e
  "$CAIRN" build init.yaml -o out-init --cache "$work/cache" --init-binary "$CAIRN_INIT" -q 2>init.err
  rc=$?
  set -e
  check "a variant running cairn-init builds for both architectures" test $rc = 0 || cat init.err >&2
  rm -rf unpack-init
  umoci unpack --rootless --image out-init/ma-prod:prod-arm64 unpack-init >/dev/null
  init_path=$(python3 -c "import json; print(json.load(open('unpack-init/config.json'))['process']['args'][0])")
  check "the arm64 image's cairn-init ($init_path) is the arm64 build" cmp "unpack-init/rootfs$init_path" "$CAIRN_INIT-arm64"
  check "each lock section pins its architecture's cairn-init" \
    python3 - init.lock.json "$(sha256sum <"$CAIRN_INIT" | cut -d' ' -f1)" "$(sha256sum <"$CAIRN_INIT-arm64" | cut -d' ' -f1)" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert [s["cairn-init"] for s in d["architectures"]] == ["sha256:" + sys.argv[2], "sha256:" + sys.argv[3]], d
PY
  mkdir -p fake-init
  cp "$CAIRN_INIT" fake-init/cairn-init
  cp "$CAIRN_INIT" fake-init/cairn-init-arm64
  set +e
  "$CAIRN" build init.yaml -o out-fake --cache "$work/cache" --init-binary fake-init/cairn-init -q 2>fake.err
  rc=$?
  set -e
  check "an amd64 cairn-init offered for arm64: exit 2, named, nothing written" \
    bash -c "test $rc = 2 && grep -q 'not a cairn-init for arm64 (amd64)' fake.err && test ! -e out-fake"
else
  skip "cairn-init per architecture" "no init/cairn-init-arm64: the cross compiler (ci/bootstrap) was missing at build time"
fi

# ---- the example recipe, from the Debian mirror

if [[ ${CAIRN_SANITIZED:-0} == 1 ]]; then
  skip "recipes/multiarch.yaml" "needs the Debian mirror, whose index takes minutes to parse under the sanitizers"
  end_tests
fi
mkdir -p ex/build
cp "$CAIRN_SOURCE_DIR/recipes/multiarch.yaml" ex/
example_programs ex/build "$CAIRN_SOURCE_DIR/recipes/hello.c"
set +e
"$CAIRN" build ex/multiarch.yaml -o ex-out --cache "$work/cache-ex" -q 2>ex.err
rc=$?
set -e
if ((rc == 3)) && grep -qiE "resolve|connect|timed out|could not|no deb entry|mirror" ex.err; then
  skip "recipes/multiarch.yaml" "the Debian mirror is unreachable: $(head -1 ex.err)"
  end_tests
fi
check "recipes/multiarch.yaml builds" test $rc = 0 || cat ex.err >&2
for v in dev prod; do
  check "multiarch-$v: skopeo reads a two-platform index" \
    bash -c "skopeo inspect --raw oci:ex-out/multiarch-$v:$v | python3 -c 'import json,sys; d=json.load(sys.stdin); assert [(m[\"platform\"][\"architecture\"], m[\"platform\"].get(\"variant\")) for m in d[\"manifests\"]]==[(\"amd64\",None),(\"arm64\",\"v8\")]'"
  rm -rf "ex-unpack-$v"
  check "multiarch-$v: umoci unpacks the arm64 image" silent umoci unpack --rootless --image "ex-out/multiarch-$v:$v-arm64" "ex-unpack-$v"
  check "multiarch-$v: the arm64 image's tini is an aarch64 ELF" test "$(elf_machine "ex-unpack-$v/rootfs/sbin/tini")" = 183
done
