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
    if result.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-8000:]
        pytest.fail("molecule test -s %s failed (full log: %s):\n%s" % (scenario, log, tail))
