"""Cluster checks shared by the Molecule scenarios (and runnable against any cluster).

Nodes come from Molecule's inventory (MOLECULE_INVENTORY_FILE) by group: slurm_controller,
slurm_login, slurm_compute. Against other machines, set HPB_HOSTS to a JSON object
{"slurm_controller": ["ssh://..."], ...} of testinfra host specs.
"""

import json
import os
import pathlib

import pytest
import testinfra
import yaml

GROUPS = ("slurm_controller", "slurm_login", "slurm_compute")
# SSH through `podman exec ... sshd -i`, multiplexed: a command costs a fraction of a `podman exec`.
SSH_CONFIG = pathlib.Path(__file__).resolve().parents[1] / "harness" / "ssh_config"


def _groups_from_molecule(path):
    with open(path, encoding="utf-8") as handle:
        inventory = yaml.safe_load(handle)
    # Molecule writes each group at the top level, beside "all".
    return {group: ["ssh://%s?ssh_config=%s&controlpersist=600" % (name, SSH_CONFIG)
                    for name in ((inventory.get(group) or {}).get("hosts") or {})]
            for group in GROUPS}


def _host_specs():
    if os.environ.get("HPB_HOSTS"):
        return json.loads(os.environ["HPB_HOSTS"])
    return _groups_from_molecule(os.environ["MOLECULE_INVENTORY_FILE"])


@pytest.fixture(scope="session")
def cluster():
    specs = _host_specs()
    return {group: [testinfra.get_host(spec) for spec in specs.get(group, [])] for group in GROUPS}


@pytest.fixture(scope="session")
def controller(cluster):
    return cluster["slurm_controller"][0]


@pytest.fixture(scope="session")
def login(cluster):
    return cluster["slurm_login"][0]


@pytest.fixture(scope="session")
def computes(cluster):
    return cluster["slurm_compute"]


@pytest.fixture(scope="session")
def all_nodes(cluster):
    return [host for group in GROUPS for host in cluster[group]]


@pytest.fixture(scope="session")
def slurm_bin(controller):
    """Slurm's commands: HyperPod's /opt/slurm/bin where present, else the distribution's."""
    return "/opt/slurm/bin" if controller.file("/opt/slurm/bin/sinfo").exists else "/usr/bin"
