#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Debian sources against a repository this test makes (issue 4): a static program packed with
# dpkg-deb, Packages and Release written here, Release signed with a throwaway gpg key. Served
# as file:// and over http on 127.0.0.1. Every tampering case must fail with exit 3, name what
# failed, leave OUT untouched and leave nothing unverified in the cache.
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools gpg dpkg-deb dpkg-scanpackages xz python3 cc curl
export SOURCE_DATE_EPOCH=1700000000

# A throwaway signing key, and a second one nobody trusts.
repo_key
repo_other_key "$work/other.gpg"

# A package with a static tool, made and indexed here.
make_repo() { # DIR VERSION
  local repo=$1 ver=$2 pkg="$work/pkg-$2"
  mkdir -p "$pkg/usr/bin"
  static_hello "$pkg/usr/bin/tool-static" "tool $ver"
  repo_deb_dir "$repo" tool "$ver" "$pkg"
  repo_index "$repo"
}
make_repo "$work/repo" 1.0

recipe() { # URL KEYRING
  cat <<EOF
recipe: 1
name: local
epoch: 1700000000
sources:
  - { name: test, url: "$1", suite: stable, keyring: $2 }
utilities:
  - package: tool (>= 1.0)
    files: { /usr/bin/tool-static: /usr/bin/tool }
run: { entrypoint: [/usr/bin/tool] }
variants: { prod: {} }
EOF
}
recipe "file://$work/repo" "$work/keyring.gpg" >"$work/good.yaml"
"$CAIRN" build "$work/good.yaml" -o "$work/out" --cache "$work/cache" -q >/dev/null
check "file:// repository: build succeeds" test -f "$work/out/local-prod.tar"
tar -C "$work" -xf "$work/out/local-prod.tar" usr/bin/tool
check "the picked file is the package's" cmp "$work/usr/bin/tool" "$work/pkg-1.0/usr/bin/tool-static"
snapshot "$work/out" >"$work/out.before"

# expect_fail NAME PATTERN RECIPE [env...]: exit 3, message, OUT untouched, cache verified.
expect_fail() {
  local name=$1 pattern=$2 file=$3
  shift 3
  set +e
  env "$@" "$CAIRN" build "$file" -o "$work/out" --cache "$work/cache-$n" -q >/dev/null 2>"$work/err"
  local rc=$?
  set -e
  check "$name: exit 3" test $rc = 3
  check "$name: the message says what failed" grep -qE "$pattern" "$work/err"
  snapshot "$work/out" >"$work/out.after"
  check "$name: OUT untouched" cmp -s "$work/out.before" "$work/out.after"
  check "$name: no unverified .deb in the cache" \
    bash -c "! ls '$work/cache-$((n - 3))/debs/'*.deb >/dev/null 2>&1"
}

# Tampered Release: signature no longer matches.
cp -r "$work/repo" "$work/t1"
sed -i 's/^Origin: cairn-test/Origin: cairn-evil/' "$work/t1/dists/stable/Release"
recipe "file://$work/t1" "$work/keyring.gpg" >"$work/t1.yaml"
expect_fail "tampered Release" "does not verify" "$work/t1.yaml"

# Unknown key.
recipe "file://$work/repo" "$work/other.gpg" >"$work/t2.yaml"
expect_fail "unknown key" "does not verify" "$work/t2.yaml"
# Parsed keyrings are cached by the keyring's own sha256: a cache holding the trusted keyring's
# keys never lends them to another keyring.
check "the parsed keyring is cached under its sha256" \
  test -s "$work/cache/keyring/$(sha256sum <"$work/keyring.gpg" | cut -d' ' -f1).solv"
set +e
"$CAIRN" build "$work/t2.yaml" -o "$work/out" --cache "$work/cache" -q >/dev/null 2>"$work/err"
rc=$?
set -e
check "unknown key with a warm keyring cache: still exit 3, does not verify" \
  bash -c "test $rc = 3 && grep -q 'does not verify' '$work/err'"

