#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A cairn-built prod image defends its own manifest at run time (issue 23), under runc: the
# image's cairn-init --landlock refuses to execute what the recipe did not name (an unnamed
# static binary dropped into a writable tmpfs, the memfd loader's payload) and to write where
# it did not declare (even with the root mounted read-write); the image config's Healthcheck
# runs cairn-init's probe inside the container; `cairn runtime` prints a Kubernetes Pod that
# parses as YAML with the fields checked against the Pod API's field types (kubectl needs an
# API server to validate, which a test machine has not), and `docker run` flags that are
# translated here into the runc configuration they mean and run the image. SKIPs when runc
# cannot start containers here.
#   CAIRN, CAIRN_INIT, INIT_PROBE, MEMFD_LOADER
. "$(dirname "$0")/lib.sh"
need_env CAIRN CAIRN_INIT INIT_PROBE MEMFD_LOADER
need_tools runc umoci cc python3
[[ $(id -u) -eq 0 ]] || skip_all "runc needs root"
python3 -c 'import yaml' 2>/dev/null || skip_all "python3-yaml is not installed (ci/bootstrap installs it)"
state="$work/runc-state"
at_exit 'for id in $(runc --root "$state" list -q 2>/dev/null); do runc --root "$state" kill "$id" KILL >/dev/null 2>&1; runc --root "$state" delete --force "$id" >/dev/null 2>&1; done'

# ---- the image
static_program "$work/probe" "$INIT_PROBE"
static_program "$work/loader" "$MEMFD_LOADER"
static_hello "$work/named" "named ran"
static_hello "$work/payload" "payload ran"
python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); open(sys.argv[2],"wb").write(bytes(b ^ 0x5a for b in d))' \
        "$work/payload" "$work/asset"
cat >"$work/guard.yaml" <<'EOF'
recipe: 1
name: guard
epoch: 1700000000
artifacts:
  - { src: probe, dest: /app/probe }
  - { src: named, dest: /app/named }
  - { src: loader, dest: /app/loader }
  - { src: asset, dest: /app/asset, mode: "0644" }
accounts:
  groups: [{ name: app, gid: 65532 }]
  users: [{ name: app, uid: 65532, gid: 65532 }]
files:
  - { path: /tmp, type: dir, mode: "1777" }
  - { path: /data, type: dir, uid: 65532, gid: 65532 }
  - { path: /srv/state, type: dir, uid: 65532, gid: 65532 }
  - { path: /srv/state/conf, content: "keep\n", uid: 65532, gid: 65532 }
run:
  entrypoint: [/app/probe]
  cmd: [http-serve, "8080", "200"]
  init: cairn-init
  writable: [/tmp, /data]
  healthcheck: { http: "http://127.0.0.1:8080/healthz", interval: 5s, timeout: 2s, retries: 2, start-period: 1s }
variants: { prod: {} }
EOF
"$CAIRN" build "$work/guard.yaml" -o "$work/img" --init-binary "$CAIRN_INIT" -q >/dev/null
umoci unpack --image "$work/img/guard-prod:prod" "$work/bundle" >/dev/null 2>&1
check "umoci unpacks the prod image" test -x "$work/bundle/rootfs/sbin/cairn-init"
cp "$work/bundle/config.json" "$work/config.orig"
# The config blob itself: skopeo re-serialises it without Docker's keys (Healthcheck).
python3 - "$work/img/guard-prod" >"$work/image-config.json" <<'EOF'
import json, sys
d = sys.argv[1]
blob = lambda dg: open(f"{d}/blobs/sha256/{dg.split(':')[1]}").read()
m = json.loads(blob(json.load(open(d + "/index.json"))["manifests"][0]["digest"]))
print(blob(m["config"]["digest"]))
EOF

