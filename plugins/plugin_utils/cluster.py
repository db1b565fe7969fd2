"""The cluster model: which nodes there are, their Slurm node type, partition, instance group,
address and Slurm node name. Computed once, here, in tested Python, and read by everyone:

* `load_cluster` builds it from HyperPod's files (resource_config.json, provisioning_parameters.json
  or node_roles.json, shared_users.txt), every input validated first. The inventory plugin turns
  it into groups and host variables; bootstrap.py and `validate` use it and its checks directly.
* `inventory_nodes` builds the same nodes from an inventory's groups and host variables: the
  hyperpod plugin's where it ran (real names, such as partition `gpu-a`), else the groups of a static
  inventory (`slurm_<type>`, `partition_<name>`). The roles read it through the filter
  hyperpod.slurm.cluster_nodes.

Plain Python, no Ansible. Its users import it by its collection name,
ansible_collections.hyperpod.slurm.plugins.plugin_utils.cluster (see lifecycle/collection.py).
This module also names the checks of the modules beside it that its users call.
"""

import re
from dataclasses import dataclass, field

from ansible_collections.hyperpod.slurm.plugins.plugin_utils.inputs import ConfigError, ConfigWarning, read_json
from ansible_collections.hyperpod.slurm.plugins.plugin_utils import node_roles, provisioning, resource_config, shared_users
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.node_roles import (Role, check_roles, choose, group_name,
                                                                               role_file_fix, roles_from_file,
                                                                               roles_from_slurm_config)
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.provisioning import (check_multi_head, check_storage,
                                                                                  check_workload_manager)
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.resource_config import Group, Host
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.resource_config import parse as _parse_resource_config
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.shared_users import check_users, read_shared_users

__all__ = ["ConfigError", "ConfigWarning", "Cluster", "FIELDS", "Group", "Host", "NODE_TYPES", "Role", "check_multi_head",
           "check_roles",
           "check_storage", "check_users", "check_workload_manager", "find_self", "group_name", "inventory_nodes",
           "inventory_nodes_and_vars", "load_cluster",
           "node", "read_json", "read_shared_users", "role_file_fix", "roles_from_file", "roles_from_slurm_config"]

# Every field of the input files that the model reads, by file, as its errors name them (list
# indexes as []; the users file's by the word its problems use). tests/corpus/test_bad_input.py
# checks that a bad value of each is in the bad-input corpus.
FIELDS = {
    "resource_config.json": resource_config.FIELDS + node_roles.SLURM_CONFIG_FIELDS,
    "provisioning_parameters.json": node_roles.ROLE_FILE_FIELDS + provisioning.FIELDS,
    "node_roles.json": node_roles.ROLE_FILE_FIELDS,
    "shared_users.txt": shared_users.FIELDS,
}

# Slurm node types, in the order the model lists nodes.
NODE_TYPES = ("controller", "login", "compute")


def node(name, node_type, partitions, instance_group, address, slurm_nodename, instance_type):
    """One node of the model, as plain data (what the roles get from hyperpod.slurm.cluster_nodes).
    partitions: real partition names; instance_group: the instance group's name, '' where none."""
    return {"name": name, "node_type": node_type, "partitions": list(partitions), "instance_group": instance_group,
            "address": address, "slurm_nodename": slurm_nodename, "instance_type": instance_type}


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

    def groups(self, hosts=None):
        """Ansible group name -> host names, every group present even when empty. Group names are
        sanitized (partition_gpu_a for gpu-a): the real names are host variables. hosts: only these
        hosts (run_hosts) are members; default every host."""
        hosts = self.hosts.values() if hosts is None else [self.hosts[name] for name in hosts]
        out = {"slurm_controller": [], "slurm_login": [], "slurm_compute": []}
        for part in self.partitions:
            out[group_name("partition", part)] = []
        for ig in self.instance_groups:
            out[group_name("instance_group", ig)] = []
        for host in hosts:
            out[group_name("instance_group", host.group)].append(host.name)
            out["slurm_" + host.node_type].append(host.name)
            if host.partition:
                out[group_name("partition", host.partition)].append(host.name)
        return out

    def group_vars(self):
        """Variables of group `all`: every host carries them, so nothing here may grow with the nodes."""
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

    def run_hosts(self, name):
        """The hosts that the run of node `name` (limited to it, as bootstrap.py runs) reads, in file
        order. A controller's run lists every node (standalone slurm.conf, the Prometheus targets).
        Any other node's run reads only itself and the controllers (slurm_common_controller_hosts:
        SlurmctldHost, the munge key read on the first controller): its inventory, and so its run's
        cost, stays the same size however many nodes the cluster has."""
        if self.hosts[name].node_type == "controller":
            return list(self.hosts)
        return [h.name for h in self.hosts.values() if h.name == name or h.node_type == "controller"]

    def host_vars(self, name):
        """One host's variables: what inventory_nodes reads back as that host's node."""
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

    def nodes(self):
        """The model's nodes: controllers, login nodes, compute nodes, each in file order."""
        return [node(h.name, h.node_type, [h.partition] if h.partition else [], h.group, h.customer_ip,
                     h.slurm_nodename, h.instance_type)
                for node_type in NODE_TYPES for h in self.hosts.values() if h.node_type == node_type]


