"""Filters that give the roles the cluster model (plugins/plugin_utils/cluster.py) and what slurm.conf
and Prometheus make of it. Each is one pass over the nodes: linear in the number of nodes."""

import re

from ansible_collections.hyperpod.slurm.plugins.filter.hostlist import hostlist_compress, slurm_node_groups
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.cluster import inventory_nodes, inventory_nodes_and_vars
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.unsafe import returns_unsafe


def cluster_nodes(groups, hostvars):
    """The cluster's nodes from the inventory's groups and host variables (see inventory_nodes)."""
    return inventory_nodes(groups, hostvars)


def slurm_partitions(nodes):
    """[{name, nodes: [Slurm node names]}]: each partition of the compute nodes, with its members,
    sorted by name as Jinja's dictsort sorts (case aside)."""
    members = {}
    for node in nodes:
        if node["node_type"] == "compute":
            for partition in node["partitions"]:
                members.setdefault(partition, []).append(node["slurm_nodename"])
    return [{"name": name, "nodes": members[name]} for name in sorted(members, key=str.lower)]


def slurm_conf_nodes(groups, hostvars, memory_fraction, default_partition=""):
    """What slurm.conf says of the nodes, worked out in one look at each node's variables (each look
    costs Ansible all of that host's variables, which at 10,000 nodes is seconds):
    {nodes: [{NodeName: hostlist, CPUs, RealMemory}] for the compute then the login nodes, grouped by
    hardware (ansible_facts processor_vcpus, memtotal_mb times memory_fraction);
    partitions: [{name, nodes: hostlist, default}]: default_partition (when given) with every compute
    node, then each partition of the compute nodes by name; the first is the default}.
    Raises ValueError naming the nodes whose facts are unknown."""
    by_type, unknown = {"compute": [], "login": []}, []
    for node, variables in inventory_nodes_and_vars(groups, hostvars, details=False):
        if node["node_type"] not in by_type:
            continue
        facts = variables["ansible_facts"] if "ansible_facts" in variables else {}
        if "processor_vcpus" not in facts:
            unknown.append(node["name"])
            continue
        node["hardware"] = {"CPUs": _int(facts["processor_vcpus"]),
                            "RealMemory": int(_int(facts["memtotal_mb"]) * float(memory_fraction))}
        by_type[node["node_type"]].append(node)
    if unknown:
        raise ValueError(f"slurm_controller: the facts of {', '.join(unknown)} are unknown, so their NodeName lines "
                         "cannot be written. Gather facts from every node in the same run (keep them in the play, "
                         "or use a fact cache).")
    slurm_nodes = by_type["compute"] + by_type["login"]
    lines = slurm_node_groups([dict(node["hardware"], name=node["slurm_nodename"]) for node in slurm_nodes])
    partitions = [{"name": p["name"], "nodes": hostlist_compress(p["nodes"]), "default": False}
                  for p in slurm_partitions(slurm_nodes)]
    if default_partition and by_type["compute"]:
        compute = hostlist_compress([node["slurm_nodename"] for node in by_type["compute"]])
        partitions.insert(0, {"name": default_partition, "nodes": compute, "default": False})
    if partitions:
        partitions[0]["default"] = True
    return {"nodes": lines, "partitions": partitions}


def _int(value):
    """Jinja's int filter: an int, a number in text (also '2.0'), else 0."""
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return 0


def prometheus_targets(groups, hostvars, ports, gpu_instance_types=(), efa_instance_types=()):
    """File-based discovery per job {node, dcgm, efa: [{targets: [address:port], labels}]} for the
    cluster's nodes (cluster_nodes): every node for node exporter, the nodes with a GPU for dcgm,
    with EFA for efa.

    The controller cannot see other nodes' devices (each node runs its own play), so it goes by what
    the inventory says: a node's observability_gpu / observability_efa (present, absent, auto) where
    set, else its instance type against the patterns (regular expressions matched at its start)."""
    targets = {job: [] for job in ports}
    for node, variables in inventory_nodes_and_vars(groups, hostvars):
        labels = {"node": node["slurm_nodename"], "node_type": node["node_type"],
                  "partition": ",".join(node["partitions"]), "instance_group": node["instance_group"]}
        has = {"node": True,
               "dcgm": _device(variables, "observability_gpu", node["instance_type"], gpu_instance_types),
               "efa": _device(variables, "observability_efa", node["instance_type"], efa_instance_types)}
        for job, port in ports.items():
            if has[job]:
                targets[job].append({"targets": [f"{node['address']}:{port}"], "labels": dict(labels)})
    return targets


def _device(variables, override, instance_type, patterns):
    said = variables[override] if override in variables else "auto"
    if said != "auto":
        return said == "present"
    return bool(instance_type) and any(re.match(pattern, instance_type) for pattern in patterns)


class FilterModule:
    """The cluster model for the roles."""

    def filters(self):
        # Built from the inventory's data: marked unsafe like it (plugin_utils/unsafe.py).
        return {
            "cluster_nodes": returns_unsafe(cluster_nodes),
            "slurm_partitions": returns_unsafe(slurm_partitions),
            "slurm_conf_nodes": returns_unsafe(slurm_conf_nodes),
            "prometheus_targets": returns_unsafe(prometheus_targets),
        }
