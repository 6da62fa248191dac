#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The build context (issue 19): artifacts come only from beneath the recipe's directory, its
# context:, or --context. Every form of src that would reach the build machine (an absolute
# path, '..', /proc, a symlink out of the context, absolute or relative, a symlinked directory,
# a chain of symlinks) is refused at FILE:LINE:COLUMN with exit 2 and nothing of the host
# reaches the image; symlinks that stay inside keep working. A pinned artifact rewritten
# while it is read either fails the pin or ships the pinned bytes. A recipe or lock file that
# is a fifo, a directory or /proc/kmsg is refused at once (exit 2). Needs no network.
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools cc

export CAIRN_TEST_ENV_SECRET="ENVSECRET-$RANDOM$RANDOM"
secret="FILESECRET-$RANDOM$RANDOM"
mkdir -p proj/sub proj/ctx/inner proj/tree outside
echo "$secret" >outside/secret.txt
echo "$secret" >secret.txt
echo "real bytes" >proj/real.txt
echo "in the context" >proj/ctx/inner/file.txt
ln -s real.txt proj/in-link            # stays inside: allowed
ln -s ../real.txt proj/sub/up-link     # stays inside: allowed
ln -s "$work/secret.txt" proj/abs-link # absolute: leaves
ln -s ../secret.txt proj/rel-link      # relative, climbs out
ln -s ../../secret.txt proj/sub/rel2   # from a subdirectory, climbs out
ln -s "$work/outside" proj/dir-link    # a directory outside
ln -s /proc/self/environ proj/env-link # the build's environment
ln -s hop1 proj/chain                  # a chain whose last hop leaves
ln -s sub/hop2 proj/hop1
ln -s ../rel-link proj/sub/hop2
ln -s "$work" proj/ctx-out             # a context: that leaves
ln -s "$work/secret.txt" proj/tree/abs # inside a directory artifact: an image path
cd proj

recipe() { # NAME [TOP-LEVEL-LINE] ARTIFACT-LINE...: artifacts at line 5
  local name=$1 top=$2
  shift 2
  { printf 'recipe: 1\nname: %s\nepoch: 0\n%s\nartifacts:\n' "$name" "${top:-# no context}"
    printf '  - %s\n' "$@"
    printf 'variants:\n  prod: { policy: dev }\n'; } >"$name.yaml"
}
# refused WHAT NAME POSITION PATTERN [OPTIONS...]: exit 2, the position and PATTERN in the
# message, no OUT, and the secrets nowhere under the work directory but where they were put.
refused() {
  local what=$1 name=$2 pos=$3 pattern=$4 rc=0
  shift 4
  "$CAIRN" build "$name.yaml" -o "out-$name" -q "$@" >/dev/null 2>"$name.err" || rc=$?
  check "$what: exit 2" test "$rc" = 2
  check "$what: refused at $name.yaml:$pos" grep -qF -- "$name.yaml:$pos: " "$name.err"
  check "$what: the message says why ($pattern)" grep -qF -- "$pattern" "$name.err"
  check "$what: no OUT" test ! -e "out-$name"
}
leaves="leaves the build context"

