#!/usr/bin/env bash
# cairn-init run directly (as child subreaper, not PID 1): exit statuses, signal forwarding,
# refusals, no_new_privs/umask/fds/signal state of the program, zombie reaping, every catchable
# signal forwarded, orphans ended after PROGRAM exits, closed fds 0-2. Needs no runtime, so it
# always runs.
#   CAIRN_INIT  the built init/cairn-init
#   INIT_PROBE  tests/init-probe.c (compiled here with cc -static)
. "$(dirname "$0")/lib.sh"
need_env CAIRN_INIT INIT_PROBE

static_program "$work/probe" "$INIT_PROBE"
P=$work/probe
I=$CAIRN_INIT

# run STATUS_VAR ARGS...: runs cairn-init with ARGS (bounded), stdout in $work/out, stderr $work/err
run() {
        local rc=0
        timeout -k 5 30 "$I" "$@" >"$work/out" 2>"$work/err" </dev/null || rc=$?
        echo "$rc"
}

# ---- static binary
# readelf's output first: a readelf that fails stops the test instead of passing these.
phdrs=$(readelf -lW "$I")
dyn=$(readelf -dW "$I")
check "readelf lists program headers" matches "$phdrs" "*LOAD*"
check "no PT_INTERP" not matches "$phdrs" "*INTERP*"
check "no DT_NEEDED" not matches "$dyn" "*NEEDED*"
echo "# cairn-init is $(stat -c %s "$I") bytes"

# ---- exit statuses and output
rc=$(run -- "$P" exit 5 hello-from-probe)
check "exit code 5 propagates" test "$rc" = 5
check "program output arrives" grep -qx hello-from-probe "$work/out"
check "nothing on stderr in normal operation" test ! -s "$work/err"
rc=$(run -- "$P" exit 0 fine)
check "exit code 0 propagates" test "$rc" = 0
rc=$(run -- "$work/does-not-exist")
check "missing PROGRAM exits 127" test "$rc" = 127
check "missing PROGRAM: one line" grep -qx "cairn-init: $work/does-not-exist: not found" "$work/err"
rc=$(run -- no-such-program-in-path-cairn)
check "PROGRAM not in PATH exits 127" test "$rc" = 127
printf 'not a program\n' >"$work/noexec"
chmod 644 "$work/noexec"
rc=$(run -- "$work/noexec")
check "non-executable PROGRAM exits 126" test "$rc" = 126
check "non-executable PROGRAM: one line" \
        grep -qx "cairn-init: $work/noexec: cannot execute: Permission denied" "$work/err"
rc=$(run -- "$work")
check "directory as PROGRAM exits 126" test "$rc" = 126
rc=$(run -- sh -c 'kill -KILL $$')
check "child killed by SIGKILL exits 137" test "$rc" = 137
rc=$(run -- sh -c 'kill -SEGV $$')
check "child killed by SIGSEGV exits 139" test "$rc" = 139
rc=$(run --bogus -- "$P" exit 0 x)
check "unknown option exits 2" test "$rc" = 2
check "unknown option: message" grep -q "cairn-init: unknown option --bogus" "$work/err"
rc=$(run --help)
check "--help exits 0" test "$rc" = 0
check "--help prints usage" grep -q "Usage: cairn-init" "$work/out"
rc=$(run --version)
check "--version" grep -q "^cairn-init [0-9]" "$work/out"

# ---- refusals
rc=$(run --require-env HELLO_TOKEN -- "$P" exit 0 started)
check "missing required env refuses with 1" test "$rc" = 1
check "missing required env: the message" \
        grep -qx "cairn-init: HELLO_TOKEN is required but not set" "$work/err"
check "missing required env: PROGRAM not started" test ! -s "$work/out"
rc=$(HELLO_TOKEN= run --require-env HELLO_TOKEN -- "$P" exit 0 started)
check "empty required env refuses" test "$rc" = 1
rc=$(HELLO_TOKEN=x DB_URL=y run --require-env HELLO_TOKEN --require-env DB_URL -- "$P" exit 0 started)
check "set required env starts PROGRAM" test "$rc" = 0
check "set required env: output" grep -qx started "$work/out"
rc=$(run --require-env A_CAIRN --require-env B_CAIRN -- "$P" exit 0 started)
check "one line per refusal" test "$(wc -l <"$work/err")" = 2
rc=$(run --writable "$work/missing" -- "$P" exit 0 started)
check "missing writable path refuses" test "$rc" = 1
check "missing writable path: message" \
        grep -qx "cairn-init: writable path $work/missing: No such file or directory" "$work/err"
mkdir "$work/w"
rc=$(run --writable "$work/w" -- "$P" write "$work/w")
check "writable path accepted" test "$rc" = 0
check "writable path written" grep -qx "write $work/w: ok" "$work/out"
if python3 -c 'import os,sys; sys.exit(0 if os.statvfs("/").f_flag & os.ST_RDONLY else 1)'; then
        echo "# / is read-only here: skipping the writable-root checks"