# runc_config SPEC_JSON: $work/bundle/config.json from the image's, changed as SPEC says:
#   args: PROGRAM's part after the Entrypoint ("--" and what follows); landlock: false drops
#   --landlock from cairn-init's options; rw: the root read-write; tmpfs: [[path, options]]
#   (default /tmp and /data, the image user's, exec allowed: Landlock must be what refuses);
#   net: a network namespace of its own; docker: a config made from `docker run` flags.
runc_config() {
        python3 - "$work/config.orig" "$work/bundle/config.json" "$1" <<'EOF'
import json, sys
src, dst, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
c = json.load(open(src))
p = c["process"]
p["terminal"] = False
entry = p["args"][: p["args"].index("--")]
if spec.get("landlock", True) is False:
    entry = [a for a in entry if a != "--landlock"]
if "args" in spec:
    p["args"] = entry + ["--"] + spec["args"]
c["root"]["readonly"] = not spec.get("rw", False)
c.pop("hostname", None)
lx = c["linux"]
lx.pop("resources", None)  # the sandbox may not delegate cgroup controllers
keep = ("pid", "mount", "ipc") + (("network",) if spec.get("net") else ())
lx["namespaces"] = [ns for ns in lx["namespaces"] if ns["type"] in keep]
tmpfs = spec.get("tmpfs", [["/tmp", "mode=1777"], ["/data", "uid=65532,gid=65532,mode=0755"]])
for path, opts in tmpfs:
    c["mounts"] = [m for m in c["mounts"] if m["destination"] != path]
    c["mounts"].append({"destination": path, "type": "tmpfs", "source": "tmpfs",
                        "options": ["nosuid", "nodev", "size=4m"] + opts.split(",")})
json.dump(c, open(dst, "w"), indent=1)
EOF
}

seq_id=0
# run_container SPEC_JSON: runs it to its end; status in $rc, output in $work/out and err.
run_container() {
        seq_id=$((seq_id + 1))
        runc_config "$1"
        rc=0
        timeout -k 5 60 runc --root "$state" run --bundle "$work/bundle" "guard-$$-$seq_id" \
                >"$work/out" 2>"$work/err" </dev/null || rc=$?
}

run_container '{"args": ["/app/probe", "exit", "0", "started"]}'
if [[ $rc -ne 0 ]] && grep -q 'level=error' "$work/err" &&
        grep -qiE "cgroup|pivot_root|namespace" "$work/err"; then
        skip_all "runc cannot start containers here: $(head -1 "$work/err")"
fi
check "the image runs under runc with cairn-init --landlock (exit 0)" test "$rc" = 0
check "...its Entrypoint asks for Landlock" grep -q -- '"--landlock"' "$work/config.orig"

# ---- execute only what the recipe named
run_container '{"args": ["/app/probe", "exec", "/app/named"]}'
check "a named executable runs" grep -qx "named ran" "$work/out"
run_container '{"args": ["/app/probe", "drop", "/app/asset", "0x5a", "/tmp/unnamed"]}'
check "an unnamed static binary can be written into the writable tmpfs" \
        grep -qx "drop /tmp/unnamed: ok" "$work/out"
check "...but executing it fails with EACCES" grep -qx "exec /tmp/unnamed: EACCES" "$work/out"
run_container '{"args": ["/app/probe", "drop", "/app/asset", "0x5a", "/tmp/unnamed"], "landlock": false}'
check "control: without --landlock it runs (the tmpfs allows exec)" grep -qx "payload ran" "$work/out"
run_container '{"args": ["/app/loader", "/app/asset", "0x5a", "/tmp"]}'
check "the memfd loader fails" test "$rc" != 0
check "...and its payload never runs" not grep -q "payload ran" "$work/out"
check "...memfd_create: refused" grep -q "memfd_create(0): Function not implemented" "$work/out"
run_container '{"args": ["/app/loader", "/app/asset", "0x5a", "/tmp"], "landlock": false}'
check "control: without --landlock the loader runs its payload" grep -qx "payload ran" "$work/out"

