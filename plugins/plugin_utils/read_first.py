"""The shape of the collection's read-first actions (plugins/action/): a module's task settled by
one shell read where it can be, the module run otherwise.

A module run costs 0.15-0.2 s of CPU on the target (Python starting, ansible-core's imports), most
of a no-op rerun (bench/RESULTS.md); a shell command about 0.02 s. A subclass names its MODULE and
says in `settle` what the read gives: the task's result, or None for the module to run with the
same arguments. An async task always runs the module.
"""

import shlex

from ansible.plugins.action import ActionBase


class ReadFirstAction(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True
    MODULE = None

    def settle(self, args):
        """The result without a module run, or None. Not called for async tasks."""
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        try:
            settled = None if self._task.async_val else self.settle(args)
            if settled is not None:
                result.update(settled)
                return result
            result.update(self._execute_module(module_name=self.MODULE, module_args=self.module_args(args),
                                               task_vars=task_vars, wrap_async=self._task.async_val))
            return result
        finally:
            if not self._task.async_val:
                self._remove_tmp_path(self._connection._shell.tmpdir)

    def module_args(self, args):
        """The arguments the module gets: the task's."""
        return args

    def read(self, script, paths):
        """Runs an sh script over the paths (each quoted, as "$@") through the connection's shell."""
        command = " ".join(["sh", "-c", shlex.quote(script), "sh"] + [shlex.quote(str(path)) for path in paths])
        return self._low_level_execute_command(command)
