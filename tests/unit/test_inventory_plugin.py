"""The hyperpod inventory plugin's pure logic: load_cluster, the inventory it yields, find_self."""

import pytest

GROUPS = "controller-machine, login-group, compute-gpu, compute-cpu"


def group(rc, name):
    return next(g for g in rc["InstanceGroups"] if g["Name"] == name)


@pytest.fixture
def load(hp, write):
    """load(rc, pp=None, roles=None) -> Cluster, from files named as on a node."""
    def _load(rc, pp=None, roles=None):
        return hp.load_cluster(write("resource_config.json", rc),
                               write("provisioning_parameters.json", pp) if pp is not None else None,
                               write("node_roles.json", roles) if roles is not None else None)
    return _load


@pytest.fixture
def error(hp, load, tmp_path):
    """error(rc, pp=None, roles=None) -> the ConfigError's line, with paths shortened to {rc} etc."""
    def _error(*args, **kwargs):
        with pytest.raises(hp.ConfigError) as caught:
            load(*args, **kwargs)
        line = str(caught.value)
        assert "\n" not in line
        for name, key in (("resource_config.json", "{rc}"), ("provisioning_parameters.json", "{pp}"),
                          ("node_roles.json", "{roles}")):
            line = line.replace(str(tmp_path / name), key)
        return line
    return _error


# ---- the example, legacy mode -------------------------------------------------------------------

def test_example_groups(load, rc, pp):
    cluster = load(rc, pp)
    assert cluster.mode == "legacy"
    assert cluster.groups() == {
        "slurm_controller": ["controller-machine-1"],
        "slurm_login": ["login-group-1"],
        "slurm_compute": ["compute-gpu-1", "compute-cpu-1"],
        "partition_gpu": ["compute-gpu-1"],
        "partition_cpu": ["compute-cpu-1"],
        "instance_group_controller_machine": ["controller-machine-1"],
        "instance_group_login_group": ["login-group-1"],
        "instance_group_compute_gpu": ["compute-gpu-1"],
        "instance_group_compute_cpu": ["compute-cpu-1"],
    }


def test_example_hostvars(load, rc, pp):
    cluster = load(rc, pp)
    assert list(cluster.hosts) == ["controller-machine-1", "login-group-1", "compute-gpu-1", "compute-cpu-1"]
    assert cluster.host_vars("compute-gpu-1") == {
        "ansible_host": "10.89.50.21",
        "hyperpod_instance_id": "i-0a1b2c3d4e5f60021",
        "hyperpod_instance_type": "ml.g5.xlarge",
        "hyperpod_instance_group": "compute-gpu",
        "hyperpod_customer_ip": "10.89.50.21",
        "hyperpod_agent_ip": "172.16.50.21",
        "hyperpod_node_type": "compute",
        "hyperpod_partition": "gpu",
        "slurm_nodename": "ip-10-89-50-21",
    }
    controller = cluster.host_vars("controller-machine-1")
    assert controller["hyperpod_node_type"] == "controller"
    assert "hyperpod_partition" not in controller
    assert cluster.host_vars("login-group-1")["hyperpod_node_type"] == "login"


def test_example_group_vars(load, rc, pp):
    assert load(rc, pp).group_vars() == {
        "hyperpod_cluster_name": "hpb-demo",
        "hyperpod_cluster_arn": "arn:aws:sagemaker:us-west-2:111122223333:cluster/hpbdemo0001",
        "hyperpod_config_mode": "legacy",
        "hyperpod_controller_ips": ["10.89.50.11"],
        "hyperpod_login_ips": ["10.89.50.12"],
        "hyperpod_partitions": {"gpu": ["compute-gpu"], "cpu": ["compute-cpu"]},
        "hyperpod_fsx_dns_name": "",
        "hyperpod_fsx_mountname": "",
        "hyperpod_fsx_openzfs_dns_name": "",
        "hyperpod_slurm_configurations": {},
        "hyperpod_shared_users": [],
    }


