"""slurm_controller's standby guard (multi-head, backup controllers): it restarts slurmctld only when
`scontrol ping` shows the primary up and this backup down on three checks in a row, with the unit active,
and then kills the hung process before the restart.

scontrol and systemctl are small fake programs; the real guard runs in the standalone scenario."""

import pytest

import source_files

guard = source_files.load("roles/slurm_controller/files/slurm_standby_guard.py")

PING = "Slurmctld(primary) at {p} is {ps}\nSlurmctld(backup) at {b} is {bs}\n"


@pytest.fixture
def node(tmp_path):
    """run(ping_text, active=True) -> (exit status, systemctl calls, log text), with state kept between runs."""
    calls = tmp_path / "calls"

    def run(ping_text, active=True):
        (tmp_path / "ping").write_text(ping_text)
        scontrol = tmp_path / "scontrol"
        scontrol.write_text("#!/bin/sh\ncat %s\n" % (tmp_path / "ping"))
        systemctl = tmp_path / "systemctl"
        systemctl.write_text("#!/bin/sh\necho \"$@\" >> %s\n[ \"$1\" != is-active ] || exit %d\n"
                             % (calls, 0 if active else 3))
        for program in (scontrol, systemctl):
            program.chmod(0o755)
        status = guard.main(["--scontrol", str(scontrol), "--systemctl", str(systemctl), "--name", "ctl-2",
                             "--state", str(tmp_path / "state"), "--log", str(tmp_path / "takeover.log")])
        log = tmp_path / "takeover.log"
        return status, calls.read_text().splitlines() if calls.exists() else [], log.read_text() if log.exists() else ""
    return run


HUNG = PING.format(p="ctl-1", ps="UP", b="ctl-2", bs="DOWN")


def test_a_backup_down_three_times_while_the_primary_answers_is_killed_and_restarted(node):
    for _ in range(2):
        status, calls, log = node(HUNG)
        assert status == 0 and "restart slurmctld" not in calls and log == ""
    status, calls, log = node(HUNG)
    assert status == 0 and calls[-2:] == ["kill --signal=SIGKILL slurmctld", "restart slurmctld"]
    assert "slurmctld on ctl-2 answered nothing for 3 checks" in log


def test_an_answer_between_two_down_checks_starts_the_count_again(node):
    node(HUNG)
    node(HUNG)
    node(PING.format(p="ctl-1", ps="UP", b="ctl-2", bs="UP"))
    node(HUNG)
    _, calls, _ = node(HUNG)
    assert "restart slurmctld" not in calls


@pytest.mark.parametrize("ping_text, active", [
    (PING.format(p="ctl-1", ps="DOWN", b="ctl-2", bs="DOWN"), True),   # no primary: not a give-back
    (PING.format(p="ctl-1", ps="DOWN", b="ctl-2", bs="UP"), True),     # the backup in control
    (PING.format(p="ctl-2", ps="UP", b="ctl-3", bs="DOWN"), True),     # this host is the primary
    (PING.format(p="ctl-1", ps="UP", b="ctl-3", bs="DOWN"), True),     # another backup is down
    ("", True),                                                        # scontrol said nothing
    (HUNG, False),                                                     # slurmctld stopped on purpose
])
def test_nothing_is_restarted_otherwise(node, ping_text, active):
    for _ in range(4):
        status, calls, log = node(ping_text, active)
    assert status == 0 and "restart slurmctld" not in calls and not any("kill" in c for c in calls) and log == ""


def test_the_ping_lines_of_newer_slurm_releases_are_read():
    text = "Slurmctld(primary) at a is UP\nSlurmctld(backup1) at b is DOWN\nSlurmctld(backup2) at c is UP\n"
    assert guard.ping_states(text) == {"a": ("primary", "UP"), "b": ("backup1", "DOWN"), "c": ("backup2", "UP")}
    assert guard.hung(guard.ping_states(text), "b") and not guard.hung(guard.ping_states(text), "c")

