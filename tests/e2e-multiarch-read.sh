#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Reading a multi-architecture layout (issue 22, the reader side): two single-architecture
# builds (amd64 with a static program compiled here, arm64 with a minimal aarch64 ELF written
# by python) composed into the layout cairn emits for a multi-architecture variant: index.json
# lists the image index (ref name V), each architecture's manifest with its platform (ref name
# V-ARCH, for umoci) and each SBOM referrer. skopeo and umoci read it; cairn enforce checks
# every architecture (or --arch's), an amd64 program in the arm64 image is CAIRN-ARCH; cairn
# diff compares per architecture; cairn push sends the index, both manifests and both SBOMs and
# tags the index with the same bytes; a missing architecture and an ambiguous pick are errors.
# The checks are functions of a layout path: they run on the composed layout and on the one
# `cairn build` emits for `arch: [amd64, arm64]` with the same programs. No network.
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools cc python3 skopeo umoci docker-registry curl
py=python3

# ---- fixtures

static_hello hello-amd64 "multiarch amd64"
# A static aarch64 executable: ELF header, one PT_LOAD, exit(0) (mov x0,#0; mov x8,#93; svc #0).
"$py" - hello-arm64 <<'EOF'
import struct, sys
code = struct.pack('<3I', 0xd2800000, 0xd2800ba8, 0xd4000001)
base, off = 0x400000, 64 + 56
total = off + len(code)
eh = b'\x7fELF' + bytes([2, 1, 1, 0]) + bytes(8) + struct.pack(
    '<HHIQQQIHHHHHH', 2, 183, 1, base + off, 64, 0, 0, 64, 56, 1, 0, 0, 0)
ph = struct.pack('<IIQQQQQQ', 1, 5, 0, base, base, total, total, 0x1000)
open(sys.argv[1], 'wb').write(eh + ph + code)
EOF
chmod 0755 hello-arm64

# recipe FILE ARCH EXTRA-ARTIFACT EXTRA-TOP
recipe() {
  cat >"$1" <<EOF
recipe: 1
name: m
epoch: 1700000000
arch: $2
artifacts:
  - { src: hello-$2, dest: /app/hello, mode: "0755" }
$3
run:
  entrypoint: [/app/hello]
variants:
  prod: {}
$4
EOF
}
recipe amd64.yaml amd64 "" ""
recipe arm64.yaml arm64 "" ""
# The same arm64 image with an amd64 program slipped in (its build told to look away).
recipe arm64-bad.yaml arm64 '  - { src: hello-amd64, dest: /app/x86, mode: "0755" }' \
  'policy: { strict: { disable-rules: [CAIRN-ARCH] } }'
for r in amd64 arm64 arm64-bad; do
  "$CAIRN" build "$r.yaml" -o "out-$r" -q >"build-$r.out" 2>"build-$r.err" ||
    bail_out "building $r.yaml failed: $(cat "build-$r.err")"
done

# compose OUT V AMD64-LAYOUT ARM64-LAYOUT: the multi-architecture layout of variant V.
compose() {
  "$py" - "$@" <<'EOF'
import hashlib, json, os, shutil, sys
out, v, parts = sys.argv[1], sys.argv[2], [('amd64', sys.argv[3]), ('arm64', sys.argv[4])]
platform = {'amd64': {'architecture': 'amd64', 'os': 'linux'},
            'arm64': {'architecture': 'arm64', 'os': 'linux', 'variant': 'v8'}}
dump = lambda o: json.dumps(o, separators=(',', ':')).encode()
os.makedirs(out + '/blobs/sha256')
shutil.copy(parts[0][1] + '/oci-layout', out + '/oci-layout')
images, sboms = [], []
for arch, layout in parts:
    for b in os.listdir(layout + '/blobs/sha256'):
        shutil.copy(layout + '/blobs/sha256/' + b, out + '/blobs/sha256/' + b)
    idx = json.load(open(layout + '/index.json'))
    img = [d for d in idx['manifests'] if 'artifactType' not in d][0]
    sboms += [d for d in idx['manifests'] if d.get('artifactType') == 'application/spdx+json']
    images.append((arch, img))
entries = [{'mediaType': d['mediaType'], 'digest': d['digest'], 'size': d['size'],
            'platform': platform[a]} for a, d in images]
blob = dump({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json',
             'manifests': entries})
digest = 'sha256:' + hashlib.sha256(blob).hexdigest()
open(out + '/blobs/sha256/' + digest[7:], 'wb').write(blob)
top = [{'mediaType': 'application/vnd.oci.image.index.v1+json', 'digest': digest,
        'size': len(blob), 'annotations': {'org.opencontainers.image.ref.name': v}}]
top += [dict(e, annotations={'org.opencontainers.image.ref.name': v + '-' + a})
        for e, (a, _) in zip(entries, images)]
open(out + '/index.json', 'wb').write(dump({'schemaVersion': 2,
    'mediaType': 'application/vnd.oci.image.index.v1+json', 'manifests': top + sboms}))
EOF
}
compose multi prod out-amd64/m-prod out-arm64/m-prod
compose bad prod out-amd64/m-prod out-arm64-bad/m-prod
# And the layout cairn itself emits for `arch: [amd64, arm64]` with the same programs.
cat >both.yaml <<'EOF'
recipe: 1
name: m
epoch: 1700000000
arch: [amd64, arm64]
artifacts:
  - { src: "hello-${arch}", dest: /app/hello, mode: "0755" }
