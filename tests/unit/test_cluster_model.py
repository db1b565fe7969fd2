"""The cluster model (plugins/plugin_utils/cluster.py) and the filters the roles read it through
(plugins/filter/cluster.py): the same nodes from HyperPod's files and from an inventory, real
partition names, linear work, and slurm.conf and the Prometheus targets rendered by Ansible from
the hyperpod plugin's inventory."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO
from ansible_collections.hyperpod.slurm.plugins.filter import cluster as filters

PORTS = {"node": 9100, "dcgm": 9400, "efa": 9809}


def plugin_inventory(cluster):
    """(groups, hostvars) as Ansible holds them after the hyperpod plugin ran."""
    hostvars = {name: {**cluster.group_vars(), **cluster.host_vars(name)} for name in cluster.hosts}
    return cluster.groups(), hostvars


class CountingHostvars(dict):
    """hostvars that count how often a host's variables are looked up."""

    lookups = 0

    def __getitem__(self, host):
        CountingHostvars.lookups += 1
        return super().__getitem__(host)


@pytest.fixture
def load(hp, write):
    def _load(rc, pp=None):
        return hp.load_cluster(write("resource_config.json", rc),
                               write("provisioning_parameters.json", pp) if pp is not None else None)
    return _load


# ---- one model, from HyperPod's files or from an inventory ---------------------------------------

def test_the_example_cluster_as_nodes(load, rc, pp):
    assert load(rc, pp).nodes() == [
        {"name": "controller-machine-1", "node_type": "controller", "partitions": [],
         "instance_group": "controller-machine", "address": "10.89.50.11", "slurm_nodename": "ip-10-89-50-11",
         "instance_type": "ml.c5.xlarge"},
        {"name": "login-group-1", "node_type": "login", "partitions": [], "instance_group": "login-group",
         "address": "10.89.50.12", "slurm_nodename": "ip-10-89-50-12", "instance_type": "ml.m5.xlarge"},
        {"name": "compute-gpu-1", "node_type": "compute", "partitions": ["gpu"], "instance_group": "compute-gpu",
         "address": "10.89.50.21", "slurm_nodename": "ip-10-89-50-21", "instance_type": "ml.g5.xlarge"},
        {"name": "compute-cpu-1", "node_type": "compute", "partitions": ["cpu"], "instance_group": "compute-cpu",
         "address": "10.89.50.22", "slurm_nodename": "ip-10-89-50-22", "instance_type": "ml.c5.2xlarge"},
    ]


@pytest.mark.parametrize("mode", ["legacy", "api"])
def test_the_inventory_gives_back_the_model_it_was_made_of(hp, load, rc, pp, api_rc, mode):
    cluster = load(rc, pp) if mode == "legacy" else load(api_rc)
    assert hp.inventory_nodes(*plugin_inventory(cluster)) == cluster.nodes()


def test_partition_names_stay_as_written(hp, load, rc, pp):
    """gpu-a becomes the Ansible group partition_gpu_a, and stays gpu-a in the model."""
    pp["worker_groups"][0]["partition_name"] = "gpu-a"
    pp["worker_groups"][1]["partition_name"] = "ml.p5.48xlarge"
    cluster = load(rc, pp)
    groups, hostvars = plugin_inventory(cluster)
    assert "partition_gpu_a" in groups and "partition_ml_p5_48xlarge" in groups
    nodes = hp.inventory_nodes(groups, hostvars)
    assert [n["partitions"] for n in nodes if n["node_type"] == "compute"] == [["gpu-a"], ["ml.p5.48xlarge"]]
    assert filters.slurm_partitions(nodes) == [{"name": "gpu-a", "nodes": ["ip-10-89-50-21"]},
                                               {"name": "ml.p5.48xlarge", "nodes": ["ip-10-89-50-22"]}]


