"""The slurm_hooks role's installed scripts, run as slurmd runs them, against a fake scontrol:
the Prolog/Epilog dispatcher (hpb-hook), the health check (hpb-healthcheck) and the GPU-to-job
mapping script; and the Slurm version check of slurm_common (filter slurm_version_mismatch)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
import yaml

import source_files

ROOT = Path(__file__).resolve().parents[2]
FILES = ROOT / "roles" / "slurm_hooks" / "files"
sys.path.insert(0, str(ROOT))

from plugins.filter.slurm_version import slurm_version_mismatch  # noqa: E402

# A fake scontrol: answers -V and `show node|reservation|hostnames` from files, logs every call.
FAKE_SCONTROL = """#!/bin/sh
dir=$(dirname "$0")
echo "$*" >> "$dir/calls"
case "$1 $2" in
  "-V ") cat "$dir/version" ;;
  "show node") cat "$dir/node" ;;
  "show reservation") cat "$dir/reservations" 2>/dev/null ;;
  "show hostnames") echo "$3" | tr ',' '\\n' ;;
  update*) ;;
esac
"""


def load(name):
    return source_files.load("roles/slurm_hooks/files/" + name)


@pytest.fixture
def node(tmp_path):
    """A node: bin/ with the fake scontrol, the two folders, hooks.json, a slurm.conf."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "scontrol").write_text(FAKE_SCONTROL)
    (bindir / "scontrol").chmod(0o755)
    (bindir / "version").write_text("slurm 22.05.8\n")
    (bindir / "node").write_text("NodeName=n1 Arch=x86_64 State=IDLE ThreadsPerCore=1 Partitions=dev\n")
    for hook in ("prolog", "epilog"):
        (tmp_path / (hook + ".d")).mkdir()
        link = bindir / ("hpb-" + hook)
        link.symlink_to(FILES / "hpb-hook")
    config = {
        "reason_prefix": "hpb-health", "slurm_bindir": str(bindir), "nodename": "n1",
        "folders": {"prolog": str(tmp_path / "prolog.d"), "epilog": str(tmp_path / "epilog.d")},
        "dispatchers": {"prolog": str(bindir / "hpb-prolog"), "epilog": str(bindir / "hpb-epilog")},
        "chain_existing": "auto", "script_timeout": "5", "slurm_conf_candidates": [],
        "health": {"mounts": [], "gpus": "auto", "gpu_counts": {}, "instance_type": "", "disks": [],
                   "daemons": [], "use_fail": False, "timeout": 5, "gates": True},
    }
    (tmp_path / "hooks.json").write_text(json.dumps(config))
    (tmp_path / "slurm.conf").write_text("ClusterName=c\nProlog=%s\nInclude bundle.conf\n" % (tmp_path / "image-prolog"))
    (tmp_path / "bundle.conf").write_text("Prolog=%s\nEpilog=%s\n" % (bindir / "hpb-prolog", bindir / "hpb-epilog"))
    return tmp_path


def script(path, body):
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def run_hook(node, hook, **env):
    environment = dict(os.environ, HPB_HOOKS_CONFIG=str(node / "hooks.json"), SLURM_JOB_ID="42",
                       SLURMD_NODENAME="n1", SLURM_CONF=str(node / "slurm.conf"), **env)
    return subprocess.run([str(node / "bin" / ("hpb-" + hook))], env=environment, capture_output=True, text=True)


def calls(node):
    path = node / "bin" / "calls"
    return [line for line in path.read_text().splitlines() if line != "-V"] if path.exists() else []


def test_scripts_run_in_name_order_after_the_images_own_prolog(node):
    log = node / "order"
    script(node / "image-prolog", "echo image >> %s" % log)
    script(node / "prolog.d" / "20-b", "echo b-$HPB_HOOK-$SLURM_JOB_ID >> %s" % log)
    script(node / "prolog.d" / "10-a", "echo a >> %s" % log)
    script(node / "prolog.d" / "15-old.dpkg-old", "echo never >> %s" % log)
    (node / "prolog.d" / "12-not-executable").write_text("#!/bin/sh\necho never >> %s\n" % log)
    done = run_hook(node, "prolog")
    assert done.returncode == 0, done.stderr
    assert log.read_text().split() == ["image", "a", "b-prolog-42"]


