#!/usr/bin/env bash
# cairn check end to end: exit statuses and output on the example recipes and a broken one.
. "$(dirname "$0")/lib.sh"
need_env CAIRN CAIRN_SOURCE_DIR

# The example recipes with their artifact (cairn check reads every local input): a copy
# beside a freshly compiled build/hello, as ci/demo builds it (and the files they ship).
mkdir -p recipes/build
cp -R "$CAIRN_SOURCE_DIR"/recipes/. recipes/
example_programs recipes/build "$CAIRN_SOURCE_DIR/recipes/hello.c"
for r in "$work"/recipes/*.yaml; do
  b=recipes/${r##*/}
  rc=0
  "$CAIRN" check "$r" >out 2>err || rc=$?
  check "cairn check $b: exit 0" test $rc = 0
  ((rc == 0)) || cat err >&2
  # static-base's variants are distroless's tags, root and nonroot
  if [[ $b == recipes/static-base.yaml ]]; then want="root nonroot"; else want="dev prod"; fi
  for v in $want; do
    check "$b: a 'variant $v' section" grep -q "^variant $v\$" out
  done
done

# the output is stable: two runs are byte-identical
"$CAIRN" check "$work/recipes/devprod.yaml" >a
"$CAIRN" check "$work/recipes/devprod.yaml" >b
check "cairn check output is the same in two runs" cmp -s a b

# dev-only utilities do not reach prod
"$CAIRN" check --variant prod "$work/recipes/devprod.yaml" >prod.out
check "--variant prod prints no dev" not grep -q '^variant dev$' prod.out
check "prod lacks the dev-only bash-static" not grep -q 'bash-static' prod.out
check "prod is read-only" grep -q 'read-only    true' prod.out
"$CAIRN" check --variant dev "$work/recipes/devprod.yaml" >dev.out
check "dev has bash-static" grep -q 'bash-static' dev.out

# an unknown variant is a usage error
rc=0
"$CAIRN" check --variant qa "$work/recipes/hello.yaml" >/dev/null 2>err || rc=$?
check "--variant qa: exit 2" test $rc = 2

# a broken recipe: exit 2, every error as FILE:LINE:COL: error:
cat >bad.yaml <<'YAML'
recipe: 1
name: bad
run:
  entrypont: [/app]
files:
  - { path: /etc/x/, content: y }
YAML
rc=0
"$CAIRN" check "$work/bad.yaml" >out 2>err || rc=$?
check "bad recipe: exit 2" test $rc = 2
check "bad recipe: the 4:3 error" grep -q "^$work/bad.yaml:4:3: error: .*did you mean 'entrypoint'" err
check "bad recipe: the 6:13 error" grep -q "^$work/bad.yaml:6:13: error: .*write '/etc/x'" err
check "bad recipe: nothing on stdout" test ! -s out

# the example without its artifact: exit 2 at the artifact's position
rm recipes/build/hello
rc=0
"$CAIRN" check "$work/recipes/hello.yaml" >/dev/null 2>err || rc=$?
check "hello.yaml without build/hello: exit 2" test $rc = 2
check "...naming the artifact's line" grep -q "^$work/recipes/hello.yaml:[0-9]*:[0-9]*: error: artifact build/hello: cannot read" err

# usage errors
check "no argument: exit 2" exits 2 silent "$CAIRN" check
check "missing file: fails" not silent "$CAIRN" check "$work/missing.yaml"
"$CAIRN" check --help >help
check "--help prints the usage" grep -q 'Usage: cairn check' help
