"""The accounting role's rds backend against a database that never answers: a bounded wait, then
one message naming the setting and what to check. The role's own task file runs on this machine
against a closed local port; the rest of the role (and slurm_common, its dependency) does not."""

import pathlib
import socket
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.import_tasks: {tasks}
"""


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # free once the socket closes: nothing listens there


def test_unreachable_database_fails_after_the_bounded_wait_with_the_setting_named(tmp_path, local_playbook):
    port = closed_port()
    (tmp_path / "play.yml").write_text(PLAYBOOK.format(tasks=ROOT / "roles" / "accounting" / "tasks" / "database_rds.yml"))
    started = time.monotonic()
    result = local_playbook(
        "play.yml", "-e", '{"accounting_backend": "rds", "accounting_rds_endpoint": "127.0.0.1", "accounting_rds_port": %d,'
                          ' "accounting_wait_timeout": 4}' % port, cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stdout[-3000:]
    assert ("accounting: the database 127.0.0.1:%d (accounting_rds_endpoint) did not accept connections within 4 s"
            % port) in " ".join(result.stdout.split())
    assert "security group" in result.stdout
    assert elapsed < 60, elapsed  # bounded: the wait gives up, the run does not hang
