#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `cairn profile` against a program that attacks the machine it runs on (issue 18), each attack
# a static probe (tests/sandbox-probe.c) that once reached the host from cairn's own sandbox:
# host sysctls written as image root, TIOCSTI into cairn's terminal, a setuid-root file lifting
# a non-root user, a program that clears its parent-death signal and forks surviving a
# SIGKILLed cairn, a fork bomb, a memory hog, terminal escapes in the output. Needs root, user
# namespaces and runc; SKIPs otherwise.
. "$(dirname "$0")/lib.sh"
need_env CAIRN PROBE_SRC
need_tools python3 runc

[[ $(id -u) -eq 0 ]] || skip_all "cairn profile needs root"
unshare -U true 2>/dev/null || skip_all "this machine cannot create user namespaces"
static_program "$work/probe" "$PROBE_SRC" 2>/dev/null || skip_all "cannot compile a static program (cc -static)"

export TMPDIR="$work/tmp"
mkdir "$TMPDIR"

# prod runs as app (65532); dev as image root, as recipes/devprod.yaml's dev does.
recipe() { # FILE [MODE-OF-/app/probe [POLICY-LINES]]
  cat >"$1" <<EOF
recipe: 1
name: hostile
epoch: 1700000000
artifacts:
  - { src: probe, dest: /app/probe, mode: "${2:-0755}" }
accounts:
  groups: [{ name: app, gid: 65532 }]
  users: [{ name: app, uid: 65532, gid: 65532 }]
files:
  - { path: /tmp, type: dir, mode: "1777" }
run:
  user: app
  entrypoint: [/app/probe]
  cmd: [info]
  writable: [/tmp]
variants:
  prod: {}
  dev: { policy: dev, run: { user: "0:0", read-only: false } }
${3:-}
EOF
}
recipe "$work/r.yaml"

json_field() { # FILE EXPR
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"
}

# 1. Host sysctls as image root: every write fails, and the host keeps its values.
sysctls=(kernel/core_pattern vm/drop_caches kernel/randomize_va_space dev/tty/legacy_tiocsti)
before=$(for s in "${sysctls[@]}"; do cat "/proc/sys/$s" 2>/dev/null || echo "-"; done)
rc=0
"$CAIRN" profile "$work/r.yaml" --variant dev --format json -- sysctl >"$work/sysctl.json" \
  2>"$work/sysctl.err" || rc=$?
check "profile of the sysctl probe as image root succeeds" test $rc = 0
diag "$(grep /proc/sys "$work/sysctl.err")"
check "the probe changed no sysctl (its exit status 0)" \
  test "$(json_field "$work/sysctl.json" 'r["run"]["exit_status"]')" = 0
for s in "${sysctls[@]}"; do
  check "writing /proc/sys/$s failed inside" grep -qE "^/proc/sys/$s: (open|write): " "$work/sysctl.err"
done
after=$(for s in "${sysctls[@]}"; do cat "/proc/sys/$s" 2>/dev/null || echo "-"; done)
check "the host's sysctls are unchanged" test "$before" = "$after"

# 2. TIOCSTI: cairn runs on a terminal as a root shell would; the probe pushes "id\n" into
#    every descriptor it has and into /dev/tty. The same probe run directly proves that the
#    terminal takes injected input here (else there is nothing to test).
cat >"$work/pty.py" <<'EOF'
import fcntl, os, select, subprocess, sys, termios, time, tty
master, slave = os.openpty()
tty.setraw(slave)
def ctty():
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
p = subprocess.Popen(sys.argv[3:], stdin=slave, stdout=open(sys.argv[2], "wb"), stderr=slave,
                     start_new_session=True, preexec_fn=ctty)
out, deadline = b"", time.monotonic() + 120
while p.poll() is None and time.monotonic() < deadline:
    if select.select([master], [], [], 0.2)[0]:
        out += os.read(master, 65536)
if p.poll() is None:
    p.kill()
    sys.exit("timed out")
