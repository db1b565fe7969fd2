#!/usr/bin/env bash
# The podman networks of the scenarios. Named networks give containers DNS by short name; the
# HyperPod one has a fixed subnet so that nodes can carry HyperPod's ip-a-b-c-d hostnames.
set -euo pipefail
export CONTAINERS_CONF=${CONTAINERS_CONF:-$(cd "$(dirname "$0")" && pwd)/containers.conf}
podman network exists hpb-hyperpod || podman network create --subnet 10.89.50.0/24 hpb-hyperpod >/dev/null
podman network exists hpb-standalone || podman network create --subnet 10.89.51.0/24 hpb-standalone >/dev/null
