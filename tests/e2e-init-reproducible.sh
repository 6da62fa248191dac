#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cairn-init is a pinned input (issue 25, docs/reproducibility.md): the same sources and
# toolchain give the same bytes wherever the tree and the build directory are: a copy of the
# sources at another path, configured afresh by meson in a build directory outside it, under
# another umask and TZ, gives this build's cairn-init (a build directory inside its tree). It
# has no build id note and names no path of either tree.
#   CAIRN_INIT, CAIRN_SOURCE_DIR
. "$(dirname "$0")/lib.sh"
need_env CAIRN_INIT CAIRN_SOURCE_DIR
need_tools meson ninja readelf git tar

copy() { # DEST: the tracked and new files of the tree (what a checkout holds)
  mkdir -p "$1"
  git -C "$CAIRN_SOURCE_DIR" ls-files -z --cached --others --exclude-standard |
    (cd "$CAIRN_SOURCE_DIR" && tar -c --null -T -) | tar -x -C "$1"
}
build_init() { # SRC BUILDDIR
  (cd "$1" && meson setup "$2" -Dtests=false >/dev/null && ninja -C "$2" init/cairn-init >/dev/null)
}
if ! git -C "$CAIRN_SOURCE_DIR" rev-parse >/dev/null 2>&1; then
  skip_all "the sources are not a git checkout (nothing to copy them from)"
fi
copy "$work/second-copy/of/the/tree"
(umask 077 && TZ=Asia/Kathmandu build_init "$work/second-copy/of/the/tree" "$work/elsewhere-build")

a=$work/elsewhere-build/init/cairn-init
check "another tree, another build directory: the same cairn-init as this build's" cmp "$a" "$CAIRN_INIT"
check "...with no build id" not bash -c "readelf -n '$a' | grep -q 'Build ID'"
check "...and no path of either tree in it" not grep -q -e "$work" -e "$CAIRN_SOURCE_DIR" "$a"
