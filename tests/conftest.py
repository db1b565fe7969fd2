"""Suite-wide hooks: the scenarios start as soon as the suite is collected (tests/scenarios), and the
suite's last lines report how long each took and every check that ran in a reduced form on this
machine, and why (tests/harness/reduced.py: started by the host check, added to by the checks inside
the scenarios). A scenario's own verify step (MOLECULE_SCENARIO_NAME set) prints none of it.

One conftest for both: the unit tests import names from theirs as `conftest`, which a second
conftest module beside it would shadow.
"""

import os
import re
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path[:0] = [str(TESTS / "harness"), str(TESTS / "scenarios")]
import reduced  # noqa: E402 - tests/harness
from scenario_runner import Runner  # noqa: E402 - tests/scenarios

_RUNNER = []


def pytest_collection_finish(session):
    selected = [m.group(1) for item in session.items
                if (m := re.search(r"test_molecule\.py::test_scenario\[([\w-]+)\]", item.nodeid))]
    if selected and not session.config.option.collectonly and not session.testsfailed:
        _RUNNER.append(Runner(selected, int(os.environ.get("HPB_SCENARIO_JOBS", "2"))).start())


def pytest_unconfigure(config):
    for runner in _RUNNER:
        runner.stop()  # an interrupted suite leaves no scenario running


@pytest.fixture(scope="session")
def scenario_runner():
    return _RUNNER[0]


def verify_skips(log):
    """[(reason, count)] from the short summary of the verify step's pytest in a scenario's log."""
    counts = {}
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    for count, reason in re.findall(r"^SKIPPED \[(\d+)\] [^:]+:\d+: (.*)$", text, re.M):
        counts[reason] = counts.get(reason, 0) + int(count)
    return sorted(counts.items())


def pytest_terminal_summary(terminalreporter):
    if os.environ.get("MOLECULE_SCENARIO_NAME") or not _RUNNER or not _RUNNER[0].results:
        return
    runner = _RUNNER[0]
    first = min(runner.started.values())
    terminalreporter.section("scenario times, in minutes (from the first scenario's start)")
    for name, result in sorted(runner.results.items(), key=lambda kv: runner.started[kv[0]]):
        begin = (runner.started[name] - first) / 60
        terminalreporter.write_line("%-14s %5.1f  (%4.1f to %4.1f)%s" % (
            name, result.seconds / 60, begin, begin + result.seconds / 60, "" if result.returncode == 0 else "  FAILED"))
    terminalreporter.section("checks each scenario's verify step skipped (not for that cluster), and why")
    for name, result in sorted(runner.results.items()):
        for reason, count in verify_skips(result.log):
            terminalreporter.write_line(f"{name}: {count} x {reason}")
    entries = [e for e in reduced.read() if set(e[0].split(", ")) & set(runner.results)]
    terminalreporter.section("checks that ran in a reduced form on this machine")
    if not entries:
        terminalreporter.write_line("none: every check of the scenarios that ran ran in full")
    for where, check, why in entries:
        terminalreporter.write_line(f"{where}: {check} ({why})")
