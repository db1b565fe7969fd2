"""slurm_compute's hpb-node-features, run against a fake scontrol that keeps the node's features in
a file: missing features are added beside the node line's own, nothing changes when all are there,
and a failure to reach slurmctld is an error that names the node."""

import json
import os
import subprocess
from pathlib import Path

import pytest

PROGRAM = Path(__file__).resolve().parents[2] / "roles" / "slurm_compute" / "files" / "hpb-node-features"

# Shows "NodeName=n1 ... AvailableFeatures=<file avail> ActiveFeatures=<file active>"; an update
# rewrites both files and is logged. A file "down" makes every call fail as an unreachable slurmctld.
FAKE_SCONTROL = """#!/bin/sh
dir=$(dirname "$0")
[ -e "$dir/down" ] && { echo "Unable to contact slurm controller (connect failure)" >&2; exit 1; }
case "$1" in
  show) echo "NodeName=n1 Arch=x86_64 CoresPerSocket=1 AvailableFeatures=$(cat "$dir/avail") ActiveFeatures=$(cat "$dir/active") Gres=(null)" ;;
  update) echo "$*" >> "$dir/updates"
          for arg in "$@"; do case $arg in
            AvailableFeatures=*) echo "${arg#*=}" > "$dir/avail" ;;
            ActiveFeatures=*) echo "${arg#*=}" > "$dir/active" ;;
          esac; done ;;
esac
"""


@pytest.fixture
def node(tmp_path):
    (tmp_path / "scontrol").write_text(FAKE_SCONTROL)
    (tmp_path / "scontrol").chmod(0o755)
    (tmp_path / "avail").write_text("(null)\n")
    (tmp_path / "active").write_text("(null)\n")
    return tmp_path


def run(node, features):
    config = node / "config.json"
    config.write_text(json.dumps({"nodename": "n1", "slurm_bindir": str(node), "features": features}))
    return subprocess.run([str(PROGRAM)], env=dict(os.environ, HPB_NODE_FEATURES_CONFIG=str(config)),
                          capture_output=True, text=True)


def test_missing_features_are_added_then_nothing_changes(node):
    done = run(node, ["a100", "nvlink"])
    assert done.returncode == 0 and done.stdout.strip() == "updated: a100,nvlink", done.stderr
    assert (node / "updates").read_text() == "update NodeName=n1 AvailableFeatures=a100,nvlink ActiveFeatures=a100,nvlink\n"
    again = run(node, ["a100", "nvlink"])
    assert again.stdout.strip() == "ok" and len((node / "updates").read_text().splitlines()) == 1


def test_the_node_lines_own_features_stay(node):
    (node / "avail").write_text("platform,a100\n")
    (node / "active").write_text("platform\n")
    done = run(node, ["a100", "nvlink"])
    assert done.stdout.strip() == "updated: a100,nvlink"
    assert (node / "avail").read_text().strip() == "platform,a100,nvlink"
    assert (node / "active").read_text().strip() == "platform,a100,nvlink"


def test_an_unreachable_controller_fails_naming_the_node(node):
    (node / "down").touch()
    done = run(node, ["a100"])
    assert done.returncode == 1 and "cannot read node n1: Unable to contact slurm controller" in done.stderr
