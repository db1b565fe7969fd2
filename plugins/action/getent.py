# ansible.builtin.getent for a whole passwd or group database, from one `getent` through the
# connection's shell instead of a module run (plugins/plugin_utils/reads.py); else the module.
from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import reads

MODULE = "ansible.builtin.getent"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        try:
            command = None if self._task.async_val else reads.getent_command(args)
            if command:
                read = self._low_level_execute_command(command)
                if read["rc"] == 0:
                    result.update(changed=False, ansible_facts=reads.getent_facts(args["database"], read["stdout"]))
                    return result
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars,
                                               wrap_async=self._task.async_val))
            return result
        finally:
            if not self._task.async_val:
                self._remove_tmp_path(self._connection._shell.tmpdir)
