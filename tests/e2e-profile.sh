#!/usr/bin/env bash
# End-to-end: `cairn profile` on a recipe whose application is a static probe program
# (tests/sandbox-probe.c, compiled here), run under runc. Needs root, user namespaces and runc;
# SKIPs otherwise.
. "$(dirname "$0")/lib.sh"
need_env CAIRN PROBE_SRC
need_tools runc

[[ $(id -u) -eq 0 ]] || skip_all "cairn profile needs root"
unshare -U -m -p -f true 2>/dev/null || skip_all "this machine cannot create user namespaces"
static_program "$work/probe" "$PROBE_SRC" 2>/dev/null || skip_all "cannot compile a static program (cc -static)"

# Every temporary directory cairn makes goes here, so the test can see that none is left.
export TMPDIR="$work/tmp"
mkdir "$TMPDIR"

cat >"$work/probe.yaml" <<'EOF'
recipe: 1
name: probe
epoch: 1700000000
artifacts:
  - { src: probe, dest: /app/probe, mode: "0755" }
accounts:
  groups: [{ name: app, gid: 65532 }]
  users: [{ name: app, uid: 65532, gid: 65532, home: /tmp }]
files:
  - { path: /tmp, type: dir, mode: "1777" }
  - { path: /run, type: dir, mode: "0755", uid: 65532, gid: 65532 }
  - { path: /var/cache/app, type: dir, mode: "0755", uid: 65532, gid: 65532 }
run:
  user: app
  entrypoint: [/app/probe]
  cmd: [writes]
  writable: [/tmp]
EOF

no_temp_left() {
  local left
  left=$(find "$TMPDIR" -mindepth 1 -maxdepth 1 | head -5)
  [[ -z $left ]] || { echo "# left behind: $left"; return 1; }
}

# 1. The writes: exactly three paths, the suggested block, and warnings outside /tmp.
rc=0
"$CAIRN" profile "$work/probe.yaml" --duration 20 >"$work/out" 2>"$work/err" || rc=$?
check "cairn profile succeeds" test $rc = 0
diag "$(cat "$work/out")"
check "it suggests writable: [/run, /tmp, /var/cache/app]" \
  test "$(tail -n1 "$work/out")" = 'writable: [/run, /tmp, /var/cache/app]'
check "a warning for /run/app.pid" \
  grep -q '/run/app.pid (created) is outside writable: \[/tmp\]: that write would fail in prod' "$work/err"
check "a warning for /var/cache/app/b" grep -q '/var/cache/app/b (created) is outside writable' "$work/err"
check "no warning for /tmp/a, which is writable" not grep -q '/tmp/a.*outside writable' "$work/err"
((rc == 0)) || cat "$work/err" >&2
check "no temporary directory left behind after a profile run" no_temp_left

rc=0
"$CAIRN" profile "$work/probe.yaml" --format json >"$work/json" 2>/dev/null || rc=$?
check "--format json succeeds" test $rc = 0
check "the JSON report" python3 - "$work/json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
got = sorted((w["path"], w["op"]) for w in r["writes"])
want = [("/run/app.pid", "created"), ("/tmp/a", "created"), ("/var/cache/app/b", "created")]
assert got == want, got
assert r["writable"] == ["/run", "/tmp", "/var/cache/app"], r["writable"]
assert r["run"]["exit_status"] == 0 and not r["run"]["timed_out"], r["run"]
assert [w["in_writable"] for w in sorted(r["writes"], key=lambda w: w["path"])] == [False, True, False]
PY
check "no temporary directory left behind after a json run" no_temp_left

# 2. A program that never exits is stopped at the duration (SIGTERM ignored by PID 1, SIGKILL).
start=$(date +%s%N)
rc=0
"$CAIRN" profile "$work/probe.yaml" --duration 0.5 --format json -- forever >"$work/json" 2>/dev/null || rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
check "profile of a never-ending program succeeds" test $rc = 0
check "the never-ending program is reported as stopped at the duration" \
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["run"]; assert r["timed_out"] and r["killed"], r' "$work/json"
diag "stopping took ${elapsed_ms} ms"
check "stopping took less than 10 s" test "$elapsed_ms" -lt 10000
check "no temporary directory left behind after a stopped run" no_temp_left

# 3. Children that linger after the program exits are gone when profile returns.
marker="linger-$$-$RANDOM$RANDOM"
check "profile of a forking program succeeds" \
  silent "$CAIRN" profile "$work/probe.yaml" --duration 20 -- linger "$marker"
