#!/usr/bin/env bash
# The inline gate: a prod build of a recipe that sneaks in a renamed BusyBox fails with exit 1,
# names the rule and the path, and writes nothing; the same recipe with a static program in
# its place builds, and the summary shows the verdict. Needs the recipe parser, the artifacts
# stage and emit.
. "$(dirname "$0")/lib.sh"
need_env CAIRN

apt_download busybox-static
dpkg-deb -x busybox-static_*.deb pkg
cp pkg/bin/busybox helper
static_hello hello hi

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
check "prod build with BusyBox exits 1" test $status -eq 1
((status == 1)) || cat stdout.txt stderr.txt >&2
check "the message names the rule" grep -q 'CAIRN-BUSYBOX' stderr.txt
check "the message names the path" grep -q '/app/helper' stderr.txt
check "the message says nothing was written" grep -q 'nothing was written' stderr.txt
check "a failed build writes no OUT" test ! -e out
# Nothing beside it either (no temporary siblings left behind).
check "...and leaves no temporary output behind" test -z "$(find . -maxdepth 1 -name '.out.cairn-*')"

# An existing OUT is left exactly as it was.
mkdir out && echo keep >out/marker
check "a second bad build fails" not silent "$CAIRN" build bad.yaml -o out
check "the failed build leaves OUT as it was" test "$(ls -A out)" = marker
rm -rf out

write_recipe good.yaml hello
status=0
"$CAIRN" build good.yaml -o out >stdout.txt 2>stderr.txt || status=$?
check "the same recipe with a static program builds" test $status -eq 0
((status == 0)) || cat stderr.txt >&2
check "the summary shows the verdict" grep -Eq 'enforcer +pass \(strict\)' stdout.txt
check "the rootfs tar is written" test -e out/sneaky-prod.tar
# The written image passes the standalone enforcer with the same recipe.
check "cairn enforce agrees with the inline verdict" \
  quiet "$CAIRN" enforce out/sneaky-prod.tar --recipe good.yaml --variant prod
check "cairn enforce on the OCI layout agrees with the inline verdict" \
  quiet "$CAIRN" enforce out/sneaky-prod --recipe good.yaml --variant prod
