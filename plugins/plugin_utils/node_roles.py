"""Which instance group is the controller, the login nodes, the compute nodes of which partition:
from provisioning_parameters.json or node_roles.json (the same keys), or from each group's
SlurmConfig (API-driven mode). The checks append every problem to a list instead of stopping at the
first, so that `validate` can list them all; load_cluster reports the first."""

import os
import re
from dataclasses import dataclass

from ansible_collections.hyperpod.slurm.plugins.plugin_utils.inputs import ConfigError, listed, read_json, shown, want

# Slurm accepts more in a PartitionName, but anything outside this set breaks hostlists,
# shell quoting or our group names somewhere; DEFAULT is Slurm's reserved template name.
PARTITION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
SLURM_CONFIG_NODE_TYPES = {"Controller": "controller", "Login": "login", "Compute": "compute"}
# The fields read, as errors name them (tests/corpus checks that a bad input of each is refused):
# of a role file (provisioning_parameters.json, node_roles.json), of resource_config.json's SlurmConfig.
ROLE_FILE_FIELDS = ("controller_group", "login_group", "worker_groups", "worker_groups[]",
                    "worker_groups[].instance_group_name", "worker_groups[].partition_name")
SLURM_CONFIG_FIELDS = ("InstanceGroups[].SlurmConfig", "InstanceGroups[].SlurmConfig.NodeType",
                       "InstanceGroups[].SlurmConfig.PartitionNames", "InstanceGroups[].SlurmConfig.PartitionNames[]")


def group_name(prefix, name):
    """An Ansible group name: Ansible warns about (or rewrites) names that are not Python identifiers.
    Only a name; the real partition and instance group names travel as host variables."""
    return prefix + "_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


@dataclass
class Role:
    group: str
    node_type: str | None  # controller | login | compute; None: declared wrongly, already reported
    partition: str | None
    path: str  # the file that declared it, for error messages
    field: str  # where in that file


def roles_from_file(path, data, groups, groups_path, problems):
    """Roles from provisioning_parameters.json or node_roles.json (same keys)."""
    names = [g.name for g in groups]

    def existing(fld, value):
        want(path, fld, value, str, "an instance group name (a string)")
        if value not in names:
            raise ConfigError(path, fld, f"{shown(value)} is not an instance group in {os.path.basename(groups_path)} "
                              f"(groups: {listed(names) or 'none'})", "set it to one of them")
        return value

    roles = []
    keys = [("controller_group", "controller")]
    if data.get("login_group") not in (None, ""):  # "" and null both mean: no login group (false does not)
        keys.append(("login_group", "login"))
    for key, node_type in keys:
        try:
            roles.append(Role(existing(key, data.get(key)), node_type, None, path, key))
        except ConfigError as e:
            problems.append(e)
    try:
        workers = want(path, "worker_groups", data.get("worker_groups"), list,
                        'an array of {"instance_group_name": ..., "partition_name": ...}')
    except ConfigError as e:
        problems.append(e)
        workers = []
    for i, w in enumerate(workers):
        f = f"worker_groups[{i}]"
        try:
            want(path, f, w, dict, 'an object {"instance_group_name": ..., "partition_name": ...}')
            g = existing(f + ".instance_group_name", w.get("instance_group_name"))
        except ConfigError as e:
            problems.append(e)
            continue
        if w.get("partition_name") in (None, ""):
            problems.append(ConfigError(path, f + ".partition_name", f"worker group {g!r} has no partition_name",
                                        'add "partition_name": "<name>" to it'))
            roles.append(Role(g, None, None, path, f + ".partition_name"))
        else:
            roles.append(Role(g, "compute", w["partition_name"], path, f + ".partition_name"))
    return roles


def roles_from_slurm_config(path, groups, problems):
    """Roles from InstanceGroups[].SlurmConfig (API-driven mode: the request, or resource_config.json
    where the platform mirrors it)."""
    roles = []
    for g in groups:
        sc = g.raw.get("SlurmConfig")
        if sc is None:
            continue
        f = f"InstanceGroups[{g.index}].SlurmConfig"
        try:
            roles.append(_slurm_config_role(path, g, f, sc))
        except ConfigError as e:
            problems.append(e)
            roles.append(Role(g.name, None, None, path, f))
    if not any(r.node_type == "controller" for r in roles):
        problems.append(ConfigError(path, "InstanceGroups[].SlurmConfig.NodeType", "no group has NodeType Controller",
                                    "set it on exactly one group"))
    return roles


