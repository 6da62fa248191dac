#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cairn-init --landlock run directly (issue 23): PROGRAM executes only the runtime file's
# executables and writes only beneath its writable paths; memory-only executables (the memfd
# loader attack) are refused by the seccomp filter; what Landlock alone does and does not stop
# (memfd exec, mmap PROT_EXEC) is checked so the documentation stays true; a missing or
# malformed runtime file refuses the start. The runtime file names host paths under $work.
#   CAIRN_INIT    the built init/cairn-init
#   INIT_PROBE    tests/init-probe.c
#   MEMFD_LOADER  tests/memfd-loader.c
. "$(dirname "$0")/lib.sh"
need_env CAIRN_INIT INIT_PROBE MEMFD_LOADER
need_tools cc python3 readelf

I=$CAIRN_INIT
mkdir -p "$work/bin" "$work/w" "$work/outside"
static_program "$work/bin/probe" "$INIT_PROBE"
P=$work/bin/probe
static_hello "$work/bin/named" "named ran"
static_hello "$work/hello" "unnamed ran"
cp "$work/hello" "$work/w/unnamed"
static_program "$work/bin/loader" "$MEMFD_LOADER"
# The opaque asset: a static program XOR-ed with 0x5a.
static_hello "$work/payload" "payload ran"
python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); open(sys.argv[2],"wb").write(bytes(b ^ 0x5a for b in d))' \
        "$work/payload" "$work/bin/asset"
echo existing >"$work/outside/existing"
printf '#include <stdio.h>\nint main(void) { puts("dynamic ran"); return 0; }\n' |
        ${CC:-cc} -O1 -x c -o "$work/bin/dyn" -
