# Installed by the slurm_controller role (multi-head) as slurm-standby-guard, with a first line
# naming the Python to run it; run every 30 s by slurm-standby-guard.timer on the backup controllers.
"""Restart a backup controller's slurmctld that hangs while giving control back.

A backup slurmctld that took over gives control back when the primary returns. Slurm 22.05 (Debian
12's) can hang there for good, seen in the multi-head test: the log ends at "Saving all slurm state",
the primary logs "backup not completely done relinquishing control", and the backup answers nothing
and never returns to standby, so the cluster has no backup any more. When `scontrol ping` shows the
primary UP and this controller DOWN on `--checks` runs in a row while its slurmctld unit is active,
the guard kills the hung slurmctld (a hung one ignores the stop signal: systemd would wait its whole
stop timeout), restarts the unit (slurmctld starts again in standby, as the primary answers) and logs
a line. Nothing else is touched: a primary that is down, or a stopped unit, is left alone.
"""

import argparse
import datetime
import re
import socket
import subprocess
import sys

PING_LINE = re.compile(r"^Slurmctld\((?P<role>[^)]+)\) at (?P<host>\S+) is (?P<state>UP|DOWN)", re.M)


def ping_states(text):
    """{host: (role, state)} from `scontrol ping`'s output."""
    return {m["host"]: (m["role"], m["state"]) for m in PING_LINE.finditer(text)}


def hung(states, me):
    """True when the primary answers while this backup controller does not."""
    primary = [state for role, state in states.values() if role == "primary"]
    mine = states.get(me)
    return primary == ["UP"] and mine is not None and mine[0] != "primary" and mine[1] == "DOWN"


def read_count(path):
    try:
        with open(path, encoding="utf-8") as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def write_count(path, count):
    with open(path, "w", encoding="utf-8") as f:
        f.write("%d\n" % count)


def log_line(path, text):
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    with open(path, "a", encoding="utf-8") as f:
        f.write("%s standby-guard: %s\n" % (stamp, text))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scontrol", default="scontrol")
    parser.add_argument("--unit", default="slurmctld")
    parser.add_argument("--name", default=socket.gethostname().split(".")[0],
                        help="this controller's name in SlurmctldHost (default: the short host name)")
    parser.add_argument("--checks", type=int, default=3, help="DOWN results in a row before a restart")
    parser.add_argument("--state", default="/run/slurm-standby-guard")
    parser.add_argument("--log", default="/var/log/slurm/takeover.log")
    parser.add_argument("--systemctl", default="systemctl")
    args = parser.parse_args(argv)

    if subprocess.run([args.systemctl, "is-active", "--quiet", args.unit], check=False).returncode != 0:
        write_count(args.state, 0)
        return 0
    try:
        out = subprocess.run([args.scontrol, "ping"], capture_output=True, text=True, timeout=60,
                             check=False).stdout
    except subprocess.TimeoutExpired:
        out = ""
    if not hung(ping_states(out), args.name):
        write_count(args.state, 0)
        return 0
    count = read_count(args.state) + 1
    if count < args.checks:
        write_count(args.state, count)
        return 0
    write_count(args.state, 0)
    log_line(args.log, "slurmctld on %s answered nothing for %d checks while the primary is up "
                       "(hung giving control back); restarting %s" % (args.name, count, args.unit))
    for command in (["kill", "--signal=SIGKILL", args.unit], ["restart", args.unit]):
        result = subprocess.run([args.systemctl, *command], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log_line(args.log, "systemctl %s failed: %s" % (" ".join(command), result.stderr.strip()))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
