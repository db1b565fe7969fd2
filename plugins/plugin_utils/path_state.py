"""hyperpod.slurm.stat_paths's answer from one shell read, without a module run.

The action hyperpod.slurm.stat_paths runs READ_SCRIPT over its paths and builds what the module
(plugins/modules/stat_paths.py) returns; a module run costs 0.15-0.2 s of CPU against a few
hundredths for the read (bench/RESULTS.md). When the read fails or its answer is not one line per
path, or a path is not absolute, the module runs (and says what is wrong).
"""

import os

# One line per path, in the order given: EXISTS ISDIR ISLNK [TARGET] (1 or 0; the target of a link
# resolved as os.path.realpath resolves it, for the module's lnk_source).
READ_SCRIPT = r"""
for p do
  e=0; d=0; l=0; t=
  [ -e "$p" ] && e=1
  [ -d "$p" ] && d=1
  if [ -L "$p" ]; then l=1; t=$(readlink -m -- "$p") || exit 1; fi
  printf '%s %s %s %s\n' "$e" "$d" "$l" "$t"
done
"""


def paths(args):
    """The paths when the read can answer for them, else None."""
    given = args.get("paths")
    if set(args) - {"paths"} or not isinstance(given, list) or not given:
        return None
    if not all(isinstance(path, str) and os.path.isabs(path) and "\n" not in path for path in given):
        return None
    return given


def result(given, stdout):
    """The module's result from the read's output, or None when the output is not one line per path."""
    lines = stdout.split("\n")[:len(given)]
    if len(lines) != len(given):
        return None
    stat = {}
    for path, line in zip(given, lines):
        words = line.split(" ", 3)
        if len(words) != 4 or any(flag not in ("0", "1") for flag in words[:3]):
            return None
        exists, isdir, islnk = (flag == "1" for flag in words[:3])
        if islnk and not words[3]:
            return None
        stat[path] = {"exists": exists, "isdir": isdir, "islnk": islnk, "lnk_source": words[3] if islnk else None}
    return {"changed": False, "stat": stat, "existing": [path for path in given if stat[path]["exists"]]}