else
        rc=$(run --enforce-read-only -- "$P" exit 0 started)
        check "--enforce-read-only refuses a writable /" test "$rc" = 1
        check "--enforce-read-only: message" grep -q "cairn-init: / is mounted writable" "$work/err"
        rc=$(run --read-only-root -- "$P" exit 0 started)
        check "--read-only-root only warns" test "$rc" = 0
        check "--read-only-root: warning" grep -q "warning: / is mounted writable" "$work/err"
fi

# ---- state of the started program
# Started with SIGINT/SIGQUIT ignored, fd 7 open and umask 077; the control runs the probe bare.
(trap '' INT QUIT && umask 077 && exec "$P" status 7</dev/null >"$work/ctl")
(trap '' INT QUIT && umask 077 && exec "$I" -- "$P" status 7</dev/null >"$work/out")
check "control: without init fd 7 is inherited" grep -q "^fds:.* 7\b" "$work/ctl"
check "control: without init SIGINT is ignored" not grep -qP "^SigIgn:\t0+$" "$work/ctl"
check "inherited fds above 2 are closed" grep -qx "fds:" "$work/out"
check "no_new_privs is set" grep -qP "^NoNewPrivs:\t1$" "$work/out"
check "umask is 022" grep -qP "^Umask:\t0022$" "$work/out"
check "signal dispositions reset" grep -qP "^SigIgn:\t0+$" "$work/out"
check "signal mask restored" grep -qP "^SigBlk:\t0+$" "$work/out"
check "PROGRAM leads its own process group" grep -qx "pgid_is_pid: 1" "$work/out"

# ---- the terminal goes to PROGRAM's process group (script(1) provides a pty)
if command -v script >/dev/null; then
        timeout -k 5 30 script -qec "$(printf '%q -- %q tty' "$I" "$P")" /dev/null </dev/null |
                tr -d '\r' >"$work/out" || true
        check "PROGRAM's process group owns the terminal" grep -qx "foreground: 1" "$work/out"
else
        echo "# script(1) missing: terminal hand-over not tested"
fi

# ---- signal forwarding: wait for "ready PPID" on a fifo, signal cairn-init, check the status
forward() { # forward OPTS SIGNAL MODE EXPECTED_STATUS EXPECTED_LINE...
        local opts=$1 sig=$2 mode=$3 want=$4
        shift 4
        local fifo=$work/fifo-$n line l ppid pid rc=0
        mkfifo "$fifo"
        # shellcheck disable=SC2086
        timeout -k 5 30 "$I" $opts -- "$P" "$mode" >"$fifo" 2>"$work/err" &
        local job=$!
        exec 8<"$fifo"
        if ! read -r -t 20 line <&8 || [[ $line != ready* ]]; then
                not_ok "$sig $mode: probe never got ready"
                kill -KILL "$job" 2>/dev/null || true
                exec 8<&-
                return
        fi
        read -r _ ppid pid <<<"$line"
        kill "-$sig" "$ppid"
        : >"$work/out"
        # Until EOF: every writer (init, probe, its child) has exited; bounded.
        while IFS= read -r -t 10 l <&8; do
                echo "$l" >>"$work/out"
        done
        exec 8<&-
        if kill -0 "$pid" 2>/dev/null; then
                not_ok "$sig forwarded ($mode $opts): PROGRAM got it and ended"
        else
                ok "$sig forwarded ($mode $opts): PROGRAM got it and ended"
        fi
        # A program that missed the signal still runs: end its group so the test fails fast.
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait "$job" || rc=$?
        check "$sig forwarded ($mode $opts): exit $want" test "$rc" = "$want"
        for l in "$@"; do
                check "$sig forwarded ($mode $opts): $l" grep -qx "$l" "$work/out"
        done
}
forward "" TERM wait-signal 143 "probe got SIGTERM"
forward "" INT wait-signal 130 "probe got SIGINT"
forward "" HUP wait-signal 129 "probe got SIGHUP"
forward "" QUIT wait-signal 131 "probe got SIGQUIT"
forward "" USR1 wait-signal 138 "probe got SIGUSR1"
forward "" USR2 wait-signal 140 "probe got SIGUSR2"
forward "" WINCH wait-signal 156 "probe got SIGWINCH"
forward "-g" TERM group-signal 143 "probe got SIGTERM" "child got SIGTERM"
# Signals whose default action would kill cairn-init as child subreaper and leave PROGRAM
# running: every one is forwarded, real-time ones too (also 32-34, which the libcs keep for
# themselves: cairn-init blocks them with the raw system call).
forward "" ALRM wait-signal 142 "probe got SIGALRM"
forward "" VTALRM wait-signal 154 "probe got SIGVTALRM"
forward "" PROF wait-signal 155 "probe got SIGPROF"
forward "" XCPU wait-signal 152 "probe got SIGXCPU"
forward "" XFSZ wait-signal 153 "probe got SIGXFSZ"
forward "" IO wait-signal 157 "probe got SIGIO"
forward "" PWR wait-signal 158 "probe got SIGPWR"
forward "" SYS wait-signal 159 "probe got SIGSYS"
forward "" TRAP wait-signal 133 "probe got SIGTRAP"
forward "" SEGV wait-signal 139 "probe got SIGSEGV"
forward "" URG wait-signal 151 "probe got SIGURG"
# glibc's probe cannot block 32 (its own): it dies of it, which is the proof it arrived
forward "" 32 wait-signal 160
forward "" 34 wait-signal 162 "probe got SIGRTMIN+0"
forward "" 40 wait-signal 168 "probe got SIGRTMIN+6"

