# SPDX-License-Identifier: Apache-2.0
# A small HTTP service on the standard library only (recipes/python-service.yaml).
# GET / answers {"service": "python-service", "path": ...}; GET /healthz answers "ok".
# With SELFTEST=1 it also requests itself once after it starts listening, so that
# `cairn profile --write-reads` sees the code a request runs.
import http.server
import json
import os
import socket
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "python-service/1"

    def do_GET(self):
        if self.path == "/healthz":
            body, kind = b"ok\n", "text/plain"
        else:
            body = json.dumps({"service": "python-service", "path": self.path}).encode() + b"\n"
            kind = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def selftest(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /selftest HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    print("selftest:", answer.split(b"\r\n", 1)[0].decode(), flush=True)


def main():
    port = int(os.environ.get("PORT", "8080"))
    server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler)
    print("listening", port, flush=True)
    if os.environ.get("SELFTEST") == "1":
        threading.Thread(target=selftest, args=(port,), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
