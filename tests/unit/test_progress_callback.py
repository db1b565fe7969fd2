"""The callback hyperpod.slurm.progress with plain ansible-playbook: the lines bootstrap.py shows
(test_bootstrap.py), beside Ansible's own output, and the summary; and its parts in
plugins/plugin_utils/run_summary.py."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO
from test_bootstrap import RC, bootstrap, task_lines
from ansible_collections.hyperpod.slurm.plugins.plugin_utils import run_summary


@pytest.fixture(scope="module")
def played(repo_collections, tmp_path_factory):
    """converge_ok.yml, then converge_fail.yml, by plain ansible-playbook with the callback enabled."""
    work = tmp_path_factory.mktemp("progress")
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(repo_collections),
               ANSIBLE_ROLES_PATH=str(FIXTURES / "roles"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_CALLBACKS_ENABLED="hyperpod.slurm.progress", HYPERPOD_PROGRESS_SUMMARY_DIR=str(work / "log"))

    def play(name):
        return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "compute-gpu-1,",
                               str(FIXTURES / name)], cwd=work, env=env, capture_output=True, text=True, timeout=300,
                              check=False)
    return {"ok": play("converge_ok.yml"), "fail": play("converge_fail.yml"), "log": work / "log"}


def test_the_lines_are_bootstrap_pys_beside_ansibles_own_output(played, tmp_path):
    done = played["ok"]
    assert done.returncode == 0, done.stdout + done.stderr
    node = bootstrap("run", "--resource-config", RC, "--node", "compute-gpu-1", "--log-dir", str(tmp_path / "log"),
                     "--playbook", str(FIXTURES / "converge_ok.yml"), cwd=tmp_path)
    assert len(task_lines(done.stdout)) == 7 and task_lines(done.stdout) == task_lines(node.stdout)
    assert "TASK [Make a change]" in done.stdout and "PLAY RECAP" in done.stdout
    assert "TASK [" not in node.stdout  # bootstrap.py sends Ansible's own output to ansible.log
    assert "compute-gpu-1: successful in" in done.stdout


def test_the_summary_and_the_failure(played):
    done = played["fail"]
    assert done.returncode == 2, done.stdout + done.stderr
    assert "FAILED: role -, task Break on purpose: deliberate failure for the test" in done.stdout.splitlines()
    summaries = sorted(played["log"].glob("summary-2*.json"))
    latest = json.loads((played["log"] / "summary-latest.json").read_text())
    assert len(summaries) == 2 and json.loads(summaries[-1].read_text()) == latest
    assert set(latest) == {"node", "status", "check", "started", "elapsed_seconds", "waited_seconds", "ok",
                           "changed", "failed", "skipped", "roles", "failure"}
    assert (latest["node"], latest["status"], latest["failed"]) == ("compute-gpu-1", "failed", 1)
    assert latest["failure"]["task"] == "Break on purpose"
    ok_run = json.loads(summaries[0].read_text())  # the tagged task's time is waited; the role's is not
    assert ok_run["roles"]["-"]["waited"] > 0 and ok_run["roles"]["fixture_role"]["waited"] == 0
    assert ok_run["waited_seconds"] == ok_run["roles"]["-"]["waited"]


def test_counts_as_the_play_recap_counts():
    tally = run_summary.Tally()
    statuses = [tally.result("r", "a", "h", "ok", {"changed": True}, 1.0),
                tally.result("r", "b", "h", "failed", {"msg": "x"}, 0.5, ignored=True),
                tally.result("r", "c", "h", "skipped", {}, 0.0),
                tally.result("-", "d", "h", "unreachable", {"msg": "gone"}, 2.0),
                tally.result("r", "e", "h", "ok", {}, 4.0, waiting=True)]
    assert statuses == ["changed", "ignored", "skipped", "unreachable", "ok"]
    assert tally.roles == {"r": {"ok": 3, "changed": 1, "failed": 0, "skipped": 1, "seconds": 5.5, "waited": 4.0},
                           "-": {"ok": 0, "changed": 0, "failed": 1, "skipped": 0, "seconds": 2.0, "waited": 0.0}}
    assert tally.failure == {"role": "-", "task": "d", "host": "h", "msg": "gone"}


def test_failure_messages():
    assert run_summary.result_message({"msg": "non-zero return code", "stderr": "a\nE: locked\n"}) == (
        "non-zero return code: E: locked")
    assert run_summary.result_message({"msg": "One or more items failed", "results": [
        {"failed": False}, {"failed": True, "msg": "item two broke"}]}) == "One or more items failed: item two broke"
    assert run_summary.result_message({"censored": "the output has been hidden"}) == "the output has been hidden"
    spec = {"argument_errors": ["argument 'x' is of type str"], "validate_args_context": {"name": "fsx"}}
    assert run_summary.result_message(spec) == ("argument 'x' is of type str; fix the variable in group_vars or -e "
                                                "(see roles/fsx/README.md)")


def test_the_table():
    summary = run_summary.summary("n1", True, "20260101T000000Z", 12.34, {"ok": 3, "changed": 1, "failed": 0,
                                                                          "skipped": 2},
                                  {"fsx": {"ok": 3, "changed": 1, "failed": 0, "skipped": 2, "seconds": 10.04,
                                           "waited": 6.06}}, None)
    assert summary["waited_seconds"] == 6.1 and summary["roles"]["fsx"]["waited"] == 6.1
    assert run_summary.table(summary) == [
        "",
        "role                            ok  changed  failed  skipped  seconds  waited",
        "fsx                              3        1       0        2     10.0     6.1",
        "total                            3        1       0        2     12.3     6.1",
        "n1: successful in 12.3s (check mode)",
    ]


INCLUDING_ROLE = """
- name: Get the stand-in
  ansible.builtin.include_role:
    name: packages
    tasks_from: download
  vars:
    __packages_download_artifacts: [{url: "file://{{ source }}", sha256: "{{ sha256 }}"}]
    __packages_download_dir: "{{ dest }}"
    __packages_download_owner: user
    __packages_download_setting: user_files
