"""resource_config.json, which HyperPod writes on every node: the cluster's instance groups and
their instances. Unknown keys are tolerated (the platform adds some over time)."""

import re
from dataclasses import dataclass

from ansible_collections.hyperpod.slurm.plugins.plugin_utils.inputs import (ConfigError, hyperpod_name, ipv4,
                                                                           read_json, want)

# HyperPod's own pattern for cluster and instance group names; instance names are <group>-<n>.
# Anything else would break Ansible's --limit (',' ':'), slurm.conf lines and host names.
HYPERPOD_NAME_RE = re.compile(r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$")
INSTANCE_NAME_RE = re.compile(r"^[A-Za-z0-9](-*[A-Za-z0-9])*$")


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


def parse(path):
    """-> (cluster name, cluster ARN, [Group])"""
    rc = read_json(path)
    cc = want(path, "ClusterConfig", rc.get("ClusterConfig"), dict, "an object with ClusterName and ClusterArn")
    name = hyperpod_name(path, "ClusterConfig.ClusterName", cc.get("ClusterName"), HYPERPOD_NAME_RE, "cluster name")
    arn = want(path, "ClusterConfig.ClusterArn", cc.get("ClusterArn") or "", str, "the cluster ARN (a string)")
    raw_groups = want(path, "InstanceGroups", rc.get("InstanceGroups"), list, "an array of instance groups")

    groups, names, ips = [], {}, {}
    for gi, g in enumerate(raw_groups):
        gf = f"InstanceGroups[{gi}]"
        want(path, gf, g, dict, "an object with Name, InstanceType and Instances")
        gname = hyperpod_name(path, gf + ".Name", g.get("Name"), HYPERPOD_NAME_RE, "instance group name")
        if any(gname == other.name for other in groups):
            raise ConfigError(path, gf + ".Name", f"instance group {gname!r} appears twice",
                              "each instance group must appear once")
        itype = want(path, gf + ".InstanceType", g.get("InstanceType") or "", str, "the instance type (a string)")
        # Empty groups come as null or without the key (HyperPod does both).
        instances = want(path, gf + ".Instances", g.get("Instances") or [], list, "an array of instances")
        group = Group(gname, gi, g, [])
        for ii, inst in enumerate(instances):
            f = f"{gf}.Instances[{ii}]"
            want(path, f, inst, dict, "an object with InstanceName and CustomerIpAddress")
            iname = hyperpod_name(path, f + ".InstanceName", inst.get("InstanceName"), INSTANCE_NAME_RE,
                                  "instance name")
            if iname in names:
                raise ConfigError(path, f + ".InstanceName", f"{iname!r} is also {names[iname]}.InstanceName",
                                  "instance names must be unique; regenerate the file")
            names[iname] = f
            cip = ipv4(path, f + ".CustomerIpAddress", inst.get("CustomerIpAddress"))
            if cip in ips:
                raise ConfigError(path, f + ".CustomerIpAddress", f"{cip} is also {ips[cip]}.CustomerIpAddress",
                                  "customer IPs must be unique; regenerate the file")
            ips[cip] = f
            agent = inst.get("AgentIpAddress")
            agent = "" if agent is None else ipv4(path, f + ".AgentIpAddress", agent)
            iid = want(path, f + ".InstanceId", inst.get("InstanceId") or "", str, "the EC2 instance id (a string)")
            group.hosts.append(Host(iname, iid, itype, gname, cip, agent))
        groups.append(group)
    return name, arn, groups