def test_a_failing_optional_script_is_logged_and_the_job_goes_on(node):
    script(node / "prolog.d" / "10-broken", "exit 3")
    script(node / "prolog.d" / "20-after", "touch %s" % (node / "after"))
    done = run_hook(node, "prolog")
    assert done.returncode == 0
    assert "job 42: prolog script %s failed: exit 3 (optional: the job goes on)" % (node / "prolog.d" / "10-broken") in done.stderr
    assert (node / "after").exists()
    assert calls(node) == []  # nothing drained


def test_a_failing_gate_drains_with_a_reason_naming_it_and_fails_the_prolog(node):
    script(node / "prolog.d" / "50-gpu.gate", "exit 1")
    script(node / "prolog.d" / "60-later", "touch %s" % (node / "later"))
    done = run_hook(node, "prolog")
    assert done.returncode == 1
    assert calls(node) == ["update nodename=n1 state=drain reason=hpb-health: prolog gate 50-gpu.gate: exit 1"]
    assert not (node / "later").exists()


def test_the_epilog_runs_every_script_even_after_a_failing_gate(node):
    script(node / "epilog.d" / "10-x.gate", "exit 2")
    script(node / "epilog.d" / "20-cleanup", "touch %s" % (node / "cleaned"))
    done = run_hook(node, "epilog")
    assert done.returncode == 1 and (node / "cleaned").exists()
    assert calls(node) == ["update nodename=n1 state=drain reason=hpb-health: epilog gate 10-x.gate: exit 2"]


def test_a_script_that_hangs_counts_as_failed_after_the_timeout(node):
    config = json.loads((node / "hooks.json").read_text())
    config["script_timeout"] = 1
    (node / "hooks.json").write_text(json.dumps(config))
    script(node / "prolog.d" / "10-hang", "sleep 30")
    done = run_hook(node, "prolog")
    assert done.returncode == 0 and "failed: exit timeout after 1 s" in done.stderr


def test_the_images_own_failing_prolog_still_fails_the_hook(node):
    script(node / "image-prolog", "exit 4")
    done = run_hook(node, "prolog")
    assert done.returncode == 1 and "(the image's, chained) failed: exit 4" in done.stderr


def test_no_chaining_where_slurm_runs_every_prolog_line_itself(node):
    (node / "bin" / "version").write_text("slurm 24.11.5\n")
    script(node / "image-prolog", "exit 4")
    assert run_hook(node, "prolog").returncode == 0
    config = json.loads((node / "hooks.json").read_text())
    config["chain_existing"] = "true"
    (node / "hooks.json").write_text(json.dumps(config))
    assert run_hook(node, "prolog").returncode == 1


def test_the_chain_never_runs_the_dispatcher_itself(node):
    hook = load("hpb-hook")
    config = json.loads((node / "hooks.json").read_text())
    assert hook.chained(config, "prolog", {"SLURM_CONF": str(node / "slurm.conf")}) == [str(node / "image-prolog")]
    assert hook.chained(config, "epilog", {"SLURM_CONF": str(node / "slurm.conf")}) == []


# -- the health check ---------------------------------------------------------------------------

@pytest.mark.parametrize("flags, reason, failure, expected", [
    ({"IDLE"}, "", ("mount", "/fsx is not mounted"), ("drain", "hpb-health: mount: /fsx is not mounted")),
    ({"MIXED"}, "", ("gpu", "7 of 8"), ("drain", "hpb-health: gpu: 7 of 8")),
    ({"IDLE", "DRAIN"}, "Action:Replace", ("gpu", "7 of 8"), ("none", "already held by another reason: Action:Replace")),
    ({"IDLE", "DRAIN"}, "hpb-health: gpu: 7 of 8", ("gpu", "7 of 8"), ("none", "already drained for this")),
    ({"IDLE", "DRAIN"}, "hpb-health: gpu: 7 of 8", ("disk", "full"), ("drain", "hpb-health: disk: full")),
    ({"IDLE", "DRAIN"}, "hpb-health: gpu: 7 of 8", None, ("resume", "")),
    ({"IDLE", "FAIL"}, "hpb-health: gpu: 7 of 8", None, ("resume", "")),
    ({"IDLE", "DRAIN"}, "Kill task failed", None, ("none", "healthy")),
    ({"DOWN", "DRAIN"}, "hpb-health: prolog gate x.gate: exit 1", None, ("resume", "")),
    ({"DOWN"}, "Not responding", None, ("none", "healthy")),
    ({"IDLE"}, "", None, ("none", "healthy")),
])
def test_the_health_check_drains_and_resumes_only_its_own_nodes(flags, reason, failure, expected):
    health = load("hpb-healthcheck")
    assert health.decide(flags, reason, failure, "hpb-health", False, []) == expected


