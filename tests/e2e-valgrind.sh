#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One end-to-end build under valgrind's memcheck (issue 10): a recipe that uses every stage
# (a signed file:// repository with a utility pick and a whole package, a file, directory and
# gzip tarball as artifacts, accounts, files, dev and prod) built cold and then --offline from
# the cache, and the result checked with cairn enforce. Any memcheck error or definite leak
# fails the test. tests/valgrind.supp holds the suppressions for Debian's libraries.
# The sanitizer build does not register this test (ASan and valgrind do not mix).
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools valgrind gpg dpkg-deb dpkg-scanpackages xz python3 cc tar
supp="$tests_dir/valgrind.supp"

repo_key
mkdir -p tool/usr/bin conf/etc/conf.d conf/usr/share/doc/conf
static_hello tool/usr/bin/tool tool
echo "a = 1" >conf/etc/conf.d/a.conf
echo "copyright" >conf/usr/share/doc/conf/copyright
ln -s conf.d/a.conf conf/etc/a.conf
repo_deb_dir "$work/repo" tool 1.0 tool
repo_deb_dir "$work/repo" conf 1.0 conf
repo_index "$work/repo"
mkdir -p data/sub tree/etc
cp tool/usr/bin/tool app
echo alpha >data/a.txt
echo beta >data/sub/b.txt
ln -s a.txt data/link
echo "from tar" >tree/etc/tarred.conf
tar --sort=name --owner=0 --group=0 --numeric-owner -C tree -czf bundle.tar.gz .
cat >recipe.yaml <<EOF
recipe: 1
name: vg
epoch: 1700000000
sources:
$(repo_source "$work/repo")
utilities:
  - { package: tool, files: { /usr/bin/tool: /usr/local/bin/tool } }
packages:
  - name: conf
artifacts:
  - { src: app, dest: /app/server }
  - { src: data, dest: /srv/data }
  - { src: bundle.tar.gz, dest: /opt/bundle }
accounts:
  groups: [{ name: app, gid: 65532 }]
  users: [{ name: app, uid: 65532, gid: 65532, home: /home/app }]
files:
  - { path: /tmp, type: dir, mode: "1777" }
  - { path: /etc/app.conf, content: "answer = 42\n" }
  - { path: /usr/bin/server, type: symlink, target: /app/server }
run:
  user: app
  entrypoint: [/app/server]
variants:
  dev: { policy: dev, run: { env: { MODE: debug } } }
  prod: { policy: dev }
EOF

memcheck() { # LOG ARGS...: cairn under memcheck; its status, or 1 on any memcheck error
  local log=$1; shift
  valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --suppressions="$supp" --log-file="$log" "$CAIRN" "$@"
}
for step in "cold:build recipe.yaml -o out --cache cache -q" \
  "offline:build recipe.yaml -o out2 --cache cache --offline -q" \
  "enforce:enforce out/vg-prod --profile dev"; do
  name=${step%%:*}
  # shellcheck disable=SC2086 # the arguments are words
  rc=0
  memcheck "vg-$name.log" ${step#*:} >/dev/null 2>"err-$name" || rc=$?
  # Valgrind 3.19 does not know openat2 (syscall 437): it answers ENOSYS, which makes cairn use
  # its fallback walk (base/beneath.c), and says so in the log; that note is not an error.
  sed -i '/unhandled amd64-linux syscall: 437/,/valgrind.org\/support\/bug_reports.html/d' "vg-$name.log"
  check "memcheck, $name: exit 0, no error, no definite leak" test $rc = 0 -a ! -s "vg-$name.log"
  if ((rc)) || [[ -s vg-$name.log ]]; then
    cat "err-$name" "vg-$name.log" >&2
  fi
done
check "the build under memcheck gives the same image as the offline one" cmp -s out/vg-prod.tar out2/vg-prod.tar
