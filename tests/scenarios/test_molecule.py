"""Each Molecule scenario, run whole: create, converge, idempotence, verify, destroy.

The full log of each goes to .cache/logs/molecule-<scenario>.log; a failure shows its tail.
"""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
LOGS = ROOT / ".cache" / "logs"
SCENARIOS = sorted(p.name for p in (ROOT / "molecule").iterdir() if (p / "molecule.yml").exists())


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(scenario):
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / ("molecule-%s.log" % scenario)
    env = dict(os.environ, CONTAINERS_CONF=str(ROOT / "tests" / "harness" / "containers.conf"),
               PATH=str(pathlib.Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
               ANSI_COLORS_DISABLED="1", NO_COLOR="1", PY_COLORS="0")
    with open(log, "w", encoding="utf-8") as out:
        result = subprocess.run([str(pathlib.Path(sys.executable).parent / "molecule"), "test", "-s", scenario],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    text = log.read_text(encoding="utf-8", errors="replace")
    if result.returncode != 0:
        pytest.fail("molecule test -s %s failed (full log: %s):\n%s" % (scenario, log, text[-8000:]))
    # A database password the harness made for the scenario must not show in its whole output.
    secret = ROOT / ".cache" / "harness" / ("%s-db-password" % scenario)
    if secret.exists():
        assert secret.read_text().strip() not in text, "the database password leaked into %s" % log