# ---- write only beneath writable:, even on a read-write root
run_container '{"args": ["/app/probe", "ops", "/srv/state/new", "/srv/state/conf", "/data/f"], "rw": true}'
check "rw root: creating a file outside writable: EACCES" \
        grep -qx "create /srv/state/new: EACCES" "$work/out"
check "rw root: writing the user's own file outside writable: EACCES" \
        grep -qx "create /srv/state/conf: EACCES" "$work/out"
check "rw root: truncating it: EACCES" grep -qx "truncate /srv/state/conf: EACCES" "$work/out"
check "rw root: beneath writable: all is allowed" grep -qx "unlink /data/f.moved: ok" "$work/out"
check "rw root: the file is unchanged" grep -qx keep "$work/bundle/rootfs/srv/state/conf"
run_container '{"args": ["/app/probe", "ops", "/srv/state/new"], "rw": true, "landlock": false}'
check "control: without --landlock the user may write there" \
        grep -qx "create /srv/state/new: ok" "$work/out"
rm -rf "$work/bundle/rootfs/srv/state/new" "$work/bundle/rootfs/srv/state/new."*

# ---- the image config's Healthcheck, run the way Docker runs it: inside the container
python3 - "$work/image-config.json" >"$work/health" <<'EOF'
import json, sys
h = json.load(open(sys.argv[1]))["config"]["Healthcheck"]
assert h["Test"][0] == "CMD", h
print(json.dumps(h["Test"][1:]))
print(h["Interval"], h["Timeout"], h["StartPeriod"], h["Retries"])
EOF
test_cmd=$(head -1 "$work/health")
check "Healthcheck: Test runs cairn-init's probe" test "$test_cmd" = \
        '["/sbin/cairn-init", "--probe", "http://127.0.0.1:8080/healthz", "--timeout", "2"]'
check "Healthcheck: durations in nanoseconds, retries" \
        test "$(tail -1 "$work/health")" = "5000000000 2000000000 1000000000 2"
health_case() { # STATUS WANT
        local status=$1 want=$2 line cid rc=0
        seq_id=$((seq_id + 1))
        cid="guard-$$-$seq_id"
        runc_config "{\"args\": [\"/app/probe\", \"http-serve\", \"8080\", \"$status\"], \"net\": true}"
        rm -f "$work/fifo"
        mkfifo "$work/fifo"
        timeout -k 5 60 runc --root "$state" run --bundle "$work/bundle" "$cid" \
                >"$work/fifo" 2>"$work/err" </dev/null &
        local job=$!
        exec 8<"$work/fifo"
        if read -r -t 30 line <&8 && [[ $line == "listening 8080" ]]; then
                # shellcheck disable=SC2046
                runc --root "$state" exec "$cid" $(python3 -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])))' "$test_cmd") \
                        >"$work/hc.out" 2>&1 || rc=$?
                check "Healthcheck against a server answering $status: exit $want" test "$rc" = "$want"
        else
                not_ok "Healthcheck ($status): the server never listened: $line $(head -c 300 "$work/err")"
        fi
        runc --root "$state" kill "$cid" KILL >/dev/null 2>&1 || true
        exec 8<&-
        wait "$job" || true
        runc --root "$state" delete --force "$cid" >/dev/null 2>&1 || true
}
health_case 200 0
health_case 500 1
check "...and it says why" grep -q "status 500, expected 200-399" "$work/hc.out"

# ---- cairn runtime: the Kubernetes Pod
"$CAIRN" runtime "$work/img" >"$work/pod.yaml"
"$CAIRN" runtime "$work/guard.yaml" --init-binary "$CAIRN_INIT" >"$work/pod-recipe.yaml"
check "the Pod from the recipe is the Pod from the image" cmp "$work/pod.yaml" "$work/pod-recipe.yaml"
"$CAIRN" bundle "$work/guard.yaml" --init-binary "$CAIRN_INIT" --format kubernetes >"$work/pod-bundle.yaml"
check "cairn bundle --format kubernetes prints the same Pod" cmp "$work/pod.yaml" "$work/pod-bundle.yaml"
check "cairn bundle --format docker -o DIR is a usage error" exits 2 \
        "$CAIRN" bundle "$work/guard.yaml" --init-binary "$CAIRN_INIT" --format docker -o "$work/b"
