#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Real services, part 2 (issue 21), on a signed repository this test makes from this machine's
# own glibc and bash and from programs it compiles: a programs: item places exactly the program,
# its PT_INTERP and its libraries (SONAME links followed, a dlopen: plugin with its own RUNPATH
# library), the copyright and status.d files of the packages that gave files and of no other,
# the SBOM lists the same packages, the prod image passes strict and runs; the whole package
# fails strict (the unused library and the unnamed dynamic program); bash named as a program is
# still refused; a library no package provides is an error naming the program and the library.
. "$(dirname "$0")/lib.sh"
need_env CAIRN
need_tools gpg dpkg-deb dpkg-scanpackages xz python3 cc ldd
[[ $repo_arch == amd64 && -e /lib64/ld-linux-x86-64.so.2 && -e /lib/x86_64-linux-gnu/libtinfo.so.6 ]] ||
  skip_all "needs an amd64 Debian host (its glibc and bash are packed as fixtures)"
export SOURCE_DATE_EPOCH=1700000000
repo_key
ml=/lib/x86_64-linux-gnu

deb() { # DIR NAME VERSION [DEPENDS]
  mkdir -p "$1/DEBIAN" "$1/usr/share/doc/$2" "$work/repo/pool"
  printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: 2023 cairn tests\nLicense: Expat\n' \
    >"$1/usr/share/doc/$2/copyright"
  printf 'Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: cairn tests <test@cairn.invalid>\n%sDescription: test package\n' \
    "$2" "$3" "$repo_arch" "${4:+Depends: $4
}" >"$1/DEBIAN/control"
  dpkg-deb --root-owner-group -Zxz --build "$1" "$work/repo/pool/${2}_${3}_$repo_arch.deb" >/dev/null
}

# hostc: this machine's loader, libc and libtinfo as libc6 lays them out, plus what a program
# never loads: a gconv-like module and an unused library.
c=$work/pkg-hostc
mkdir -p "$c/lib64" "$c$ml/gconv"
cp -L /lib64/ld-linux-x86-64.so.2 "$c$ml/ld-linux-x86-64.so.2"
ln -s "$ml/ld-linux-x86-64.so.2" "$c/lib64/ld-linux-x86-64.so.2"
cp -L "$ml/libc.so.6" "$ml/libtinfo.so.6" "$c$ml/"
cp -L "$ml/libm.so.6" "$c$ml/libunused.so.1"
cp -L "$ml/libm.so.6" "$c$ml/gconv/UTF-16.so"
deb "$c" hostc 2.36-1

# libgreet1: a library behind its SONAME link.
g=$work/pkg-libgreet1
mkdir -p "$g/usr/lib/x86_64-linux-gnu" "$work/src"
printf 'const char *greeting(void) { return "hello from libgreet"; }\n' >"$work/src/greet.c"
cc -shared -fPIC -Wl,-soname,libgreet.so.1 -o "$g/usr/lib/x86_64-linux-gnu/libgreet.so.1.0.0" "$work/src/greet.c"
ln -s libgreet.so.1.0.0 "$g/usr/lib/x86_64-linux-gnu/libgreet.so.1"
deb "$g" libgreet1 1.0-1 hostc

# greet: the program, a plugin it opens with dlopen (whose library sits beside it, found through
# RUNPATH $ORIGIN/../private), another dynamic program, a perl script; it depends on greet-data,
# which gives the program nothing.
p=$work/pkg-greet
mkdir -p "$p/usr/bin" "$p/usr/lib/greet/plugins" "$p/usr/lib/greet/private" "$p/usr/share/greet"
cat >"$work/src/main.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
const char *greeting(void);
int main(void)
{
        void *h = dlopen("/usr/lib/greet/plugins/hello.so", RTLD_NOW);
        const char *(*plugin)(void) = h ? (const char *(*)(void))dlsym(h, "plugin") : NULL;
        printf("%s; %s\n", greeting(), plugin ? plugin() : dlerror());
        return plugin ? 0 : 1;
}
C
printf 'const char *plug_word(void) { return "plugin"; }\n' >"$work/src/plug.c"
printf 'const char *plug_word(void);\nconst char *plugin(void) { return plug_word(); }\n' >"$work/src/hello.c"
cc -shared -fPIC -Wl,-soname,libplug.so.1 -o "$p/usr/lib/greet/private/libplug.so.1" "$work/src/plug.c"
cc -shared -fPIC -o "$p/usr/lib/greet/plugins/hello.so" "$work/src/hello.c" \
  -L"$p/usr/lib/greet/private" -l:libplug.so.1 -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../private'
