#!/usr/bin/env bash
# The containers scenario's dependency step: its network, and the stand-in artifacts ctr-http serves.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
bash "$root/tests/harness/network.sh"
bash "$root/tests/harness/containers/build-artifacts.sh" "$root/.cache/containers-artifacts" >/dev/null
# The roles come from the collection built from this checkout, as in the observability scenario.
"$root/tools/build-collection" >/dev/null
