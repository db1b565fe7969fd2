# hyperpod.slurm.write_files, but when every folder, file, link and absent path is already as asked,
# one shell read tells so and no module runs (plugins/plugin_utils/file_state.py says when).
from __future__ import annotations

import shlex

from ansible.plugins.action import ActionBase

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import file_state

MODULE = "hyperpod.slurm.write_files"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        try:
            if self._read_settles(args):
                result.update(changed=False, changed_files=[])
                return result
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars,
                                               wrap_async=self._task.async_val))
            return result
        finally:
            if not self._task.async_val:
                self._remove_tmp_path(self._connection._shell.tmpdir)

    def _read_settles(self, args):
        """Whether one read of the paths shows nothing to do; any doubt is the module's."""
        try:
            paths = [str(path) for path in file_state.paths(args)]
        except (TypeError, KeyError, AttributeError):
            return False
        if not paths or self._task.async_val:
            return False
        command = " ".join(["sh", "-c", shlex.quote(file_state.READ_SCRIPT), "sh"] + [shlex.quote(p) for p in paths])
        read = self._low_level_execute_command(command)
        records = file_state.parse(read["stdout"], len(paths)) if read["rc"] == 0 else None
        try:
            return records is not None and file_state.settled(args, records)
        except (TypeError, KeyError, AttributeError):
            return False