def test_legacy_storage_and_multi_head_settings_pass_through(load, rc, pp):
    slurm = {"slurm_database_endpoint": "db.example", "slurm_shared_directory": "/fsx",
             "slurm_database_secret_arn": "arn:aws:secretsmanager:us-west-2:111122223333:secret:db-AbCdEf"}
    pp.update(fsx_dns_name="fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com", fsx_mountname="abcdefgh",
              fsx_openzfs_dns_name="fs-0fedcba987654321.fsx.us-west-2.amazonaws.com", slurm_configurations=slurm)
    gv = load(rc, pp).group_vars()
    assert gv["hyperpod_fsx_dns_name"] == "fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com"
    assert gv["hyperpod_fsx_mountname"] == "abcdefgh"
    assert gv["hyperpod_fsx_openzfs_dns_name"] == "fs-0fedcba987654321.fsx.us-west-2.amazonaws.com"
    assert gv["hyperpod_slurm_configurations"] == slurm


def test_instances_null_or_missing_is_an_empty_group(load, rc, pp):
    group(rc, "compute-cpu")["Instances"] = None
    del group(rc, "login-group")["Instances"]
    cluster = load(rc, pp)
    assert list(cluster.hosts) == ["controller-machine-1", "compute-gpu-1"]
    assert cluster.groups()["slurm_login"] == []
    assert cluster.groups()["instance_group_compute_cpu"] == []
    assert cluster.groups()["partition_cpu"] == []
    assert cluster.group_vars()["hyperpod_partitions"] == {"gpu": ["compute-gpu"], "cpu": ["compute-cpu"]}
    assert cluster.group_vars()["hyperpod_login_ips"] == []


def test_unknown_keys_are_tolerated(load, rc, pp):
    rc["SomethingNew"] = {"x": 1}
    rc["ClusterConfig"].update(ClusterType="Slurm", SlurmConfig={"PrimaryControllerIp": "10.89.50.11"})
    group(rc, "compute-gpu").update(ThreadsPerCore=2, ExecutionRole="arn:aws:iam::1:role/x")
    group(rc, "compute-gpu")["Instances"][0]["InstanceLabel"] = {"network-node-layer-1": "nn-1"}
    pp.update(ssh_public_key="ssh-ed25519 AAAA", future_option=[1, 2])
    pp["worker_groups"][0]["extra"] = True
    assert load(rc, pp).host_vars("compute-gpu-1")["hyperpod_partition"] == "gpu"


def test_empty_login_group_means_none(load, rc, pp):
    pp["login_group"] = ""
    pp["worker_groups"].append({"instance_group_name": "login-group", "partition_name": "cpu"})
    cluster = load(rc, pp)
    assert cluster.groups()["slurm_login"] == []
    assert cluster.groups()["partition_cpu"] == ["login-group-1", "compute-cpu-1"]
    assert cluster.group_vars()["hyperpod_partitions"]["cpu"] == ["compute-cpu", "login-group"]
    assert cluster.host_vars("login-group-1")["slurm_nodename"] == "ip-10-89-50-12"


def test_groups_sharing_a_partition(load, rc, pp):
    pp["worker_groups"][1]["partition_name"] = "gpu"
    cluster = load(rc, pp)
    assert cluster.group_vars()["hyperpod_partitions"] == {"gpu": ["compute-gpu", "compute-cpu"]}
    assert cluster.groups()["partition_gpu"] == ["compute-gpu-1", "compute-cpu-1"]


def test_group_names_are_sanitized(load, rc, pp):
    pp["worker_groups"][0]["partition_name"] = "ml.p5.48xlarge"
    groups = load(rc, pp).groups()
    assert groups["partition_ml_p5_48xlarge"] == ["compute-gpu-1"]
    assert "instance_group_compute_gpu" in groups


MULTI_HEAD = {"slurm_database_endpoint": "db.example", "slurm_shared_directory": "/fsx",
              "slurm_database_secret_arn": "arn:aws:secretsmanager:us-west-2:111122223333:secret:db-AbCdEf"}


def _two_controllers(rc):
    group(rc, "controller-machine")["Instances"].append(
        {"InstanceName": "controller-machine-2", "CustomerIpAddress": "10.89.50.13", "AgentIpAddress": "10.89.50.13",
         "InstanceId": "i-0a1b2c3d4e5f60013"})