check "...and writes no bundle" test ! -e "$work/b"
cat >"$work/podcheck.py" <<'EOF'
# The Pod API's types for every field the snippet writes (core/v1 Pod, PodSpec,
# PodSecurityContext, Container, SecurityContext, Capabilities, SeccompProfile, VolumeMount,
# Probe, ExecAction, Volume, EmptyDirVolumeSource): unknown fields and wrong types fail.
import sys, yaml
S, I, B, L = "string", "integer", "boolean", "list"
schema = {
    "Pod": {"apiVersion": S, "kind": S, "metadata": "ObjectMeta", "spec": "PodSpec"},
    "ObjectMeta": {"name": S},
    "PodSpec": {"securityContext": "PodSecurityContext", "containers": ["Container"],
                "volumes": ["Volume"]},
    "PodSecurityContext": {"runAsUser": I, "runAsGroup": I, "runAsNonRoot": B, "fsGroup": I,
                           "seccompProfile": "SeccompProfile"},
    "SeccompProfile": {"type": S},
    "Container": {"name": S, "image": S, "securityContext": "SecurityContext",
                  "volumeMounts": ["VolumeMount"], "livenessProbe": "Probe"},
    "SecurityContext": {"readOnlyRootFilesystem": B, "allowPrivilegeEscalation": B,
                        "privileged": B, "runAsUser": I, "runAsGroup": I, "runAsNonRoot": B,
                        "capabilities": "Capabilities", "seccompProfile": "SeccompProfile"},
    "Capabilities": {"drop": [S], "add": [S]},
    "VolumeMount": {"name": S, "mountPath": S, "readOnly": B},
    "Probe": {"exec": "ExecAction", "periodSeconds": I, "timeoutSeconds": I,
              "failureThreshold": I, "initialDelaySeconds": I, "successThreshold": I},
    "ExecAction": {"command": [S]},
    "Volume": {"name": S, "emptyDir": "EmptyDirVolumeSource"},
    "EmptyDirVolumeSource": {"medium": S},
}
def check(v, t, where):
    if isinstance(t, list):
        assert isinstance(v, list), f"{where}: want a list"
        for i, x in enumerate(v):
            check(x, t[0], f"{where}[{i}]")
    elif t == S:
        assert isinstance(v, str), f"{where}: want a string, got {v!r}"
    elif t == I:
        assert isinstance(v, int) and not isinstance(v, bool), f"{where}: want an integer"
    elif t == B:
        assert isinstance(v, bool), f"{where}: want a boolean"
    else:
        assert isinstance(v, dict), f"{where}: want an object"
        for k, x in v.items():
            assert k in schema[t], f"{where}.{k}: not a field of {t}"
            check(x, schema[t][k], f"{where}.{k}")
