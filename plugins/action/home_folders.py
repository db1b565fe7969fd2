# hyperpod.slurm.home_folders, but when every home is already a folder its user owns, one shell read
# tells so and no module runs (plugins/plugin_utils/file_state.py); otherwise the module.
from __future__ import annotations

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import file_state
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.read_first import ReadFirstAction


class ActionModule(ReadFirstAction):
    MODULE = "hyperpod.slurm.home_folders"

    def settle(self, args):
        homes = args.get("homes")
        if set(args) != {"homes"} or not isinstance(homes, list) or not homes:
            return None
        try:
            paths = [str(entry["home"]) for entry in homes]
        except (TypeError, KeyError):
            return None
        if not all(path.startswith("/") for path in paths):
            return None
        read = self.read(file_state.READ_SCRIPT, paths)
        records = file_state.parse(read["stdout"], len(paths)) if read["rc"] == 0 else None
        settled = records is not None and file_state.homes_settled(homes, records)
        return {"changed": False, "changed_homes": []} if settled else None