while select.select([master], [], [], 0)[0]:
    out += os.read(master, 65536)
fcntl.fcntl(slave, fcntl.F_SETFL, os.O_NONBLOCK)
try:
    injected = os.read(slave, 4096)
except BlockingIOError:
    injected = b""
open(sys.argv[1], "wb").write(injected)
sys.stderr.buffer.write(out)
sys.exit(p.returncode)
EOF
python3 "$work/pty.py" "$work/control.in" "$work/control.out" "$work/probe" tiocsti 2>/dev/null || true
if grep -q "id" "$work/control.in"; then
  ok "control: TIOCSTI injects input into this terminal when nothing stops it"
  rc=0
  python3 "$work/pty.py" "$work/profile.in" "$work/tiocsti.json" "$CAIRN" profile "$work/r.yaml" \
    --variant dev --format json -- tiocsti 2>"$work/tiocsti.tty" || rc=$?
  check "profile of the TIOCSTI probe on a terminal succeeds" test $rc = 0
  diag "$(grep -aE '^(fd|/dev)' "$work/tiocsti.tty")"
  check "nothing was pushed into cairn's terminal" test ! -s "$work/profile.in"
  check "every TIOCSTI of the probe failed (its exit status 0)" \
    test "$(json_field "$work/tiocsti.json" 'r["run"]["exit_status"]')" = 0
  check "the probe had descriptors to try" grep -aq '^fd 1: ' "$work/tiocsti.tty"
  check "TIOCSTI with the request's upper bits set failed too" \
    grep -aq '^fd 0 (upper bits): Operation not permitted' "$work/tiocsti.tty"
  check "no descriptor of the probe is a terminal" not grep -aq 'INJECTED' "$work/tiocsti.tty"
else
  skip "TIOCSTI into cairn's terminal" "TIOCSTI cannot inject input on this machine at all"
fi

# 3. Terminal escapes in the program's output reach a terminal as text, not as commands.
python3 "$work/pty.py" "$work/ansi.in" "$work/ansi.out" "$CAIRN" profile "$work/r.yaml" \
  -- ansi 2>"$work/ansi.tty" || true
check "the program's output reached the terminal" grep -aq 'title:' "$work/ansi.tty"
check "its ESC bytes arrive escaped" grep -aqF 'title:\x1b]0;cairn-owned\x07 clear:\x1b[2J' "$work/ansi.tty"
check "its 8-bit CSI arrives escaped" grep -aqF 'c1:\xc2\x9bJ' "$work/ansi.tty"
check "no raw ESC reached the terminal" not grep -aq $'\033' "$work/ansi.tty"

# 4. A setuid-root file: refused before anything runs, by the enforcer and, with its rule
#    disabled, by profile's own check; cairn bundle refuses it too.
recipe "$work/suid.yaml" 4755
rc=0
"$CAIRN" profile "$work/suid.yaml" -- check /tmp >"$work/suid.out" 2>"$work/suid.err" || rc=$?
check "a setuid-root file in the image: profile exits 1" test $rc = 1
check "...the enforcer names it" grep -qz 'CAIRN-SETUID.*/app/probe: mode 4755' "$work/suid.err"
check "...and nothing ran" not grep -q '^uid ' "$work/suid.err"
recipe "$work/suid2.yaml" 4755 'policy: { strict: { disable-rules: [CAIRN-SETUID] }, dev: { disable-rules: [CAIRN-SETUID] } }'
for variant in prod dev; do
  rc=0
  "$CAIRN" profile "$work/suid2.yaml" --variant $variant -- check /tmp >"$work/suid2.out" \
    2>"$work/suid2.err" || rc=$?
  check "with CAIRN-SETUID disabled ($variant): profile still exits 1" test $rc = 1
  check "...naming the setuid file" grep -q '/app/probe is setuid' "$work/suid2.err"
  check "...and nothing ran" not grep -q '^uid ' "$work/suid2.err"
