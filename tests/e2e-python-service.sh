#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# recipes/python-service.yaml from the real bookworm repository (issue 21): a dynamically
# linked interpreter with exactly the files it loads. The first build keeps every standard
# library file (no reads record yet); `cairn profile --write-reads` records what the service
# opens while it answers its own request; the --locked build keeps only that, passes strict,
# holds no shell, package manager, perl, debconf or gconv file, rebuilds to the same bytes, and
# under runc (`cairn bundle`) answers an HTTP request and cairn-init's health probe. The closure
# of /usr/bin/python3.11 is what ldd reports on this machine (file names: the same for every point release); bash named
# as a program is still refused. SKIPs when the mirror is unreachable or runc cannot run here.
. "$(dirname "$0")/lib.sh"
need_env CAIRN CAIRN_INIT CAIRN_SOURCE_DIR
need_tools runc python3 nsenter ldd
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -r $keyring ]] || skip_all "$keyring missing (package debian-archive-keyring)"
[[ $(id -u) -eq 0 ]] || skip_all "cairn profile, cairn bundle and runc need root"
unshare -U true 2>/dev/null || skip_all "this machine cannot create user namespaces"
# runc's setup runs as the mapped host uid and must reach the bundle.
chmod 0711 "$work"
state=$work/runc-state
at_exit 'for id in $(runc --root "$state" list -q 2>/dev/null); do runc --root "$state" kill "$id" KILL >/dev/null 2>&1; runc --root "$state" delete --force "$id" >/dev/null 2>&1; done'

cp -r "$CAIRN_SOURCE_DIR/recipes/python-service.yaml" "$CAIRN_SOURCE_DIR/recipes/python-service" "$work/"
y=$work/python-service.yaml
opts=(--cache "$work/cache" --init-binary "$CAIRN_INIT")
set +e
"$CAIRN" build "$y" -o "$work/out1" "${opts[@]}" >"$work/sum1" 2>"$work/err"
rc=$?
set -e
if [[ $rc -eq 3 ]] && grep -qiE "resolve|connect|timed out|could not|no deb entry" "$work/err"; then
  skip_all "the Debian mirror is unreachable: $(head -1 "$work/err")"
fi
check "recipes/python-service.yaml builds from bookworm without a reads record" test $rc = 0
[[ $rc -eq 0 ]] || { cat "$work/err" >&2; end_tests; }
check "...the summary says every standard library file was kept" grep -q "reads record .*: none" "$work/sum1"
check "...prod passes strict, dev passes dev" \
  bash -c "grep -A7 '^python-service-prod' '$work/sum1' | grep -q 'enforcer  pass (strict)' && grep -A8 '^python-service-dev' '$work/sum1' | grep -q 'enforcer  pass (dev)'"

# What the service opens while it serves a request (SELFTEST=1: it requests itself).
rc=0
"$CAIRN" profile "$y" --variant prod --write-reads --env SELFTEST=1 --duration 5 "${opts[@]}" \
  >"$work/profile.out" 2>"$work/profile.err" || rc=$?
if [[ $rc -ne 0 ]] && grep -qiE "cgroup|pivot_root|namespace|runc" "$work/profile.err"; then
  skip_all "cairn profile cannot run runc here: $(head -1 "$work/profile.err")"
fi
check "cairn profile --write-reads runs the service" test $rc = 0
check "...which answered its own request" grep -q "selftest: HTTP/1.0 200 OK" "$work/profile.err"
rec=$work/python-service.reads.json
check "...and wrote the reads record beside the recipe" test -s "$rec"
check "the record lists the interpreter, the app and the modules a request imports" python3 - "$rec" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert list(r) == ["reads-record", "recipe", "variant", "packages", "reads"], list(r)
assert r["reads"] == sorted(set(r["reads"])), "not sorted and unique"
for p in ["/usr/bin/python3.11", "/app/app.py", "/usr/lib/python3.11/http/server.py",
          "/usr/lib/python3.11/json/encoder.py", "/usr/lib/python3.11/email/utils.py"]:
    assert p in r["reads"], p
PY

