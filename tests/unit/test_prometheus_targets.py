"""The observability role's target updater (roles/observability/files/hpb-prometheus-targets): the
controller's last inventory targets, kept in step with Slurm's nodes (replaced, added, removed)."""

import importlib.machinery
import importlib.util
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "roles" / "observability" / "files" / "hpb-prometheus-targets"


def load():
    loader = importlib.machinery.SourceFileLoader("hpb_prometheus_targets", str(SCRIPT))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


targets = load()


def entry(address, port, node, node_type="compute", partition="dev", group="workers"):
    return {"targets": ["%s:%d" % (address, port)],
            "labels": {"node": node, "node_type": node_type, "partition": partition, "instance_group": group}}


INVENTORY = {
    "ports": {"node": 9100, "dcgm": 9400, "efa": 9109},
    "targets": {
        "node": [entry("10.0.0.1", 9100, "head", "controller", "", "controller"),
                 entry("10.0.0.2", 9100, "login1", "login", "", "login"),
                 entry("10.0.0.3", 9100, "gpu1"), entry("10.0.0.4", 9100, "gpu2")],
        "dcgm": [entry("10.0.0.3", 9400, "gpu1"), entry("10.0.0.4", 9400, "gpu2")],
        "efa": [entry("10.0.0.3", 9109, "gpu1")],
        "slurm": [entry("10.0.0.1", 9100, "head", "controller", "", "controller")],
    },
}

# Real `scontrol -o show nodes` lines (22.05) trimmed; OS= and Reason= hold spaces.
SCONTROL = """NodeName=login1 Arch=x86_64 CoresPerSocket=1 CPUAlloc=0 NodeAddr=10.0.0.2 NodeHostName=login1 Version=22.05.8 OS=Linux 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01) RealMemory=1000 Partitions=(null) Gres=(null) State=IDLE
NodeName=gpu1 Arch=x86_64 NodeAddr=10.0.9.9 NodeHostName=gpu1 Gres=gpu:8 Partitions=dev,batch State=IDLE Reason=replaced by HyperPod [root@2026-12-03T10:00:00]
NodeName=gpu3 Arch=x86_64 NodeAddr=10.0.0.7 NodeHostName=gpu3 Gres=gpu:a100:8(S:0-1) Partitions=dev State=IDLE
NodeName=cpu1 Arch=x86_64 NodeAddr=10.0.0.8 NodeHostName=cpu1 Gres=(null) Partitions=dev State=IDLE
"""


def test_parse_reads_names_addresses_partitions_and_gpus():
    nodes = targets.parse_nodes(SCONTROL)
    assert nodes["login1"] == {"addr": "10.0.0.2", "partitions": [], "gpu": False}
    assert nodes["gpu1"] == {"addr": "10.0.9.9", "partitions": ["dev", "batch"], "gpu": True}
    assert nodes["gpu3"]["gpu"] and not nodes["cpu1"]["gpu"]
    assert targets.parse_nodes("No nodes in the system\n") == {}


def test_replaced_added_and_removed_nodes():
    merged = targets.merge(INVENTORY, targets.parse_nodes(SCONTROL))
    node = {e["labels"]["node"]: e["targets"] for e in merged["node"]}
    # gpu1 was replaced (new address); gpu2 is gone; gpu3 and cpu1 were added; the controller stays.
    assert node == {"head": ["10.0.0.1:9100"], "login1": ["10.0.0.2:9100"], "gpu1": ["10.0.9.9:9100"],
                    "gpu3": ["10.0.0.7:9100"], "cpu1": ["10.0.0.8:9100"]}
    assert {e["labels"]["node"]: e["targets"] for e in merged["dcgm"]} == {
        "gpu1": ["10.0.9.9:9400"], "gpu3": ["10.0.0.7:9400"]}
    # EFA cannot be seen in Slurm: only the inventory's EFA nodes, at their current address.
    assert merged["efa"][0]["targets"] == ["10.0.9.9:9109"] and len(merged["efa"]) == 1
    assert merged["slurm"] == INVENTORY["targets"]["slurm"]
    added = next(e for e in merged["node"] if e["labels"]["node"] == "gpu3")
    assert added["labels"] == {"node": "gpu3", "node_type": "compute", "partition": "dev", "instance_group": ""}
    # Labels the inventory gave are kept for the nodes it knew.
    assert next(e for e in merged["node"] if e["labels"]["node"] == "gpu1")["labels"]["instance_group"] == "workers"


def test_without_an_answer_from_slurm_the_inventory_stands():
    assert targets.merge(INVENTORY, {}) == INVENTORY["targets"]


def test_ipv6_addresses_are_bracketed():
    merged = targets.merge(INVENTORY, {"gpu1": {"addr": "fd00::3", "partitions": ["dev"], "gpu": False}})
    assert [e["targets"] for e in merged["node"] if e["labels"]["node"] == "gpu1"] == [["[fd00::3]:9100"]]


def run(tmp_path, scontrol):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "scontrol").write_text(scontrol)
    (bin_dir / "scontrol").chmod(0o755)
    (tmp_path / "inventory.json").write_text(json.dumps(INVENTORY))
    out = tmp_path / "targets"
    out.mkdir(exist_ok=True)
    result = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "inventory.json"), str(out)],
                            capture_output=True, text=True, env={"PATH": "%s:/usr/bin:/bin" % bin_dir})
    assert result.returncode == 0, result.stderr
    return result.stdout, out


def test_the_script_writes_each_file_once_and_only_on_change(tmp_path):
    (tmp_path / "scontrol.txt").write_text(SCONTROL)
    stand_in = "#!/bin/sh\ncat %s\n" % (tmp_path / "scontrol.txt")
    first, out = run(tmp_path, stand_in)
    assert sorted(line.split(": ")[1].split(" ")[0] for line in first.splitlines()) == sorted(
        str(out / ("%s.json" % job)) for job in ("node", "dcgm", "efa", "slurm"))
    assert json.loads((out / "node.json").read_text())[2]["targets"] == ["10.0.9.9:9100"]
    assert oct((out / "node.json").stat().st_mode & 0o777) == "0o644"
    again, _ = run(tmp_path, stand_in)
    assert again == ""
    assert not [p for p in out.iterdir() if p.name.startswith(".targets.")]


def test_a_failing_scontrol_writes_the_inventory(tmp_path):
    _, out = run(tmp_path, "#!/bin/sh\necho 'slurm_load_node error: Unable to contact slurm controller' >&2\nexit 1\n")
    assert json.loads((out / "node.json").read_text()) == INVENTORY["targets"]["node"]
