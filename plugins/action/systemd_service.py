# ansible.builtin.systemd_service, but a unit already as wanted costs one `systemctl show` instead of
# a module run (plugins/plugin_utils/unit_state.py says when; bench/RESULTS.md what it saves).
from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import unit_state

MODULE = "ansible.builtin.systemd_service"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        try:
            # async and the environment keyword (which reaches the module, not this read) are the module's.
            name = None if self._task.async_val or self._compute_environment_string() else unit_state.plain(args)
            if name is not None:
                read = self._low_level_execute_command(unit_state.read_command(name))
                status = unit_state.parse(read["stdout"])
                if read["rc"] == 0 and unit_state.settled(args, status):
                    result.update(changed=False, name=name, status=status)
                    result.update({key: args[key] for key in ("state", "enabled") if args.get(key) is not None})
                    return result
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars,
                                               wrap_async=self._task.async_val))
            return result
        finally:
            if not self._task.async_val:
                self._remove_tmp_path(self._connection._shell.tmpdir)
