#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cairn build end to end (issues 3 and 6): byte-for-byte reproducibility whatever the host,
# real consumers (umoci, skopeo, GNU tar), shared dev/prod layers with whiteouts, and failed
# builds that leave OUT exactly as it was. Needs no network.
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools umoci skopeo tar cc

# Inputs: a static program, a data directory, a tarball; made twice in different orders,
# with different mtimes, under different umasks.
make_inputs() { # DIR UMASK ORDER
  local d=$1
  mkdir -p "$d"
  (
    umask "$2"
    static_hello "$d/app" "e2e app"
    mkdir -p "$d/data/sub"
    if [[ $3 == forward ]]; then
      echo alpha >"$d/data/a.txt"; echo beta >"$d/data/sub/b.txt"; ln -sf a.txt "$d/data/link"
    else
      ln -sf a.txt "$d/data/link"; echo beta >"$d/data/sub/b.txt"; echo alpha >"$d/data/a.txt"
    fi
    touch -d "@$4" "$d/app" "$d/data/a.txt" "$d/data/sub/b.txt"
    mkdir -p "$d/tree/etc"; echo "from tar" >"$d/tree/etc/tarred.conf"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$d/tree" -czf "$d/bundle.tar.gz" .
    cat >"$d/recipe.yaml" <<'EOF'
recipe: 1
name: e2e
epoch: 1700000000
artifacts:
  - { src: app, dest: /app/server }
  - { src: data, dest: /srv/data }
  - { src: bundle.tar.gz, dest: /opt/bundle }
accounts:
  groups: [{ name: app, gid: 65532 }]
  users: [{ name: app, uid: 65532, gid: 65532, home: /home/app }]
files:
  - { path: /tmp, type: dir, mode: "1777" }
  - { path: /etc/app.conf, content: "answer = 42\n", mode: "0640", gid: 65532 }
  - { path: /etc/prod-only, content: "prod\n", variants: [prod] }
  - { path: /etc/dev-only, content: "dev\n", variants: [dev] }
  - { path: /usr/bin/server, type: symlink, target: /app/server }
run:
  user: app
  entrypoint: [/app/server]
  env: { MODE: normal }
  workdir: /app
variants:
  dev: { run: { env: { MODE: debug } } }
  prod: {}
EOF
  )
}

make_inputs "$work/in1" 022 forward 1000000000
make_inputs "$work/in2" 077 reverse 1600000000
# The program is compiled twice; keep the bytes identical so only the host differs.
cp "$work/in1/app" "$work/in2/app"
cp "$work/in1/bundle.tar.gz" "$work/in2/bundle.tar.gz"

(cd "$work/in1" && umask 022 && TZ=UTC LANG=C LC_ALL=C "$CAIRN" build recipe.yaml -o "$work/out1") >"$work/sum1"
(cd / && umask 077 && TZ=Asia/Tokyo LANG=de_DE.UTF-8 LC_ALL=de_DE.UTF-8 \
  "$CAIRN" build "$work/in2/recipe.yaml" -o "$work/elsewhere/out2" --cache "$work/elsewhere/cache") >"$work/sum2"

check "two builds under different hosts settings print the same summary" cmp -s "$work/sum1" "$work/sum2"
same_tree=1
for f in e2e-dev.tar e2e-prod.tar; do cmp -s "$work/out1/$f" "$work/elsewhere/out2/$f" || same_tree=0; done
check "rootfs tars are byte-identical" test $same_tree = 1
check "OCI layouts are byte-identical" diff -r "$work/out1/e2e-prod" "$work/elsewhere/out2/e2e-prod"
check "dev OCI layouts are byte-identical" diff -r "$work/out1/e2e-dev" "$work/elsewhere/out2/e2e-dev"

# One input byte changes: digests change.
cp -r "$work/in1" "$work/in3"
echo alphb >"$work/in3/data/a.txt"
"$CAIRN" build "$work/in3/recipe.yaml" -o "$work/out3" >"$work/sum3"
check "one changed input byte changes the rootfs digest" \
  bash -c "! cmp -s '$work/out1/e2e-prod.tar' '$work/out3/e2e-prod.tar'"
check "...and the image digest" bash -c "! diff -q '$work/sum1' '$work/sum3' >/dev/null"

