"""Starts the selected scenarios as soon as the suite is collected, so they run beside the unit
tests and lint; prints how long each took."""

import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scenario_runner import Runner  # noqa: E402

_RUNNER = []


def pytest_collection_finish(session):
    selected = [m.group(1) for item in session.items
                if (m := re.search(r"test_molecule\.py::test_scenario\[([\w-]+)\]", item.nodeid))]
    if selected and not session.config.option.collectonly:
        _RUNNER.append(Runner(selected, int(os.environ.get("HPB_SCENARIO_JOBS", "2"))).start())


@pytest.fixture(scope="session")
def scenario_runner():
    return _RUNNER[0]


def pytest_terminal_summary(terminalreporter):
    if not _RUNNER or not _RUNNER[0].results:
        return
    runner = _RUNNER[0]
    first = min(runner.started.values())
    terminalreporter.section("scenario times (minutes from the suite's first scenario start)")
    for name, result in sorted(runner.results.items(), key=lambda kv: runner.started[kv[0]]):
        begin = (runner.started[name] - first) / 60
        terminalreporter.write_line("%-14s %5.1f min  (from %4.1f to %4.1f)%s" % (
            name, result.seconds / 60, begin, begin + result.seconds / 60, "" if result.returncode == 0 else "  FAILED"))
