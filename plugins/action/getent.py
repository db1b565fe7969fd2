# ansible.builtin.getent for a whole passwd or group database, from one `getent` through the
# connection's shell instead of a module run (plugins/plugin_utils/reads.py); else the module.
from __future__ import annotations

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import reads
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.read_first import ReadFirstAction


class ActionModule(ReadFirstAction):
    MODULE = "ansible.builtin.getent"

    def settle(self, args):
        command = reads.getent_command(args)
        if not command:
            return None
        read = self._low_level_execute_command(command)
        if read["rc"] != 0:
            return None
        return {"changed": False, "ansible_facts": reads.getent_facts(args["database"], read["stdout"])}
