#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# /etc/cairn/runtime.json as cairn build writes it (issue 23), without running anything: the
# executables (named ones, glob-allowed ones, the interpreter of a dynamic program, nothing
# beneath a writable path), the tmpfs owners, the health check and its probe command, the same
# bytes in the config's Healthcheck, --landlock in the Entrypoint of prod only, the same bytes
# from two builds and from `cairn runtime --format json`; recipes that cannot work under
# Landlock are refused before anything is written.
#   CAIRN, CAIRN_INIT
. "$(dirname "$0")/lib.sh"
need_env CAIRN CAIRN_INIT
need_tools cc python3 readelf

mkdir -p "$work/in"
static_hello "$work/in/svc" "svc"
static_hello "$work/in/tool" "tool"
printf '#include <stdio.h>\nint main(void) { puts("dyn"); return 0; }\n' | ${CC:-cc} -O1 -x c -o "$work/in/dyn" -
interp=$(readelf -lW "$work/in/dyn" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
mkdir -p "$work/in/bundle/bin"
cp "$work/in/tool" "$work/in/bundle/bin/helper"
cp "$work/in/tool" "$work/in/bundle/bin/unlisted"
# The interpreter comes from an artifact directory (the dynamic program's libraries are not
# the point here: the enforcer runs in dev for it).
mkdir -p "$work/in/ld"
cp "$(realpath "$interp")" "$work/in/ld/$(basename "$interp")"
cat >"$work/in/r.yaml" <<EOF
recipe: 1
name: rt
epoch: 1700000000
artifacts:
  - { src: svc, dest: /app/svc }
  - { src: bundle, dest: /opt/bundle }
  - { src: dyn, dest: /app/dyn, variants: [dev] }
  - { src: ld, dest: $(dirname "$interp"), variants: [dev] }
  - { src: tool, dest: /data/tool }
accounts:
  groups: [{ name: app, gid: 65532 }]
  users: [{ name: app, uid: 65532, gid: 65532 }]
files:
  - { path: /tmp, type: dir, mode: "1777" }
  - { path: /data, type: dir, mode: "0750" }
  - { path: /etc/app.conf, content: "x" }
run:
  entrypoint: [/app/svc]
  init: cairn-init
  writable: [/tmp, /data, /var/cache/svc, /etc/app.conf]
  require-env: [TOKEN]
  healthcheck: { tcp: "127.0.0.1:5432", interval: 10s, timeout: 1500ms, retries: 4 }
variants:
  dev: { policy: dev, run: { read-only: false } }
  prod: {}
policy:
  strict: { allow-executables: [/opt/bundle/bin/helper], disable-rules: [CAIRN-EXEC-UNLISTED] }
EOF
build() { "$CAIRN" build "$work/in/r.yaml" --init-binary "$CAIRN_INIT" -q "$@" >/dev/null; }
build -o "$work/out"
build -o "$work/out2"
tar -xOf "$work/out/rt-prod.tar" etc/cairn/runtime.json >"$work/prod.json"
tar -xOf "$work/out/rt-dev.tar" etc/cairn/runtime.json >"$work/dev.json"
tar -xOf "$work/out2/rt-prod.tar" etc/cairn/runtime.json >"$work/prod2.json"
check "two builds write the same runtime.json" cmp "$work/prod.json" "$work/prod2.json"
check "runtime.json is 0644 root:root" \
        bash -c "tar --numeric-owner -tvf '$work/out/rt-prod.tar' etc/cairn/runtime.json | grep -q '^-rw-r--r-- 0/0 '"

check "prod: the whole document" python3 - "$work/prod.json" <<'EOF'
import json, sys
raw = open(sys.argv[1]).read()
d = json.loads(raw)
want_keys = ["schema", "name", "variant", "user", "read-only", "writable", "require-env", "init",
             "stop-signal", "capabilities", "landlock", "tmpfs", "executables", "healthcheck"]
assert list(d) == want_keys, list(d)
assert raw.endswith("}\n") and "\n" not in raw[:-1], "compact, one line"
assert d["schema"] == "cairn-runtime/1" and d["name"] == "rt" and d["variant"] == "prod"
assert d["user"] == "65532:65532" and d["read-only"] is True and d["landlock"] is True
assert d["require-env"] == ["TOKEN"]
# named: the entrypoint and cairn-init; allowed: the glob; not the unlisted one (its rule is
# disabled, it is still not named); not /data/tool (beneath a writable path)
assert d["executables"] == ["/app/svc", "/opt/bundle/bin/helper", "/sbin/cairn-init"], d["executables"]
# /tmp is 1777: root's tmpfs, its mode; /data is 0750: the user's; /var/cache/svc is not in
# the image: the user's, 0755; /etc/app.conf is a file: no tmpfs
assert d["tmpfs"] == [
    {"path": "/tmp", "mode": "1777", "uid": 0, "gid": 0},
    {"path": "/data", "mode": "0750", "uid": 65532, "gid": 65532},
    {"path": "/var/cache/svc", "mode": "0755", "uid": 65532, "gid": 65532}], d["tmpfs"]
assert d["healthcheck"] == {"type": "tcp", "target": "tcp://127.0.0.1:5432", "expect": None,
    "interval": 10000000000, "timeout": 1500000000, "start-period": 0, "retries": 4,
    "command": ["/sbin/cairn-init", "--probe", "tcp://127.0.0.1:5432", "--timeout", "2"]}, d["healthcheck"]
EOF
check "dev: every executable (dev profile), with the dynamic program's interpreter" python3 - "$work/dev.json" "$interp" <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1]))
interp_dir = os.path.dirname(sys.argv[2])
assert d["landlock"] is False and d["read-only"] is False
ex = d["executables"]
assert ex == sorted(ex)
for p in ["/app/dyn", "/app/svc", "/opt/bundle/bin/helper", "/opt/bundle/bin/unlisted", "/sbin/cairn-init"]:
    assert p in ex, (p, ex)