# The endpoint without the secret (or the reverse) is refused earlier, by slurm_configurations' own check.
@pytest.mark.parametrize("missing", ["slurm_database_endpoint", "slurm_shared_directory"])
def test_multi_head_needs_the_database_and_the_shared_directory(load, error, rc, pp, missing):
    _two_controllers(rc)
    pp["slurm_configurations"] = {k: v for k, v in MULTI_HEAD.items()
                                  if k != missing and not (missing == "slurm_database_endpoint"
                                                           and k == "slurm_database_secret_arn")}
    assert error(rc, pp).startswith(f"{{pp}}: slurm_configurations.{missing}: missing, and the controller group "
                                    "has 2 instances (controller-machine-1, controller-machine-2); set it to ")
    pp["slurm_configurations"] = MULTI_HEAD
    assert load(rc, pp).controller_ips == ["10.89.50.11", "10.89.50.13"]


def test_one_controller_needs_no_multi_head_settings(load, rc, pp):
    assert load(rc, pp).slurm_configurations == {}


def test_controller_ips_put_the_first_slot_first(load, rc, pp):
    def inst(n, ip):
        return {"InstanceName": f"controller-machine-{n}", "CustomerIpAddress": ip, "AgentIpAddress": ip,
                "InstanceId": f"i-{n:017x}"}  # an EC2-shaped id: the model checks it
    group(rc, "controller-machine")["Instances"] = [inst(3, "10.89.50.3"), inst(10, "10.89.50.10"),
                                                    inst(1, "10.89.50.1"), inst(2, "10.89.50.2")]
    pp["slurm_configurations"] = MULTI_HEAD
    assert load(rc, pp).controller_ips == ["10.89.50.1", "10.89.50.2", "10.89.50.3", "10.89.50.10"]


# ---- API-driven mode ----------------------------------------------------------------------------

def test_api_mode_from_slurm_config(load, api_rc):
    cluster = load(api_rc)
    assert cluster.mode == "api"
    assert cluster.host_vars("compute-gpu-1")["slurm_nodename"] == "compute-gpu-1"
    assert cluster.host_vars("compute-gpu-1")["hyperpod_partition"] == "gpu"
    assert cluster.groups()["slurm_login"] == ["login-group-1"]
    gv = cluster.group_vars()
    assert gv["hyperpod_config_mode"] == "api"
    assert gv["hyperpod_partitions"] == {"gpu": ["compute-gpu"], "cpu": ["compute-cpu"]}
    assert cluster.groups()["partition_gpu"] == ["compute-gpu-1"]
    assert gv["hyperpod_fsx_dns_name"] == "" and gv["hyperpod_slurm_configurations"] == {}


def test_api_mode_from_node_roles(load, rc, pp):
    roles = {k: pp[k] for k in ("controller_group", "login_group", "worker_groups")}
    cluster = load(rc, roles=roles)
    assert cluster.mode == "api"
    assert cluster.groups()["slurm_compute"] == ["compute-gpu-1", "compute-cpu-1"]
    assert cluster.host_vars("controller-machine-1")["slurm_nodename"] == "controller-machine-1"
    assert cluster.group_vars()["hyperpod_partitions"] == {"gpu": ["compute-gpu"], "cpu": ["compute-cpu"]}


def test_api_mode_ignores_slurm_config_of_empty_groups_only_when_complete(load, api_rc, pp):
    # An empty group without SlurmConfig does not force the role file; its partition still shows.
    api_rc["InstanceGroups"].append({"Name": "spare", "InstanceType": "ml.c5.xlarge", "Instances": None})
    group(api_rc, "compute-cpu")["Instances"] = []
    cluster = load(api_rc)
    assert cluster.groups()["partition_cpu"] == []
    assert cluster.group_vars()["hyperpod_partitions"] == {"gpu": ["compute-gpu"], "cpu": ["compute-cpu"]}


# ---- find_self ----------------------------------------------------------------------------------

def test_find_self(load, hp, rc, pp):
    assert hp.find_self(load(rc, pp), ["127.0.0.1", "172.17.0.1", "10.89.50.22"]) == "compute-cpu-1"


def test_find_self_not_found(load, hp, rc, pp, tmp_path):
    with pytest.raises(hp.ConfigError) as caught:
        hp.find_self(load(rc, pp), ["192.0.2.7", "127.0.0.1"])
    assert str(caught.value) == (
        f"{tmp_path / 'resource_config.json'}: InstanceGroups[].Instances[].CustomerIpAddress: none of this node's "
        "addresses (192.0.2.7, 127.0.0.1) belongs to an instance; pass --node NAME with this node's InstanceName "
        "(e.g. --node controller-machine-1)")


# ---- every validation error, word for word ------------------------------------------------------

