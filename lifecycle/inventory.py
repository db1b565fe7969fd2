"""The inventory of a node's run: the hyperpod plugin's config file, naming the inputs (the one way
they reach the plugin), with the bundle's group_vars and host_vars beside it, where Ansible reads
them; and that inventory as `ansible-inventory --list` shows it."""

import json
import os
from pathlib import Path

from lifecycle.settings import SETTINGS_DIRS

CONFIG_NAME = "cluster.hyperpod.yml"


def write_config(directory, bundle, resource_config, provisioning_parameters=None, node_roles=None,
                 shared_users=None, node=None):
    """Write <directory>/cluster.hyperpod.yml (absolute paths) and link the bundle's settings folders
    beside it; returns the file's path. node: the run's node, whose inventory then holds only the
    hosts its run reads (the plugin's option node)."""
    directory = Path(directory)
    lines = ["# Written by bootstrap.py for this run.", "plugin: hyperpod"]
    for key, value in (("resource_config", resource_config), ("provisioning_parameters", provisioning_parameters),
                       ("node_roles", node_roles), ("shared_users", shared_users)):
        if value:
            lines.append(f"{key}: {json.dumps(os.path.abspath(value))}")
    if node:
        lines.append(f"node: {json.dumps(node)}")
    path = directory / CONFIG_NAME
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name in SETTINGS_DIRS:
        link, target = directory / name, Path(bundle) / name
        if link.is_symlink() or link.exists():
            link.unlink()
        if target.is_dir():
            link.symlink_to(target)
    return path


def as_list(config_path):
    """The inventory in the JSON form of `ansible-inventory --list`, built the same way."""
    from ansible import constants as C
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(config_path)])
    variables = VariableManager(loader=loader, inventory=inventory)
    result = {"_meta": {"hostvars": {}}}

    def add(group):
        entry = {}
        if group.name != "all" and group.hosts:
            entry["hosts"] = [h.name for h in group.hosts]
        if group.child_groups:
            entry["children"] = [g.name for g in group.child_groups]
        if entry:
            result[group.name] = entry
        for child in group.child_groups:
            if child.name not in result:
                add(child)

    add(inventory.groups["all"])
    for host in inventory.get_hosts("all"):
        hostvars = variables.get_vars(host=host, include_hostvars=False, stage="all")
        result["_meta"]["hostvars"][host.name] = {k: v for k, v in hostvars.items()
                                                  if k not in C.INTERNAL_STATIC_VARS}
    return result
