"""The node's hardware against its node line (filter slurm_node_drift, role slurm_compute), and how
the run summary takes what roles report with set_stats (run_summary.reported)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from plugins.filter.slurm_node_drift import slurm_node_drift  # noqa: E402
from ansible_collections.hyperpod.slurm.plugins.plugin_utils import run_summary  # noqa: E402

SLURMD_C = ("NodeName=ip-10-1-2-3 CPUs=192 Boards=1 SocketsPerBoard=2 CoresPerSocket=48 ThreadsPerCore=2 "
            "RealMemory=2063937\nUpTime=0-01:02:03\n")


def node(cpus, memory):
    return ("NodeName=ip-10-1-2-3 Arch=x86_64 CoresPerSocket=48 CPUAlloc=0 CPUTot=%d CPULoad=0.01 "
            "AvailableFeatures=(null) Gres=gpu:8 NodeAddr=10.1.2.3 RealMemory=%d AllocMem=0 State=IDLE\n" % (cpus, memory))


def test_no_drift_when_the_node_line_promises_no_more_than_the_node_has():
    facts = slurm_node_drift(SLURMD_C, node(192, 1))
    assert facts == {"slurmd": {"CPUs": 192, "RealMemory": 2063937},
                     "node_line": {"CPUs": 192, "RealMemory": 1}, "drift": []}


def test_drift_in_cpus_and_memory_is_named():
    assert slurm_node_drift(SLURMD_C, node(96, 2100000))["drift"] == [
        "CPUs: node line 96, slurmd -C 192",
        "RealMemory: node line 2100000 MB, above the 2063937 MB slurmd -C found"]


def test_gpus_the_driver_lists_against_the_node_lines_gres():
    listing = "".join("GPU %d: NVIDIA H100 80GB HBM3 (UUID: GPU-%d)\n" % (i, i) for i in range(7))
    facts = slurm_node_drift(SLURMD_C, node(192, 1), listing)
    assert facts["drift"] == ["GPUs: node line 8, nvidia-smi lists 7"]
    assert facts["slurmd"]["GPUs"] == 7 and facts["node_line"]["GPUs"] == 8
    eight = listing + "GPU 7: NVIDIA H100 80GB HBM3 (UUID: GPU-7)\n"
    assert slurm_node_drift(SLURMD_C, node(192, 1).replace("Gres=gpu:8", "Gres=gpu:h100:4(S:0),gpu:h100:4(S:1)"),
                            eight)["drift"] == []
    # No GPUs in the line, or no listing asked for: nothing compared.
    assert "GPUs" not in slurm_node_drift(SLURMD_C, node(192, 1).replace("Gres=gpu:8", "Gres=(null)"), "")["slurmd"]
    assert "GPUs" not in slurm_node_drift(SLURMD_C, node(192, 1))["slurmd"]


def test_nothing_known_nothing_claimed():
    assert slurm_node_drift("", "")["drift"] == []


def test_the_summary_takes_only_the_reported_keys():
    assert run_summary.reported({"_run": {"node_facts": {"drift": []}, "other": 1}}) == {"node_facts": {"drift": []}}
    assert run_summary.reported(None) == {} and run_summary.reported({}) == {}
