#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Debian sources against a repository this test makes (issue 4): a static program packed with
# dpkg-deb, Packages and Release written here, Release signed with a throwaway gpg key. Served
# as file:// and over http on 127.0.0.1. Every tampering case must fail with exit 3, name what
# failed, leave OUT untouched and leave nothing unverified in the cache.
set -euo pipefail
: "${CAIRN:?CAIRN must point at the cairn binary}"
CAIRN=$(realpath "$CAIRN")
for tool in gpg dpkg-deb dpkg-scanpackages xz python3 cc curl; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (ci/bootstrap installs it)"; exit 77; }
done
work=$(mktemp -d /tmp/cairn-e2e-deb-local-XXXXXX)
server_pid=
cleanup() {
  local rc=$?
  # errexit applies here too: nothing in the cleanup may decide the exit status.
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  gpgconf --homedir "$work/gnupg" --kill all >/dev/null 2>&1 || true
  gpgconf --homedir "$work/gnupg2" --kill all >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
n=0 fails=0
check() { local what=$1; shift; n=$((n + 1)); if "$@"; then echo "ok $n - $what"; else fails=$((fails + 1)); echo "not ok $n - $what"; fi; }
arch=$(dpkg --print-architecture)
export SOURCE_DATE_EPOCH=1700000000

# A throwaway signing key, and a second one nobody trusts.
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch -q --passphrase '' --quick-gen-key "cairn test <test@cairn.invalid>" rsa2048 sign never 2>/dev/null
gpg --batch -q --export >"$work/keyring.gpg"
GNUPGHOME="$work/gnupg2" bash -c 'mkdir -m 700 "$GNUPGHOME" && gpg --batch -q --passphrase "" --quick-gen-key "other <o@cairn.invalid>" rsa2048 sign never 2>/dev/null && gpg --batch -q --export' >"$work/other.gpg"

# A package with a static tool, made and indexed here.
make_repo() { # DIR VERSION
  local repo=$1 ver=$2 pkg="$work/pkg-$2"
  mkdir -p "$pkg/DEBIAN" "$pkg/usr/bin" "$repo/pool" "$repo/dists/stable/main/binary-$arch"
  printf '#include <stdio.h>\nint main(void){puts("tool %s");return 0;}\n' "$ver" >"$work/tool.c"
  cc -static -O1 -o "$pkg/usr/bin/tool-static" "$work/tool.c"
  printf 'Package: tool\nVersion: %s\nArchitecture: %s\nMaintainer: cairn tests <test@cairn.invalid>\nDescription: test tool\n' \
    "$ver" "$arch" >"$pkg/DEBIAN/control"
  dpkg-deb --root-owner-group -Zxz --build "$pkg" "$repo/pool/tool_${ver}_$arch.deb" >/dev/null
  index_repo "$repo"
}
index_repo() {
  local repo=$1 d="$1/dists/stable"
  (cd "$repo" && dpkg-scanpackages --multiversion pool /dev/null 2>/dev/null) >"$d/main/binary-$arch/Packages"
  xz -kf "$d/main/binary-$arch/Packages"
  {
    printf 'Origin: cairn-test\nSuite: stable\nCodename: stable\nDate: Tue, 14 Nov 2023 22:13:20 UTC\nArchitectures: %s\nComponents: main\nSHA256:\n' "$arch"
    for f in "main/binary-$arch/Packages" "main/binary-$arch/Packages.xz"; do
      printf ' %s %s %s\n' "$(sha256sum <"$d/$f" | cut -d' ' -f1)" "$(stat -c %s "$d/$f")" "$f"
    done
  } >"$d/Release"
  rm -f "$d/Release.gpg"
  gpg --batch -q --detach-sign -o "$d/Release.gpg" "$d/Release"
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
snapshot() { (cd "$work/out" && find . -type f -exec sha256sum {} + | sort); }
snapshot >"$work/out.before"

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
  snapshot >"$work/out.after"
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

# Packages changed after signing.
cp -r "$work/repo" "$work/t3"
echo "Package: evil" | xz >"$work/t3/dists/stable/main/binary-$arch/Packages.xz"
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

# Over http on 127.0.0.1: works, 404 fails, a hanging server times out.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$work" "$port" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/repo/dists/stable/Release" >/dev/null && break; sleep 0.1; done
recipe "http://127.0.0.1:$port/repo" "$work/keyring.gpg" >"$work/http.yaml"
"$CAIRN" build "$work/http.yaml" -o "$work/out-http" --cache "$work/cache-http" -q >/dev/null
check "http repository: same image as file://" cmp "$work/out/local-prod.tar" "$work/out-http/local-prod.tar"
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
read -r hport <&"${HANG[0]}"
recipe "http://127.0.0.1:$hport/repo" "$work/keyring.gpg" >"$work/t7.yaml"
start=$(date +%s)
expect_fail "hanging server" "[Tt]imeout|timed out|Operation too slow" "$work/t7.yaml" CAIRN_HTTP_TIMEOUT=2
check "hanging server: gave up within 20 s" test $(($(date +%s) - start)) -lt 20
kill "$HANG_PID" 2>/dev/null || true

# Lock-free pinning: a newer version in the repository is picked (highest version wins).
make_repo "$work/repo" 2.0
"$CAIRN" build "$work/good.yaml" -o "$work/out-v2" --cache "$work/cache" -q >/dev/null
tar -C "$work" -xf "$work/out-v2/local-prod.tar" usr/bin/tool
check "the highest version is picked" cmp "$work/usr/bin/tool" "$work/pkg-2.0/usr/bin/tool-static"

# Lock files are not implemented: --locked must refuse rather than silently resolve afresh.
set +e
"$CAIRN" build "$work/good.yaml" -o "$work/out-locked" --cache "$work/cache" --locked -q \
  >/dev/null 2>"$work/err"
rc=$?
set -e
check "--locked is refused (exit 2)" test $rc = 2
check "--locked: the message says lock files are unsupported" grep -q "lock files are not supported" "$work/err"
check "--locked: no output written" test ! -e "$work/out-locked/local-prod.tar"

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

echo "1..$n"
[ "$fails" = 0 ]
