#!/usr/bin/env bash
# Builds the local container images the tests use, once; later calls reuse them.
#   hpb-base: Debian 12 with systemd and python3, a "bare node" (standalone tests).
#   hpb-ami:  hpb-base plus Slurm, munge and MariaDB laid out as on HyperPod's image:
#             /opt/slurm -> /opt/slurm-<version>, slurm.conf under /opt/slurm/etc.
# FORCE=1 rebuilds both.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="$here/containers.conf"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

have() { podman image exists "$1" && [ "${FORCE:-0}" != 1 ]; }

if ! have localhost/hpb-base:latest; then
  root=$(mktemp -d /var/tmp/hpb-rootfs.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  echo "building hpb-base (debootstrap, about a minute)"
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,iproute2,procps,python3,python3-venv,ca-certificates \
    bookworm "$root" "$mirror" >/dev/null
  # No suggested/recommended packages, and no docs, keep installs in tests quick.
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
    >"$root/etc/apt/apt.conf.d/90-hpb-minimal"
  printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\n' \
    >"$root/etc/dpkg/dpkg.cfg.d/90-hpb-nodoc"
  # Units that make no sense in a container and slow down boot.
  for unit in systemd-timesyncd.service systemd-resolved.service apt-daily.timer apt-daily-upgrade.timer; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done
  : >"$root/etc/machine-id"
  tar -C "$root" -c . | podman import --change 'CMD ["/sbin/init"]' - hpb-base:latest >/dev/null
  rm -rf "$root"; trap - EXIT
fi

if ! have localhost/hpb-ami:latest; then
  echo "building hpb-ami (Slurm as on the HyperPod image, about a minute)"
  podman build --network host -t hpb-ami:latest -f "$here/ami.Containerfile" "$here" >/dev/null
fi
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep hpb-
