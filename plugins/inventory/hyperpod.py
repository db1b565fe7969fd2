# An Ansible inventory plugin for SageMaker HyperPod Slurm clusters.
#
# The file has two halves: plain Python that reads and validates the cluster description
# (bootstrap.py imports it by path, so it must not need Ansible), and the thin Ansible plugin
# class at the bottom that turns the result into groups and variables.

import ipaddress
import json
import os
import re
from dataclasses import dataclass, field

DOCUMENTATION = r"""
name: hyperpod
short_description: SageMaker HyperPod Slurm nodes from resource_config.json
description:
  - Reads the C(resource_config.json) that HyperPod writes on every node, plus the file that
    says which instance group plays which Slurm role, and builds one host per instance.
  - Legacy mode reads roles from C(provisioning_parameters.json). API-driven mode reads them
    from C(InstanceGroups[].SlurmConfig) in resource_config.json when every group with instances
    has one, else from a C(node_roles) file with the same role keys as provisioning_parameters.json.
  - Groups are C(slurm_controller), C(slurm_login), C(slurm_compute), C(partition_<name>) and
    C(instance_group_<name>); characters Ansible forbids in group names become C(_).
  - Every input is validated first; an error names the file, the field and the fix on one line.
  - The config file name must end in C(hyperpod.yml) or C(hyperpod.yaml). Relative paths are
    taken relative to the directory of that config file. Paths in the file win over the
    environment variables, which bootstrap.py sets for its runs.
options:
  plugin:
    description:
      - Marks this file as a config for this plugin. C(hyperpod.slurm.hyperpod) from the collection;
        C(hyperpod) where ansible.cfg's inventory_plugins names the plugin's folder, as in the bundle.
    required: true
    choices: ['hyperpod', 'hyperpod.slurm.hyperpod']
  resource_config:
    description: Path of resource_config.json (on a node, C(/opt/ml/config/resource_config.json)).
    type: str
    required: true
    env:
      - name: SAGEMAKER_RESOURCE_CONFIG_PATH
  provisioning_parameters:
    description: Path of provisioning_parameters.json. Given means legacy mode.
    type: str
    env:
      - name: HYPERPOD_PROVISIONING_PARAMETERS
  node_roles:
    description:
      - Path of a JSON role map for API-driven mode (C(controller_group), C(login_group),
        C(worker_groups)). Used only when resource_config.json carries no SlurmConfig.
    type: str
    env:
      - name: HYPERPOD_NODE_ROLES
  shared_users:
    description:
      - Path of the users file (C(shared_users.txt), lines C(name,uid[,home])). Its users become the
        variable C(hyperpod_shared_users), a list of C({name, uid, home}) (home empty when not given).
    type: str
    env:
      - name: HYPERPOD_SHARED_USERS
"""

EXAMPLES = r"""
# cluster.hyperpod.yml, legacy mode
plugin: hyperpod.slurm.hyperpod
resource_config: /opt/ml/config/resource_config.json
provisioning_parameters: provisioning_parameters.json
---
# api.hyperpod.yml, API-driven mode with roles shipped in the bundle
plugin: hyperpod.slurm.hyperpod
resource_config: /opt/ml/config/resource_config.json
node_roles: node_roles.json
"""

