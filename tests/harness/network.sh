#!/usr/bin/env bash
# The podman networks of the scenarios, each with a fixed subnet (the HyperPod one so that nodes
# can carry HyperPod's ip-a-b-c-d hostnames). Named networks give containers DNS by short name.
# A network of that name with another subnet (from an older run) is replaced.
set -euo pipefail
export CONTAINERS_CONF=${CONTAINERS_CONF:-$(cd "$(dirname "$0")" && pwd)/containers.conf}

# $1 name, $2 subnet, $3 "internal" for a network with no way out (peers only: offline nodes)
ensure() {
  local name=$1 subnet=$2 internal=false current
  [ "${3:-}" = internal ] && internal=true
  current=$(podman network inspect "$name" --format '{{range .Subnets}}{{.Subnet}}{{end}} {{.Internal}}' 2>/dev/null || true)
  [ "$current" = "$subnet $internal" ] && return 0
  [ -n "$current" ] && podman network rm --force "$name" >/dev/null
  if $internal; then podman network create --internal --subnet "$subnet" "$name" >/dev/null
  else podman network create --subnet "$subnet" "$name" >/dev/null; fi
}

ensure hpb-hyperpod 10.89.50.0/24
ensure hpb-standalone 10.89.51.0/24
# slurm24's nodes converge offline: no apt, no PyPI, only the bundle (wheels inside).
ensure hpb-slurm24 10.89.52.0/24 internal
ensure hpb-observability 10.89.53.0/24
# The containers scenario (enroot_pyxis): Docker runs inside privileged nodes there.
ensure hpb-containers 10.89.54.0/24
# faults: nodes replaced and added while the cluster runs (molecule/faults).
ensure hpb-faults 10.89.55.0/24
