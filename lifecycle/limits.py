"""Sensible ranges for the roles' numbers, and the shape of names a role hands to Slurm, checked
before anything runs: an argument spec says `type: int`, which a negative timeout or a port of 0
satisfies. A role then waits for ever, not at all, or fails late on a node half changed.

One table, by the end of the variable's name, so that a role's new `*_timeout` is covered the day
it appears; an exact name wins over its ending. Bounds are inclusive.
"""

import re

DAY = 86400
# (name or _ending, lowest, highest, unit)
RANGES = (
    ("slurm_controller_memory_fraction", 0.05, 1.0, "of the node's memory"),
    ("cluster_access_logrotate_keep", 1, 1000, "rotated files"),
    ("slurm_hooks_dcgm_diag_level", 0, 4, "(0 is off, 1 takes seconds)"),
    ("_port", 1, 65535, ""),
    ("_timeout", 1, DAY, "seconds"),
    ("_interval", 1, DAY, "seconds"),
    ("_max_delay", 0, DAY, "seconds"),
    ("_delay", 0, 3600, "seconds"),
    ("_attempts", 1, 100, ""),
    ("_retries", 0, 100, ""),
)


def bounds(var):
    """(lowest, highest, unit) for a variable, or None where nothing is declared."""
    for name, low, high, unit in RANGES:
        if var == name:
            return low, high, unit
    for name, low, high, unit in RANGES:
        if name.startswith("_") and var.endswith(name):
            return low, high, unit
    return None


def problem(var, value):
    """(problem, fix) when value is a number outside var's range, else None."""
    found = bounds(var)
    if found is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    low, high, unit = found
    if low <= value <= high:
        return None
    side = f"below {low}" if value < low else f"above {high}"
    return f"is {side}", f"set it to a number from {low} to {high}{' ' + unit if unit else ''}"


# Lists of names a role hands to Slurm as they are: (variable, pattern each must match, what they may hold).
NAMES = (
    ("slurm_compute_features", re.compile(r"^[A-Za-z0-9_.-]{1,64}$"),
     "Slurm feature names of letters, digits, '_', '.' and '-' (no commas, blanks or operators)"),
)


def name_problem(var, value):
    """(problem, fix) when value is a list with an element that cannot be one of var's names, else None."""
    for name, pattern, allowed in NAMES:
        if var == name and isinstance(value, list):
            bad = [item for item in value if not isinstance(item, str) or not pattern.match(item)]
            if bad:
                return f"has {bad[0]!r}, which Slurm cannot take", f"use {allowed}"
    return None
