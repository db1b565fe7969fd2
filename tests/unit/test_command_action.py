"""hyperpod.slurm.command (plugins/action/command.py, plugins/plugin_utils/command_line.py): a plain
command runs through the connection's shell without a module run, and gives what
ansible.builtin.command gives for the same arguments (its output, return code, failure, the
arguments taken literally, stdin); what it cannot do itself goes to the module, on both
ansible-cores."""

import subprocess

import pytest

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import command_line

# (arguments, runs without a module)
CASES = [
    # Shell syntax in arguments stays literal: quoted, never run.
    ({"argv": ["printf", "%s|", "a b", ";", "$(id)", "`id`", "'q'", "&&", "*"]}, True),
    ({"cmd": "printf '%s\\n' 'one two' three"}, True),
    ({"argv": ["wc", "-c"], "stdin": "secret"}, True),
    ({"argv": ["wc", "-c"], "stdin": "secret", "stdin_add_newline": False}, True),
    # An `sh -c` script's positional names are never the environment's.
    ({"argv": ["sh", "-c", 'echo "[$1]" "${2}"', "sh", "x y", "z"]}, True),
    ({"argv": ["sh", "-c", 'echo "$HOME"'], "expand_argument_vars": False}, True),
    ({"argv": ["sh", "-c", "echo out; echo err >&2; exit 3"]}, True),
    ({"argv": ["printf", "a\\n\\n\\n"], "strip_empty_ends": False}, True),
    ({"argv": ["printf", "a\\n\\n\\n"]}, True),
    # The module's: it expands $HOME and ~ from the target's environment, and changes folder.
    ({"argv": ["echo", "$HOME", "~"]}, False),
    ({"cmd": "pwd", "chdir": "/"}, False),
]
COMPARED = ("rc", "stdout", "stderr", "cmd", "changed", "failed", "msg", "stdout_lines")


def pairs(cases):
    return [(action, args) for args, _ in cases for action in ("ansible.builtin.command", "hyperpod.slurm.command")]


def test_what_the_module_gives_without_a_module_run(run_tasks):
    done, results, kept = run_tasks(pairs(CASES))
    assert done.returncode == 0, done.stdout + done.stderr
    for index, (args, _) in enumerate(CASES):
        builtin, ours = results[2 * index], results[2 * index + 1]
        for key in COMPARED:
            assert ours.get(key) == builtin.get(key), (args, key, ours.get(key), builtin.get(key))
    # One module run for each builtin task, and one for each case the action hands to the module.
    assert kept.count("AnsiballZ_command.py") == len(CASES) + sum(1 for _, direct in CASES if not direct)
    assert results[1]["stdout"] == "a b|;|$(id)|`id`|'q'|&&|*|"
    assert results[5]["stdout"] == "7" and results[7]["stdout"] == "6"
    assert results[13]["rc"] == 3 and results[13]["failed"] and results[13]["stderr"] == "err"


def test_check_mode_is_the_modules(run_tasks, tmp_path):
    done, results, _ = run_tasks(pairs([({"argv": ["touch", "should-not-exist"]}, False)]), "--check")
    assert done.returncode == 0, done.stdout + done.stderr
    builtin, ours = results
    assert ours["skipped"] and not ours["changed"] and ours["msg"] == builtin["msg"]
    assert not (tmp_path / "should-not-exist").exists()


@pytest.mark.parametrize("args, argv", [
    ({"argv": ["a", "b c"]}, ["a", "b c"]),
    ({"argv": ["sleep", 30]}, ["sleep", "30"]),
    ({"argv": ["a", None]}, None),
    ({"_raw_params": "a 'b c'"}, ["a", "b c"]),
    ({"cmd": "sh -c 'echo \"$1\"' sh x"}, ["sh", "-c", 'echo "$1"', "sh", "x"]),
    ({"argv": ["echo", "${10}"]}, ["echo", "${10}"]),
    ({"argv": ["echo", "$HOME"], "expand_argument_vars": False}, ["echo", "$HOME"]),
    ({"argv": ["echo", "$HOME"]}, None),
    ({"argv": ["echo", "${HOME}"]}, None),
    ({"argv": ["ls", "~/x"]}, None),
    ({"argv": ["a"], "chdir": "/"}, None),
    ({"argv": ["a"], "creates": "/x"}, None),
    ({"argv": ["a"], "cmd": "b"}, None),
    ({"argv": []}, None),
    ({}, None),
    ({"cmd": "unbalanced 'quote"}, None),
    ({"argv": ["a"], "stdin_add_newline": "maybe"}, None),
])
def test_which_arguments_run_without_the_module(args, argv):
    assert command_line.plain_argv(args) == argv


def test_stdin_as_the_module_writes_it():
    assert command_line.stdin_bytes({"stdin": "pw"}) == b"pw\n"
    assert command_line.stdin_bytes({"stdin": "pw", "stdin_add_newline": False}) == b"pw"
    assert command_line.stdin_bytes({"stdin": ""}) is None and command_line.stdin_bytes({}) is None


def test_every_argument_reaches_the_shell_quoted():
    line = command_line.shell_line(["printf", "%s", "a; rm -rf /", "$(id)", "it's"])
    assert subprocess.run(["sh", "-c", line], capture_output=True, text=True, check=True).stdout == "a; rm -rf /$(id)it's"
