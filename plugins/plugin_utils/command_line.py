"""When hyperpod.slurm.command can run a command through the connection's shell itself.

ansible.builtin.command runs a Python module, which then runs the program: 0.15-0.2 s of CPU a
task, most of a no-op rerun's checks (bench/RESULTS.md). For the plain cases (a program and its
arguments, perhaps stdin) the action runs the program as `raw` would, every argument quoted, so
nothing reaches a shell unquoted, and returns what the module returns. Anything else is the
module's: chdir, creates, removes, an argument the module would expand ($NAME, ~, unless
expand_argument_vars is false), check mode, async, an environment.
"""

import datetime
import re
import shlex

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.release import __version__ as ansible_version

# ansible.builtin.command's message for a failed command: it changed in ansible-core 2.21.
FAILED_MSG = ("The command exited with a non-zero return code."
              if tuple(int(part) for part in ansible_version.split(".")[:2]) >= (2, 21) else "non-zero return code")
PLAIN_ARGS = {"_raw_params", "cmd", "argv", "stdin", "stdin_add_newline", "strip_empty_ends", "expand_argument_vars"}
# What the module's os.path.expandvars replaces when the target's environment has the name. A
# positional name ($1 in an `sh -c` script) is never an environment variable.
VARIABLE = re.compile(r"\$(\w+|\{[^}]*\})")


def expands(arg):
    """Whether the module could change this argument (expand_argument_vars): ~ first, or $NAME."""
    names = (match.group(1).strip("{}") for match in VARIABLE.finditer(arg))
    return arg.startswith("~") or any(not name.isdigit() for name in names)


def plain_argv(args):
    """The program and its arguments when the action can run them itself, else None."""
    if not set(args) <= PLAIN_ARGS:
        return None
    given = [key for key in ("_raw_params", "cmd", "argv") if args.get(key)]
    if len(given) != 1:
        return None  # none, or more than one: the module's error
    value = args[given[0]]
    if given[0] == "argv":
        # A number is its text, as the module makes it (2.19 templates "{{ 30 }}" to an int).
        if not isinstance(value, list) or not all(isinstance(arg, (str, int, float)) for arg in value):
            return None
        argv = [str(arg) for arg in value]
    else:
        try:
            argv = shlex.split(str(value))
        except ValueError:
            return None
    try:
        for flag in ("stdin_add_newline", "strip_empty_ends", "expand_argument_vars"):
            boolean(args.get(flag, True))
    except TypeError:
        return None  # the module's error
    # The module expands $NAME and ~ from the target's environment: left to it.
    if not argv or boolean(args.get("expand_argument_vars", True)) and any(expands(arg) for arg in argv):
        return None
    return argv


def shell_line(argv):
    """The command line for /bin/sh: each argument quoted, so the shell only splits them."""
    return " ".join(shlex.quote(arg) for arg in argv)


def stdin_bytes(args):
    """What the module writes to the program's stdin (its newline added as it adds it), or None."""
    stdin = args.get("stdin")
    if stdin is None or stdin == "":
        return None
    text = str(stdin)
    if boolean(args.get("stdin_add_newline", True)):
        text += "\n"
    return text.encode("utf-8", errors="surrogateescape")


def result(argv, ran, start, end, strip=True):
    """The module's result from the shell's (rc, stdout, stderr) and the start and end times."""
    out, err = ran["stdout"], ran["stderr"]
    if boolean(strip):
        out, err = out.rstrip("\r\n"), err.rstrip("\r\n")
    done = {"changed": True, "cmd": argv, "rc": ran["rc"], "stdout": out, "stderr": err,
            "stdout_lines": out.splitlines(), "stderr_lines": err.splitlines(),
            "start": str(start), "end": str(end), "delta": str(end - start), "msg": ""}
    if ran["rc"] != 0:
        done.update(failed=True, msg=FAILED_MSG)
    return done


def now():
    return datetime.datetime.now()
