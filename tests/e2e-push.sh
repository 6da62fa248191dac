#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cairn push and cairn verify --against REF (issue 24), against real registries this test
# starts on 127.0.0.1: Debian's docker-registry (CNCF distribution 2.8) with a generated
# config, storage in the work dir, a free port, stopped at exit: once without auth over plain
# http, once with htpasswd (bcrypt) basic auth behind TLS with a throwaway CA, once with the
# bearer token flow (tests/registry-token-server.py, TLS), and a registry that lies about
# digests (tests/registry-liar.py). The example recipes are built here with the local hello;
# those needing the Debian mirror are skipped when it is unreachable.
. "$(dirname "$0")/lib.sh"
need_env CAIRN CAIRN_INIT
need_tools docker-registry skopeo openssl htpasswd python3 curl
# Debian's python3 (ci/bootstrap), not a version manager's shim that takes seconds to start.
py=$(command -v /usr/bin/python3 || command -v python3)
htpasswd -nbB probe probe 2>/dev/null | grep -q '^probe:\$2' ||
  skip_all "htpasswd cannot write bcrypt (-B) entries"

# ---- registries

# start_registry NAME CONFIG-TAIL: docker-registry on 127.0.0.1, a free port, its log (access
# log included) in $work/NAME.log; sets port_NAME. Never the package's systemd service.
start_registry() {
  local name=$1 tail=$2 cfg p
  cfg="$work/$name.yml"
  cat >"$cfg" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $work/$name-data
http:
  addr: 127.0.0.1:0
$tail
EOF
  # The log exists before tail looks for it: the background job's redirection opens it only
  # once that job runs.
  : >"$work/$name.log"
  docker-registry serve "$cfg" >>"$work/$name.log" 2>&1 &
  at_exit "kill $! 2>/dev/null"
  # distribution says where it listens once it does: wait for that line, no sleeping.
  p=$(grep -m1 -o 'listening on 127.0.0.1:[0-9]*' < <(exec timeout 30 tail -n +1 -f "$work/$name.log") | sed 's/.*://') ||
    bail_out "docker-registry $name did not start: $(tail -3 "$work/$name.log")"
  printf -v "port_$name" %s "$p"
}

# A throwaway CA and a certificate for 127.0.0.1 signed by it; another key for tokens.
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=cairn-test-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile san.ext 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout token.key -out token.crt -days 2 -subj /CN=cairn-token 2>/dev/null
mkdir -p certs && cp ca.crt certs/ca.crt # skopeo's --cert-dir
htpasswd -Bbc htpasswd alice s3cret 2>/dev/null

start_registry plain ""
start_registry basic "  tls:
    certificate: $work/server.crt
    key: $work/server.key
auth:
  htpasswd:
    realm: cairn-test
    path: $work/htpasswd"
mkfifo token.port
"$py" "$tests_dir/registry-token-server.py" token.port server.crt server.key token.crt token.key \
  cairn-issuer cairn-service "$work/token-requests.log" 2>"$work/token-server.err" &
at_exit "kill $! 2>/dev/null"
read -r token_port <token.port
start_registry token "  tls:
    certificate: $work/server.crt
    key: $work/server.key
auth:
  token:
    realm: https://127.0.0.1:$token_port/token
    service: cairn-service
    issuer: cairn-issuer
    rootcertbundle: $work/token.crt"
plain=127.0.0.1:$port_plain
basic=127.0.0.1:$port_basic
token=127.0.0.1:$port_token

# uploads LOG: how many requests that upload something the registry's access log holds.
uploads() { grep -cE '"(POST|PUT|PATCH) ' "$1" || true; }
# manifest_of LAYOUT / sbom_manifest_of LAYOUT: the digest of the image (the descriptor with a
# ref name) and of the SBOM artifact manifest in cairn's index.json.
manifest_of() {
  grep -oE '"digest":"sha256:[0-9a-f]{64}","size":[0-9]+,"annotations":\{"org.opencontainers.image.ref.name"' "$1/index.json" |
    grep -oE 'sha256:[0-9a-f]{64}'
}
sbom_manifest_of() {
  grep -oE '"artifactType":"application/spdx\+json","digest":"sha256:[0-9a-f]{64}"' "$1/index.json" |
    grep -oE 'sha256:[0-9a-f]{64}'
}
# digest_n FILE N: the Nth digest in a manifest (1: the config, 2: the first layer, ...).
digest_n() { grep -oE '"digest":"sha256:[0-9a-f]{64}"' "$1" | sed -n "$2p" | grep -oE 'sha256:[0-9a-f]{64}'; }
blob() { echo "$1/blobs/sha256/${2#sha256:}"; }
# same_bytes FILE CMD...: CMD prints exactly FILE's bytes.
same_bytes() {
  local f=$1
  shift
  "$@" >"$work/got" && cmp "$f" "$work/got"
}