def test_unreadable_file(hp, tmp_path):
    with pytest.raises(hp.ConfigError) as caught:
        hp.load_cluster(tmp_path / "resource_config.json")
    assert str(caught.value) == (f"{tmp_path / 'resource_config.json'}: cannot read the file (No such file or "
                                 "directory); check the path and permissions")


def test_malformed_json(error, pp):
    assert error('{\n  "ClusterConfig": {,}\n}\n', pp) == (
        "{rc}: invalid JSON at line 2 column 21: Expecting property name enclosed in double quotes; "
        "fix the syntax there")


def test_malformed_json_in_provisioning_parameters(error, rc):
    assert error(rc, '{"version": "1.0.0"') == (
        "{pp}: invalid JSON at line 1 column 20: Expecting ',' delimiter (the file ends there: is it cut short?); "
        "fix the syntax there")


def test_top_level_not_an_object(error, pp):
    assert error("[]", pp) == ("{rc}: the top level is a JSON array, not an object; "
                               "the file must hold one JSON object {...}")


def set_path(data, dotted, value):
    keys = dotted.split(".")
    for key in keys[:-1]:
        data = data[int(key)] if isinstance(data, list) else data[key]
    if value is DELETE:
        del data[keys[-1]]
    elif isinstance(data, list):
        data[int(keys[-1])] = value
    else:
        data[keys[-1]] = value


DELETE = object()

