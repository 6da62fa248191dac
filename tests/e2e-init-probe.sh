#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `cairn-init --probe` (issue 23): one HTTP/1.0 GET or TCP connect, exit 0 or 1, against a
# server this test starts on 127.0.0.1 (it prints its port once it listens: no polling, no
# sleeps). 200 and any 2xx/3xx pass, 500 fails, --expect picks one status, a closed port and
# a server that never answers fail, the latter within --timeout.
#   CAIRN_INIT  the built init/cairn-init
. "$(dirname "$0")/lib.sh"
need_env CAIRN_INIT
need_tools python3
I=$CAIRN_INIT

cat >"$work/server.py" <<'EOF'
import socket, sys, threading
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
# A port nothing listens on: bound, then closed.
c = socket.socket(); c.bind(("127.0.0.1", 0)); closed = c.getsockname()[1]; c.close()
print(s.getsockname()[1], closed, flush=True)
log = open(sys.argv[1], "a", buffering=1)
def serve(conn):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    head = data.decode("latin-1").split("\r\n")
    log.write(" | ".join(head[:3]) + "\n")
    path = head[0].split(" ")[1] if head and len(head[0].split(" ")) > 1 else ""
    answers = {
        "/ok": b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "/created": b"HTTP/1.1 201 Created\r\n\r\n",
        "/moved": b"HTTP/1.0 302 Found\r\nLocation: /ok\r\n\r\n",
        "/fail": b"HTTP/1.0 500 Internal Server Error\r\n\r\n",
        "/missing": b"HTTP/1.0 404 Not Found\r\n\r\n",
        "/garbage": b"SSH-2.0-OpenSSH\r\n",
    }
    if path == "/silent":
        threading.Event().wait(30)  # never answers; the probe's timeout must end it
    else:
        conn.sendall(answers.get(path, b"HTTP/1.0 404 Not Found\r\n\r\n"))
    conn.close()
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
EOF
coproc SERVER { exec python3 "$work/server.py" "$work/requests"; }
at_exit "kill $SERVER_PID 2>/dev/null"
read -r -t 20 port closed <&"${SERVER[0]}" || bail_out "the test server did not start"
base=http://127.0.0.1:$port

# probe ARGS...: cairn-init --probe ARGS; status in $rc, stderr in $work/err.
probe() {
        rc=0
        timeout -k 5 30 "$I" --probe "$@" >"$work/out" 2>"$work/err" </dev/null || rc=$?
}

probe "$base/ok"
check "200: healthy (0)" test "$rc" = 0
check "200: nothing printed" test ! -s "$work/err" -a ! -s "$work/out"
check "the request is HTTP/1.0 with Host" \
        grep -qx "GET /ok HTTP/1.0 | Host: 127.0.0.1:$port | User-Agent: cairn-init" "$work/requests"
probe "$base/created"
check "201 from an HTTP/1.1 server: healthy" test "$rc" = 0
probe "$base/moved"
check "302: healthy (200-399, as Kubernetes' httpGet)" test "$rc" = 0
probe "$base/fail"
check "500: unhealthy (1)" test "$rc" = 1
check "500: one line saying so" \
        grep -qx "cairn-init: probe $base/fail: status 500, expected 200-399" "$work/err"
probe "$base/missing"
check "404: unhealthy" test "$rc" = 1
probe "$base/fail" --expect 500
check "--expect 500 on a 500: healthy" test "$rc" = 0
probe "$base/ok" --expect 204
check "--expect 204 on a 200: unhealthy" test "$rc" = 1
check "--expect: the line names it" \
        grep -qx "cairn-init: probe $base/ok: status 200, expected 204" "$work/err"
probe "$base/garbage"
check "an answer that is not HTTP: unhealthy" test "$rc" = 1
check "...saying so" grep -q "the answer is not HTTP/1.x" "$work/err"
probe "http://127.0.0.1:$closed/ok"
check "nothing listening: unhealthy" test "$rc" = 1
check "...Connection refused" grep -q "Connection refused" "$work/err"
start=$(date +%s%N)
probe "$base/silent" --timeout 1
elapsed=$((($(date +%s%N) - start) / 1000000))
check "a server that never answers: unhealthy" test "$rc" = 1
check "...within --timeout 1 (${elapsed} ms)" test "$elapsed" -ge 900 -a "$elapsed" -lt 5000
check "...saying so" grep -q "no answer within the timeout" "$work/err"
probe "tcp://127.0.0.1:$port"
check "tcp:// to a listening port: healthy" test "$rc" = 0
probe "tcp://127.0.0.1:$closed"
check "tcp:// to a closed port: unhealthy" test "$rc" = 1
probe "tcp://localhost:$port"
check "localhost is 127.0.0.1" test "$rc" = 0

# Usage errors are the init's usual status 2 and name the problem.
probe "https://127.0.0.1:$port/ok"
check "https: usage error (2)" test "$rc" = 2
check "...saying why" grep -q "https is not supported" "$work/err"
probe "http://service.example:80/"
check "a host name: usage error (no resolver in a static init)" test "$rc" = 2
probe "$base/ok" extra-argument
check "--probe with a PROGRAM: usage error" test "$rc" = 2