# ---- the example recipes, built with the local hello

mkdir -p recipes/build
cp -r "$source_dir"/recipes/. recipes/  # the recipes and their artifacts (python-service/app.py)
example_programs recipes/build "$source_dir/recipes/hello.c"
built=()
for r in recipes/*.yaml; do
  name=$(basename "$r" .yaml)
  # An image index per variant: e2e-multiarch pushes it and checks every architecture.
  [[ $name == multiarch ]] && continue
  if [[ ${CAIRN_SANITIZED:-0} == 1 ]] && grep -q 'url: apt' "$r"; then
    skip "build $name" "needs the Debian mirror, whose index takes minutes to parse under the sanitizers (the plain build pushes it)"
    continue
  fi
  set +e
  "$CAIRN" build "$r" -o "out-$name" --cache "$work/cache" --init-binary "$CAIRN_INIT" -q >"build-$name.out" 2>"build-$name.err"
  rc=$?
  set -e
  if ((rc == 3)) && grep -qiE "resolve|connect|timed out|could not|no deb entry|mirror" "build-$name.err"; then
    skip "build $name" "the Debian mirror is unreachable: $(head -1 "build-$name.err")"
    continue
  fi
  check "cairn build $name" test $rc = 0
  ((rc == 0)) && built+=("$name") || cat "build-$name.err" >&2
done
[[ " ${built[*]} " == *" hello "* ]] || bail_out "recipes/hello.yaml did not build"

# ---- no auth, plain http on 127.0.0.1

for name in "${built[@]}"; do
  check "push $name to $plain/$name (every variant, tag = variant)" \
    "$CAIRN" push "out-$name" "$plain/$name" --insecure
  for layout in out-"$name"/"$name"-*/; do
    layout=${layout%/}
    v=${layout##*/"$name"-}
    m=$(manifest_of "$layout")
    s=$(sbom_manifest_of "$layout")
    check "$name:$v: skopeo inspect --raw returns the local manifest's bytes" \
      same_bytes "$(blob "$layout" "$m")" skopeo inspect --raw --tls-verify=false "docker://$plain/$name:$v"
    check "$name:$v: the referrers API is absent (distribution 2.8): 404" \
      test "$(curl -s -o /dev/null -w '%{http_code}' "http://$plain/v2/$name/referrers/$m")" = 404
    curl -sf -H 'Accept: application/vnd.oci.image.index.v1+json' \
      "http://$plain/v2/$name/manifests/sha256-${m#sha256:}" >"fallback-$name-$v.json" || true
    check "$name:$v: the fallback tag sha256-HEX is an index listing the SBOM manifest" \
      bash -c "grep -q '^{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\"' fallback-$name-$v.json &&
        grep -qF '\"artifactType\":\"application/spdx+json\",\"digest\":\"$s\"' fallback-$name-$v.json"
    check "$name:$v: the SBOM manifest, by digest, is the local bytes" \
      same_bytes "$(blob "$layout" "$s")" skopeo inspect --raw --tls-verify=false "docker://$plain/$name@$s"
    check "$name:$v: the SBOM blob is $name-$v.spdx.json" \
      same_bytes "out-$name/$name-$v.spdx.json" curl -sf "http://$plain/v2/$name/blobs/$(digest_n "$(blob "$layout" "$s")" 2)"
  done
done

before=$(uploads plain.log)
check "a second push of the same OUT succeeds" "$CAIRN" push out-hello "$plain/hello" --insecure
check "the second push uploaded nothing (no POST, PUT or PATCH in the access log)" \
  test "$(uploads plain.log)" = "$before"

check "one variant by --variant, to an explicit tag" \
  "$CAIRN" push out-hello "$plain/tagged:v1" --variant prod --insecure
check "tagged:v1 is hello-prod" same_bytes "$(blob out-hello/hello-prod "$(manifest_of out-hello/hello-prod)")" \
  skopeo inspect --raw --tls-verify=false "docker://$plain/tagged:v1"
check "a layout directory (OUT/NAME-V) is pushed too" "$CAIRN" push out-hello/hello-dev "$plain/single:dev" --insecure

# Chunked uploads: blobs above --chunk-size go as POST, PATCH..., PUT.
patches=$(grep -c '"PATCH ' plain.log || true)
check "push with 64 KiB chunks" "$CAIRN" push out-hello "$plain/chunked" --insecure --chunk-size 65536 -q
check "the chunked push sent PATCH requests" test "$(grep -c '"PATCH ' plain.log)" -gt "$patches"
check "skopeo copies the chunked image back, blobs intact" \
  skopeo copy -q --src-tls-verify=false "docker://$plain/chunked:prod" "oci:$work/copied:prod"
check "the copy's manifest is hello-prod's" \
  cmp "$(blob out-hello/hello-prod "$(manifest_of out-hello/hello-prod)")" "$(blob copied "$(manifest_of copied)")"

# Cross-repository mount.
puts=$(grep -cE '"(PUT|PATCH) /v2/mounted/blobs' plain.log || true)
check "push with --mount-from hello" bash -c "'$CAIRN' push out-hello '$plain/mounted' --insecure --mount-from hello >mount.out 2>mount.err"
check "every blob was mounted, none uploaded" grep -q '(0 blobs uploaded, 0 already there, 6 mounted' mount.out
check "no blob upload to mounted in the access log" test "$(grep -cE '"(PUT|PATCH) /v2/mounted/blobs' plain.log || true)" = "$puts"
check "mounted:prod is hello-prod" same_bytes "$(blob out-hello/hello-prod "$(manifest_of out-hello/hello-prod)")" \
  skopeo inspect --raw --tls-verify=false "docker://$plain/mounted:prod"

# A push killed midway (SIGKILL after the registry acknowledged the 3rd upload request: the
# two small blobs and the first chunk of the app layer), then repeated.
check "a push killed by SIGKILL in the middle of a blob" \
  exits 137 env CAIRN_PUSH_TEST_KILL_AFTER=3 "$CAIRN" push out-hello "$plain/killed" --insecure --chunk-size 65536 -q
check "the killed push left no tag" not silent skopeo inspect --raw --tls-verify=false "docker://$plain/killed:dev"
check "the repeated push succeeds" bash -c "'$CAIRN' push out-hello '$plain/killed' --insecure --chunk-size 65536 >killed.out 2>killed.err"
check "it did not upload again what the killed push completed" grep -q '(4 blobs uploaded, 2 already there' killed.out
for v in dev prod; do
  check "killed:$v is hello-$v" same_bytes "$(blob out-hello/hello-$v "$(manifest_of out-hello/hello-$v)")" \
    skopeo inspect --raw --tls-verify=false "docker://$plain/killed:$v"
done

# cairn verify --against the registry.
check "verify --against $plain/hello:prod says reproducible" \
  bash -c "'$CAIRN' verify recipes/hello.yaml --against '$plain/hello:prod' --insecure -q | grep -q '^reproducible: hello-prod sha256:'"
check "verify --against $plain/hello (every variant, tag = variant)" \
  bash -c "'$CAIRN' verify recipes/hello.yaml --against '$plain/hello' --insecure -q >verify-all.out && grep -c '^reproducible:' verify-all.out | grep -qx 2"
set +e
"$CAIRN" verify recipes/hello.yaml --against "$plain/hello:dev" --variant prod --insecure -q >verify-bad.out 2>&1
rc=$?
set -e
check "verify of prod against the dev tag: exit 1" test $rc = 1
check "... naming what differs (the manifest, the config, the layers)" \
  bash -c "grep -q '^not reproducible: hello-prod' verify-bad.out && grep -q 'image config: registry sha256:' verify-bad.out && grep -q 'number of layers: registry 3, rebuilt 2' verify-bad.out"
for name in "${built[@]}"; do
  [[ $name == hello ]] && continue
  check "verify $name --against $plain/$name" \
    bash -c "'$CAIRN' verify recipes/$name.yaml --against '$plain/$name' --insecure --cache '$work/cache' --init-binary '$CAIRN_INIT' -q >verify-$name.out && ! grep -q 'not reproducible' verify-$name.out"
done

# A layer altered in place: the bytes are hashed as they are sent, the upload is aborted
# before its last byte, and the registry never gets the blob, the manifest or the tag.
cp -a out-hello tampered
app=$(digest_n "$(blob tampered/hello-prod "$(manifest_of tampered/hello-prod)")" 3)
printf 'X' | dd of="$(blob tampered/hello-prod "$app")" bs=1 seek=100 conv=notrunc status=none
set +e
"$CAIRN" push tampered/hello-prod "$plain/tampered" --insecure -q >tampered.out 2>tampered.err
rc=$?
set -e
check "a layout whose blob does not match its digest: exit 3" test $rc = 3
check "... saying which file" grep -q "content does not match its name" tampered.err
check "... and the registry has neither that blob nor the tag" bash -c "
  test \"\$(curl -s -o /dev/null -w '%{http_code}' -I 'http://$plain/v2/tampered/blobs/$app')\" = 404 &&
  test \"\$(curl -s -o /dev/null -w '%{http_code}' -I -H 'Accept: application/vnd.oci.image.manifest.v1+json' 'http://$plain/v2/tampered/manifests/prod')\" = 404"

# Usage errors.
check "a reference without a registry host: exit 2" exits 2 "$CAIRN" push out-hello hello:prod
check "--insecure for a host that is not loopback: exit 2" \
  exits 2 "$CAIRN" push out-hello reg.invalid:5000/hello --insecure
check "a digest as the push target: exit 2" \
  exits 2 "$CAIRN" push out-hello "$plain/hello@$(manifest_of out-hello/hello-prod)" --insecure
check "an unknown --variant: exit 2" exits 2 "$CAIRN" push out-hello "$plain/hello" --variant nope --insecure
check "an explicit tag for two variants: exit 2" exits 2 "$CAIRN" push out-hello "$plain/hello:x" --insecure
check "plain http without --insecure: exit 3" exits 3 "$CAIRN" push out-hello "$plain/hello" -q

# A registry that lies about what it stored.
for lie in "blob-digest:the registry stored sha256:" "manifest-digest:the registry stored sha256:" \
  "blob-size:the registry holds 999999999 bytes"; do
  mode=${lie%%:*}
  rm -f liar.port && mkfifo liar.port
  "$py" "$tests_dir/registry-liar.py" liar.port "$mode" &
  liar=$!
  read -r liar_port <liar.port
  set +e
  "$CAIRN" push out-hello/hello-prod "127.0.0.1:$liar_port/hello" --insecure -q >liar.out 2>liar.err
  rc=$?
  set -e
  kill $liar 2>/dev/null || true
  wait $liar 2>/dev/null || true
  check "a registry lying ($mode): exit 3, nothing reported pushed" \
    bash -c "test $rc = 3 && ! grep -q '^pushed' liar.out"
  check "... the lie named: ${lie#*:}" grep -qF "${lie#*:}" liar.err
done

# A registry that takes no blob in one request (413): the push falls back to chunks.
rm -f honest.port honest.port.patches && mkfifo honest.port
"$py" "$tests_dir/registry-liar.py" honest.port no-monolithic &
honest=$!
read -r honest_port <honest.port
check "a registry refusing monolithic uploads (413): the push falls back to chunks" \
  "$CAIRN" push out-hello/hello-prod "127.0.0.1:$honest_port/hello" --insecure -q
check "... sending PATCH requests" test -s honest.port.patches
kill $honest 2>/dev/null || true
wait $honest 2>/dev/null || true

# ---- htpasswd basic auth behind TLS (throwaway CA)

set +e
"$CAIRN" push out-hello "$basic/hello" -q >tls.out 2>tls.err
rc=$?
set -e
check "TLS with an unknown CA: exit 3" test $rc = 3
check "... saying the certificate is not trusted" grep -qi "certificate" tls.err
set +e
"$CAIRN" push out-hello "$basic/hello" --ca-file ca.crt -q >anon.out 2>anon.err
rc=$?
echo wrong-password | "$CAIRN" push out-hello "$basic/hello" --ca-file ca.crt --username alice --password-stdin -q >wrong.out 2>wrong.err
rc2=$?
set -e
check "no credentials: exit 3, the registry asks for them" bash -c "test $rc = 3 && grep -q 'needs credentials' anon.err"
check "wrong credentials: exit 3" test $rc2 = 3
check "... with the registry's message" grep -q "authentication as 'alice' failed: HTTP 401 (UNAUTHORIZED: authentication required)" wrong.err
check "... and not the password" not grep -q wrong-password wrong.err
check "push with --username/--password-stdin and --ca-file" \
  bash -c "echo s3cret | '$CAIRN' push out-hello '$basic/hello' --ca-file ca.crt --username alice --password-stdin -q"
check "skopeo (CA, credentials) returns the local manifest's bytes" \
  same_bytes "$(blob out-hello/hello-prod "$(manifest_of out-hello/hello-prod)")" \
  skopeo inspect --raw --cert-dir certs --creds alice:s3cret "docker://$basic/hello:prod"
mkdir -p dockercfg
printf '{\n\t"auths": {\n\t\t"https://%s/v1/": {\n\t\t\t"auth": "%s"\n\t\t}\n\t}\n}\n' "$basic" "$(printf alice:s3cret | base64)" >dockercfg/config.json
before=$(uploads basic.log)
check "credentials from \$DOCKER_CONFIG/config.json" \
  env DOCKER_CONFIG="$work/dockercfg" "$CAIRN" push out-hello "$basic/hello" --ca-file ca.crt -q
check "... uploading nothing the first push did" test "$(uploads basic.log)" = "$before"
check "--insecure-registry HOST:PORT skips verification for that host only" \
  env DOCKER_CONFIG="$work/dockercfg" "$CAIRN" push out-hello "$basic/hello" --insecure-registry "$basic" -q
check "verify --against the TLS registry with the docker config's credentials" \
  bash -c "DOCKER_CONFIG='$work/dockercfg' '$CAIRN' verify recipes/hello.yaml --against '$basic/hello:prod' --ca-file ca.crt -q | grep -q '^reproducible: hello-prod'"
check "the password never reached a log or an output" \
  bash -c "! grep -l s3cret ./*.out ./*.err basic.log 2>/dev/null"

# ---- the bearer token flow (token server and registry over TLS)

check "push through the bearer token flow" \
  bash -c "echo s3cret | '$CAIRN' push out-hello '$token/hello' --ca-file ca.crt --username alice --password-stdin -q >token.out 2>token.err"
check "the token server was asked for repository:hello:pull,push" \
  grep -q "scopes=\['repository:hello:pull,push'" token-requests.log
check "skopeo (token flow) returns the local manifest's bytes" \
  same_bytes "$(blob out-hello/hello-dev "$(manifest_of out-hello/hello-dev)")" \
  skopeo inspect --raw --cert-dir certs --creds alice:s3cret "docker://$token/hello:dev"
set +e
echo nope | "$CAIRN" push out-hello "$token/hello" --ca-file ca.crt --username alice --password-stdin -q >tw.out 2>tw.err
rc=$?
"$CAIRN" push out-hello "$token/hello" --ca-file ca.crt -q >ta.out 2>ta.err
rc2=$?
set -e
check "wrong credentials at the token server: exit 3 with its message" \
  bash -c "test $rc = 3 && grep -q 'the token server refused the credentials: HTTP 401 (invalid username or password)' tw.err"
check "an anonymous token without push access: exit 3" bash -c "test $rc2 = 3 && grep -q 'needs credentials' ta.err"
check "verify --against through the token flow" \
  bash -c "echo s3cret | '$CAIRN' verify recipes/hello.yaml --against '$token/hello:dev' --ca-file ca.crt --username alice --password-stdin -q | grep -q '^reproducible: hello-dev'"
check "no token or password in cairn's output" bash -c "! grep -lE 's3cret|eyJ' token.out token.err tw.out tw.err ta.out ta.err"
