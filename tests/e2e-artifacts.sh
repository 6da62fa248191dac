#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cairn build's artifact inputs end to end (issue 3): archives recognised by content (gzip,
# zstd, plain), hardlinks in archives, entries that leave the archive, symlinks that leave an
# artifact directory, recipe modes, and zstd-compressed OCI layers. Needs no network.
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools tar zstd python3

# Archives, made by Python's tarfile so names like ../x and /x can be written at all.
python3 - <<'PY'
import io, tarfile
def add(t, name, data=b"", **kw):
    i = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(i, k, v)
    if i.type == tarfile.REGTYPE:
        i.size = len(data)
        t.addfile(i, io.BytesIO(data))
    else:
        t.addfile(i)
with tarfile.open("links.tar", "w", format=tarfile.PAX_FORMAT) as t:
    add(t, "z-first", b"shared bytes\n", mode=0o640)
    add(t, "a-link", type=tarfile.LNKTYPE, linkname="z-first")
    add(t, "sub", type=tarfile.DIRTYPE, mode=0o700)
    add(t, "sub/tool", b"#x\n", mode=0o750)
with tarfile.open("dotdot.tar", "w") as t:
    add(t, "ok", b"x")
    add(t, "a/../../evil", b"x")
with tarfile.open("absolute.tar", "w") as t:
    add(t, "/etc/evil", b"x")
PY
zstd -q -o links.tar.zst links.tar
cp links.tar.zst bundle.bin # no telling name: recognised by content
mkdir -p dir/inner
echo hi >dir/inner/file
ln -s inner/file dir/ok-link
ln -s ../inner/file dir/inner/also-ok
mkdir -p escdir/x
ln -s ../../outside escdir/x/bad
printf 'data' >plain.dat
chmod 0600 plain.dat

recipe() { # NAME ARTIFACT-LINES...
  local name=$1; shift
  { printf 'recipe: 1\nname: %s\nepoch: 0\nartifacts:\n' "$name"; printf '  - %s\n' "$@"
    printf 'variants:\n  prod: { policy: dev }\n'; } >"$name.yaml"
}
build() { "$CAIRN" build "$1.yaml" -o "out-$1" -q --variant prod "${@:2}"; }
listing() { tar_list "out-$1/$1-prod.tar" | awk '{print $1, $2, $6, $7, $8}' | sed 's/ *$//'; }

recipe good '{ src: bundle.bin, dest: /opt/b }' '{ src: dir, dest: /srv/dir }' \
  '{ src: plain.dat, dest: /etc/plain, mode: "0444", uid: 7, gid: 8 }' '{ src: plain.dat, dest: /etc/plain2 }'
build good >/dev/null
listing good >list
check "zstd archive named .bin unpacked" grep -qx -- '-rw-r----- 0/0 opt/b/z-first' list
check "hardlink to an earlier entry becomes a file with the same bytes" \
  test "$(tar -xOf out-good/good-prod.tar opt/b/a-link)" = "shared bytes"
check "hardlinked copy keeps the target's mode" grep -qx -- '-rw-r----- 0/0 opt/b/a-link' list
check "archive directory mode kept" grep -qx -- 'drwx------ 0/0 opt/b/sub/' list
check "archive file mode kept" grep -qx -- '-rwxr-x--- 0/0 opt/b/sub/tool' list
check "directory symlinks kept as symlinks" grep -qx -- 'lrwxrwxrwx 0/0 srv/dir/ok-link -> inner/file' list
check "relative symlink inside the directory kept" grep -qx -- 'lrwxrwxrwx 0/0 srv/dir/inner/also-ok -> ../inner/file' list
check "recipe mode and owner win" grep -qx -- '-r--r--r-- 7/8 etc/plain' list
check "without a recipe mode, a non-executable file is 0644 0/0" grep -qx -- '-rw-r--r-- 0/0 etc/plain2' list

recipe plainar '{ src: links.tar, dest: /opt/b }'
build plainar >/dev/null
check "an uncompressed tar gives the same entries as its zstd copy" \
  cmp -s <(listing plainar | grep " opt/") <(listing good | grep " opt/")

refused() { # WHAT NAME PATTERN
  local rc=0
  build "$2" >/dev/null 2>err || rc=$?
  check "$1: exit 2" test $rc = 2
  check "$1: message" grep -q -- "$3" err
  check "$1: nothing written" test ! -e "out-$2"
}
recipe dotdot '{ src: dotdot.tar, dest: /opt/d }'
refused "archive entry with .." dotdot "dotdot.tar: entry 'a/../../evil' leaves the archive"
recipe absolute '{ src: absolute.tar, dest: /opt/d }'
refused "archive entry with an absolute name" absolute "absolute.tar: entry '/etc/evil' has an absolute name"
recipe escape '{ src: escdir, dest: /srv/e }'
refused "symlink leaving the artifact directory" escape "escdir/x/bad: symlink to '../../outside' leaves the artifact directory"

# --compression zstd: layers are zstd, diff_ids still over the uncompressed tar.
check "--compression zstd: the build exits 0" exits 0 silent build good --compression zstd
lay=out-good/good-prod
if [[ -f $lay/index.json ]]; then
  python3 - "$lay" >zlayers <<'PY'
import json, sys
d = sys.argv[1]
m = json.load(open(d + "/blobs/sha256/" + json.load(open(d + "/index.json"))["manifests"][0]["digest"][7:]))
c = json.load(open(d + "/blobs/sha256/" + m["config"]["digest"][7:]))
for l, diff in zip(m["layers"], c["rootfs"]["diff_ids"]):
    print(l["mediaType"], l["digest"][7:], diff[7:])
PY
  good_z=1
  while read -r mt dig diff; do
    [[ $mt == application/vnd.oci.image.layer.v1.tar+zstd ]] || good_z=0
    [[ $(sha256sum <"$lay/blobs/sha256/$dig" | cut -d' ' -f1) == "$dig" ]] || good_z=0
    [[ $(zstd -dc <"$lay/blobs/sha256/$dig" | sha256sum | cut -d' ' -f1) == "$diff" ]] || good_z=0
  done <zlayers
  check "zstd layers: media type, blob digest and diff_id all agree" test "$good_z" = 1 -a -s zlayers
else
  not_ok "zstd layers: the build wrote no OCI layout"
fi
