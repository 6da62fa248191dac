#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A token server for the Docker registry v2 token flow, for tests/e2e-push.sh only: grants the
# scopes asked for to alice:s3cret (Basic), refuses other credentials with 401, and gives an
# anonymous caller a token with no access. Tokens are RS256 JWTs carrying the signing
# certificate in x5c, which distribution verifies against its rootcertbundle; the signature
# is made by `openssl dgst`, so nothing beyond python3 and openssl is needed.
#
#   registry-token-server.py PORT_FILE TLS_CERT TLS_KEY SIGN_CERT SIGN_KEY ISSUER SERVICE LOG
# listens on 127.0.0.1 (a free port, written to PORT_FILE, a fifo) over TLS with TLS_CERT/TLS_KEY,
# signs with SIGN_KEY (SIGN_CERT goes into x5c), and appends one line per request to LOG.
import base64, http.server, json, os, ssl, subprocess, sys, time, urllib.parse

port_file, tls_cert, tls_key, cert, key, issuer, service, log = sys.argv[1:9]


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


with open(cert) as f:
    pem = f.read()
der = base64.b64decode("".join(l for l in pem.splitlines() if l and not l.startswith("-----")))


def token(sub, access):
    header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
    now = int(time.time())
    claims = {"iss": issuer, "sub": sub, "aud": service, "exp": now + 300, "nbf": now - 10,
              "iat": now, "jti": b64url(os.urandom(12)), "access": access}
    signing = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing,
                         stdout=subprocess.PIPE, check=True).stdout
    return signing.decode() + "." + b64url(sig)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        auth = self.headers.get("Authorization", "")
        user = None
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            if (user, password) != ("alice", "s3cret"):
                return self.answer(401, {"details": "invalid username or password"})
        access = []
        for scope in q.get("scope", []):
            for one in scope.split(" "):
                kind, _, rest = one.partition(":")
                name, _, actions = rest.rpartition(":")
                if kind == "repository" and user:
                    access.append({"type": kind, "name": name, "actions": actions.split(",")})
        with open(log, "a") as f:
            f.write("%s service=%s scopes=%s user=%s\n" % (u.path, q.get("service"), q.get("scope"), user))
        if q.get("service") != [service]:
            return self.answer(400, {"details": "unknown service"})
        t = token(user or "", access)
        # Both spellings, as Docker Hub's token server sends them.
        self.answer(200, {"token": t, "access_token": t, "expires_in": 300})

    def answer(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(tls_cert, tls_key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
# PORT_FILE is a fifo the test reads: the port arrives once the server listens.
with open(port_file, "w") as f:
    f.write("%d\n" % server.server_address[1])
server.serve_forever()