def test_fail_only_with_the_switch_and_nothing_in_a_foreign_reservation():
    health = load("hpb-healthcheck")
    assert health.decide({"IDLE"}, "", ("gpu", "0 of 8"), "hpb-health", True, []) == ("fail", "hpb-health: gpu: 0 of 8")
    assert health.decide({"IDLE"}, "", ("gpu", "0 of 8"), "hpb-health", False, ["dhc"]) == (
        "none", "in reservation dhc, not the bundle's")


def test_reservations_that_count_are_active_and_not_the_bundles():
    health = load("hpb-healthcheck")
    text = ("ReservationName=dhc-1 StartTime=now Nodes=n1,n2 State=ACTIVE Flags=MAINT\n"
            "ReservationName=hpb-maint Nodes=n1 State=ACTIVE\n"
            "ReservationName=later Nodes=n1 State=INACTIVE\n"
            "ReservationName=other Nodes=n3 State=ACTIVE\n")
    assert health.foreign_reservations(text, "n1", lambda hl: hl.split(",")) == ["dhc-1"]


def test_the_node_line_is_read_with_its_reason():
    health = load("hpb-healthcheck")
    line = ("NodeName=n1 Arch=x86_64 State=IDLE+DRAIN ThreadsPerCore=1 Partitions=dev "
            "Reason=hpb-health: mount: /fsx is not writable [root@2026-12-03T13:00:00]")
    assert health.parse_node(line) == ({"IDLE", "DRAIN"}, "hpb-health: mount: /fsx is not writable")
    assert health.parse_node("NodeName=n1 State=DOWN* Partitions=dev") == ({"DOWN"}, "")


def test_expected_gpus_follow_the_instance_type():
    health = load("hpb-healthcheck")
    # As the role writes them: the setting's order, the catch-all last (a JSON object's keys get sorted).
    counts = [{"key": k, "value": v} for k, v in yaml.safe_load(
        (ROOT / "roles" / "slurm_hooks" / "defaults" / "main.yml").read_text())["slurm_hooks_gpu_counts"].items()]
    assert counts[-1]["key"] == r"^ml\.(p|g|gr)[0-9]"
    for instance_type, expected in [("ml.p5en.48xlarge", 8), ("ml.p5.48xlarge", 8), ("ml.p4d.24xlarge", 8),
                                    ("ml.g5.12xlarge", 4), ("ml.g6.xlarge", 1), ("ml.g5.48xlarge", 8), ("ml.p3.2xlarge", 1),
                                    ("ml.c5.18xlarge", 0), ("", 0)]:
        assert health.expected_gpus({"gpus": "auto", "gpu_counts": counts, "instance_type": instance_type}) == expected
    assert health.expected_gpus({"gpus": "2", "gpu_counts": counts, "instance_type": "ml.p5.48xlarge"}) == 2


def run_health(node):
    env = dict(os.environ, HPB_HOOKS_CONFIG=str(node / "hooks.json"), SLURMD_NODENAME="n1")
    return subprocess.run([sys.executable, str(FILES / "hpb-healthcheck")], env=env, capture_output=True, text=True)