pod = yaml.safe_load(open(sys.argv[1]))
check(pod, "Pod", "pod")
assert pod["apiVersion"] == "v1" and pod["kind"] == "Pod"
ps = pod["spec"]["securityContext"]
c = pod["spec"]["containers"][0]
sc = c["securityContext"]
want = {
    "readOnlyRootFilesystem": sc["readOnlyRootFilesystem"] is True,
    "runAsUser": sc["runAsUser"] == 65532 and ps["runAsUser"] == 65532,
    "runAsGroup": sc["runAsGroup"] == 65532 and ps["runAsGroup"] == 65532,
    "runAsNonRoot": sc["runAsNonRoot"] is True and ps["runAsNonRoot"] is True,
    "allowPrivilegeEscalation": sc["allowPrivilegeEscalation"] is False,
    "capabilities drop ALL": sc["capabilities"]["drop"] == ["ALL"],
    "seccompProfile RuntimeDefault": sc["seccompProfile"]["type"] == "RuntimeDefault"
        and ps["seccompProfile"]["type"] == "RuntimeDefault",
    "an emptyDir medium Memory per writable path":
        sorted((m["mountPath"], [v for v in pod["spec"]["volumes"] if v["name"] == m["name"]][0]
                ["emptyDir"]["medium"]) for m in c["volumeMounts"])
        == [("/data", "Memory"), ("/tmp", "Memory")],
    "livenessProbe execs cairn-init --probe": c["livenessProbe"]["exec"]["command"]
        == ["/sbin/cairn-init", "--probe", "http://127.0.0.1:8080/healthz", "--timeout", "2"],
    "livenessProbe timing": (c["livenessProbe"]["periodSeconds"],
        c["livenessProbe"]["timeoutSeconds"], c["livenessProbe"]["failureThreshold"],
        c["livenessProbe"]["initialDelaySeconds"]) == (5, 2, 2, 1),
}
for name, good in want.items():
    print(("ok " if good else "BAD ") + name)
EOF
if python3 "$work/podcheck.py" "$work/pod.yaml" >"$work/podcheck" 2>&1; then
        ok "the Pod parses as YAML and every field has the Pod API's type"
else
        not_ok "the Pod parses as YAML and every field has the Pod API's type"
        diag "$(cat "$work/podcheck")"
fi
while read -r verdict name; do
        [[ $verdict == ok ]] && ok "Pod: $name" || not_ok "Pod: $name"
done < <(grep -E '^(ok|BAD) ' "$work/podcheck")
# The check is not blind: a Pod with a field the API lacks, or a wrong type, fails it.
sed 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: "yes"/' "$work/pod.yaml" >"$work/bad1.yaml"
sed 's/      livenessProbe:/      livenesProbe:/' "$work/pod.yaml" >"$work/bad2.yaml"
check "control: a string where the API wants a boolean fails the check" \
        not python3 "$work/podcheck.py" "$work/bad1.yaml"
check "control: a misspelt field fails the check" not python3 "$work/podcheck.py" "$work/bad2.yaml"

# ---- cairn runtime --format docker: the flags, translated into the runc config they mean
"$CAIRN" runtime "$work/img" --format docker >"$work/docker.txt"
cat >"$work/docker2runc.py" <<'EOF'
# What `docker run` does with each flag cairn prints, as runc configuration: --read-only ->
# root.readonly; --tmpfs PATH:OPTS -> a tmpfs mount with OPTS; --cap-drop ALL -> no
# capabilities in any set; --security-opt no-new-privileges -> noNewPrivileges; --user U:G ->
# process.user; -e NAME -> NAME from this environment. Any other flag is an error.
import json, os, shlex, sys
# "\\\n" continues the line, as in a shell
words = shlex.split(open(sys.argv[1]).read().replace("\\\n", " "), comments=True)
assert words[:2] == ["docker", "run"], words
c = json.load(open(sys.argv[2]))
c["root"]["readonly"] = False
p = c["process"]
i = 2
while i < len(words) - 1:
    w = words[i]
    if w == "--read-only":
        c["root"]["readonly"] = True
    elif w == "--tmpfs":
        i += 1
        path, _, opts = words[i].partition(":")
        c["mounts"] = [m for m in c["mounts"] if m["destination"] != path]
        c["mounts"].append({"destination": path, "type": "tmpfs", "source": "tmpfs",
                            "options": opts.split(",")})
    elif w == "--cap-drop" and words[i + 1] == "ALL":
        i += 1
        p["capabilities"] = {k: [] for k in ("bounding", "effective", "inheritable", "permitted", "ambient")}
    elif w == "--security-opt" and words[i + 1] == "no-new-privileges":
        i += 1
        p["noNewPrivileges"] = True
    elif w == "--user":
        i += 1
        u, g = words[i].split(":")
        p["user"] = {"uid": int(u), "gid": int(g)}
    elif w == "-e":
        i += 1
        p["env"].append(words[i] + "=" + os.environ.get(words[i], ""))
    else:
        sys.exit(f"unknown docker flag {w}")
    i += 1