no_linger() {
  local f
  for f in /proc/[0-9]*/cmdline; do
    if tr '\0' '\n' <"$f" 2>/dev/null | grep -qxF "$marker"; then
      echo "# a child of the profiled program is still running: $f"
      return 1
    fi
  done
}
check "no child of the profiled program is still running" no_linger
check "no temporary directory left behind after a forking run" no_temp_left

# 4. A usage error names the problem; no temp dirs either.
check "--duration -1 is refused" not silent "$CAIRN" profile "$work/probe.yaml" --duration -1
check "an unknown variant is refused" not silent "$CAIRN" profile "$work/probe.yaml" --variant nope
mkdir "$work/empty-path"
rc=0
PATH="$work/empty-path" "$CAIRN" profile "$work/probe.yaml" >/dev/null 2>"$work/noruntime.err" || rc=$?
check "without runc in PATH: exit 4" test $rc = 4
check "...naming runc and its package" grep -q 'runc: the OCI runtime is not installed.*apt-get install runc' "$work/noruntime.err"
check "--runtime names another one" exits 4 "$CAIRN" profile "$work/probe.yaml" --runtime /nonexistent/crun
check "--pids 0 is refused" exits 2 "$CAIRN" profile "$work/probe.yaml" --pids 0
check "--entrypoint must be an absolute path" exits 2 "$CAIRN" profile "$work/probe.yaml" --entrypoint app/probe
rc=0
"$CAIRN" profile "$work/probe.yaml" --entrypoint /app/nope >/dev/null 2>"$work/entry.err" || rc=$?
check "--entrypoint replaces the recipe's: a path not in the image is exit 2" test $rc = 2
check "...naming it" grep -q 'the program /app/nope is not in the image' "$work/entry.err"
rc=0
"$CAIRN" profile "$work/probe.yaml" --entrypoint /app/probe --duration 20 -- writes >"$work/entry.out" 2>/dev/null || rc=$?
check "--entrypoint /app/probe -- writes profiles as the recipe's own run does" \
  test "$rc:$(tail -n1 "$work/entry.out")" = '0:writable: [/run, /tmp, /var/cache/app]'

# 5. The image cairn builds is the same before and after profiling (the run never writes it).
check "the first build succeeds" silent "$CAIRN" build "$work/probe.yaml" -o "$work/out1"
before=$(sha256sum "$work/out1/probe-prod.tar" 2>/dev/null | cut -d' ' -f1) || true
check "profile between the builds succeeds" silent "$CAIRN" profile "$work/probe.yaml"
check "the second build succeeds" silent "$CAIRN" build "$work/probe.yaml" -o "$work/out2"
after=$(sha256sum "$work/out2/probe-prod.tar" 2>/dev/null | cut -d' ' -f1) || true
check "the image is the same before and after profiling" test -n "$before" -a "$before" = "$after"
diag "image digest: sha256:$before, after: sha256:$after"
check "no temporary directory left behind after the builds" no_temp_left
# 6. Under cairn-init as PID 1 (run.init): the same writes, and SIGTERM at the duration is
#    forwarded to the program, which ends without needing SIGKILL.
if [[ -n ${CAIRN_INIT:-} && -x $CAIRN_INIT ]]; then
  sed 's/^  writable: \[\/tmp\]/  writable: [\/tmp]\n  init: cairn-init/' "$work/probe.yaml" >"$work/init.yaml"
  check "the init recipe is written" grep -q 'init: cairn-init' "$work/init.yaml"
  rc=0
  "$CAIRN" profile "$work/init.yaml" --init-binary "$CAIRN_INIT" >"$work/out" 2>/dev/null || rc=$?
  check "profile under cairn-init succeeds" test $rc = 0
  check "under cairn-init: it suggests writable: [/run, /tmp, /var/cache/app]" \
    test "$(tail -n1 "$work/out")" = 'writable: [/run, /tmp, /var/cache/app]'
  rc=0
  "$CAIRN" profile "$work/init.yaml" --init-binary "$CAIRN_INIT" --duration 0.5 --format json \
    -- forever >"$work/json" 2>/dev/null || rc=$?
  check "profile of forever under cairn-init succeeds" test $rc = 0
  check "cairn-init ends the program on SIGTERM" \
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["run"]; assert r["timed_out"] and not r["killed"], r' "$work/json"
  check "no temporary directory left behind after the cairn-init runs" no_temp_left
fi
