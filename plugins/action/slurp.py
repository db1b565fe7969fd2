# ansible.builtin.slurp, a file's bytes in base64 from one `base64` through the connection's shell
# instead of a module run (plugins/plugin_utils/reads.py); a missing file or any doubt: the module.
from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import reads

MODULE = "ansible.builtin.slurp"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        try:
            command = None if self._task.async_val else reads.slurp_command(args)
            if command:
                read = self._low_level_execute_command(command)
                answer = reads.slurp_result(args, read["stdout"]) if read["rc"] == 0 else None
                if answer is not None:
                    result.update(answer)
                    return result
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars,
                                               wrap_async=self._task.async_val))
            return result
        finally:
            if not self._task.async_val:
                self._remove_tmp_path(self._connection._shell.tmpdir)
