#!/usr/bin/env python3
"""The tests' one file server for downloads (test code: never in the bundle). The unit tests start
it in-process (start()); the containers and observability scenarios run it in a container:

  artifact_server.py DIR PORT

GET /NAME           the file DIR/NAME (404 for a missing file or a subfolder)
GET /flaky-N/NAME   the same file, but each client's first N requests for that path answer 503
GET /_requests      every request so far, one JSON object a line: client, method, path, status
                    (and signed for remote_write); not itself logged
POST /api/v1/remote_write
                    a remote_write receiver: 204; signed: whether the request carries a SigV4
                    Authorization header (as Amazon Managed Prometheus requires)

Tests read the requests to see how often a node downloaded something (retries, reruns). Flaky
paths count per client, so every node of a scenario meets the same failures.
"""

import http.server
import json
import os
import re
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body=b"", kind="application/octet-stream"):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def record(self, path, status, **more):
        with self.server.lock:
            self.server.requests.append(dict(client=self.client_address[0], method=self.command, path=path,
                                             status=status, **more))

    def do_GET(self):  # noqa: N802 (http.server's name)
        path = self.path.split("?")[0]
        if path == "/_requests":
            with self.server.lock:
                body = "".join(json.dumps(r) + "\n" for r in self.server.requests).encode()
            return self.answer(200, body, "application/x-ndjson")
        flaky = re.match(r"^/flaky-(\d+)(/.*)$", path)
        name = (flaky.group(2) if flaky else path).lstrip("/")
        with self.server.lock:
            seen = self.server.seen
            key = (self.client_address[0], path)
            seen[key] = seen.get(key, 0) + 1
            failing = flaky and seen[key] <= int(flaky.group(1))
        file = os.path.join(self.server.directory, name)
        if failing:
            status, body = 503, b"busy, try again\n"
        elif "/" in name or not os.path.isfile(file):
            status, body = 404, b"no such file\n"
        else:
            with open(file, "rb") as f:
                status, body = 200, f.read()
        self.record(path, status)
        self.answer(status, body)

    do_HEAD = do_GET

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status = 204 if self.path == "/api/v1/remote_write" else 404
        self.record(self.path, status, signed=self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 "))
        self.answer(status)

    def log_message(self, *args):
        if not self.server.quiet:
            super().log_message(*args)


class Server(http.server.ThreadingHTTPServer):
    """Serves directory; requests holds what it answered, as /_requests shows it."""

    daemon_threads = True

    def __init__(self, directory, address, quiet=False):
        super().__init__(address, Handler)
        self.directory, self.quiet = str(directory), quiet
        self.lock, self.requests, self.seen = threading.Lock(), [], {}
        self.url = "http://%s:%d" % self.server_address[:2]


def start(directory, host="127.0.0.1", port=0):
    """A quiet server on a free port, serving in a background thread; stop it with shutdown()."""
    server = Server(directory, (host, port), quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    Server(sys.argv[1], ("", int(sys.argv[2]))).serve_forever()
