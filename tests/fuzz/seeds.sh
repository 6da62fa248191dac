#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Writes the generated seeds of fuzz target NAME into DIR: inputs in binary formats, made here
# at run time because nothing binary is committed (text seeds live in tests/fuzz/corpus-NAME/).
# Used by ci/fuzz to seed libFuzzer and by the fuzz-regress test, which replays them.
#   tests/fuzz/seeds.sh NAME DIR
set -euo pipefail
name=${1:?usage: seeds.sh NAME DIR}
dir=${2:?usage: seeds.sh NAME DIR}
repo=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ELF: tiny programs compiled on the spot, then truncated and stripped variants.
seed_elf() {
  local corpus=$1
  printf 'int main(void) { return 0; }\n' >"$work/p.c"
  printf 'void _start(void) { __asm__ volatile("mov $60, %%eax; xor %%edi, %%edi; syscall"); }\n' \
    >"$work/tiny.c"
  cc -Os -s -o "$corpus/dynamic" "$work/p.c"
  cc -Os -s -Wl,-rpath,'$ORIGIN/../lib' -o "$corpus/rpath" "$work/p.c"
  cc -Os -s -Wl,--enable-new-dtags,-rpath,/opt/lib -o "$corpus/runpath" "$work/p.c"
  if [[ $(uname -m) == x86_64 ]]; then
    cc -Os -s -static -nostdlib -o "$corpus/tiny-static" "$work/tiny.c"
    cc -Os -s -static-pie -nostdlib -fPIE -o "$corpus/tiny-static-pie" "$work/tiny.c" || true
  fi
  cp "$corpus/dynamic" "$corpus/no-shdr"
  objcopy --strip-section-headers "$corpus/no-shdr" 2>/dev/null || rm -f "$corpus/no-shdr"
  for f in "$corpus"/*; do
    head -c 64 "$f" >"$f.ehdr"
    head -c 1024 "$f" >"$f.phdr"
  done
  printf 'BusyBox v1.36.1\0BusyBox is a multi-call binary\0[\0[[\0acpid\0ash\0' >"$corpus/markers"
  printf '#!/bin/sh\n' >"$corpus/script"
  seed_elf_evasions "$corpus"
}

# The enforcer's evasion paths (issue 16): identification bytes the kernel ignores set to odd
# values, program headers cut off, UPX's magic at the start and its pack header at the end, a
# mostly compressed program, the memfd_create + fexecve symbols, markers split so that the
# fuzz target's hole falls between them.
seed_elf_evasions() {
  local corpus=$1 base
  base=$corpus/dynamic
  [[ -f $corpus/tiny-static ]] && base=$corpus/tiny-static
  python3 - "$base" "$corpus" <<'PY'
import os, struct, sys, zlib
base, out = sys.argv[1:3]
b = open(base, "rb").read()
def put(name, data):
    open(os.path.join(out, name), "wb").write(data)
for name, off, val, width in [("class0", 4, 0, 1), ("class32", 4, 1, 1), ("data-big", 5, 2, 1),
                              ("version0", 6, 0, 1), ("osabi", 7, 0x61, 1), ("abiver", 8, 0x80, 1),
                              ("pad", 9, 1, 1), ("e-version0", 20, 0, 4), ("ehsize0", 52, 0, 2),
                              ("phoff-past-eof", 32, len(b) + 64, 8), ("phnum-big", 56, 0xfff0, 2)]:
    x = bytearray(b)
    x[off:off + width] = val.to_bytes(width, "little")
    put("evade-" + name, bytes(x))
# The same header on other machines: s390 (the kernel checks EI_CLASS), ppc64 big-endian.
x = bytearray(b[:64]); x[18:20] = (22).to_bytes(2, "big"); x[4] = 0; put("evade-s390-class0", bytes(x))
x = bytearray(b[:64]); x[18:20] = (21).to_bytes(2, "big"); put("evade-ppc64-be", bytes(x))
phoff, = struct.unpack_from("<Q", b, 32)
phentsize, phnum = struct.unpack_from("<HH", b, 54)
head = b[:phoff + phnum * phentsize]
packed = head + struct.pack("<I", 1) + b"UPX!" + zlib.compress(b * 8, 9) + b"UPX!" + bytes(28)
put("upx", packed)
put("upx-nomagic", packed.replace(b"UPX!", bytes(4)))
put("upx-id", b + b"\0$Id: UPX 4.02 Copyright (C) 1996-2023 the UPX Team. All Rights Reserved. $\0")
put("memfd-fexecve", b + b"\0memfd_create\0fexecve\0execveat\0GLIBC_2.27\0")
half = b"\0BusyBox is a multi-call binary\0"
put("split-marker", b"A" * (4096 - 12) + half + b"B" * 4096)
PY
}

seed_recipe() {
  cp "$repo"/recipes/*.yaml "$1/"
}

# Tar archives in every dialect and compression cairn reads: ustar, GNU (long names, sparse),
# pax (non-ASCII names), with links, directories and odd names.
make_tars() { # DIR
  python3 - "$1" <<'PY'
import io, sys, tarfile
d = sys.argv[1]
def add(t, name, data=b"", **kw):
    i = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(i, k, v)
    if i.type == tarfile.REGTYPE:
        i.size = len(data)
        t.addfile(i, io.BytesIO(data))
    else:
        t.addfile(i)
for fmt, name in ((tarfile.USTAR_FORMAT, "ustar"), (tarfile.GNU_FORMAT, "gnu"), (tarfile.PAX_FORMAT, "pax")):
    with tarfile.open(f"{d}/{name}.tar", "w", format=fmt) as t:
        add(t, "bin", type=tarfile.DIRTYPE, mode=0o755)
        add(t, "bin/tool", b"#!/bin/sh\necho hi\n", mode=0o755)
        add(t, "bin/alias", type=tarfile.LNKTYPE, linkname="bin/tool")
        add(t, "bin/sym", type=tarfile.SYMTYPE, linkname="tool")
        add(t, "etc/conf", b"a = 1\n", mode=0o640, uid=7, gid=8)
        if fmt != tarfile.USTAR_FORMAT:
            add(t, "long/" + "n" * 150 + "/file", b"x")
        if fmt == tarfile.PAX_FORMAT:
            add(t, "caf\u00e9", b"y")
with tarfile.open(f"{d}/escapes.tar", "w") as t:
    add(t, "lnk", type=tarfile.SYMTYPE, linkname="/etc")
    add(t, "lnk/passwd", b"x")
    add(t, "../x", b"x")
PY
  printf 'x' | dd of="$work/sparse" bs=1 seek=40000 conv=notrunc status=none
  tar -C "$work" --sparse --format=gnu -cf "$1/sparse-gnu.tar" sparse
  tar -C "$work" --sparse --format=posix -cf "$1/sparse-pax.tar" sparse
}

seed_tar() {
  local corpus=$1
  make_tars "$corpus"
  gzip -9 -n -c "$corpus/gnu.tar" >"$corpus/gnu.tar.gz"
  xz -c "$corpus/pax.tar" >"$corpus/pax.tar.xz"
  bzip2 -c "$corpus/ustar.tar" >"$corpus/ustar.tar.bz2" 2>/dev/null || true
  zstd -q -c "$corpus/gnu.tar" >"$corpus/gnu.tar.zst"
}

# .debs made with dpkg-deb in each compression, with a symlink, a hardlink and a maintainer
# script; plus one with a hand-made data.tar holding escapes.
seed_deb() {
  local corpus=$1 pkg=$work/pkg
  mkdir -p "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/etc" "$pkg/usr/share/doc/tool"
  printf '#!/bin/sh\necho tool\n' >"$pkg/usr/bin/tool"
  chmod 755 "$pkg/usr/bin/tool"
  ln "$pkg/usr/bin/tool" "$pkg/usr/bin/tool-hard"
  ln -s tool "$pkg/usr/bin/tool-sym"
  echo "a = 1" >"$pkg/etc/tool.conf"
  echo "copyright" >"$pkg/usr/share/doc/tool/copyright"
  printf 'Package: tool\nVersion: 1.0\nArchitecture: amd64\nMaintainer: t <t@cairn.invalid>\nDescription: t\n' \
    >"$pkg/DEBIAN/control"
  printf '#!/bin/sh\nexit 0\n' >"$pkg/DEBIAN/postinst"
  chmod 755 "$pkg/DEBIAN/postinst"
  for z in gzip xz zstd none; do
    dpkg-deb --root-owner-group -Z"$z" --build "$pkg" "$corpus/tool-$z.deb" >/dev/null
  done
  local raw=$work/raw
  mkdir -p "$raw"
  make_tars "$raw"
  echo "2.0" >"$raw/debian-binary"
  tar -C "$pkg/DEBIAN" -czf "$raw/control.tar.gz" .
  cp "$raw/escapes.tar" "$raw/data.tar"
  (cd "$raw" && ar rc "$corpus/escapes.deb" debian-binary control.tar.gz data.tar)
}

# Made in a fresh directory first: seed_elf derives variants from every file it finds.
if declare -F "seed_$name" >/dev/null; then
  mkdir "$work/seeds"
  "seed_$name" "$work/seeds"
  cp -r "$work/seeds/." "$dir/"
fi
