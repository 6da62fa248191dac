#!/usr/bin/env bash
# The enforcer cannot be talked out of a verdict (issue 16). Real Debian BusyBox, bash-static,
# zsh-static, mksh and sash, each with every identification byte the kernel ignores set to odd
# values (the kernel still runs them: checked), with program headers cut off, BusyBox moved past
# 1 GiB in a sparse file, symlink chains and #! scripts ending at each, UPX-packed (crafted: no
# upx in Debian 12) with and without its magic; each set as a directory, a rootfs tar and an OCI
# layout made by umoci: none passes strict, and the three forms give identical findings. The
# clean set (static hello, tini-static, catatonit, cairn-init, a data file starting with
# \x7fELF, a program with "busybox" in a string) passes strict in every form.
. "$(dirname "$0")/lib.sh"
need_env CAIRN CAIRN_INIT
need_tools python3 umoci tar dpkg-deb apt-get cc

# ---- the real binaries, downloaded once into the work directory

debs=(busybox-static bash-static zsh-static mksh sash tini catatonit)
apt_download "${debs[@]}"
for deb in *.deb; do
  mkdir -p "pkg/${deb%%_*}"
  dpkg-deb -x "$deb" "pkg/${deb%%_*}"
done
mksh=$(find pkg/mksh -path '*musl*/bin/mksh' -type f | head -n1)
[[ -n $mksh ]] || mksh=pkg/mksh/bin/lksh
declare -A real=(
  [bb]=pkg/busybox-static/bin/busybox
  [bash]=pkg/bash-static/bin/bash-static
  [zsh]=pkg/zsh-static/bin/zsh-static
  [mksh]=$mksh
  [sash]=pkg/sash/bin/sash
)
# The rule each one's content must trigger.
declare -A rule=([bb]=CAIRN-BUSYBOX [bash]=CAIRN-SHELL [zsh]=CAIRN-SHELL [mksh]=CAIRN-SHELL [sash]=CAIRN-SHELL)
for k in "${!real[@]}"; do [[ -f ${real[$k]} ]] || bail_out "${real[$k]} is not in its package"; done

# ---- fixtures, all made by one python run (its start-up is slow on a loaded machine)

# fixtures.py TASK ARGS... [-- TASK ARGS...]...
#   evasions ROOT NAME SRC  the header variants of SRC as ROOT/app/NAME-VARIANT, each behind a
#                           two-link symlink chain (ROOT/bin/NAME-VARIANT -> ROOT/lnk/... ->)
#                           and a #! script (ROOT/app/run-NAME-VARIANT); the variants the
#                           kernel should still run are listed in ROOT.runnable
#   sparse SRC DST          SRC with every segment moved 1 GiB + 1 MiB into the file: only the
#                           ELF header and program headers stay at the start, the rest is a hole
#   upx SRC DST [nomagic]   what UPX makes of SRC, crafted: SRC's ELF and program headers, UPX's
#                           l_info ("UPX!") and p_info, the compressed program, the pack header
#                           ("UPX!") at the end; "nomagic": every UPX marker rubbed out
#   random DST SIZE         SIZE random bytes (an opaque asset)
cat >fixtures.py <<'PY'
import os, random, struct, sys, zlib