set +e
"$CAIRN" build "$y" -o "$work/out" --locked "${opts[@]}" >"$work/sum" 2>"$work/err"
rc=$?
set -e
check "with the record, the --locked build succeeds" test $rc = 0
[[ $rc -eq 0 ]] || { cat "$work/err" >&2; end_tests; }
check "...prod passes strict" bash -c "grep -A7 '^python-service-prod' '$work/sum' | grep -q 'enforcer  pass (strict)'"
tar -tf "$work/out/python-service-prod.tar" | sed 's|/$||' | LC_ALL=C sort >"$work/prod.files"
tar -tf "$work/out/python-service-dev.tar" | sed 's|/$||' | LC_ALL=C sort >"$work/dev.files"
for f in usr/bin/python3.11 lib64/ld-linux-x86-64.so.2 lib/x86_64-linux-gnu/libc.so.6 \
  sbin/cairn-init app/app.py usr/lib/python3.11/os.py usr/lib/python3.11/http/server.py; do
  check "prod holds /$f" grep -qx "$f" "$work/prod.files"
done
check "prod holds no shell" not grep -qE '(^|/)(sh|bash|dash|busybox)$' "$work/prod.files"
# (var/lib/dpkg/status.d is the scanners' record of the packages, not dpkg.)
forbidden() { grep -vE '^var/lib/dpkg(/status\.d(/.*)?)?$' "$1" | grep -E '(^|/)(dpkg|apt|apt-get|perl[0-9.]*|debconf)(/|$)|gconv|\.pl$|\.pm$'; }
check "prod holds no package manager, perl, debconf or gconv file" not forbidden "$work/prod.files"
check "...and no copyright file of a package that gave nothing (perl-base, debconf, tar)" \
  not grep -qE 'usr/share/doc/(perl-base|debconf|tar|dpkg)/' "$work/prod.files"
check "prod holds the standard library files the service read, and not the others" \
  bash -c "! grep -qx usr/lib/python3.11/smtplib.py '$work/prod.files' && grep -qx usr/lib/python3.11/smtplib.py '$work/dev.files'"
check "dev adds bash-static as /bin/sh" grep -qx bin/sh "$work/dev.files"
check "prod's root is read-only" python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["read-only"] is True' \
  <(tar -xOf "$work/out/python-service-prod.tar" etc/cairn/runtime.json)
diag "prod: $(stat -c %s "$work/out/python-service-prod.tar") bytes of tar, $(wc -l <"$work/prod.files") entries; dev: $(stat -c %s "$work/out/python-service-dev.tar") bytes, $(wc -l <"$work/dev.files") entries"
first=$(sha256sum <"$work/out/python-service-prod.tar")
rm -rf "$work/out"
"$CAIRN" build "$y" -o "$work/out" --locked "${opts[@]}" -q >/dev/null 2>&1
check "a rebuild with the record gives the same bytes" test "$(sha256sum <"$work/out/python-service-prod.tar")" = "$first"

# Under runc: the bundle cairn bundle writes, a request from the container's network namespace.
rc=0
"$CAIRN" bundle "$y" -o "$work/b" --locked "${opts[@]}" >/dev/null 2>"$work/bundle.err" || rc=$?
check "cairn bundle writes prod's bundle" test $rc = 0
cid="pysvc-$$"
mkfifo "$work/fifo"
timeout -k 5 120 runc --root "$state" run --bundle "$work/b" "$cid" </dev/null >"$work/fifo" 2>"$work/run.err" &
job=$!
exec 8<"$work/fifo"
line=
read -r -t 60 line <&8 || true
if [[ $line != "listening 8080" ]]; then
  if grep -qiE "cgroup|pivot_root|namespace" "$work/run.err"; then
    skip_all "runc cannot start this bundle here: $(head -1 "$work/run.err")"
  fi
  not_ok "the service starts under runc: '$line' $(head -c 300 "$work/run.err")"
  end_tests
