#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cairn diff end to end (issue 8): two identical builds are identical (tars, layouts holding an
# SBOM referrer, compressed tars, directories); a mode, owner, content, link target, mtime
# (another --epoch) change and added/removed entries are reported sorted by path, in text and
# JSON, with content digests checked independently. Needs no network.
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools cc python3 sha256sum tar gzip zstd

mkdir -p "$work/src"
static_hello "$work/src/app" "diff app"

# recipe NAME MODE CONTENT TARGET UID EXTRA: the knobs the differences below turn.
recipe() {
  cat >"$work/src/$1.yaml" <<EOF
recipe: 1
name: d
epoch: 1700000000
artifacts:
  - { src: app, dest: /app/hello, mode: "$2" }
files:
  - { path: /etc/app.conf, content: "$3" }
  - { path: /etc/link, type: symlink, target: $4 }
  - { path: /etc/owned, content: "owned\n", uid: $5, gid: $5 }
$6
run:
  entrypoint: [/app/hello]
variants:
  prod: {}
EOF
}
recipe r1 0755 'a\n' /etc/app.conf 0 '  - { path: /srv, type: dir }'
recipe r2 0700 'b changed\n' /etc/owned 65532 '  - { path: /etc/new, content: "new\n" }'
"$CAIRN" build "$work/src/r1.yaml" -o "$work/a" -q >/dev/null
"$CAIRN" build "$work/src/r1.yaml" -o "$work/a2" -q >/dev/null
"$CAIRN" build "$work/src/r2.yaml" -o "$work/b" -q >/dev/null
"$CAIRN" build "$work/src/r1.yaml" -o "$work/e" --epoch 1700000001 -q >/dev/null

run() { # OUTFILE ARGS...: runs cairn diff, stores stdout, echoes the exit status
  local out=$1; shift
  set +e
  "$CAIRN" diff "$@" >"$out" 2>"$out.err"
  echo $?
  set -e
}

# Identical builds.
check "two builds' tars are identical (exit 0)" test "$(run "$work/i1" "$work/a/d-prod.tar" "$work/a2/d-prod.tar")" = 0
check "...and it says so" test "$(cat "$work/i1")" = identical
check "two builds' layouts (image + SBOM referrer, no --ref) are identical" \
  test "$(run "$work/i2" "$work/a/d-prod" "$work/a2/d-prod")" = 0
check "a layout and the rootfs tar of the same build are identical" \
  test "$(run "$work/i3" --ref prod "$work/a/d-prod" "$work/a/d-prod.tar")" = 0
gzip -9 -c "$work/a/d-prod.tar" >"$work/a.tar.gz"
zstd -q -c "$work/a/d-prod.tar" >"$work/a.tar.zst"
check "a plain tar and its gzip are identical" test "$(run "$work/i4" "$work/a/d-prod.tar" "$work/a.tar.gz")" = 0
check "a gzip and a zstd tar are identical" test "$(run "$work/i5" "$work/a.tar.gz" "$work/a.tar.zst")" = 0
check "json: identical, no entries" \
  bash -c "[ \"\$('$CAIRN' diff --format json '$work/a/d-prod.tar' '$work/a2/d-prod.tar')\" = '{\"schema\":\"cairn-diff/1\",\"a\":\"$work/a/d-prod.tar\",\"b\":\"$work/a2/d-prod.tar\",\"identical\":true,\"added\":0,\"removed\":0,\"changed\":0,\"entries\":[]}' ]"

# Mode, owner, content, link target, added and removed.
check "r1 vs r2 differ (exit 1)" test "$(run "$work/d" "$work/a/d-prod.tar" "$work/b/d-prod.tar")" = 1
sum_a=$(printf 'a\n' | sha256sum | cut -d' ' -f1)
sum_b=$(printf 'b changed\n' | sha256sum | cut -d' ' -f1)
check "mode change" grep -qx 'changed  /app/hello: mode 0755 -> 0700' "$work/d"
check "content change with independent sha256 and the size" \
  grep -qx "changed  /etc/app.conf: content sha256:$sum_a -> sha256:$sum_b; size 2 -> 10" "$work/d"
check "link target change" grep -qx 'changed  /etc/link: target /etc/app.conf -> /etc/owned' "$work/d"
check "owner change" grep -qx 'changed  /etc/owned: owner 0:0 -> 65532:65532' "$work/d"
check "added file with its metadata" \
  grep -qx "added    /etc/new: file, mode 0644, owner 0:0, mtime 2023-11-14T22:13:20Z, size 4, sha256:$(printf 'new\n' | sha256sum | cut -d' ' -f1)" "$work/d"
check "removed directory" grep -qx 'removed  /srv: directory, mode 0755, owner 0:0, mtime 2023-11-14T22:13:20Z' "$work/d"
check "entries sorted by path" bash -c "head -n -1 '$work/d' | cut -c10- | cut -d: -f1 | LC_ALL=C sort -c"
check "count line" test "$(tail -n 1 "$work/d")" = "1 added, 1 removed, 4 changed"
check "the same differences between the two layouts" \
  bash -c "'$CAIRN' diff '$work/a/d-prod' '$work/b/d-prod' | cmp -s - '$work/d'"

