#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Full disks (issue 10), on small tmpfs mounts: the output directory's filesystem fills up
# during a build (exit 4, an I/O error naming the path, OUT byte-identical to the previous
# build, nothing of the failed build left), and the cache's filesystem fills up while a .deb
# is downloaded or is full from the start (exit 4, nothing half-written in the cache). Needs
# root for mount(8): prints SKIP with the reason otherwise. Needs no network.
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools gpg dpkg-deb dpkg-scanpackages xz python3 cc mount umount
mounts=()
at_exit 'for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done'

small() { # DIR SIZE: a tmpfs of SIZE at DIR
  mkdir -p "$1"
  if ! mount -t tmpfs -o "size=$2,mode=0755" tmpfs "$1" 2>mount.err; then
    skip_all "cannot mount a tmpfs here ($(head -n 1 mount.err)); this test needs root"
  fi
  mounts+=("$1")
}
leftovers() { find "$1" -mindepth 1 -maxdepth 1 -name '.*' | sort; }

# 1. The output directory's filesystem fills up. OUT holds a previous build.
small "$work/out-fs" 6M
mkdir app
printf 'x = 1\n' >app/small.conf
cat >recipe.yaml <<'EOF'
recipe: 1
name: disk
epoch: 0
artifacts:
  - { src: app, dest: /app }
variants:
  prod: { policy: dev }
EOF
"$CAIRN" build recipe.yaml -o out-fs/out -q >/dev/null
check "a small build fits" test -f out-fs/out/disk-prod.tar
snapshot out-fs/out >before
head -c $((8 << 20)) /dev/urandom >app/big.bin
rc=0
"$CAIRN" build recipe.yaml -o out-fs/out -q >/dev/null 2>err || rc=$?
check "output filesystem full: exit 4" test $rc = 4
check "output filesystem full: an I/O error naming where" \
  grep -Eq "out-fs/\.out\.cairn-[a-z]+-[0-9]+-[A-Za-z0-9]+.*No space left on device" err
snapshot out-fs/out >after
check "output filesystem full: OUT is byte-identical to the previous build" cmp -s before after
check "output filesystem full: nothing of the failed build is left" test -z "$(leftovers out-fs)"
check "output filesystem full: the space is free again" \
  test "$(df --output=used -B1 out-fs | tail -n 1)" -lt $((1 << 20))
# The same while the image is written (the object store still fits, the tar does not).
head -c $((4 << 20)) /dev/urandom >app/big.bin
rc=0
"$CAIRN" build recipe.yaml -o out-fs/out -q >/dev/null 2>err || rc=$?
check "output filesystem full while writing the image: exit 4" test $rc = 4
check "output filesystem full while writing the image: the message says OUT is unchanged" \
  grep -q "out-fs/out: writing the output (in out-fs/\.out\.cairn-out-.*; OUT is unchanged): .*No space left on device" err
snapshot out-fs/out >after
check "output filesystem full while writing the image: OUT is byte-identical" cmp -s before after
check "output filesystem full while writing the image: nothing left" test -z "$(leftovers out-fs)"

# 2. The cache's filesystem fills up while a .deb is downloaded.
repo_key
mkdir -p pkg/usr/bin pkg/usr/share/blob
static_hello pkg/usr/bin/tool tool
head -c $((3 << 20)) /dev/urandom >pkg/usr/share/blob/bytes
repo_deb_dir "$work/repo" tool 1.0 pkg
repo_index "$work/repo"
cat >deb.yaml <<EOF
recipe: 1
name: diskdeb
epoch: 0
sources:
$(repo_source "$work/repo")
utilities:
  - { package: tool, files: { /usr/bin/tool: /usr/bin/tool } }
variants:
  prod: { policy: dev }
EOF
small "$work/cache-fs" 2M
rc=0
"$CAIRN" build deb.yaml -o out-deb -q --cache cache-fs/c >/dev/null 2>err || rc=$?
check "cache filesystem full during a download: exit 4" test $rc = 4
check "cache filesystem full during a download: an I/O error naming the file" \
  grep -q "No space left on device" err
check "cache filesystem full during a download: no .deb and no temporary file in the cache" \
  test -z "$(find cache-fs/c -name '*.deb' -o -name '.tmp-*')"
check "cache filesystem full during a download: no OUT" test ! -e out-deb

# 3. The cache's filesystem is full from the start.
small "$work/full-fs" 1M
head -c $((1 << 20)) /dev/zero >full-fs/filler 2>/dev/null || true
rc=0
"$CAIRN" build deb.yaml -o out-deb -q --cache full-fs/c >/dev/null 2>err || rc=$?
check "cache filesystem full from the start: exit 4" test $rc = 4
check "cache filesystem full from the start: an I/O error" grep -q "No space left on device" err
check "cache filesystem full from the start: nothing half-written in the cache" \
  test -z "$(find full-fs -type f ! -name filler)"
