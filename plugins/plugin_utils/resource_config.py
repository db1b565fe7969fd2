"""resource_config.json, which HyperPod writes on every node: the cluster's instance groups and
their instances. Unknown keys are tolerated (the platform adds some over time)."""

from dataclasses import dataclass

from ansible_collections.hyperpod.slurm.plugins.plugin_utils.fields import (CLUSTER_ARN_RE, INSTANCE_ID_RE,
                                                                           INSTANCE_NAME_MAX, INSTANCE_TYPE_RE,
                                                                           full_match, hyperpod_name, ipv4)
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.inputs import (ConfigError, optional_string, read_json,
                                                                           shown, want)

# The fields read, as errors name them: tests/corpus checks that a bad input of each is refused.
FIELDS = ("ClusterConfig", "ClusterConfig.ClusterName", "ClusterConfig.ClusterArn", "InstanceGroups",
          "InstanceGroups[]", "InstanceGroups[].Name", "InstanceGroups[].InstanceType", "InstanceGroups[].Instances",
          "InstanceGroups[].Instances[]", "InstanceGroups[].Instances[].InstanceName",
          "InstanceGroups[].Instances[].CustomerIpAddress", "InstanceGroups[].Instances[].AgentIpAddress",
          "InstanceGroups[].Instances[].InstanceId")


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
    name = hyperpod_name(path, "ClusterConfig.ClusterName", cc.get("ClusterName"), "cluster name")
    arn = _optional(path, "ClusterConfig.ClusterArn", cc.get("ClusterArn"), CLUSTER_ARN_RE, "a SageMaker cluster ARN",
                    "HyperPod writes the cluster's ARN, like arn:aws:sagemaker:us-west-2:111122223333:cluster/"
                    "abcde01234yz; fix or regenerate the file")
    raw_groups = want(path, "InstanceGroups", rc.get("InstanceGroups"), list, "an array of instance groups")

    groups, names, ips = [], {}, {}
    for gi, g in enumerate(raw_groups):
        gf = f"InstanceGroups[{gi}]"
        want(path, gf, g, dict, "an object with Name, InstanceType and Instances")
        gname = hyperpod_name(path, gf + ".Name", g.get("Name"), "instance group name", ansible_name=True)
        if any(gname == other.name for other in groups):
            raise ConfigError(path, gf + ".Name", f"instance group {gname!r} appears twice",
                              "each instance group must appear once")
        itype = _optional(path, gf + ".InstanceType", g.get("InstanceType"), INSTANCE_TYPE_RE, "an instance type",
                          "HyperPod writes types like ml.p5.48xlarge; fix or regenerate the file")
        # Empty groups come as null or without the key (HyperPod does both).
        instances = g.get("Instances")
        instances = [] if instances is None else want(path, gf + ".Instances", instances, list, "an array of instances")
        group = Group(gname, gi, g, [])
        for ii, inst in enumerate(instances):
            f = f"{gf}.Instances[{ii}]"
            want(path, f, inst, dict, "an object with InstanceName and CustomerIpAddress")
            iname = hyperpod_name(path, f + ".InstanceName", inst.get("InstanceName"), "instance name",
                                  INSTANCE_NAME_MAX, ansible_name=True)
            if iname in names:
                raise ConfigError(path, f + ".InstanceName", f"{shown(iname)} is also {names[iname]}.InstanceName",
                                  "instance names must be unique; regenerate the file")
            names[iname] = f
            cip = ipv4(path, f + ".CustomerIpAddress", inst.get("CustomerIpAddress"))
            if cip in ips:
                raise ConfigError(path, f + ".CustomerIpAddress", f"{cip} is also {ips[cip]}.CustomerIpAddress",
                                  "customer IPs must be unique; regenerate the file")
            ips[cip] = f
            agent = inst.get("AgentIpAddress")
            agent = "" if agent is None else ipv4(path, f + ".AgentIpAddress", agent)
            iid = _optional(path, f + ".InstanceId", inst.get("InstanceId"), INSTANCE_ID_RE, "an EC2 instance id",
                            "HyperPod writes ids like i-0123456789abcdef0; fix or regenerate the file")
            group.hosts.append(Host(iname, iid, itype, gname, cip, agent))
        groups.append(group)
    return name, arn, groups


def _optional(path, fld, value, pattern, what, fix):
    """A field HyperPod writes but the model can do without ('' when missing or null)."""
    value = optional_string(path, fld, value, f"{what} (a string)")
    return full_match(path, fld, value, pattern, what, fix, most=256) if value else value
