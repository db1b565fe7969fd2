"""HTTP server for the containers scenario (tests only): serves the stand-in artifacts of its folder.

  /files/NAME   the file
  /flaky/NAME   503 for the first two requests of each client for NAME, then the file
  /log          every request so far, as JSON: [client, path, status]
"""

import http.server
import json
import os
import sys
import threading

ROOT = os.path.dirname(os.path.abspath(__file__))
LOG = []
LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        client = self.client_address[0]
        if self.path == "/log":
            with LOCK:
                self._send(200, json.dumps(LOG).encode(), "application/json")
            return
        kind, _, name = self.path.lstrip("/").partition("/")
        path = os.path.join(ROOT, os.path.basename(name))
        if kind not in ("files", "flaky") or not os.path.isfile(path):
            return self._reply(client, 404, b"not found\n")
        with LOCK:
            earlier = sum(1 for c, p, _ in LOG if c == client and p == self.path)
        if kind == "flaky" and earlier < 2:
            return self._reply(client, 503, b"try again\n")
        with open(path, "rb") as f:
            return self._reply(client, 200, f.read(), "application/octet-stream")

    def _reply(self, client, status, body, ctype="text/plain"):
        with LOCK:
            LOG.append([client, self.path, status])
        self._send(status, body, ctype)

    def _send(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
