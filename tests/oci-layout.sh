# Sourced by the end-to-end tests: make_oci OUT LAYER... writes a minimal OCI image layout
# (oci-layout, index.json with ref name "latest", manifest, config, layer blobs named by their
# sha256) from layer tar files, in order. Writes config.json and manifest.json in the cwd.
make_oci() {
  local out=$1; shift
  mkdir -p "$out/blobs/sha256"
  echo '{"imageLayoutVersion": "1.0.0"}' >"$out/oci-layout"
  local layers="" diffs="" sep=""
  for layer in "$@"; do
    local d; d=$(sha256sum "$layer" | cut -d' ' -f1)
    cp "$layer" "$out/blobs/sha256/$d"
    layers+="$sep{\"mediaType\": \"application/vnd.oci.image.layer.v1.tar\", \"digest\": \"sha256:$d\", \"size\": $(stat -c %s "$layer")}"
    diffs+="$sep\"sha256:$d\""
    sep=", "
  done
  printf '{"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [%s]}}' \
    "$diffs" >config.json
  local c; c=$(sha256sum config.json | cut -d' ' -f1)
  cp config.json "$out/blobs/sha256/$c"
  printf '{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:%s", "size": %s}, "layers": [%s]}' \
    "$c" "$(stat -c %s config.json)" "$layers" >manifest.json
  local m; m=$(sha256sum manifest.json | cut -d' ' -f1)
  cp manifest.json "$out/blobs/sha256/$m"
  printf '{"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:%s", "size": %s, "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}' \
    "$m" "$(stat -c %s manifest.json)" >"$out/index.json"
}