done
rc=0
"$CAIRN" bundle "$work/suid2.yaml" -o "$work/suid-bundle" >/dev/null 2>"$work/suid3.err" || rc=$?
check "cairn bundle refuses the setuid file too (exit 1)" test $rc = 1
check "...and writes no bundle" test ! -e "$work/suid-bundle"

# 5. A program that clears its parent-death signal and forks into a new session is gone when
#    cairn is SIGKILLed, and so are cairn's temporary directories and the container's cgroup.
marker="escape-$$-$RANDOM$RANDOM"
echo "$marker" >"$work/marker"
# How many processes carry the marker: cairn's own (its command line) and the probes'. One grep
# reads every command line; the pattern comes from a file, so grep's own does not match.
marked() { grep -lsaFf "$work/marker" /proc/[0-9]*/cmdline 2>/dev/null || true; }
probes_alive() {
  local f c=0
  for f in $(marked); do
    [[ $(tr '\0' ' ' <"$f" 2>/dev/null) == "/app/probe escape "* ]] && c=$((c + 1))
  done
  echo $c
}
"$CAIRN" profile "$work/r.yaml" --duration 120 -- escape "$marker" >/dev/null 2>"$work/escape.err" &
cairn_pid=$!
for ((i = 0; i < 300; i++)); do # up to 30 s for the container to start
  (($(probes_alive) >= 2)) && break # the probe and its child
  sleep 0.1
done
check "the escaping probe and its child run" test "$(probes_alive)" = 2
kill -KILL $cairn_pid
wait $cairn_pid 2>/dev/null || true
for ((i = 0; i < 200; i++)); do # up to 20 s for everything to go
  [[ -z $(marked) ]] && break
  sleep 0.1
done
check "nothing of the container outlives a SIGKILLed cairn" test -z "$(marked)"
diag "gone after $((i * 100)) ms"
for ((i = 0; i < 100; i++)); do
  [[ -z $(find "$TMPDIR" -mindepth 1 -maxdepth 1) ]] && break
  sleep 0.1
done
check "cairn's temporary directories are removed" test -z "$(find "$TMPDIR" -mindepth 1 -maxdepth 1)"
check "the container's cgroup is removed" \
  test -z "$(find /sys/fs/cgroup -maxdepth 6 -name "cairn-profile-$cairn_pid-*" 2>/dev/null)"

# 6. A fork bomb stops at the pids limit and the machine stays responsive meanwhile.
"$CAIRN" profile "$work/r.yaml" --pids 64 --duration 4 -- forkbomb 5000 >/dev/null \
  2>"$work/bomb.err" &
bomb_pid=$!
for ((i = 0; i < 300; i++)); do
  grep -q '^forks ' "$work/bomb.err" && break
  sleep 0.1
done
start=$(date +%s%N)
for ((k = 0; k < 20; k++)); do /bin/true; done
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
rc=0
wait $bomb_pid || rc=$?
check "profile of the fork bomb succeeds" test $rc = 0
diag "$(grep '^forks ' "$work/bomb.err")"
forks=$(sed -n 's/^forks \([0-9]*\) errno .*/\1/p' "$work/bomb.err")
check "the bomb hit the pids limit (fork failed with EAGAIN)" grep -q '^forks [0-9]* errno EAGAIN' "$work/bomb.err"
check "...within 64 processes" test "${forks:-5000}" -lt 64
diag "20 host processes took ${elapsed_ms} ms while the bomb held its limit"
check "the host stays responsive meanwhile" test "$elapsed_ms" -lt 5000

# 7. A memory hog stops at the memory limit.
rc=0
"$CAIRN" profile "$work/r.yaml" --memory 64 --format json -- eatmem 512 >"$work/mem.json" \
  2>"$work/mem.err" || rc=$?
check "profile of the memory hog succeeds" test $rc = 0
check "the hog was killed at the memory limit" \
  test "$(json_field "$work/mem.json" 'r["run"]["signal"]')" = 9
check "...before it had its 512 MiB" not grep -q '^ate ' "$work/mem.err"