interp=$(readelf -lW "$work/bin/dyn" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
interp_real=$(realpath "$interp")

# runtime WRITABLE_JSON EXECUTABLES_JSON [EXTRA]: writes $work/rt.json.
runtime() {
        printf '{"schema":"cairn-runtime/1","landlock":true,"writable":%s,"executables":%s%s}\n' \
                "$1" "$2" "${3:-}" >"$work/rt.json"
}
runtime "[\"$work/w\"]" "[\"$P\",\"$work/bin/named\",\"$work/bin/loader\",\"$work/bin/dyn\"]"

# run ARGS...: cairn-init --landlock with the runtime file; status in $rc, output in out/err.
run() {
        rc=0
        timeout -k 5 30 "$I" --landlock --runtime-json "$work/rt.json" "$@" \
                >"$work/out" 2>"$work/err" </dev/null || rc=$?
}

CAIRN_INIT_VERBOSE=1 run -- "$P" exit 0 started
abi=$(sed -n 's/.*landlock ABI \([0-9]*\):.*/\1/p' "$work/err")
if [[ -z $abi ]] && grep -q "Landlock is not available" "$work/err"; then
        skip_all "Landlock is not available in this kernel"
fi
check "--landlock starts PROGRAM (status 0)" test "$rc" = 0
diag "Landlock ABI $abi; $(grep 'landlock ABI' "$work/err")"
check "the verbose line counts the rules" grep -q "landlock ABI $abi: 4 executables, 1 writable paths" "$work/err"

# ---- execute only the named executables
run -- "$P" exit 0 quiet
check "a named PROGRAM runs" grep -qx quiet "$work/out"
check "nothing on stderr when every right can be restricted (ABI >= 3)" test ! -s "$work/err"
run -- "$P" exec "$work/bin/named"
check "PROGRAM may exec a named executable" grep -qx "named ran" "$work/out"
run -- "$P" exec "$work/w/unnamed"
check "exec of an unnamed static binary in a writable path: EACCES" \
        grep -qx "exec $work/w/unnamed: EACCES" "$work/out"
run -- "$work/w/unnamed"
check "an unnamed PROGRAM: exit 126" test "$rc" = 126
check "an unnamed PROGRAM: Permission denied" \
        grep -qx "cairn-init: $work/w/unnamed: cannot execute: Permission denied" "$work/err"
run -- "$P" exec "$work/hello"
check "exec of an unnamed binary outside the writable paths: EACCES" \
        grep -qx "exec $work/hello: EACCES" "$work/out"
"$I" -- "$P" exec "$work/w/unnamed" >"$work/ctl" 2>&1
check "control: without --landlock the unnamed binary runs" grep -qx "unnamed ran" "$work/ctl"
"$I" --landlock --no-landlock --runtime-json "$work/rt.json" -- "$P" exec "$work/w/unnamed" \
        >"$work/ctl" 2>&1
check "--no-landlock after --landlock: not restricted" grep -qx "unnamed ran" "$work/ctl"

# A dynamic program needs its ELF interpreter executable too (the kernel opens it for
# execute); its libraries only need reading (mmap PROT_EXEC is not Landlock's).
run -- "$P" exec "$work/bin/dyn"
check "a named dynamic program without its interpreter listed: EACCES" \
        grep -qx "exec $work/bin/dyn: EACCES" "$work/out"
runtime "[\"$work/w\"]" "[\"$P\",\"$work/bin/dyn\",\"$interp_real\"]"
run -- "$P" exec "$work/bin/dyn"
check "with its interpreter ($interp_real) listed it runs" grep -qx "dynamic ran" "$work/out"

# An executable listed beneath a writable path could be rewritten, then run: no rule.
runtime "[\"$work/w\"]" "[\"$P\",\"$work/w/unnamed\"]"
CAIRN_INIT_VERBOSE=1 run -- "$P" exec "$work/w/unnamed"
check "a listed executable beneath a writable path still cannot run" \
        grep -qx "exec $work/w/unnamed: EACCES" "$work/out"
check "...and the verbose log says why" grep -q "$work/w/unnamed: beneath a writable path" "$work/err"
runtime "[\"$work/w\"]" "[\"$P\",\"$work/bin/named\",\"$work/bin/loader\",\"$work/bin/dyn\"]"

# ---- write only beneath the writable paths; read everywhere
run -- "$P" ops "$work/w/f"
for op in create truncate mkdir rename; do
        check "beneath a writable path: $op" grep -q "^$op $work/w/f[.a-z]*: ok" "$work/out"
done
check "beneath a writable path: unlink" grep -qx "unlink $work/w/f.moved: ok" "$work/out"
run -- "$P" ops "$work/outside/new"
check "outside: create EACCES" grep -qx "create $work/outside/new: EACCES" "$work/out"
check "outside: mkdir EACCES" grep -qx "mkdir $work/outside/new.d: EACCES" "$work/out"
run -- "$P" ops "$work/outside/existing"
check "outside: open an existing file for writing EACCES" \
        grep -qx "create $work/outside/existing: EACCES" "$work/out"
check "outside: truncate EACCES" grep -qx "truncate $work/outside/existing: EACCES" "$work/out"
check "outside: rename EACCES" grep -qx "rename $work/outside/existing: EACCES" "$work/out"
check "outside: the file is unchanged" grep -qx existing "$work/outside/existing"
run -- "$P" read "$work/outside/existing"
check "outside: reading is allowed" grep -qx "read $work/outside/existing: ok" "$work/out"
run -- "$P" ops /dev/null
check "/dev/null stays writable" grep -qx "create /dev/null: ok" "$work/out"
check "/dev itself is not" grep -qx "mkdir /dev/null.d: EACCES" "$work/out"
"$I" -- "$P" ops "$work/outside/new" >"$work/ctl" 2>&1
check "control: without --landlock the write outside works" \
        grep -qx "create $work/outside/new: ok" "$work/ctl"
rm -f "$work/outside/new"

# ---- memory-only executables
"$work/bin/loader" "$work/bin/asset" 0x5a "$work/w" >"$work/ctl" 2>&1 || true
check "control: without cairn-init the memfd loader runs its payload" grep -qx "payload ran" "$work/ctl"
run -- "$work/bin/loader" "$work/bin/asset" 0x5a "$work/w"
check "the memfd loader under cairn-init fails" test "$rc" != 0
check "...its payload never runs" not grep -q "payload ran" "$work/out"
check "...memfd_create without MFD_NOEXEC_SEAL: ENOSYS" \
        grep -qx "memfd_create(0): Function not implemented" "$work/out"
check "...memfd_create with MFD_EXEC: EPERM" \
        grep -qx "memfd_create(0x10): Operation not permitted" "$work/out"
check "...its fallback, a file in the writable path: EACCES" \
        grep -qx "file execve: Permission denied" "$work/out"
run -- "$P" memfd noexec-seal path "$work/hello"
check "an MFD_NOEXEC_SEAL memfd may be made" grep -qx "memfd_create: ok" "$work/out"
check "...and cannot be executed" grep -qx "execve memfd: EACCES" "$work/out"
run -- "$P" fexec "$work/bin/named"
check "execveat(fd, \"\", AT_EMPTY_PATH) is refused, even of a named file: EPERM" \
        grep -qx "execveat $work/bin/named: EPERM" "$work/out"

# What Landlock alone does (no seccomp filter): the findings the documentation states.
"$P" landlock-only memfd none path "$P" >"$work/out" 2>&1 || true
check "finding: Landlock alone does not stop execve(\"/proc/self/fd/N\") of a memfd" \
        grep -qx "memfd-ran" "$work/out"
"$P" landlock-only memfd none fd "$P" >"$work/out" 2>&1 || true
check "finding: Landlock alone does not stop execveat(memfd, \"\", AT_EMPTY_PATH)" \
        grep -qx "memfd-ran" "$work/out"
"$P" landlock-only fexec "$work/w/unnamed" >"$work/out" 2>&1 || true
check "finding: Landlock alone stops execveat(AT_EMPTY_PATH) of a file on disk" \
        grep -qx "execveat $work/w/unnamed: EACCES" "$work/out"
run -- "$P" mmap-exec "$work/w/unnamed"
check "finding: mmap(PROT_EXEC) of a file in a writable path is not Landlock's (documented)" \
        grep -qx "mmap-exec $work/w/unnamed: ok" "$work/out"

# ---- the runtime file must be there and well-formed when --landlock asks for it
rc=0
"$I" --landlock --runtime-json "$work/missing.json" -- "$P" exit 0 started \
        >"$work/out" 2>"$work/err" || rc=$?
check "a missing runtime file refuses the start (status 1)" test "$rc" = 1
check "...naming it" grep -qx "cairn-init: --landlock: $work/missing.json: No such file or directory" "$work/err"
check "...and PROGRAM never ran" test ! -s "$work/out"
printf '{"schema":"cairn-runtime/1","writable":["%s"],"executables":["%s",]}\n' "$work/w" "$P" \
        >"$work/rt.json"
run -- "$P" exit 0 started
check "a malformed runtime file refuses the start (status 1)" test "$rc" = 1
check "...saying where" grep -q "cairn-init: --landlock: $work/rt.json: line 1, column [0-9]*: expected a string" "$work/err"
check "...and PROGRAM never ran" test ! -s "$work/out"
printf '{"writable":[],"executables":[]}' >"$work/rt.json"
run -- "$P" exit 0 started
check "a runtime file without its schema refuses the start" test "$rc" = 1
mkdir "$work/rt-dir.json"
rc=0
"$I" --landlock --runtime-json "$work/rt-dir.json" -- "$P" exit 0 started >"$work/out" \
        2>"$work/err" || rc=$?
check "a runtime file that is a directory refuses the start" test "$rc" = 1
