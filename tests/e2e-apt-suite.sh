#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `url: apt` on a machine whose apt sources do not list the recipe's suite (issue 25): cairn
# probes each URI of the apt configuration ($CAIRN_APT_DIR here, a fake one) for a Release of
# the suite signed by the recipe's keyring that names the suite, takes the first that does and
# says which. A URI that does not serve the suite, one whose Release is signed by another key,
# and one whose signed Release names another suite are passed over, in the lookup order. A
# locked build, a build from the lock with --offline, and the error when no URI serves it.
#   CAIRN
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools gpg dpkg-deb dpkg-scanpackages xz python3 cc
export SOURCE_DATE_EPOCH=1700000000

repo_key
mkdir -p "$work/pkg/usr/bin"
static_hello "$work/pkg/usr/bin/tool-static" "tool"
repo_deb_dir "$work/repo" tool 1.0 "$work/pkg"
repo_index "$work/repo"
# The same index signed by a key the recipe does not trust.
cp -a "$work/repo" "$work/liar"
repo_other_key "$work/other.gpg"
GNUPGHOME=$work/gnupg-other gpg --batch -q --yes --detach-sign -o "$work/liar/dists/stable/Release.gpg" "$work/liar/dists/stable/Release"
# Signed by the right key, but the Release at dists/stable says it is another suite.
cp -a "$work/repo" "$work/renamed"
sed -i 's/^Suite: stable/Suite: oldstable/; s/^Codename: stable/Codename: buster/' "$work/renamed/dists/stable/Release"
gpg --batch -q --yes --detach-sign -o "$work/renamed/dists/stable/Release.gpg" "$work/renamed/dists/stable/Release"

mkdir -p "$work/r"
cat >"$work/r/apt.yaml" <<EOF2
recipe: 1
name: apt
epoch: 1700000000
sources:
  - { name: debian, url: apt, suite: stable, keyring: $work/keyring.gpg }
utilities:
  - package: tool
    files: { /usr/bin/tool-static: /usr/bin/tool }
run: { entrypoint: [/usr/bin/tool] }
variants: { prod: {} }
EOF2

# This machine's apt configuration names another suite only.
apt=$work/apt
mkdir -p "$apt/sources.list.d"
echo "deb file://$work/nowhere oldstable main" >"$apt/sources.list"
echo "deb [arch=$repo_arch] file://$work/renamed/ buster main" >"$apt/sources.list.d/b-renamed.list"
printf 'Types: deb\nURIs: file://%s\nSuites: buster\nComponents: main\n' "$work/liar" >"$apt/sources.list.d/a-liar.sources"
printf 'Types: deb-src\nURIs: file://%s\nSuites: stable\nComponents: main\n\nTypes: deb\nURIs: file://%s\nSuites: buster buster-updates\nComponents: main\n' \
  "$work/liar" "$work/repo" >"$apt/sources.list.d/c-debian.sources"
export CAIRN_APT_DIR=$apt

"$CAIRN" lock "$work/r/apt.yaml" --cache "$work/cache" >"$work/lock.out" 2>"$work/lock.err"
check "cairn lock: the suite is found by probing the apt sources' URIs" grep -q '"name": "tool"' "$work/r/apt.lock.json"
check "...and says which URI it used" grep -q "note: source debian: url: apt: no apt source of this machine lists suite 'stable' ($apt); using file://$work/repo," "$work/lock.err"
"$CAIRN" build "$work/r/apt.yaml" -o "$work/out" --cache "$work/cache" --locked >/dev/null 2>"$work/build.err"
check "a locked build from that lock" test -f "$work/out/apt-prod.tar"
check "...says which URI it used" grep -q "using file://$work/repo," "$work/build.err"
tar -C "$work" -xf "$work/out/apt-prod.tar" usr/bin/tool
check "...and picks the package's file" cmp "$work/usr/bin/tool" "$work/pkg/usr/bin/tool-static"
"$CAIRN" build "$work/r/apt.yaml" -o "$work/out-offline" --cache "$work/cache" --locked --offline -q >/dev/null
check "--offline: the probe is answered from the cache, the same bytes" diff -r "$work/out" "$work/out-offline"

# An apt configuration that lists the suite: taken as it is, no note.
printf 'deb file://%s stable main\n' "$work/repo" >"$work/apt2.list"
mkdir -p "$work/apt2" && mv "$work/apt2.list" "$work/apt2/sources.list"
CAIRN_APT_DIR=$work/apt2 "$CAIRN" build "$work/r/apt.yaml" -o "$work/out2" --cache "$work/cache2" --locked >/dev/null 2>"$work/build2.err"
check "apt sources that list the suite: the same bytes" diff -r "$work/out" "$work/out2"
check "...and no note" not grep -q "note:" "$work/build2.err"

# Nothing serves it: exit 3, each URI tried and why, and what to do.
rm -f "$apt/sources.list.d/c-debian.sources"
rc=0
"$CAIRN" build "$work/r/apt.yaml" -o "$work/out3" --cache "$work/cache3" --locked -q >/dev/null 2>"$work/err3" || rc=$?
check "no URI serves the suite: exit 3" test "$rc" = 3
check "...naming every URI tried" bash -c "grep -q 'file://$work/nowhere' '$work/err3' && grep -q 'file://$work/liar (' '$work/err3' && grep -q 'file://$work/renamed (' '$work/err3'"
check "...why the liar was passed over (its signature)" grep -q "liar (.*does not verify" "$work/err3"
check "...why the renamed one was (another suite)" grep -q "names suite 'oldstable', codename 'buster'" "$work/err3"
check "...and CAIRN_APT_DIR" grep -q "CAIRN_APT_DIR" "$work/err3"
check "...writing nothing" test ! -e "$work/out3"
