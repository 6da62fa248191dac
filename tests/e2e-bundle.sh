#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `cairn bundle` (issue 18): the bundle of a service (a static probe under cairn-init) runs
# under `runc run` as it is: it prints, exits with its status, cannot write /, writes each
# writable: path as the image user, has no capabilities, runs as an unprivileged host uid with
# no_new_privs and a seccomp filter; config.json is the same bytes twice and runc's own spec
# checks accept it. Needs root, user namespaces and runc; SKIPs otherwise.
. "$(dirname "$0")/lib.sh"
need_env CAIRN CAIRN_INIT PROBE_SRC
need_tools runc python3
[[ $(id -u) -eq 0 ]] || skip_all "cairn bundle and runc need root"
unshare -U true 2>/dev/null || skip_all "this machine cannot create user namespaces"
static_program "$work/probe" "$PROBE_SRC" 2>/dev/null || skip_all "cannot compile a static program (cc -static)"
# runc's setup runs as the mapped host uid and must reach the bundle: $work may not be 0700.
chmod 0711 "$work"
state="$work/runc-state"
at_exit 'for id in $(runc --root "$state" list -q 2>/dev/null); do runc --root "$state" delete --force "$id" >/dev/null 2>&1; done'

cat >"$work/svc.yaml" <<'EOF'
recipe: 1
name: svc
epoch: 1700000000
artifacts:
  - { src: probe, dest: /app/probe }
accounts:
  groups: [{ name: app, gid: 65532 }]
  users: [{ name: app, uid: 65532, gid: 65532 }]
files:
  - { path: /tmp, type: dir, mode: "1777" }
  - { path: /var/cache/app, type: dir, mode: "0750" }
run:
  entrypoint: [/app/probe]
  cmd: [check, --hold, /tmp, /run, /var/cache/app]
  init: cairn-init
  writable: [/tmp, /run, /var/cache/app]
variants: { prod: {} }
policy:
  strict: { allow-executables: [/app/probe, /sbin/cairn-init] }
EOF

mkdir -m 0700 "$work/private"
rc=0
"$CAIRN" bundle "$work/svc.yaml" -o "$work/private/b" --init-binary "$CAIRN_INIT" >/dev/null \
  2>"$work/private.err" || rc=$?
check "a bundle below a directory the mapped root cannot enter: exit 0" test $rc = 0
check "a bundle below a directory the mapped root cannot enter is written with a warning" \
  grep -q "warning: .*$work/private.*cannot be entered" "$work/private.err"
rc=0
"$CAIRN" bundle "$work/svc.yaml" -o "$work/b" --init-binary "$CAIRN_INIT" >"$work/bundle.out" \
  2>"$work/bundle.err" || rc=$?
