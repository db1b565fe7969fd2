# ansible.builtin.command, but a plain command (a program, its arguments, perhaps stdin) runs through
# the connection's shell without a module run (plugins/plugin_utils/command_line.py says when).
from __future__ import annotations

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import command_line
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.read_first import ReadFirstAction


class ActionModule(ReadFirstAction):
    MODULE = "ansible.builtin.command"

    def settle(self, args):
        argv = command_line.plain_argv(args)
        if argv is None or self._task.check_mode or self._compute_environment_string():
            return None
        stdin = command_line.stdin_bytes(args)
        if stdin is not None and not self._connection.has_pipelining:
            return None
        start = command_line.now()
        ran = self._low_level_execute_command(command_line.shell_line(argv), in_data=stdin)
        return command_line.result(argv, ran, start, command_line.now(), args.get("strip_empty_ends", True))

    def module_args(self, args):
        # Ansible hands the builtin's cmd over as its free-form line; 2.17's module knows only that.
        if "cmd" in args:
            args = {**args, "_raw_params": args["cmd"]}
            del args["cmd"]
        return args
