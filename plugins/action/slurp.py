# ansible.builtin.slurp, a file's bytes in base64 from one `base64` through the connection's shell
# instead of a module run (plugins/plugin_utils/reads.py); a missing file or any doubt: the module.
from __future__ import annotations

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import reads
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.read_first import ReadFirstAction


class ActionModule(ReadFirstAction):
    MODULE = "ansible.builtin.slurp"

    def settle(self, args):
        command = reads.slurp_command(args)
        if not command:
            return None
        read = self._low_level_execute_command(command)
        return reads.slurp_result(args, read["stdout"]) if read["rc"] == 0 else None
