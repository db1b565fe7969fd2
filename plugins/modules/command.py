#!/usr/bin/python
"""Documentation only: hyperpod.slurm.command is its action plugin, plugins/action/command.py."""

DOCUMENTATION = r"""
module: command
short_description: ansible.builtin.command, without a module run for a plain command
description:
  - Takes the options of M(ansible.builtin.command) and returns what it returns.
  - A plain command (O(argv), O(cmd) or a free-form line; perhaps O(stdin)) runs through the
    connection's shell, each argument quoted, as M(ansible.builtin.raw) runs a line, so no Python
    module starts on the target. A no-op rerun of the bundle runs a dozen such checks a node, and a
    module run costs 0.15-0.2 s of CPU against about 0.02 s (bench/RESULTS.md).
  - Anything else runs M(ansible.builtin.command) itself - O(chdir), O(creates), O(removes),
    check mode, async, the C(environment) keyword, a connection without pipelining for O(stdin), and
    an argument the module would expand from the target's environment (C($NAME), C(~); not C($1),
    which the environment never holds) unless O(expand_argument_vars=false).
  - A program that is not there fails with the shell's return code 127, where the module fails
    with 2.
version_added: 1.3.0
author: hyperpod.slurm
options:
  argv:
    description: The program and its arguments, as for M(ansible.builtin.command).
    type: list
    elements: str
  cmd:
    description: The command line, split as M(ansible.builtin.command) splits it (no shell).
    type: str
  stdin:
    description: Written to the program's standard input; never on a command line.
    type: str
  stdin_add_newline:
    description: Add a newline to O(stdin).
    type: bool
    default: true
  strip_empty_ends:
    description: Strip empty lines from the end of stdout and stderr.
    type: bool
    default: true
  expand_argument_vars:
    description: As for M(ansible.builtin.command); false lets an argument hold C($NAME) for a script.
    type: bool
    default: true
  chdir:
    description: As for M(ansible.builtin.command) (runs the module).
    type: path
  creates:
    description: As for M(ansible.builtin.command) (runs the module).
    type: path
  removes:
    description: As for M(ansible.builtin.command) (runs the module).
    type: path
attributes:
  check_mode:
    support: partial
    details: Check mode runs M(ansible.builtin.command), which skips the command.
  diff_mode:
    support: none
seealso:
  - module: ansible.builtin.command
"""

EXAMPLES = r"""
- name: Ask slurmctld whether it is up
  hyperpod.slurm.command:
    argv: [/usr/bin/scontrol, ping]
  register: ping
  changed_when: false
"""

RETURN = r"""
rc:
  description: The command's return code.
  type: int
  returned: always
stdout:
  description: Its standard output.
  type: str
  returned: always
stderr:
  description: Its standard error.
  type: str
  returned: always
cmd:
  description: The program and its arguments.
  type: list
  returned: always
"""
