# hyperpod.slurm.home_folders, but when every home is already a folder its user owns, one shell read
# tells so and no module runs (plugins/plugin_utils/file_state.py); otherwise the module.
from __future__ import annotations

import shlex

from ansible.plugins.action import ActionBase

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import file_state

MODULE = "hyperpod.slurm.home_folders"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        try:
            if self._read_settles(args.get("homes")) and set(args) == {"homes"}:
                result.update(changed=False, changed_homes=[])
                return result
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars,
                                               wrap_async=self._task.async_val))
            return result
        finally:
            if not self._task.async_val:
                self._remove_tmp_path(self._connection._shell.tmpdir)

    def _read_settles(self, homes):
        if self._task.async_val or not isinstance(homes, list) or not homes:
            return False
        try:
            paths = [str(entry["home"]) for entry in homes]
        except (TypeError, KeyError):
            return False
        if not all(path.startswith("/") for path in paths):
            return False
        command = " ".join(["sh", "-c", shlex.quote(file_state.READ_SCRIPT), "sh"] + [shlex.quote(p) for p in paths])
        read = self._low_level_execute_command(command)
        records = file_state.parse(read["stdout"], len(paths)) if read["rc"] == 0 else None
        return records is not None and file_state.homes_settled(homes, records)
