#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A registry that lies, for tests/e2e-push.sh: it accepts every upload and every manifest but
# lies in one way (MODE): blob-digest answers a blob upload with a Docker-Content-Digest that
# is not the blob's, manifest-digest does so for a manifest, blob-size claims to hold every
# blob with another size than the layout's: cairn push must not report success (exit 3).
# MODE=no-monolithic is honest but refuses a blob in one request (413, as proxies with a body
# limit do), so the push must fall back to chunks.
#
#   registry-liar.py PORT_FIFO MODE
import hashlib, http.server, sys, urllib.parse

port_file, mode = sys.argv[1:3]
WRONG = "sha256:" + "0" * 64


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, headers=(), body=b""):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def drain(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self.reply(200 if self.path == "/v2/" else 404, [("Content-Type", "application/json")], b"{}")

    def do_HEAD(self):
        if "/blobs/" in self.path and mode == "blob-size":
            self.send_response(200)
            self.send_header("Content-Length", "999999999")
            self.end_headers()
            return
        self.reply(404)

    def do_POST(self):
        self.drain()
        self.reply(202, [("Location", "/v2/upload/1")])

    def do_PATCH(self):
        self.drain()
        with open(port_file + ".patches", "a") as f:
            f.write(self.path + "\n")
        self.reply(202, [("Location", "/v2/upload/1")])

    def do_PUT(self):
        body = self.drain()
        u = urllib.parse.urlparse(self.path)
        digest = WRONG
        if mode == "no-monolithic":
            if u.path.startswith("/v2/upload/") and body:
                return self.reply(413, [("Content-Type", "application/json")],
                                  b'{"errors":[{"code":"SIZE_INVALID","message":"too large"}]}')
            if not u.path.startswith("/v2/upload/"):
                digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if u.path.startswith("/v2/upload/") and mode != "blob-digest":
            digest = urllib.parse.parse_qs(u.query).get("digest", [WRONG])[0]
        self.reply(201, [("Location", u.path), ("Docker-Content-Digest", digest)])

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(port_file, "w") as f:
    f.write("%d\n" % server.server_address[1])
server.serve_forever()