cc -o "$p/usr/bin/greet" "$work/src/main.c" -L"$g/usr/lib/x86_64-linux-gnu" -l:libgreet.so.1 -ldl
printf 'const char *bye(void) { return "bye"; }\n' >"$work/src/bye.c"
cc -shared -fPIC -o "$p/usr/lib/greet/plugins/bye.so" "$work/src/bye.c"
echo hello >"$p/usr/share/greet/words.txt"
printf 'int main(void) { return 0; }\n' >"$work/src/other.c"
cc -o "$p/usr/bin/other" "$work/src/other.c"
printf '#!/usr/bin/perl\nprint "hi\\n";\n' >"$p/usr/share/greet/x.pl"
chmod 0755 "$p/usr/share/greet/x.pl"
deb "$p" greet 1.0-1 "libgreet1, hostc, greet-data"
d=$work/pkg-greet-data
mkdir -p "$d/usr/share/greet-data"
echo data >"$d/usr/share/greet-data/words"
deb "$d" greet-data 1.0-1

# shell: this machine's bash.
s=$work/pkg-shell
mkdir -p "$s/usr/bin"
cp /bin/bash "$s/usr/bin/bash"
deb "$s" shell 5.2-1 hostc

# broken: needs a library no package has.
b=$work/pkg-broken
mkdir -p "$b/usr/bin"
cc -o "$b/usr/bin/broken" "$work/src/main.c" -L"$g/usr/lib/x86_64-linux-gnu" -l:libgreet.so.1 -ldl
deb "$b" broken 1.0-1 hostc
repo_index "$work/repo"

recipe() { # NAME BODY
  printf 'recipe: 1\nname: %s\nepoch: 1700000000\nidentity: { debian: false }\nsources:\n%s\n%s\n' \
    "$1" "$(repo_source "$work/repo")" "$2"
}
finding() { # FILE RULE PATH: the report in FILE lists PATH under RULE
  awk -v r="$2" -v p="$3" '/^CAIRN-/ { rule = $1 } /^  - / { x = $2; sub(/:$/, "", x); if (rule == r && x == p) f = 1 }
    END { exit !f }' "$1"
}
build() { # RECIPE [OPTION...]: builds into $work/out-NAME, 0 or cairn's status
  local name
  name=$(basename "$1" .yaml)
  "$CAIRN" build "$1" -o "$work/out-$name" --cache "$work/cache" -q "${@:2}" >/dev/null 2>"$work/err-$name"
}

recipe greet "$(
  cat <<'EOF'
