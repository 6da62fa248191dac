#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The cache is not trusted (issue 17, DESIGN.md §8): an attacker who can write the cache and
# nothing else poisons one entry in place per case (scan/, objects/, unpacked/, debs/,
# layers/, keyring/*.solv, index/*.solv) and cairn builds again. Every build either writes the
# bytes a clean cache gives, saying "cache entry PATH did not verify; rebuilt", or fails with
# exit 3 naming what it refused; never exit 0 with other bytes, never "enforcer pass" for a
# tree a clean cache fails. The same for cairn verify, and for a hand-edited lock.
# Fixtures: a signed repository made here with static programs for tini and catatonit and a
# static program carrying BusyBox's help text.
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools gpg dpkg-deb dpkg-scanpackages xz python3 cc
export SOURCE_DATE_EPOCH=1700000000

repo_key
repo_other_key "$work/other.gpg"

pkg_with() { # REPO NAME PATH PROGRAM-TEXT
  local d="$work/pkg-$2"
  mkdir -p "$d/${3%/*}"
  static_hello "$d/$3" "$4"
  repo_deb_dir "$1" "$2" 1.0 "$d"
}
make_repo() { # DIR
  pkg_with "$1" tini usr/bin/tini-static "tini, a tiny init"
  pkg_with "$1" catatonit usr/bin/catatonit "catatonit, another init"
  mkdir -p "$work/pkg-busybox/bin"
  printf '#include <stdio.h>\nconst char help[] = "BusyBox v1.36.1 multi-call binary.\\nBusyBox is a multi-call binary that combines many common Unix utilities into a single executable.\\nUsage: busybox [function [arguments]...]\\n";\nint main(void) { puts(help); return 0; }\n' |
    ${CC:-cc} -static -O1 -x c -o "$work/pkg-busybox/bin/busybox" -
  repo_deb_dir "$1" busybox 1.0 "$work/pkg-busybox"
  repo_index "$1"
}
make_repo "$work/repo"
static_hello hello "the application"

recipe() { # FILE URL KEYRING TINI-SOURCE-PACKAGE TINI-SOURCE-PATH (NAME: FILE without .yaml)
  cat >"$1" <<EOF
recipe: 1
name: ${1%.yaml}
epoch: 1700000000
sources:
  - { name: test, url: "$2", suite: stable, keyring: $3 }
utilities:
  - package: ${4:-tini}
    files: { ${5:-/usr/bin/tini-static}: /sbin/tini }
  - package: catatonit
    files: { /usr/bin/catatonit: /sbin/catatonit }
artifacts:
  - { src: hello, dest: /app/hello, mode: "0755" }
run: { entrypoint: [/sbin/tini, --, /app/hello] }
variants: { prod: { policy: strict } }
EOF
}
recipe good.yaml "file://$work/repo" "$work/keyring.gpg"
# The same utilities, but /sbin/tini is BusyBox: strict refuses it.
recipe bad.yaml "file://$work/repo" "$work/keyring.gpg" busybox /bin/busybox

build() { # CACHE OUT [RECIPE] [options]: exit status in $rc, stderr in err.txt
  rc=0
  "$CAIRN" build "${3:-good.yaml}" -o "$2" --cache "$1" -q "${@:4}" >out.txt 2>err.txt || rc=$?
}
# The reference: a clean cache. Then a warm cache to poison (every directory filled: the
# enforcer's scans, .debs, member lists, objects, layers, keyring and index).
build "$work/clean" ref
check "a clean-cache build succeeds" test $rc = 0
snapshot ref >ref.snap
cp good.lock.json good.lock.ref
build "$work/warm" warm-out
build "$work/warm" warm-out
check "a warm build gives the same bytes" cmp -s ref.snap <(snapshot warm-out)
build "$work/warm" bad-out bad.yaml
check "a clean cache: strict refuses the BusyBox tree (exit 1)" test $rc = 1
cp -a warm pristine

