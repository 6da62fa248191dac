#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The compressed-layer cache (issue 9): a warm build links its layers from CACHE/layers instead
# of compressing them, and its output is byte-identical to a cold build's and to a build with
# an empty cache (gzip and zstd). A corrupted, truncated, missing or stale cache entry is
# detected, the layer compressed again and the entry repaired; the output stays the same. The
# cache holds only complete entries; temporary files of dead builds are removed; cairn verify
# neither reads nor writes it. Needs no network.
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools cc
pids=()
at_exit 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done'

# Three layers (base, app, and dev's own), big enough for many 128 KiB gzip chunks: text,
# incompressible bytes and a static program.
static_hello app lc
mkdir -p data
for i in $(seq 1 3000); do echo "line $i of a compressible text file"; done >data/text
head -c 400000 /dev/urandom >data/random.bin
cat >recipe.yaml <<'EOF'
recipe: 1
name: lc
epoch: 1700000000
artifacts:
  - { src: app, dest: /app/lc }
  - { src: data, dest: /srv/data }
accounts:
  groups: [{ name: app, gid: 65532 }]
  users: [{ name: app, uid: 65532, gid: 65532 }]
files:
  - { path: /tmp, type: dir, mode: "1777" }
  - { path: /etc/dev-only, content: "dev\n", variants: [dev] }
run:
  user: app
  entrypoint: [/app/lc]
variants:
  dev: { policy: dev }
  prod: {}
EOF

build() { # CACHE OUT ALG [more options]
  local cache=$1 out=$2 alg=$3
  shift 3
  "$CAIRN" build recipe.yaml -o "$out" --cache "$cache" --compression "$alg" "$@" >"$out.sum"
}
# Every file of a tree: path, type, mode, size, sha256; then the summary.
output_state() {
  (cd "$1" && find . -printf '%P %y %m %s\n' | sort)
  snapshot "$1"
  cat "$1.sum"
}
same_output() { cmp -s <(output_state "$1") <(output_state "$2"); }
# The layer blobs (path in OUT) of both variants.
layer_blobs() {
  python3 - "$1" <<'EOF'
import json, os, sys
out = sys.argv[1]
for v in sorted(os.listdir(out)):
    lay = os.path.join(out, v)
    if not os.path.isdir(lay):
        continue
    idx = json.load(open(os.path.join(lay, "index.json")))
    man = json.load(open(os.path.join(lay, "blobs/sha256", idx["manifests"][0]["digest"][7:])))
    for l in man["layers"]:
        print(os.path.join(lay, "blobs/sha256", l["digest"][7:]))
EOF
}
# Every entry parses and names a blob of the size it says whose sha256 is its name; every
# blob is the file its name says; no temporary file.
cache_consistent() { # CACHE
  python3 - "$1" <<'EOF'
import hashlib, os, re, sys
root = os.path.join(sys.argv[1], "layers")
blobs = os.path.join(root, "blobs", "sha256")
for name in os.listdir(blobs):
    data = open(os.path.join(blobs, name), "rb").read()
    assert hashlib.sha256(data).hexdigest() == name, name
n = 0
for fmt in os.listdir(root):
    assert not fmt.startswith(".tmp-"), fmt
    if fmt == "blobs":
        continue
    for key in os.listdir(os.path.join(root, fmt)):
        line = open(os.path.join(root, fmt, key)).read()
        m = re.fullmatch(r"sha256:[0-9a-f]{64} sha256:([0-9a-f]{64}) ([0-9]+)\n"
                         r"cairn-mac 1 [0-9a-f]{64}\n", line)
        assert m, (key, line)
        assert os.path.getsize(os.path.join(blobs, m.group(1))) == int(m.group(2)), key
        n += 1
assert n > 0
EOF
}
count_entries() { find "$1/layers" -mindepth 2 -maxdepth 2 -type f ! -path '*/blobs/*' | wc -l; }
# the inodes of the cache's blobs and entries: a layer compressed again replaces its files
cache_inodes() { find "$1/layers" -type f ! -name '.tmp-*' -printf '%P %i\n' | LC_ALL=C sort; }
# OUT and the cache share no inode: editing the cache never changes a published output
no_shared_inode() { # OUT CACHE
  comm -12 <(find "$1" -type f -printf '%i\n' | sort -u) \
    <(find "$2" -type f -printf '%i\n' | sort -u) | grep -q . && return 1
  return 0
}

# 1. Cold, warm and empty-cache builds give the same bytes.
for alg in gzip zstd; do
  build "$work/cache" "out-$alg-cold" $alg
  cache_inodes cache >"inodes-$alg-cold"
  build "$work/cache" "out-$alg-warm" $alg
  build "$work/fresh-$alg" "out-$alg-fresh" $alg
  check "$alg: a warm build is byte-identical to the cold build" same_output "out-$alg-cold" "out-$alg-warm"
  check "$alg: ...and to a build with an empty cache" same_output "out-$alg-warm" "out-$alg-fresh"
  # A compressed layer would replace its cached blob and entry with new files.
  check "$alg: the warm build has layer blobs" test -n "$(layer_blobs "out-$alg-warm")"
  check "$alg: the cache holds layer files" test -s "inodes-$alg-cold"
  check "$alg: the warm build compressed no layer (the cache's files are untouched)" \
    test "$(cache_inodes cache)" = "$(cat "inodes-$alg-cold")"
  check "$alg: the outputs share no inode with the cache (copies, not links)" \
    bash -c "$(declare -f no_shared_inode); no_shared_inode out-$alg-warm cache && no_shared_inode out-$alg-cold cache"
