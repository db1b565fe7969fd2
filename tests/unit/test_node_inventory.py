"""A node's own inventory (the hyperpod plugin's option node, which bootstrap.py gives each run): the
hosts its run reads, a size that does not grow with the cluster, and the same values read by the
roles as with the whole cluster's inventory."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from lifecycle import inventory

ROLES_READ = REPO / "tests" / "unit" / "fixtures" / "node_inventory" / "read.yml"


def cluster_files(write, computes):
    """resource_config.json and provisioning_parameters.json of a cluster with one controller, one
    login node and `computes` compute nodes in two partitions."""
    def instances(group, first, count):
        return [{"InstanceName": f"{group}-{n + 1}", "InstanceId": f"i-{first + n:017x}",
                 "CustomerIpAddress": f"10.1.{(first + n) // 256}.{(first + n) % 256}",
                 "AgentIpAddress": f"172.16.{(first + n) // 256}.{(first + n) % 256}"} for n in range(count)]
    half = computes // 2
    groups = [("controller-machine", 10, 1), ("login-group", 11, 1), ("compute-gpu", 12, half),
              ("compute-cpu", 12 + half, computes - half)]
    rc = {"ClusterConfig": {"ClusterName": "c", "ClusterArn": "arn:aws:sagemaker:us-west-2:111122223333:cluster/c"},
          "InstanceGroups": [{"Name": name, "InstanceType": "ml.c5.xlarge", "Instances": instances(name, first, count)}
                             for name, first, count in groups]}
    pp = {"version": "1.0.0", "workload_manager": "slurm", "controller_group": "controller-machine",
          "login_group": "login-group", "worker_groups": [{"instance_group_name": "compute-gpu", "partition_name": "gpu"},
                                                          {"instance_group_name": "compute-cpu", "partition_name": "cpu"}]}
    return write("resource_config.json", rc), write("provisioning_parameters.json", pp)


def node_inventory(cluster, node):
    """What the plugin gives a node's run: group variables, its hosts' variables, the groups."""
    hosts = cluster.run_hosts(node)
    return {"all": cluster.group_vars(), "hosts": {h: cluster.host_vars(h) for h in hosts},
            "groups": cluster.groups(hosts)}


# ---- the model ------------------------------------------------------------------------------------

def test_a_compute_or_login_nodes_run_holds_itself_and_the_controllers(hp, write):
    cluster = hp.load_cluster(*cluster_files(write, 4))
    assert cluster.run_hosts("compute-cpu-2") == ["controller-machine-1", "compute-cpu-2"]
    assert cluster.run_hosts("login-group-1") == ["controller-machine-1", "login-group-1"]
    assert cluster.run_hosts("controller-machine-1") == list(cluster.hosts)


def test_every_group_stays_with_only_the_runs_hosts_as_members(hp, write):
    cluster = hp.load_cluster(*cluster_files(write, 4))
    assert cluster.groups(cluster.run_hosts("compute-gpu-1")) == {
        "slurm_controller": ["controller-machine-1"], "slurm_login": [], "slurm_compute": ["compute-gpu-1"],
        "partition_gpu": ["compute-gpu-1"], "partition_cpu": [],
        "instance_group_controller_machine": ["controller-machine-1"], "instance_group_login_group": [],
        "instance_group_compute_gpu": ["compute-gpu-1"], "instance_group_compute_cpu": []}
    assert cluster.groups(list(cluster.hosts)) == cluster.groups()


def test_a_compute_nodes_inventory_does_not_grow_with_the_cluster(hp, write, tmp_path):
    small = node_inventory(hp.load_cluster(*cluster_files(write, 8)), "compute-gpu-1")
    large = node_inventory(hp.load_cluster(*cluster_files(write, 5000)), "compute-gpu-1")
    assert len(json.dumps(large)) == len(json.dumps(small))
    assert list(large["hosts"]) == ["controller-machine-1", "compute-gpu-1"]


# ---- through Ansible ------------------------------------------------------------------------------

def run(config, collections, *args):
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=str(collections))
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(config), *args,
                           "-e", "ansible_connection=local", "-e", "ansible_python_interpreter=" + sys.executable],
                          env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def configs(tmp_path_factory):
    """node -> (its own inventory's config, the whole cluster's), written as bootstrap.py writes them."""
    tmp = tmp_path_factory.mktemp("node-inventory")

    def write(name, data):
        (tmp / name).write_text(json.dumps(data))
        return str(tmp / name)
    rc, pp = cluster_files(write, 6)
    out = {}
    for node in ("controller-machine-1", "login-group-1", "compute-cpu-2"):
        (tmp / node).mkdir()
        (tmp / node / "whole").mkdir()
        out[node] = (inventory.write_config(tmp / node, REPO, rc, pp, node=node),
                     inventory.write_config(tmp / node / "whole", REPO, rc, pp))
    return out


@pytest.mark.parametrize("node", ["controller-machine-1", "login-group-1", "compute-cpu-2"])
def test_the_roles_read_the_same_of_a_nodes_inventory_as_of_the_whole(configs, node, tmp_path, repo_collections):
    read = {}
    for name, config in zip(("own", "whole"), configs[node]):
        done = run(config, repo_collections, str(ROLES_READ), "--limit", node, "-e", f"out={tmp_path / name}.json")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        read[name] = json.loads((tmp_path / f"{name}.json").read_text())
    assert read["own"] == read["whole"]
    assert read["own"]["controller_hosts"] == ["controller-machine-1"]
    assert read["own"]["controller_index"] == (0 if node.startswith("controller") else -1)
    assert len(read["own"]["cluster"]) == (8 if node.startswith("controller") else 0)


def test_a_node_the_cluster_lacks_is_an_error_naming_the_config(configs, tmp_path):
    config = Path(configs["compute-cpu-2"][0])
    config.write_text(config.read_text().replace("node: \"compute-cpu-2\"", "node: \"compute-cpu-99\""))
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(config), "--list"],
                          env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
                                   ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="true"),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "no instance is named 'compute-cpu-99'" in " ".join(done.stderr.split())


STANDALONE_INVENTORY = """
all:
  hosts:
    ctl-a: {}
    ctl-b: {}
    node-1: {}
  children:
    slurm_controller: {hosts: {ctl-a: {}, ctl-b: {}}}
    slurm_compute: {hosts: {node-1: {}}}
"""


@pytest.mark.parametrize("addresses", [None, ["10.0.0.7", "10.0.0.8"]])
def test_a_standalone_controllers_place_follows_the_group_with_names_or_addresses(tmp_path, repo_collections,
                                                                                  addresses):
    """Standalone: the first host of slurm_controller is the primary, whether the controllers are addressed
    by their inventory names or by IPs (a name that leaves DNS while its host is down breaks Slurm)."""
    (tmp_path / "hosts.yml").write_text(STANDALONE_INVENTORY)
    extra = ["-e", json.dumps({"slurm_common_controller_addresses": addresses})] if addresses else []
    indexes = {}
    for host in ("ctl-a", "ctl-b", "node-1"):
        out = tmp_path / ("%s.json" % host)
        done = run(tmp_path / "hosts.yml", repo_collections, str(ROLES_READ), "--limit", host,
                   "-e", "out=%s" % out, *extra)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        indexes[host] = json.loads(out.read_text())["controller_index"]
    assert indexes == {"ctl-a": 0, "ctl-b": 1, "node-1": -1}