def evasions(root, name, src):
    data = open(src, "rb").read()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, src
    # (variant, offset, value, width): bytes binfmt_elf never looks at on x86-64, odd values.
    ignored = [("class0", 4, 0, 1), ("class32", 4, 1, 1), ("classff", 4, 0xff, 1),
               ("data0", 5, 0, 1), ("databig", 5, 2, 1), ("dataff", 5, 0xff, 1),
               ("version0", 6, 0, 1), ("version2", 6, 2, 1), ("versionff", 6, 0xff, 1),
               ("osabi61", 7, 0x61, 1), ("osabiff", 7, 0xff, 1), ("abiversion80", 8, 0x80, 1),
               ("pad", 9, 0x41, 1), ("padlast", 15, 0xff, 1), ("eversion0", 20, 0, 4),
               ("eversionff", 20, 0xffffffff, 4), ("ehsize0", 52, 0, 2)]
    # Program headers the kernel cannot read: cut off, or past the end of the file.
    broken = [("phoff-past-eof", 32, len(data) + 4096, 8), ("phnum-past-eof", 56, 0xfff0, 2)]
    for d in ("app", "bin", "lnk"):
        os.makedirs(f"{root}/{d}", exist_ok=True)
    runnable = []
    for variant, off, value, width in [("plain", 0, 0x7f, 1)] + ignored + broken:
        b = bytearray(data)
        b[off:off + width] = value.to_bytes(width, "little")
        path = f"{root}/app/{name}-{variant}"
        open(path, "wb").write(b)
        os.chmod(path, 0o755)
        os.symlink(f"../lnk/{name}-{variant}", f"{root}/bin/{name}-{variant}")
        os.symlink(f"/app/{name}-{variant}", f"{root}/lnk/{name}-{variant}")
        script = f"{root}/app/run-{name}-{variant}"
        open(script, "w").write(f"#!/bin/{name}-{variant} -c true\n")
        os.chmod(script, 0o755)
        if variant not in [v[0] for v in broken]:
            runnable.append(path)
    open(f"{root}.runnable", "w").write("\n".join(runnable) + "\n")

def phdrs(b):
    phoff, = struct.unpack_from("<Q", b, 32)
    phentsize, phnum = struct.unpack_from("<HH", b, 54)
    return phoff, phentsize, phnum

