#!/usr/bin/env python3
"""A file server for download tests (test code: never in the bundle).

  artifact_server.py DIR PORT

GET /NAME           the file DIR/NAME
GET /flaky-N/NAME   the same file, but the first N requests for that path answer 503
GET /_requests      every request so far as JSON lines [method, path, status] (not itself logged)
POST /api/v1/remote_write
                    a remote_write receiver: 204, and logged with [method, path, status, signed],
                    signed: whether it carries a SigV4 Authorization header (as AMP requires)

Tests read /_requests to see how often a node downloaded something (retries, reruns).
"""

import http.server
import json
import os
import re
import sys
import threading

LOCK = threading.Lock()
REQUESTS = []
SEEN = {}


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body=b"", kind="application/octet-stream"):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server's name)
        path = self.path.split("?")[0]
        if path == "/_requests":
            with LOCK:
                body = "".join(json.dumps(r) + "\n" for r in REQUESTS).encode()
            return self.answer(200, body, "application/x-ndjson")
        flaky = re.match(r"^/flaky-(\d+)(/.*)$", path)
        name = flaky.group(2) if flaky else path
        with LOCK:
            SEEN[path] = SEEN.get(path, 0) + 1
            failing = flaky and SEEN[path] <= int(flaky.group(1))
        file = os.path.join(sys.argv[1], name.lstrip("/"))
        if failing:
            status, body = 503, b"busy, try again\n"
        elif "/" in name.lstrip("/") or not os.path.isfile(file):
            status, body = 404, b"no such file\n"
        else:
            status, body = 200, open(file, "rb").read()
        with LOCK:
            REQUESTS.append([self.command, path, status])
        self.answer(status, body)

    do_HEAD = do_GET

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        signed = self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 ")
        status = 204 if self.path == "/api/v1/remote_write" else 404
        with LOCK:
            REQUESTS.append([self.command, self.path, status, signed])
        self.answer(status)


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("", int(sys.argv[2])), Handler).serve_forever()