recipe abs '' '{ src: /etc/shadow, dest: /x }'
refused "absolute src" abs 6:12 "must be a relative path"
recipe proc '' '{ src: /proc/self/environ, dest: /x }'
refused "/proc/self/environ" proc 6:12 "must be a relative path"
recipe dotdot '' '{ src: ../secret.txt, dest: /x }'
refused "src with '..'" dotdot 6:12 "contains '..'"
recipe dotdot2 '' '{ src: sub/../../secret.txt, dest: /x }'
refused "src with '..' in the middle" dotdot2 6:12 "contains '..'"
recipe abslink '' '{ src: abs-link, dest: /x }'
refused "a symlink with an absolute target" abslink 6:5 "$leaves"
recipe rellink '' '{ src: rel-link, dest: /x }'
refused "a relative symlink out" rellink 6:5 "$leaves"
recipe rel2 '' '{ src: sub/rel2, dest: /x }'
refused "a relative symlink out of a subdirectory" rel2 6:5 "$leaves"
recipe dirlink '' '{ src: dir-link, dest: /x }'
refused "a symlinked directory outside" dirlink 6:5 "$leaves"
recipe dirlink2 '' '{ src: dir-link/secret.txt, dest: /x }'
refused "a file through a symlinked directory outside" dirlink2 6:5 "$leaves"
recipe envlink '' '{ src: env-link, dest: /x }'
refused "a symlink to /proc/self/environ" envlink 6:5 "$leaves"
recipe chain '' '{ src: chain, dest: /x }'
refused "a chain of symlinks whose last hop leaves" chain 6:5 "$leaves"
recipe ctxabs 'context: /' '{ src: etc/shadow, dest: /x }'
refused "context: absolute" ctxabs 4:10 "must be a relative path"
recipe ctxup 'context: ..' '{ src: secret.txt, dest: /x }'
refused "context: '..'" ctxup 4:10 "contains '..'"
recipe ctxlink 'context: ctx-out' '{ src: secret.txt, dest: /x }'
refused "context: a symlink out of the recipe's directory" ctxlink 4:10 \
  "leaves the recipe's directory"
recipe ctxesc 'context: ctx' '{ src: ../real.txt, dest: /x }'
refused "src '..' out of a context:" ctxesc 6:12 "contains '..'"
check "the build's environment and the planted file reach no output" \
  bash -c "! grep -rqsF -e '$secret' -e '$CAIRN_TEST_ENV_SECRET' out-* ../out-* 2>/dev/null"

# What stays inside keeps working.
recipe inside '' '{ src: in-link, dest: /a }' '{ src: sub/up-link, dest: /b }' \
  '{ src: real.txt, dest: /c }' '{ src: tree, dest: /d }'
rc=0
"$CAIRN" build inside.yaml -o out-inside -q >/dev/null 2>inside.err || rc=$?
check "symlinks that stay inside the context are followed (exit 0)" test "$rc" = 0
check "...and ship the file they point at" \
  bash -c 'test "$(tar -xOf out-inside/inside-prod.tar a b c)" = "real bytes
real bytes
real bytes"'
check "a directory's symlinks stay symlinks (never followed on the build machine)" \
  bash -c "tar -tvf out-inside/inside-prod.tar | grep -q 'd/abs -> $work/secret.txt'"
check "...and nothing behind them is read" \
  bash -c "! tar -xOf out-inside/inside-prod.tar | grep -qF '$secret'"
if command -v strace >/dev/null; then
  # LeakSanitizer cannot run under ptrace (it stops the process itself): no leak check here.
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    strace -f -qq -e trace=openat2 -o strace.txt "$CAIRN" build inside.yaml -o out-strace -q >/dev/null
  check "every src is opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) (strace)" \
    test "$(grep -c 'openat2(.*resolve=RESOLVE_NO_MAGICLINKS|RESOLVE_BENEATH}' strace.txt)" = 4
else
  skip "openat2 seen by strace" "strace is not installed (ci/bootstrap installs it)"
fi
recipe ctx 'context: ctx' '{ src: inner/file.txt, dest: /f }'
"$CAIRN" build ctx.yaml -o out-ctx -q >/dev/null
check "context: relative to the recipe's directory" \
  test "$(tar -xOf out-ctx/ctx-prod.tar f)" = "in the context"
recipe cli '' '{ src: secret.txt, dest: /f }'
"$CAIRN" build cli.yaml -o out-cli -q --context "$work/outside" >/dev/null
check "--context DIR from the command line may be any directory" \
  test "$(tar -xOf out-cli/cli-prod.tar f)" = "$secret"
refused "--context: a src symlink out of it" abslink 6:5 "$leaves" --context "$work/proj"

