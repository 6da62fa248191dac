#!/usr/bin/env bash
# cairn enforce on real Debian binaries: a renamed BusyBox is caught (also re-bannered), so are
# toybox and uutils coreutils; tini-static and catatonit pass strict, dumb-init is caught as
# dynamic; a directory, its tar (plain and gzip) and an equivalent OCI layout get the same
# verdict. OCI whiteouts are honoured.
. "$(dirname "$0")/lib.sh"
need_env CAIRN

apt_download busybox-static tini catatonit dumb-init toybox rust-coreutils
for deb in *.deb; do
  name=${deb%%_*}
  mkdir -p "pkg/$name"
  dpkg-deb -x "$deb" "pkg/$name"
done
catatonit=$(find pkg/catatonit -type f -name catatonit -perm -u+x | head -n1)

# Runs cairn enforce in json; prints "STATUS passed=BOOL RULE:PATH..." (the target dropped).
# Fails (and so stops the test) when cairn enforce exits with neither 0 nor 1.
verdict() {
  local status=0
  "$CAIRN" enforce --format json "$@" >out.json 2>err.txt || status=$?
  if [[ $status -ne 0 && $status -ne 1 ]]; then
    cat err.txt >&2
    echo "cairn enforce $* exited $status" >&2
    return 1
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

# same_verdict ROOT ARGS...: the directory ROOT, its tar (plain and gzip) and OCI layouts of
# both must get the same verdict; sets v to it.
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
  check "$root: the directory, its tar, tar.gz and OCI layouts get the same verdict" \
    test "$a" = "$b" -a "$a" = "$c" -a "$a" = "$d" -a "$a" = "$e"
  [[ "$a" == "$b" && "$a" == "$c" && "$a" == "$d" && "$a" == "$e" ]] ||
    diag "verdicts differ for $root: dir[$a] tar[$b] tgz[$c] oci[$d] oci-gzip[$e]"
  v=$a
}

# 1. BusyBox renamed to /app/helper, next to a legitimate static init.
mkdir -p bad/app bad/sbin
cp pkg/busybox-static/bin/busybox bad/app/helper
cp pkg/tini/usr/bin/tini-static bad/sbin/tini
same_verdict bad --allow '/sbin/*' --allow '/app/*'
diag "renamed busybox: $v"
check "renamed BusyBox refused" matches "$v" "1 passed=False*"
check "renamed BusyBox: a CAIRN-BUSYBOX finding" matches "$v" "*CAIRN-BUSYBOX:/app/helper*"
check "renamed BusyBox: tini not flagged" not matches "$v" "*/sbin/tini*"
# Also in the dev profile, and whatever the allow list says.
v=$(verdict bad --profile dev)
check "the dev profile catches BusyBox too" matches "$v" "*CAIRN-BUSYBOX:/app/helper*"

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
same_verdict rebranded --allow '/app/*'
diag "re-bannered busybox: $v"
check "re-bannered BusyBox caught" matches "$v" "*CAIRN-BUSYBOX:/app/helper*"
check "the symlink farm caught" matches "$v" "*CAIRN-SYMLINK-FORBIDDEN:/bin/ls*"
rc=0
"$CAIRN" enforce rebranded --allow '/app/*' >report.txt || rc=$?
check "the text report: exit 1 (a policy violation)" test $rc = 1
check "the evidence names the applet name table" grep -q 'applet name table' report.txt

# 1c. The other multi-call toolboxes, renamed.
mkdir -p toolboxes/opt
cp pkg/toybox/bin/toybox toolboxes/opt/t1
cp pkg/rust-coreutils/usr/bin/coreutils toolboxes/opt/t2
v=$(verdict toolboxes --allow '/opt/*')
diag "toolboxes: $v"
check "toybox caught" matches "$v" "*CAIRN-MULTICALL:/opt/t1*"
check "uutils coreutils caught" matches "$v" "*CAIRN-MULTICALL:/opt/t2*"
check "no toolbox taken for BusyBox" not matches "$v" "*CAIRN-BUSYBOX*"

# 2. tini-static and catatonit pass strict.
mkdir -p good/sbin
cp pkg/tini/usr/bin/tini-static good/sbin/tini
cp "$catatonit" good/sbin/catatonit
same_verdict good --allow '/sbin/*'
diag "tini-static + catatonit: $v"
check "the static inits pass strict" test "$v" = "0 passed=True"
# Without the allow list they are unlisted executables.
v=$(verdict good)
check "without the allow list: an unlisted executable" matches "$v" "*CAIRN-EXEC-UNLISTED:/sbin/tini*"

# 3. dumb-init is dynamic.
mkdir -p dyn/usr/bin
cp pkg/dumb-init/usr/bin/dumb-init dyn/usr/bin/
same_verdict dyn --allow '/usr/bin/*'
diag "dumb-init: $v"
check "dumb-init caught as dynamic" matches "$v" "*CAIRN-DYNAMIC:/usr/bin/dumb-init*"

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
  check "$layout: the whiteout is honoured" test "$v" = "0 passed=True"
done
v=$(verdict bad.oci --image latest --allow '/sbin/*' --allow '/app/*')
check "--image latest: BusyBox caught" matches "$v" "*CAIRN-BUSYBOX:/app/helper*"

# 5. A tampered blob is refused, not silently checked.
cp -r bad.oci tampered.oci
for blob in tampered.oci/blobs/sha256/*; do
  if tar -tf "$blob" >/dev/null 2>&1; then echo junk >>"$blob"; fi
done
status=0
"$CAIRN" enforce tampered.oci >/dev/null 2>err.txt || status=$?
check "tampered layout: refused (exit neither 0 nor 1)" test $status -ne 0 -a $status -ne 1
check "tampered layout: the blob does not match its digest" grep -q "does not match its digest" err.txt
