#!/usr/bin/env python3
"""Stand-in exporter releases for the observability scenario (test code: never in the bundle).

  stand_in_exporter.py build DIR    writes DIR/dcgm-exporter.tar.gz and DIR/efa-exporter.tar.gz, each
                                    with its .sha256 beside it, laid out like the releases the role
                                    expects (one folder holding one executable named after it)
  dcgm-exporter --address=:9400     (this file, unpacked) serves /metrics on that port

The pages carry one metric named like the real exporter's (DCGM_FI_DEV_GPU_UTIL, node_amazonefa_*)
and stand_in_exporter_info, so nothing can mistake them for a real GPU or EFA device. The tarballs
are byte-for-byte reproducible (fixed mtimes, no gzip timestamp): their sha256 is stable.
"""

import gzip
import hashlib
import http.server
import io
import os
import sys
import tarfile

EXPORTERS = {
    "dcgm-exporter": 'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-stand-in"} 0\n',
    "efa-exporter": 'node_amazonefa_rx_bytes{device="efa0",port="1"} 0\n',
}


def page(name):
    return ("# stand-in for %s: no GPU or EFA device behind this page\n"
            'stand_in_exporter_info{exporter="%s"} 1\n%s' % (name, name, EXPORTERS[name])).encode()


def serve(name, args):
    port = next((int(a.rsplit(":", 1)[1]) for a in args if a.startswith("--") and ":" in a), None)
    if port is None:
        sys.exit("%s (stand-in): give the port as --address=:PORT or --web.listen-address=:PORT" % name)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            found = self.path.split("?")[0] == "/metrics"
            body = page(name) if found else b"see /metrics\n"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    http.server.ThreadingHTTPServer(("", port), Handler).serve_forever()


def tarball(name):
    source = open(__file__, "rb").read()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path, data, mode in ((name, None, 0o755), ("%s/%s" % (name, name), source, 0o755)):
            info = tarfile.TarInfo(path)
            info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = 0, mode, 0, 0, "root", "root"
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def build(out):
    os.makedirs(out, exist_ok=True)
    for name in EXPORTERS:
        data = tarball(name)
        with open(os.path.join(out, name + ".tar.gz"), "wb") as handle:
            handle.write(data)
        with open(os.path.join(out, name + ".tar.gz.sha256"), "w", encoding="utf-8") as handle:
            handle.write(hashlib.sha256(data).hexdigest() + "\n")


if __name__ == "__main__":
    me = os.path.basename(sys.argv[0])
    if me in EXPORTERS:
        serve(me, sys.argv[1:])
    elif sys.argv[1:2] == ["build"] and len(sys.argv) == 3:
        build(sys.argv[2])
    else:
        sys.exit(__doc__)
