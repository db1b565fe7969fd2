"""Hostile input files and values that the bad-input corpus cannot hold (pipes, huge or sparse files,
megabyte values) or that need many values at once: every one ends in one short printable line."""

import json
import os
import threading

import pytest
from lifecycle import limits, settings
from ansible_collections.hyperpod.slurm.plugins.plugin_utils import fields, inputs, shared_users
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.inputs import ConfigError


def error_of(call, *args):
    with pytest.raises(ConfigError) as caught:
        call(*args)
    line = str(caught.value)
    assert "\n" not in line and len(line) <= inputs.MAX_LINE
    return line


# ---- input files --------------------------------------------------------------------------------

def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "resource_config.json"
    os.mkfifo(fifo)
    found = {}
    reader = threading.Thread(target=lambda: found.update(line=error_of(inputs.read_json, fifo)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading a FIFO waited for a writer"
    assert found["line"] == f"{fifo}: is a named pipe (FIFO), not a regular file; give the path of a regular file"


@pytest.mark.parametrize("path, kind", [("/dev/zero", "a character device"), ("/", "a folder")])
def test_devices_and_folders_are_refused_before_reading(path, kind):
    assert error_of(inputs.read_json, path) == f"{path}: is {kind}, not a regular file; give the path of a regular file"
    problems = []
    shared_users.read_shared_users(path, problems)
    assert str(problems[0]).startswith(f"{path}: is {kind}")


def test_files_over_the_limit_are_refused_unread(tmp_path):
    big = tmp_path / "resource_config.json"
    with open(big, "wb") as f:
        f.truncate(inputs.MAX_JSON_BYTES + 1)  # sparse: nothing written, nothing to read
    assert error_of(inputs.read_json, big) == (f"{big}: the file is larger than 10 MB; check that it is the right file: "
                                               "the cluster's input files are much smaller")
    users = tmp_path / "shared_users.txt"
    users.write_text("alice,2001\n" * 100_000)  # 1.1 MB
    problems = []
    assert shared_users.read_shared_users(users, problems) == []
    assert str(problems[0]) == (f"{users}: the file is larger than 1 MB; check that it is the right file: the "
                                "cluster's input files are much smaller")


def test_a_value_of_megabytes_is_shown_short(tmp_path, rc, pp, hp):
    rc["InstanceGroups"][2]["InstanceType"] = "ml." + "\x1b[31m" * 1000 + "x" * 9_000_000  # 9 MB, escapes first
    path = tmp_path / "resource_config.json"
    path.write_text(json.dumps(rc))
    (tmp_path / "pp.json").write_text(json.dumps(pp))
    line = error_of(hp.load_cluster, path, tmp_path / "pp.json")
    assert line.startswith(f"{path}: InstanceGroups[2].InstanceType: 'ml.\\x1b[31m")
    assert "is longer than 256 characters" in line and len(line) < 400 and "\x1b" not in line


@pytest.mark.parametrize("text", ["[" * 100_000, "{\"a\": " * 50_000 + "1" + "}" * 50_000])
def test_json_nested_deeper_than_python_recurses(tmp_path, text):
    path = tmp_path / "resource_config.json"
    path.write_text(text)
    assert error_of(inputs.read_json, path).endswith("the JSON nests deeper than 32 levels; check that it is the "
                                                     "right file: the cluster's input files nest a few levels")


def test_an_error_is_one_printable_line_whatever_it_is_given():
    line = str(ConfigError("/tmp/a\nb", "f\u202eield", "x" * 5000, "fix\r\n"))
    assert line.startswith("/tmp/a\\nb: f\\u202eield: xxx") and line.endswith("...")
    assert len(line) == inputs.MAX_LINE and line.isprintable()


def test_shown_values_are_quoted_escaped_and_short():
    assert inputs.shown("gpu nodes") == "'gpu nodes'"
    assert inputs.shown("a\nb\x00") == "'a\\nb\\x00'"
    assert len(inputs.shown("y" * 10_000_000)) <= inputs.SHOWN_CHARS
    assert len(inputs.shown([["z" * 1000] * 1000] * 1000)) <= inputs.SHOWN_CHARS


# ---- single fields: the whole value, never a prefix ---------------------------------------------

VALID = [
    (fields.INSTANCE_TYPE_RE, "ml.p6e-gb200.36xlarge"), (fields.INSTANCE_ID_RE, "i-0123456789abcdef0"),
    (fields.CLUSTER_ARN_RE, "arn:aws:sagemaker:us-west-2:111122223333:cluster/abcde01234yz"),
    (fields.SECRET_ARN_RE, "arn:aws:secretsmanager:us-west-2:111122223333:secret:db-AbCdEf"),
    (fields.SNS_ARN_RE, "arn:aws-cn:sns:cn-north-1:111122223333:slurm-events"),
    (fields.DNS_NAME_RE, "mydb.cluster-abc.us-west-2.rds.amazonaws.com"),
    (fields.FSX_DNS_RE, "fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com"), (fields.FSX_MOUNTNAME_RE, "abcdefgh"),
    (fields.DATABASE_USER_RE, "slurm_admin"), (fields.HYPERPOD_NAME_RE, "compute-gpu-1"),
    (fields.PATH_RE, "/fsx/alice"), (shared_users.USER_NAME_RE, "alice"), (shared_users.UID_RE, "2001"),
]


@pytest.mark.parametrize("pattern, value", VALID, ids=[v for _, v in VALID])
def test_patterns_match_whole_values_only(pattern, value):
    assert pattern.fullmatch(value)
    for suffix in ("\n", "\nStorageHost=evil", " ", "'", "{{ x }}"):
        assert not pattern.fullmatch(value + suffix), repr(suffix)


@pytest.mark.parametrize("address", ["169.254.169.254", "0.0.0.1", "127.0.0.2", "224.0.0.5", "240.0.0.1",
                                     "255.255.255.255", "10.0.0.1\n", " 10.0.0.1", "10.0.0.01", "١.2.3.4"])
def test_addresses_no_node_can_have(address):
    with pytest.raises(ConfigError):
        fields.ipv4("rc", "CustomerIpAddress", address)


# ---- users, from the users file or from a role's user list in the settings ----------------------

def test_users_in_settings_get_the_users_files_checks():
    users = [{"name": "alice", "uid": 2001, "home": "/fsx/alice"}, {"name": "bob", "uid": "2002"},
             {"name": "carol", "uid": 2003, "home": "/root"}, {"name": "dave", "uid": 2001},
             {"name": "erin", "uid": 2005, "home": "/fsx/alice/erin"}, {"name": "frank", "uid": True},
             "grace,2007"]
    assert [str(e) for e in shared_users.check_users("gv.yml", "shared_users_accounts", users)] == [
        "gv.yml: shared_users_accounts[2]: home '/root' of 'carol' is a system folder; use a folder of this user's "
        "own below /fsx or /home, like /fsx/carol, or leave the field out",
        "gv.yml: shared_users_accounts[5]: uid True of 'frank' is not a number from 1000 to 60000; use a free UID in "
        "that range, the same the user has elsewhere (e.g. on FSx)",
        "gv.yml: shared_users_accounts[6]: 'grace,2007' is not a mapping; write name:, uid: and home:",
        "gv.yml: shared_users_accounts[3]: uid 2001 is also in shared_users_accounts[0]; give every user its own uid",
        "gv.yml: shared_users_accounts[4]: home /fsx/alice/erin of erin is inside the home of alice (in "
        "shared_users_accounts[0]); give every user a home of its own",
    ]


def test_a_user_list_is_found_by_its_shape_not_its_name():
    """fsx_users today, shared_users_accounts after roles/fsx is split: whichever spec has the shape."""
    spec = {"type": "list", "elements": "dict", "options": {"name": {"type": "str"}, "uid": {"type": "int"},
                                                              "home": {"type": "str"}}}
    assert settings.is_user_list(spec)
    assert not settings.is_user_list({"type": "list", "elements": "str"})
    assert not settings.is_user_list(dict(spec, options={"name": {}}))


def test_the_roles_user_list_is_checked(tmp_path):
    roles = settings.Roles(settings.Path(__file__).resolve().parents[2] / "roles")
    listed = [var for var, (_, spec) in roles.options.items() if settings.is_user_list(spec)]
    assert len(listed) == 1, "one role variable lists the shared users"
    problems = roles.check("gv.yml", listed[0], [{"name": "root", "uid": 0}])
    assert [str(p) for p in problems] == [f"gv.yml: {listed[0]}[0]: 'root' is a system account; choose another name"]


# ---- numbers in the settings -------------------------------------------------------------------

@pytest.mark.parametrize("var, value, problem", [
    ("slurm_common_wait_timeout", -1, "is below 1"), ("slurm_common_wait_timeout", 0, "is below 1"),
    ("observability_prometheus_port", 65536, "is above 65535"), ("fsx_mount_attempts", 0, "is below 1"),
    ("fsx_mount_max_delay", 86401, "is above 86400"), ("enroot_pyxis_download_retries", -1, "is below 0"),
    ("slurm_controller_memory_fraction", 0.0, "is below 0.05"), ("a_future_role_ready_timeout", 10 ** 9, "is above"),
])
def test_numbers_out_of_range(var, value, problem):
    assert limits.problem(var, value)[0].startswith(problem)


def test_numbers_in_range_and_other_variables_pass():
    assert limits.problem("slurm_common_wait_timeout", 900) is None
    assert limits.problem("enroot_pyxis_download_retries", 0) is None  # no retry is a choice
    assert limits.problem("fsx_mount_delay", 0) is None
    assert limits.problem("slurm_common_slurmd_options", -1) is None  # no range declared
    assert limits.problem("slurm_common_wait_timeout", True) is None  # the type check's business


def test_node_features_that_slurm_cannot_take_are_refused():
    assert limits.name_problem("slurm_compute_features", ["a100", "nvlink-4.0"]) is None
    for bad in ("a100,h100", "gpu&nvlink", "", "has space", "x" * 65):
        problem, fix = limits.name_problem("slurm_compute_features", ["ok", bad])
        assert problem == "has %r, which Slurm cannot take" % bad and "letters, digits" in fix
    assert limits.name_problem("slurm_compute_nodename", ["a,b"]) is None
    roles = settings.Roles(settings.Path(__file__).resolve().parents[2] / "roles")
    assert [str(e) for e in roles.check("gv.yml", "slurm_compute_features", ["a100", "a,b"])] == [
        "gv.yml: slurm_compute_features: ['a100', 'a,b'] has 'a,b', which Slurm cannot take; use Slurm feature names "
        "of letters, digits, "
        "'_', '.' and '-' (no commas, blanks or operators) (see roles/slurm_compute/README.md)"]


def test_every_number_of_the_roles_has_a_range():
    """A role's new int or float variable (not its internals) needs a row in lifecycle/limits.py (or a name that ends
    like one): a negative value would otherwise pass its argument spec."""
    roles = settings.Roles(settings.Path(__file__).resolve().parents[2] / "roles")
    numbers = [var for var, (_, spec) in roles.options.items()
               if spec.get("type") in ("int", "float") and not var.startswith("__")]  # internals: set by roles
    assert numbers and [var for var in numbers if limits.bounds(var) is None] == []