# (resource_config change, provisioning_parameters change, expected line)
LEGACY_ERRORS = [
    ("ClusterConfig", DELETE, None, None,
     "{rc}: ClusterConfig: missing; it must be an object with ClusterName and ClusterArn"),
    ("ClusterConfig", "hpb-demo", None, None,
     "{rc}: ClusterConfig: is a JSON string; it must be an object with ClusterName and ClusterArn"),
    ("ClusterConfig.ClusterName", DELETE, None, None,
     "{rc}: ClusterConfig.ClusterName: missing; it must be the cluster name (a string)"),
    ("InstanceGroups", DELETE, None, None,
     "{rc}: InstanceGroups: missing; it must be an array of instance groups"),
    ("InstanceGroups", {}, None, None,
     "{rc}: InstanceGroups: is a JSON object; it must be an array of instance groups"),
    ("InstanceGroups.1", "login-group", None, None,
     "{rc}: InstanceGroups[1]: is a JSON string; it must be an object with Name, InstanceType and Instances"),
    ("InstanceGroups.1.Name", "controller-machine", None, None,
     ("{rc}: InstanceGroups[1].Name: instance group 'controller-machine' appears twice; "
      "each instance group must appear once")),
    ("InstanceGroups.2.Instances", {"InstanceName": "x"}, None, None,
     "{rc}: InstanceGroups[2].Instances: is a JSON object; it must be an array of instances"),
    ("InstanceGroups.2.Instances.0.InstanceName", 7, None, None,
     "{rc}: InstanceGroups[2].Instances[0].InstanceName: is a JSON number; it must be the instance name (a string)"),
    ("InstanceGroups.2.Instances.0.CustomerIpAddress", "10.89.50.300", None, None,
     ("{rc}: InstanceGroups[2].Instances[0].CustomerIpAddress: '10.89.50.300' is not an IPv4 address; "
      "HyperPod writes dotted IPv4 addresses like 10.1.2.3; fix or regenerate the file")),
    ("InstanceGroups.2.Instances.0.CustomerIpAddress", DELETE, None, None,
     ("{rc}: InstanceGroups[2].Instances[0].CustomerIpAddress: missing; "
      "HyperPod writes dotted IPv4 addresses like 10.1.2.3; fix or regenerate the file")),
    ("InstanceGroups.3.Instances.0.AgentIpAddress", "fe80::1", None, None,
     ("{rc}: InstanceGroups[3].Instances[0].AgentIpAddress: 'fe80::1' is not an IPv4 address; "
      "HyperPod writes dotted IPv4 addresses like 10.1.2.3; fix or regenerate the file")),
    ("InstanceGroups.3.Instances.0.CustomerIpAddress", "10.89.50.21", None, None,
     ("{rc}: InstanceGroups[3].Instances[0].CustomerIpAddress: 10.89.50.21 is also "
      "InstanceGroups[2].Instances[0].CustomerIpAddress; customer IPs must be unique; regenerate the file")),
    ("InstanceGroups.3.Instances.0.InstanceName", "compute-gpu-1", None, None,
     ("{rc}: InstanceGroups[3].Instances[0].InstanceName: 'compute-gpu-1' is also InstanceGroups[2].Instances[0]"
      ".InstanceName; instance names must be unique; regenerate the file")),
    (None, None, "workload_manager", "kubernetes",
     "{pp}: workload_manager: 'kubernetes' is not supported; set \"workload_manager\": \"slurm\""),
    (None, None, "workload_manager", DELETE,
     "{pp}: workload_manager: missing; set \"workload_manager\": \"slurm\""),
    (None, None, "controller_group", DELETE,
     "{pp}: controller_group: missing; it must be an instance group name (a string)"),
    (None, None, "controller_group", "ctrl",
     (f"{{pp}}: controller_group: 'ctrl' is not an instance group in resource_config.json (groups: {GROUPS}); "
      "set it to one of them")),
    ("InstanceGroups.0.Instances", None, None, None,
     ("{pp}: controller_group: controller group 'controller-machine' has no instances in resource_config.json; "
      "give it InstanceCount >= 1 or name a group that has instances")),
    (None, None, "login_group", "logins",
     (f"{{pp}}: login_group: 'logins' is not an instance group in resource_config.json (groups: {GROUPS}); "
      "set it to one of them")),
    (None, None, "worker_groups.1.instance_group_name", "compute-arm",
     (f"{{pp}}: worker_groups[1].instance_group_name: 'compute-arm' is not an instance group in "
      f"resource_config.json (groups: {GROUPS}); set it to one of them")),
    (None, None, "worker_groups", DELETE,
     '{pp}: worker_groups: missing; it must be an array of {"instance_group_name": ..., "partition_name": ...}'),
    (None, None, "worker_groups.0", "compute-gpu",
     ('{pp}: worker_groups[0]: is a JSON string; it must be an object {"instance_group_name": ..., '
      '"partition_name": ...}')),
    (None, None, "worker_groups.1.instance_group_name", "login-group",
     ("{pp}: worker_groups[1].partition_name: group 'login-group' already has a role (login_group); "
      "give each instance group exactly one role")),
    (None, None, "worker_groups.1.instance_group_name", "controller-machine",
     ("{pp}: worker_groups[1].partition_name: group 'controller-machine' already has a role (controller_group); "
      "give each instance group exactly one role")),
    (None, None, "worker_groups.1.instance_group_name", "compute-gpu",
     ("{pp}: worker_groups[1].partition_name: group 'compute-gpu' already has a role "
      "(worker_groups[0].partition_name); give each instance group exactly one role")),
    (None, None, "login_group", "controller-machine",
     ("{pp}: login_group: group 'controller-machine' already has a role (controller_group); "
      "give each instance group exactly one role")),
    (None, None, "worker_groups.0.partition_name", DELETE,
     ("{pp}: worker_groups[0].partition_name: worker group 'compute-gpu' has no partition_name; "
      'add "partition_name": "<name>" to it')),
    (None, None, "worker_groups.0.partition_name", "gpu nodes",
     ("{pp}: worker_groups[0].partition_name: 'gpu nodes' is not a valid Slurm partition name; "
      "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")),
    (None, None, "worker_groups.0.partition_name", "-gpu",
     ("{pp}: worker_groups[0].partition_name: '-gpu' is not a valid Slurm partition name; "
      "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")),
    (None, None, "worker_groups.0.partition_name", "p" * 65,
     (f"{{pp}}: worker_groups[0].partition_name: '{'p' * 65}' is not a valid Slurm partition name; "
      "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")),
    (None, None, "worker_groups.0.partition_name", 5,
     ("{pp}: worker_groups[0].partition_name: 5 is not a valid Slurm partition name; "
      "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")),
    (None, None, "worker_groups.0.partition_name", "DEFAULT",
     "{pp}: worker_groups[0].partition_name: 'DEFAULT' is reserved by Slurm; choose another partition name"),
    (None, None, "worker_groups.1.partition_name", "default",
     "{pp}: worker_groups[1].partition_name: 'default' is reserved by Slurm; choose another partition name"),
    (None, None, "fsx_dns_name", "fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com",
     "{pp}: fsx_mountname: fsx_dns_name is set but fsx_mountname is not; set both or neither"),
    (None, None, "fsx_mountname", "abcdefgh",
     "{pp}: fsx_dns_name: fsx_mountname is set but fsx_dns_name is not; set both or neither"),
    (None, None, "slurm_configurations", ["x"],
     "{pp}: slurm_configurations: is a JSON array; it must be an object"),
]


