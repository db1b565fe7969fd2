"""The suite's last lines: every check that ran in a reduced form on this machine, and why.

The record (tests/harness/reduced.py) is started by the host check and added to by the checks
inside the scenarios. Printed by the suite around the scenarios (tests/scenarios), for the scenarios
that ran; a scenario's own verify step prints nothing of it.
"""

import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "harness"))
import reduced  # noqa: E402 - tests/harness

_SCENARIOS_RUN = set()


def pytest_runtest_logreport(report):
    found = re.search(r"test_scenario\[([\w-]+)\]", report.nodeid)
    if found and report.when == "call":
        _SCENARIOS_RUN.add(found.group(1))


def pytest_terminal_summary(terminalreporter):
    if os.environ.get("MOLECULE_SCENARIO_NAME") or not _SCENARIOS_RUN:
        return
    entries = [e for e in reduced.read() if set(e[0].split(", ")) & _SCENARIOS_RUN]
    terminalreporter.section("checks that ran in a reduced form on this machine")
    if not entries:
        terminalreporter.write_line("none: every check of the scenarios that ran ran in full")
    for where, check, why in entries:
        terminalreporter.write_line(f"{where}: {check} ({why})")
