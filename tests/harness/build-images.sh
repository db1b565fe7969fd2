#!/usr/bin/env bash
# Builds the local container images the tests use, once; later calls reuse them.
#   hpb-base: Debian 12 with systemd and python3, a "bare node" (standalone tests).
#   hpb-ami:  hpb-base plus Slurm, munge and MariaDB laid out as on HyperPod's image:
#             /opt/slurm -> /opt/slurm-<version>, slurm.conf under /opt/slurm/etc.
#   hpb-base-trixie, hpb-ami-trixie: the same on Debian 13.
# FORCE=1 rebuilds all.
# Every image lets the harness in as root over SSH with its own key (~/.cache/hpb-harness, made here
# once): Molecule's plays reach the nodes through `podman exec ... sshd -i` with pipelining, a
# third of the CPU of the podman connection plugin (bench/RESULTS.md, "The test harness").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="$here/containers.conf"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Machine-wide like the images, so that every clone here can use them.
key="$HOME/.cache/hpb-harness/ssh/id_ed25519"
if [ ! -f "$key" ]; then
  mkdir -p "$(dirname "$key")" && chmod 700 "$(dirname "$key")"
  ssh-keygen -q -t ed25519 -N '' -C hpb-harness -f "$key"
fi

# An image is rebuilt when missing, when FORCE=1, or when its recipe (this script, the Containerfile,
# the harness's key) changed since it was built: the recipe's hash is the image's label hpb.recipe.
recipe=$(cat "$0" "$here/ami.Containerfile" "$key.pub" | sha256sum | cut -c1-16)
have() {
  [ "${FORCE:-0}" != 1 ] && podman image exists "$1" &&
    [ "$(podman image inspect --format '{{ index .Labels "hpb.recipe" }}' "$1")" = "$recipe" ]
}

# $1 image name, $2 Debian suite
build_base() {
  root=$(mktemp -d /var/tmp/hpb-rootfs.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  echo "building $1 (debootstrap $2, about a minute)"
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,iproute2,procps,python3,python3-venv,ca-certificates,openssh-server \
    "$2" "$root" "$mirror" >/dev/null
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
  # The harness's key, apart from root's own authorized_keys (which the roles may manage).
  install -m 0644 "$key.pub" "$root/etc/ssh/hpb_harness_authorized_keys"
  printf 'Match User root\n  AuthorizedKeysFile /etc/ssh/hpb_harness_authorized_keys .ssh/authorized_keys\n' \
    >"$root/etc/ssh/sshd_config.d/hpb-harness.conf"
  tar -C "$root" -c . | podman import --quiet --change 'CMD ["/sbin/init"]' --change "LABEL hpb.recipe=$recipe" - "$1:latest" >/dev/null
  rm -rf "$root"; trap - EXIT
}

# $1 image name, $2 its base image, $3 extra packages
build_ami() {
  echo "building $1 (Slurm as on the HyperPod image, about a minute)"
  podman build --quiet --network host --label "hpb.recipe=$recipe" --build-arg "BASE=$2" --build-arg "EXTRA_PACKAGES=${3:-}" -t "$1:latest" -f "$here/ami.Containerfile" "$here" >/dev/null
}

# Debian 12 (Slurm 22.05) for most scenarios; Debian 13 (Slurm 24.11, as on HyperPod's images:
# sackd, cluster ids) for the slurm24 scenario.
have localhost/hpb-base:latest || build_base hpb-base bookworm
have localhost/hpb-ami:latest || build_ami hpb-ami localhost/hpb-base:latest
have localhost/hpb-base-trixie:latest || build_base hpb-base-trixie trixie
have localhost/hpb-ami-trixie:latest || build_ami hpb-ami-trixie localhost/hpb-base-trixie:latest sackd
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep hpb-
