#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Path attacks (issue 10), in artifact archives, artifact directories, .debs of a signed local
# repository and the recipe itself: entries that go through a symlink made earlier in the same
# archive, destinations under a symlinked directory, hardlinks leaving the archive or package,
# names past PATH_MAX / NAME_MAX, names with newlines or non-ASCII bytes. Each attack is refused
# with the archive or package and the entry named, leaves no OUT, no temporary sibling, and
# nothing at the place the symlink points to; names that are kept are kept byte for byte.
# ('..' and absolute names: e2e-artifacts.sh and e2e-deb-local.sh.) Needs no network.
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools gpg dpkg-deb dpkg-scanpackages xz python3 ar tar
mkdir victim # where the attacks' symlinks point: nothing may ever appear in it

# Archives: made by Python's tarfile, which writes whatever it is told.
python3 - "$work/victim" <<'PY'
import io, sys, tarfile
victim = sys.argv[1]
def add(t, name, data=b"", **kw):
    i = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(i, k, v)
    if i.type == tarfile.REGTYPE:
        i.size = len(data)
        t.addfile(i, io.BytesIO(data))
    else:
        t.addfile(i)
def tar(name, *entries, fmt=tarfile.PAX_FORMAT):
    with tarfile.open(name, "w", format=fmt, encoding="utf-8", errors="surrogateescape") as t:
        for e in entries:
            add(t, *e[:2], **(e[2] if len(e) > 2 else {}))
tar("via-abs-symlink.tar", ("lnk", b"", dict(type=tarfile.SYMTYPE, linkname=victim)), ("lnk/pwned", b"x"))
tar("via-rel-symlink.tar", ("d", b"", dict(type=tarfile.DIRTYPE)),
    ("d/lnk", b"", dict(type=tarfile.SYMTYPE, linkname="../../../../../../.." + victim)), ("d/lnk/pwned", b"x"))
tar("via-symlink-dir-entry.tar", ("lnk", b"", dict(type=tarfile.SYMTYPE, linkname=victim)),
    ("lnk/sub", b"", dict(type=tarfile.DIRTYPE)))
tar("hardlink-abs.tar", ("x", b"", dict(type=tarfile.LNKTYPE, linkname="/etc/passwd")))
tar("hardlink-up.tar", ("x", b"", dict(type=tarfile.LNKTYPE, linkname="../outside")))
tar("hardlink-other.tar", ("y", b"", dict(type=tarfile.LNKTYPE, linkname="a/own")))
tar("own.tar", ("own", b"mine\n"))
tar("path-max.tar", ("d/" * 2048 + "f", b"x"))
tar("name-max.tar", ("n" * 256, b"x"))
tar("names-kept.tar", ("n" * 255, b"255\n"), ("new\nline", b"nl\n"), ("caf\u00e9", b"utf8\n"),
    ("link", b"", dict(type=tarfile.SYMTYPE, linkname="caf\u00e9")))
tar("bad-utf8-pax.tar", ("bad\udcffname", b"x"))
tar("bad-utf8-gnu.tar", ("bad\udcfe\udcffname", b"x"), fmt=tarfile.GNU_FORMAT)
tar("bad-utf8-target.tar", ("l", b"", dict(type=tarfile.SYMTYPE, linkname="t\udcff")))
PY

recipe() { # NAME LINES...: a prod-only recipe (dev policy: the attacks, not the enforcer, fail)
  local name=$1; shift
  { printf 'recipe: 1\nname: %s\nepoch: 0\n' "$name"; printf '%s\n' "$@"
    printf 'variants:\n  prod: { policy: dev }\n'; } >"$name.yaml"
}
victim_empty() { test -z "$(ls -A victim)"; }
no_siblings() { test -z "$(find . -maxdepth 1 -name ".out-$1.cairn-*")"; }
# refused WHAT NAME EXIT PATTERN: the build fails with EXIT, says PATTERN, writes nothing.
refused() {
  local what=$1 name=$2 want=$3 pattern=$4 rc=0
  "$CAIRN" build "$name.yaml" -o "out-$name" -q --cache "$work/cache" >/dev/null 2>"$name.err" || rc=$?
  check "$what: exit $want" test "$rc" = "$want"
  check "$what: the message names the input and the entry" grep -qF -- "$pattern" "$name.err"
  check "$what: no OUT, no temporary sibling, nothing at the symlink's target" \
    bash -c "test ! -e out-$name && test -z \"\$(find . -maxdepth 1 -name '.out-$name.cairn-*')\" && test -z \"\$(ls -A victim)\""
}
artifact() { recipe "$1" 'artifacts:' "  - { src: $2, dest: /opt/x }"; }

# 1. An archive entry that goes through a symlink made earlier in the same archive.
artifact abs-symlink via-abs-symlink.tar
refused "archive: entry through an earlier absolute symlink" abs-symlink 2 \
  "via-abs-symlink.tar: entry 'lnk/pwned': /opt/x/lnk/pwned: parent /opt/x/lnk is a symlink"
