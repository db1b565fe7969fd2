"""Nothing from the input files is ever evaluated as a template, on ansible-core 2.17 (HyperPod's
Python 3.10) and on the newest core this host runs.

A real ansible-playbook reads every variable the roles read from the inventory, from an inventory
whose every value (host names aside: see hostile_cluster) would create a file if Ansible evaluated it: the hyperpod plugin's populate()
fed a cluster model that skipped the model's checks (fixtures/unsafe/), so that the marking is
shown on its own, whatever a check misses. The play's own template creates one file (the
control); the inventory's must create none, and must be printed and written literally.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import yaml
from conftest import FIXTURES, REPO

UNSAFE = FIXTURES / "unsafe"
# Variables the roles read that the inventory sets: hyperpod_*, the host's Slurm node name.
INVENTORY_VARIABLE_RE = re.compile(r"\b(hyperpod_[a-z_]*[a-z]|slurm_nodename)\b")
# Of those, names that are not variables of the plugin (a role's own variable that merely starts so).
NOT_INVENTORY = {"hyperpod_prefix"}


def payload(markers, field):
    """A template that would create markers/<field>; no spaces, so it fits a host name too."""
    return f"{{{{lookup('pipe','touch${{IFS}}{markers}/{field}')}}}}"


def hostile_cluster(markers):
    """The cluster model's fields (plugin_utils/cluster.py Cluster and Host), each a payload."""
    p = lambda field: payload(markers, field)  # noqa: E731

    # Host names stay plain (Ansible uses them as names): the model refuses anything but letters,
    # digits and '-' in them (tests/corpus/bad_input/rc-instance-name-template).
    def host(kind, node_type, partition):
        return {"name": f"{kind}-1", "instance_id": p(f"{kind}_instance_id"),
                "instance_type": p(f"{kind}_instance_type"), "group": p(f"{kind}_instance_group"),
                "customer_ip": p(f"{kind}_customer_ip"), "agent_ip": p(f"{kind}_agent_ip"), "node_type": node_type,
                "partition": partition, "slurm_nodename": p(f"{kind}_slurm_nodename")}

    return {
        "cluster": {
            "name": p("cluster_name"), "arn": p("cluster_arn"), "mode": "legacy", "resource_config_path": "-",
            "partitions": {p("partition"): [p("compute_instance_group")]},
            "controller_ips": [p("controller_ip")], "login_ips": [p("login_ip")],
            "fsx_dns_name": p("fsx_dns_name"), "fsx_mountname": p("fsx_mountname"),
            "fsx_openzfs_dns_name": p("fsx_openzfs_dns_name"),
            "slurm_configurations": {key: p(key) for key in ("slurm_database_endpoint", "slurm_database_secret_arn",
                                                             "slurm_database_user", "slurm_shared_directory",
                                                             "slurm_sns_arn")},
            "shared_users": [{"name": p("user_name"), "uid": 2001, "home": p("user_home")}],
        },
        "hosts": [host("controller", "controller", None), host("compute", "compute", p("partition"))],
    }


def inventory_variables():
    """Every hyperpod_* variable and slurm_nodename that a role or the group_vars reads."""
    found = set()
    for path in list((REPO / "roles").rglob("*")) + [REPO / "group_vars" / "all.yml"]:
        if path.is_file() and path.suffix in (".yml", ".yaml", ".j2", ".py"):
            found.update(INVENTORY_VARIABLE_RE.findall(path.read_text(encoding="utf-8")))
    return sorted(found - NOT_INVENTORY)


def settings_files():
    return sorted(str(p) for p in (REPO / "roles").glob("*/defaults/main.yml")) + [str(REPO / "group_vars" / "all.yml")]


def derived_settings(names):
    """The settings of the roles' defaults and group_vars whose value is built from the inventory's
    variables, directly or through another such setting."""
    values = {}
    for path in settings_files():
        values.update(yaml.safe_load(Path(path).read_text()) or {})
    derived, grown = set(), True
    while grown:
        grown = False
        for key, value in values.items():
            text = json.dumps(value)
            if key not in derived and any(re.search(rf"\b{re.escape(n)}\b", text) for n in set(names) | derived):
                derived.add(key)
                grown = True
    return sorted(derived)


def plugin_variables(hp):
    """Every variable the hyperpod plugin sets: group all's and a host's."""
    cluster = hp.load_cluster(REPO / "examples" / "resource_config.json",
                              REPO / "examples" / "provisioning_parameters.json")
    return sorted(set(cluster.group_vars()) | set(cluster.host_vars(next(iter(cluster.hosts)))))


def test_the_play_reads_every_variable_the_roles_read(hp):
    names = inventory_variables()
    assert set(names) <= set(plugin_variables(hp)), "a role reads an inventory variable the plugin does not set"
    assert {"hyperpod_cluster_name", "hyperpod_controller_ips", "hyperpod_shared_users", "hyperpod_fsx_dns_name",
            "hyperpod_slurm_configurations", "slurm_nodename"} <= set(names)
    assert {"accounting_db_user", "fsx_lustre_dns_name", "slurm_common_cluster_name"} <= set(derived_settings(names))


def test_no_inventory_value_is_evaluated(ansible_bin, hp, repo_collections, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    cluster = hostile_cluster(markers)
    (tmp_path / "cluster.hostile.json").write_text(json.dumps(cluster))
    extra = {"markers": str(markers), "rendered": str(tmp_path / "rendered"),
             "inventory_variables": plugin_variables(hp), "derived_settings": derived_settings(inventory_variables()),
             "settings_files": settings_files()}
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json",  # YAML folds long strings: not literal
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(repo_collections), str(REPO / ".collections")]),
               ANSIBLE_INVENTORY_PLUGINS=str(UNSAFE / "inventory_plugins"),
               ANSIBLE_INVENTORY_ENABLED="hostile_cluster", ANSIBLE_LOCALHOST_WARNING="0",
               PATH=f"{ansible_bin}:{os.environ['PATH']}")
    done = subprocess.run([str(ansible_bin / "ansible-playbook"), "-i", str(tmp_path / "cluster.hostile.json"),
                           str(UNSAFE / "play.yml"), "-e", json.dumps(extra)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert sorted(os.listdir(markers)) == ["control"], output[-3000:]  # the control ran; nothing else did

    fields = re.findall(r"/markers/(\w+)'\)", json.dumps(cluster))
    rendered = "".join(p.read_text() for p in tmp_path.glob("rendered-*"))
    for field in set(fields):
        text = payload(markers, field)
        assert text in output, f"{field} was not printed literally"
        assert text in rendered, f"{field} was not written literally"
