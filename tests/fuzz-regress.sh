#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Replays every kept fuzz crasher (tests/fuzz/regress/NAME/ and the binary ones
# tests/fuzz/regress-gen.sh rebuilds) and every seed (tests/fuzz/corpus-NAME/ and what
# tests/fuzz/seeds.sh makes) through the fuzz targets' entry points built without libFuzzer
# (replay-NAME), so without clang and under ASan+UBSan too. A crash, a sanitizer report or a
# failed check in the target fails the test.
. "$(dirname "$0")/lib.sh"
need_env FUZZ_BUILD_DIR FUZZ_SOURCE_DIR
export TMPDIR=$work
"$FUZZ_SOURCE_DIR/regress-gen.sh" "$work/gen"
for exe in "$FUZZ_BUILD_DIR"/replay-*; do
  [[ -f $exe && -x $exe ]] || continue
  t=${exe##*/replay-}
  inputs=()
  "$FUZZ_SOURCE_DIR/seeds.sh" "$t" "$work/seeds/$t"
  for d in "$FUZZ_SOURCE_DIR/regress/$t" "$FUZZ_SOURCE_DIR/corpus-$t" "$work/gen/$t" "$work/seeds/$t"; do
    [[ -d $d ]] && inputs+=("$d")
  done
  ((${#inputs[@]})) || continue
  if "$exe" "${inputs[@]}" >"$work/log" 2>&1; then
    ok "$t: every crasher and seed replays"
    diag "$t: $(tail -n 1 "$work/log")"
  else
    not_ok "$t: every crasher and seed replays"
    tail -n 40 "$work/log" >&2
  fi
done