def _slurm_config_role(path, g, f, sc):
    want(path, f, sc, dict, "an object with NodeType")
    node_type = sc.get("NodeType")
    if not isinstance(node_type, str) or node_type not in SLURM_CONFIG_NODE_TYPES:
        raise ConfigError(path, f + ".NodeType", f"{shown(node_type)} is not a Slurm node type",
                          "use Controller, Login or Compute")
    parts = sc.get("PartitionNames")
    parts = [] if parts is None else want(path, f + ".PartitionNames", parts, list, "an array with one partition name")
    if len(parts) > 1:
        raise ConfigError(path, f + ".PartitionNames", f"group {g.name!r} lists {len(parts)} partitions",
                          "HyperPod allows at most one; keep one")
    if node_type != "Compute":
        if parts:  # the API refuses them there
            raise ConfigError(path, f + ".PartitionNames", f"{node_type} group {g.name!r} lists a partition",
                              "HyperPod allows PartitionNames on Compute groups only; remove it")
        return Role(g.name, SLURM_CONFIG_NODE_TYPES[node_type], None, path, f + ".NodeType")
    if not parts:
        raise ConfigError(path, f + ".PartitionNames", f"compute group {g.name!r} has no partition",
                          "set PartitionNames to one name")
    # A null or empty element must not pass as "no partition" (Role.partition None).
    want(path, f + ".PartitionNames[0]", parts[0], str, "a partition name (a string)")
    return Role(g.name, "compute", parts[0], path, f + ".PartitionNames[0]")


def _check_partition(role, seen):
    """`seen` maps Ansible group names to the partition names that produced them."""
    p = role.partition
    if not isinstance(p, str) or not PARTITION_RE.fullmatch(p):
        raise ConfigError(role.path, role.field, f"{shown(p)} is not a valid Slurm partition name",
                          "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    if p.upper() == "DEFAULT":
        raise ConfigError(role.path, role.field, f"{shown(p)} is reserved by Slurm", "choose another partition name")
    gn = group_name("partition", p)
    if seen.setdefault(gn, p) != p:
        raise ConfigError(role.path, role.field, f"partitions {shown(seen[gn])} and {shown(p)} both become Ansible "
                          f"group {gn}",
                          "rename one of them")


def check_roles(roles, groups, groups_path, unassigned_fix, problems):
    """Rules common to all role sources. Returns {group name: Role}."""
    by_group, partitions = {}, {}
    for r in roles:
        if r.group in by_group:
            problems.append(ConfigError(r.path, r.field, f"group {r.group!r} already has a role "
                                        f"({by_group[r.group].field})", "give each instance group exactly one role"))
            continue
        by_group[r.group] = r
        if r.partition is not None:
            try:
                _check_partition(r, partitions)
            except ConfigError as e:
                problems.append(e)

    # Only SlurmConfig can declare these twice; role files have one controller_group, one login_group.
    for node_type, label in (("controller", "Controller"), ("login", "Login")):
        declared = [r for r in roles if r.node_type == node_type]
        if len(declared) > 1:
            problems.append(ConfigError(declared[1].path, declared[1].field,
                                        f"more than one {label} group ({', '.join(r.group for r in declared)})",
                                        f"set NodeType {label} on one group only"))
    controller = next((r for r in roles if r.node_type == "controller"), None)
    if controller and not next(g for g in groups if g.name == controller.group).size:
        problems.append(ConfigError(controller.path, controller.field, f"controller group {controller.group!r} has no "
                                    f"instances in {os.path.basename(groups_path)}",
                                    "give it InstanceCount >= 1 or name a group that has instances"))
    for g in groups:
        if g.needs_role and g.name not in by_group:
            what = "has instances but no Slurm role" if g.hosts else "has no Slurm role"
            problems.append(ConfigError(groups_path, f"InstanceGroups[{g.index}].{g.name_key}",
                                        f"group {g.name!r} {what}", unassigned_fix))
    return by_group


def role_file_fix(role_file):
    """The fix for a group that a role file leaves without a role."""
    name = os.path.basename(role_file)
    return f"add it to worker_groups in {name}, or make it the controller_group or login_group"


def choose(rc_path, groups, pp_path, pp, node_roles_path, problems):
    """-> (mode, roles, fix for a group without a role). Legacy when provisioning_parameters is given."""
    if pp_path:
        return "legacy", roles_from_file(pp_path, pp, groups, rc_path, problems), role_file_fix(pp_path)
    lacking = [g for g in groups if g.hosts and g.raw.get("SlurmConfig") is None]
    if not lacking:
        return "api", roles_from_slurm_config(rc_path, groups, problems), "set its SlurmConfig.NodeType"
    if node_roles_path:
        roles = roles_from_file(node_roles_path, read_json(node_roles_path), groups, rc_path, problems)
        return "api", roles, role_file_fix(node_roles_path)
    raise ConfigError(rc_path, f"InstanceGroups[{lacking[0].index}].SlurmConfig",
                      f"group {lacking[0].name!r} has no SlurmConfig and no node roles file was given",
                      "ship node_roles.json (controller_group, login_group, worker_groups) beside bootstrap.py "
                      "for API-driven mode, or provisioning_parameters.json for legacy mode")