fi
ok "the prod service starts under runc"
pid=$(runc --root "$state" state "$cid" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
check "it answers an HTTP request" test "$(nsenter -t "$pid" -n python3 -c '
import urllib.request
print(urllib.request.urlopen("http://127.0.0.1:8080/hello", timeout=10).read().decode(), end="")')" \
  = '{"service": "python-service", "path": "/hello"}'
check "cairn-init's health probe passes" silent runc --root "$state" exec "$cid" /sbin/cairn-init --probe http://127.0.0.1:8080/healthz
runc --root "$state" kill "$cid" KILL >/dev/null 2>&1 || true
exec 8<&-
wait "$job" || true
runc --root "$state" delete --force "$cid" >/dev/null 2>&1 || true

# The closure of /usr/bin/python3.11 alone against ldd on this machine (same version).
cat >"$work/ldd.yaml" <<'EOF'
recipe: 1
name: ldd
sources:
  - { name: debian, url: apt, suite: bookworm, keyring: /usr/share/keyrings/debian-archive-keyring.gpg }
programs:
  - { package: python3.11-minimal, path: /usr/bin/python3.11 }
variants: { prod: { policy: strict } }
EOF
check "the interpreter alone builds and passes strict" silent "$CAIRN" build "$work/ldd.yaml" -o "$work/out-ldd" "${opts[@]}"
image_libs() { tar -tvf "$work/out-ldd/ldd-prod.tar" | awk '$1 ~ /^-/ && $6 ~ /^(usr\/)?lib(64)?\// { n = $6; sub(/.*\//, "", n); print n }' | LC_ALL=C sort; }
# ldd's list (NAME => PATH, or the loader's own line) as the names of the files it resolves,
# symlinks followed inside ROOT (absolute targets restart at ROOT, as in a chroot).
ldd_files() { # ROOT LDD-OUTPUT-FILE
  python3 - "$1" "$2" <<'PY' | LC_ALL=C sort
import os, sys
root, out = sys.argv[1], sys.argv[2]
def resolve(path, hops=0):
    parts, cur = [p for p in path.split("/") if p], ""
    for i, p in enumerate(parts):
        nxt = cur + "/" + p
        full = root.rstrip("/") + nxt
        if os.path.islink(full):
            t = os.readlink(full)
            rest = "/".join(parts[i + 1:])
            base = t if t.startswith("/") else cur + "/" + t
            return resolve(os.path.normpath(base + ("/" + rest if rest else "")), hops + 1)
        cur = nxt
    return cur
for line in open(out):
    f = line.split()
    if not f or f[0].startswith("linux-vdso"):
        continue
    print(os.path.basename(resolve(f[2] if len(f) > 2 and f[1] == "=>" else f[0])))
PY
}
# The image's own loader listing the interpreter inside the image: ldd for exactly the
# versions the image holds, whatever this machine has.
mkdir -p "$work/ldd-root"
tar -C "$work/ldd-root" -xf "$work/out-ldd/ldd-prod.tar"
if unshare -r true 2>/dev/null; then
  unshare -r chroot "$work/ldd-root" /lib64/ld-linux-x86-64.so.2 --list /usr/bin/python3.11 >"$work/ldd.image" 2>&1 || true
  check "its libraries are the files the image's own ld.so --list (ldd) resolves in the image" \
    diff <(ldd_files "$work/ldd-root" "$work/ldd.image") <(image_libs)
else
  skip "ld.so --list in the image" "no user namespaces here"
fi
want=$(python3 -c 'import json,sys; print([p["version"] for p in json.load(open(sys.argv[1]))["packages"] if p["name"] == "python3.11-minimal"][0])' "$work/ldd.lock.json")
have=$(dpkg-query -W -f '${Version}' python3.11-minimal 2>/dev/null || true)
# The names of the files ldd resolves, not their bytes: they stay the same across Debian point
# releases of one upstream version, so the check runs whichever 3.11.2 this machine has.
[[ -n $have ]] || bail_out "python3.11-minimal is not installed (ci/bootstrap installs it)"
ldd /usr/bin/python3.11 >"$work/ldd.host"
check "...and the files ldd resolves on this machine (its python3.11 $have, the image's $want)" \
  diff <(ldd_files / "$work/ldd.host") <(image_libs)

cat >"$work/bash.yaml" <<'EOF'
recipe: 1
name: bash
sources:
  - { name: debian, url: apt, suite: bookworm, keyring: /usr/share/keyrings/debian-archive-keyring.gpg }
programs:
  - { package: bash, path: /bin/bash }
variants: { prod: { policy: strict } }
EOF
rc=0
"$CAIRN" build "$work/bash.yaml" -o "$work/out-bash" "${opts[@]}" -q >/dev/null 2>"$work/err-bash" || rc=$?
check "Debian's bash named as a program fails strict" test $rc = 1
check "...as a shell" grep -q "^CAIRN-SHELL" "$work/err-bash"