"""


def test_a_shared_roles_steps_are_shown_as_the_including_roles(repo_collections, tmp_path):
    """The packages role's tasks count and show as one step of the role that included them: its
    task's name first; the include and the argument check show no line."""
    (tmp_path / "roles" / "user" / "tasks").mkdir(parents=True)
    (tmp_path / "roles" / "user" / "tasks" / "main.yml").write_text(INCLUDING_ROLE)
    (tmp_path / "play.yml").write_text("- hosts: localhost\n  connection: local\n  gather_facts: false\n"
                                       "  roles: [user]\n")
    (tmp_path / "source").write_text("stand-in\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(repo_collections),
               ANSIBLE_ROLES_PATH="%s:%s" % (tmp_path / "roles", REPO / "roles"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_CALLBACKS_ENABLED="hyperpod.slurm.progress", HYPERPOD_PROGRESS_SUMMARY_DIR=str(tmp_path / "log"))

    def play(sha256):
        return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "play.yml",
                               "-e", json.dumps({"source": str(tmp_path / "source"), "dest": str(tmp_path / "dest"),
                                                 "sha256": sha256, "ansible_python_interpreter": sys.executable})],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)

    good = __import__("hashlib").sha256(b"stand-in\n").hexdigest()
    done = play(good)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = task_lines(done.stdout)
    assert ("user", "Get the stand-in: Download the files", "changed") in lines, done.stdout
    assert all(role == "user" and task.startswith("Get the stand-in: ") for role, task, _ in lines), lines
    assert "packages |" not in done.stdout and "Validating arguments" not in " ".join(t for _, t, _ in lines)
    latest = json.loads((tmp_path / "log" / "summary-latest.json").read_text())
    assert set(latest["roles"]) == {"user"} and latest["roles"]["user"]["ok"] == latest["ok"]
    done = play("0" * 64)
    assert done.returncode == 2
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAILED: ")]
    assert failed == ["FAILED: role user, task Get the stand-in: Fail on a file that could not be fetched: "
                      "user: file://%s: sha256 mismatch: expected %s, actual %s. The file is not the pinned one: "
                      "check the URL and the sha256 in user_files." % (tmp_path / "source", "0" * 64, good)], failed