sha() { sha256sum "$1" | cut -c1-64; }
tini_sha=$(sha pkg-tini/usr/bin/tini-static)
cata_sha=$(sha pkg-catatonit/usr/bin/catatonit)
bb_sha=$(sha pkg-busybox/bin/busybox)
deb_of() { sha "$(echo repo/pool/"$1"_1.0_*.deb)"; }
tini_deb=$(deb_of tini)
cata_deb=$(deb_of catatonit)

fresh() { rm -rf cache && cp -a pristine cache; }
# same_as_clean NAME: the last build exited 0 with the clean cache's bytes and said which
# entry it rebuilt (ENTRY, a path under the cache).
same_as_clean() { # NAME ENTRY OUT
  check "$1: exit 0" test $rc = 0
  check "$1: the clean cache's bytes" cmp -s ref.snap <(snapshot "$3")
  check "$1: one line names the rebuilt entry" \
    grep -qF "cache entry $work/cache/$2 did not verify; rebuilt" err.txt
}
# verify_rebuilds NAME ENTRY: cairn verify with the poisoned cache rebuilds the entry and
# finds ref reproducible (ref holds the clean bytes).
verify_rebuilds() {
  local vrc=0
  "$CAIRN" verify good.yaml --against ref --cache "$work/cache" -q >verify.txt 2>verr.txt || vrc=$?
  check "$1: cairn verify: reproducible, from rebuilt bytes" \
    bash -c "[ $vrc = 0 ] && grep -q '^reproducible: good-prod' verify.txt && grep -qF 'cache entry $work/cache/$2 did not verify; rebuilt' verr.txt"
}

# 1. scan/: a forged "no markers" verdict for BusyBox (tini's real, sealed result under
#    BusyBox's digest; and a plain text one) does not make strict pass it.
for how in replayed forged; do
  fresh
  if [[ $how == replayed ]]; then
    cp "cache/scan/$tini_sha.2" "cache/scan/$bb_sha.2"
  else
    printf 'cairn-scan 2\nmarkers 0\nshell -\npm -\napplets 0\ntruncated 0\nscanned 1000\nentropy 0 0\n' >"cache/scan/$bb_sha.2"
  fi
  build "$work/cache" bad-$how bad.yaml
  check "scan/ $how: strict still refuses BusyBox (exit 1)" test $rc = 1
  check "scan/ $how: no 'enforcer pass'" bash -c "! grep -q 'pass (strict)' out.txt"
  check "scan/ $how: the finding names BusyBox" grep -q CAIRN-BUSYBOX err.txt
  check "scan/ $how: the entry is named as rebuilt" grep -qF "cache entry $work/cache/scan/$bb_sha.2 did not verify; rebuilt" err.txt
  check "scan/ $how: nothing written" test ! -e bad-$how
done

