#!/usr/bin/env bash
# Builds localhost/hpb-sid-slurm once: Debian sid (unstable) with Slurm 25.11 or newer (slurmctld,
# slurmd, munge), Prometheus and python3 (for Ansible), no running systemd, for
# tests/unit/test_slurm_native_metrics.py: the only Slurm with MetricsType=metrics/openmetrics
# reachable here. About a minute (debootstrap, then podman import).
# Apart from build-images.sh: sid moves and may not be fetchable; then this exits 3 and the test
# skips, while every other image still builds. FORCE=1 rebuilds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="$here/containers.conf"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
image=localhost/hpb-sid-slurm:latest
recipe=$(sha256sum "$0" | cut -c1-16)
if [ "${FORCE:-0}" != 1 ] && podman image exists "$image" &&
  [ "$(podman image inspect --format '{{ index .Labels "hpb.recipe" }}' "$image")" = "$recipe" ]; then
  exit 0
fi
root=$(mktemp -d /var/tmp/hpb-sid-rootfs.XXXXXX)
chmod 0755 "$root"  # mktemp makes it 0700: munge's setup, run as its user, could not reach anything
trap 'rm -rf "$root"' EXIT
echo "building $image (debootstrap sid, about a minute)"
if ! debootstrap --variant=minbase --include=slurmctld,slurmd,slurm-client,munge,prometheus,curl,ca-certificates,python3 \
  sid "$root" "$mirror" >"$root.log" 2>&1; then
  echo "debootstrap of Debian sid failed (sid moves): $(tail -n 3 "$root.log" | tr '\n' ' ')" >&2
  rm -f "$root.log"
  exit 3
fi
rm -f "$root.log"
tar -C "$root" --exclude=./usr/share/doc --exclude=./usr/share/man -c . |
  podman import --quiet --change 'CMD ["/bin/sleep", "infinity"]' --change "LABEL hpb.recipe=$recipe" - "$image" >/dev/null
