#!/usr/bin/env bash
# cairn enforce's command line: exit statuses, the three report formats, --list-rules,
# --disable, --profile, and no false positive on a static program that mentions BusyBox or a
# data file that starts with the ELF magic.
set -euo pipefail
: "${CAIRN:?CAIRN must point at the cairn binary}"
here=$(cd "$(dirname "$0")" && pwd)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "FAIL: $*" >&2; exit 1; }

run() { # run EXPECTED_STATUS ARGS...: runs cairn enforce, checks the status
  local want=$1; shift
  local status=0
  "$CAIRN" enforce "$@" >out.txt 2>err.txt || status=$?
  [[ $status -eq $want ]] || { cat out.txt err.txt >&2; fail "enforce $* exited $status, want $want"; }
}

if ! printf '#include <stdio.h>\nint main(void){puts("like busybox, but BusyBox v0 free");return 0;}\n' |
  ${CC:-cc} -static -x c -o hello - 2>cc.log; then
  echo "SKIP: no static libc to link a test program ($(tail -n1 cc.log))"
  exit 77
fi

mkdir -p root/app root/data root/tmp
cp hello root/app/hello
printf '\177ELF this is only data\n' >root/data/blob
chmod 0644 root/data/blob
chmod 1777 root/tmp

# Usage and I/O errors.
run 2 root --format yaml
run 2 root --profile lax
run 2 root --disable CAIRN-NOPE
run 2
run 2 root --image x
run 2 "$tmp/does-not-exist"
head -c 100 hello | gzip -c | head -c 30 >broken.tar.gz
run 4 broken.tar.gz
run 0 --list-rules
grep -q '^CAIRN-BUSYBOX ' out.txt || fail "--list-rules: $(cat out.txt)"
[[ $(grep -c '^CAIRN-' out.txt) -ge 19 ]] || fail "--list-rules lists too few rules"

# A static program that mentions BusyBox passes once allowed; the data file is no executable.
run 1 root
grep -q 'CAIRN-EXEC-UNLISTED' out.txt || fail "unlisted executable: $(cat out.txt)"
run 0 root --allow '/app/*'
grep -q 'pass (strict)' out.txt || fail "text headline: $(cat out.txt)"
run 0 root --disable CAIRN-EXEC-UNLISTED
# Any compression libarchive reads gives the same verdict as the directory.
for z in gzip xz zstd bzip2; do
  if command -v "$z" >/dev/null; then
    tar --numeric-owner -C root -cf - . | "$z" -c >"root.tar.$z"
    run 0 "root.tar.$z" --allow '/app/*'
    run 1 "root.tar.$z"
  fi
done

# Findings in every format.
cp hello root/app/sh          # a shell by name
chmod 4755 root/app/sh        # and setuid
ln -s ../../../etc/passwd root/app/escape
mkfifo root/tmp/fifo
run 1 root --allow '/app/*'
grep -q '^CAIRN-SHELL (error)' out.txt || fail "text report not grouped by rule: $(cat out.txt)"
grep -q '  - /app/sh' out.txt || fail "text report lacks the path"
run 1 root --allow '/app/*' --format json
python3 - <<'PY' || fail "json report"
import json
d = json.load(open("out.txt"))
assert d["schema"] == "cairn-enforce/1" and d["profile"] == "strict" and d["passed"] is False
rules = {(f["rule"], f["path"]) for f in d["findings"]}
want = {("CAIRN-SHELL", "/app/sh"), ("CAIRN-SETUID", "/app/sh"),
        ("CAIRN-SYMLINK-ESCAPE", "/app/escape"), ("CAIRN-SPECIAL-FILE", "/tmp/fifo")}
assert want <= rules, rules
assert d["errors"] == len(d["findings"]) and d["warnings"] == 0
for f in d["findings"]:
    assert f["severity"] == "error" and f["message"] and f["evidence"] is not None
PY
run 1 root --allow '/app/*' --format sarif
python3 - <<'PY' || fail "sarif report"
import json
d = json.load(open("out.txt"))
assert d["version"] == "2.1.0" and "sarif-2.1.0" in d["$schema"]
run, = d["runs"]
drv = run["tool"]["driver"]
assert drv["name"] == "cairn" and drv["version"]
ids = [r["id"] for r in drv["rules"]]
assert len(ids) == len(set(ids)) and "CAIRN-BUSYBOX" in ids
for r in run["results"]:
    assert r["ruleId"] in ids and ids[r["ruleIndex"]] == r["ruleId"]
    assert r["level"] in ("error", "warning") and r["message"]["text"]
    uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert not uri.startswith("/")
assert {"app/sh", "tmp/fifo"} <= {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
PY

# dev flags setuid but neither shells nor fifos.
run 1 root --profile dev --format json
python3 - <<'PY' || fail "dev profile"
import json
d = json.load(open("out.txt"))
assert {f["rule"] for f in d["findings"]} == {"CAIRN-SETUID"}, d["findings"]
PY
chmod 0755 root/app/sh
run 0 root --profile dev

# Tars made member by member: hardlinks share content, special bits and device nodes survive,
# a member climbing out with '..' is refused.
python3 - "$tmp/hello" <<'PY'
import io, tarfile, sys
data = open(sys.argv[1], "rb").read()
def add(t, name, **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    t.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
with tarfile.open("crafted.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "./app/", type=tarfile.DIRTYPE, mode=0o755)
    add(t, "./app/hello", size=len(data), mode=0o4755)
    add(t, "./bin/sh", type=tarfile.LNKTYPE, linkname="./app/hello", mode=0o755)
    add(t, "./dev/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666)
with tarfile.open("evil.tar", "w") as t:
    add(t, "app/../../etc/passwd", size=len(data), mode=0o644)
PY
run 1 crafted.tar --allow '/*' --format json
python3 - <<'PY' || fail "crafted tar: $(cat out.txt)"
import json
d = json.load(open("out.txt"))
got = {(f["rule"], f["path"]) for f in d["findings"]}
want = {("CAIRN-SETUID", "/app/hello"), ("CAIRN-SHELL", "/bin/sh"), ("CAIRN-DEVICE", "/dev/null")}
assert want <= got, got
PY
run 2 evil.tar
grep -q "'..'" err.txt || fail "evil tar: $(cat err.txt)"

# The host's own shells (dash and bash are essential on Debian), renamed, are shells by content.
mkdir -p shells/opt
cp "$(readlink -f /bin/dash)" shells/opt/a
cp "$(readlink -f /bin/bash)" shells/opt/b
run 1 shells --allow '/opt/*' --format json
python3 - <<'PY' || fail "renamed shells: $(cat out.txt)"
import json
d = json.load(open("out.txt"))
got = {(f["rule"], f["path"]) for f in d["findings"]}
assert {("CAIRN-SHELL", "/opt/a"), ("CAIRN-SHELL", "/opt/b")} <= got, got
PY

# OCI layers: an opaque directory hides the lower layer's content but not its own layer's.
source "$here/oci-layout.sh"
mkdir -p lower/app upper/app
cp hello lower/app/old
cp hello upper/app/new
: >upper/app/.wh..wh..opq
tar --numeric-owner -C lower -cf lower.tar .
tar --numeric-owner -C upper -cf upper.tar .
make_oci layered lower.tar upper.tar
run 1 layered --format json
python3 - <<'PY' || fail "opaque layer: $(cat out.txt)"
import json
d = json.load(open("out.txt"))
paths = {f["path"] for f in d["findings"] if f["rule"] == "CAIRN-EXEC-UNLISTED"}
assert paths == {"/app/new"}, paths
PY

echo "e2e-enforce-cli: ok"
