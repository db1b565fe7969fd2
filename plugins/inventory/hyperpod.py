# An Ansible inventory plugin for SageMaker HyperPod Slurm clusters: the cluster model of
# plugins/plugin_utils/cluster.py (which also validates the inputs) as groups and host variables.

import os
import sys

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin

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
  - Every variable is marked unsafe (never evaluated as a template), also on ansible-core 2.17,
    which would otherwise evaluate a C({{ ... }}) read from an input file. Host and group names
    allow letters, digits, C(-) and C(_) only.
  - The config file name must end in C(hyperpod.yml) or C(hyperpod.yaml). Relative paths are
    taken relative to the directory of that config file. The paths come from that file only
    (bootstrap.py writes one for each run).
  - Host variables C(hyperpod_partition) and C(hyperpod_instance_group) keep the real names, which
    group names only approximate (C(partition_gpu_a) for C(gpu-a)); the filter
    hyperpod.slurm.cluster_nodes reads them.
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
  provisioning_parameters:
    description: Path of provisioning_parameters.json. Given means legacy mode.
    type: str
  node_roles:
    description:
      - Path of a JSON role map for API-driven mode (C(controller_group), C(login_group),
        C(worker_groups)). Used only when resource_config.json carries no SlurmConfig.
    type: str
  node:
    description:
      - The InstanceName of the node whose run uses this inventory (bootstrap.py gives it). The
        inventory then holds the hosts that run reads, not the whole cluster (every host for a
        controller, else the node itself and the controllers). Groups and group variables stay as
        they are, with only those hosts as members, so a compute or login node's run costs the
        same at 10 or 10,000 nodes.
      - Not given, the inventory holds every host.
    type: str
  shared_users:
    description:
      - Path of the users file (C(shared_users.txt), lines C(name,uid[,home])). Its users become the
        variable C(hyperpod_shared_users), a list of C({name, uid, home}) (home empty when not given).
    type: str
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

def _model():
    """The cluster model, imported when a config file names this plugin: Ansible loads every enabled
    inventory plugin just to ask verify_file, also where hyperpod.slurm is some other copy (such as
    ansible-lint's stand-in with only the roles)."""
    try:
        from ansible_collections.hyperpod.slurm.plugins.plugin_utils import cluster
    except ImportError:
        # `plugin: hyperpod`, loaded from this folder through the bundle's or a checkout's ansible.cfg
        # (inventory_plugins), where hyperpod.slurm is on no collections path (bootstrap.py's runs
        # put it on one): importing lifecycle tells Python where this collection is, as for bootstrap.py.
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
        try:
            import lifecycle  # noqa: F401
        finally:
            sys.path.pop(0)
        from ansible_collections.hyperpod.slurm.plugins.plugin_utils import cluster
    return cluster


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

        model = _model()
        try:
            cluster = model.load_cluster(opt("resource_config"), opt("provisioning_parameters"), opt("node_roles"),
                                         opt("shared_users"))
        except model.ConfigError as e:
            raise AnsibleParserError(str(e)) from None
        node = self.get_option("node")
        if node and node not in cluster.hosts:
            raise AnsibleParserError(f"{path}: node: no instance is named {node!r} in {cluster.resource_config_path}; "
                                     "give an InstanceName of that file, or leave node out for every host")
        self.populate(cluster, cluster.run_hosts(node) if node else None)

    def populate(self, cluster, hosts=None):
        """The cluster model as hosts, groups and variables, every variable's value marked unsafe:
        nothing from the input files is ever evaluated as a template (see plugin_utils/unsafe.py).
        Names stay plain, as Ansible's own plugins leave them (ansible-core 2.17's ansible-inventory
        --list would show a marked host name as {"__ansible_unsafe": ...}): the model allows only
        letters, digits and '-' in host names and [A-Za-z0-9_] in group names.
        hosts: only these hosts (Cluster.run_hosts), default every host."""
        from ansible_collections.hyperpod.slurm.plugins.plugin_utils.unsafe import unsafe

        for key, value in cluster.group_vars().items():
            self.inventory.set_variable("all", key, unsafe(value))
        hosts = list(cluster.hosts) if hosts is None else hosts
        for host in hosts:  # first, so that `all` lists hosts in file order
            self.inventory.add_host(host)
            for key, value in cluster.host_vars(host).items():
                self.inventory.set_variable(host, key, unsafe(value))
        for group, members in cluster.groups(hosts).items():
            self.inventory.add_group(group)
            for host in members:
                self.inventory.add_child(group, host)