assert any(p.startswith(interp_dir + "/") for p in ex), ex
assert "/data/tool" not in ex
EOF

# The config: --landlock in prod's Entrypoint only; the Healthcheck is runtime.json's.
config_of() { # LAYOUT
        python3 - "$1" <<'EOF'
import json, sys
d = sys.argv[1]
blob = lambda dg: json.load(open(f"{d}/blobs/sha256/{dg.split(':')[1]}"))
m = blob(json.load(open(d + "/index.json"))["manifests"][0]["digest"])
print(json.dumps(blob(m["config"]["digest"])["config"]))
EOF
}
config_of "$work/out/rt-prod" >"$work/prod-config.json"
config_of "$work/out/rt-dev" >"$work/dev-config.json"
check "prod's Entrypoint: cairn-init --landlock" python3 - "$work/prod-config.json" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))["Entrypoint"]
assert e[0] == "/sbin/cairn-init" and "--landlock" in e and e.index("--landlock") < e.index("--"), e
EOF
check "dev's Entrypoint: no --landlock (read-write root)" \
        python3 -c 'import json,sys; sys.exit("--landlock" in json.load(open(sys.argv[1]))["Entrypoint"])' "$work/dev-config.json"
check "the Healthcheck is runtime.json's command and values" python3 - "$work/prod-config.json" "$work/prod.json" <<'EOF'
import json, sys
h = json.load(open(sys.argv[1]))["Healthcheck"]
r = json.load(open(sys.argv[2]))["healthcheck"]
assert h == {"Test": ["CMD"] + r["command"], "Interval": r["interval"], "Timeout": r["timeout"],
             "StartPeriod": r["start-period"], "Retries": r["retries"]}, h
EOF

# cairn runtime --format json gives the image's bytes, from OUT, the layout and the tar.
"$CAIRN" runtime "$work/out" --format json >"$work/rt-out.json"
"$CAIRN" runtime "$work/out/rt-dev" --format json >"$work/rt-layout.json"
"$CAIRN" runtime "$work/out/rt-prod.tar" --format json >"$work/rt-tar.json"
"$CAIRN" runtime "$work/out" --variant dev --format json >"$work/rt-dev-variant.json"
check "cairn runtime OUT: prod's runtime.json byte for byte" cmp "$work/rt-out.json" "$work/prod.json"
check "cairn runtime LAYOUT: that layout's" cmp "$work/rt-layout.json" "$work/dev.json"
check "cairn runtime TAR" cmp "$work/rt-tar.json" "$work/prod.json"
check "cairn runtime OUT --variant dev" cmp "$work/rt-dev-variant.json" "$work/dev.json"
"$CAIRN" runtime "$work/out" --format docker >"$work/docker.txt"
check "docker: -e for the required variable" grep -qx -- "  -e TOKEN \\\\" "$work/docker.txt"
check "docker: no tmpfs for a writable file" not grep -q "app.conf" "$work/docker.txt"
mkdir "$work/plain"
echo x >"$work/plain/f"
check "an image without runtime.json: exit 2" exits 2 "$CAIRN" runtime "$work/plain"
check "an unknown --format: exit 2" exits 2 "$CAIRN" runtime "$work/out" --format helm

# Recipes that cannot work under Landlock are refused before anything is written.
refused() { # NAME SED-EXPR FRAGMENT
        sed "$2" "$work/in/r.yaml" >"$work/in/$1.yaml"
        local rc=0
        "$CAIRN" build "$work/in/$1.yaml" -o "$work/out-$1" --init-binary "$CAIRN_INIT" -q \
                >/dev/null 2>"$work/err" || rc=$?
        check "$1: exit 2" test "$rc" = 2
        check "$1: the message" grep -q "$3" "$work/err"
        check "$1: nothing written" test ! -e "$work/out-$1"
}
refused entrypoint-writable 's|  writable: \[/tmp,|  writable: [/app, /tmp,|' \
        "the entrypoint /app/svc lies beneath writable: /app"
refused root-writable 's|  writable: \[/tmp,|  writable: [/, /tmp,|' "beneath writable: /"
refused healthcheck-without-init 's|^  init: cairn-init$||' "run.healthcheck needs run.init: cairn-init"
refused landlock-without-init \
        's|^  init: cairn-init$|  landlock: true|; s|^  healthcheck: .*$||' \
        "run.landlock needs run.init: cairn-init"
