# hyperpod.slurm.write_files, but when every folder, file, link and absent path is already as asked,
# one shell read tells so and no module runs (plugins/plugin_utils/file_state.py says when).
from __future__ import annotations

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import file_state
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.read_first import ReadFirstAction


class ActionModule(ReadFirstAction):
    MODULE = "hyperpod.slurm.write_files"

    def settle(self, args):
        try:
            paths = file_state.paths(args)
        except (TypeError, KeyError, AttributeError):
            return None
        if not paths:
            return None
        read = self.read(file_state.READ_SCRIPT, paths)
        records = file_state.parse(read["stdout"], len(paths)) if read["rc"] == 0 else None
        try:
            settled = records is not None and file_state.settled(args, records)
        except (TypeError, KeyError, AttributeError):
            settled = False
        return {"changed": False, "changed_files": []} if settled else None