def sparse(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    b = bytearray(open(src, "rb").read())
    shift = (1 << 30) + (1 << 20)
    phoff, phentsize, phnum = phdrs(b)
    for i in range(phnum):
        o = phoff + i * phentsize
        off, = struct.unpack_from("<Q", b, o + 8)
        struct.pack_into("<Q", b, o + 8, off + shift)
    struct.pack_into("<Q", b, 40, 0)  # no section headers
    struct.pack_into("<HH", b, 60, 0, 0)
    with open(dst, "wb") as f:
        f.write(b[:phoff + phnum * phentsize])
        f.seek(shift)
        f.write(b)
    os.chmod(dst, 0o755)

def upx(src, dst, nomagic=None):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    b = open(src, "rb").read()
    phoff, phentsize, phnum = phdrs(b)
    head = bytearray(b[:phoff + phnum * phentsize])
    magic = b"\0\0\0\0" if nomagic else b"UPX!"
    l_info = struct.pack("<I", 0x1234abcd) + magic + struct.pack("<HBB", len(head), 13, 22)
    p_info = struct.pack("<III", 0, len(b), len(b))
    payload = zlib.compress(b, 9)
    trailer = magic + struct.pack("<BBBBIII", 13, 22, 14, 0, len(b), len(payload), 0) + bytes(16)
    out = head + l_info + p_info + payload + trailer
    if not nomagic:
        out += b"\0$Info: This file is packed with the UPX executable packer http://upx.sf.net $\n\0"
    open(dst, "wb").write(out)
    os.chmod(dst, 0o755)

def rand(dst, size):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    random.seed(16)
    open(dst, "wb").write(random.randbytes(int(size)))

tasks = {"evasions": evasions, "sparse": sparse, "upx": upx, "random": rand}
args = sys.argv[1:]
while args:
    end = args.index("--") if "--" in args else len(args)
    task, *rest = args[:end]
    tasks[task](*rest)
    args = args[end + 1:]
PY

# ---- verdicts

# forms ROOT ARGS...: ROOT as a directory, a tar (GNU, sparse members kept sparse) and an OCI
# layout (umoci repack: gzip layers; or, with FORMS_OCI_FROM_TAR=1, make_oci around the tar
# itself, which costs no compression) must get identical findings. Leaves in $v the findings reduced to "STATUS passed=BOOL" and one line
# "RULE SEVERITY PATH" per finding (the target dropped).
forms() {
  local root=$1 form status out
  shift
  tar --numeric-owner -S -C "$root" -cf "$root.tar" .
  if [[ ${FORMS_OCI_FROM_TAR:-0} == 1 ]]; then
    make_oci "$root.oci" "$root.tar"
  else
    umoci init --layout "$root.oci"
    umoci new --image "$root.oci:latest"
    umoci unpack --image "$root.oci:latest" "$root.bundle" >/dev/null 2>&1
    cp -a --sparse=always "$root/." "$root.bundle/rootfs/"
    umoci repack --image "$root.oci:latest" "$root.bundle"
  fi
  for form in "$root" "$root.tar" "$root.oci"; do
    status=0
    "$CAIRN" enforce --format json "$@" "$form" >"$form.json" 2>"$form.err" || status=$?
    if [[ $status -ne 0 && $status -ne 1 ]]; then
      cat "$form.err" >&2
      bail_out "cairn enforce $* $form exited $status"
    fi
    echo "$status" >"$form.status"
  done
  out=$(python3 - "$root" "$root.tar" "$root.oci" <<'PY'
import json, sys
def reduce(form):
    d = json.load(open(form + ".json"))
    lines = [f"{open(form + '.status').read().strip()} passed={d['passed']}"]
    lines += [f"{f['rule']} {f['severity']} {f['path']}" for f in d["findings"]]
    return "\n".join(lines)
r = [reduce(f) for f in sys.argv[1:]]
print("same" if r[0] == r[1] == r[2] else "differ")
print(r[0])
if r[0] != r[1] or r[0] != r[2]:
    import difflib
    for i in (1, 2):
        for l in difflib.unified_diff(r[0].split("\n"), r[i].split("\n"), lineterm="", n=0):
            print("#", sys.argv[1 + i], l, file=sys.stderr)
PY
)
  check "$root: the directory, its tar and its OCI layout get identical findings" \
    test "${out%%$'\n'*}" = same
  v=${out#*$'\n'}
}

# has_finding RULE SEVERITY PATH: $v holds that finding.
has_finding() { grep -qxF "$1 $2 $3" <<<"$v"; }

python3 fixtures.py \
  evasions evade-bb bb "${real[bb]}" -- evasions evade-bash bash "${real[bash]}" -- \
  evasions evade-zsh zsh "${real[zsh]}" -- evasions evade-mksh mksh "${real[mksh]}" -- \
  evasions evade-sash sash "${real[sash]}" -- \
  sparse "${real[bb]}" sparse/app/helper -- \
  upx "${real[bb]}" packed/app/bb-upx -- upx "${real[bb]}" packed/app/bb-upx-nomagic nomagic -- \
  upx "${real[bash]}" packed/app/bash-upx -- \
  random loader/app/asset.bin $((2 << 20))

# ---- 1. header evasions of each real shell and BusyBox, symlink chains and scripts to each

for k in bb bash zsh mksh sash; do
  root=evade-$k
  # umoci for BusyBox's set; the shells' sets (the same code paths, 100 MB more) skip the gzip.
  oci_from_tar=1
  [[ $k != bb ]] || oci_from_tar=0
  runnable=$(cat "$root.runnable")
  # The fixtures are real evasions: the kernel runs every header variant.
  ran=0 total=0
  for f in $runnable; do
    total=$((total + 1))
    if [[ $k == bb ]]; then
      (exec -a true "$f") && ran=$((ran + 1))
    else
      "$f" -c true && ran=$((ran + 1))
    fi
  done
  check "$k: the kernel runs all $total header variants ($ran did)" test "$ran" = "$total"

  FORMS_OCI_FROM_TAR=$oci_from_tar forms "$root" --allow '/app/*'
  check "$k: strict refuses the image (every form)" matches "$v" "1 passed=False*"
  missing=()
  for f in "$root"/app/"$k"-*; do
    p=/app/${f##*/}
    variant=${p#/app/$k-}
    has_finding "${rule[$k]}" error "$p" || missing+=("${rule[$k]} $p")
    if [[ $variant != plain ]]; then
      has_finding CAIRN-ELF-MALFORMED error "$p" || missing+=("CAIRN-ELF-MALFORMED $p")
    fi
    has_finding CAIRN-SYMLINK-FORBIDDEN error "/bin/$k-$variant" || missing+=("symlink /bin/$k-$variant")
    has_finding CAIRN-SYMLINK-FORBIDDEN error "/lnk/$k-$variant" || missing+=("symlink /lnk/$k-$variant")
    has_finding CAIRN-SCRIPT-FORBIDDEN error "/app/run-$k-$variant" || missing+=("script /app/run-$k-$variant")
  done
  check "$k: every variant caught by content, its header, its symlink chain and its #! script" \
    test ${#missing[@]} -eq 0
  ((${#missing[@]} == 0)) || diag "missing: ${missing[*]:0:10}"
done

# ---- 2. BusyBox past 1 GiB in a sparse file

check "sparse BusyBox: the kernel runs it" bash -c '(exec -a true sparse/app/helper)'
check "sparse BusyBox: the file is larger than 1 GiB" test "$(stat -c %s sparse/app/helper)" -gt $((1 << 30))
# umoci would write the gigabyte of zeros into a gzip layer (most of a minute here): the OCI
# layout of this set holds the sparse tar itself.
FORMS_OCI_FROM_TAR=1 forms sparse --allow '/app/*'
check "sparse BusyBox: strict refuses it" matches "$v" "1 passed=False*"
check "sparse BusyBox: CAIRN-BUSYBOX, scanned where its data is" has_finding CAIRN-BUSYBOX error /app/helper
check "sparse BusyBox: nothing left unscanned" not matches "$v" "*CAIRN-SCAN-INCOMPLETE*"

# ---- 3. packed: UPX with its markers, and with every marker rubbed out; named or not

forms packed --allow '/app/*'
check "packed: strict refuses the image" matches "$v" "1 passed=False*"
for p in /app/bb-upx /app/bb-upx-nomagic /app/bash-upx; do
  check "packed: $p is CAIRN-PACKED although allowed" has_finding CAIRN-PACKED error "$p"
done
rc=0
"$CAIRN" enforce packed --allow '/app/*' >packed.txt || rc=$?
check "packed: the text report exits 1 (a policy violation)" test $rc = 1
check "packed: the evidence names UPX's magic" grep -q '"UPX!" magic' packed.txt
check "packed: the evidence names the entropy when the magic is gone" \
  grep -q 'bb-upx-nomagic: .*bits per byte' packed.txt

# ---- 4. the cheap loader cases: warnings, the image still passes strict

cat >loader.c <<'EOF'
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>
#include <stdlib.h>
int main(int argc, char **argv, char **envp)
{
        if (getenv("CAIRN_NEVER_SET"))
                fexecve(memfd_create("payload", 0), argv, envp);
        return argc > 5;
}
EOF
static_program loader/app/loader loader.c
static_hello loader/app/server
chmod 0644 loader/app/asset.bin
forms loader --allow '/app/*'
check "loader: strict passes (warnings only)" matches "$v" "0 passed=True*"
check "loader: memfd_create + fexecve is a CAIRN-LOADER warning" has_finding CAIRN-LOADER warning /app/loader
check "loader: the opaque asset beside it is a CAIRN-LOADER warning" has_finding CAIRN-LOADER warning /app/asset.bin

# ---- 5. no false positives

mkdir -p clean/sbin clean/app clean/data
cp pkg/tini/usr/bin/tini-static clean/sbin/tini
cp "$(find pkg/catatonit -type f -name catatonit -perm -u+x | head -n1)" clean/sbin/catatonit
cp "$CAIRN_INIT" clean/sbin/cairn-init
static_hello clean/app/hello
static_hello clean/app/mentions "this tool replaces busybox for our use case; see BusyBox docs"
printf '\x7fELF and then only data, no header at all\n' >clean/data/blob
chmod 0644 clean/data/blob
forms clean --allow '/sbin/*' --allow '/app/*'
diag "clean: $v"
check "clean: strict passes in every form" matches "$v" "0 passed=True*"
check "clean: no error" not grep -q ' error ' <<<"$v"
check "clean: the only finding is the data file's warning" \
  test "$(sed 1d <<<"$v")" = "CAIRN-ELF-MALFORMED warning /data/blob"
