#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Resource limits (issue 10): decompression bombs (10 GiB of zeros, zstd-compressed to a few
# hundred KiB, made from a stream and never written out whole) in an artifact tarball and in a
# .deb's data.tar; a 4 GiB sparse artifact file; a Packages index with a 1 MiB line in a signed
# local repository. Each ends in a clear error naming the limit or in correct output, with
# cairn's peak RSS under 256 MiB. The 4 GiB file takes minutes of SHA-256 under the sanitizers,
# so build-asan skips that one case (CAIRN_SANITIZED=1). Needs no network.
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools gpg dpkg-deb dpkg-scanpackages xz zstd python3 ar tar cc
rss_limit_kb=$((256 * 1024))

# run RSSFILE CMD...: runs CMD, writes its peak RSS in KiB to RSSFILE, returns its exit status.
run() {
  local rssfile=$1; shift
  python3 - "$rssfile" "$@" <<'PY'
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:], stdout=subprocess.DEVNULL)
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(rc)
PY
}
rss_ok() { test "$(cat "$1")" -le "$rss_limit_kb"; }

# A tar holding one entry of SIZE zero bytes, zstd-compressed straight from the stream.
bomb() { # NAME SIZE OUT
  { python3 -c '
import sys, tarfile
i = tarfile.TarInfo(sys.argv[1]); i.size = int(sys.argv[2]); i.mode = 0o644
sys.stdout.buffer.write(i.tobuf(format=tarfile.GNU_FORMAT))' "$1" "$2"
    head -c $(($2 + 1024)) /dev/zero; } | zstd -q -1 -T1 -c >"$3"
}
bomb ./zeros $((10 << 30)) bomb.tar.zst
check "the bomb is small: $(stat -c %s bomb.tar.zst) bytes for 10 GiB" test "$(stat -c %s bomb.tar.zst)" -lt $((4 << 20))

recipe() { # NAME LINES...
  local name=$1; shift
  { printf 'recipe: 1\nname: %s\nepoch: 0\n' "$name"; printf '%s\n' "$@"
    printf 'variants:\n  prod: { policy: dev }\n'; } >"$name.yaml"
}

# 1. An artifact tarball bomb.
recipe art-bomb 'artifacts:' '  - { src: bomb.tar.zst, dest: /data }'
rc=0
run art-bomb.rss "$CAIRN" build art-bomb.yaml -o out-art-bomb -q 2>art-bomb.err || rc=$?
check "artifact bomb: exit 2" test $rc = 2
check "artifact bomb: the message names the archive, the entry and the limit" \
  grep -q "bomb.tar.zst: entry './zeros': .* refused as a decompression bomb (limit: 200 times the compressed size once past 64 MiB)" art-bomb.err
check "artifact bomb: peak RSS $(cat art-bomb.rss) KiB <= 256 MiB" rss_ok art-bomb.rss
check "artifact bomb: no OUT, no temporary sibling" \
  bash -c "test ! -e out-art-bomb && test -z \"\$(find . -maxdepth 1 -name '.out-art-bomb.cairn-*')\""

# 2. A .deb whose data.tar.zst is the bomb, from a signed repository.
repo_key
repo_deb_raw "$work/repo" bomb 1.0 bomb.tar.zst
repo_index "$work/repo"
recipe deb-bomb 'sources:' "$(repo_source "$work/repo")" 'packages:' '  - name: bomb'
rc=0
run deb-bomb.rss "$CAIRN" build deb-bomb.yaml -o out-deb-bomb -q --cache "$work/cache" 2>deb-bomb.err || rc=$?
check ".deb bomb: exit 3" test $rc = 3
check ".deb bomb: the message names the package, the member and the limit" \
  grep -q "package bomb 1.0: data.tar.zst: entry './zeros': .* refused as a decompression bomb (limit: 200 times" deb-bomb.err
check ".deb bomb: peak RSS $(cat deb-bomb.rss) KiB <= 256 MiB" rss_ok deb-bomb.rss
check ".deb bomb: no OUT" test ! -e out-deb-bomb

# 3. A Packages index with a 1 MiB line (a package's Description) next to a real package.
mkdir -p tool/usr/bin
static_hello tool/usr/bin/tool tool
repo_deb_dir "$work/repo2" tool 1.0 tool
{
  printf '\nPackage: huge\nVersion: 1.0\nArchitecture: %s\nFilename: pool/none.deb\nSHA256: %s\nDescription: ' \
    "$repo_arch" "$(printf '0%.0s' {1..64})"
  head -c $((1 << 20)) /dev/zero | tr '\0' 'x'
  printf '\n'
} >huge-stanza
repo_index "$work/repo2" huge-stanza
check "Packages has a line of more than 1 MiB" \
  test "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "repo2/dists/stable/main/binary-$repo_arch/Packages")" -gt $((1 << 20))
recipe long-line 'sources:' "$(repo_source "$work/repo2")" 'utilities:' \
  '  - { package: tool, files: { /usr/bin/tool: /usr/bin/tool } }'
rc=0
run long-line.rss "$CAIRN" build long-line.yaml -o out-long-line -q --cache "$work/cache2" 2>long-line.err || rc=$?
check "1 MiB Packages line: the build succeeds" test $rc = 0
check "1 MiB Packages line: the picked file is the package's" \
  bash -c "tar -xOf out-long-line/long-line-prod.tar usr/bin/tool | cmp -s - tool/usr/bin/tool"
check "1 MiB Packages line: peak RSS $(cat long-line.rss) KiB <= 256 MiB" rss_ok long-line.rss

# 4. A 4 GiB sparse file as an artifact: correct output, memory flat.
if [[ ${CAIRN_SANITIZED:-0} = 1 ]]; then
  skip "4 GiB sparse artifact" "minutes of SHA-256 under the sanitizers; the ordinary build runs it"
else
  truncate -s 4G sparse
  recipe sparse 'artifacts:' '  - { src: sparse, dest: /data/sparse }'
  rc=0
  run sparse.rss "$CAIRN" build sparse.yaml -o out-sparse -q --compression zstd >/dev/null 2>sparse.err || rc=$?
  check "4 GiB sparse artifact: the build succeeds" test $rc = 0
  check "4 GiB sparse artifact: peak RSS $(cat sparse.rss) KiB <= 256 MiB" rss_ok sparse.rss
  check "4 GiB sparse artifact: the tar holds 4294967296 bytes for it" \
    bash -c "tar -tvf out-sparse/sparse-prod.tar data/sparse | awk '{print \$3}' | grep -qx 4294967296"
  check "4 GiB sparse artifact: every byte is the file's" \
    bash -c "tar -xOf out-sparse/sparse-prod.tar data/sparse | cmp -s - sparse"
  rm -rf sparse out-sparse
fi