@pytest.mark.parametrize("rc_key, rc_value, pp_key, pp_value, expected", LEGACY_ERRORS,
                         ids=[case[-1][:70] for case in LEGACY_ERRORS])
def test_legacy_validation_error(error, rc, pp, rc_key, rc_value, pp_key, pp_value, expected):
    if rc_key:
        set_path(rc, rc_key, rc_value)
    if pp_key:
        set_path(pp, pp_key, pp_value)
    assert error(rc, pp) == expected


def test_partitions_that_collide_as_group_names(error, rc, pp):
    pp["worker_groups"][0]["partition_name"] = "g-pu"
    pp["worker_groups"][1]["partition_name"] = "g.pu"
    assert error(rc, pp) == ("{pp}: worker_groups[1].partition_name: partitions 'g-pu' and 'g.pu' both become "
                             "Ansible group partition_g_pu; rename one of them")


def test_group_with_instances_but_no_role(error, rc, pp):
    del pp["worker_groups"][1]
    assert error(rc, pp) == (
        "{rc}: InstanceGroups[3].Name: group 'compute-cpu' has instances but no Slurm role; add it to worker_groups "
        "in provisioning_parameters.json, or make it the controller_group or login_group")


def test_both_role_files(error, rc, pp):
    assert error(rc, pp, roles=pp) == (
        "{roles}: given together with {pp}; use provisioning_parameters.json (legacy mode) or node_roles.json "
        "(API-driven mode), not both")


# (group, SlurmConfig to set on it, expected line)
API_ERRORS = [
    ("login-group", {"NodeType": "Controller"},
     ("{rc}: InstanceGroups[1].SlurmConfig.NodeType: more than one Controller group (controller-machine, "
      "login-group); set NodeType Controller on one group only")),
    ("compute-cpu", {"NodeType": "Login"},
     ("{rc}: InstanceGroups[3].SlurmConfig.NodeType: more than one Login group (login-group, compute-cpu); "
      "set NodeType Login on one group only")),
    ("controller-machine", {"NodeType": "Compute", "PartitionNames": ["ctl"]},
     "{rc}: InstanceGroups[].SlurmConfig.NodeType: no group has NodeType Controller; set it on exactly one group"),
    ("compute-gpu", {"NodeType": "Compute", "PartitionNames": ["gpu", "gpu-big"]},
     ("{rc}: InstanceGroups[2].SlurmConfig.PartitionNames: group 'compute-gpu' lists 2 partitions; "
      "HyperPod allows at most one; keep one")),
    ("compute-gpu", {"NodeType": "Compute"},
     ("{rc}: InstanceGroups[2].SlurmConfig.PartitionNames: compute group 'compute-gpu' has no partition; "
      "set PartitionNames to one name")),
    ("compute-gpu", {"NodeType": "Worker", "PartitionNames": ["gpu"]},
     ("{rc}: InstanceGroups[2].SlurmConfig.NodeType: 'Worker' is not a Slurm node type; "
      "use Controller, Login or Compute")),
    ("compute-gpu", {"NodeType": "Compute", "PartitionNames": ["Default"]},
     ("{rc}: InstanceGroups[2].SlurmConfig.PartitionNames[0]: 'Default' is reserved by Slurm; "
      "choose another partition name")),
    ("compute-gpu", {"NodeType": "Compute", "PartitionNames": ["gpu/a"]},
     ("{rc}: InstanceGroups[2].SlurmConfig.PartitionNames[0]: 'gpu/a' is not a valid Slurm partition name; "
      "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")),
]


@pytest.mark.parametrize("name, slurm_config, expected", API_ERRORS, ids=[case[-1][:70] for case in API_ERRORS])
def test_api_validation_error(error, api_rc, name, slurm_config, expected):
    group(api_rc, name)["SlurmConfig"] = slurm_config
    assert error(api_rc) == expected


def test_api_controller_group_without_instances(error, api_rc):
    group(api_rc, "controller-machine")["Instances"] = None
    assert error(api_rc) == (
        "{rc}: InstanceGroups[0].SlurmConfig.NodeType: controller group 'controller-machine' has no instances in "
        "resource_config.json; give it InstanceCount >= 1 or name a group that has instances")