def test_a_static_inventory(hp):
    """docs/ordinary-clusters.md's groups; names, addresses and node names default to the host's."""
    groups = {"all": ["head1", "login1", "gpu1", "gpu2", "cpu1"], "ungrouped": [],
              "slurm_controller": ["head1"], "slurm_login": ["login1"], "slurm_compute": ["gpu1", "gpu2", "cpu1"],
              "partition_gpu": ["gpu1", "gpu2"], "partition_cpu": ["cpu1", "gpu2"], "partition_": ["cpu1"],
              "instance_group_big": ["gpu2"], "other": ["gpu1"]}
    hostvars = {h: {} for h in groups["all"]}
    hostvars["gpu1"] = {"ansible_host": "10.0.0.5", "slurm_nodename": "node-gpu1", "hyperpod_instance_type": "p5"}
    nodes = hp.inventory_nodes(groups, hostvars)
    assert [(n["name"], n["node_type"]) for n in nodes] == [
        ("head1", "controller"), ("login1", "login"), ("gpu1", "compute"), ("gpu2", "compute"), ("cpu1", "compute")]
    by_name = {n["name"]: n for n in nodes}
    assert by_name["gpu1"] == {"name": "gpu1", "node_type": "compute", "partitions": ["gpu"], "instance_group": "",
                               "address": "10.0.0.5", "slurm_nodename": "node-gpu1", "instance_type": "p5"}
    assert by_name["gpu2"]["partitions"] == ["cpu", "gpu"] and by_name["gpu2"]["instance_group"] == "big"
    assert by_name["head1"]["address"] == "head1" and by_name["head1"]["slurm_nodename"] == "head1"
    assert filters.slurm_partitions(nodes) == [{"name": "cpu", "nodes": ["gpu2", "cpu1"]},
                                               {"name": "gpu", "nodes": ["node-gpu1", "gpu2"]}]


def test_only_compute_nodes_make_partitions(hp):
    groups = {"slurm_controller": ["head1"], "slurm_login": ["login1"], "slurm_compute": ["c1"],
              "partition_debug": ["login1", "c1", "head1"], "partition_empty": []}
    nodes = hp.inventory_nodes(groups, {h: {} for h in ("head1", "login1", "c1")})
    assert filters.slurm_partitions(nodes) == [{"name": "debug", "nodes": ["c1"]}]
    assert {n["name"]: n["partitions"] for n in nodes}["login1"] == ["debug"]  # a label, not a member


def test_one_look_at_each_nodes_variables(hp):
    """Linear: the groups once, each node's variables once (the Jinja it replaces scanned every group
    for every node)."""
    hosts = [f"n{i}" for i in range(20000)]
    groups = {"slurm_controller": hosts[:1], "slurm_login": [], "slurm_compute": hosts[1:],
              **{f"partition_p{k}": hosts[1 + k::50] for k in range(50)}}
    CountingHostvars.lookups = 0
    nodes = hp.inventory_nodes(groups, CountingHostvars((h, {}) for h in hosts))
    assert CountingHostvars.lookups == len(hosts)
    assert sum(len(p["nodes"]) for p in filters.slurm_partitions(nodes)) == len(hosts) - 1


# ---- Prometheus targets --------------------------------------------------------------------------

def test_targets_carry_the_models_labels(load, rc, pp):
    pp["worker_groups"][0]["partition_name"] = "gpu-a"
    groups, hostvars = plugin_inventory(load(rc, pp))
    targets = filters.prometheus_targets(groups, hostvars, PORTS, [r"ml\.g5\."], [])
    assert targets["node"][2] == {"targets": ["10.89.50.21:9100"], "labels": {
        "node": "ip-10-89-50-21", "node_type": "compute", "partition": "gpu-a", "instance_group": "compute-gpu"}}
    assert [t["targets"] for t in targets["dcgm"]] == [["10.89.50.21:9400"]]
    assert targets["efa"] == []


def test_devices_from_overrides_then_instance_types():
    groups = {"slurm_compute": ["a", "b", "c", "d", "e"]}
    hostvars = {"a": {"hyperpod_instance_type": "ml.p5.48xlarge"},
                "b": {"hyperpod_instance_type": "ml.p5.48xlarge", "observability_gpu": "absent"},
                "c": {"hyperpod_instance_type": "ml.c5.large", "observability_gpu": "present"},
                "d": {"hyperpod_instance_type": "xml.p5.48xlarge"},  # patterns match at the start
                "e": {"observability_efa": "present"}}
    CountingHostvars.lookups = 0
    targets = filters.prometheus_targets(groups, CountingHostvars(hostvars), PORTS, [r"ml\.p5\."], [r"ml\.p5\."])
    assert CountingHostvars.lookups == len(hostvars)
    assert [t["labels"]["node"] for t in targets["dcgm"]] == ["a", "c"]
    assert [t["labels"]["node"] for t in targets["efa"]] == ["a", "b", "e"]
    assert [t["labels"]["partition"] for t in targets["node"]] == [""] * 5


