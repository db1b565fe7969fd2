"""Each Molecule scenario, run whole: create, converge, idempotence, verify, destroy.

The scenarios start as soon as the suite has collected them (tests/scenarios/conftest.py), longest
first, HPB_SCENARIO_JOBS at a time (default 2: a scenario leaves about half of this 2-core machine
idle, waiting on apt, daemons and its own timed faults), while the unit tests and lint run. Each
test here waits for its scenario's result. The full log of each goes to
.cache/logs/molecule-<scenario>.log; a failure shows what explains it (the verifier's failures, or
Ansible's fatal task) and the log's tail.
"""

import re

import pytest

from scenario_runner import ROOT, SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(scenario, scenario_runner):
    result = scenario_runner.wait(scenario)
    text = result.log.read_text(encoding="utf-8", errors="replace")
    if result.returncode != 0:
        # Why it failed comes last: a CI page that shows the end of the output shows that.
        pytest.fail("molecule test -s %s failed after %.0f s (full log: %s):\n[...]\n%s\n\nWhy:\n%s"
                    % (scenario, result.seconds, result.log, text[-2000:], what_failed(text)))
    # A database password the harness made for the scenario must not show in its whole output.
    secret = ROOT / ".cache" / "harness" / ("%s-db-password" % scenario)
    if secret.exists():
        assert secret.read_text().strip() not in text, "the database password leaked into %s" % result.log


def what_failed(text, limit=12000):
    """The part of a scenario's log that says why it failed: the verifier's failure reports and its
    list of failed tests, else each fatal Ansible task with what follows it. (The tail alone shows
    the cleanup and destroy that come after.)"""
    start = text.rfind("= FAILURES =")
    if start >= 0:
        report = text[start:]
        failed = "\n".join(re.findall(r"^FAILED \S+::.*$", report, re.M))
        end = re.search(r"^=+ (slowest|short test summary)", report, re.M)
        return report[:end.start() if end else limit][:limit - len(failed)] + failed
    fatal = [text[m.start():m.start() + 2000] for m in re.finditer(r"^fatal: \[", text, re.M)]
    return "\n".join(fatal)[:limit] or "(no failed test or fatal task in the log)"
