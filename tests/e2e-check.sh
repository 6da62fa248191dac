#!/bin/bash
# cairn check end to end: exit statuses and output on the example recipes and a broken one.
set -u
: "${CAIRN:?CAIRN must point at the cairn binary}"
: "${CAIRN_SOURCE_DIR:?CAIRN_SOURCE_DIR must point at the source tree}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

for r in "$CAIRN_SOURCE_DIR"/recipes/*.yaml; do
        if ! "$CAIRN" check "$r" >"$tmp/out" 2>"$tmp/err"; then
                fail "cairn check $r"
                cat "$tmp/err"
        fi
        grep -q '^variant dev$' "$tmp/out" || fail "$r: no 'variant dev' section"
        grep -q '^variant prod$' "$tmp/out" || fail "$r: no 'variant prod' section"
done

# the output is stable: two runs are byte-identical
"$CAIRN" check "$CAIRN_SOURCE_DIR/recipes/devprod.yaml" >"$tmp/a"
"$CAIRN" check "$CAIRN_SOURCE_DIR/recipes/devprod.yaml" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || fail "cairn check output differs between runs"

# dev-only utilities do not reach prod
"$CAIRN" check --variant prod "$CAIRN_SOURCE_DIR/recipes/devprod.yaml" >"$tmp/prod"
grep -q '^variant dev$' "$tmp/prod" && fail "--variant prod printed dev"
grep -q 'bash-static' "$tmp/prod" && fail "prod contains the dev-only bash-static"
grep -q 'read-only    true' "$tmp/prod" || fail "prod is not read-only"
"$CAIRN" check --variant dev "$CAIRN_SOURCE_DIR/recipes/devprod.yaml" | grep -q 'bash-static' ||
        fail "dev lacks bash-static"

# an unknown variant is a usage error
"$CAIRN" check --variant qa "$CAIRN_SOURCE_DIR/recipes/hello.yaml" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "--variant qa: want exit 2"

# a broken recipe: exit 2, every error as FILE:LINE:COL: error:
cat >"$tmp/bad.yaml" <<'YAML'
recipe: 1
name: bad
run:
  entrypont: [/app]
files:
  - { path: /etc/x/, content: y }
YAML
"$CAIRN" check "$tmp/bad.yaml" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "bad recipe: want exit 2, got $rc"
grep -q "^$tmp/bad.yaml:4:3: error: .*did you mean 'entrypoint'" "$tmp/err" ||
        fail "bad recipe: no 4:3 error"
grep -q "^$tmp/bad.yaml:6:13: error: .*write '/etc/x'" "$tmp/err" ||
        fail "bad recipe: no 6:13 error"
[ -s "$tmp/out" ] && fail "bad recipe: something printed on stdout"

# usage errors
"$CAIRN" check >/dev/null 2>&1
[ $? -eq 2 ] || fail "no argument: want exit 2"
"$CAIRN" check "$tmp/missing.yaml" >/dev/null 2>&1
[ $? -ne 0 ] || fail "missing file: want failure"
"$CAIRN" check --help | grep -q 'Usage: cairn check' || fail "--help"

if [ $failures -ne 0 ]; then
        cat "$tmp/err"
        exit 1
fi
echo "ok: cairn check"