programs:
  - package: greet
    path: /usr/bin/greet
    dlopen: [/usr/lib/greet/plugins/*.so]
run: { entrypoint: [/usr/bin/greet] }
variants: { prod: { policy: strict } }
EOF
)" >"$work/greet.yaml"
check "cairn check lists the programs: item and its dlopen: pattern" bash -c \
  "'$CAIRN' check '$work/greet.yaml' | grep -A1 -x '  program greet: /usr/bin/greet -> /usr/bin/greet (its load closure)' | grep -qx '  program greet: dlopen /usr/lib/greet/plugins/\*.so'"
check "a programs: item builds a strict prod image" build "$work/greet.yaml"
cat "$work/err-greet" >&2
mkdir -p "$work/root"
tar -C "$work/root" -xf "$work/out-greet/greet-prod.tar"
(cd "$work/root" && find . ! -type d | LC_ALL=C sort) >"$work/files"
check "the image holds the program, its loader, its libraries with their links, the plugin and its library, and nothing else" \
  diff "$work/files" - <<'EOF'
./etc/cairn/runtime.json
./etc/os-release
./lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
./lib/x86_64-linux-gnu/libc.so.6
./lib64/ld-linux-x86-64.so.2
./usr/bin/greet
./usr/lib/greet/plugins/bye.so
./usr/lib/greet/plugins/hello.so
./usr/lib/greet/private/libplug.so.1
./usr/lib/x86_64-linux-gnu/libgreet.so.1
./usr/lib/x86_64-linux-gnu/libgreet.so.1.0.0
./usr/share/doc/greet/copyright
./usr/share/doc/hostc/copyright
./usr/share/doc/libgreet1/copyright
./var/lib/dpkg/status.d/greet
./var/lib/dpkg/status.d/greet.md5sums
./var/lib/dpkg/status.d/hostc
./var/lib/dpkg/status.d/hostc.md5sums
./var/lib/dpkg/status.d/libgreet1
./var/lib/dpkg/status.d/libgreet1.md5sums
EOF
# What ldd says the program loads, on this machine, against the same files.
ldd_names() { LD_LIBRARY_PATH="$g/usr/lib/x86_64-linux-gnu" ldd "$1" | awk '$1 !~ /^linux-vdso/ { n = $1; sub(/.*\//, "", n); print n }' | LC_ALL=C sort; }
check "the program's libraries are what ldd lists for it" \
  diff <(ldd_names "$p/usr/bin/greet") \
  <(for f in ld-linux-x86-64.so.2 libc.so.6 libgreet.so.1; do echo $f; done | LC_ALL=C sort)
check "status.d/hostc.md5sums lists exactly the files it gave" \
  diff <(awk '{ print $2 }' "$work/root/var/lib/dpkg/status.d/hostc.md5sums") \
  <(printf 'lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\nlib/x86_64-linux-gnu/libc.so.6\nusr/share/doc/hostc/copyright\n')
check "the SBOM lists the packages that gave files, and no other" \
  diff <(python3 -c 'import json,sys; print("\n".join(sorted(p["name"] for p in json.load(open(sys.argv[1]))["packages"] if p.get("SPDXID","").startswith("SPDXRef-Package-deb"))))' "$work/out-greet/greet-prod.spdx.json") \
  <(printf 'greet\nhostc\nlibgreet1\n')
check "the lock lists the whole Depends closure as needed by the program" \
  grep -q '"program greet"' "$work/greet.lock.json"
if unshare -r true 2>/dev/null; then
  check "the program runs in the image: its libraries and the dlopen plugin load" \
    test "$(unshare -r chroot "$work/root" /usr/bin/greet)" = "hello from libgreet; plugin"
else
  skip "the program runs in the image" "no user namespaces here"
fi
first=$(sha256sum <"$work/out-greet/greet-prod.tar")
rm -rf "$work/out-greet"
build "$work/greet.yaml"
check "a rebuild gives the same bytes" test "$(sha256sum <"$work/out-greet/greet-prod.tar")" = "$first"

# The reads record: only-read patterns keep what it lists, once it is current.
recipe greetr "$(
  cat <<'EOF'
programs:
  - package: greet
    path: /usr/bin/greet
    dlopen: [/usr/lib/greet/plugins/*.so]
    data: [/usr/share/greet/**]
    only-read: true
run: { entrypoint: [/usr/bin/greet] }
variants: { prod: { policy: strict } }
EOF
)" >"$work/greetr.yaml"
"$CAIRN" build "$work/greetr.yaml" -o "$work/out-greetr" --cache "$work/cache" >"$work/greetr.out" 2>"$work/err-greetr"
check "without a record an only-read item keeps every match, and the summary says so" \
  grep -q 'reads record .*greetr.reads.json: none; only-read patterns kept every match' "$work/greetr.out"
check "...bye.so is there" silent tar -tf "$work/out-greetr/greetr-prod.tar" usr/lib/greet/plugins/bye.so
check "...so is the data, without its exec bit" matches "$(tar -tvf "$work/out-greetr/greetr-prod.tar" usr/share/greet/x.pl)" "-rw-r--r--*"
check "--locked refuses a missing record" exits 2 build "$work/greetr.yaml" --locked
check "...saying how to make one" grep -q "greetr.reads.json: no reads record.*cairn profile .*--write-reads" "$work/err-greetr"
record() { # DIGEST-OR-EMPTY PATH...: writes greetr.reads.json for the lock's packages
  python3 - "$work/greetr.lock.json" "$work/greetr.reads.json" "$@" <<'PY'
import hashlib, json, sys
lock, out, digest, paths = sys.argv[1], sys.argv[2], sys.argv[3], sorted(sys.argv[4:])
pk = json.load(open(lock))["packages"]
text = "".join("%s %s %s\n" % (p["name"], p["version"], p["sha256"]) for p in pk)
digest = digest or "sha256:" + hashlib.sha256(text.encode()).hexdigest()
rec = {"reads-record": 1, "recipe": "greetr", "variant": "prod", "packages": digest, "reads": paths}
open(out, "w").write(json.dumps(rec, indent=2) + "\n")
PY
}
record "" /usr/lib/greet/plugins/hello.so /usr/share/greet/words.txt /usr/bin/greet
check "with a current record the build succeeds under --locked" build "$work/greetr.yaml" --locked
tar -tf "$work/out-greetr/greetr-prod.tar" | LC_ALL=C sort >"$work/greetr.files"
check "...the plugin the record lists is there, with its own library" \
  grep -qx usr/lib/greet/private/libplug.so.1 "$work/greetr.files"
check "...the plugin it does not list is not" not grep -q "bye.so" "$work/greetr.files"
check "...nor the data it does not list" not grep -q "x.pl" "$work/greetr.files"
check "...the data it lists is" grep -qx usr/share/greet/words.txt "$work/greetr.files"
first=$(sha256sum <"$work/out-greetr/greetr-prod.tar")
rm -rf "$work/out-greetr"
build "$work/greetr.yaml" --locked
check "...and a rebuild with it gives the same bytes" test "$(sha256sum <"$work/out-greetr/greetr-prod.tar")" = "$first"
# The record is keyed by the recipe file, as the lock is: another file with the same name: has
# its own (none yet), and never takes greetr.reads.json.
cp "$work/greetr.yaml" "$work/greetr-copy.yaml"
cp "$work/greetr.lock.json" "$work/greetr-copy.lock.json"
check "a second recipe file with the same name: has no record of its own under --locked" \
  exits 2 build "$work/greetr-copy.yaml" --locked
check "...it looks for greetr-copy.reads.json" grep -q "greetr-copy.reads.json: no reads record" "$work/err-greetr-copy"
rm -f "$work/greetr-copy.yaml" "$work/greetr-copy.lock.json"
record sha256:0000000000000000000000000000000000000000000000000000000000000000 /usr/lib/greet/plugins/hello.so
check "--locked refuses a stale record (other packages)" exits 2 build "$work/greetr.yaml" --locked
check "...saying it is stale" grep -q "greetr.reads.json: the reads record is stale: it was made with other packages" "$work/err-greetr"
check "without --locked a stale record keeps every match" build "$work/greetr.yaml"
check "...bye.so included" silent tar -tf "$work/out-greetr/greetr-prod.tar" usr/lib/greet/plugins/bye.so
printf '{"reads-record": 1}\n' >"$work/greetr.reads.json"
check "a malformed record is a recipe error, --locked or not" exits 2 build "$work/greetr.yaml"
check "...naming it" grep -q "greetr.reads.json.*missing 'recipe'" "$work/err-greetr"

# The same package installed whole: strict refuses what the program never loads.
recipe whole "$(
  cat <<'EOF'
packages: [greet]
variants: { prod: { policy: strict } }
EOF
)" >"$work/whole.yaml"
check "the whole package fails strict" exits 1 build "$work/whole.yaml"
check "...the library no program loads is an unlisted executable" finding "$work/err-whole" CAIRN-EXEC-UNLISTED $ml/libunused.so.1
check "...the dynamic program nobody named is CAIRN-DYNAMIC" finding "$work/err-whole" CAIRN-DYNAMIC /usr/bin/other
check "...and the program's own libraries are unlisted there" finding "$work/err-whole" CAIRN-EXEC-UNLISTED /usr/lib/x86_64-linux-gnu/libgreet.so.1.0.0

# A named program is never exempt from the content rules.
recipe bash "$(
  cat <<'EOF'
programs:
  - { package: shell, path: /usr/bin/bash }
variants: { prod: { policy: strict } }
EOF
)" >"$work/bash.yaml"
check "bash named as a program fails strict" exits 1 build "$work/bash.yaml"
check "...as a shell" finding "$work/err-bash" CAIRN-SHELL /usr/bin/bash
check "...while its libraries are allowed by the closure" not grep -q "^CAIRN-EXEC-UNLISTED\|^CAIRN-DYNAMIC" "$work/err-bash"

recipe broken "$(
  cat <<'EOF'
programs:
  - { package: broken, path: /usr/bin/broken }
EOF
)" >"$work/broken.yaml"
check "a library in none of the closure's packages is a source error" exits 3 build "$work/broken.yaml"
check "...naming the program and the library" grep -q "program /usr/bin/broken.*usr/bin/broken: library libgreet.so.1 (DT_NEEDED)" "$work/err-broken"
check "...and nothing was written" test ! -e "$work/out-broken"

recipe nope "$(
  cat <<'EOF'
programs:
  - { package: greet, path: /usr/bin/nope }
EOF
)" >"$work/nope.yaml"
check "a program the closure does not hold is an error naming it" exits 3 build "$work/nope.yaml"
check "...with the recipe's position" grep -q "nope.yaml:[0-9]*:[0-9]*: error: program /usr/bin/nope is in none of the packages" "$work/err-nope"

recipe nodl "$(
  cat <<'EOF'
programs:
  - { package: greet, path: /usr/bin/greet, dlopen: [/usr/lib/greet/nothing/*.so] }
EOF
)" >"$work/nodl.yaml"
check "a dlopen: pattern that matches nothing is an error naming it" exits 3 build "$work/nodl.yaml"
check "...with the pattern" grep -q "dlopen: nothing matching /usr/lib/greet/nothing/\*.so" "$work/err-nodl"