print(words[-1], file=sys.stderr)
json.dump(c, open(sys.argv[3], "w"), indent=1)
EOF
cp "$work/config.orig" "$work/config.plain"
python3 - "$work/config.plain" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["root"]["readonly"] = False
c.pop("hostname", None)
lx = c["linux"]
lx.pop("resources", None)
lx["namespaces"] = [ns for ns in lx["namespaces"] if ns["type"] in ("pid", "mount", "ipc")]
json.dump(c, open(sys.argv[1], "w"), indent=1)
EOF
check "the docker flags translate (no flag unknown)" \
        python3 "$work/docker2runc.py" "$work/docker.txt" "$work/config.plain" "$work/config.docker"
check "the docker flags name the image" grep -qx "  guard:prod" "$work/docker.txt"
docker_run() { # PROGRAM-ARGS...: the image's Entrypoint with these arguments under the flags
        python3 - "$work/config.docker" "$work/bundle/config.json" "$@" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
p = c["process"]
p["args"] = p["args"][: p["args"].index("--") + 1] + sys.argv[3:]
p["terminal"] = False
json.dump(c, open(sys.argv[2], "w"), indent=1)
EOF
        seq_id=$((seq_id + 1))
        rc=0
        timeout -k 5 60 runc --root "$state" run --bundle "$work/bundle" "guard-$$-$seq_id" \
                >"$work/out" 2>"$work/err" </dev/null || rc=$?
}
docker_run /app/probe status
check "docker flags under runc: the image runs" test "$rc" = 0
check "...no new privileges" grep -qP "^NoNewPrivs:\t1$" "$work/out"
check "...no capabilities" grep -qP "^CapEff:\t0+$" "$work/out"
check "...no capabilities to regain" grep -qP "^CapBnd:\t0+$" "$work/out"
docker_run /app/probe write /tmp /data /app /srv/state
check "...the tmpfs paths are writable by the image user" \
        grep -qx "write /tmp: ok" "$work/out"
check ".../data too (uid/gid of the tmpfs)" grep -qx "write /data: ok" "$work/out"
check "...the root is read-only" grep -q "^write /app: failed" "$work/out"
check "...and the user's own directory outside writable: is not writable" \
        grep -q "^write /srv/state: failed" "$work/out"
docker_run /app/probe drop /app/asset 0x5a /tmp/unnamed
check "...an unnamed binary dropped into the tmpfs cannot run" \
        grep -qx "exec /tmp/unnamed: EACCES" "$work/out"
grep -c -- "--tmpfs" "$work/docker.txt" >"$work/n"
check "...one --tmpfs per writable path, noexec, with uid/gid/mode" \
        test "$(grep -c -- '--tmpfs /[a-z]*:rw,noexec,nosuid,nodev,mode=[0-7]\{4\},uid=[0-9]*,gid=[0-9]*' "$work/docker.txt")" = 2

# ---- the compose service says the same
"$CAIRN" runtime "$work/img" --format compose >"$work/compose.yaml"
check "the compose service parses and matches the flags" python3 - "$work/compose.yaml" "$work/docker.txt" <<'EOF'
import shlex, sys, yaml
svc = yaml.safe_load(open(sys.argv[1]))["services"]["guard"]
words = shlex.split(open(sys.argv[2]).read().replace("\\\n", " "), comments=True)
tmpfs = [words[i + 1] for i, w in enumerate(words) if w == "--tmpfs"]
assert svc["image"] == "guard:prod", svc
assert svc["read_only"] is True and "--read-only" in words
assert svc["user"] == words[words.index("--user") + 1]
assert svc["cap_drop"] == ["ALL"]
assert svc["security_opt"] == ["no-new-privileges:true"]
assert svc["tmpfs"] == tmpfs, (svc["tmpfs"], tmpfs)
EOF