# The cached Release is verified on every use, also offline: a warm cache resolves offline; the
# same cache with its Release edited, or its Release.gpg made by another key, does not.
# --lockfile names a fresh lock, so each build resolves (a matching lock needs no Release).
"$CAIRN" build "$work/good.yaml" -o "$work/out-rel" --cache "$work/cache-rel" \
  --lockfile "$work/rel-0.lock.json" -q >/dev/null
rel=("$work/cache-rel/release/"*/Release)
check "the cache holds one verified Release" test "${#rel[@]}" = 1 -a -s "${rel[0]}"
check "offline build resolving from the cached Release: exit 0" \
  exits 0 quiet "$CAIRN" build "$work/good.yaml" -o "$work/out-rel" --cache "$work/cache-rel" \
  --lockfile "$work/rel-1.lock.json" --offline -q
cp "${rel[0]}" "$work/release.good"
sed -i 's/^Origin: cairn-test/Origin: cairn-evil/' "${rel[0]}"
set +e
"$CAIRN" build "$work/good.yaml" -o "$work/out-rel2" --cache "$work/cache-rel" \
  --lockfile "$work/rel-2.lock.json" --offline -q >/dev/null 2>"$work/err"
rc=$?
set -e
check "offline build with a tampered cached Release: exit 3" test $rc = 3
check "...the signature does not verify" grep -q "does not verify" "$work/err"
check "...nothing written" test ! -e "$work/out-rel2" -a ! -e "$work/rel-2.lock.json"
cp "$work/release.good" "${rel[0]}"
GNUPGHOME="$work/gnupg-other" gpg --batch -q --yes --detach-sign -o "${rel[0]}.gpg" "${rel[0]}"
set +e
"$CAIRN" build "$work/good.yaml" -o "$work/out-rel2" --cache "$work/cache-rel" \
  --lockfile "$work/rel-3.lock.json" --offline -q >/dev/null 2>"$work/err"
rc=$?
set -e
check "offline build with a cached Release.gpg by another key: exit 3" test $rc = 3
check "...the signature does not verify" grep -q "does not verify" "$work/err"

# Packages changed after signing.
cp -r "$work/repo" "$work/t3"
echo "Package: evil" | xz >"$work/t3/dists/stable/main/binary-$repo_arch/Packages.xz"
recipe "file://$work/t3" "$work/keyring.gpg" >"$work/t3.yaml"
expect_fail "Packages digest mismatch" "does not match the signed Release" "$work/t3.yaml"

# .deb swapped after indexing (same name, other bytes), and a truncated one.
cp -r "$work/repo" "$work/t4"
deb=$(ls "$work/t4/pool/"*.deb)
printf 'x' >>"$deb"
recipe "file://$work/t4" "$work/keyring.gpg" >"$work/t4.yaml"
expect_fail ".deb digest mismatch" "does not match the signed index" "$work/t4.yaml"
cp -r "$work/repo" "$work/t5"
deb=$(ls "$work/t5/pool/"*.deb)
truncate -s 100 "$deb"
recipe "file://$work/t5" "$work/keyring.gpg" >"$work/t5.yaml"
expect_fail "truncated .deb" "does not match the signed index" "$work/t5.yaml"

# An index entry without Filename: cannot be downloaded: a source failure naming the package.
cp -r "$work/repo" "$work/t8"
d8="$work/t8/dists/stable"
sed -i '/^Filename:/d' "$d8/main/binary-$repo_arch/Packages"
xz -kf "$d8/main/binary-$repo_arch/Packages"
repo_release "$work/t8"
recipe "file://$work/t8" "$work/keyring.gpg" >"$work/t8.yaml"
expect_fail "index entry without Filename" "tool 1.0 without a Filename" "$work/t8.yaml"