run:
  entrypoint: [/app/hello]
variants:
  prod: {}
EOF
"$CAIRN" build both.yaml -o out-both -q >build-both.out 2>build-both.err ||
  bail_out "building both.yaml failed: $(cat build-both.err)"

# cairn_rc OUT ARGS...: runs cairn, stdout to OUT, stderr to OUT.err; prints the exit status.
cairn_rc() {
  local out=$1 rc=0
  shift
  "$CAIRN" "$@" >"$out" 2>"$out.err" || rc=$?
  echo "$rc"
}

# ---- the checks, each of a layout L and its variant V

check_consumers() { # L V
  local l=$1 v=$2
  skopeo inspect --raw "oci:$l:$v" >raw.json
  check "$l: skopeo inspect --raw oci:$l:$v is the image index" \
    "$py" -c "import json,sys; d=json.load(open('raw.json'))
assert d['mediaType']=='application/vnd.oci.image.index.v1+json', d
p=[m['platform'] for m in d['manifests']]
assert p==[{'architecture':'amd64','os':'linux'},{'architecture':'arm64','os':'linux','variant':'v8'}], p"
  for a in amd64 arm64; do
    check "$l: skopeo inspect --override-arch $a reads the $a image" \
      bash -c "skopeo inspect --override-os linux --override-arch $a 'oci:$l:$v' | grep -q '\"Architecture\": \"$a\"'"
    rm -rf "bundle-$a"
    check "$l: umoci unpack --image $l:$v-$a" \
      quiet umoci unpack --rootless --image "$l:$v-$a" "bundle-$a"
    check "$l: ...holding /app/hello" test -x "bundle-$a/rootfs/app/hello"
  done
  check "$l: umoci's arm64 /app/hello is an aarch64 ELF" \
    "$py" -c "import struct; b=open('bundle-arm64/rootfs/app/hello','rb').read(20); assert struct.unpack('<H', b[18:20])[0]==183"
}

check_enforce_good() { # L
  local l=$1
  check "$l: cairn enforce checks every architecture (exit 0)" test "$(cairn_rc enf.txt enforce "$l")" = 0
  check "$l: ...one block per architecture, named in its header" \
    bash -c "grep -q '^$l (amd64): pass (strict)' enf.txt && grep -q '^$l (arm64): pass (strict)' enf.txt"
  check "$l: enforce --arch arm64 checks the arm64 image only" \
    test "$(cairn_rc enf1.txt enforce "$l" --arch arm64)" = 0
  check "$l: ...its header says arm64" bash -c "grep -c ' (arm64): pass' enf1.txt | grep -qx 1 && ! grep -q amd64 enf1.txt"
  check "$l: enforce --arch amd64,arm64 --format json: both reports, named" \
    bash -c "'$CAIRN' enforce '$l' --arch amd64,arm64 --format json | $py -c \"import json,sys; d=json.load(sys.stdin)
assert d['schema']=='cairn-enforce-archs/1' and d['passed'], d
assert [r['arch'] for r in d['reports']]==['amd64','arm64'], d\""
  check "$l: enforce --arch arm64 --format json: one report with its arch" \
    bash -c "'$CAIRN' enforce '$l' --arch arm64 --format json | $py -c \"import json,sys; d=json.load(sys.stdin)
assert d['schema']=='cairn-enforce/1' and d['arch']=='arm64' and d['passed'], d\""
  check "$l: enforce --format sarif: one run per architecture" \
    bash -c "'$CAIRN' enforce '$l' --format sarif | $py -c \"import json,sys; d=json.load(sys.stdin)
assert [r['properties']['arch'] for r in d['runs']]==['amd64','arm64'], d
assert [r['automationDetails']['id'] for r in d['runs']]==['cairn-enforce/amd64/','cairn-enforce/arm64/'], d\""
}