def inventory_nodes(groups, hostvars):
    """The model's nodes from an inventory: groups {name: [hosts]}, hostvars {host: {variable: value}}
    (Ansible's own objects in a filter). A host of several slurm_<type> groups is a node of each.

    A host's partitions and instance group are the hyperpod plugin's hyperpod_partition and
    hyperpod_instance_group where it set them: the real names, which group names only approximate
    (a host of the plugin's without hyperpod_partition is in none). Elsewhere they are the groups
    partition_<name> and instance_group_<name> holding the host.
    One pass over the groups and one look at each node's variables: linear in the number of nodes."""
    return [node for node, _ in inventory_nodes_and_vars(groups, hostvars)]


def inventory_nodes_and_vars(groups, hostvars, details=True):
    """inventory_nodes, each node with its host's variables: (node, variables) pairs, one at a time
    (Ansible works out all of a host's variables at each look, so a filter that needs more of them
    looks once, and keeps none longer than it needs). details=False leaves out what slurm.conf does
    not need (instance group and type, address: ''). The groups partition_<name> and
    instance_group_<name> are read only for a host that the hyperpod plugin did not make: at 10,000
    nodes a pass over their hosts costs a tenth of a second (ansible-core 2.19 renders each name)."""
    member_of = _Membership(groups)
    for node_type in NODE_TYPES:
        for host in groups.get("slurm_" + node_type) or []:
            hv = HostVariables(hostvars, host)
            partitions = ([hv["hyperpod_partition"]] if "hyperpod_partition" in hv
                          else [] if "hyperpod_node_type" in hv  # the plugin's host, of no partition
                          else sorted(member_of("partition", host)))
            if not details:
                yield node(host, node_type, partitions, "", "", _var(hv, "slurm_nodename", host), ""), hv
                continue
            instance_group = (hv["hyperpod_instance_group"] if "hyperpod_instance_group" in hv
                              else ",".join(sorted(member_of("instance_group", host))))
            yield node(host, node_type, partitions, instance_group, _var(hv, "ansible_host", host),
                       _var(hv, "slurm_nodename", host), _var(hv, "hyperpod_instance_type", "")), hv


class _Membership:
    """The <kind>_<name> groups (partition, instance_group) holding a host, as [name], from one pass
    over those groups made at the first question of each kind."""

    def __init__(self, groups):
        self._groups, self._by_kind = groups, {}

    def __call__(self, kind, host):
        if kind not in self._by_kind:
            hosts_of = self._by_kind[kind] = {}
            for group, hosts in self._groups.items():
                if group.startswith(kind + "_") and len(group) > len(kind) + 1:
                    for member in hosts:
                        hosts_of.setdefault(member, []).append(group[len(kind) + 1:])
        return self._by_kind[kind].get(host, [])


class HostVariables:
    """One host's variables as hostvars[host] gives them, for reading a few (`in`, `[]`). Ansible's
    hostvars[host] runs the template engine at every read; this reads a value as it is unless it
    may hold a template (text with {{, {% or {#, or a list or mapping), and then asks hostvars.
    `ansible_facts` is read as it is: facts are data, never templated. Takes Ansible's hostvars
    (its raw_get gives a host's variables untemplated) or a plain {host: {variable: value}}."""

    def __init__(self, hostvars, host):
        raw_get = getattr(hostvars, "raw_get", None)
        self._raw = raw_get(host) if raw_get else hostvars[host]
        self._hostvars, self._host = hostvars, host

    def __contains__(self, name):
        return name in self._raw

    def __getitem__(self, name):
        value = self._raw[name]
        if name != "ansible_facts" and _may_hold_template(value):
            return self._hostvars[self._host][name]
        return value


def _may_hold_template(value):
    if isinstance(value, str):
        return "{{" in value or "{%" in value or "{#" in value
    return not isinstance(value, (bool, int, float, type(None)))


def _var(hostvars, name, default):
    """A host variable, or default where it is unset or empty."""
    return (hostvars[name] if name in hostvars else None) or default


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
    mode, roles, unassigned_fix = choose(rc_path, groups, pp_path, pp, roles_path, problems)
    by_group = check_roles(roles, groups, rc_path, unassigned_fix, problems)
    storage = check_storage(pp_path, pp, problems) if pp_path else {}
    users = read_shared_users(shared_users_path, problems) if shared_users_path else []
    if problems:
        raise problems[0]
    controllers = [h.name for g in groups if g.hosts and by_group[g.name].node_type == "controller" for h in g.hosts]
    multi_head = check_multi_head(pp_path or rc_path, storage.get("slurm_configurations", {}), controllers, mode)
    if multi_head:
        raise multi_head

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