# Temporary files a killed build left in the cache go once their process is gone (and they
# are old enough not to be a live download of a build in another PID namespace).
dead=$(sh -c 'echo $$')
mkdir -p "$work/cache/debs"
: >"$work/cache/debs/.tmp-$dead-old"
touch -d '1 hour ago' "$work/cache/debs/.tmp-$dead-old"
: >"$work/cache/debs/.tmp-$dead-fresh"
: >"$work/cache/debs/.tmp-$$-live"
touch -d '1 hour ago' "$work/cache/debs/.tmp-$$-live"
"$CAIRN" build "$work/good.yaml" -o "$work/out-clean" --cache "$work/cache" -q >/dev/null
check "cache: a dead build's old temp file is removed" test ! -e "$work/cache/debs/.tmp-$dead-old"
check "cache: a recent temp file is kept" test -e "$work/cache/debs/.tmp-$dead-fresh"
check "cache: a live process's temp file is kept" test -e "$work/cache/debs/.tmp-$$-live"
rm -f "$work/cache/debs/.tmp-"*

# Over http on 127.0.0.1: works, 404 fails, a hanging server times out.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$work" "$port" >/dev/null 2>&1 &
server_pid=$!
at_exit 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null'
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/repo/dists/stable/Release" >/dev/null && break; sleep 0.1; done
recipe "http://127.0.0.1:$port/repo" "$work/keyring.gpg" >"$work/http.yaml"
"$CAIRN" build "$work/http.yaml" -o "$work/out-http" --cache "$work/cache-http" -q >/dev/null
check "http repository: same image as file://" cmp "$work/out/local-prod.tar" "$work/out-http/local-prod.tar"
# Progress: one line per downloaded file when stderr is not a terminal, a live line on one.
"$CAIRN" build "$work/http.yaml" -o "$work/out-http2" --cache "$work/cache-http2" >/dev/null 2>"$work/plain.log"
check "not a terminal: one 'fetched URL' line per .deb, no redraws" \
  bash -c "grep -qx 'fetched http://127.0.0.1:$port/repo/pool/tool_1.0_$repo_arch.deb' '$work/plain.log' && ! grep -q \$'\\r' '$work/plain.log'"
if command -v script >/dev/null; then
  script -qec "'$CAIRN' build '$work/http.yaml' -o '$work/out-tty' --cache '$work/cache-tty' >/dev/null" /dev/null >"$work/tty.log"
  check "on a terminal: a live progress line for each download" grep -q "fetching tool_1.0_$repo_arch.deb" "$work/tty.log"
  check "on a terminal: -q shows nothing" bash -c "script -qec \"'$CAIRN' build '$work/http.yaml' -o '$work/out-tty2' --cache '$work/cache-tty2' -q >/dev/null\" /dev/null | (! grep -q fetching)"
fi
cp -r "$work/repo" "$work/t6"
rm "$work/t6/pool/"*.deb
recipe "http://127.0.0.1:$port/t6" "$work/keyring.gpg" >"$work/t6.yaml"
expect_fail "404" "404" "$work/t6.yaml"

cat >"$work/hang.py" <<'EOF'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)   # accept, never answer
EOF
coproc HANG { exec python3 "$work/hang.py"; }
at_exit 'kill "$HANG_PID" 2>/dev/null'
read -r hport <&"${HANG[0]}"
recipe "http://127.0.0.1:$hport/repo" "$work/keyring.gpg" >"$work/t7.yaml"
start=$(date +%s)
expect_fail "hanging server" "[Tt]imeout|timed out|Operation too slow" "$work/t7.yaml" CAIRN_HTTP_TIMEOUT=2
check "hanging server: gave up within 20 s" test $(($(date +%s) - start)) -lt 20
kill "$HANG_PID" 2>/dev/null || true

# Package contents are read once per cache: CACHE/unpacked/SHA256 lists the members, the
# contents live in CACHE/objects. A damaged or pruned entry is read as a miss, never trusted.
deb_sha=$(sha256sum <"$work/repo/pool/tool_1.0_$repo_arch.deb" | cut -d' ' -f1)
check "the .deb's contents are cached under its sha256" \
  bash -c "head -n 1 '$work/cache/unpacked/$deb_sha' | grep -qx 'cairn-deb-contents 2'"