# GNU tar lists exactly the expected entries, in order, numeric owners, mtime = epoch.
tar_list "$work/out1/e2e-prod.tar" --full-time >"$work/list"
names=$(awk '{print $6}' "$work/list" | tr '\n' ' ')
expect="app/ app/server etc/ etc/app.conf etc/cairn/ etc/cairn/runtime.json etc/group etc/os-release etc/passwd etc/prod-only home/ home/app/ opt/ opt/bundle/ opt/bundle/etc/ opt/bundle/etc/tarred.conf srv/ srv/data/ srv/data/a.txt srv/data/link srv/data/sub/ srv/data/sub/b.txt tmp/ usr/ usr/bin/ usr/bin/server "
check "tar -tv lists the expected entries in byte order" test "$names" = "$expect"
check "every mtime is the epoch" bash -c "awk '{print \$4, \$5}' '$work/list' | sort -u | grep -qx '2023-11-14 22:13:20' && [ \$(awk '{print \$4}' '$work/list' | sort -u | wc -l) = 1 ]"
check "etc/app.conf is 0640 0/65532" grep -q -- '^-rw-r----- 0/65532 .* etc/app.conf$' "$work/list"
check "tmp is 1777" grep -q '^drwxrwxrwt 0/0 .* tmp/$' "$work/list"
check "modes do not come from the checkout (umask 077 input is 0644)" grep -q '^-rw-r--r-- 0/0 .* srv/data/a.txt$' "$work/list"
check "an executable artifact is 0755 0/0" grep -q '^-rwxr-xr-x 0/0 .* app/server$' "$work/list"

# umoci unpacks the prod layout into the recipe's tree.
umoci unpack --image "$work/out1/e2e-prod:prod" "$work/bundle-prod" >/dev/null 2>&1
r="$work/bundle-prod/rootfs"
check "umoci: server program is there and runs" bash -c "'$r/app/server' | grep -qx 'e2e app'"
check "umoci: symlink target kept" test "$(readlink "$r/usr/bin/server")" = /app/server
check "umoci: archive artifact unpacked" grep -qx "from tar" "$r/opt/bundle/etc/tarred.conf"
check "umoci: mode 0640 and gid 65532" test "$(stat -c '%a %g' "$r/etc/app.conf")" = "640 65532"
check "umoci: passwd lists root then app" test "$(cut -d: -f1 "$r/etc/passwd" | tr '\n' ' ')" = "root app "

# skopeo reads the config.
skopeo inspect --config "oci:$work/out1/e2e-prod:prod" >"$work/config.json"
check "skopeo: user is 65532:65532" python3 -c "import json,sys; c=json.load(open('$work/config.json'))['config']; sys.exit(c['User']!='65532:65532' or c['Entrypoint']!=['/app/server'] or 'MODE=normal' not in c['Env'])"
skopeo inspect --config "oci:$work/out1/e2e-dev:dev" >"$work/config-dev.json"
check "skopeo: dev's run override lands in dev's config" grep -q 'MODE=debug' "$work/config-dev.json"

# Layers: dev = prod's base and app, byte for byte, plus one layer.
layers() { python3 -c "import json;m=json.load(open('$1/blobs/sha256/'+json.load(open('$1/index.json'))['manifests'][0]['digest'][7:]));print(' '.join(l['digest'] for l in m['layers']))"; }
lp=$(layers "$work/out1/e2e-prod"); ld=$(layers "$work/out1/e2e-dev")
check "prod has two layers" test "$(wc -w <<<"$lp")" = 2
check "dev has exactly one more layer" test "$(wc -w <<<"$ld")" = 3
check "dev's first two layers are prod's" test "$(cut -d' ' -f1-2 <<<"$ld")" = "$lp"
devlayer=$(cut -d' ' -f3 <<<"$ld")
tar -tzf "$work/out1/e2e-dev/blobs/sha256/${devlayer#sha256:}" >"$work/devlayer"
check "the prod-only file is a whiteout in dev's layer" grep -qx 'etc/.wh.prod-only' "$work/devlayer"
check "dev's layer adds dev-only" grep -qx 'etc/dev-only' "$work/devlayer"
umoci unpack --image "$work/out1/e2e-dev:dev" "$work/bundle-dev" >/dev/null 2>&1
check "unpacked dev has no prod-only file" test ! -e "$work/bundle-dev/rootfs/etc/prod-only"
check "unpacked dev has dev-only" test -f "$work/bundle-dev/rootfs/etc/dev-only"
tar -C "$work/bundle-dev/rootfs" -cf - . | tar -tf - | sed 's|^\./||; /^$/d' | sort >"$work/dev-unpacked"
tar -tf "$work/out1/e2e-dev.tar" | sed 's|/$||' | sort >"$work/dev-flat"
sed -i 's|/$||' "$work/dev-unpacked"
check "dev's layers unpacked in order give the flattened dev tree" diff "$work/dev-unpacked" "$work/dev-flat"

