#!/usr/bin/env bash
# The inline gate: a prod build of a recipe that sneaks in a renamed BusyBox fails with exit 1,
# names the rule and the path, and writes nothing; the same recipe with a static program in
# its place builds, and the summary shows the verdict. Needs the recipe parser, the artifacts
# stage and emit.
set -euo pipefail
: "${CAIRN:?CAIRN must point at the cairn binary}"

tmp=$(mktemp -d)
# Layers go to a cache of this test's own, not the user's (the layer cache).
export XDG_CACHE_HOME="$tmp/xdg-cache"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "FAIL: $*" >&2; exit 1; }

if ! timeout 180 apt-get download busybox-static >download.log 2>&1; then
  echo "SKIP: mirror unreachable ($(grep -m1 -E '^(E|W):' download.log || tail -n1 download.log))"
  exit 77
fi
dpkg-deb -x busybox-static_*.deb pkg
cp pkg/bin/busybox helper
printf '#include <stdio.h>\nint main(void){puts("hi");return 0;}\n' | ${CC:-cc} -static -x c -o hello -

write_recipe() { # write_recipe FILE ARTIFACT
  cat >"$1" <<YAML
recipe: 1
name: sneaky
epoch: 1700000000
artifacts:
  - src: $2
    dest: /app/helper
    mode: "0755"
run:
  entrypoint: [/app/helper]
variants:
  prod: { policy: strict }
YAML
}

write_recipe bad.yaml helper
status=0
"$CAIRN" build bad.yaml -o out >stdout.txt 2>stderr.txt || status=$?
[[ $status -eq 1 ]] || { cat stdout.txt stderr.txt >&2; fail "prod build with BusyBox exited $status, want 1"; }
grep -q 'CAIRN-BUSYBOX' stderr.txt || fail "no rule id in: $(cat stderr.txt)"
grep -q '/app/helper' stderr.txt || fail "no path in: $(cat stderr.txt)"
grep -q 'nothing was written' stderr.txt || fail "no 'nothing was written' in: $(cat stderr.txt)"
[[ ! -e out ]] || fail "a failed build wrote $(ls -A out)"
# Nothing beside it either (no temporary siblings left behind).
[[ -z $(find . -maxdepth 1 -name '.out.cairn-*') ]] || fail "temporary output left behind"

# An existing OUT is left exactly as it was.
mkdir out && echo keep >out/marker
"$CAIRN" build bad.yaml -o out >/dev/null 2>&1 && fail "second bad build passed"
[[ $(ls -A out) == marker ]] || fail "failed build changed OUT: $(ls -A out)"
rm -rf out

write_recipe good.yaml hello
"$CAIRN" build good.yaml -o out >stdout.txt 2>stderr.txt || { cat stderr.txt >&2; fail "good build failed"; }
grep -Eq 'enforcer +pass \(strict\)' stdout.txt || fail "summary lacks the verdict: $(cat stdout.txt)"
[[ -e out/sneaky-prod.tar ]] || fail "no rootfs tar written"
# The written image passes the standalone enforcer with the same recipe.
"$CAIRN" enforce out/sneaky-prod.tar --recipe good.yaml --variant prod >/dev/null ||
  fail "cairn enforce disagrees with the inline verdict"
"$CAIRN" enforce out/sneaky-prod --recipe good.yaml --variant prod >/dev/null ||
  fail "cairn enforce on the OCI layout disagrees with the inline verdict"

echo "e2e-enforce-build: ok"
