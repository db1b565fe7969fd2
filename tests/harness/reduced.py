"""The record of checks that ran in a reduced form on this machine, and why.

The host check starts it with the scenarios it adapted; checks inside the scenarios (tests/integration,
run by Molecule's verify step on this machine) add theirs; the suite prints the whole record as its
last lines (tests/conftest.py). One JSON object a line: {"where", "check", "why"}.
"""

import json
import os
from pathlib import Path

PATH = Path(os.environ.get("HPB_REDUCED_LOG") or Path(__file__).resolve().parents[2] / ".cache" / "logs" / "reduced.txt")


def start(entries):
    """A new record for this run: [(where, check, why)]."""
    PATH.parent.mkdir(parents=True, exist_ok=True)
    PATH.write_text("".join(_line(*entry) for entry in entries), encoding="utf-8")


def add(where, check, why):
    """One more check that ran reduced, unless the record already has it."""
    if (where, check, why) in read():
        return
    PATH.parent.mkdir(parents=True, exist_ok=True)
    with open(PATH, "a", encoding="utf-8") as out:
        out.write(_line(where, check, why))


def read():
    try:
        lines = PATH.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return [tuple(json.loads(line)[key] for key in ("where", "check", "why")) for line in lines if line.strip()]


def _line(where, check, why):
    return json.dumps({"where": where, "check": check, "why": why}) + "\n"
