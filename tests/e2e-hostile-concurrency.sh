#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Concurrent and killed builds (issue 10), against a signed file:// repository made here:
#  - four `cairn build` processes started together on one cold --cache all succeed and write
#    byte-identical outputs (different -o); the cache holds only verified files afterwards;
#  - a build killed with SIGKILL once its temporary output sibling exists leaves OUT exactly
#    as it was and the cache usable: the next build succeeds with the same bytes and removes
#    the dead build's temporary siblings once they are 10 minutes old (touch -d).
# Needs no network.
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools gpg dpkg-deb dpkg-scanpackages xz python3 cc tar
pids=()
at_exit 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done'

# The repository: one static tool, plus a package carrying 8 MiB of data so the fetch and
# unpack take a moment.
repo_key
mkdir -p tool/usr/bin data/usr/share/blob
static_hello tool/usr/bin/tool tool
head -c $((8 << 20)) /dev/urandom >data/usr/share/blob/bytes
repo_deb_dir "$work/repo" tool 1.0 tool
repo_deb_dir "$work/repo" blob 1.0 data
repo_index "$work/repo"
# The application: 16 MiB that does not compress, so emitting takes long enough to be caught.
head -c $((16 << 20)) /dev/urandom >app.bin
cat >recipe.yaml <<EOF
recipe: 1
name: conc
epoch: 1700000000
sources:
$(repo_source "$work/repo")
utilities:
  - { package: tool, files: { /usr/bin/tool: /usr/bin/tool } }
packages:
  - name: blob
artifacts:
  - { src: app.bin, dest: /app/data.bin }
run: { entrypoint: [/usr/bin/tool] }
variants:
  prod: { policy: dev }
EOF

# 1. Four builds at once on one cold cache.
for i in 1 2 3 4; do
  "$CAIRN" build recipe.yaml -o "out$i" --cache "$work/cache" >"sum$i" 2>"err$i" &
  pids+=($!)
done
all_ok=1
for i in 1 2 3 4; do
  wait "${pids[$((i - 1))]}" || { all_ok=0; cat "err$i" >&2; }
done
pids=()
check "four concurrent builds on one cache all succeed" test $all_ok = 1
same=1
for i in 2 3 4; do
  cmp -s out1/conc-prod.tar "out$i/conc-prod.tar" && diff -r -q out1/conc-prod "out$i/conc-prod" >/dev/null &&
    cmp -s out1/conc-prod.spdx.json "out$i/conc-prod.spdx.json" && cmp -s sum1 "sum$i" || same=0
done
check "...and write byte-identical tars, OCI layouts, SBOMs and summaries" test $same = 1
check "...leaving no temporary file in the cache" test -z "$(find cache -name '.tmp-*')"
verified=1
for deb in cache/debs/*.deb; do
  [[ $(sha256sum <"$deb" | cut -d' ' -f1).deb == "${deb##*/}" ]] || verified=0
done
check "...and every cached .deb is the file its name (its sha256) says" \
  test $verified = 1 -a "$(ls cache/debs/*.deb | wc -l)" = 2

# 2. SIGKILL once the temporary output sibling appears. OUT holds a previous build.
cp -r out1 out
snapshot out >before
echo "changed" >>app.bin
"$CAIRN" build recipe.yaml -o out --cache "$work/cache" -q >/dev/null 2>&1 &
victim=$!
pids+=("$victim")
seen=0
for _ in $(seq 3000); do
  if compgen -G ".out.cairn-out-$victim-*" >/dev/null; then
    seen=1
    break
  fi
  kill -0 "$victim" 2>/dev/null || break
  sleep 0.01
done
kill -9 "$victim" 2>/dev/null || true
wait "$victim" 2>/dev/null || true
pids=()
check "the build was killed while writing its temporary output" test $seen = 1
snapshot out >after
check "killed build: OUT is exactly the previous build" cmp -s before after
check "killed build: its temporary siblings are still there (nothing cleaned them yet)" \
  bash -c "compgen -G '.out.cairn-*-$victim-*' >/dev/null"
rc=0
"$CAIRN" build recipe.yaml -o out --cache "$work/cache" >sum-after 2>err-after || rc=$?
check "the next build on the same cache succeeds" test $rc = 0
# A dead PID alone is not enough (OUT's parent may be shared with another PID namespace): the
# siblings must also be untouched for 10 minutes, as the cache's temporaries.
check "...and left the dead build's fresh temporary siblings alone" \
  bash -c "compgen -G '.out.cairn-*-$victim-*' >/dev/null"
touch -h -d '-11 minutes' .out.cairn-*-"$victim"-*
"$CAIRN" build recipe.yaml -o out --cache "$work/cache" -q >/dev/null 2>>err-after
check "...which the next build removes once they are 10 minutes old" \
  bash -c "! compgen -G '.out.cairn-*-$victim-*' >/dev/null && ! compgen -G '.out.cairn-*' >/dev/null"
"$CAIRN" build recipe.yaml -o out-fresh --cache "$work/cache-fresh" -q >/dev/null
check "...with the same bytes as a build on a fresh cache" cmp -s out/conc-prod.tar out-fresh/conc-prod.tar
check "...and the cache still holds no temporary file" test -z "$(find cache -name '.tmp-*')"
