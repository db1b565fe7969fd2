"""Golden-file tests: the roles' templates rendered by Ansible with the roles' defaults.

Set UPDATE_GOLDEN=1 to rewrite the golden files after an intended change (conftest.matches_golden), then review the diff.
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
FILES = ["slurm.conf", "slurm-multi-head.conf", "lifecycle_bundle-multi-head.conf", "cgroup.conf", "lifecycle_bundle.conf", "slurmd-configless.conf", "sackd.service",
         "prometheus.yml", "prometheus-remote-write.yml", "prometheus-node-targets.json",
         "prometheus-dcgm-targets.json", "prometheus-efa-targets.json", "hpb-amp-forwarder.service",
         "hpb-amp-forwarder.json", "prometheus-native.yml", "hpb-slurm-rules.yml", "slurm-native-metrics.conf",
         "lifecycle_bundle-native-metrics.conf", "lifecycle_bundle-24.11-metrics.conf"]


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
def test_matches_golden_file(rendered, name, matches_golden):
    matches_golden((rendered / name).read_text(), GOLDEN / name)


def test_node_lines_use_hostlist_ranges(rendered):
    lines = (rendered / "slurm.conf").read_text().splitlines()
    assert "NodeName=gpu-[01-04] CPUs=192 RealMemory=1800000 State=UNKNOWN" in lines
    assert "PartitionName=cpu Nodes=cpu[1-3,5],bigmem1 MaxTime=INFINITE State=UP" in lines


def test_multi_head_lists_every_controller_and_shares_the_state(rendered):
    lines = (rendered / "slurm-multi-head.conf").read_text().splitlines()
    assert [line for line in lines if line.startswith("SlurmctldHost=")] == ["SlurmctldHost=head1(10.1.0.10)",
                                                                             "SlurmctldHost=head2(10.1.0.11)"]
    assert "StateSaveLocation=/fsx/slurm/golden/statesave" in lines
    assert "SlurmctldPrimaryOnProg=/usr/local/sbin/slurm-takeover-notice-on" in lines
    include = (rendered / "lifecycle_bundle-multi-head.conf").read_text().splitlines()
    assert "StateSaveLocation=/fsx/slurm/golden/statesave" in include
    assert "MessageTimeout=20" in include


def test_the_include_joins_prolog_flags(rendered):
    # The platform's X11, the roles' Contain, the user's Serial (their "contain" is the same flag).
    lines = (rendered / "lifecycle_bundle-hooks.conf").read_text().splitlines()
    assert "PrologFlags=X11,Contain,Serial" in lines
    assert "Prolog=/usr/local/sbin/hpb-prolog" in lines


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


def test_gpu_and_efa_targets_follow_instance_type_and_overrides(rendered):
    def nodes(job):
        return sorted(e["labels"]["node"] for e in json.loads((rendered / ("prometheus-%s-targets.json" % job)).read_text()))
    # gpu-01..04 are ml.p5.48xlarge; cpu5 (ml.c5.18xlarge) sets observability_gpu: present; gpu-04 sets
    # observability_efa: absent; the others have no instance type (ordinary inventories): not scraped.
    assert nodes("dcgm") == ["cpu5", "gpu-01", "gpu-02", "gpu-03", "gpu-04"]
    assert nodes("efa") == ["gpu-01", "gpu-02", "gpu-03"]
    dcgm = {e["labels"]["node"]: e for e in json.loads((rendered / "prometheus-dcgm-targets.json").read_text())}
    assert dcgm["gpu-01"]["targets"] == ["gpu-01:9400"] and dcgm["gpu-01"]["labels"]["partition"] == "gpu"


def test_metrics_type_only_where_slurmctld_has_the_plugin(rendered):
    assert "MetricsType=metrics/openmetrics" in (rendered / "slurm-native-metrics.conf").read_text().splitlines()
    assert "MetricsType=metrics/openmetrics" in (rendered / "lifecycle_bundle-native-metrics.conf").read_text().splitlines()
    assert "MetricsType" not in (rendered / "lifecycle_bundle-24.11-metrics.conf").read_text()
    assert "MetricsType" not in (rendered / "slurm.conf").read_text()


@pytest.mark.parametrize("name", ["prometheus.yml", "prometheus-remote-write.yml", "prometheus-native.yml"])
def test_promtool_accepts_the_prometheus_config(rendered, tmp_path, name):
    """promtool (tools/promtool: Debian's, unpacked into .cache) checks the config and, pointed at
    the rendered targets, the file_sd file too."""
    if not shutil.which("apt-get") and not (ROOT / ".cache" / "promtool" / "promtool").exists():
        pytest.skip("no promtool: tools/promtool needs apt-get (Debian or Ubuntu)")
    (tmp_path / "node.json").write_text((rendered / "prometheus-node-targets.json").read_text())
    (tmp_path / "slurm.json").write_text("[]\n")
    for job in ("dcgm", "efa"):
        (tmp_path / ("%s.json" % job)).write_text((rendered / ("prometheus-%s-targets.json" % job)).read_text())
    config = tmp_path / "prometheus.yml"
    (tmp_path / "hpb-slurm-rules.yml").write_text((rendered / "hpb-slurm-rules.yml").read_text())
    config.write_text((rendered / name).read_text().replace("/etc/prometheus/targets/", "%s/" % tmp_path)
                      .replace("/etc/prometheus/hpb-slurm-rules.yml", "%s/hpb-slurm-rules.yml" % tmp_path))
    result = subprocess.run([str(ROOT / "tools" / "promtool"), "check", "config", str(config)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout and "WARNING" not in result.stdout + result.stderr
    assert ("remote_write" in config.read_text()) == (name == "prometheus-remote-write.yml")