check_enforce_bad() { # L: an amd64 program in the arm64 image
  local l=$1
  check "$l: cairn enforce fails (exit 1)" test "$(cairn_rc bad.txt enforce "$l")" = 1
  check "$l: ...the amd64 image passes" grep -q "^$l (amd64): pass" bad.txt
  check "$l: ...the arm64 image fails with CAIRN-ARCH on /app/x86" \
    bash -c "grep -q '^$l (arm64): FAIL' bad.txt && grep -q '^CAIRN-ARCH' bad.txt && grep -q -- '- /app/x86' bad.txt"
  check "$l: enforce --arch amd64 passes" test "$(cairn_rc bad1.txt enforce "$l" --arch amd64)" = 0
  check "$l: enforce --image prod-arm64 (one image) checks its config's arm64: CAIRN-ARCH" \
    bash -c "'$CAIRN' enforce '$l' --image prod-arm64 >bad3.txt 2>&1; [ \$? = 1 ] && grep -q '^CAIRN-ARCH' bad3.txt && grep -q -- '- /app/x86' bad3.txt"
  check "$l: enforce --arch arm64 fails (exit 1)" test "$(cairn_rc bad2.txt enforce "$l" --arch arm64)" = 1
  check "$l: ...with CAIRN-ARCH" grep -q '^CAIRN-ARCH' bad2.txt
  check "$l: ...and the json says so for arm64" \
    bash -c "'$CAIRN' enforce '$l' --format json | $py -c \"import json,sys; d=json.load(sys.stdin)
assert not d['passed']
r={x['arch']: x for x in d['reports']}
assert r['amd64']['passed'] and not r['arm64']['passed'], d
assert [f['path'] for f in r['arm64']['findings'] if f['rule']=='CAIRN-ARCH']==['/app/x86'], d\""
}

check_diff() { # GOOD BAD: the same but for /app/x86 in arm64
  local a=$1 b=$2
  check "diff $a $b: every architecture, exit 1" test "$(cairn_rc diff.txt diff "$a" "$b")" = 1
  check "...one section per architecture" bash -c "grep -qx 'arch amd64:' diff.txt && grep -qx 'arch arm64:' diff.txt"
  check "...amd64 identical, arm64 adds /app/x86" \
    bash -c "sed -n '/^arch amd64:/,/^arch arm64:/p' diff.txt | grep -qx identical && sed -n '/^arch arm64:/,\$p' diff.txt | grep -q '^added  */app/x86:'"
  check "diff --arch amd64: identical (exit 0)" test "$(cairn_rc diff1.txt diff --arch amd64 "$a" "$b")" = 0
  check "diff --arch arm64: exit 1 naming /app/x86" \
    bash -c "'$CAIRN' diff --arch arm64 '$a' '$b' >diff2.txt; [ \$? = 1 ] && grep -q '^added  */app/x86:' diff2.txt && ! grep -q amd64 diff2.txt"
  check "diff --format json: a report per architecture" \
    bash -c "'$CAIRN' diff --format json '$a' '$b' >diff.json; [ \$? = 1 ] && $py -c \"import json; d=json.load(open('diff.json'))
assert d['schema']=='cairn-diff-archs/1' and not d['identical'], d
assert [(r['arch'], r['identical']) for r in d['reports']]==[('amd64', True), ('arm64', False)], d\""
  check "diff of the arm64 single image and the multi-arch layout: they differ (exit 1)" \
    test "$(cairn_rc diff3.txt diff out-arm64/m-prod "$a")" = 1
  check "...arm64 compared, identical" bash -c "grep -qx 'arch arm64:' diff3.txt && grep -qx identical diff3.txt && ! grep -q 'arch amd64' diff3.txt"
  check "...amd64 not compared, and said so" grep -q "^diff: $a holds amd64, out-arm64/m-prod does not: not compared" diff3.txt.err
}

