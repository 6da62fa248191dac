#!/usr/bin/env bash
# cairn enforce on real Debian binaries: a renamed BusyBox is caught (also re-bannered), so are
# toybox and uutils coreutils; tini-static and catatonit pass strict, dumb-init is caught as
# dynamic; a directory, its tar (plain and gzip) and an equivalent OCI layout get the same
# verdict. OCI whiteouts are honoured.
set -euo pipefail
: "${CAIRN:?CAIRN must point at the cairn binary}"
here=$(cd "$(dirname "$0")" && pwd)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

if ! timeout 180 apt-get download busybox-static tini catatonit dumb-init toybox rust-coreutils \
  >download.log 2>&1; then
  echo "SKIP: mirror unreachable ($(grep -m1 -E '^(E|W):' download.log || tail -n1 download.log))"
  exit 77
fi
for deb in *.deb; do
  name=${deb%%_*}
  mkdir -p "pkg/$name"
  dpkg-deb -x "$deb" "pkg/$name"
done
catatonit=$(find pkg/catatonit -type f -name catatonit -perm -u+x | head -n1)

fail() { echo "FAIL: $*" >&2; exit 1; }

# make_oci OUT LAYER...: a minimal OCI layout (tests/oci-layout.sh).
source "$here/oci-layout.sh"

# Runs cairn enforce in json; prints "STATUS passed=BOOL RULE:PATH..." (the target dropped).
verdict() {
  local status=0
  "$CAIRN" enforce --format json "$@" >out.json 2>err.txt || status=$?
  if [[ $status -ne 0 && $status -ne 1 ]]; then
    cat err.txt >&2
    fail "cairn enforce $* exited $status"
  fi
  python3 - "$status" <<'PY'
import json, sys
d = json.load(open("out.json"))
assert d["schema"] == "cairn-enforce/1"
for f in d["findings"]:
    assert set(f) == {"rule", "severity", "path", "message", "evidence"}, f
print(" ".join([sys.argv[1], "passed=%s" % d["passed"]] + [f["rule"] + ":" + f["path"] for f in d["findings"]]))
PY
}

# All three forms of root $1 must give the same verdict; prints it.
same_verdict() {
  local root=$1; shift
  tar --numeric-owner -C "$root" -cf "$root.tar" .
  gzip -9nc "$root.tar" >"$root.tar.gz"
  make_oci "$root.oci" "$root.tar"
  make_oci "$root.ocigz" "$root.tar.gz"
  local a b c d e
  a=$(verdict "$root" "$@")
  b=$(verdict "$root.tar" "$@")
  c=$(verdict "$root.tar.gz" "$@")
  d=$(verdict "$root.oci" "$@")
  e=$(verdict "$root.ocigz" "$@")
  [[ "$a" == "$b" && "$a" == "$c" && "$a" == "$d" && "$a" == "$e" ]] ||
    fail "verdicts differ for $root: dir[$a] tar[$b] tgz[$c] oci[$d] oci-gzip[$e]"
  echo "$a"
}

# 1. BusyBox renamed to /app/helper, next to a legitimate static init.
mkdir -p bad/app bad/sbin
cp pkg/busybox-static/bin/busybox bad/app/helper
cp pkg/tini/usr/bin/tini-static bad/sbin/tini
v=$(same_verdict bad --allow '/sbin/*' --allow '/app/*')
echo "renamed busybox: $v"
[[ $v == "1 passed=False"* ]] || fail "renamed BusyBox not refused: $v"
[[ $v == *"CAIRN-BUSYBOX:/app/helper"* ]] || fail "no CAIRN-BUSYBOX finding: $v"
[[ $v != *"/sbin/tini"* ]] || fail "tini flagged: $v"
# Also in the dev profile, and whatever the allow list says.
v=$(verdict bad --profile dev)
[[ $v == *"CAIRN-BUSYBOX:/app/helper"* ]] || fail "dev profile misses BusyBox: $v"