# The pin is checked on the bytes that ship: the file is rewritten right after cairn's first
# read of it (tests/fault-shim.c), the moment a pin checked on one read and a copy made from a
# second would ship unpinned bytes.
cc -shared -fPIC -o "$work/fault-shim.so" "$tests_dir/fault-shim.c" -ldl
shim() { env ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" LD_PRELOAD="$work/fault-shim.so" "$@"; }
printf 'pinned bytes\n' >pinned.txt
printf 'evil!! bytes\n' >evil.txt
pin=$(sha256sum <pinned.txt | cut -d' ' -f1)
cp pinned.txt app.txt
recipe pin '' "{ src: app.txt, dest: /app, sha256: $pin }"
rc=0
CAIRN_FAULT_REWRITE="$work/proj/app.txt" CAIRN_FAULT_REWRITE_WITH="$work/proj/evil.txt" \
  shim "$CAIRN" build pin.yaml -o out-pin -q >/dev/null 2>pin.err || rc=$?
check "the artifact was rewritten during the build" cmp -s app.txt evil.txt
if [[ $rc == 0 ]]; then
  check "a pinned artifact rewritten while read: the pinned bytes ship" \
    bash -c 'tar -xOf out-pin/pin-prod.tar app | cmp -s - pinned.txt'
else
  check "a pinned artifact rewritten while read: the pin fails (exit 2)" \
    bash -c "test $rc = 2 && grep -q 'sha256 mismatch' pin.err && test ! -e out-pin"
fi
cp pinned.txt app2.txt
recipe pin2 '' "{ src: app2.txt, dest: /app, sha256: $pin }"
cp evil.txt app2.txt
rc=0
"$CAIRN" build pin2.yaml -o out-pin2 -q >/dev/null 2>pin2.err || rc=$?
check "a changed pinned artifact fails the pin (exit 2) at its position" \
  bash -c "test $rc = 2 && grep -qF 'pin2.yaml:6:5: error: artifact app2.txt: sha256 mismatch' pin2.err"
# An archive is pinned the same way, on the stored bytes it is unpacked from.
mkdir -p arch && echo "archived" >arch/f
tar -C arch -cf arch.tar f
apin=$(sha256sum <arch.tar | cut -d' ' -f1)
recipe apin '' "{ src: arch.tar, dest: /t, sha256: $apin }"
"$CAIRN" build apin.yaml -o out-apin -q >/dev/null
check "a pinned archive is unpacked from the bytes that were checked" \
  test "$(tar -xOf out-apin/apin-prod.tar t/f)" = "archived"

# The recipe and the lock file: regular files only, refused at once.
mkfifo fifo.yaml
rc=0
start=$(date +%s%N)
timeout 20 "$CAIRN" build fifo.yaml -o out-fifo -q >/dev/null 2>fifo.err || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "a fifo recipe: exit 2" test "$rc" = 2
check "a fifo recipe: returns within a second (${ms} ms)" test "$ms" -lt 1000
check "a fifo recipe: the message says why" grep -q "not a regular file" fifo.err
rc=0
timeout 20 "$CAIRN" check fifo.yaml >/dev/null 2>fifo-check.err || rc=$?
check "cairn check of a fifo recipe: exit 2 at once" test "$rc" = 2
if [[ -r /proc/kmsg ]]; then
  rc=0
  timeout 20 "$CAIRN" check /proc/kmsg >/dev/null 2>kmsg.err || rc=$?
  check "/proc/kmsg as a recipe: exit 2, never a wait" test "$rc" = 2
else
  skip "/proc/kmsg as a recipe" "/proc/kmsg is not readable here"
fi
rc=0
"$CAIRN" check sub >/dev/null 2>dir.err || rc=$?
check "a directory as a recipe: exit 2" test "$rc" = 2
printf 'recipe: 1\nname: nolock\nsources:\n  - { name: x, url: "file:///nonexistent", suite: s, trusted: true }\nutilities:\n  - { package: tool, files: { /t: /t } }\n' >nolock.yaml
mkfifo nolock.lock.json
rc=0
timeout 20 "$CAIRN" build nolock.yaml -o out-nolock -q >/dev/null 2>nolock.err || rc=$?
check "a fifo lock file: exit 2 at once" test "$rc" = 2
check "a fifo lock file: the message names it" grep -q "nolock.lock.json: the lock file is not a regular file" nolock.err