# 2. objects/: the object of /sbin/tini edited in place (same size), and replaced by a symlink
#    to a host file of the same size (the /etc/shadow attack).
obj_of() { # SHA256-OF-CONTENT: the object path holding that content
  local f
  for f in cache/objects/*/*; do
    [[ $(sha "$f") == "$1" ]] && { echo "$f"; return; }
  done
}
fresh
obj=$(obj_of "$tini_sha")
check "(the tini object is in the cache)" test -n "$obj"
chmod u+w "$obj"
printf 'EVIL' | dd of="$obj" bs=1 seek=100 conv=notrunc status=none
build "$work/cache" out-obj-edit
same_as_clean "objects/ edited" "unpacked/$tini_deb" out-obj-edit
check "objects/ edited: the object is repaired" test "$(sha "$obj")" = "$tini_sha"
fresh
rm -f "$obj"
head -c "$(stat -c %s pkg-tini/usr/bin/tini-static)" /dev/urandom >host-secret
ln -s "$work/host-secret" "$obj"
build "$work/cache" out-obj-link
same_as_clean "objects/ symlink to a host file" "unpacked/$tini_deb" out-obj-link
check "objects/ symlink: the object is a regular file again" test -f "$obj" -a ! -L "$obj"
fresh
chmod u+w "$(obj_of "$tini_sha")"
printf 'EVIL' | dd of="$(obj_of "$tini_sha")" bs=1 seek=100 conv=notrunc status=none
verify_rebuilds "objects/ edited" "unpacked/$tini_deb"

# 3. unpacked/: tini's member list edited to name catatonit's object (key and size), a
#    well-formed list with its old trailer.
poison_list() {
  python3 - "cache/unpacked/$tini_deb" "cache/unpacked/$cata_deb" <<'EOF'
import re, sys
tini, cata = (open(p, "rb").read() for p in sys.argv[1:3])
m = re.search(rb"\nf (\d+) (\d+) (\d+) (\d+) ([0-9a-f]{32}) \d+:/usr/bin/catatonit ", cata)
size, key = m.group(4), m.group(5)
out = re.sub(rb"(\nf \d+ \d+ \d+ )\d+ [0-9a-f]{32}( \d+:/usr/bin/tini-static )",
             lambda t: t.group(1) + size + b" " + key + t.group(2), tini)
assert out != tini
open(sys.argv[1], "wb").write(out)
EOF
}
fresh
poison_list
build "$work/cache" out-list
same_as_clean "unpacked/ naming another object" "unpacked/$tini_deb" out-list
fresh
poison_list
verify_rebuilds "unpacked/ naming another object" "unpacked/$tini_deb"

# 4. debs/: another valid .deb (catatonit's) under tini's name, its member list gone so the
#    .deb is read; and the same with --offline, where it cannot be fetched again.
fresh
cp "cache/debs/$cata_deb.deb" "cache/debs/$tini_deb.deb"
rm "cache/unpacked/$tini_deb"
build "$work/cache" out-deb
same_as_clean "debs/ another .deb" "debs/$tini_deb.deb" out-deb
check "debs/ another .deb: the cached file is tini's again" test "$(sha "cache/debs/$tini_deb.deb")" = "$tini_deb"
fresh
cp "cache/debs/$cata_deb.deb" "cache/debs/$tini_deb.deb"
rm "cache/unpacked/$tini_deb"
build "$work/cache" out-deb-offline good.yaml --offline
check "debs/ another .deb, --offline: exit 3" test $rc = 3
check "debs/ another .deb, --offline: names the entry" grep -qF "$work/cache/debs/$tini_deb.deb" err.txt
check "debs/ another .deb, --offline: nothing written" test ! -e out-deb-offline
fresh
cp "cache/debs/$cata_deb.deb" "cache/debs/$tini_deb.deb"
rm "cache/unpacked/$tini_deb"
verify_rebuilds "debs/ another .deb" "debs/$tini_deb.deb"
# With its member list cached and sealed, a .deb of the right size is hashed only when it is
# read: here it is edited in place and an object is poisoned too, so the .deb is read, found
# to be other bytes, and refused.
fresh
chmod u+w "cache/debs/$tini_deb.deb"
printf 'EVIL' | dd of="cache/debs/$tini_deb.deb" bs=1 seek=2000 conv=notrunc status=none
obj=$(obj_of "$tini_sha")
chmod u+w "$obj"
printf 'EVIL' | dd of="$obj" bs=1 seek=100 conv=notrunc status=none
build "$work/cache" out-deb-obj
check "debs/ and objects/ edited: exit 3 naming the .deb" \
  bash -c "[ $rc = 3 ] && grep -qF 'cache entry $work/cache/debs/$tini_deb.deb is not the .deb' err.txt"
check "debs/ and objects/ edited: nothing written" test ! -e out-deb-obj

# 5. layers/: the base layer's entry names the other layer's blob (a valid blob
#    with its own digest and size) under the right diff_id; and after a build, the cache's
#    blob edited: OUT, which shares no inode with it, does not change.
poison_layer() {
  python3 - cache/layers <<'EOF'
import os, sys
root = sys.argv[1]
fmt = next(d for d in os.listdir(root) if d.startswith("gzip-"))
entries = sorted(os.path.join(root, fmt, k) for k in os.listdir(os.path.join(root, fmt)))
lines = [open(e).read().split("\n") for e in entries]
a, b = lines[0][0].split(" "), lines[1][0].split(" ")
# Each entry keeps its diff_id and names the other layer's blob (valid, with its own digest
# and size), and the trailer that sealed it: whichever layer is written first is offered the
# other's blob.
for e, line, diff, blob in ((entries[0], lines[0], a, b), (entries[1], lines[1], b, a)):
    trailer = line[1] + "\n" if line[1] else ""
    open(e, "w").write(" ".join([diff[0], blob[1], blob[2]]) + "\n" + trailer)
print(entries[0][len(root) - len("layers"):])
EOF
}
fresh
entry=$(poison_layer)
build "$work/cache" out-layer
same_as_clean "layers/ entries naming another blob" "$entry" out-layer
snapshot out-layer >out-layer.snap
for b in cache/layers/blobs/sha256/*; do chmod u+w "$b"; printf 'EVIL' | dd of="$b" bs=1 seek=20 conv=notrunc status=none; done
check "layers/: editing the cache after a build changes no published output" cmp -s out-layer.snap <(snapshot out-layer)

# 6. keyring/*.solv: the parsed keyring of another key under the real keyring's name, with a
#    Release signed by that key in the cache: an offline resolve refuses it.
make_repo_other() {
  cp -a repo repo-other
  (export GNUPGHOME="$work/gnupg-other"; repo_release "$work/repo-other")
}
make_repo_other
recipe other.yaml "file://$work/repo-other" "$work/other.gpg"
"$CAIRN" lock other.yaml --cache "$work/cache-other" -q
fresh
good_ring=$(ls cache/keyring)
cp cache-other/keyring/*.solv "cache/keyring/$good_ring"
rel=$(ls -d cache/release/*)
cp repo-other/dists/stable/Release repo-other/dists/stable/Release.gpg "$rel/"
rm -f good.lock.json
rc=0
"$CAIRN" lock good.yaml --offline --cache "$work/cache" -q >out.txt 2>err.txt || rc=$?
check "keyring/ another key's parsed keyring + forged Release: exit 3" test $rc = 3
check "keyring/: the Release signature is refused" grep -q 'does not verify' err.txt
check "keyring/: the entry is named as rebuilt" grep -qF "cache entry $work/cache/keyring/$good_ring did not verify; rebuilt" err.txt
check "keyring/: no lock written" test ! -e good.lock.json

# 7. index/*.solv: a parsed index where tini's entry carries catatonit's digest, under the
#    real Packages' name: an online cairn lock pins the real one.
p=repo-evil/dists/stable/main/binary-$repo_arch/Packages
cp -a repo repo-evil
python3 - "$p" <<'EOF'
import sys
p = sys.argv[1]
paras = [dict(l.split(": ", 1) for l in para.splitlines()) for para in open(p).read().strip().split("\n\n")]
byname = {q["Package"]: q for q in paras}
for k in ("Filename", "Size", "MD5sum", "SHA1", "SHA256"):
    if k in byname["catatonit"]:
        byname["tini"][k] = byname["catatonit"][k]
open(p, "w").write("\n\n".join("\n".join(f"{k}: {v}" for k, v in q.items()) for q in paras) + "\n")
EOF
xz -kf "$p"
repo_release "$work/repo-evil"
recipe evil.yaml "file://$work/repo-evil" "$work/keyring.gpg"
"$CAIRN" lock evil.yaml --cache "$work/cache-evil" -q
check "(the evil index pins tini to catatonit's digest)" grep -q "$cata_deb" evil.lock.json
fresh
good_index=$(ls cache/index)
evil_index=$(ls cache-evil/index)
check "(two different parsed indexes)" test "$good_index" != "$evil_index"
cp "cache-evil/index/$evil_index" "cache/index/$good_index"
rm -f good.lock.json
rc=0
"$CAIRN" lock good.yaml --cache "$work/cache" -q >out.txt 2>err.txt || rc=$?
check "index/ patched: cairn lock succeeds" test $rc = 0
check "index/ patched: the lock is the clean one" cmp -s good.lock.ref good.lock.json
check "index/ patched: the entry is named as rebuilt" grep -qF "cache entry $work/cache/index/$good_index did not verify; rebuilt" err.txt

# 8. The lock file edited by hand: tini's name and version kept, catatonit's Filename, size
#    and SHA-256. The .deb's control file says catatonit: exit 3 naming both.
cp good.lock.ref good.lock.json
python3 - good.lock.json <<'EOF'
import json, sys
lock = json.load(open(sys.argv[1]))
pk = {p["name"]: p for p in lock["packages"]}
for k in ("filename", "size", "sha256"):
    pk["tini"][k] = pk["catatonit"][k]
open(sys.argv[1], "w").write(json.dumps(lock, indent=2) + "\n")
EOF
for c in clean-lock pristine-lock; do
  rm -rf "$c"
  [[ $c == pristine-lock ]] && cp -a pristine "$c"
  build "$work/$c" out-lock
  check "lock edited ($c cache): exit 3" test $rc = 3
  check "lock edited ($c cache): names the lock's package and the .deb's" \
    bash -c "grep -q \"package tini 1.0 .*package 'catatonit' version '1.0'\" err.txt"
  check "lock edited ($c cache): nothing written" test ! -e out-lock
done
vrc=0
"$CAIRN" verify good.yaml --against ref --cache "$work/pristine-lock" -q >verify.txt 2>&1 || vrc=$?
check "lock edited: cairn verify does not say reproducible" bash -c "[ $vrc != 0 ] && ! grep -q '^reproducible' verify.txt"
check "lock edited: cairn verify exits 3, the locked digest is not the index's" \
  bash -c "[ $vrc = 3 ] && grep -q 'package tini 1.0 .* is locked to .*$cata_deb.*verified index of source test gives .*$tini_deb.*was edited' verify.txt"
for c in clean-check pristine-lock; do
  rm -rf "$work/clean-check"
  rc=0
  "$CAIRN" lock good.yaml --check --cache "$work/$c" >out.txt 2>err.txt || rc=$?
  check "lock edited: cairn lock --check ($c cache) exits 3 naming the package" \
    bash -c "[ $rc = 3 ] && grep -q 'package tini 1.0 .* is locked to .*was edited' err.txt"
done
cp good.lock.ref good.lock.json
rc=0
"$CAIRN" lock good.yaml --check --cache "$work/pristine-lock" >out.txt 2>err.txt || rc=$?
check "the lock as written: cairn lock --check says up to date" bash -c "[ $rc = 0 ] && grep -q 'up to date' out.txt"

# 9. The key is never in the cache, and is private; one placed in the cache is not used.
rm -rf cache && cp -a pristine cache
cp good.lock.ref good.lock.json
rc=0
CAIRN_CACHE_KEY="$work/cache/cache.key" "$CAIRN" build good.yaml -o out-keyin --cache "$work/cache" -q >out.txt 2>err.txt || rc=$?
check "a key inside the cache: the build succeeds with the clean cache's bytes" \
  bash -c "[ $rc = 0 ] && cmp -s ref.snap <(cd out-keyin && find . -type f -exec sha256sum {} + | LC_ALL=C sort)"
check "...and says the key is not used" grep -q "cache key $work/cache/cache.key is inside the cache" err.txt
check "the cache key is outside the cache, mode 0600" \
  bash -c "[ \"\$(stat -c %a '$XDG_STATE_HOME/cairn/cache.key')\" = 600 ] && ! find '$work/warm' '$work/clean' -name 'cache.key' | grep -q ."
