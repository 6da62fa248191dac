#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A cairn-built prod image under a real OCI runtime (issues 7 and 11): `cairn profile` finds
# the paths the program writes, `cairn build` makes the read-only prod image with cairn-init
# as PID 1, umoci unpacks it into a bundle, and runc runs it with exactly those paths as
# tmpfs mounts. SKIPs when runc cannot start containers here.
. "$(dirname "$0")/lib.sh"
need_env CAIRN CAIRN_INIT
need_tools runc umoci cc python3
[[ $(id -u) -eq 0 ]] || skip_all "runc and cairn profile need root"
state="$work/runc-state"
at_exit 'for id in $(runc --root "$state" list -q 2>/dev/null); do runc --root "$state" delete --force "$id" >/dev/null 2>&1; done'

cat >"$work/app.c" <<'EOF'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
static int put(const char *p)
{
        FILE *f = fopen(p, "w");
        if (!f) {
                printf("cannot write %s: %s\n", p, strerror(errno));
                return 1;
        }
        fputs("x", f);
        return fclose(f) != 0;
}
int main(void)
{
        int bad = put("/tmp/a") + put("/var/cache/app/b") + put("/run/app.pid");
        FILE *f = fopen("/app/oops", "w");
        printf("root writable: %s\n", f ? "yes" : "no");
        printf("pid %d, parent %d\n", (int)getpid(), (int)getppid());
        return bad ? 3 : 0;
}
EOF
static_program "$work/app" "$work/app.c"
cat >"$work/svc.yaml" <<'EOF'
recipe: 1
name: svc
epoch: 1700000000
artifacts:
  - { src: app, dest: /app/svc }
accounts:
  groups: [{ name: app, gid: 65532 }]
  users: [{ name: app, uid: 65532, gid: 65532 }]
files:
  - { path: /tmp, type: dir, mode: "1777" }
  - { path: /run, type: dir, mode: "1777" }
  - { path: /var/cache/app, type: dir, uid: 65532, gid: 65532 }
run:
  entrypoint: [/app/svc]
  init: cairn-init
  require-env: [SVC_TOKEN]
  writable: [/tmp]
variants: { prod: {} }
EOF

# 1. Profile: which paths does it write?
set +e
"$CAIRN" profile "$work/svc.yaml" --duration 10 --env SVC_TOKEN=t --init-binary "$CAIRN_INIT" \
  >"$work/profile" 2>"$work/profile.err"
rc=$?
set -e
if [[ $rc -eq 4 ]] && grep -q "namespace\|root" "$work/profile.err"; then
  skip_all "cairn profile cannot create namespaces here: $(head -1 "$work/profile.err")"
fi
check "cairn profile succeeds" test $rc = 0
block=$(grep '^writable:' "$work/profile" || true)
check "profile suggests writable: [/run, /tmp, /var/cache/app]" test "$block" = "writable: [/run, /tmp, /var/cache/app]"

# 2. Build prod with the suggested block.
sed -i "s|  writable: \[/tmp\]|  $block|" "$work/svc.yaml"
"$CAIRN" build "$work/svc.yaml" -o "$work/out" --init-binary "$CAIRN_INIT" -q >/dev/null
umoci unpack --image "$work/out/svc-prod:prod" "$work/bundle" >/dev/null 2>&1
check "umoci unpacks the prod image" test -x "$work/bundle/rootfs/sbin/cairn-init"

# 3. Run it read-only with exactly the writable paths as tmpfs mounts.
runc_config() { # ENV...
  python3 - "$work/bundle/config.json" "$@" <<'EOF'
import json, sys
path, env = sys.argv[1], sys.argv[2:]
c = json.load(open(path))
p = c["process"]
p["terminal"] = False
p["env"] = [e for e in p.get("env", []) if not e.startswith("SVC_TOKEN=")] + env
c["root"]["readonly"] = True
c.pop("hostname", None)  # no UTS namespace below
lx = c["linux"]
lx.pop("resources", None)  # the sandbox may not delegate cgroup controllers
lx["namespaces"] = [ns for ns in lx["namespaces"] if ns["type"] in ("pid", "mount", "ipc")]
# runc gives a tmpfs the mode of the directory it covers (0755 for /var/cache/app), so the
# mounts belong to the image's user, as a Kubernetes emptyDir with fsGroup would.
for dest in ("/run", "/tmp", "/var/cache/app"):
    c["mounts"] = [m for m in c["mounts"] if m["destination"] != dest]
    c["mounts"].append({"destination": dest, "type": "tmpfs", "source": "tmpfs",
                        "options": ["nosuid", "nodev", "uid=65532", "gid=65532", "size=1m"]})
json.dump(c, open(path, "w"), indent=1)
EOF
}
cp "$work/bundle/config.json" "$work/config.orig"
runc_config SVC_TOKEN=secret
set +e
timeout -k 5 60 runc --root "$state" run --bundle "$work/bundle" "cairn-svc-$$" \
  >"$work/run.out" 2>"$work/run.err" </dev/null
rc=$?
set -e
# Only runc's own failure to start a container is a reason to skip, never the image's.
if [[ $rc -ne 0 ]] && grep -q 'level=error' "$work/run.err" &&
  grep -qiE "cgroup|pivot_root|namespace" "$work/run.err"; then
  skip_all "runc cannot start containers here: $(head -1 "$work/run.err")"
fi
check "the prod image runs under runc and exits 0" test $rc = 0
check "every profiled write succeeds" bash -c "! grep -q 'cannot write' '$work/run.out'"
check "the root filesystem is read-only" grep -qx 'root writable: no' "$work/run.out"
check "the program's parent is cairn-init, PID 1" grep -q 'parent 1$' "$work/run.out"
check "config.json's user is the recipe's app user" \
  python3 -c "import json,sys; u=json.load(open('$work/config.orig'))['process']['user']; sys.exit(not (u['uid']==65532 and u['gid']==65532))"

# 4. Without the required environment cairn-init refuses to start the program.
cp "$work/config.orig" "$work/bundle/config.json"
runc_config
set +e
timeout -k 5 60 runc --root "$state" run --bundle "$work/bundle" "cairn-svc-noenv-$$" \
  >"$work/run2.out" 2>"$work/run2.err" </dev/null
rc=$?
set -e
check "a missing required variable stops the container (non-zero exit)" test $rc -ne 0
check "...with cairn-init's message" grep -q 'SVC_TOKEN' "$work/run2.err"
check "...and the program never ran" test ! -s "$work/run2.out"
