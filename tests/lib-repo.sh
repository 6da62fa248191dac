# SPDX-License-Identifier: Apache-2.0
# Sourced by end-to-end tests that need a signed Debian repository of their own (the pattern
# of e2e-deb-local.sh): a throwaway gpg key, .debs packed by dpkg-deb or assembled by hand
# (for data.tar contents dpkg-deb would never write), Packages and a signed Release.
# Needs: $work (the test's temp dir), gpg, dpkg-deb, dpkg-scanpackages, xz, python3, ar.

repo_arch=$(dpkg --print-architecture)

# A throwaway signing key in $work/gnupg, exported to $work/keyring.gpg.
repo_key() {
  export GNUPGHOME="$work/gnupg"
  mkdir -p -m 700 "$GNUPGHOME"
  gpg --batch -q --passphrase '' --quick-gen-key "cairn test <test@cairn.invalid>" rsa2048 sign never 2>/dev/null
  gpg --batch -q --export >"$work/keyring.gpg"
}

repo_key_cleanup() {
  gpgconf --homedir "$work/gnupg" --kill all >/dev/null 2>&1 || true
}

# repo_deb_dir REPO NAME VERSION DIR: packs DIR (with DIR/DEBIAN/control written here) into
# REPO/pool/NAME_VERSION_ARCH.deb with dpkg-deb.
repo_deb_dir() {
  local repo=$1 name=$2 ver=$3 dir=$4
  mkdir -p "$dir/DEBIAN" "$repo/pool"
  printf 'Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: cairn tests <test@cairn.invalid>\nDescription: test package\n' \
    "$name" "$ver" "$repo_arch" >"$dir/DEBIAN/control"
  dpkg-deb --root-owner-group -Zxz --build "$dir" "$repo/pool/${name}_${ver}_$repo_arch.deb" >/dev/null
}

# repo_deb_raw REPO NAME VERSION DATA_TAR: a .deb assembled with ar around DATA_TAR (any
# compression; its member name follows the file's suffix), for entries dpkg-deb refuses.
repo_deb_raw() {
  local repo=$1 name=$2 ver=$3 data=$4 d
  d=$(mktemp -d "$work/raw-XXXXXX")
  mkdir -p "$d/control" "$repo/pool"
  printf 'Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: cairn tests <test@cairn.invalid>\nDescription: test package\n' \
    "$name" "$ver" "$repo_arch" >"$d/control/control"
  tar -C "$d/control" --owner=0 --group=0 -czf "$d/control.tar.gz" ./control
  echo 2.0 >"$d/debian-binary"
  cp "$data" "$d/data.tar${data##*.tar}"
  (cd "$d" && ar rc "$repo/pool/${name}_${ver}_$repo_arch.deb" debian-binary control.tar.gz "data.tar${data##*.tar}")
  rm -rf "$d"
}

# repo_index REPO [PACKAGES-EXTRA]: writes dists/stable/main/binary-ARCH/Packages(.xz) for
# REPO/pool/*.deb (PACKAGES-EXTRA, when given, is appended to Packages first) and a Release
# signed with the throwaway key.
repo_index() {
  local repo=$1 extra=${2:-} d="$1/dists/stable"
  mkdir -p "$d/main/binary-$repo_arch"
  (cd "$repo" && dpkg-scanpackages --multiversion pool /dev/null 2>/dev/null) >"$d/main/binary-$repo_arch/Packages"
  if [[ -n $extra ]]; then cat "$extra" >>"$d/main/binary-$repo_arch/Packages"; fi
  xz -kf "$d/main/binary-$repo_arch/Packages"
  {
    printf 'Origin: cairn-test\nSuite: stable\nCodename: stable\nDate: Tue, 14 Nov 2023 22:13:20 UTC\nArchitectures: %s\nComponents: main\nSHA256:\n' "$repo_arch"
    for f in "main/binary-$repo_arch/Packages" "main/binary-$repo_arch/Packages.xz"; do
      printf ' %s %s %s\n' "$(sha256sum <"$d/$f" | cut -d' ' -f1)" "$(stat -c %s "$d/$f")" "$f"
    done
  } >"$d/Release"
  rm -f "$d/Release.gpg"
  gpg --batch -q --detach-sign -o "$d/Release.gpg" "$d/Release"
}

# repo_source REPO: the sources: line of a recipe using REPO.
repo_source() {
  printf '  - { name: test, url: "file://%s", suite: stable, keyring: %s }\n' "$1" "$work/keyring.gpg"
}
