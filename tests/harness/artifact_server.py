#!/usr/bin/env python3
"""The tests' one file server for downloads (test code: never in the bundle). The unit tests start
it in-process (start()); the containers and observability scenarios run it in a container:

  artifact_server.py DIR PORT [CREDENTIALS.json]

GET /NAME           the file DIR/NAME (404 for a missing file or a subfolder)
GET /flaky-N/NAME   the same file, but each client's first N requests for that path answer 503
GET /_requests      every request so far, one JSON object a line: client, method, path, status
                    (and signed for remote_write); not itself logged
POST /api/v1/remote_write (also /flaky-N/api/v1/remote_write)
                    a remote_write receiver. Given CREDENTIALS.json ({"access_key", "secret_key",
                    "region"}: stand-ins), it checks each request's SigV4 signature as Amazon
                    Managed Prometheus does (service aps; botocore recomputes it): 204 when valid,
                    else 403; signed: "valid" or why not. Without: 204, signed: whether an
                    Authorization header is there.

Tests read the requests to see how often a node downloaded something (retries, reruns). Flaky
paths count per client, so every node of a scenario meets the same failures.
"""

import datetime
import hashlib
import hmac
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
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        flaky = re.match(r"^/flaky-(\d+)(/.*)$", self.path)
        with self.server.lock:
            key = (self.client_address[0], self.path)
            self.server.seen[key] = self.server.seen.get(key, 0) + 1
            failing = flaky and self.server.seen[key] <= int(flaky.group(1))
        if (flaky.group(2) if flaky else self.path) != "/api/v1/remote_write":
            status, signed = 404, None
        elif self.server.credentials:
            problem = sigv4_problem("POST", self.path, self.headers, body, self.server.credentials)
            status, signed = (403 if problem else 204), problem or "valid"
        else:
            status, signed = 204, self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 ")
        status = 503 if failing else status
        self.record(self.path, status, signed=signed)
        self.answer(status)

    def log_message(self, *args):
        if not self.server.quiet:
            super().log_message(*args)


AUTHORIZATION = re.compile(r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<day>\d{8})/(?P<region>[^/]+)/"
                           r"(?P<service>[^/]+)/aws4_request, ?SignedHeaders=(?P<signed>[a-z0-9;-]+), ?"
                           r"Signature=(?P<signature>[0-9a-f]{64})$")


def sigv4_problem(method, path, headers, body, credentials, service="aps", now=None):
    """None when the request is SigV4-signed by credentials for their region and service (the
    signature recomputed with botocore from the signed headers and the body received), else why not.
    headers: case-insensitive (http.server's); credentials: {access_key, secret_key, region}."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    found = AUTHORIZATION.match(headers.get("Authorization") or "")
    if not found:
        return "no SigV4 Authorization header"
    if found["key"] != credentials["access_key"]:
        return "signed with key %s, not the one given" % found["key"]
    if (found["region"], found["service"]) != (credentials["region"], service):
        return "scope %s/%s, not %s/%s" % (found["region"], found["service"], credentials["region"], service)
    signed = found["signed"].split(";")
    if "host" not in signed or "x-amz-date" not in signed or any(headers.get(name) is None for name in signed):
        return "signed headers %s: host and x-amz-date must be among them, all present" % found["signed"]
    stamp = headers["X-Amz-Date"]
    try:
        when = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return "X-Amz-Date %r is not a SigV4 time stamp" % stamp
    if abs((when - (now or datetime.datetime.now(datetime.timezone.utc))).total_seconds()) > 300 or \
            not stamp.startswith(found["day"]):
        return "X-Amz-Date %s is more than 5 minutes off, or not the scope's day" % stamp
    claimed = headers.get("X-Amz-Content-SHA256")
    if claimed is not None and claimed != hashlib.sha256(body).hexdigest():
        return "X-Amz-Content-SHA256 is not the body's"
    request = AWSRequest(method=method, url="http://%s%s" % (headers["Host"], path), data=body,
                         headers={name: headers[name] for name in signed})
    request.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(credentials["access_key"], credentials["secret_key"],
                                   headers.get("X-Amz-Security-Token")), service, credentials["region"])
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if not hmac.compare_digest(expected, found["signature"]):
        return "signature does not match"
    return None


class Server(http.server.ThreadingHTTPServer):
    """Serves directory; requests holds what it answered, as /_requests shows it."""

    daemon_threads = True

    def __init__(self, directory, address, quiet=False, credentials=None):
        super().__init__(address, Handler)
        self.directory, self.quiet, self.credentials = str(directory), quiet, credentials
        self.lock, self.requests, self.seen = threading.Lock(), [], {}
        self.url = "http://%s:%d" % self.server_address[:2]


def start(directory, host="127.0.0.1", port=0, credentials=None):
    """A quiet server on a free port, serving in a background thread; stop it with shutdown()."""
    server = Server(directory, (host, port), quiet=True, credentials=credentials)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    given = None
    if len(sys.argv) == 4:
        with open(sys.argv[3], encoding="utf-8") as file:
            given = json.load(file)
    Server(sys.argv[1], ("", int(sys.argv[2])), credentials=given).serve_forever()