def test_api_mode_without_any_role_source(error, rc):
    assert error(rc) == (
        "{rc}: InstanceGroups[0].SlurmConfig: group 'controller-machine' has no SlurmConfig and no node roles file "
        "was given; ship node_roles.json (controller_group, login_group, worker_groups) beside bootstrap.py for "
        "API-driven mode, or provisioning_parameters.json for legacy mode")


def test_node_roles_errors_name_the_node_roles_file(error, rc, pp):
    roles = {"controller_group": "ctrl", "worker_groups": pp["worker_groups"]}
    assert error(rc, roles=roles) == (
        f"{{roles}}: controller_group: 'ctrl' is not an instance group in resource_config.json (groups: {GROUPS}); "
        "set it to one of them")


def test_partition_names_on_a_login_group(error, api_rc):
    group(api_rc, "login-group")["SlurmConfig"] = {"NodeType": "Login", "PartitionNames": ["gpu"]}
    assert error(api_rc) == ("{rc}: InstanceGroups[1].SlurmConfig.PartitionNames: Login group 'login-group' lists "
                             "a partition; HyperPod allows PartitionNames on Compute groups only; remove it")


@pytest.mark.parametrize("key, value, expected", [
    ("fsx_dns_name", "fs-0123.fsx.us-west-2.amazonaws.com",
     "{pp}: fsx_dns_name: 'fs-0123.fsx.us-west-2.amazonaws.com' is not an FSx DNS name; use the file system's "
     "DNSName (aws fsx describe-file-systems), like fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com"),
    ("fsx_openzfs_dns_name", "my-zfs.example.com",
     "{pp}: fsx_openzfs_dns_name: 'my-zfs.example.com' is not an FSx DNS name; use the file system's "
     "DNSName (aws fsx describe-file-systems), like fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com"),
    ("fsx_mountname", "/fsx",
     "{pp}: fsx_mountname: '/fsx' is not an FSx for Lustre mount name; use the file system's "
     "LustreConfiguration.MountName (aws fsx describe-file-systems): 1-8 letters, digits, '_' or '-', "
     "like abcdefgh"),
])
def test_malformed_fsx_names(error, rc, pp, key, value, expected):
    pp.update(fsx_dns_name="fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com", fsx_mountname="abcdefgh")
    pp[key] = value
    assert error(rc, pp) == expected


def test_every_role_problem_is_collected(hp, rc, pp, write):
    """load_cluster stops at the first problem; the checks themselves find them all (for validate)."""
    pp["controller_group"] = "ctrl"
    pp["worker_groups"][0]["partition_name"] = "gpu nodes"
    pp["fsx_mountname"] = "abcdefgh"
    rc_path, pp_path = write("resource_config.json", rc), write("provisioning_parameters.json", pp)
    groups = hp._parse_resource_config(rc_path)[2]
    problems = []
    roles = hp.roles_from_file(pp_path, pp, groups, rc_path, problems)
    hp.check_roles(roles, groups, rc_path, hp.role_file_fix(pp_path), problems)
    hp.check_storage(pp_path, pp, problems)
    assert [p.field for p in problems] == ["controller_group", "worker_groups[0].partition_name",
                                           "InstanceGroups[0].Name", "fsx_dns_name"]


def test_users_file(hp, rc, pp, write):
    """Comments, blank lines and Windows line ends are fine; home is optional."""
    users = write("shared_users.txt", "# name,uid[,home]\r\nalice,2001,/fsx/alice/\r\n\n bob , 2002 \n")
    cluster = hp.load_cluster(write("rc.json", rc), write("pp.json", pp), None, users)
    assert cluster.group_vars()["hyperpod_shared_users"] == [
        {"name": "alice", "uid": 2001, "home": "/fsx/alice"}, {"name": "bob", "uid": 2002, "home": ""}]


def test_users_file_problems_name_the_line(hp, rc, pp, write):
    users = write("shared_users.txt", "alice,2001\nbob,2001\n")
    with pytest.raises(hp.ConfigError) as e:
        hp.load_cluster(write("rc.json", rc), write("pp.json", pp), None, users)
    assert str(e.value) == f"{users}: line 2: uid 2001 is also on line 1; give every user its own uid"