"$CAIRN" build "$work/good.yaml" -o "$work/out-warm" --cache "$work/cache" -q >/dev/null
check "a build from the cached contents gives the same bytes" cmp "$work/out/local-prod.tar" "$work/out-warm/local-prod.tar"
printf 'cairn-deb-contents 1\nscripts 0\ncontrol 5:x' >"$work/cache/unpacked/$deb_sha"
"$CAIRN" build "$work/good.yaml" -o "$work/out-damaged" --cache "$work/cache" -q >/dev/null
check "a damaged contents entry is read again from the .deb: same bytes" cmp "$work/out/local-prod.tar" "$work/out-damaged/local-prod.tar"
check "...and rewritten whole" grep -q '^end$' "$work/cache/unpacked/$deb_sha"
rm -rf "$work/cache/objects"
"$CAIRN" build "$work/good.yaml" -o "$work/out-pruned" --cache "$work/cache" -q >/dev/null
check "pruned cached contents are read again from the .deb: same bytes" cmp "$work/out/local-prod.tar" "$work/out-pruned/local-prod.tar"

# A utility may pick a file its package ships as a hardlink (tar stores the second name as a
# link to the first; the pick still gets the bytes).
mkdir -p "$work/hlpkg/usr/bin"
cp "$work/pkg-1.0/usr/bin/tool-static" "$work/hlpkg/usr/bin/multi"
ln "$work/hlpkg/usr/bin/multi" "$work/hlpkg/usr/bin/alias"
repo_deb_dir "$work/hlrepo" hl 1 "$work/hlpkg"
repo_index "$work/hlrepo"
hl=$(dpkg-deb --fsys-tarfile "$work/hlrepo/pool/hl_1_$repo_arch.deb" | tar -tvf - | sed -n 's|.* \./\(usr/bin/[a-z]*\) link to .*|/\1|p')
check "the test package really holds a hardlink" test -n "$hl"
cat >"$work/hl.yaml" <<EOF
recipe: 1
name: hl
sources:
  - { name: test, url: "file://$work/hlrepo", suite: stable, keyring: $work/keyring.gpg }
utilities:
  - package: hl
    files: { $hl: /usr/bin/picked }
run: { entrypoint: [/usr/bin/picked] }
variants: { prod: {} }
EOF
if "$CAIRN" build "$work/hl.yaml" -o "$work/out-hl" --cache "$work/cache" -q >/dev/null; then
  tar -C "$work" -xf "$work/out-hl/hl-prod.tar" usr/bin/picked
fi
check "a picked hardlink carries its target's bytes" cmp "$work/usr/bin/picked" "$work/hlpkg/usr/bin/multi"

# Lock files (NAME.lock.json beside the recipe), in a directory of their own: the recipes
# above share the name "local" and so the lock file beside them.
mkdir "$work/lk"
cp "$work/good.yaml" "$work/lk/local.yaml"
lock="$work/lk/local.lock.json"
"$CAIRN" build "$work/lk/local.yaml" -o "$work/lk/out" --cache "$work/cache" -q >/dev/null
check "the first build wrote the lock file" test -f "$lock"
check "the lock names no absolute mirror of its own: the recipe's url" grep -q "\"url\": \"file://$work/repo\"" "$lock"
check "the lock pins tool 1.0 by sha256 and Filename" python3 - "$lock" "$work/repo/pool/tool_1.0_$repo_arch.deb" <<'PY'
import hashlib, json, os, sys
lock = json.load(open(sys.argv[1]))
deb = open(sys.argv[2], "rb").read()
[p] = lock["packages"]
assert (p["name"], p["version"]) == ("tool", "1.0"), p
assert p["sha256"] == hashlib.sha256(deb).hexdigest() and p["size"] == len(deb), p
assert p["filename"] == "pool/" + os.path.basename(sys.argv[2]), p
assert p["picked-in"] == ["prod"] and p["installed-in"] == [], p
assert p["needed-by"] == ["utility tool (>= 1.0)"], p
assert lock["utilities"] == [{"request": "tool (>= 1.0)", "package": "tool"}], lock
[s] = lock["sources"]
assert s["name"] == "test" and len(s["release-sha256"]) == 64, s
assert s["date"] == "Tue, 14 Nov 2023 22:13:20 UTC", s
assert lock["inputs"].startswith("sha256:"), lock
PY
cp "$lock" "$work/lock.v1"

