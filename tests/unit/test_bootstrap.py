"""bootstrap.py as on_create.sh runs it: a subprocess with this venv's Python, from another cwd."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import EXAMPLES, FIXTURES, REPO

BOOTSTRAP = str(REPO / "bootstrap.py")
RC = str(EXAMPLES / "resource_config.json")
PP = str(EXAMPLES / "provisioning_parameters.json")
TASK_LINE = re.compile(r"^ +\d+\.\ds  (\S+) \| (.+?) \.+ (ok|changed|failed|skipped|ignored|unreachable)$")


def bootstrap(*args, cwd):
    return subprocess.run([sys.executable, BOOTSTRAP, *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          check=False)


def task_lines(stdout):
    return [m.groups() for m in map(TASK_LINE.match, stdout.splitlines()) if m]


def recap_changed(log_text):
    """The changed= count of the last PLAY RECAP in ansible.log."""
    return int(re.findall(r"changed=(\d+)", log_text)[-1])


# ---- bootstrap.py inventory ---------------------------------------------------------------------

def test_inventory_lists_like_ansible_inventory(tmp_path):
    done = bootstrap("inventory", "--resource-config", RC, "--provisioning-parameters", PP, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["slurm_compute"]["hosts"] == ["compute-gpu-1", "compute-cpu-1"]
    assert data["partition_gpu"]["hosts"] == ["compute-gpu-1"]
    assert "slurm_controller" in data["all"]["children"]
    hv = data["_meta"]["hostvars"]["compute-cpu-1"]
    assert hv["hyperpod_partition"] == "cpu"
    assert hv["slurm_nodename"] == "ip-10-89-50-22"
    assert hv["hyperpod_controller_ips"] == ["10.89.50.11"]  # group `all` vars reach every host
    assert hv["ansible_host"] == "10.89.50.22"
    assert "inventory_hostname" not in hv  # Ansible's internal variables are left out, as ansible-inventory does


def test_inventory_api_mode(tmp_path):
    done = bootstrap("inventory", "--resource-config", str(EXAMPLES / "api-mode" / "resource_config.json"),
                     "--provisioning-parameters", "", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    hv = json.loads(done.stdout)["_meta"]["hostvars"]["compute-gpu-1"]
    assert hv["hyperpod_config_mode"] == "api"
    assert hv["slurm_nodename"] == "compute-gpu-1"


def test_inventory_bad_input_is_one_line_and_exit_2(tmp_path):
    pp = json.loads((EXAMPLES / "provisioning_parameters.json").read_text())
    pp["controller_group"] = "ctrl"
    (tmp_path / "provisioning_parameters.json").write_text(json.dumps(pp))
    done = bootstrap("inventory", "--resource-config", RC, "--provisioning-parameters",
                     str(tmp_path / "provisioning_parameters.json"), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"{tmp_path / 'provisioning_parameters.json'}: controller_group: 'ctrl' is not an instance group in "
        "resource_config.json (groups: controller-machine, login-group, compute-gpu, compute-cpu); "
        "set it to one of them\n")


def test_plugin_through_ansible_inventory(tmp_path):
    """The plugin as Ansible loads it: verify_file, options, errors as Ansible reports them."""
    (tmp_path / "cluster.hyperpod.yml").write_text(
        f"plugin: hyperpod\nresource_config: {RC}\nprovisioning_parameters: bad.json\n")
    (tmp_path / "bad.json").write_text("{")
    cli = str(Path(sys.executable).parent / "ansible-inventory")
    env = {"ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "PATH": "/usr/bin:/bin",
           "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true"}
    done = subprocess.run([cli, "-i", str(tmp_path / "cluster.hyperpod.yml"), "--list"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    expected = (f"{tmp_path / 'bad.json'}: invalid JSON at line 1 column 2: Expecting property name enclosed in "
                "double quotes (the file ends there: is it cut short?); fix the syntax there")
    # Ansible 2.17 wraps warnings, even inside a path: compare without any whitespace.
    assert "".join(expected.split()) in "".join(done.stderr.split())


def test_plugin_paths_are_relative_to_its_config_file(tmp_path):
    config_dir = tmp_path / "inventory"
    config_dir.mkdir()
    (config_dir / "resource_config.json").write_text((EXAMPLES / "resource_config.json").read_text())
    (config_dir / "cluster.hyperpod.yml").write_text(
        f"plugin: hyperpod\nresource_config: resource_config.json\nprovisioning_parameters: {PP}\n")
    env = {"ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "PATH": "/usr/bin:/bin",
           "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true"}
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i",
                           str(config_dir / "cluster.hyperpod.yml"), "--list"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["partition_gpu"]["hosts"] == ["compute-gpu-1"]


# ---- bootstrap.py run ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def converged(tmp_path_factory):
    """A --check run, then a real run, into the same log dir (as a person would)."""
    work = tmp_path_factory.mktemp("converge")
    log_dir = work / "log"
    common = ["--resource-config", RC, "--node", "compute-gpu-1", "--log-dir", str(log_dir),
              "--playbook", str(FIXTURES / "converge_ok.yml")]
    check = bootstrap("run", *common, "--check", cwd=work)
    check_summary = json.loads((log_dir / "summary-latest.json").read_text())
    real = bootstrap("run", *common, "-e", "fixture_extra=hello", cwd=work)
    return {"check": check, "check_summary": check_summary, "real": real, "log_dir": log_dir}


def test_run_succeeds_with_one_line_per_task(converged):
    done = converged["real"]
    assert done.returncode == 0, done.stdout + done.stderr
    assert task_lines(done.stdout) == [
        ("fixture_role", "Report the extra var", "ok"),
        ("fixture_role", "Change from a role", "changed"),
        ("-", "Make a change", "changed"),
        ("-", "Use a filter of the bundle's collection", "ok"),
        ("-", "Never runs", "skipped"),
        ("-", "Change in a loop", "changed"),
        ("-", "Handle a secret", "ok"),
    ]
    assert "compute-gpu-1: successful in" in done.stdout
    assert "FAILED" not in done.stdout


def test_run_summary_counts_match_the_play_recap(converged):
    log_dir = converged["log_dir"]
    summary = json.loads((log_dir / "summary-latest.json").read_text())
    assert summary["node"] == "compute-gpu-1"
    assert summary["status"] == "successful"
    assert summary["check"] is False
    assert summary["failure"] is None
    assert (summary["ok"], summary["changed"], summary["failed"], summary["skipped"]) == (6, 3, 0, 1)
    roles = {name: dict(counts) for name, counts in summary["roles"].items()}
    seconds = {name: counts.pop("seconds") for name, counts in roles.items()}
    waited = {name: counts.pop("waited") for name, counts in roles.items()}
    assert all(0 <= waited[name] <= seconds[name] for name in roles)
    assert roles == {"fixture_role": {"ok": 2, "changed": 1, "failed": 0, "skipped": 0},
                     "-": {"ok": 4, "changed": 2, "failed": 0, "skipped": 1}}
    assert all(isinstance(s, float) and 0 <= s <= summary["elapsed_seconds"] for s in seconds.values())
    assert summary["changed"] == recap_changed((log_dir / "ansible.log").read_text())
    assert isinstance(summary["elapsed_seconds"], float)
    # Ansible's and the modules' processes counted, not bootstrap.py's alone (about half a second).
    assert isinstance(summary["cpu_seconds"], float) and summary["cpu_seconds"] >= 1.0
    stamped = sorted(log_dir.glob("summary-2*.json"))
    assert len(stamped) == 2 and json.loads(stamped[-1].read_text()) == summary


def test_run_keeps_ansible_output(converged):
    log_dir = converged["log_dir"]
    log = (log_dir / "ansible.log").read_text()
    assert "PLAY RECAP" in log and "fixture_extra=hello" in log  # -e reached ansible-playbook
    artifacts = Path(json.loads((log_dir / "summary-latest.json").read_text())["artifacts"])
    assert artifacts.parent == log_dir / "runner" / "artifacts"
    assert "TASK [Make a change]" in (artifacts / "stdout").read_text()
    assert oct((log_dir / "runner").stat().st_mode & 0o777) == "0o700"


def test_run_never_shows_no_log_output(converged):
    log_dir = converged["log_dir"]
    for text in (converged["real"].stdout, (log_dir / "ansible.log").read_text(),
                 (log_dir / "summary-latest.json").read_text()):
        assert "s3cr3t" not in text


def test_check_run_and_no_leak_into_the_next_run(converged):
    assert converged["check"].returncode == 0, converged["check"].stdout
    assert "(check mode)" in converged["check"].stdout
    assert converged["check_summary"]["check"] is True
    # The real run after it really ran (runner keeps no stale --check between runs).
    assert json.loads((converged["log_dir"] / "summary-latest.json").read_text())["changed"] == 3


def test_run_failure_names_the_task_and_exits_1(tmp_path):
    kept = tmp_path / "log" / "runner" / "modules" / "0123456789abcdef"  # what a run before kept
    kept.mkdir(parents=True)
    (kept / "ansible.modules.ping-ZIP_DEFLATED").write_bytes(b"cut short")
    # No "run" word: on_create.sh's default.
    done = bootstrap("--resource-config", RC, "--node", "compute-gpu-1", "--log-dir", str(tmp_path / "log"),
                     "--playbook", str(FIXTURES / "converge_fail.yml"), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED: role -, task Break on purpose: deliberate failure for the test" in done.stdout.splitlines()
    assert ("-", "Break on purpose", "failed") in task_lines(done.stdout)
    summary = json.loads((tmp_path / "log" / "summary-latest.json").read_text())
    assert summary["status"] == "failed"
    assert summary["failed"] == 1
    assert summary["failure"] == {"role": "-", "task": "Break on purpose", "host": "compute-gpu-1",
                                  "msg": "deliberate failure for the test"}
    assert not kept.parent.exists()  # a failed run keeps no built module: the next builds them anew


def test_run_stopped_before_any_task_says_why(tmp_path):
    done = bootstrap("run", "--resource-config", RC, "--node", "compute-gpu-1", "--log-dir", str(tmp_path / "log"),
                     "--playbook", str(FIXTURES / "converge_broken.yml"), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAILED: ")]
    assert len(failed) == 1
    assert failed[0].startswith("FAILED: role -, task -: ")
    assert "ansible.builtin.no_such_module_here" in failed[0]
    assert json.loads((tmp_path / "log" / "summary-latest.json").read_text())["status"] == "failed"


def test_run_argument_spec_failure_is_one_line(tmp_path):
    done = bootstrap("run", "--resource-config", RC, "--node", "compute-gpu-1", "--log-dir", str(tmp_path / "log"),
                     "--playbook", str(FIXTURES / "converge_argspec.yml"), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAILED: ")]
    assert len(failed) == 1
    assert failed[0].startswith("FAILED: role fixture_spec, task argument spec: argument 'fixture_spec_count' ")
    assert failed[0].endswith("; fix the variable in group_vars or -e (see roles/fixture_spec/README.md)")


def test_inventory_without_the_plugin_enabled(tmp_path):
    env = dict(os.environ, ANSIBLE_INVENTORY_ENABLED="ini")  # environment beats ansible.cfg
    done = subprocess.run([sys.executable, BOOTSTRAP, "inventory", "--resource-config", RC], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        f"{REPO / 'ansible.cfg'}: [inventory] enable_plugins: Ansible did not use the hyperpod inventory plugin; "
        "list hyperpod there, and set inventory_plugins = ./plugins/inventory in [defaults]")


def test_run_bad_input_writes_nothing(tmp_path):
    done = bootstrap("run", "--resource-config", str(tmp_path / "missing.json"), "--node", "x",
                     "--log-dir", str(tmp_path / "log"), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (f"{tmp_path / 'missing.json'}: cannot read the file (No such file or directory); "
                           "check the path and permissions\n")
    assert not (tmp_path / "log").exists()


def test_run_unknown_node(tmp_path):
    done = bootstrap("run", "--resource-config", RC, "--node", "compute-gpu-9", "--log-dir", str(tmp_path / "log"),
                     cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        f"{RC}: InstanceGroups[].Instances[].InstanceName: no instance is named 'compute-gpu-9' (instances: "
        "controller-machine-1, login-group-1, compute-gpu-1, compute-cpu-1); pass --node with one of them, or "
        "leave --node out to match this node's IP\n")
    assert not (tmp_path / "log").exists()


def test_run_waits_for_the_node_lock_with_a_bound(tmp_path):
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    # Another run holds the lock (and wrote its pid, as bootstrap.py does).
    holder = subprocess.Popen(["flock", str(log_dir / "bootstrap.lock"), "sh", "-c", "echo $$ > \"$0\"; sleep 60",
                               str(log_dir / "bootstrap.lock")])
    try:
        for _ in range(50):
            if (log_dir / "bootstrap.lock").exists() and (log_dir / "bootstrap.lock").read_text().strip():
                break
            time.sleep(0.1)
        pid = (log_dir / "bootstrap.lock").read_text().strip()
        done = bootstrap("run", "--resource-config", RC, "--node", "compute-gpu-1", "--log-dir", str(log_dir),
                         "--lock-wait", "2", "--playbook", str(FIXTURES / "converge_fail.yml"), cwd=tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == (
        f"FAILED: another bootstrap.py run (pid {pid}) still holds {log_dir / 'bootstrap.lock'} after 2 s; "
        "wait for it to end, or stop it, then run again")
    assert not (log_dir / "summary-latest.json").exists()


def test_apt_get_waits_for_dpkgs_lock_as_long_as_told(tmp_path):
    """ansible-core 2.17's apt module runs apt-get without a lock timeout: the run's APT_CONFIG gives one."""
    done = bootstrap("run", "--resource-config", RC, "--node", "compute-gpu-1", "--log-dir", str(tmp_path / "log"),
                     "--apt-lock-timeout", "7", "--playbook", str(FIXTURES / "converge_apt_config.yml"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
