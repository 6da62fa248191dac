#!/usr/bin/env bash
# cairn enforce's command line: exit statuses, the three report formats, --list-rules,
# --disable, --profile, and no false positive on a static program that mentions BusyBox or a
# data file that starts with the ELF magic.
. "$(dirname "$0")/lib.sh"
need_env CAIRN

run() { # run EXPECTED_STATUS ARGS...: runs cairn enforce, succeeds when it exits with the status
  local want=$1; shift
  local status=0
  "$CAIRN" enforce "$@" >out.txt 2>err.txt || status=$?
  [[ $status -eq $want ]] || { cat out.txt err.txt >&2; echo "# enforce $* exited $status, want $want" >&2; return 1; }
}

if ! static_hello hello "like busybox, but BusyBox v0 free" 2>cc.log; then
  skip_all "no static libc to link a test program ($(tail -n1 cc.log))"
fi

mkdir -p root/app root/data root/tmp
cp hello root/app/hello
printf '\177ELF this is only data\n' >root/data/blob
chmod 0644 root/data/blob
chmod 1777 root/tmp

# Usage and I/O errors.
check "enforce root --format yaml: exit 2" run 2 root --format yaml
check "enforce root --profile lax: exit 2" run 2 root --profile lax
check "enforce root --disable CAIRN-NOPE: exit 2" run 2 root --disable CAIRN-NOPE
check "enforce without arguments: exit 2" run 2
check "enforce root --image x: exit 2" run 2 root --image x
check "enforce a missing path: exit 2" run 2 "$work/does-not-exist"
head -c 100 hello | gzip -c | head -c 30 >broken.tar.gz
check "enforce broken.tar.gz: exit 4" run 4 broken.tar.gz
check "enforce --list-rules: exit 0" run 0 --list-rules
check "--list-rules lists CAIRN-BUSYBOX" grep -q '^CAIRN-BUSYBOX ' out.txt
check "--list-rules lists at least 19 rules" test "$(grep -c '^CAIRN-' out.txt)" -ge 19

# A static program that mentions BusyBox passes once allowed; the data file is no executable.
check "enforce root: exit 1" run 1 root
check "unlisted executable reported" grep -q 'CAIRN-EXEC-UNLISTED' out.txt
check "enforce root --allow '/app/*': exit 0" run 0 root --allow '/app/*'
check "text headline: pass (strict)" grep -q 'pass (strict)' out.txt
check "enforce root --disable CAIRN-EXEC-UNLISTED: exit 0" run 0 root --disable CAIRN-EXEC-UNLISTED
# Any compression libarchive reads gives the same verdict as the directory.
for z in gzip xz zstd bzip2; do
  if command -v "$z" >/dev/null; then
    tar --numeric-owner -C root -cf - . | "$z" -c >"root.tar.$z"
    check "enforce root.tar.$z --allow '/app/*': exit 0" run 0 "root.tar.$z" --allow '/app/*'
    check "enforce root.tar.$z: exit 1" run 1 "root.tar.$z"
  fi
done

# Findings in every format.
cp hello root/app/sh          # a shell by name
chmod 4755 root/app/sh        # and setuid
ln -s ../../../etc/passwd root/app/escape
mkfifo root/tmp/fifo
check "enforce root --allow '/app/*': exit 1" run 1 root --allow '/app/*'
check "text report grouped by rule" grep -q '^CAIRN-SHELL (error)' out.txt
check "text report names the path" grep -q '  - /app/sh' out.txt
check "enforce root --allow '/app/*' --format json: exit 1" run 1 root --allow '/app/*' --format json
check "json report" python3 - <<'PY'
import json
d = json.load(open("out.txt"))
assert d["schema"] == "cairn-enforce/1" and d["profile"] == "strict" and d["passed"] is False
rules = {(f["rule"], f["path"]) for f in d["findings"]}
want = {("CAIRN-SHELL", "/app/sh"), ("CAIRN-SETUID", "/app/sh"),
        ("CAIRN-SYMLINK-ESCAPE", "/app/escape"), ("CAIRN-SPECIAL-FILE", "/tmp/fifo")}
assert want <= rules, rules
# The data file that only starts with the ELF magic is the one warning (issue 16).
assert d["errors"] == len(d["findings"]) - 1 and d["warnings"] == 1
for f in d["findings"]:
    want_sev = "warning" if f["path"] == "/data/blob" else "error"
    assert f["severity"] == want_sev and f["message"] and f["evidence"] is not None, f
    if f["path"] == "/data/blob":
        assert f["rule"] == "CAIRN-ELF-MALFORMED", f
PY
check "enforce root --allow '/app/*' --format sarif: exit 1" run 1 root --allow '/app/*' --format sarif
check "sarif report" python3 - <<'PY'
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
check "enforce root --profile dev --format json: exit 1" run 1 root --profile dev --format json
check "dev profile: only CAIRN-SETUID" python3 - <<'PY'
import json
d = json.load(open("out.txt"))
assert {f["rule"] for f in d["findings"]} == {"CAIRN-SETUID"}, d["findings"]
PY
chmod 0755 root/app/sh
check "enforce root --profile dev: exit 0" run 0 root --profile dev

# Tars made member by member: hardlinks share content, special bits and device nodes survive,
# a member climbing out with '..' is refused.
python3 - "$work/hello" <<'PY'
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
check "enforce crafted.tar --allow '/*' --format json: exit 1" run 1 crafted.tar --allow '/*' --format json
check "crafted tar: setuid, shell by hardlink, device" python3 - <<'PY'
import json
d = json.load(open("out.txt"))
got = {(f["rule"], f["path"]) for f in d["findings"]}
want = {("CAIRN-SETUID", "/app/hello"), ("CAIRN-SHELL", "/bin/sh"), ("CAIRN-DEVICE", "/dev/null")}
assert want <= got, got
PY
check "enforce evil.tar: exit 2" run 2 evil.tar
check "evil tar: the message names '..'" grep -q "'..'" err.txt

# The host's own shells (dash and bash are essential on Debian), renamed, are shells by content.
mkdir -p shells/opt
cp "$(readlink -f /bin/dash)" shells/opt/a
cp "$(readlink -f /bin/bash)" shells/opt/b
check "enforce shells --allow '/opt/*' --format json: exit 1" run 1 shells --allow '/opt/*' --format json
check "renamed shells are shells by content" python3 - <<'PY'
import json
d = json.load(open("out.txt"))
got = {(f["rule"], f["path"]) for f in d["findings"]}
assert {("CAIRN-SHELL", "/opt/a"), ("CAIRN-SHELL", "/opt/b")} <= got, got
PY

# OCI layers: an opaque directory hides the lower layer's content but not its own layer's.
mkdir -p lower/app upper/app
cp hello lower/app/old
cp hello upper/app/new
: >upper/app/.wh..wh..opq
tar --numeric-owner -C lower -cf lower.tar .
tar --numeric-owner -C upper -cf upper.tar .
make_oci layered lower.tar upper.tar
check "enforce layered --format json: exit 1" run 1 layered --format json
check "opaque layer hides only the lower layer" python3 - <<'PY'
import json
d = json.load(open("out.txt"))
paths = {f["path"] for f in d["findings"] if f["rule"] == "CAIRN-EXEC-UNLISTED"}
assert paths == {"/app/new"}, paths
PY