# A newer version in the repository is not picked while the lock is consistent.
make_repo "$work/repo" 2.0
"$CAIRN" build "$work/lk/local.yaml" -o "$work/out-v2" --cache "$work/cache" -q >/dev/null
check "locked build: identical to the first build" cmp "$work/lk/out/local-prod.tar" "$work/out-v2/local-prod.tar"
check "locked build: the lock file is untouched" cmp "$lock" "$work/lock.v1"
"$CAIRN" build "$work/lk/local.yaml" -o "$work/out-locked" --cache "$work/cache" --locked -q >/dev/null
check "--locked with a consistent lock builds the same bytes" cmp "$work/lk/out/local-prod.tar" "$work/out-locked/local-prod.tar"

# The lock alone is enough offline: no index, no Release, just the cached .deb.
"$CAIRN" build "$work/lk/local.yaml" -o "$work/out-offline" --cache "$work/cache" --offline -q >/dev/null
check "offline build from the lock: same bytes" cmp "$work/lk/out/local-prod.tar" "$work/out-offline/local-prod.tar"

# cairn lock resolves afresh and says what changed.
"$CAIRN" lock "$work/lk/local.yaml" --cache "$work/cache" >"$work/lock-out" 2>/dev/null
check "cairn lock reports the version change" grep -q "~ tool 1.0 -> 2.0" "$work/lock-out"
check "cairn lock pins 2.0" grep -q '"version": "2.0"' "$lock"
"$CAIRN" build "$work/lk/local.yaml" -o "$work/out-v2" --cache "$work/cache" -q >/dev/null
tar -C "$work" -xf "$work/out-v2/local-prod.tar" usr/bin/tool
check "after cairn lock the new version is built" cmp "$work/usr/bin/tool" "$work/pkg-2.0/usr/bin/tool-static"
check "cairn lock --check: up to date (exit 0)" \
  exits 0 quiet "$CAIRN" lock "$work/lk/local.yaml" --cache "$work/cache" --check
cp "$work/lock.v1" "$lock"
set +e
"$CAIRN" lock "$work/lk/local.yaml" --cache "$work/cache" --check >"$work/check-out" 2>&1
rc=$?
set -e
check "cairn lock --check: an outdated lock exits 1" test $rc = 1
check "cairn lock --check: names the change, writes nothing" \
  bash -c "grep -q '~ tool 1.0 -> 2.0' '$work/check-out' && cmp -s '$lock' '$work/lock.v1'"

# A changed recipe makes the lock stale: --locked refuses, a plain build re-resolves.
sed 's/tool (>= 1.0)/tool (>= 1.5)/' "$work/lk/local.yaml" >"$work/lk/local-edit.yaml"
sed -i 's/^name: local$/name: local-edit/' "$work/lk/local-edit.yaml"
cp "$work/lock.v1" "$work/lk/local-edit.lock.json"
snapshot "$work/out" >"$work/out.before"
set +e
"$CAIRN" build "$work/lk/local-edit.yaml" -o "$work/out" --cache "$work/cache" --locked -q >/dev/null 2>"$work/err"
rc=$?
set -e
check "--locked with a stale lock: exit 2" test $rc = 2
check "--locked with a stale lock: says so and how to fix it" grep -q "does not match the recipe.*cairn lock" "$work/err"
snapshot "$work/out" >"$work/out.after"
check "--locked with a stale lock: OUT untouched" cmp -s "$work/out.before" "$work/out.after"
check "--locked with a stale lock: lock untouched" cmp -s "$work/lk/local-edit.lock.json" "$work/lock.v1"
# Only the inputs digest sees another keyring (same source name, same utility request).
cp "$work/keyring.gpg" "$work/lk/keyring-copy.gpg"
sed -e "s|keyring: $work/keyring.gpg|keyring: $work/lk/keyring-copy.gpg|" \
  -e 's/^name: local$/name: local-key/' "$work/lk/local.yaml" >"$work/lk/local-key.yaml"
