"""The Slurm exporter's metric names that roles/observability/README.md says the role writes: its
mapping table (header `| exporter name | ...`), first column, with `{a,b}` expanded. The unit and
the scenario tests read the names from there, so the README and the tests cannot drift apart."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[2] / "roles" / "observability" / "README.md"
HEADER = "| exporter name |"


def expand(pattern):
    """`slurm_cpus_{alloc,idle}` -> [slurm_cpus_alloc, slurm_cpus_idle] (several braces: every mix)."""
    braces = re.search(r"\{([^{}]*)\}", pattern)
    if not braces:
        return [pattern]
    return [name for choice in braces.group(1).split(",")
            for name in expand(pattern[:braces.start()] + choice.strip() + pattern[braces.end():])]


def dashboard_names(path=README):
    """[(name, row)]: every name of the table in file order, with its table row's text."""
    lines = [line.strip() for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines()]
    starts = [number for number, line in enumerate(lines) if line.startswith(HEADER)]
    if len(starts) != 1:
        raise ValueError("%s: %d tables start with %r, expected one (the Slurm exporter's names); "
                         "keep that header on the mapping table" % (path, len(starts), HEADER))
    names = []
    # The header, its |---| line, then the rows until the first line that is not a table row.
    for line in lines[starts[0] + 2:]:
        if not line.startswith("|"):
            break
        for pattern in re.findall(r"`([^`]+)`", line.split("|")[1]):
            names += [(name, line) for name in expand(pattern)]
    return names