# 1b. Re-bannered: every "BusyBox"/"busybox" string rewritten, plus a symlink farm. The applet
# name table still gives it away, and the links lead to a forbidden file.
mkdir -p rebranded/app rebranded/bin
python3 - pkg/busybox-static/bin/busybox rebranded/app/helper <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read()
data = re.sub(rb"(?i)busybox", lambda m: b"Xoolbox"[: len(m.group(0))], data)
assert b"BusyBox" not in data and b"busybox" not in data
open(sys.argv[2], "wb").write(data)
PY
chmod 0755 rebranded/app/helper
for applet in ls cat sh; do ln -s /app/helper "rebranded/bin/$applet"; done
v=$(same_verdict rebranded --allow '/app/*')
echo "re-bannered busybox: $v"
[[ $v == *"CAIRN-BUSYBOX:/app/helper"* ]] || fail "re-bannered BusyBox not caught: $v"
[[ $v == *"CAIRN-SYMLINK-FORBIDDEN:/bin/ls"* ]] || fail "symlink farm not caught: $v"
"$CAIRN" enforce rebranded --allow '/app/*' >report.txt || true
grep -q 'applet name table' report.txt || fail "evidence lacks the applet table: $(cat report.txt)"

# 1c. The other multi-call toolboxes, renamed.
mkdir -p toolboxes/opt
cp pkg/toybox/bin/toybox toolboxes/opt/t1
cp pkg/rust-coreutils/usr/bin/coreutils toolboxes/opt/t2
v=$(verdict toolboxes --allow '/opt/*')
echo "toolboxes: $v"
[[ $v == *"CAIRN-MULTICALL:/opt/t1"* ]] || fail "toybox not caught: $v"
[[ $v == *"CAIRN-MULTICALL:/opt/t2"* ]] || fail "uutils coreutils not caught: $v"
[[ $v != *"CAIRN-BUSYBOX"* ]] || fail "toolbox taken for BusyBox: $v"

# 2. tini-static and catatonit pass strict.
mkdir -p good/sbin
cp pkg/tini/usr/bin/tini-static good/sbin/tini
cp "$catatonit" good/sbin/catatonit
v=$(same_verdict good --allow '/sbin/*')
echo "tini-static + catatonit: $v"
[[ $v == "0 passed=True" ]] || fail "static inits should pass strict: $v"
# Without the allow list they are unlisted executables.
v=$(verdict good)
[[ $v == *"CAIRN-EXEC-UNLISTED:/sbin/tini"* ]] || fail "unlisted executable not flagged: $v"

# 3. dumb-init is dynamic.
mkdir -p dyn/usr/bin
cp pkg/dumb-init/usr/bin/dumb-init dyn/usr/bin/
v=$(same_verdict dyn --allow '/usr/bin/*')
echo "dumb-init: $v"
[[ $v == *"CAIRN-DYNAMIC:/usr/bin/dumb-init"* ]] || fail "dumb-init not caught as dynamic: $v"

# 4. Whiteouts: a later layer deleting BusyBox, or hiding /app as opaque, passes.
mkdir -p wh/app opq/app
: >wh/app/.wh.helper
: >opq/app/.wh..wh..opq
tar --numeric-owner -C wh -cf wh.tar .
tar --numeric-owner -C opq -cf opq.tar .
make_oci bad-wh.oci bad.tar wh.tar
make_oci bad-opq.oci bad.tar opq.tar
for layout in bad-wh.oci bad-opq.oci; do
  v=$(verdict "$layout" --allow '/sbin/*')
  [[ $v == "0 passed=True" ]] || fail "$layout: whiteout not honoured: $v"
done
v=$(verdict bad.oci --image latest --allow '/sbin/*' --allow '/app/*')
[[ $v == *"CAIRN-BUSYBOX:/app/helper"* ]] || fail "--image latest: $v"

# 5. A tampered blob is refused, not silently checked.
cp -r bad.oci tampered.oci
for blob in tampered.oci/blobs/sha256/*; do
  if tar -tf "$blob" >/dev/null 2>&1; then echo junk >>"$blob"; fi
done
status=0
"$CAIRN" enforce tampered.oci >/dev/null 2>err.txt || status=$?
[[ $status -ne 0 && $status -ne 1 ]] || fail "tampered layout: exit $status"
grep -q "does not match its digest" err.txt || fail "tampered layout: $(cat err.txt)"

echo "e2e-enforce-debian: ok"