# JSON, checked with an independent parser and hash.
rc=0
"$CAIRN" diff --format json "$work/a/d-prod.tar" "$work/b/d-prod.tar" >"$work/d.json" || rc=$?
check "json: r1 vs r2 differ (exit 1)" test $rc = 1
check "json output is one line" test "$(wc -l <"$work/d.json")" = 1
check "json: fields, order, what changed and digests" python3 - "$work/d.json" <<'PY'
import hashlib, json, sys
raw = open(sys.argv[1]).read()
doc = json.loads(raw)
assert list(doc) == ["schema", "a", "b", "identical", "added", "removed", "changed", "entries"], list(doc)
assert doc["schema"] == "cairn-diff/1" and doc["identical"] is False
assert (doc["added"], doc["removed"], doc["changed"]) == (1, 1, 4)
paths = [e["path"] for e in doc["entries"]]
assert paths == sorted(paths, key=lambda p: p.encode()), paths
by = {e["path"]: e for e in doc["entries"]}
h = by["/app/hello"]
assert h["change"] == "changed" and h["what"] == ["mode"], h
assert (h["a"]["mode"], h["b"]["mode"]) == ("0755", "0700"), h
c = by["/etc/app.conf"]
assert c["what"] == ["content", "size"], c
assert c["a"]["sha256"] == hashlib.sha256(b"a\n").hexdigest()
assert c["b"]["sha256"] == hashlib.sha256(b"b changed\n").hexdigest()
assert list(c["a"]) == ["type", "mode", "uid", "gid", "mtime", "size", "sha256"], list(c["a"])
assert by["/etc/link"]["b"]["target"] == "/etc/owned"
assert by["/etc/owned"]["what"] == ["owner"] and by["/etc/owned"]["b"]["uid"] == 65532
assert by["/etc/new"]["change"] == "added" and "a" not in by["/etc/new"]
assert by["/srv"]["change"] == "removed" and by["/srv"]["a"]["type"] == "directory"
assert by["/srv"]["a"]["mtime"] == 1700000000
PY

# Another epoch: every entry's mtime changes, nothing else.
check "another --epoch differs (exit 1)" test "$(run "$work/m" "$work/a/d-prod.tar" "$work/e/d-prod.tar")" = 1
check "mtime change" grep -qx 'changed  /app/hello: mtime 2023-11-14T22:13:20Z -> 2023-11-14T22:13:21Z' "$work/m"
entries=$(tar -tf "$work/a/d-prod.tar" | wc -l)
check "every entry's mtime changed" \
  test "$(grep -c '; mtime 2023-11-14T22:13:20Z -> 2023-11-14T22:13:21Z$\|: mtime 2023-11-14T22:13:20Z -> 2023-11-14T22:13:21Z$' "$work/m")" = "$entries" -a \
       "$(tail -n 1 "$work/m")" = "0 added, 0 removed, $entries changed"
check "...and only os-release's content as well (BUILD_ID is the epoch)" \
  test "$(grep -v ': mtime ' "$work/m" | head -n -1)" = "$(grep '^changed  /etc/os-release: content sha256:[0-9a-f]*' "$work/m")"

# Directories: unpacked trees, one file's content and another's mode changed in place.
mkdir "$work/x" "$work/y"
tar -C "$work/x" --same-owner -xpf "$work/a/d-prod.tar"
tar -C "$work/y" --same-owner -xpf "$work/a/d-prod.tar"
printf 'z\n' >"$work/y/etc/app.conf"
touch -d @1700000000 "$work/y/etc/app.conf"
chmod 0600 "$work/y/etc/owned"
check "two directories differ (exit 1)" test "$(run "$work/dd" "$work/x" "$work/y")" = 1
check "directory: content change" \
  grep -qx "changed  /etc/app.conf: content sha256:$sum_a -> sha256:$(printf 'z\n' | sha256sum | cut -d' ' -f1)" "$work/dd"
check "directory: mode change" grep -qx 'changed  /etc/owned: mode 0644 -> 0600' "$work/dd"
check "directory: nothing else" test "$(tail -n 1 "$work/dd")" = "0 added, 0 removed, 2 changed"

# Usage and I/O errors.
check "one argument is a usage error (2)" test "$(run "$work/u1" "$work/a/d-prod.tar")" = 2
check "--format xml is a usage error (2)" test "$(run "$work/u2" --format xml "$work/a/d-prod.tar" "$work/b/d-prod.tar")" = 2
check "a missing path exits 2 and names it" \
  bash -c "[ \$(cat <<<'$(run "$work/u3" "$work/nope.tar" "$work/b/d-prod.tar")') = 2 ] && grep -q nope.tar '$work/u3.err'"
check "an unknown ref name exits 2" test "$(run "$work/u4" --ref nosuch "$work/a/d-prod" "$work/b/d-prod")" = 2
head -c 300 "$work/a.tar.gz" >"$work/truncated.tar.gz"
check "a truncated compressed tar is an I/O error (4)" test "$(run "$work/u5" "$work/truncated.tar.gz" "$work/a/d-prod.tar")" = 4
