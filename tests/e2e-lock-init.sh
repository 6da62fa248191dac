#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cairn-init as a pinned input (issue 25): a recipe whose variant runs cairn-init gets a lock
# file that pins cairn-init's SHA-256 (also without any Debian package); --locked refuses
# another cairn-init and names both digests and --init-binary; the pinned one builds the same
# bytes from anywhere; `cairn lock` and an unlocked build move the pin and say so; --check sees
# a different cairn-init; an old lock without the pin is refused under --locked.
#   CAIRN, CAIRN_INIT
. "$(dirname "$0")/lib.sh"
need_env CAIRN CAIRN_INIT
need_tools cc python3 sha256sum

mkdir -p "$work/r"
static_hello "$work/r/svc"
cat >"$work/r/svc.yaml" <<'EOF2'
recipe: 1
name: svc
epoch: 1700000000
artifacts:
  - { src: svc, dest: /app/svc }
run:
  entrypoint: [/app/svc]
variants:
  dev: { policy: dev }
  prod:
    policy: strict
    run: { init: cairn-init }
EOF2
lock=$work/r/svc.lock.json
pinned=$work/pinned-init
cp "$CAIRN_INIT" "$pinned"
# Another cairn-init: the same program with one byte more (what another toolchain gives).
other=$work/other-init
cp "$CAIRN_INIT" "$other"
printf '\0' >>"$other"
pin=sha256:$(sha256sum <"$pinned" | cut -d' ' -f1)
otherpin=sha256:$(sha256sum <"$other" | cut -d' ' -f1)

"$CAIRN" lock "$work/r/svc.yaml" --init-binary "$pinned" >"$work/lock.out" 2>&1
check "cairn lock pins cairn-init although the recipe has no Debian package" \
  python3 -c 'import json,sys; l=json.load(open(sys.argv[1])); assert l["cairn-init"] == sys.argv[2], l; assert l["packages"] == []' "$lock" "$pin"
check "...and says so" grep -q "+ cairn-init $pin" "$work/lock.out"
cp "$lock" "$work/lock.v1"

"$CAIRN" build "$work/r/svc.yaml" -o "$work/out1" --locked --init-binary "$pinned" -q >/dev/null
check "--locked with the pinned cairn-init builds" test -f "$work/out1/svc-prod.tar"
check "...and installs exactly those bytes" bash -c "tar -xOf '$work/out1/svc-prod.tar' sbin/cairn-init | cmp - '$pinned'"
check "...and leaves the lock as it was" cmp -s "$lock" "$work/lock.v1"

rc=0
CAIRN_INIT_BINARY=$other "$CAIRN" build "$work/r/svc.yaml" -o "$work/out2" --locked -q >/dev/null 2>"$work/err" || rc=$?
check "--locked with another cairn-init: exit 2" test "$rc" = 2
check "...naming both digests" bash -c "grep -q -- '$otherpin' '$work/err' && grep -q -- '$pin' '$work/err'"
check "...and how to pin one (--init-binary)" grep -q -- "--init-binary" "$work/err"
check "...writing nothing" test ! -e "$work/out2"
check "...and leaving the lock" cmp -s "$lock" "$work/lock.v1"

exits 1 "$CAIRN" lock "$work/r/svc.yaml" --init-binary "$other" --check >"$work/check.out" 2>&1
check "cairn lock --check: another cairn-init is a change (exit 1)" grep -q "~ cairn-init $pin -> $otherpin" "$work/check.out"
check "...and writes nothing" cmp -s "$lock" "$work/lock.v1"
check "cairn lock --check with the pinned one: up to date" quiet "$CAIRN" lock "$work/r/svc.yaml" --init-binary "$pinned" --check

# The pinned cairn-init from elsewhere (another directory, the environment): the same bytes.
mkdir -p "$work/elsewhere/deeper"
cp "$pinned" "$work/elsewhere/deeper/cairn-init"
CAIRN_INIT_BINARY=$work/elsewhere/deeper/cairn-init "$CAIRN" build "$work/r/svc.yaml" -o "$work/out3" --locked -q >/dev/null
check "the pinned cairn-init from another place: the same bytes" diff -r "$work/out1" "$work/out3"

# Without --locked a different cairn-init moves the pin and the build says so.
"$CAIRN" build "$work/r/svc.yaml" -o "$work/out4" --init-binary "$other" >/dev/null 2>"$work/err4"
check "an unlocked build with another cairn-init updates the pin" grep -q "\"cairn-init\": \"$otherpin\"" "$lock"
check "...and says so" grep -q "lock:   ~ cairn-init $pin -> $otherpin" "$work/err4"
"$CAIRN" lock "$work/r/svc.yaml" --init-binary "$pinned" -q
check "cairn lock moves it back" cmp -s "$lock" "$work/lock.v1"

# A lock written before cairn-init was pinned: refused under --locked, with the fix.
python3 -c 'import json,sys; l=json.load(open(sys.argv[1])); del l["cairn-init"]; json.dump(l, open(sys.argv[1], "w"), indent=2)' "$lock"
rc=0
"$CAIRN" build "$work/r/svc.yaml" -o "$work/out5" --locked --init-binary "$pinned" -q >/dev/null 2>"$work/err5" || rc=$?
check "--locked with a lock that pins no cairn-init: exit 2, naming cairn lock" \
  bash -c "test $rc = 2 && grep -q 'pins no cairn-init' '$work/err5' && grep -q \"cairn lock\" '$work/err5'"

# A malformed pin is a lock error with its position.
python3 -c 'import json,sys; l=json.load(open(sys.argv[1])); l["cairn-init"] = "sha256:xyz"; json.dump(l, open(sys.argv[1], "w"), indent=2)' "$lock"
rc=0
"$CAIRN" build "$work/r/svc.yaml" -o "$work/out6" --init-binary "$pinned" -q >/dev/null 2>"$work/err6" || rc=$?
check "a malformed cairn-init pin: exit 2 with its line" \
  bash -c "test $rc = 2 && grep -q 'svc.lock.json:[0-9]*:[0-9]*: error: cairn-init' '$work/err6'"

# A recipe that runs no cairn-init gets no pin (and no lock without Debian packages).
sed '/init: cairn-init/d; s/run: { init: cairn-init }//' "$work/r/svc.yaml" >"$work/r/plain.yaml"
sed -i 's/^name: svc/name: plain/' "$work/r/plain.yaml"
"$CAIRN" build "$work/r/plain.yaml" -o "$work/out7" -q >/dev/null
check "no cairn-init, no Debian package: no lock file" test ! -e "$work/r/plain.lock.json"