# ---- rendered by Ansible from the hyperpod plugin's inventory -------------------------------------

def render_cluster_model(folder, inventory, repo_collections, ansible_bin=Path(sys.executable).parent):
    """slurm.conf and node-targets.json of the inventory (a file in folder) into folder, by
    render/cluster_model.yml with the roles' real templates."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(repo_collections),
               ANSIBLE_NOCOLOR="1")
    done = subprocess.run([str(ansible_bin / "ansible-playbook"), "-i", inventory,
                           str(REPO / "tests" / "unit" / "render" / "cluster_model.yml"), "-e", f"out={folder}"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_gpu_a_in_slurm_conf_and_prometheus_labels(tmp_path, repo_collections):
    """A partition named gpu-a: the plugin's group is partition_gpu_a; slurm.conf and the targets say gpu-a."""
    pp = json.loads((EXAMPLES / "provisioning_parameters.json").read_text())
    pp["worker_groups"][0]["partition_name"] = "gpu-a"
    (tmp_path / "provisioning_parameters.json").write_text(json.dumps(pp))
    (tmp_path / "cluster.hyperpod.yml").write_text(
        f"plugin: hyperpod\nresource_config: {EXAMPLES / 'resource_config.json'}\n"
        "provisioning_parameters: provisioning_parameters.json\n")
    render_cluster_model(tmp_path, "cluster.hyperpod.yml", repo_collections)
    lines = (tmp_path / "slurm.conf").read_text().splitlines()
    assert "PartitionName=gpu-a Nodes=ip-10-89-50-21 MaxTime=INFINITE State=UP" in lines
    assert "PartitionName=dev Nodes=ip-10-89-50-[21-22] Default=YES MaxTime=INFINITE State=UP" in lines
    assert not [line for line in lines if "gpu_a" in line]
    labels = {t["labels"]["node"]: t["labels"] for t in json.loads((tmp_path / "node-targets.json").read_text())}
    assert labels["ip-10-89-50-21"] == {"node": "ip-10-89-50-21", "node_type": "compute", "partition": "gpu-a",
                                        "instance_group": "compute-gpu"}
    assert labels["ip-10-89-50-11"]["partition"] == "" and labels["ip-10-89-50-12"]["node_type"] == "login"


STATIC_INVENTORY = """\
all:
  vars: {node_suffix: -ib}
  children:
    slurm_controller: {hosts: {head1: {}}}
    slurm_login: {hosts: {login1: {}}}
    slurm_compute:
      hosts:
        gpu1: {slurm_nodename: "{{ inventory_hostname }}{{ node_suffix }}", ansible_host: "{{ '10.0.0.' ~ 5 }}"}
        gpu2: {slurm_nodename: plain-gpu2, ansible_host: 10.0.0.6}
    partition_gpu: {hosts: {gpu1: {}, gpu2: {}}}
"""


def test_a_static_inventorys_templates_rendered_the_rest_read_as_it_is(tmp_path, repo_collections, ansible_bin):
    """The filters read a host's variables without Ansible's template run where a value holds no
    template (plugin_utils/cluster.py HostVariables); a value that holds one still comes rendered."""
    (tmp_path / "inventory.yml").write_text(STATIC_INVENTORY)
    render_cluster_model(tmp_path, "inventory.yml", repo_collections, ansible_bin)
    conf = (tmp_path / "slurm.conf").read_text()
    assert "PartitionName=gpu Nodes=gpu1-ib,plain-gpu2 MaxTime=INFINITE State=UP" in conf.splitlines()
    assert "{{" not in conf
    targets = {t["labels"]["node"]: t["targets"] for t in json.loads((tmp_path / "node-targets.json").read_text())}
    assert targets == {"head1": ["head1:9100"], "login1": ["login1:9100"], "gpu1-ib": ["10.0.0.5:9100"],
                       "plain-gpu2": ["10.0.0.6:9100"]}


