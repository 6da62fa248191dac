#!/usr/bin/env bash
# cairn-init as PID 1 of a real container: runc (as root), else bwrap. The bundle is built by
# hand: a rootfs holding /sbin/cairn-init and a static test program, read-only, with tmpfs at
# /tmp and /data. SKIPs when no runtime can start a container here.
#   CAIRN_INIT  the built init/cairn-init
#   INIT_PROBE  tests/init-probe.c (compiled here with cc -static)
. "$(dirname "$0")/lib.sh"
need_env CAIRN_INIT INIT_PROBE
state=$work/state
at_exit '[[ -d $state ]] && for id in $(runc --root "$state" list -q 2>/dev/null); do
  runc --root "$state" kill "$id" KILL 2>/dev/null
  runc --root "$state" delete --force "$id" 2>/dev/null
done'
not_running() { ! runc --root "$state" state "$1" >/dev/null 2>&1; }

# ---- the bundle
b=$work/bundle
r=$b/rootfs
mkdir -p "$r"/{sbin,app,proc,dev,sys,tmp,data}
install -m 755 "$CAIRN_INIT" "$r/sbin/cairn-init"
static_program "$r/app/probe" "$INIT_PROBE"

seq_id=0
# runc_config READONLY ENV_JSON ARGS...: writes $b/config.json for this run.
runc_config() {
        local readonly=$1 env=$2
        shift 2
        (cd "$b" && rm -f config.json && runc spec)
        python3 - "$b/config.json" "$readonly" "$env" "$@" <<'EOF'
import json, sys
path, readonly, env, args = sys.argv[1], sys.argv[2] == "1", json.loads(sys.argv[3]), sys.argv[4:]
c = json.load(open(path))
p = c["process"]
p["terminal"] = False
p["args"] = args
p["env"] = ["PATH=/app:/sbin"] + env
c["root"]["readonly"] = readonly
c.pop("hostname", None)
lx = c["linux"]
lx.pop("resources", None)  # no cgroup limits: the sandbox may not delegate controllers
lx["namespaces"] = [ns for ns in lx["namespaces"] if ns["type"] in ("pid", "mount", "ipc")]
for dest in ("/tmp", "/data"):
    c["mounts"].append({"destination": dest, "type": "tmpfs", "source": "tmpfs",
                        "options": ["nosuid", "nodev", "mode=1777", "size=1m"]})
json.dump(c, open(path, "w"), indent=1)
EOF
}

# rt_start READONLY ENV_JSON ARGS...: starts a container in the background, stdout to $work/out
# (or the fifo in $OUT), stderr to $work/err; sets JOB (pid of the runtime) and CID.
rt_start() {
        local readonly=$1 env=$2
        shift 2
        seq_id=$((seq_id + 1))
        CID=cairn-init-test-$BASHPID-$seq_id
        local out=${OUT:-$work/out}
        case $RT in
        runc)
                runc_config "$readonly" "$env" "$@"
                timeout -k 5 60 runc --root "$state" run --bundle "$b" "$CID" \
                        >"$out" 2>"$work/err" </dev/null &
                ;;
        bwrap)
                local bw=(bwrap --unshare-pid --unshare-ipc --as-pid-1 --die-with-parent
                        --clearenv --setenv PATH /app:/sbin)
                if [[ $readonly == 1 ]]; then bw+=(--ro-bind "$r" /); else bw+=(--bind "$r" /); fi
                bw+=(--proc /proc --dev /dev --tmpfs /tmp --tmpfs /data)
                local kv
                for kv in $(python3 -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])))' "$env"); do
                        bw+=(--setenv "${kv%%=*}" "${kv#*=}")
                done
                timeout -k 5 60 "${bw[@]}" "$@" >"$out" 2>"$work/err" </dev/null &
                ;;
        esac
        JOB=$!
}

# rt_run READONLY ENV_JSON ARGS...: runs a container to its end; prints its exit status.
rt_run() {
        local rc=0
        OUT= rt_start "$@"
        wait "$JOB" || rc=$?
        echo "$rc"
}

# rt_kill SIGNAL: signals PID 1 of the running container (cairn-init) from outside.
rt_kill() {
        case $RT in
        runc) runc --root "$state" kill "$CID" "$1" ;;
        bwrap)
                # timeout -> bwrap -> (pid namespace) PID 1
                local bw="" pid1=""
                read -r bw _ <"/proc/$JOB/task/$JOB/children" || true
                [[ -n $bw ]] && { read -r pid1 _ <"/proc/$bw/task/$bw/children" || true; }
                [[ -n $pid1 ]] && kill "-$1" "$pid1"
                ;;
        esac
}

# ---- which runtime can start a container here
reasons=()
try_runtime() {
        local rc
        RT=$1
        rc=$(rt_run 1 '[]' /app/probe exit 0 runtime-ok)
        if [[ $rc == 0 ]] && grep -qx runtime-ok "$work/out"; then
                return 0
        fi
        reasons+=("$1: exit $rc: $(head -c 300 "$work/err" | tr '\n' ' ')")
        return 1
}
runtimes=()
if [[ $(id -u) != 0 ]]; then
        reasons+=("runc: not root")
