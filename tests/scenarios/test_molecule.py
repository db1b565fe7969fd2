"""Each Molecule scenario, run whole: create, converge, idempotence, verify, destroy.

The scenarios start as soon as the suite has collected them (tests/scenarios/conftest.py), longest
first, HPB_SCENARIO_JOBS at a time (default 2: a scenario leaves about half of this 2-core machine
idle, waiting on apt, daemons and its own timed faults), while the unit tests and lint run. Each
test here waits for its scenario's result. The full log of each goes to
.cache/logs/molecule-<scenario>.log; a failure shows its tail.
"""

import pytest

from scenario_runner import ROOT, SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(scenario, scenario_runner):
    result = scenario_runner.wait(scenario)
    text = result.log.read_text(encoding="utf-8", errors="replace")
    if result.returncode != 0:
        pytest.fail("molecule test -s %s failed after %.0f s (full log: %s):\n%s"
                    % (scenario, result.seconds, result.log, text[-8000:]))
    # A database password the harness made for the scenario must not show in its whole output.
    secret = ROOT / ".cache" / "harness" / ("%s-db-password" % scenario)
    if secret.exists():
        assert secret.read_text().strip() not in text, "the database password leaked into %s" % result.log