check_errors() { # L
  local l=$1
  check "$l: enforce --arch riscv64 (absent): exit 2" test "$(cairn_rc e1.txt enforce "$l" --arch riscv64)" = 2
  check "$l: ...naming what the index holds" \
    grep -q 'holds linux/amd64, linux/arm64/v8; none for riscv64 (linux/riscv64)' e1.txt.err
  check "$l: enforce --arch sparc (unknown): exit 2" test "$(cairn_rc e2.txt enforce "$l" --arch sparc)" = 2
  check "$l: ...saying so" grep -q "'sparc' is no Debian architecture cairn knows" e2.txt.err
  check "$l: diff --arch riscv64: exit 2, naming what the index holds" \
    bash -c "'$CAIRN' diff --arch riscv64 '$l' '$l' >/dev/null 2>e6.err; [ \$? = 2 ] && grep -q 'none for riscv64' e6.err"
  check "$l: diff of its amd64 image and its index compares amd64 (exit 1: arm64 only in one)" \
    bash -c "'$CAIRN' diff --ref-a prod-amd64 --ref-b prod '$l' '$l' >e3.txt 2>e3.err; [ \$? = 1 ] && grep -qx 'arch amd64:' e3.txt && grep -qx identical e3.txt && grep -q 'holds arm64, $l does not' e3.err"
  # The same manifests listed without the index and without platforms: two images, and
  # nothing says which one.
  rm -rf flat && cp -r "$l" flat
  "$py" -c "import json; d=json.load(open('flat/index.json'))
d['manifests']=[{k: v for k, v in m.items() if k != 'platform'} for m in d['manifests'] if m['mediaType'].endswith('manifest.v1+json') and 'artifactType' not in m]
json.dump(d, open('flat/index.json', 'w'))"
  check "$l: two images without platforms or a ref: exit 2, asking for a ref name" \
    bash -c "'$CAIRN' enforce flat >/dev/null 2>e7.err; [ \$? = 2 ] && grep -q 'holds 2 images; name one by its ref name' e7.err"
  check "$l: ...--image prod-arm64 picks one" \
    bash -c "'$CAIRN' enforce flat --image prod-arm64 --format json | $py -c \"import json,sys; d=json.load(sys.stdin); assert d['passed'] and 'arch' not in d, d\""
  check "$l: cairn runtime reads the run-time contract (the first architecture's)" \
    bash -c "'$CAIRN' runtime '$l' --format json | grep -q '/app/hello'"
  check "$l: the image index by its ref name, --arch arm64: enforce passes" \
    test "$(cairn_rc e4.txt enforce "$l" --image prod --arch arm64)" = 0
  check "$l: the per-architecture ref name prod-arm64 is an image of its own" \
    test "$(cairn_rc e5.txt enforce "$l" --image prod-arm64)" = 0
}

check_push() { # L V REPO
  local l=$1 v=$2 repo=$3
  check "$l: cairn push to $plain/$repo" "$CAIRN" push "$l" "$plain/$repo" --insecure
  skopeo inspect --raw --tls-verify=false "docker://$plain/$repo:$v" >pushed.json
  local idx
  idx=$("$py" -c "import json; print([m['digest'] for m in json.load(open('$l/index.json'))['manifests'] if m['mediaType'].endswith('index.v1+json')][0])")
  check "$l: the tag $v is the index, byte for byte" cmp pushed.json "$l/blobs/sha256/${idx#sha256:}"
  check "$l: no per-architecture tag was pushed" \
    bash -c "curl -sf 'http://$plain/v2/$repo/tags/list' | $py -c \"import json,sys; t=json.load(sys.stdin)['tags']; assert '$v-arm64' not in t and '$v' in t, t\""
  for a in amd64 arm64; do
    local m
    m=$("$py" -c "import json; print([m['digest'] for m in json.load(open('$l/index.json'))['manifests'] if m.get('annotations',{}).get('org.opencontainers.image.ref.name')=='$v-$a'][0])")
    check "$l: the $a manifest is there by digest" \
      bash -c "skopeo inspect --raw --tls-verify=false 'docker://$plain/$repo@$m' | cmp - '$l/blobs/sha256/${m#sha256:}'"
    check "$l: the $a SBOM is its referrer (fallback tag)" \
      bash -c "curl -sf -H 'Accept: application/vnd.oci.image.index.v1+json' 'http://$plain/v2/$repo/manifests/sha256-${m#sha256:}' | grep -q '\"artifactType\":\"application/spdx+json\"'"
  done
  check "$l: skopeo copies the arm64 image back from the registry" \
    quiet skopeo copy --quiet --src-tls-verify=false --override-arch arm64 "docker://$plain/$repo:$v" "oci:copy-$repo:$v"
}

# ---- run them: on the composed layout, then on cairn's own

check_consumers multi prod
check_enforce_good multi
check_enforce_bad bad
check_diff multi bad
check_errors multi

check_consumers out-both/m-prod prod
check_enforce_good out-both/m-prod
check_errors out-both/m-prod
check "cairn's layout and the composed one hold the same files per architecture" \
  test "$(cairn_rc same.txt diff out-both/m-prod multi)" = 0

# start_registry NAME: docker-registry on 127.0.0.1, a free port (as in e2e-push.sh).
start_registry() {
  local name=$1 cfg p
  cfg="$work/$name.yml"
  cat >"$cfg" <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $work/$name-data
http:
  addr: 127.0.0.1:0
EOF
  : >"$work/$name.log"
  docker-registry serve "$cfg" >>"$work/$name.log" 2>&1 &
  at_exit "kill $! 2>/dev/null"
  p=$(grep -m1 -o 'listening on 127.0.0.1:[0-9]*' < <(exec timeout 30 tail -n +1 -f "$work/$name.log") | sed 's/.*://') ||
    bail_out "docker-registry $name did not start: $(tail -3 "$work/$name.log")"
  printf -v "port_$name" %s "$p"
}
start_registry plain
plain=127.0.0.1:$port_plain
check_push multi prod multi
check_push out-both/m-prod prod both
