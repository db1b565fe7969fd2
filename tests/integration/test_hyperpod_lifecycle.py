"""Checks of the lifecycle path itself, only on a (simulated) HyperPod cluster."""

import datetime
import json
import os
import shlex

import pytest
import yaml


@pytest.fixture(scope="module", autouse=True)
def only_on_hyperpod(controller):
    if not controller.file("/opt/ml/config/resource_config.json").exists:
        pytest.skip("not a HyperPod cluster: no /opt/ml/config/resource_config.json")


def test_every_node_logged_a_successful_run(all_nodes):
    for node in all_nodes:
        summary = json.loads(node.file("/var/log/provision/summary-latest.json").content_string)
        assert summary["status"] == "successful", summary
        assert summary["failed"] == 0, summary
        assert node.file("/var/log/provision/provisioning.log").contains("finished with status 0")


def test_log_folder_is_not_world_readable(all_nodes):
    for node in all_nodes:
        assert node.file("/var/log/provision").mode & 0o007 == 0


def test_a_rerun_builds_no_module_the_run_before_built(all_nodes):
    """bootstrap.py keeps the modules ansible-core builds (AnsiballZ zips) in one root-only folder per
    bundle and ansible-core (lifecycle/module_cache.py): the latest run (Molecule's idempotence run,
    at the least) read the zip of systemd_service, which every run uses, from the first run."""
    for node in all_nodes:
        folders = node.check_output("find /var/log/provision/runner/modules -mindepth 1 -maxdepth 1").split()
        assert len(folders) == 1, (node.backend.hostname, folders)
        assert (node.file(folders[0]).user, node.file(folders[0]).mode) == ("root", 0o700)
        zips = node.check_output("find %s -name 'ansible.modules.systemd_service-*' ! -name '*.lock'" % folders[0])
        assert len(zips.split()) == 1, (node.backend.hostname, zips)
        summary = json.loads(node.file("/var/log/provision/summary-latest.json").content_string)
        started = datetime.datetime.strptime(summary["started"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        built = int(node.check_output("stat -c %%Y %s", zips.strip()))
        assert built < started.timestamp(), (node.backend.hostname, built, summary["started"])


def test_bundle_settings_reach_slurmctld_through_one_include(controller):
    conf = controller.file("/opt/slurm/etc/slurm.conf").content_string
    assert conf.count("Include lifecycle_bundle.conf") == 1
    # The scenario sets MessageTimeout=20 in slurm_controller_settings.
    assert "MessageTimeout=20" in controller.file("/opt/slurm/etc/lifecycle_bundle.conf").content_string
    config = controller.check_output("/opt/slurm/bin/scontrol show config")
    assert "MessageTimeout          = 20 sec" in config


def test_configless_nodes_received_the_include(computes):
    for node in computes:
        cache = node.check_output("ls /var/lib/slurm/slurmd/conf-cache/")
        assert "lifecycle_bundle.conf" in cache.split(), cache


def test_each_node_runs_the_ansible_core_its_python_allows(all_nodes):
    # on_create.sh's choice per Python; the hyperpod scenario also pins 2.17 on half its 3.11 nodes.
    allowed = {"3.10": {"2.17"}, "3.11": {"2.17", "2.19"}, "3.12": {"2.21"}, "3.13": {"2.21"}}
    script = "import sys, ansible.release as r; print('%d.%d' % sys.version_info[:2], r.__version__)"
    seen = set()
    for node in all_nodes:
        python, core = node.check_output("/opt/hyperpod-bundle/venv/bin/python -c %s" % repr(script)).split()
        assert core.rsplit(".", 1)[0] in allowed[python], (node.backend.hostname, python, core)
        seen.add((python, core.rsplit(".", 1)[0]))
    if {python for python, _ in seen} == {"3.11"}:
        assert {core for _, core in seen} == {"2.17", "2.19"}, "both cores the roles support on 3.11: %s" % seen


def test_database_password_is_kept_root_only_and_never_logged(controller, all_nodes):
    secret = controller.file("/etc/slurm-accounting/db-password")
    assert (secret.user, secret.mode) == ("root", 0o600)
    password = secret.content_string.strip()
    assert len(password) >= 32
    for node in all_nodes:
        found = node.run("grep -rlF -- %s /var/log/provision /tmp/sagemaker-lifecycle-hpb" % password)
        assert found.rc == 1, "password found in %s on %s" % (found.stdout, node.backend.hostname)


def test_accounting_settings_reach_every_node(computes, login):
    for node in computes + [login]:
        assert "AccountingStorageType   = accounting_storage/slurmdbd" in node.check_output("scontrol show config")


def test_compute_nodes_report_their_hardware_against_their_node_line(computes):
    """slurm_compute's set_stats: slurmd -C against the platform's node line, in the run summary."""
    for node in computes:
        facts = json.loads(node.file("/var/log/provision/summary-latest.json").content_string).get("node_facts")
        assert facts and facts["slurmd"]["CPUs"] and facts["node_line"]["CPUs"], (node.backend.hostname, facts)
        assert isinstance(facts["drift"], list)


def _on_create_command(node_name):
    """How the scenario ran on_create.sh on node_name (tests/harness/run_on_create.yml), from its
    molecule.yml; None outside the hyperpod scenario (the other scenarios skip the rerun: suite time)."""
    scenario = os.environ.get("MOLECULE_SCENARIO_DIRECTORY", "")
    if os.environ.get("MOLECULE_SCENARIO_NAME") != "hyperpod" or not scenario:
        return None
    inventory = yaml.safe_load(open(os.path.join(scenario, "molecule.yml"), encoding="utf-8"))["provisioner"]["inventory"]
    settings = dict(inventory["group_vars"]["all"], **(inventory.get("host_vars", {}).get(node_name) or {}))
    return ("cd /tmp/sagemaker-lifecycle-hpb && SAGEMAKER_RESOURCE_CONFIG_PATH=/opt/ml/config/resource_config.json "
            "HYPERPOD_ANSIBLE_CORE_VERSION=%s bash ./on_create.sh %s"
            % (shlex.quote(settings.get("hpb_ansible_core", "")), settings.get("hpb_on_create_args", "")))


def test_a_rerun_repairs_a_file_a_service_and_a_mount_option(computes):
    """Users rerun on_create.sh to repair drift: a program the bundle installed edited and its mode
    changed, the users timer stopped and disabled, /fsx's fstab options changed; one run puts each back."""
    node = computes[-1]
    name = node.check_output("hostname")  # ip-...; the container's name is in the test id only
    command = _on_create_command(node.backend.hostname)
    if command is None:
        pytest.skip("reruns on_create.sh only in the hyperpod scenario (MOLECULE_SCENARIO_NAME)")
    hook = "/usr/local/sbin/hpb-hook"
    original_hook = node.file(hook).content_string
    fstab = node.file("/etc/fstab").content_string
    fsx = [line for line in fstab.splitlines() if len(line.split()) == 6 and line.split()[1] == "/fsx"]
    assert fsx, fstab
    fields = fsx[0].split()
    drifted = " ".join(fields[:3] + ["defaults,drifted"] + fields[4:])
    node.run_test("echo '# drifted' >> %s && chmod 0700 %s" % (hook, hook))
    node.run_test("systemctl disable --now hyperpod-users-apply.timer")
    node.run_test("""awk '$2 == "/fsx" {$4 = "defaults,drifted"} 1' /etc/fstab > /etc/fstab.drift"""
                  " && cat /etc/fstab.drift > /etc/fstab && rm /etc/fstab.drift")
    assert drifted in node.file("/etc/fstab").content_string

    rerun = node.run(command)
    assert rerun.rc == 0, (name, rerun.stdout[-3000:])
    summary = json.loads(node.file("/var/log/provision/summary-latest.json").content_string)
    assert summary["status"] == "successful" and summary["changed"] >= 3, summary
    print("rerun with drift on %s alone: %.1f s, changed %d" % (name, summary["elapsed_seconds"], summary["changed"]))

    assert node.file(hook).content_string == original_hook and node.file(hook).mode == 0o755
    assert node.service("hyperpod-users-apply.timer").is_running
    assert node.service("hyperpod-users-apply.timer").is_enabled
    assert fsx[0] in node.file("/etc/fstab").content_string.splitlines()
    assert "defaults,drifted" not in node.file("/etc/fstab").content_string
    assert node.run("findmnt -n --mountpoint /fsx").rc == 0