def test_the_health_check_drains_on_a_failing_gate_and_resumes_when_it_passes(node):
    flag = node / "broken"
    flag.touch()
    script(node / "prolog.d" / "50-x.gate", "[ ! -e %s ]" % flag)
    done = run_health(node)
    assert done.returncode == 0
    assert calls(node)[-1] == "update nodename=n1 state=drain reason=hpb-health: gate: 50-x.gate exit 1"
    (node / "bin" / "node").write_text("NodeName=n1 State=IDLE+DRAIN Reason=hpb-health: gate: 50-x.gate exit 1 [root@t]\n")
    flag.unlink()
    assert run_health(node).returncode == 0
    assert calls(node)[-1] == "update nodename=n1 state=resume"


def test_the_health_check_leaves_a_node_in_another_reservation_alone(node):
    (node / "bin" / "reservations").write_text("ReservationName=dhc Nodes=n1 State=ACTIVE\n")
    config = json.loads((node / "hooks.json").read_text())
    config["health"]["disks"] = [{"path": str(node), "min_free_mb": 10 ** 12}]
    (node / "hooks.json").write_text(json.dumps(config))
    done = run_health(node)
    assert done.returncode == 0 and "left alone: in reservation dhc" in done.stderr
    assert not [c for c in calls(node) if c.startswith("update")]


def test_the_health_check_checks_mounts_disks_and_daemons(node, tmp_path):
    health = load("hpb-healthcheck")
    assert health.check_mount(str(tmp_path / "prolog.d"), 5) == ("mount", "%s is not mounted" % (tmp_path / "prolog.d"))
    assert health.check_mount("/", 5) in (None, ("mount", "/ is not writable"))
    assert health.check_disk(str(tmp_path), 10 ** 12)[0] == "disk"
    assert health.check_disk(str(tmp_path), 0) is None
    assert health.check_gpus(0, 5) is None
    assert health.check_gpus(1, 5)[0] == "gpu"  # no nvidia-smi here


# -- GPU-to-job mapping ---------------------------------------------------------------------------

@pytest.fixture
def mapping(tmp_path):
    text = (ROOT / "roles" / "slurm_hooks" / "templates" / "dcgm-job-mapping.j2").read_text()
    path = tmp_path / "10-dcgm-job-mapping"
    path.write_text(jinja2.Template(text).render(slurm_hooks_dcgm_job_mapping_dir=str(tmp_path / "map")))
    path.chmod(0o755)
    return path


def run_mapping(path, **env):
    return subprocess.run([str(path)], env=dict(os.environ, **env), capture_output=True, text=True)


def test_the_mapping_writes_one_file_per_gpu_and_the_epilog_removes_the_jobs(mapping, tmp_path):
    folder = tmp_path / "map"
    assert run_mapping(mapping, SLURM_JOB_ID="7", SLURM_JOB_GPUS="0,3", HPB_HOOK="prolog").returncode == 0
    assert sorted(p.name for p in folder.iterdir()) == ["0", "3"] and (folder / "3").read_text() == "7\n"
    (folder / "3").write_text("8\n")  # a later job took GPU 3
    assert run_mapping(mapping, SLURM_JOB_ID="7", SLURM_JOB_GPUS="0,3", HPB_HOOK="epilog").returncode == 0
    assert sorted(p.name for p in folder.iterdir()) == ["3"]


