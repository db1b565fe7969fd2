"""hyperpod.slurm.systemd_service (plugins/action/systemd_service.py, plugins/plugin_utils/unit_state.py):
a unit already as wanted is settled by one `systemctl show`, without a module run; every other case
runs ansible.builtin.systemd_service, and the task's outcome is the module's, on both ansible-cores.
A fake systemctl on PATH answers from a state per unit and logs every call (no systemd here)."""

import os
import textwrap

import pytest

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import unit_state

FAKE_SYSTEMCTL = """\
#!/usr/bin/env python3
import os, sys
fake = os.environ["FAKE_SYSTEMD"]
args = sys.argv[1:]
with open(os.path.join(fake, "calls"), "a") as log:
    log.write(" ".join(args) + "\\n")
unit = next((a for a in args if os.path.isfile(os.path.join(fake, "units", a))), None)
props = dict(line.split("=", 1) for line in open(os.path.join(fake, "units", unit)).read().split()) if unit else {}
if args[0] == "show":
    props = props or {"LoadState": "not-found", "ActiveState": "inactive", "UnitFileState": ""}
    print("\\n".join(f"{key}={value}" for key, value in props.items()))
elif args[0] == "is-enabled":
    state = props.get("UnitFileState", "")
    print(state)
    sys.exit(0 if state in ("enabled", "enabled-runtime", "static", "alias", "indirect", "generated") else 1)
elif args[0] == "is-active":
    print(props.get("ActiveState", "inactive"))
    sys.exit(0 if props.get("ActiveState") == "active" else 3)
"""

# (the unit's state, the task's arguments, settled by the read alone)
CASES = [
    ("loaded active enabled", {"state": "started", "enabled": True}, True),
    ("loaded active enabled", {"state": "started"}, True),
    ("loaded inactive disabled", {"state": "stopped", "enabled": False}, True),
    ("loaded failed disabled", {"state": "stopped", "enabled": "no"}, True),
    ("loaded active enabled", {"enabled": "yes"}, True),
    ("loaded inactive enabled", {"state": "started", "enabled": True}, False),
    ("loaded active disabled", {"state": "started", "enabled": True}, False),
    ("loaded active enabled", {"state": "stopped"}, False),
    ("loaded active enabled-runtime", {"enabled": True}, False),
    ("loaded active static", {"enabled": True}, False),
    ("loaded active enabled", {"state": "restarted"}, False),
    ("loaded active enabled", {"state": "started", "daemon_reload": True}, False),
    ("loaded active enabled", {"state": "started", "no_block": True}, False),
    ("masked inactive masked", {"state": "stopped"}, False),
    (None, {"state": "stopped", "enabled": False}, False),  # no such unit: the module's failure
]


@pytest.fixture
def fake_systemd(tmp_path):
    fake = tmp_path / "fake"
    (fake / "units").mkdir(parents=True)
    (fake / "bin").mkdir()
    systemctl = fake / "bin" / "systemctl"
    systemctl.write_text(FAKE_SYSTEMCTL)
    systemctl.chmod(0o755)
    return fake


def unit_tasks(cases, fake):
    """The builtin's task and ours for each case, on two units (b<n>, o<n>) in the case's state."""
    tasks = []
    for index, (state, args, _) in enumerate(cases):
        for prefix, action in (("b", "ansible.builtin.systemd_service"), ("o", "hyperpod.slurm.systemd_service")):
            unit = f"{prefix}{index}.service"
            if state:
                load, active, file_state = state.split()
                (fake / "units" / unit).write_text(f"LoadState={load}\nActiveState={active}\nUnitFileState={file_state}\n")
            tasks.append((action, {"name": unit, **args}))
    return tasks


def test_a_unit_as_wanted_costs_no_module_run_and_every_outcome_is_the_modules(run_tasks, fake_systemd):
    done, results, _ = run_tasks(unit_tasks(CASES, fake_systemd), env={
        "FAKE_SYSTEMD": str(fake_systemd), "PATH": f"{fake_systemd / 'bin'}{os.pathsep}{os.environ['PATH']}"})
    assert done.returncode == 0, done.stdout + done.stderr
    calls = (fake_systemd / "calls").read_text().splitlines()
    for index, (state, args, settled) in enumerate(CASES):
        builtin, ours = results[2 * index], results[2 * index + 1]
        assert (ours["changed"], bool(ours.get("failed"))) == (builtin["changed"], bool(builtin.get("failed"))), (state, args)
        # The module's own read, without --property (after --no-block where given).
        module_ran = any(call.endswith(f"show o{index}.service") for call in calls)
        assert module_ran is not settled, (state, args, calls)
        # The module acts (start, enable, ...) the same for both.
        acted = sorted(call.split()[0] for call in calls if call.endswith(f" b{index}.service") and not call.startswith(("show", "is-")))
        assert sorted(call.split()[0] for call in calls
                      if call.endswith(f" o{index}.service") and not call.startswith(("show", "is-"))) == acted
    assert results[1]["status"] == {"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled"}
    assert "Could not find the requested service" in results[-1]["msg"]


@pytest.mark.parametrize("args, name", [
    ({"name": "munge", "state": "started", "enabled": True}, "munge"),
    ({"name": "x.timer", "enabled": "false"}, "x.timer"),
    ({"name": "x", "state": "started", "daemon_reload": False}, "x"),
    ({"name": "x", "state": "started", "daemon_reload": "true"}, None),
    ({"name": "x", "state": "reloaded"}, None),
    ({"name": "x", "state": "started", "masked": False}, None),
    ({"name": "x", "enabled": "perhaps"}, None),
    ({"name": "x"}, None),
    ({"state": "started"}, None),
])
def test_which_arguments_a_read_can_settle(args, name):
    assert unit_state.plain(args) == name


def test_the_read_quotes_the_unit_name():
    command = unit_state.read_command("x; touch /tmp/owned")
    assert command.endswith("-- 'x; touch /tmp/owned'")
    assert unit_state.parse(textwrap.dedent("""\
        LoadState=loaded
        ActiveState=active
        UnitFileState=enabled
        Other=x=y
        """)) == {"LoadState": "loaded", "ActiveState": "active", "UnitFileState": "enabled"}