elif ! command -v runc >/dev/null; then
        reasons+=("runc: not installed")
elif try_runtime runc; then
        runtimes+=(runc)
fi
if ! command -v bwrap >/dev/null; then
        reasons+=("bwrap: not installed")
elif try_runtime bwrap; then
        runtimes+=(bwrap)
fi
if ((${#runtimes[@]} == 0)); then
        skip_all "no OCI runtime can start containers here: ${reasons[*]}"
fi
# A runtime that cannot run here is a visible skip (ci/test counts it), not a quiet pass.
for reason in "${reasons[@]}"; do
        skip "cairn-init under ${reason%%:*}" "${reason#*: }"
done

suite() {
        I=/sbin/cairn-init
        P=/app/probe

        # ---- output and exit status
        rc=$(rt_run 1 '[]' $I -- $P exit 7 hello-from-pid1)
        check "exit code 7 propagates out of the container" test "$rc" = 7
        check "program output arrives" grep -qx hello-from-pid1 "$work/out"
        check "cairn-init is silent in normal operation" test ! -s "$work/err"
        rc=$(rt_run 1 '[]' $I -- /app/missing)
        check "missing PROGRAM: container exits 127" test "$rc" = 127
        check "missing PROGRAM: message" grep -qx "cairn-init: /app/missing: not found" "$work/err"

        # ---- SIGTERM to the container reaches the program (and cairn-init is PID 1)
        local line l
        rm -f "$work/fifo"
        mkfifo "$work/fifo"
        OUT=$work/fifo rt_start 1 '[]' $I -- $P wait-signal
        exec 8<"$work/fifo"
        if read -r -t 30 line <&8 && [[ $line == ready* ]]; then
                check "the program's parent is PID 1 (cairn-init)" test "${line% *}" = "ready 1"
                rt_kill TERM
                : >"$work/out"
                # Until EOF, bounded; a container that ignored the signal is then killed.
                while IFS= read -r -t 10 l <&8; do
                        echo "$l" >>"$work/out"
                done
                rt_kill KILL 2>/dev/null || true
                rc=0
                wait "$JOB" || rc=$?
                check "SIGTERM: container exits 143" test "$rc" = 143
                check "SIGTERM reached the program" grep -qx "probe got SIGTERM" "$work/out"
                if [[ $RT == runc ]]; then
                        check "SIGTERM: the container is gone" not_running "$CID"
                fi
        else
                not_ok "SIGTERM: the program never reported ready"
                kill -KILL "$JOB" 2>/dev/null || true
        fi
        exec 8<&-

        # ---- orphaned grandchildren are reaped; the control runs the probe as PID 1 without init
        rc=$(rt_run 1 '[]' $I -- $P orphans 4)
        check "orphans: program ran" test "$rc" = 0
        check "orphans reaped by cairn-init as PID 1" grep -qx "zombies=0" "$work/out"
        rc=$(rt_run 1 '[]' $P orphans 4)
        check "control: without cairn-init the 4 orphans stay zombies" grep -qx "zombies=4" "$work/out"

        # ---- required environment
        rc=$(rt_run 1 '[]' $I --require-env HELLO_TOKEN -- $P exit 0 started)
        check "missing HELLO_TOKEN: container exits 1" test "$rc" = 1
        check "missing HELLO_TOKEN: message" \
                grep -qx "cairn-init: HELLO_TOKEN is required but not set" "$work/err"
        check "missing HELLO_TOKEN: program not started" test ! -s "$work/out"
        rc=$(rt_run 1 '["HELLO_TOKEN=s3cret"]' $I --require-env HELLO_TOKEN -- $P exit 0 started)
        check "HELLO_TOKEN set: program starts" test "$rc" = 0
        check "HELLO_TOKEN set: output" grep -qx started "$work/out"

        # ---- read-only root, writable tmpfs paths
        rc=$(rt_run 1 '[]' $I --enforce-read-only --writable /tmp --writable /data -- \
                $P write / /tmp /data /app)
        check "read-only root with writable paths: starts" test "$rc" = 0
        check "writing to / fails" grep -qx "write /: failed (Read-only file system)" "$work/out"
        check "writing to /app fails" grep -qx "write /app: failed (Read-only file system)" "$work/out"
        check "writing to /tmp works" grep -qx "write /tmp: ok" "$work/out"
        check "writing to /data works" grep -qx "write /data: ok" "$work/out"
        rc=$(rt_run 1 '[]' $I --writable /app -- $P exit 0 started)
        check "--writable on the read-only root refuses" test "$rc" = 1
        check "--writable on the read-only root: message" \
                grep -qx "cairn-init: writable path /app is on a read-only mount" "$work/err"
        rc=$(rt_run 0 '[]' $I --enforce-read-only -- $P exit 0 started)
        check "--enforce-read-only with a writable root refuses" test "$rc" = 1
        check "--enforce-read-only: message" grep -q "cairn-init: / is mounted writable" "$work/err"
}

for RT in "${runtimes[@]}"; do
        echo "# runtime: $RT"
        name_prefix="$RT: "
        suite
done
