"""Whether ansible.builtin.systemd_service would change a unit, from one `systemctl show`.

The action hyperpod.slurm.systemd_service reads a unit's state with the command `read_command`
gives and runs the module only when `settled` says no: a rerun finds most units as wanted, and
each module run costs 0.15-0.2 s of CPU against 0.02 s for the read (bench/RESULTS.md). Settled is
decided as the module decides it (ansible/modules/systemd_service.py), and only for the plain
cases; anything else is the module's.
"""

import shlex

from ansible.module_utils.parsing.convert_bool import boolean

PROPERTIES = ("LoadState", "ActiveState", "UnitFileState")
# Arguments the read can answer for; any other (masked, scope, no_block, force, daemon_reexec) and
# a true daemon_reload are the module's.
PLAIN_ARGS = {"name", "state", "enabled", "daemon_reload"}
# ActiveState values in which the module starts, or stops, nothing (its is_running_service and
# is_deactivating_service).
RUNNING = {"started": {"active"}, "stopped": {"inactive", "failed"}}


def plain(args):
    """The unit's name when the read can settle these arguments, else None."""
    if not set(args) <= PLAIN_ARGS or not args.get("name"):
        return None
    try:
        if boolean(args.get("daemon_reload") or False):
            return None
        if args.get("enabled") is not None:
            boolean(args["enabled"])
    except TypeError:
        return None  # not a boolean: the module says so
    state, enabled = args.get("state"), args.get("enabled")
    if state is None and enabled is None:
        return None
    if state is not None and state not in RUNNING:
        return None  # restarted and reloaded always act
    return str(args["name"])


def read_command(name):
    """The shell command that reads the unit's properties."""
    return f"systemctl show --property={','.join(PROPERTIES)} -- {shlex.quote(name)}"


def parse(stdout):
    """The properties of `systemctl show`'s answer."""
    status = {}
    for line in stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep and key in PROPERTIES:
            status[key] = value
    return status


def settled(args, status):
    """True when the module would change nothing for these arguments on a unit in this state.
    UnitFileState is what `systemctl is-enabled` prints; the module looks at a SysV init script of
    the same name only when that is neither enabled nor disabled (generated, indirect, ...)."""
    if status.get("LoadState") != "loaded":
        return False
    state, enabled = args.get("state"), args.get("enabled")
    if state is not None and status.get("ActiveState") not in RUNNING[state]:
        return False
    if enabled is not None:
        wanted = "enabled" if boolean(enabled) else "disabled"
        if status.get("UnitFileState") != wanted:
            return False
    return True