artifact rel-symlink via-rel-symlink.tar
refused "archive: entry through an earlier relative symlink" rel-symlink 2 \
  "via-rel-symlink.tar: entry 'd/lnk/pwned': /opt/x/d/lnk/pwned: parent /opt/x/d/lnk is a symlink"
artifact symlink-dir via-symlink-dir-entry.tar
refused "archive: directory entry through an earlier symlink" symlink-dir 2 \
  "via-symlink-dir-entry.tar: entry 'lnk/sub/': /opt/x/lnk/sub: parent /opt/x/lnk is a symlink"

# 2. A recipe destination under a symlinked directory (files: /app -> victim, then /app/x).
recipe dest-symlink 'files:' "  - { path: /app, type: symlink, target: $work/victim }" \
  'artifacts:' '  - { src: own.tar, dest: /app/x }'
refused "recipe: artifact destination under a symlink" dest-symlink 2 \
  "/app/x: parent /app is a symlink from"
recipe file-symlink 'files:' "  - { path: /app, type: symlink, target: $work/victim }" \
  '  - { path: /app/conf, content: "x" }'
refused "recipe: file under a symlink" file-symlink 2 "/app/conf: parent /app is a symlink"

# 3. Hardlinks to outside the archive, and to a file of another archive.
artifact hl-abs hardlink-abs.tar
refused "archive: hardlink to an absolute path" hl-abs 2 \
  "hardlink-abs.tar: hardlink 'x' to '/etc/passwd' leaves the archive"
artifact hl-up hardlink-up.tar
refused "archive: hardlink to ../" hl-up 2 "hardlink-up.tar: hardlink 'x' to '../outside' leaves the archive"
recipe hl-other 'artifacts:' '  - { src: own.tar, dest: /opt/x/a }' '  - { src: hardlink-other.tar, dest: /opt/x }'
refused "archive: hardlink to another archive's file" hl-other 2 \
  "hardlink-other.tar: hardlink 'y' to 'a/own' points at no earlier file of the archive"

# 4. Over-long names.
artifact path-max path-max.tar
refused "archive: name past PATH_MAX" path-max 2 "is longer than 4095 bytes (PATH_MAX)"
artifact name-max name-max.tar
refused "archive: component past NAME_MAX" name-max 2 "has a name longer than 255 bytes (NAME_MAX)"

# 5. Names kept byte for byte: 255 bytes, a newline, UTF-8 (name and symlink target).
artifact kept names-kept.tar
"$CAIRN" build kept.yaml -o out-kept -q >/dev/null
check "kept names: build succeeds" test -f out-kept/kept-prod.tar
python3 - out-kept/kept-prod.tar >kept.names <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1], encoding="utf-8", errors="surrogateescape") as t:
    for m in t:
        if m.name.startswith("opt/x/"):
            print(repr(m.name.encode("utf-8", "surrogateescape")), repr(m.linkname.encode("utf-8", "surrogateescape")),
                  t.extractfile(m).read() if m.isfile() else None)
PY
check "python tarfile: a 255-byte name, byte for byte" grep -qF "b'opt/x/$(printf 'n%.0s' {1..255})' b'' b'255\\n'" kept.names
check "python tarfile: a name with a newline, byte for byte" grep -qF "b'opt/x/new\\nline' b'' b'nl\\n'" kept.names
check "python tarfile: a UTF-8 name, byte for byte" grep -qF "b'opt/x/caf\\xc3\\xa9' b'' b'utf8\\n'" kept.names
check "python tarfile: a UTF-8 symlink target, byte for byte" grep -qF "b'opt/x/link' b'caf\\xc3\\xa9' None" kept.names
mkdir gnu-x
tar -C gnu-x -xf out-kept/kept-prod.tar 2>/dev/null
check "GNU tar extracts the UTF-8 name as the same bytes" test "$(cat "gnu-x/opt/x/caf$(printf '\xc3\xa9')")" = utf8
check "GNU tar extracts the newline name as the same bytes" test "$(cat "gnu-x/opt/x/new
line")" = nl
check "the SBOM lists the UTF-8 name" python3 -c "import json,sys; sys.exit('./opt/x/caf\u00e9' not in [f['fileName'] for f in json.load(open('out-kept/kept-prod.spdx.json'))['files']])"
check "cairn enforce reads its own output back" bash -c "\"\$CAIRN\" enforce out-kept/kept-prod --profile dev >/dev/null"