# SIGPIPE is ignored (so cairn-init's own writes to a closed pipe cannot raise it): it must
# neither kill cairn-init nor reach PROGRAM; a SIGTERM sent after it still arrives.
pipe_case() {
        local fifo=$work/fifo-pipe line l ppid rc=0
        mkfifo "$fifo"
        timeout -k 5 30 "$I" -- "$P" wait-signal >"$fifo" 2>"$work/err" &
        local job=$!
        exec 8<"$fifo"
        if ! read -r -t 20 line <&8 || [[ $line != ready* ]]; then
                not_ok "PIPE: probe never got ready"
                kill -KILL "$job" 2>/dev/null || true
                exec 8<&-
                return
        fi
        read -r _ ppid _ <<<"$line"
        kill -PIPE "$ppid"
        kill -TERM "$ppid"
        : >"$work/out"
        while IFS= read -r -t 10 l <&8; do
                echo "$l" >>"$work/out"
        done
        exec 8<&-
        wait "$job" || rc=$?
        check "PIPE: cairn-init survives it and still forwards TERM (exit 143)" test "$rc" = 143
        check "PIPE: not forwarded to PROGRAM" grep -qx "probe got SIGTERM" "$work/out"
}
pipe_case

# ---- what PROGRAM leaves running when it exits is ended, not abandoned
# orphan_case MODE GRACE [EXPECTED_LINE]: sets $elapsed_ms.
orphan_case() {
        local mode=$1 grace=$2 want=${3:-} opid rc=0 start end
        start=$(date +%s%N)
        timeout -k 5 60 "$I" --grace "$grace" -- "$P" leave-orphan "$mode" >"$work/out" \
                2>"$work/err" </dev/null || rc=$?
        end=$(date +%s%N)
        elapsed_ms=$(((end - start) / 1000000))
        read -r _ _ _ opid <"$work/out" || true
        check "orphan ($mode): cairn-init exits with PROGRAM's status 0" test "$rc" = 0
        if [[ -n $want ]]; then
                check "orphan ($mode): it got SIGTERM" grep -qx "$want" "$work/out"
        fi
        if [[ -z $opid ]]; then
                not_ok "orphan ($mode): the probe reported its pid"
        elif kill -0 "$opid" 2>/dev/null; then
                not_ok "orphan ($mode): pid $opid is gone when cairn-init exits"
                kill -KILL "$opid" 2>/dev/null || true
        else
                ok "orphan ($mode): pid $opid is gone when cairn-init exits"
        fi
}
orphan_case term 5 "orphan got SIGTERM"
check "orphan (term): ended at once, not after the grace period (${elapsed_ms} ms)" \
        test "$elapsed_ms" -lt 4000
orphan_case stubborn 1
check "orphan (stubborn): SIGKILL after --grace 1 (${elapsed_ms} ms)" \
        test "$elapsed_ms" -ge 1000 -a "$elapsed_ms" -lt 4000
# control: without cairn-init the orphan outlives its parent
"$P" leave-orphan term >"$work/out" </dev/null
read -r _ _ _ opid <"$work/out"
check "control: without cairn-init the orphan is still running" kill -0 "$opid"
kill -KILL "$opid" 2>/dev/null || true

# ---- started with fds 0-2 closed, PROGRAM's first open() is not its stdin
rc=0
"$I" -- "$P" first-fd "$work/fd-init" 0<&- 1>&- 2>&- || rc=$?
check "fds closed: cairn-init runs PROGRAM" test "$rc" = 0
check "fds closed: PROGRAM's first open() is fd 3" grep -qx "first fd: 3" "$work/fd-init"
"$P" first-fd "$work/fd-ctl" 0<&- 1>&- 2>&-
check "control: without cairn-init it would be fd 0" grep -qx "first fd: 0" "$work/fd-ctl"

# ---- zombies: orphans re-parented to cairn-init (subreaper) are reaped
rc=$(run -- "$P" orphans 5)
check "orphans: probe ran" test "$rc" = 0
check "orphans reaped by the subreaper" grep -qx "zombies=0" "$work/out"
rc=$(CAIRN_INIT_VERBOSE=1 run -- "$P" orphans 2)
check "verbose mode reports reaped orphans" test "$(grep -c "reaped orphan" "$work/err")" = 2
