"""Golden-file tests: the roles' templates rendered by Ansible with the roles' defaults.

Set UPDATE_GOLDEN=1 to rewrite the golden files after an intended change, then review the diff.
"""

import os
import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GOLDEN = HERE / "golden"
FILES = ["slurm.conf", "cgroup.conf", "lifecycle_bundle.conf", "slurmd-configless.conf", "sackd.service"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, repo_collections):
    out = tmp_path_factory.mktemp("rendered")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(repo_collections))
    result = subprocess.run(
        [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "inventory.yml", "render.yml",
         "-e", "out=%s" % out], cwd=HERE / "render", env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return out


@pytest.mark.parametrize("name", FILES)
def test_matches_golden_file(rendered, name):
    text = (rendered / name).read_text()
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_node_lines_use_hostlist_ranges(rendered):
    lines = (rendered / "slurm.conf").read_text().splitlines()
    assert "NodeName=gpu-[01-04] CPUs=192 RealMemory=1800000 State=UNKNOWN" in lines
    assert "PartitionName=cpu Nodes=cpu[1-3,5],bigmem1 MaxTime=INFINITE State=UP" in lines


def test_nothing_but_settings_in_the_include(rendered):
    body = [line for line in (rendered / "lifecycle_bundle.conf").read_text().splitlines()
            if line and not line.startswith("#")]
    assert body == ["MessageTimeout=20"]