class RawHostvars(dict):
    """Ansible's hostvars in small: raw_get gives a host's variables as written, [] renders them
    (here: a template's text becomes "rendered"), and counts the renders."""

    renders = 0

    def raw_get(self, host):
        return super().__getitem__(host)

    def __getitem__(self, host):
        RawHostvars.renders += 1
        return {k: "rendered" if isinstance(v, str) and "{{" in v else v for k, v in super().__getitem__(host).items()}


def test_only_a_value_that_may_hold_a_template_is_rendered(hp):
    groups = {"slurm_controller": ["head1"], "slurm_compute": ["c1", "c2"], "partition_p": ["c1", "c2"]}
    hostvars = RawHostvars(head1={}, c1={"slurm_nodename": "{{ x }}"}, c2={"slurm_nodename": "plain", "ansible_host": 7})
    RawHostvars.renders = 0
    nodes = {n["name"]: n for n in hp.inventory_nodes(groups, hostvars)}
    assert RawHostvars.renders == 1
    assert (nodes["c1"]["slurm_nodename"], nodes["c2"]["slurm_nodename"], nodes["c2"]["address"]) == ("rendered", "plain", 7)
    assert nodes["c1"]["partitions"] == ["p"] and nodes["head1"]["partitions"] == []


def test_a_host_of_the_hyperpod_plugin_is_in_no_partition_without_its_variable(hp):
    """Its partition is hyperpod_partition; the groups partition_<name> are not read for it."""
    groups = {"slurm_controller": ["head1"], "slurm_compute": ["c1"], "partition_p": ["head1", "c1"]}
    hostvars = {"head1": {"hyperpod_node_type": "controller"}, "c1": {"hyperpod_node_type": "compute",
                                                                      "hyperpod_partition": "gpu-a"}}
    assert [n["partitions"] for n in hp.inventory_nodes(groups, hostvars)] == [[], ["gpu-a"]]


# ---- slurm.conf's nodes and partitions (filter slurm_conf_nodes) -----------------------------------

def facts_of(cpus, mem):
    return {"ansible_facts": {"processor_vcpus": cpus, "memtotal_mb": mem}}


def test_slurm_conf_nodes_groups_hardware_and_names_the_default_partition():
    groups = {"slurm_controller": ["h"], "slurm_login": ["l"], "slurm_compute": ["c1", "c2", "g1"],
              "partition_cpu": ["c1", "c2"], "partition_gpu": ["g1"]}
    hostvars = CountingHostvars(h={}, l=facts_of(4, 1000), c1=facts_of(8, 1000), c2=facts_of("8", "1000"),
                                g1=facts_of(8, 2000))
    CountingHostvars.lookups = 0
    slurm = filters.slurm_conf_nodes(groups, hostvars, 0.5)
    assert slurm["nodes"] == [{"NodeName": "c[1-2]", "CPUs": 8, "RealMemory": 500},
                              {"NodeName": "g1", "CPUs": 8, "RealMemory": 1000},
                              {"NodeName": "l", "CPUs": 4, "RealMemory": 500}]
    assert slurm["partitions"] == [{"name": "cpu", "nodes": "c[1-2]", "default": True},
                                   {"name": "gpu", "nodes": "g1", "default": False}]
    assert CountingHostvars.lookups == len(hostvars)  # one look at each node
    with_dev = filters.slurm_conf_nodes(groups, hostvars, 0.5, "dev")["partitions"]
    assert [(p["name"], p["nodes"], p["default"]) for p in with_dev] == [
        ("dev", "c[1-2],g1", True), ("cpu", "c[1-2]", False), ("gpu", "g1", False)]


def test_slurm_conf_nodes_names_every_node_whose_facts_are_unknown():
    groups = {"slurm_controller": ["h"], "slurm_login": ["l"], "slurm_compute": ["c1", "c2"]}
    with pytest.raises(ValueError, match=r"the facts of l, c2 are unknown"):
        filters.slurm_conf_nodes(groups, {"h": {}, "l": {}, "c1": facts_of(2, 100), "c2": {"ansible_facts": {}}}, 1)
