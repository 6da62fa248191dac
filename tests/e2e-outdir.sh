#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# OUT is replaced all or nothing, and cairn deletes only what it wrote (issue 19):
#  - OUT/.cairn-outputs lists what cairn wrote; a user's file and directory in OUT survive
#    every build; a user's file inside an output directory, or a user's directory named like
#    an output, is exit 4 naming it, OUT untouched; an OUT from before the list is adopted when
#    its outputs are exactly like this build's; --variant V leaves the other variants' outputs;
#  - the swap: a rename failing at every step (tests/fault-shim.c) and an immutable file
#    (chattr +i, else a bind mount) each leave OUT byte-identical, with no temporary left;
#  - temporaries of dead builds: removed only when the PID is dead, nobody holds them locked
#    and they are 10 minutes old; two builds in separate PID namespaces (unshare -p -f)
#    sharing OUT both succeed.
# Needs no network.
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools cc flock

cc -shared -fPIC -o "$work/fault-shim.so" "$tests_dir/fault-shim.c" -ldl
shim() { env ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" LD_PRELOAD="$work/fault-shim.so" "$@"; }
# state DIR: every entry with its type and mode, and every file's sha256.
state() { (cd "$1" && find . -printf '%y %m %p\n' | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort); }
no_temps() { ! compgen -G "$1/.${2:-out}.cairn-*" >/dev/null; }

echo one >app.txt
cat >r.yaml <<'EOF2'
recipe: 1
name: t
epoch: 0
artifacts:
  - { src: app.txt, dest: /app.txt }
variants:
  dev: { policy: dev }
  prod: { policy: dev }
EOF2
build() { "$CAIRN" build r.yaml -q "$@" >/dev/null; }

# 1. The list, and the user's entries beside the outputs.
mkdir d1
build -o d1/out
check "a new OUT holds .cairn-outputs" test -f d1/out/.cairn-outputs
check "...listing every output and every path inside the layouts" \
  bash -c 'for p in t-dev t-dev.tar t-dev.spdx.json t-prod/index.json t-prod/oci-layout; do grep -q " $p\$" d1/out/.cairn-outputs || exit 1; done
    test "$(grep -c "^f t-prod/blobs/sha256/" d1/out/.cairn-outputs)" = "$(ls d1/out/t-prod/blobs/sha256 | wc -l)"'
echo mine >d1/out/notes.txt
mkdir -p d1/out/mydir/sub && echo kept >d1/out/mydir/sub/f
state d1/out >user.before
echo two >app.txt
rc=0
build -o d1/out || rc=$?
check "a rebuild with the user's file and directory in OUT succeeds" test $rc = 0
check "...and the new outputs are in place" bash -c 'tar -xOf d1/out/t-prod.tar app.txt | grep -qx two'
check "...the user's file survives" test "$(cat d1/out/notes.txt)" = mine
check "...the user's directory survives" test "$(cat d1/out/mydir/sub/f)" = kept
check "...and the list names neither" bash -c '! grep -q -e notes.txt -e mydir d1/out/.cairn-outputs'
check "...and no temporary is left" no_temps d1

# 2. A user's file inside an output directory: exit 4 naming it, nothing changed.
echo precious >d1/out/t-prod/README
state d1/out >in.before
echo three >app.txt
rc=0
"$CAIRN" build r.yaml -q -o d1/out >/dev/null 2>in.err || rc=$?
check "a user's file inside OUT/t-prod: exit 4" test $rc = 4
check "...naming it" grep -qF "d1/out/t-prod/README: a file cairn did not write" in.err
state d1/out >in.after
check "...OUT is exactly as before (the file kept)" cmp -s in.before in.after
check "...and no temporary is left" no_temps d1
rm d1/out/t-prod/README
mkdir d1/out/t-dev/blobs/mine
rc=0
"$CAIRN" build r.yaml -q -o d1/out >/dev/null 2>in2.err || rc=$?
check "a user's directory inside OUT/t-dev/blobs: exit 4 naming it" \
  bash -c "test $rc = 4 && grep -qF 'd1/out/t-dev/blobs/mine: a directory cairn did not write' in2.err"
rmdir d1/out/t-dev/blobs/mine

# 3. A user's directory named like an output, in an OUT cairn never wrote.
mkdir -p d2/out/t-dev.tar && echo mine >d2/out/t-dev.tar/f
state d2/out >clash.before
rc=0
"$CAIRN" build r.yaml -q -o d2/out >/dev/null 2>clash.err || rc=$?
check "a user's directory named t-dev.tar: exit 4" test $rc = 4
check "...naming it" grep -qF "d2/out/t-dev.tar: a directory cairn did not write" clash.err
state d2/out >clash.after
check "...before anything was touched (no output, no list added)" cmp -s clash.before clash.after
check "...and no temporary is left" no_temps d2
# In an OUT with a list, a user's file where an output of another variant goes.
mkdir d6
build -o d6/out --variant dev
echo file >d6/out/t-prod.spdx.json
rc=0
"$CAIRN" build r.yaml -q -o d6/out >/dev/null 2>clash2.err || rc=$?
check "a user's file named like an output the list does not name: exit 4 naming it" \
  bash -c "test $rc = 4 && grep -qF 'd6/out/t-prod.spdx.json: a file cairn did not write' clash2.err"
check "...and the user's file is unchanged" test "$(cat d6/out/t-prod.spdx.json)" = file

# 4. An OUT written before cairn kept the list: adopted when its outputs are exactly cairn's.
mkdir d3
build -o d3/out
rm d3/out/.cairn-outputs
echo four >app.txt
rc=0
build -o d3/out || rc=$?
check "an OUT without .cairn-outputs whose outputs are cairn's is adopted (exit 0)" test $rc = 0
check "...and gets its list" test -f d3/out/.cairn-outputs
check "...with the new outputs" bash -c 'tar -xOf d3/out/t-dev.tar app.txt | grep -qx four'
rm d3/out/.cairn-outputs
echo notes >d3/out/t-prod/notes
rc=0
"$CAIRN" build r.yaml -q -o d3/out >/dev/null 2>legacy.err || rc=$?
check "...but not with a user's file inside an output: exit 4, saying why" \
  bash -c "test $rc = 4 && grep -qF 'd3/out/t-prod/notes' legacy.err && grep -qF 'has no .cairn-outputs list yet' legacy.err"
echo garbage >d3/out/.cairn-outputs
rc=0
"$CAIRN" build r.yaml -q -o d3/out >/dev/null 2>garbage.err || rc=$?
check "a .cairn-outputs cairn did not write: exit 4 naming it" \
  bash -c "test $rc = 4 && grep -qF 'd3/out/.cairn-outputs: not a list of outputs cairn wrote' garbage.err"

# 5. --variant dev replaces dev's outputs and keeps prod's, which the list still names.
sha_prod=$(sha256sum <d1/out/t-prod.tar)
echo five >app.txt
build -o d1/out --variant dev
check "--variant dev: dev's outputs replaced" bash -c 'tar -xOf d1/out/t-dev.tar app.txt | grep -qx five'
check "...prod's left as they were" test "$(sha256sum <d1/out/t-prod.tar)" = "$sha_prod"
check "...and still listed as cairn's" grep -qx 'f t-prod.tar' d1/out/.cairn-outputs
rc=0
build -o d1/out || rc=$?
check "...so the next full build replaces them" \
  bash -c "test $rc = 0 && tar -xOf d1/out/t-prod.tar app.txt | grep -qx five"

# 6. Every step of the swap failing in turn: OUT byte-identical, nothing left behind.
# 7 renames: 6 outputs, then the list.
state d1/out >swap.before
echo six >app.txt
for step in 1 2 3 4 5 6 7; do
  rc=0
  CAIRN_FAULT_RENAMEAT2=$step shim "$CAIRN" build r.yaml -q -o d1/out >/dev/null 2>"swap$step.err" || rc=$?
  state d1/out >"swap$step.after"
  check "the swap's rename $step of 7 fails: exit 4, 'OUT is unchanged'" \
    bash -c "test $rc = 4 && grep -q 'OUT is unchanged' swap$step.err"
  check "...OUT is byte-identical to before (the user's entries too)" cmp -s swap.before "swap$step.after"
  check "...and no temporary is left" no_temps d1
done
rc=0
CAIRN_FAULT_RENAMEAT2=8 shim "$CAIRN" build r.yaml -q -o d1/out >/dev/null 2>swap8.err || rc=$?
check "with no rename failing the same build succeeds (the shim counted right)" \
  bash -c "test $rc = 0 && tar -xOf d1/out/t-prod.tar app.txt | grep -qx six"

# 7. An immutable output (chattr +i; else a bind mount over it): exit 4, OUT byte-identical.
echo seven >app.txt
how=
if chattr +i d1/out/t-prod.tar 2>/dev/null; then
  how="chattr +i"
  at_exit 'chattr -i "$work/d1/out/t-prod.tar"'
elif mount --bind d1/out/t-prod.tar d1/out/t-prod.tar 2>/dev/null; then
  how="a bind mount"
  at_exit 'umount "$work/d1/out/t-prod.tar"'
fi
if [[ -n $how ]]; then
  state d1/out >imm.before
  rc=0
  "$CAIRN" build r.yaml -q -o d1/out >/dev/null 2>imm.err || rc=$?
  state d1/out >imm.after
  check "an immutable t-prod.tar ($how): exit 4 naming it" \
    bash -c "test $rc = 4 && grep -qF 'd1/out/t-prod.tar: cannot replace it' imm.err"
  check "...OUT is byte-identical to before" cmp -s imm.before imm.after
  check "...and no temporary is left" no_temps d1
  if [[ $how == "chattr +i" ]]; then chattr -i d1/out/t-prod.tar; else umount d1/out/t-prod.tar; fi
else
  skip "an immutable output" "neither chattr +i nor a bind mount works here"
fi

# 8. Temporaries of dead builds: dead PID, unlocked and 10 minutes old, all three.
true &
dead=$!
wait $dead
mkdir -p d4/.out.cairn-work-$dead-fresh1 d4/.out.cairn-work-$dead-aged01 \
  d4/.out.cairn-out-$dead-locked d4/.out.cairn-work-$$-alive1
touch -d '-11 minutes' d4/.out.cairn-work-$dead-aged01 d4/.out.cairn-out-$dead-locked \
  d4/.out.cairn-work-$$-alive1
exec 9<"d4/.out.cairn-out-$dead-locked"
flock -x 9
build -o d4/out 9<&-
check "a dead build's fresh temporary is kept" test -d d4/.out.cairn-work-$dead-fresh1
check "a dead build's 10-minute-old temporary is removed" test ! -e d4/.out.cairn-work-$dead-aged01
check "an old temporary someone holds locked is kept" test -d d4/.out.cairn-out-$dead-locked
check "a live PID's old temporary is kept" test -d d4/.out.cairn-work-$$-alive1
exec 9<&-
build -o d4/out
check "...and removed once nobody holds it" test ! -e d4/.out.cairn-out-$dead-locked

# 9. Two builds in separate PID namespaces sharing OUT: each one's PID is dead in the other's
# namespace. A stops at its swap (the shim waits on a fifo) while B builds from start to end.
if ! unshare -p -f true 2>/dev/null; then
  skip_all "unshare -p -f does not work here (needs root or user namespaces)"
fi
mkdir -p d5 pause
build -o d5/out
mkfifo pause/ready pause/go
echo eight >app.txt
# A: /bin/true takes PID 2, cairn 3; in B's namespace cairn is 2 and 3 does not exist.
CAIRN_FAULT_PAUSE="$work/pause" unshare -p -f bash -c \
  '/bin/true; env ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" LD_PRELOAD="$1" "$2" build r.yaml -q -o d5/out >/dev/null; exit $?' \
  _ "$work/fault-shim.so" "$CAIRN" 2>a.err &
apid=$!
at_exit "kill $apid 2>/dev/null"
timeout 60 cat pause/ready >/dev/null
check "build A (PID namespace 1) is at its swap, its temporaries in place" \
  bash -c 'compgen -G "d5/.out.cairn-work-3-*" >/dev/null && compgen -G "d5/.out.cairn-out-3-*" >/dev/null'
rc=0
unshare -p -f bash -c '"$1" build r.yaml -q -o d5/out >/dev/null; exit $?' _ "$CAIRN" 2>b.err || rc=$?
check "build B (PID namespace 2) succeeds meanwhile" test $rc = 0
check "...and left A's temporaries alone" \
  bash -c 'compgen -G "d5/.out.cairn-work-3-*" >/dev/null && compgen -G "d5/.out.cairn-out-3-*" >/dev/null'
exec 8>pause/go
exec 8>&-
rc=0
wait $apid || rc=$?
check "build A then succeeds too" test $rc = 0
check "...OUT holds A's outputs, and no temporary is left" \
  bash -c 'tar -xOf d5/out/t-prod.tar app.txt | grep -qx eight && ! compgen -G "d5/.out.cairn-*" >/dev/null'