# 6. Names that are not UTF-8 are refused (never re-encoded): archives and directories.
artifact bad-pax bad-utf8-pax.tar
refused "archive: pax name that is not UTF-8" bad-pax 2 "bad-utf8-pax.tar: entry 'bad\\xffname' is not valid UTF-8"
artifact bad-gnu bad-utf8-gnu.tar
refused "archive: GNU name that is not UTF-8" bad-gnu 2 "bad-utf8-gnu.tar: entry 'bad\\xfe\\xffname' is not valid UTF-8"
artifact bad-target bad-utf8-target.tar
refused "archive: symlink target that is not UTF-8" bad-target 2 "symlink 'l': its target 't\\xff' is not valid UTF-8"
mkdir baddir
touch "baddir/latin1-$(printf '\xe9')"
artifact bad-dir baddir
refused "directory: file name that is not UTF-8" bad-dir 2 "latin1-\\xe9: its image path is not valid UTF-8"

# 7. Artifact directories with symlinks to outside: kept as symlinks (image paths), never
#    followed on the build machine; nothing of what they point to enters the image.
mkdir -p linkdir
echo secret >victim-file
ln -s "$work/victim-file" linkdir/abs-file
ln -s "$work" linkdir/abs-dir
recipe linkdir 'artifacts:' '  - { src: linkdir, dest: /srv/l }'
"$CAIRN" build linkdir.yaml -o out-linkdir -q >/dev/null
tar -tvf out-linkdir/linkdir-prod.tar >linkdir.list
check "directory: absolute symlinks stay symlinks" \
  bash -c "grep -q 'srv/l/abs-file -> $work/victim-file' linkdir.list && grep -q 'srv/l/abs-dir -> $work\$' linkdir.list"
check "directory: nothing behind the symlinks was read" bash -c "! grep -q 'srv/l/abs-dir/' linkdir.list && ! tar -xOf out-linkdir/linkdir-prod.tar | grep -q secret"

# A fifo as an artifact is refused at once, never waited on.
mkfifo fifo
recipe fifo 'artifacts:' '  - { src: fifo, dest: /app/fifo }'
rc=0
timeout 60 "$CAIRN" build fifo.yaml -o out-fifo -q >/dev/null 2>fifo.err || rc=$?
check "a fifo as an artifact: refused (exit 2), not waited on" test $rc = 2
check "a fifo as an artifact: the message says what it is" grep -q "fifo is not a file or directory" fifo.err

# 8. .debs of a signed repository: the same attacks inside data.tar exit 3 (a source failure)
#    and name the package.
repo_key
python3 - "$work/victim" <<'PY'
import io, sys, tarfile
victim = sys.argv[1]
def tar(name, entries):
    with tarfile.open(name, "w", format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape") as t:
        for n, data, kw in entries:
            i = tarfile.TarInfo(n)
            for k, v in kw.items():
                setattr(i, k, v)
            if i.type == tarfile.REGTYPE:
                i.size = len(data)
                t.addfile(i, io.BytesIO(data))
            else:
                t.addfile(i)
D = dict(type=tarfile.DIRTYPE, mode=0o755)
tar("deb-symlink.tar", [("./", b"", D), ("./usr/", b"", D), ("./usr/lib", b"", dict(type=tarfile.SYMTYPE, linkname=victim)),
                        ("./usr/lib/pwned", b"x", {})])
tar("deb-hardlink.tar", [("./", b"", D), ("./etc/", b"", D), ("./etc/x", b"", dict(type=tarfile.LNKTYPE, linkname="./etc/base"))])
tar("deb-base.tar", [("./", b"", D), ("./etc/", b"", D), ("./etc/base", b"base\n", {})])
tar("deb-badname.tar", [("./", b"", D), ("./bad\udcffname", b"x", {})])
tar("deb-longname.tar", [("./", b"", D), ("./" + "n" * 300, b"x", {})])
PY
for p in symlink hardlink base badname longname; do
  repo_deb_raw "$work/repo" "evil-$p" 1.0 "deb-$p.tar"
done
repo_index "$work/repo"
deb_recipe() { # NAME PACKAGE...
  local name=$1; shift
  recipe "$name" 'sources:' "$(repo_source "$work/repo")" 'packages:' "$(printf '  - name: %s\n' "$@")"
}
deb_recipe deb-symlink evil-symlink
refused ".deb: entry through an earlier symlink" deb-symlink 3 \
  "package evil-symlink 1.0: /usr/lib/pwned: parent /usr/lib is a symlink"
deb_recipe deb-hardlink evil-base evil-hardlink
refused ".deb: hardlink to another package's file" deb-hardlink 3 \
  "package evil-hardlink 1.0: hardlink '/etc/x' points outside the package's files"
deb_recipe deb-badname evil-badname
refused ".deb: name that is not UTF-8" deb-badname 3 "package evil-badname 1.0: entry './bad\\xffname' is not valid UTF-8"
deb_recipe deb-longname evil-longname
refused ".deb: component past NAME_MAX" deb-longname 3 "package evil-longname 1.0: entry './nnnnn"