# dev's base and app layers are prod's blobs, linked rather than compressed a second time.
reused=1
for l in $lp; do
  [ "$(stat -c %i "$work/out1/e2e-prod/blobs/sha256/${l#sha256:}")" = "$(stat -c %i "$work/out1/e2e-dev/blobs/sha256/${l#sha256:}")" ] || reused=0
done
check "dev's base and app blobs are prod's files (written once)" test $reused = 1

# The summary shows which layers dev and prod share.
check "summary: dev's base layer is shared with prod" grep -Eq '^  layer     base  diff_id sha256:[0-9a-f]{64}  shared with prod$' "$work/sum1"
check "summary: dev's own layer is not shared" grep -Eq '^  layer     dev   diff_id sha256:[0-9a-f]{64}$' "$work/sum1"

# A sha256 pin: the right one builds, a wrong one is a usage error at the artifact's position.
pin=$(sha256sum "$work/in1/app" | cut -d' ' -f1)
sed "s|{ src: app, dest: /app/server }|{ src: app, dest: /app/server, sha256: $pin }|" \
  "$work/in1/recipe.yaml" >"$work/in1/pinned.yaml"
"$CAIRN" build "$work/in1/pinned.yaml" -o "$work/out-pinned" -q --variant prod >/dev/null
check "sha256 pin: the pinned build equals the unpinned one" cmp -s "$work/out1/e2e-prod.tar" "$work/out-pinned/e2e-prod.tar"
sed "s|sha256: $pin|sha256: $(printf '0%.0s' {1..64})|" "$work/in1/pinned.yaml" >"$work/in1/badpin.yaml"
set +e
"$CAIRN" build "$work/in1/badpin.yaml" -o "$work/out-badpin" -q 2>"$work/err"
rc=$?
set -e
check "sha256 mismatch: exit 2" test $rc = 2
check "sha256 mismatch: message names position, expected and actual" \
  grep -q "badpin.yaml:[0-9]*:[0-9]*: error: artifact app: sha256 mismatch: .*0000000000.*$pin" "$work/err"
check "sha256 mismatch: no OUT written" test ! -e "$work/out-badpin"

# run.init: cairn-init installed at /sbin/cairn-init and put in front of the entrypoint.
static_hello "$work/stub-init" stub-init
sed 's|^  workdir: /app$|  workdir: /app\n  init: cairn-init\n  require-env: [TOKEN]\n  writable: [/tmp]\n  read-only: true|' \
  "$work/in1/recipe.yaml" >"$work/in1/init.yaml"
"$CAIRN" build "$work/in1/init.yaml" -o "$work/out-init" -q --variant prod --init-binary "$work/stub-init" >/dev/null
check "cairn-init: installed at /sbin/cairn-init, 0755 0/0" \
  bash -c "tar --numeric-owner -tvf '$work/out-init/e2e-prod.tar' | grep -q '^-rwxr-xr-x 0/0 .* sbin/cairn-init$'"
check "cairn-init: the installed bytes are the given binary" \
  bash -c "tar -xOf '$work/out-init/e2e-prod.tar' sbin/cairn-init | cmp -s - '$work/stub-init'"
skopeo inspect --config "oci:$work/out-init/e2e-prod:prod" >"$work/config-init.json"
check "cairn-init: entrypoint wraps the program with the run checks" python3 -c "import json,sys; c=json.load(open('$work/config-init.json'))['config']; sys.exit(c['Entrypoint']!=['/sbin/cairn-init','--require-env','TOKEN','--writable','/tmp','--read-only-root','--landlock','--','/app/server'])"
set +e
"$CAIRN" build "$work/in1/init.yaml" -o "$work/out-noinit" -q --init-binary "$work/no-such-init" 2>"$work/err"
rc=$?
set -e
check "cairn-init missing: exit 2" test $rc = 2
check "cairn-init missing: the message says where it looked" grep -q 'no-such-init' "$work/err"

# A failed build leaves OUT exactly as it was and no temporary sibling behind.
snapshot "$work/out1" >"$work/before"
sed 's|src: app,|src: missing-app,|' "$work/in1/recipe.yaml" >"$work/in1/broken.yaml"
set +e
"$CAIRN" build "$work/in1/broken.yaml" -o "$work/out1" -q 2>"$work/err"
rc=$?
set -e
check "missing artifact: exit 2" test $rc = 2
check "missing artifact: the message names the recipe position" grep -q 'broken.yaml:[0-9]*:[0-9]*: error: artifact missing-app' "$work/err"
snapshot "$work/out1" >"$work/after"
check "missing artifact: OUT untouched" cmp -s "$work/before" "$work/after"
check "missing artifact: no temporary sibling left" test -z "$(find "$work" -maxdepth 1 -name '.out1.cairn-*')"

# A policy violation (a shell script in prod) is refused before anything is written.
printf '#!/bin/sh\necho hi\n' >"$work/in1/run.sh"
sed 's|  - { src: data, dest: /srv/data }|  - { src: data, dest: /srv/data }\n  - { src: run.sh, dest: /app/run.sh, mode: "0755" }|' \
  "$work/in1/recipe.yaml" >"$work/in1/shell.yaml"
set +e
"$CAIRN" build "$work/in1/shell.yaml" -o "$work/out1" -q >/dev/null 2>"$work/err"
rc=$?
set -e
check "policy violation: exit 1" test $rc = 1
snapshot "$work/out1" >"$work/after"
check "policy violation: OUT untouched" cmp -s "$work/before" "$work/after"
check "policy violation: no temporary sibling left" test -z "$(find "$work" -maxdepth 1 -name '.out1.cairn-*')"

# Large layers are compressed in parallel chunks (gzip) or on a worker thread (zstd): the
# bytes must not depend on the thread count. The tree spans many 128 KiB chunks: text,
# incompressible bytes (stored chunks) and zeros.
big="$work/big"
mkdir -p "$big/data"
for i in $(seq 1 400); do echo "line $i of a compressible text file"; done >"$big/data/text"
for i in 1 2 3 4 5 6; do cat "$big/data/text"; done >"$big/data/text2"
head -c 3000000 /dev/urandom >"$big/data/random.bin"
head -c 700000 /dev/zero >"$big/data/zeros"
cat >"$big/recipe.yaml" <<'EOF'
recipe: 1
name: big
epoch: 1700000000
artifacts:
  - { src: data, dest: /data }
variants:
  prod: {}
EOF
for alg in gzip zstd; do
  for t in 1 2; do
    CAIRN_THREADS=$t "$CAIRN" build "$big/recipe.yaml" -o "$big/out-$alg-$t" --compression "$alg" \
      --cache "$big/cache-$alg-$t" -q >/dev/null
  done
  check "$alg: CAIRN_THREADS=1 and =2 give byte-identical layouts" diff -r "$big/out-$alg-1" "$big/out-$alg-2"
  blobs_ok=1
  blobs=$(layers "$big/out-$alg-2/big-prod")
  [[ -n $blobs ]] || blobs_ok=0
  for d in $blobs; do
    b="$big/out-$alg-2/big-prod/blobs/sha256/${d#sha256:}"
    if [ "$alg" = gzip ]; then gzip -t "$b" || blobs_ok=0; else zstd -qt "$b" || blobs_ok=0; fi
  done
  check "$alg: every layer passes $alg -t" test $blobs_ok = 1
done
applayer=$(layers "$big/out-gzip-2/big-prod" | cut -d' ' -f2)
check "gzip: the header has no name and no time" \
  test "$(head -c 10 "$big/out-gzip-2/big-prod/blobs/sha256/${applayer#sha256:}" | od -An -tx1 | tr -d ' \n')" = 1f8b0800000000000003
umoci unpack --image "$big/out-gzip-2/big-prod:prod" "$big/bundle" >/dev/null 2>&1
check "umoci: the parallel gzip layer unpacks to the same bytes" \
  bash -c "cmp '$big/bundle/rootfs/data/random.bin' '$big/data/random.bin' && cmp '$big/bundle/rootfs/data/text2' '$big/data/text2'"
skopeo inspect --raw "oci:$big/out-zstd-2/big-prod:prod" >"$big/manifest-zstd.json"
check "skopeo: reads the zstd layout" grep -q 'tar+zstd' "$big/manifest-zstd.json"

# A variant name of 32 characters (the recipe's limit) names its own layer whole: in the
# summary and in the config's history.
long=abcdefghijklmnopqrstuvwxyz-12345
sed "s|^  prod: {}\$|  prod: {}\n  $long: {}|" "$work/in1/recipe.yaml" >"$work/in1/long.yaml"
"$CAIRN" build "$work/in1/long.yaml" -o "$work/out-long" --variant "$long" >"$work/sum-long"
check "32-character variant name: the summary names its layer whole" \
  grep -Eq "^  layer     $long diff_id sha256:[0-9a-f]{64}\$" "$work/sum-long"
check "32-character variant name: so does the config's history" python3 - "$work/out-long/e2e-$long" "$long" <<'PY'
import json, sys
d, name = sys.argv[1], sys.argv[2]
blob = lambda digest: json.load(open(d + '/blobs/sha256/' + digest[7:]))
m = blob(json.load(open(d + '/index.json'))['manifests'][0]['digest'])
h = blob(m['config']['digest'])['history']
sys.exit(not h[-1]['created_by'].endswith(': %s layer of e2e' % name))
PY

# A label cairn sets itself cannot come from the recipe: it would be in the config twice.
sed 's|^  env: { MODE: normal }$|  env: { MODE: normal }\n  labels: { dev.cairn.variant: mine }|' \
  "$work/in1/recipe.yaml" >"$work/in1/label.yaml"
set +e
"$CAIRN" build "$work/in1/label.yaml" -o "$work/out-label" -q 2>"$work/err"
rc=$?
set -e
check "a recipe label named dev.cairn.variant: exit 2" test $rc = 2
check "...the message names the label" grep -q "label 'dev.cairn.variant' is set by cairn" "$work/err"
check "...and no OUT is written" test ! -e "$work/out-label"


# A directory tree only prod has: dev's layer removes it with one whiteout for the topmost
# directory and none below it (the layer's exact bytes depend on it), and unpacked in order
# dev's layers give dev's flattened tree.
wh="$work/wh"
mkdir -p "$wh/tree/sub/deeper"
echo a >"$wh/tree/a"; echo b >"$wh/tree/sub/b"; echo c >"$wh/tree/sub/deeper/c"
cat >"$wh/recipe.yaml" <<'YAML'
recipe: 1
name: wh
epoch: 1700000000
artifacts:
  - { src: tree, dest: /opt/prod, variants: [prod] }
files:
  - { path: /opt/keep, content: "kept\n" }
  - { path: /etc/dev-only, content: "dev\n", variants: [dev] }
variants:
  dev: {}
  prod: {}
YAML
"$CAIRN" build "$wh/recipe.yaml" -o "$wh/out" -q >/dev/null
ld=$(layers "$wh/out/wh-dev")
check "removed directory: dev has three layers" test "$(wc -w <<<"$ld")" = 3
devlayer=$(cut -d' ' -f3 <<<"$ld")
check "removed directory: dev's layer holds one whiteout, for the topmost directory" \
  test "$(tar -tzf "$wh/out/wh-dev/blobs/sha256/${devlayer#sha256:}" | tr '\n' ' ')" = \
  "etc/ etc/cairn/ etc/cairn/runtime.json etc/dev-only etc/os-release opt/ opt/.wh.prod "
umoci unpack --image "$wh/out/wh-dev:dev" "$wh/bundle" >/dev/null 2>&1
check "removed directory: unpacked dev has no /opt/prod but /opt/keep" \
  test ! -e "$wh/bundle/rootfs/opt/prod" -a -f "$wh/bundle/rootfs/opt/keep"
(cd "$wh/bundle/rootfs" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort) >"$wh/unpacked"
tar -tf "$wh/out/wh-dev.tar" | sed 's|/$||' | LC_ALL=C sort >"$wh/flat"
check "removed directory: dev's layers unpacked give the flattened dev tree" diff "$wh/unpacked" "$wh/flat"
