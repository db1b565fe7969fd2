# hyperpod.slurm.stat_paths, answered by one shell read instead of a module run
# (plugins/plugin_utils/path_state.py); the module runs when the read cannot answer.
from __future__ import annotations

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import path_state
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.read_first import ReadFirstAction


class ActionModule(ReadFirstAction):
    MODULE = "hyperpod.slurm.stat_paths"

    def settle(self, args):
        given = path_state.paths(args)
        if not given:
            return None
        read = self.read(path_state.READ_SCRIPT, given)
        return path_state.result(given, read["stdout"]) if read["rc"] == 0 else None
