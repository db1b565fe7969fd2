#!/usr/bin/env bash
# Builds the stand-in artifacts of the containers scenario into $1 (tests only; real Enroot and
# Pyxis cannot be downloaded here):
#   enroot-standin_3.4.1-1_amd64.deb  a package named enroot whose /usr/bin/enroot only prints
#                                      that it is a stand-in, and enroot.conf as a conffile
#   pyxis-standin-0.19.0.tar.gz        pyxis-standin/: a tiny real SPANK plugin with Pyxis's option
#                                      name and Makefile interface, built on the nodes
#   artifact_server.py                 the HTTP server serving them (tests/harness/artifact_server.py)
#   artifacts.yml                      the role's variables pointing at them, with their sha256
# Reproducible (fixed timestamps), so the same sources give the same checksums.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build-artifacts.sh OUTDIR}
mkdir -p "$out"
export SOURCE_DATE_EPOCH=1700000000
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

pkg=$work/enroot
mkdir -p "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/etc/enroot"
cat >"$pkg/DEBIAN/control" <<CONTROL
Package: enroot
Version: 3.4.1-1+standin
Architecture: amd64
Maintainer: hyperpod-slurm-bundle tests <tests@localhost>
Description: STAND-IN for NVIDIA Enroot, tests only
 Prints a message and does nothing; the real Enroot is not obtainable on the test machines.
CONTROL
echo /etc/enroot/enroot.conf >"$pkg/DEBIAN/conffiles"
printf '#!/bin/sh\necho "enroot stand-in 3.4.1 (tests only: runs no container)"\n' >"$pkg/usr/bin/enroot"
chmod 755 "$pkg/usr/bin/enroot"
echo "#ENROOT_RUNTIME_PATH /run/enroot/user-\$(id -u)" >"$pkg/etc/enroot/enroot.conf"
find "$pkg" -exec touch -h -d @$SOURCE_DATE_EPOCH {} +
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out/enroot-standin_3.4.1-1_amd64.deb" >/dev/null

tar -C "$here" --sort=name --mtime=@$SOURCE_DATE_EPOCH --owner=0 --group=0 --numeric-owner \
  --transform 's,^pyxis-standin,pyxis-0.19.0,' -c pyxis-standin | gzip -n >"$out/pyxis-standin-0.19.0.tar.gz"
cp "$here/../artifact_server.py" "$out/"

sum() { sha256sum "$out/$1" | cut -d' ' -f1; }
cat >"$out/artifacts.yml" <<VARS
# Written by tests/harness/containers/build-artifacts.sh: the stand-ins, served by ctr-http.
enroot_pyxis_enroot_debs:
  - url: http://ctr-http:8080/flaky-2/enroot-standin_3.4.1-1_amd64.deb
    sha256: $(sum enroot-standin_3.4.1-1_amd64.deb)
enroot_pyxis_pyxis_source:
  url: http://ctr-http:8080/flaky-2/pyxis-standin-0.19.0.tar.gz
  sha256: $(sum pyxis-standin-0.19.0.tar.gz)
VARS
cat "$out/artifacts.yml"