def test_the_mapping_does_nothing_without_gpus(mapping, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SLURM_JOB_GPUS"}
    done = subprocess.run([str(mapping)], env=dict(env, SLURM_JOB_ID="7"), capture_output=True, text=True)
    assert done.returncode == 0 and not (tmp_path / "map").exists()


# -- the Slurm version check ---------------------------------------------------------------------

def test_a_node_with_another_slurm_release_stops_with_one_line():
    config = "Configuration data as of 2026-12-03T13:00:00\nSLURM_VERSION           = 24.11.5\n"
    line = slurm_version_mismatch("slurm 25.11.1\n", config, "compute-1", "/opt/slurm")
    assert line == ("slurm_common: compute-1 runs Slurm 25.11.1 (/opt/slurm) but the controller runs 24.11.5: it "
                    "would join with another Slurm release, so slurmd is stopped. Set slurm_common_hyperpod_version "
                    "to 24.11 (the image's /opt/slurm-24.11), or run the controller's release on every node.")
    assert "\n" not in line


def test_a_controller_refusing_the_nodes_protocol_is_a_mismatch():
    error = "slurm_load_ctl_conf error: Incompatible versions of client and server code\n"
    line = slurm_version_mismatch("slurm 22.05.8", error, "compute-1")
    assert line.startswith("slurm_common: compute-1 runs Slurm 22.05.8 (/opt/slurm) and the controller's slurmctld "
                           "refuses its messages") and "\n" not in line
    assert "refuses" in slurm_version_mismatch("slurm 22.05.8", "Protocol version has changed, re-link your code")
    assert slurm_version_mismatch("slurm 22.05.8", "Unable to contact slurm controller (connect failure)") == ""


def test_same_release_or_nothing_to_compare_passes():
    assert slurm_version_mismatch("slurm 24.11.1", "SLURM_VERSION = 24.11.5") == ""  # patch levels may differ
    assert slurm_version_mismatch("slurm 24.11.1", "") == ""  # the controller's configuration not readable
    assert slurm_version_mismatch("", "SLURM_VERSION = 24.11.5") == ""


def test_a_hanging_gate_fails_the_health_check_after_its_timeout(node):
    health = load("hpb-healthcheck")
    script(node / "prolog.d" / "50-hang.gate", "sleep 30")
    assert health.check_gates(str(node / "prolog.d"), 1) == ("gate", "50-hang.gate exit 124")


def test_a_dispatcher_without_its_configuration_logs_and_lets_the_job_run(node):
    (node / "hooks.json").unlink()
    done = run_hook(node, "prolog")
    assert done.returncode == 0 and "the dispatcher failed, scripts not run" in done.stderr
    assert run_health(node).returncode == 0


# -- the DCGM diagnostic gate --------------------------------------------------------------------

@pytest.fixture
def diag_gate(node):
    """The gate as the role writes it (level 1), in the prolog folder, and a fake dcgmi on PATH that
    logs its arguments and fails when told to."""
    text = (ROOT / "roles" / "slurm_hooks" / "templates" / "dcgm-diag.gate.j2").read_text()
    gate = node / "prolog.d" / "20-dcgm-diag.gate"
    gate.write_text(jinja2.Template(text).render(slurm_hooks_dcgm_diag_level=1))
    gate.chmod(0o755)
    script(node / "bin" / "dcgmi", 'echo "$*" >> %s; [ ! -e %s ]' % (node / "dcgmi-calls", node / "gpu-broken"))
    return node


def run_with_dcgmi(node, **env):
    return run_hook(node, "prolog", PATH="%s:%s" % (node / "bin", os.environ["PATH"]), **env)


def test_the_dcgm_gate_diagnoses_the_jobs_gpus_and_drains_on_failure(diag_gate):
    node = diag_gate
    assert run_with_dcgmi(node, SLURM_JOB_GPUS="0,3").returncode == 0
    assert (node / "dcgmi-calls").read_text() == "diag -r 1 -i 0,3\n" and calls(node) == []
    (node / "gpu-broken").touch()
    done = run_with_dcgmi(node, SLURM_JOB_GPUS="0,3")
    assert done.returncode != 0
    assert any("20-dcgm-diag.gate" in call and "update" in call for call in calls(node)), calls(node)


def test_the_dcgm_gate_passes_without_gpus_or_without_dcgm(diag_gate):
    node = diag_gate
    (node / "gpu-broken").touch()
    env = {k: v for k, v in os.environ.items() if k != "SLURM_JOB_GPUS"}
    done = subprocess.run([str(node / "bin" / "hpb-prolog")], capture_output=True, text=True, env=dict(
        env, HPB_HOOKS_CONFIG=str(node / "hooks.json"), SLURM_JOB_ID="42", SLURMD_NODENAME="n1",
        SLURM_CONF=str(node / "slurm.conf"), PATH="%s:%s" % (node / "bin", env["PATH"])))
    assert done.returncode == 0 and not (node / "dcgmi-calls").exists()
    (node / "bin" / "dcgmi").unlink()
    assert run_hook(node, "prolog", SLURM_JOB_GPUS="0").returncode == 0
    assert calls(node) == []