cp "$work/lock.v1" "$work/lk/local-key.lock.json"
check "--locked with another keyring than the lock's: exit 2" \
  exits 2 silent "$CAIRN" build "$work/lk/local-key.yaml" -o "$work/out-key" --cache "$work/cache" --locked -q
set +e
"$CAIRN" build "$work/lk/local-edit.yaml" -o "$work/out" --cache "$work/cache" --locked -q \
  --lockfile "$work/none.lock.json" >/dev/null 2>"$work/err"
rc=$?
set -e
check "--locked without a lock: exit 2, names the missing file" \
  bash -c "test $rc = 2 && grep -q 'none.lock.json does not exist' '$work/err'"
"$CAIRN" build "$work/lk/local-edit.yaml" -o "$work/out-edit" --cache "$work/cache" 2>"$work/err" >/dev/null
check "stale lock: the build re-resolves and says what changed" grep -q "lock:   ~ tool 1.0 -> 2.0" "$work/err"
check "stale lock: rewritten with 2.0" grep -q '"version": "2.0"' "$work/lk/local-edit.lock.json"

# A malformed lock is an error with its position, never silently replaced.
printf '{"lockfile": 1, "recipe": "local", "arch": 5}\n' >"$work/bad.lock.json"
set +e
"$CAIRN" build "$work/lk/local.yaml" -o "$work/out-bad" --cache "$work/cache" --lockfile "$work/bad.lock.json" -q >/dev/null 2>"$work/err"
rc=$?
set -e
check "malformed lock: exit 2 with file:line:column" \
  bash -c "test $rc = 2 && grep -q 'bad.lock.json:1:[0-9]*: error' '$work/err'"

# A lock file that cannot be written is an error naming it (the outputs are already in place).
set +e
"$CAIRN" build "$work/lk/local.yaml" -o "$work/out-nolock" --cache "$work/cache" -q \
  --lockfile "$work/no-such-dir/x.lock.json" >/dev/null 2>"$work/err"
rc=$?
set -e
check "unwritable lock file: fails, naming the lock file" \
  bash -c "test $rc -ne 0 && grep -q 'no-such-dir/x.lock.json: cannot write the lock file' '$work/err'"

# A pinned .deb whose bytes changed on the mirror (and is not cached) fails closed.
cp "$work/lock.v1" "$lock"
cp "$work/repo/pool/tool_2.0_$repo_arch.deb" "$work/repo/pool/tool_1.0_$repo_arch.deb"
set +e
"$CAIRN" build "$work/lk/local.yaml" -o "$work/out-gone" --cache "$work/cache-empty" -q >/dev/null 2>"$work/err"
rc=$?
set -e
check "pinned .deb replaced on the mirror: exit 3" test $rc = 3
check "pinned .deb replaced on the mirror: the lock file is named" grep -q "does not match the lock file" "$work/err"

# trusted: true is for local mirrors only.
sed 's|keyring: .*}|trusted: true }|' "$work/good.yaml" >"$work/trusted.yaml"
"$CAIRN" build "$work/trusted.yaml" -o "$work/out-trusted" --cache "$work/cache-t" -q >/dev/null
check "trusted: true works for file://" test -f "$work/out-trusted/local-prod.tar"
sed "s|file://$work/repo|http://127.0.0.1:$port/repo|" "$work/trusted.yaml" >"$work/trusted-http.yaml"
set +e
"$CAIRN" check "$work/trusted-http.yaml" >/dev/null 2>"$work/err"
rc=$?
set -e
check "trusted: true with http is a recipe error (exit 2)" test $rc = 2
