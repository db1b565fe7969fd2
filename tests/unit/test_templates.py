"""Golden-file tests: the roles' templates rendered by Ansible with the roles' defaults.

Set UPDATE_GOLDEN=1 to rewrite the golden files after an intended change, then review the diff.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GOLDEN = HERE / "golden"
FILES = ["slurm.conf", "cgroup.conf", "lifecycle_bundle.conf", "slurmd-configless.conf", "sackd.service",
         "prometheus.yml", "prometheus-remote-write.yml", "prometheus-node-targets.json"]


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


def test_node_targets_carry_the_inventorys_labels(rendered):
    targets = {entry["labels"]["node"]: entry for entry in json.loads((rendered / "prometheus-node-targets.json").read_text())}
    assert len(targets) == 11  # head1, login1, gpu-01..04, cpu1..3, cpu5, bigmem1
    assert targets["head1"] == {"targets": ["head1:9100"], "labels": {
        "node": "head1", "node_type": "controller", "partition": "", "instance_group": ""}}
    assert targets["gpu-03"]["labels"]["partition"] == "gpu"
    assert targets["login1"]["labels"]["node_type"] == "login"


@pytest.mark.parametrize("name", ["prometheus.yml", "prometheus-remote-write.yml"])
def test_promtool_accepts_the_prometheus_config(rendered, tmp_path, name):
    """promtool (tools/promtool: Debian's, unpacked into .cache) checks the config and, pointed at
    the rendered targets, the file_sd file too."""
    if not shutil.which("apt-get") and not (ROOT / ".cache" / "promtool" / "promtool").exists():
        pytest.skip("no promtool: tools/promtool needs apt-get (Debian or Ubuntu)")
    (tmp_path / "node.json").write_text((rendered / "prometheus-node-targets.json").read_text())
    (tmp_path / "slurm.json").write_text("[]\n")
    config = tmp_path / "prometheus.yml"
    config.write_text((rendered / name).read_text().replace("/etc/prometheus/targets/", "%s/" % tmp_path))
    result = subprocess.run([str(ROOT / "tools" / "promtool"), "check", "config", str(config)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout and "WARNING" not in result.stdout + result.stderr
    assert ("remote_write" in config.read_text()) == (name == "prometheus-remote-write.yml")
