# ansible.builtin.systemd_service, but a unit already as wanted costs one `systemctl show` instead of
# a module run (plugins/plugin_utils/unit_state.py says when).
from __future__ import annotations

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import unit_state
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.read_first import ReadFirstAction


class ActionModule(ReadFirstAction):
    MODULE = "ansible.builtin.systemd_service"

    def settle(self, args):
        # The environment keyword reaches the module, not this read: the module's.
        name = None if self._compute_environment_string() else unit_state.plain(args)
        if name is None:
            return None
        read = self._low_level_execute_command(unit_state.read_command(name))
        status = unit_state.parse(read["stdout"])
        if read["rc"] != 0 or not unit_state.settled(args, status):
            return None
        wanted = {key: args[key] for key in ("state", "enabled") if args.get(key) is not None}
        return {"changed": False, "name": name, "status": status, **wanted}
