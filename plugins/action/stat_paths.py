# hyperpod.slurm.stat_paths, answered by one shell read instead of a module run
# (plugins/plugin_utils/path_state.py); the module runs when the read cannot answer.
from __future__ import annotations

import shlex

from ansible.plugins.action import ActionBase

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import path_state

MODULE = "hyperpod.slurm.stat_paths"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        try:
            given = None if self._task.async_val else path_state.paths(args)
            if given:
                command = " ".join(["sh", "-c", shlex.quote(path_state.READ_SCRIPT), "sh"]
                                   + [shlex.quote(path) for path in given])
                read = self._low_level_execute_command(command)
                answer = path_state.result(given, read["stdout"]) if read["rc"] == 0 else None
                if answer is not None:
                    result.update(answer)
                    return result
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars,
                                               wrap_async=self._task.async_val))
            return result
        finally:
            if not self._task.async_val:
                self._remove_tmp_path(self._connection._shell.tmpdir)