# Slurm accepts more in a PartitionName, but anything outside this set breaks hostlists,
# shell quoting or our group names somewhere; DEFAULT is Slurm's reserved template name.
PARTITION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# HyperPod's own pattern for cluster and instance group names; instance names are <group>-<n>.
# Anything else would break Ansible's --limit (',' ':'), slurm.conf lines and host names.
HYPERPOD_NAME_RE = re.compile(r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$")
INSTANCE_NAME_RE = re.compile(r"^[A-Za-z0-9](-*[A-Za-z0-9])*$")
DNS_NAME_RE = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$")
SECRET_ARN_RE = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+")
NODE_TYPES = {"Controller": "controller", "Login": "login", "Compute": "compute"}


class ConfigError(Exception):
    """An input problem, shown to a person as one line: FILE: FIELD: PROBLEM; FIX."""

    def __init__(self, path, field, problem, fix):
        self.path, self.field, self.problem, self.fix = str(path), field, problem, fix
        where = f"{self.path}: {field}" if field else self.path
        super().__init__(f"{where}: {problem}; {fix}")


@dataclass
class Host:
    name: str
    instance_id: str
    instance_type: str
    group: str
    customer_ip: str
    agent_ip: str
    node_type: str = ""
    partition: str | None = None
    slurm_nodename: str = ""


@dataclass
class Cluster:
    name: str
    arn: str
    mode: str  # legacy | api
    resource_config_path: str
    hosts: dict = field(default_factory=dict)  # InstanceName -> Host, in file order
    instance_groups: dict = field(default_factory=dict)  # group name -> [InstanceName]
    # partition -> [instance group]: not node names, which every host's variables would then repeat
    # (ansible-inventory --list grew as nodes squared: 119 MB at 1,000 nodes; see bench/).
    partitions: dict = field(default_factory=dict)
    controller_ips: list = field(default_factory=list)
    login_ips: list = field(default_factory=list)
    fsx_dns_name: str = ""
    fsx_mountname: str = ""
    fsx_openzfs_dns_name: str = ""
    slurm_configurations: dict = field(default_factory=dict)
    shared_users: list = field(default_factory=list)  # [{name, uid, home}] from the users file

    def groups(self):
        """Ansible group name -> host names, every group present even when empty."""
        out = {"slurm_controller": [], "slurm_login": [], "slurm_compute": []}
        for part in self.partitions:
            out[group_name("partition", part)] = []
        for ig, names in self.instance_groups.items():
            out[group_name("instance_group", ig)] = list(names)
        for host in self.hosts.values():
            out["slurm_" + host.node_type].append(host.name)
            if host.partition:
                out[group_name("partition", host.partition)].append(host.name)
        return out

    def group_vars(self):
        """Variables of group `all`."""
        return {
            "hyperpod_cluster_name": self.name,
            "hyperpod_cluster_arn": self.arn,
            "hyperpod_config_mode": self.mode,
            "hyperpod_controller_ips": list(self.controller_ips),
            "hyperpod_login_ips": list(self.login_ips),
            "hyperpod_partitions": {k: list(v) for k, v in self.partitions.items()},
            "hyperpod_fsx_dns_name": self.fsx_dns_name,
            "hyperpod_fsx_mountname": self.fsx_mountname,
            "hyperpod_fsx_openzfs_dns_name": self.fsx_openzfs_dns_name,
            "hyperpod_slurm_configurations": dict(self.slurm_configurations),
            "hyperpod_shared_users": [dict(u) for u in self.shared_users],
        }

    def host_vars(self, name):
        h = self.hosts[name]
        hv = {
            "ansible_host": h.customer_ip,
            "hyperpod_instance_id": h.instance_id,
            "hyperpod_instance_type": h.instance_type,
            "hyperpod_instance_group": h.group,
            "hyperpod_customer_ip": h.customer_ip,
            "hyperpod_agent_ip": h.agent_ip,
            "hyperpod_node_type": h.node_type,
            "slurm_nodename": h.slurm_nodename,
        }
        if h.partition:
            hv["hyperpod_partition"] = h.partition
        return hv


def group_name(prefix, name):
    """Ansible warns about (or rewrites) group names that are not Python identifiers."""
    return prefix + "_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def read_json(path, array_ok=False):
    """A JSON file holding one object (or, with array_ok, an array), else ConfigError."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError(path, None, f"cannot read the file ({e.strerror})",
                          "check the path and permissions") from None
    except UnicodeDecodeError:
        raise ConfigError(path, None, "the file is not UTF-8 text", "save it as UTF-8 JSON") from None
    # Three mistakes that JSON's own message explains badly: an empty file, an editor's byte order
    # mark (which other readers of the file, HyperPod's among them, may refuse), a file cut short.
    if not text.strip():
        raise ConfigError(path, None, "the file is empty", "it must hold one JSON object {...}")
    if text.startswith("\ufeff"):
        raise ConfigError(path, None, "the file starts with a byte order mark (BOM)", "save it as UTF-8 without BOM")
    try:
        data = json.loads(text, object_pairs_hook=lambda pairs: _unique_keys(path, pairs))
    except json.JSONDecodeError as e:
        cut = " (the file ends there: is it cut short?)" if e.pos >= len(text.rstrip()) else ""
        raise ConfigError(path, None, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}{cut}",
                          "fix the syntax there") from None
    if not isinstance(data, dict) and not (array_ok and isinstance(data, list)):
        raise ConfigError(path, None, f"the top level is a JSON {_jtype(data)}, not an object",
                          "the file must hold one JSON object {...}")
    return data


def _unique_keys(path, pairs):
    """json.loads keeps the last of two equal keys silently; a person meant one of them."""
    data = {}
    for key, value in pairs:
        if key in data:
            raise ConfigError(path, key, "appears twice in the same JSON object", "keep one of them")
        data[key] = value
    return data


def _jtype(value):
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _want(path, fld, value, kind, what):
    """Type check for one field; `what` describes the expected value."""
    if not isinstance(value, kind):
        problem = "missing" if value is None else f"is a JSON {_jtype(value)}"
        raise ConfigError(path, fld, problem, f"it must be {what}")
    return value


def _ipv4(path, fld, value):
    fix = "HyperPod writes dotted IPv4 addresses like 10.1.2.3; fix or regenerate the file"
    try:
        if not isinstance(value, str):  # IPv4Address takes integers too
            raise TypeError
        ip = ipaddress.IPv4Address(value)
    except (ipaddress.AddressValueError, ValueError, TypeError):
        problem = "missing" if value is None else f"{value!r} is not an IPv4 address"
        raise ConfigError(path, fld, problem, fix) from None
    # Every node has 127.0.0.1: a loopback address would make every node believe it is this one.
    if ip.is_loopback or ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        raise ConfigError(path, fld, f"{value!r} is not a node's address (loopback, unspecified, multicast or "
                          "reserved)", fix)
    return str(ip)


def _name(path, fld, value, pattern, what):
    _want(path, fld, value, str, f"the {what} (a string)")
    if not pattern.match(value):
        raise ConfigError(path, fld, f"{value!r} is not a valid {what}",
                          "use letters, digits and '-' only, starting and ending with a letter or digit "
                          "(as HyperPod names them)")
    return value


# ---- resource_config.json -------------------------------------------------------------------

@dataclass
class Group:
    """An instance group, from resource_config.json or from a CreateCluster request."""
    name: str
    index: int  # position in InstanceGroups, for error messages
    raw: dict  # the group as read, for SlurmConfig
    hosts: list  # [Host]; none in a request
    name_key: str = "Name"  # the field holding the name: InstanceGroupName in a request
    count: int | None = None  # a request's InstanceCount; None: the hosts are the instances

    @property
    def size(self):
        return len(self.hosts) if self.count is None else self.count

    @property
    def needs_role(self):
        # A request's group may grow later, and its nodes then need a role; on a node, only
        # groups with instances matter.
        return self.count is not None or bool(self.hosts)


def _parse_resource_config(path):
    """-> (cluster name, cluster ARN, [Group])"""
    rc = read_json(path)
    cc = _want(path, "ClusterConfig", rc.get("ClusterConfig"), dict, "an object with ClusterName and ClusterArn")
    name = _name(path, "ClusterConfig.ClusterName", cc.get("ClusterName"), HYPERPOD_NAME_RE, "cluster name")
    arn = _want(path, "ClusterConfig.ClusterArn", cc.get("ClusterArn") or "", str, "the cluster ARN (a string)")
    raw_groups = _want(path, "InstanceGroups", rc.get("InstanceGroups"), list, "an array of instance groups")

    groups, names, ips = [], {}, {}
    for gi, g in enumerate(raw_groups):
        gf = f"InstanceGroups[{gi}]"
        _want(path, gf, g, dict, "an object with Name, InstanceType and Instances")
        gname = _name(path, gf + ".Name", g.get("Name"), HYPERPOD_NAME_RE, "instance group name")
        if any(gname == other.name for other in groups):
            raise ConfigError(path, gf + ".Name", f"instance group {gname!r} appears twice",
                              "each instance group must appear once")
        itype = _want(path, gf + ".InstanceType", g.get("InstanceType") or "", str, "the instance type (a string)")
        # Empty groups come as null or without the key (HyperPod does both).
        instances = _want(path, gf + ".Instances", g.get("Instances") or [], list, "an array of instances")
        group = Group(gname, gi, g, [])
        for ii, inst in enumerate(instances):
            f = f"{gf}.Instances[{ii}]"
            _want(path, f, inst, dict, "an object with InstanceName and CustomerIpAddress")
            iname = _name(path, f + ".InstanceName", inst.get("InstanceName"), INSTANCE_NAME_RE, "instance name")
            if iname in names:
                raise ConfigError(path, f + ".InstanceName", f"{iname!r} is also {names[iname]}.InstanceName",
                                  "instance names must be unique; regenerate the file")
            names[iname] = f
            cip = _ipv4(path, f + ".CustomerIpAddress", inst.get("CustomerIpAddress"))
            if cip in ips:
                raise ConfigError(path, f + ".CustomerIpAddress", f"{cip} is also {ips[cip]}.CustomerIpAddress",
                                  "customer IPs must be unique; regenerate the file")
            ips[cip] = f
            agent = inst.get("AgentIpAddress")
            agent = "" if agent is None else _ipv4(path, f + ".AgentIpAddress", agent)
            iid = _want(path, f + ".InstanceId", inst.get("InstanceId") or "", str, "the EC2 instance id (a string)")
            group.hosts.append(Host(iname, iid, itype, gname, cip, agent))
        groups.append(group)
    return name, arn, groups


# ---- roles: which instance group is controller, login, compute --------------------------------
# These checks append every problem to a list instead of stopping at the first, so that
# `bootstrap.py validate` can list them all; load_cluster reports the first.

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
        _want(path, fld, value, str, "an instance group name (a string)")
        if value not in names:
            raise ConfigError(path, fld, f"{value!r} is not an instance group in {os.path.basename(groups_path)} "
                              f"(groups: {', '.join(names) or 'none'})", "set it to one of them")
        return value

    roles = []
    keys = [("controller_group", "controller")]
    if data.get("login_group"):  # "" and null both mean: no login group
        keys.append(("login_group", "login"))
    for key, node_type in keys:
        try:
            roles.append(Role(existing(key, data.get(key)), node_type, None, path, key))
        except ConfigError as e:
            problems.append(e)
    try:
        workers = _want(path, "worker_groups", data.get("worker_groups"), list,
                        'an array of {"instance_group_name": ..., "partition_name": ...}')
    except ConfigError as e:
        problems.append(e)
        workers = []
    for i, w in enumerate(workers):
        f = f"worker_groups[{i}]"
        try:
            _want(path, f, w, dict, 'an object {"instance_group_name": ..., "partition_name": ...}')
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
    _want(path, f, sc, dict, "an object with NodeType")
    node_type = sc.get("NodeType")
    if node_type not in NODE_TYPES:
        raise ConfigError(path, f + ".NodeType", f"{node_type!r} is not a Slurm node type",
                          "use Controller, Login or Compute")
    parts = _want(path, f + ".PartitionNames", sc.get("PartitionNames") or [], list,
                  "an array with one partition name")
    if len(parts) > 1:
        raise ConfigError(path, f + ".PartitionNames", f"group {g.name!r} lists {len(parts)} partitions",
                          "HyperPod allows at most one; keep one")
    if node_type != "Compute":
        if parts:  # the API refuses them there
            raise ConfigError(path, f + ".PartitionNames", f"{node_type} group {g.name!r} lists a partition",
                              "HyperPod allows PartitionNames on Compute groups only; remove it")
        return Role(g.name, NODE_TYPES[node_type], None, path, f + ".NodeType")
    if not parts:
        raise ConfigError(path, f + ".PartitionNames", f"compute group {g.name!r} has no partition",
                          "set PartitionNames to one name")
    return Role(g.name, "compute", parts[0], path, f + ".PartitionNames[0]")


def _check_partition(role, seen):
    """`seen` maps Ansible group names to the partition names that produced them."""
    p = role.partition
    if not isinstance(p, str) or not PARTITION_RE.match(p):
        raise ConfigError(role.path, role.field, f"{p!r} is not a valid Slurm partition name",
                          "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    if p.upper() == "DEFAULT":
        raise ConfigError(role.path, role.field, f"{p!r} is reserved by Slurm", "choose another partition name")
    gn = group_name("partition", p)
    if seen.setdefault(gn, p) != p:
        raise ConfigError(role.path, role.field, f"partitions {seen[gn]!r} and {p!r} both become Ansible group {gn}",
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


def _roles(rc_path, groups, pp_path, pp, node_roles_path, problems):
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


# FSx names as CreateCluster and `aws fsx describe-file-systems` show them.
FSX_DNS_RE = re.compile(r"^(fs|fc)i?-[0-9a-f]{8,}\.fsx\.[a-z]{2}(-[a-z]+)+-\d+\.amazonaws\.com(\.cn)?$")
FSX_MOUNTNAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,8}$")
FSX_DNS_FIX = ("use the file system's DNSName (aws fsx describe-file-systems), "
               "like fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com")
FSX_MOUNTNAME_FIX = ("use the file system's LustreConfiguration.MountName (aws fsx describe-file-systems): "
                     "1-8 letters, digits, '_' or '-', like abcdefgh")


def check_workload_manager(path, pp, problems):
    manager = pp.get("workload_manager")
    if manager != "slurm":
        problems.append(ConfigError(path, "workload_manager", "missing" if manager is None else
                                    f"{manager!r} is not supported", 'set "workload_manager": "slurm"'))


def check_storage(path, pp, problems):
    """FSx and multi-head settings of provisioning_parameters.json, as Cluster fields."""
    fields = {}
    for key, kind, what in (("fsx_dns_name", str, "the FSx for Lustre DNS name (a string)"),
                            ("fsx_mountname", str, "the FSx for Lustre mount name (a string)"),
                            ("fsx_openzfs_dns_name", str, "the FSx for OpenZFS DNS name (a string)"),
                            ("slurm_configurations", dict, "an object")):
        try:
            fields[key] = _want(path, key, pp.get(key) or kind(), kind, what)
        except ConfigError as e:
            problems.append(e)
            fields[key] = kind()
    dns, mnt = fields["fsx_dns_name"], fields["fsx_mountname"]
    if bool(dns) != bool(mnt):
        have, lack = ("fsx_dns_name", "fsx_mountname") if dns else ("fsx_mountname", "fsx_dns_name")
        problems.append(ConfigError(path, lack, f"{have} is set but {lack} is not", "set both or neither"))
    for key in ("fsx_dns_name", "fsx_openzfs_dns_name"):
        if fields[key] and not FSX_DNS_RE.match(fields[key]):
            problems.append(ConfigError(path, key, f"{fields[key]!r} is not an FSx DNS name", FSX_DNS_FIX))
    if mnt and not FSX_MOUNTNAME_RE.match(mnt):
        problems.append(ConfigError(path, "fsx_mountname", f"{mnt!r} is not an FSx for Lustre mount name",
                                    FSX_MOUNTNAME_FIX))
    if fields["slurm_configurations"]:
        try:
            fields["slurm_configurations"] = _slurm_configurations(path, pp)
        except ConfigError as e:
            problems.append(e)
    return fields


def _slurm_configurations(path, pp):
    """Multi-head settings: the accounting role's rds backend needs the endpoint and the secret together,
    and finds out only after other roles have changed the node; refuse the pair half given here."""
    sc = _want(path, "slurm_configurations", pp.get("slurm_configurations") or {}, dict, "an object")
    f = "slurm_configurations."
    for key in ("slurm_database_endpoint", "slurm_database_secret_arn", "slurm_database_user"):
        if key in sc:
            _want(path, f + key, sc[key], str, "a string")
    endpoint, arn = sc.get("slurm_database_endpoint"), sc.get("slurm_database_secret_arn")
    if bool(endpoint) != bool(arn):
        have, lack = ("slurm_database_endpoint", "slurm_database_secret_arn") if endpoint else \
            ("slurm_database_secret_arn", "slurm_database_endpoint")
        raise ConfigError(path, f + lack, f"{have} is set but {lack} is not",
                          "set both (the database's host name and its Secrets Manager secret ARN) or neither")
    if endpoint and not DNS_NAME_RE.match(endpoint):
        raise ConfigError(path, f + "slurm_database_endpoint", f"{endpoint!r} is not a DNS name",
                          "use the database's host name, like mydb.cluster-abc.us-west-2.rds.amazonaws.com "
                          "(no scheme or port)")
    if arn and not SECRET_ARN_RE.match(arn):
        raise ConfigError(path, f + "slurm_database_secret_arn", f"{arn!r} is not a Secrets Manager secret ARN",
                          "use the secret's ARN, like arn:aws:secretsmanager:us-west-2:111122223333:secret:name-AbCdEf")
    return sc


# ---- shared_users.txt ---------------------------------------------------------------------------
# One user per line, "name,uid[,home]", as HyperPod's reference scripts read it. Every node creates
# these users with these UIDs (and a group of the same name and number), so a bad line must stop
# every node before any of them changes: checked here, with the line number.

USER_NAME_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# Below 1000: system accounts; 65534: nobody; above 60000: Debian's and Ubuntu's reserved ranges.
USER_UID_MIN, USER_UID_MAX = 1000, 60000
RESERVED_USERS = {"root", "nobody", "slurm", "munge", "mysql", "daemon", "bin", "sys"}
USERS_FIX_FORMAT = "write one user per line as name,uid or name,uid,/home/path (e.g. alice,2001,/fsx/alice)"


def read_shared_users(path, problems):
    """[{name, uid, home}] from the users file; every bad line appended to problems."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        problems.append(ConfigError(path, None, f"cannot read the file ({e.strerror})", "check the path and permissions"))
        return []
    except UnicodeDecodeError:
        problems.append(ConfigError(path, None, "the file is not UTF-8 text", "save it as UTF-8 (or plain ASCII)"))
        return []
    users, names, uids = [], {}, {}
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()  # also drops the \r of a file saved on Windows
        if not line or line.startswith("#"):
            continue
        try:
            user = _shared_user(path, number, line)
        except ConfigError as e:
            problems.append(e)
            continue
        for key, seen in (("name", names), ("uid", uids)):
            if user[key] in seen:
                problems.append(ConfigError(path, f"line {number}", f"{key} {user[key]} is also on line {seen[user[key]]}",
                                            f"give every user its own {key}"))
            seen.setdefault(user[key], number)
        users.append(user)
    return users


def _shared_user(path, number, line):
    where = f"line {number}"
    fields = [f.strip() for f in line.split(",")]
    if len(fields) not in (2, 3):
        raise ConfigError(path, where, f"{line!r} has {len(fields)} field{'s' if len(fields) != 1 else ''}",
                          USERS_FIX_FORMAT)
    name, uid = fields[0], fields[1]
    if not USER_NAME_RE.match(name):
        raise ConfigError(path, where, f"{name!r} is not a valid user name",
                          "use 1-32 lowercase letters, digits, '_' or '-', starting with a letter or '_'")
    if name in RESERVED_USERS:
        raise ConfigError(path, where, f"{name!r} is a system account", "choose another name")
    if not uid.isdigit() or not USER_UID_MIN <= int(uid) <= USER_UID_MAX:
        raise ConfigError(path, where, f"uid {uid!r} of {name!r} is not a number from {USER_UID_MIN} to {USER_UID_MAX}",
                          "use a free UID in that range, the same the user has elsewhere (e.g. on FSx)")
    home = fields[2] if len(fields) == 3 else ""
    if home and (not home.startswith("/") or home.rstrip("/") in ("", "/home", "/fsx") or ".." in home.split("/")
                 or re.search(r"[\s:]", home)):
        raise ConfigError(path, where, f"home {home!r} of {name!r} is not an absolute path of its own",
                          f"use an absolute folder for this user, like /fsx/{name}, or leave the field out")
    return {"name": name, "uid": int(uid), "home": home.rstrip("/")}


def load_cluster(resource_config_path, provisioning_parameters_path=None, node_roles_path=None,
                 shared_users_path=None):
    """Read and validate every input; return a Cluster or raise the first ConfigError."""
    rc_path = str(resource_config_path)
    pp_path = str(provisioning_parameters_path) if provisioning_parameters_path else None
    roles_path = str(node_roles_path) if node_roles_path else None
    name, arn, groups = _parse_resource_config(rc_path)
    if pp_path and roles_path:
        raise ConfigError(roles_path, None, f"given together with {pp_path}",
                          "use provisioning_parameters.json (legacy mode) or node_roles.json (API-driven mode), "
                          "not both")
    problems = []
    pp = read_json(pp_path) if pp_path else {}
    if pp_path:
        check_workload_manager(pp_path, pp, problems)
    mode, roles, unassigned_fix = _roles(rc_path, groups, pp_path, pp, roles_path, problems)
    by_group = check_roles(roles, groups, rc_path, unassigned_fix, problems)
    storage = check_storage(pp_path, pp, problems) if pp_path else {}
    users = read_shared_users(shared_users_path, problems) if shared_users_path else []
    if problems:
        raise problems[0]

    cluster = Cluster(name=name, arn=arn, mode=mode, resource_config_path=rc_path, shared_users=users, **storage)
    # Partitions and their instance groups in the order the roles list them.
    for r in roles:
        if r.partition is not None:
            cluster.partitions.setdefault(r.partition, []).append(r.group)
    for g in groups:
        cluster.instance_groups[g.name] = [h.name for h in g.hosts]
        for h in g.hosts:
            h.node_type, h.partition = by_group[g.name].node_type, by_group[g.name].partition
            # Legacy HyperPod names Slurm nodes (and hostnames) after the IP; API mode after the instance.
            h.slurm_nodename = "ip-" + h.customer_ip.replace(".", "-") if mode == "legacy" else h.name
            cluster.hosts[h.name] = h
    cluster.controller_ips = _ips_first_slot_first(cluster, "controller")
    cluster.login_ips = _ips_first_slot_first(cluster, "login")
    return cluster


def _ips_first_slot_first(cluster, node_type):
    """IPs ordered by instance number, so <group>-1 (multi-head's primary) comes first."""
    def slot(h):
        m = re.fullmatch(re.escape(h.group) + r"-(\d+)", h.name)
        return int(m.group(1)) if m else float("inf")
    hosts = [h for h in cluster.hosts.values() if h.node_type == node_type]
    return [h.customer_ip for h in sorted(hosts, key=slot)]


def find_self(cluster, ips):
    """The host whose CustomerIpAddress is one of this node's IPv4 addresses."""
    by_ip = {h.customer_ip: h.name for h in cluster.hosts.values()}
    for ip in ips:
        if ip in by_ip:
            return by_ip[ip]
    example = next(iter(cluster.hosts), "NAME")
    raise ConfigError(cluster.resource_config_path, "InstanceGroups[].Instances[].CustomerIpAddress",
                      f"none of this node's addresses ({', '.join(ips) or 'none found'}) belongs to an instance",
                      f"pass --node NAME with this node's InstanceName (e.g. --node {example})")


# ---- the Ansible plugin -------------------------------------------------------------------------

try:
    from ansible.errors import AnsibleParserError
    from ansible.plugins.inventory import BaseInventoryPlugin
except ImportError:  # the functions above stay usable where Ansible is not installed
    BaseInventoryPlugin = None

if BaseInventoryPlugin is not None:

    class InventoryModule(BaseInventoryPlugin):
        NAME = "hyperpod"

        def verify_file(self, path):
            return super().verify_file(path) and path.endswith(("hyperpod.yml", "hyperpod.yaml"))

        def parse(self, inventory, loader, path, cache=True):
            super().parse(inventory, loader, path, cache)
            self._read_config_data(path)
            base = os.path.dirname(os.path.abspath(path))

            # The options are strings, not Ansible's type path, which resolves against the current
            # directory: a relative path here means the config file's directory, as documented.
            def opt(name):
                value = self.get_option(name)
                return os.path.join(base, os.path.expanduser(value)) if value else None

            try:
                cluster = load_cluster(opt("resource_config"), opt("provisioning_parameters"), opt("node_roles"),
                                       opt("shared_users"))
            except ConfigError as e:
                raise AnsibleParserError(str(e)) from None

            for key, value in cluster.group_vars().items():
                self.inventory.set_variable("all", key, value)
            for host in cluster.hosts:  # first, so that `all` lists hosts in file order
                self.inventory.add_host(host)
                for key, value in cluster.host_vars(host).items():
                    self.inventory.set_variable(host, key, value)
            for group, hosts in cluster.groups().items():
                self.inventory.add_group(group)
                for host in hosts:
                    self.inventory.add_child(group, host)