check "cairn bundle succeeds" test $rc = 0
((rc == 0)) || { cat "$work/bundle.err" >&2; end_tests; }
check "it writes config.json and rootfs/" test -f "$work/b/config.json" -a -d "$work/b/rootfs"
check "rootfs/ belongs to the mapped host range" test "$(stat -c %u:%g "$work/b/rootfs/app/probe")" = 100000:100000
check "the writable: paths the image lacks are mount points" test -d "$work/b/rootfs/run"
cp "$work/b/config.json" "$work/config.1"
check "a second bundle succeeds" silent "$CAIRN" bundle "$work/svc.yaml" -o "$work/b" --init-binary "$CAIRN_INIT"
check "config.json is the same bytes" cmp "$work/config.1" "$work/b/config.json"
check "the hardening is in config.json" python3 - "$work/b/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
p, lx = c["process"], c["linux"]
assert p["terminal"] is False and p["noNewPrivileges"] is True, p
assert p["user"] == {"uid": 65532, "gid": 65532}, p["user"]
assert all(p["capabilities"][k] == [] for k in ("bounding", "effective", "inheritable", "permitted", "ambient"))
assert p["args"][0] == "/sbin/cairn-init" and "--read-only-root" in p["args"], p["args"]
assert {r["type"] for r in p["rlimits"]} >= {"RLIMIT_CORE", "RLIMIT_NOFILE", "RLIMIT_NPROC"}
assert c["root"] == {"path": "rootfs", "readonly": True}
tmpfs = {m["destination"]: m["options"] for m in c["mounts"] if m["type"] == "tmpfs" and not m["destination"].startswith("/dev")}
assert sorted(tmpfs) == ["/run", "/tmp", "/var/cache/app"], tmpfs
assert "mode=1777" in tmpfs["/tmp"] and "mode=0750" in tmpfs["/var/cache/app"], tmpfs
assert all("uid=65532" in o and "noexec" in o and "nosuid" in o for o in tmpfs.values())
assert {n["type"] for n in lx["namespaces"]} == {"pid", "network", "ipc", "uts", "mount", "user", "cgroup"}
assert lx["uidMappings"] == [{"containerID": 0, "hostID": 100000, "size": 65536}]
assert "/proc/kcore" in lx["maskedPaths"] and "/proc/sys" in lx["readonlyPaths"]
s = lx["seccomp"]
assert s["defaultAction"] == "SCMP_ACT_ERRNO"
names = {n for r in s["syscalls"] if r["action"] == "SCMP_ACT_ALLOW" for n in r["names"]}
assert "read" in names and "mount" not in names and "keyctl" not in names, names
PY

# Run it: the container holds (reading stdin) while the host looks at it.
mkfifo "$work/in"
timeout -k 5 60 runc --root "$state" run --bundle "$work/b" "cairn-bundle-$$" <"$work/in" \
  >"$work/run.out" 2>"$work/run.err" &
runc_pid=$!
exec 7>"$work/in"
for ((i = 0; i < 300; i++)); do
  grep -q '^holding' "$work/run.out" 2>/dev/null && break
  kill -0 $runc_pid 2>/dev/null || break
  sleep 0.1
done
if ! grep -q '^holding' "$work/run.out"; then
  exec 7>&-
  wait $runc_pid || true
  if grep -qiE "cgroup|pivot_root|namespace" "$work/run.err"; then
    skip_all "runc cannot start this bundle here: $(head -1 "$work/run.err")"
  fi
  not_ok "the service starts under runc run"
  cat "$work/run.err" >&2
  end_tests
fi
ok "the service starts under runc run and prints"
init_pid=$(runc --root "$state" state "cairn-bundle-$$" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
pids="$init_pid $(cat /proc/"$init_pid"/task/*/children 2>/dev/null)"
diag "container processes on the host: $pids"
for p in $pids; do
  uid=$(awk '/^Uid:/ {print $2}' /proc/"$p"/status)
  check "process $p runs as an unprivileged host uid ($uid)" test "$uid" = $((100000 + 65532))
  check "process $p has no_new_privs and a seccomp filter" \
    bash -c "grep -q '^NoNewPrivs:[[:space:]]*1' /proc/$p/status && grep -q '^Seccomp:[[:space:]]*2' /proc/$p/status"
  check "process $p has no capabilities on the host" grep -q '^CapEff:[[:space:]]*0000000000000000' /proc/"$p"/status
done
exec 7>&-
rc=0
wait $runc_pid || rc=$?
diag "$(cat "$work/run.out")"
check "runc run exits with the service's status (7)" test $rc = 7
check "inside, the service runs as the image user" grep -qx 'uid 65532' "$work/run.out"
check "inside, it has no capabilities (CapEff 0)" grep -qx 'CapEff 0000000000000000' "$work/run.out"
check "it cannot write /" grep -qx '/: Read-only file system' "$work/run.out"
for p in /tmp /run /var/cache/app; do
  check "it writes $p as the image user" grep -qx "$p: ok 65532" "$work/run.out"
done
check "cairn-init checked the root and writable paths without complaint" not grep -q 'cairn-init' "$work/run.err"