done
check "one entry per layer (base, app, dev) and format" test "$(count_entries cache)" = 6
check "the cache holds only complete, verified entries" cache_consistent cache
check "entries are kept per format" test "$(ls cache/layers | grep -c '^gzip-6-zlib.*-v[0-9]*$\|^zstd-3-zstd.*-v[0-9]*$')" = 2

# 2. Broken entries: each is detected, the layer compressed again, the output unchanged and
#    the entry repaired. The reference is the empty-cache build's output.
base_blob() { # the cache's file for prod's base layer
  local b
  b=$(layer_blobs out-gzip-fresh)
  echo "cache/layers/blobs/sha256/$(basename "${b%%$'\n'*}")"
}
blob=$(base_blob)
size=$(stat -c %s "$blob")
blob_inode=$(stat -c %i "$blob")
printf '\x5a' | dd of="$blob" bs=1 seek=$((size / 2)) conv=notrunc status=none
check "(the flipped byte makes the cached blob wrong)" \
  bash -c "[ \"\$(sha256sum '$blob' | cut -c1-64)\" != '$(basename "$blob")' ]"
build "$work/cache" out-flipped gzip
check "a flipped byte in a cached blob: the output is still right" same_output out-gzip-fresh out-flipped
check "...from a layer compressed again (the cached blob is a new file)" \
  test "$(stat -c %i "$blob")" != "$blob_inode"
check "...and the cached blob is repaired" cache_consistent cache

truncate -s $((size / 3)) "$blob"
build "$work/cache" out-truncated gzip
check "a truncated cached blob: the output is still right" same_output out-gzip-fresh out-truncated
check "...and the cache is repaired" cache_consistent cache

rm "$blob"
build "$work/cache" out-missing gzip
check "a missing cached blob: the output is still right" same_output out-gzip-fresh out-missing
check "...and the blob is back" test -f "$blob"

entries=(cache/layers/gzip-*/*)
printf 'garbage\n' >"${entries[0]}"
build "$work/cache" out-garbage gzip
check "a malformed entry: the output is still right" same_output out-gzip-fresh out-garbage
check "...and the entry is rewritten" cache_consistent cache

# Entries swapped: each names the other layer's diff_id, so neither is used.
cp "${entries[0]}" entry0 && cp "${entries[1]}" entry1
cp entry1 "${entries[0]}" && cp entry0 "${entries[1]}"
build "$work/cache" out-swapped gzip
check "entries that name another tar's diff_id: the output is still right" same_output out-gzip-fresh out-swapped
check "...and both are corrected" bash -c "cmp -s entry0 '${entries[0]}' && cmp -s entry1 '${entries[1]}'"

# zstd too: a truncated blob is recompressed.
zblob="cache/layers/blobs/sha256/$(basename "$(layer_blobs out-zstd-fresh | sed -n 2p)")"
truncate -s 10 "$zblob"
build "$work/cache" out-zstd-truncated zstd
check "zstd: a truncated cached blob: the output is still right" same_output out-zstd-fresh out-zstd-truncated
check "zstd: ...and the cache is repaired" cache_consistent cache

# 3. A cache where layers cannot be stored: the build neither fails nor changes.
mkdir cache-blocked && touch cache-blocked/layers
build "$work/cache-blocked" out-blocked gzip
check "a cache that cannot hold layers: the build succeeds with the same bytes" same_output out-gzip-fresh out-blocked

# 4. --offline reads layers from the cache like any build.
build "$work/cache" out-offline gzip --offline
check "--offline: the same bytes" same_output out-gzip-fresh out-offline

# 5. Three builds at once on one empty cache.
for i in 1 2 3; do
  build "$work/cache-conc" "out-conc$i" gzip &
  pids+=($!)
done
conc_ok=1
for p in "${pids[@]}"; do wait "$p" || conc_ok=0; done
pids=()
for i in 1 2 3; do same_output out-gzip-fresh "out-conc$i" || conc_ok=0; done
check "three concurrent builds on one empty cache: all right" test $conc_ok = 1
check "...and the cache holds only complete entries" cache_consistent cache-conc

# 6. Temporary files: a dead build's are removed, a live one's kept; none is left behind.
dead=$(sh -c 'echo $$')
touch -d '1 hour ago' "cache/layers/.tmp-$dead-AbCdEf"
touch -d '1 hour ago' "cache/layers/.tmp-$$-AbCdEf"
build "$work/cache" out-temps gzip
check "a dead build's temporary file in layers/ is removed" test ! -e "cache/layers/.tmp-$dead-AbCdEf"
check "a live process's is kept" test -e "cache/layers/.tmp-$$-AbCdEf"
rm "cache/layers/.tmp-$$-AbCdEf"
check "no build left a temporary file in any cache" test -z "$(find "$work" -path '*cache*' -name '.tmp-*')"

# 7. cairn verify compresses every layer itself: it neither uses nor fills the cache.
rc=0
"$CAIRN" verify recipe.yaml --against out-gzip-fresh --cache "$work/cache-verify" -q >verify.out 2>&1 || rc=$?
check "verify: reproducible" test $rc = 0
check "verify: no layer cache written" test ! -e cache-verify/layers
