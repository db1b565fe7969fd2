# ansible.builtin.command, but a plain command (a program, its arguments, perhaps stdin) runs through
# the connection's shell without a module run (plugins/plugin_utils/command_line.py says when).
from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import command_line

MODULE = "ansible.builtin.command"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        try:
            argv = command_line.plain_argv(args)
            stdin = command_line.stdin_bytes(args) if argv else None
            direct = (argv is not None and not self._task.check_mode and not self._task.async_val
                      and not self._compute_environment_string()
                      and (stdin is None or self._connection.has_pipelining))
            if direct:
                start = command_line.now()
                ran = self._low_level_execute_command(command_line.shell_line(argv), in_data=stdin)
                result.update(command_line.result(argv, ran, start, command_line.now(),
                                                  args.get("strip_empty_ends", True)))
                return result
            # Ansible hands the builtin's cmd over as its free-form line; 2.17's module knows only that.
            if "cmd" in args:
                args["_raw_params"] = args.pop("cmd")
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars,
                                               wrap_async=self._task.async_val))
            return result
        finally:
            if not self._task.async_val:
                self._remove_tmp_path(self._connection._shell.tmpdir)
