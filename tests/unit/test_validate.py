"""bootstrap.py validate against request/parameter pairs in tests/unit/fixtures/validate/.

Each case is a folder: create_cluster.json; bundle/, files laid over a copy of this checkout's
bundle (without its provisioning_parameters.json); optionally a provisioning_parameters.json
outside the bundle, given with --provisioning-parameters; expected.txt, the exact output lines
("{bundle}" stands for the bundle's folder, "{hash}" for its content hash). good-* cases print nothing.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "fixtures" / "validate"
sys.path.insert(0, str(REPO))
from workstation import bundle as wb  # noqa: E402
from workstation import validate as wv  # noqa: E402


def make_bundle(tmp_path, overlay=None):
    """The checkout's bundle files, without role files, plus the overlay folder's files."""
    bundle = tmp_path / "bundle"
    for arcname, path in wb.source_files(REPO).items():
        if arcname not in wb.ROLE_FILES:
            (bundle / arcname).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, bundle / arcname)
    if overlay and overlay.is_dir():
        shutil.copytree(overlay, bundle, dirs_exist_ok=True)
    return bundle


def run_case(case, tmp_path, monkeypatch):
    bundle = make_bundle(tmp_path, case / "bundle")
    monkeypatch.chdir(case)
    given = "provisioning_parameters.json" if (case / "provisioning_parameters.json").is_file() else None
    problems = wv.validate("create_cluster.json", given, bundle)
    lines = [f"{wv.severity(p)}: {p}".replace(str(bundle), "{bundle}") for p in problems]
    return [re.sub(r"this bundle is [0-9a-f]{12}", "this bundle is {hash}", line) for line in lines]


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()))
def test_case(case, tmp_path, monkeypatch):
    expected = (CASES / case / "expected.txt")
    lines = run_case(CASES / case, tmp_path, monkeypatch)
    assert lines == (expected.read_text().splitlines() if expected.is_file() else [])


# ---- the examples and the command line -----------------------------------------------------------

def bootstrap(*args, cwd=REPO):
    return subprocess.run([sys.executable, str(REPO / "bootstrap.py"), *args], cwd=cwd, capture_output=True, text=True)


def test_legacy_example_is_clean():
    result = bootstrap("validate", "--create-cluster", "examples/create_cluster.json",
                       "--provisioning-parameters", "examples/provisioning_parameters.json")
    assert (result.returncode, result.stdout) == (0, "examples/create_cluster.json: no problems\n")


def test_api_example_is_clean_in_a_bundle_without_provisioning_parameters(tmp_path):
    bundle = make_bundle(tmp_path)
    result = bootstrap("validate", "--create-cluster", "examples/api-mode/create_cluster.json", "--bundle", str(bundle))
    assert (result.returncode, result.stdout) == (0, "examples/api-mode/create_cluster.json: no problems\n")


def test_api_example_against_this_checkout_reports_its_provisioning_parameters():
    result = bootstrap("validate", "--create-cluster", "examples/api-mode/create_cluster.json", "--json")
    assert result.returncode == 1
    assert [(p["severity"], p["file"], p["field"]) for p in json.loads(result.stdout)] == [
        ("error", "provisioning_parameters.json", None)]


def test_every_problem_exit_1_and_json(tmp_path):
    case = CASES / "bad-legacy-provisioning-parameters"
    bundle = make_bundle(tmp_path, case / "bundle")
    result = bootstrap("validate", "--create-cluster", "create_cluster.json", "--bundle", str(bundle), cwd=case)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == "create_cluster.json: 7 errors, 0 warnings"
    result = bootstrap("validate", "--create-cluster", "create_cluster.json", "--bundle", str(bundle), "--json",
                       cwd=case)
    problems = json.loads(result.stdout)
    assert result.returncode == 1 and len(problems) == 7
    assert problems[0] == {
        "severity": "error", "file": f"{bundle}/provisioning_parameters.json", "field": "workload_manager",
        "problem": "'kubernetes' is not supported", "fix": 'set "workload_manager": "slurm"',
        "message": f"{bundle}/provisioning_parameters.json: workload_manager: 'kubernetes' is not supported; "
                   'set "workload_manager": "slurm"'}


def test_warnings_alone_exit_0(tmp_path):
    case = CASES / "warn-lifecycle-bucket-and-stale-hash"
    result = bootstrap("validate", "--create-cluster", "create_cluster.json", "--bundle",
                       str(make_bundle(tmp_path, case / "bundle")), cwd=case)
    assert result.returncode == 0 and result.stdout.endswith("create_cluster.json: 0 errors, 2 warnings\n")


def test_a_built_bundle_can_be_validated(tmp_path):
    _, built = wb.build(tmp_path / "built", wheels_dir=None)
    result = bootstrap("validate", "--create-cluster", str(REPO / "examples/create_cluster.json"),
                       "--bundle", str(built))
    assert result.returncode == 0, result.stdout


# ---- --aws: subnets, security groups and FSx in the account (moto) -------------------------------

@pytest.fixture
def aws(monkeypatch):
    from moto import mock_aws
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-west-2")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        import boto3
        yield boto3.client("ec2"), boto3.client("fsx")


def test_aws_checks(aws, tmp_path, monkeypatch):
    ec2, fsx = aws
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=public, MapPublicIpOnLaunch={"Value": True})
    lonely = ec2.create_security_group(GroupName="lonely", Description="no self rule", VpcId=vpc)["GroupId"]
    lustre = fsx.create_file_system(FileSystemType="LUSTRE", StorageCapacity=1200, SubnetIds=[private],
                                    LustreConfiguration={"DeploymentType": "PERSISTENT_2"})["FileSystem"]
    request = json.loads((REPO / "examples/api-mode/create_cluster.json").read_text())
    request["VpcConfig"] = {"Subnets": [private, public], "SecurityGroupIds": [lonely]}
    request["InstanceGroups"][0]["InstanceStorageConfigs"] = [
        {"FsxLustreConfig": {"DnsName": lustre["DNSName"].replace("us-west-2", "us-east-1"), "MountName": "abcdefgh"}},
        {"FsxOpenZfsConfig": {"DnsName": "fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com"}}]
    (tmp_path / "create_cluster.json").write_text(json.dumps(request))
    monkeypatch.chdir(tmp_path)
    problems = wv.validate("create_cluster.json", "", make_bundle(tmp_path), aws=True)
    field = "InstanceGroups[0].InstanceStorageConfigs"
    assert [str(p) for p in problems] == [
        f"create_cluster.json: VpcConfig.Subnets[1]: {public} is a public subnet (MapPublicIpOnLaunch): cluster "
        "creation fails on it; use private subnets that reach the internet or VPC endpoints through NAT",
        f"create_cluster.json: VpcConfig.SecurityGroupIds: none of {lonely} allows all traffic to and from itself: "
        "nodes (and EFA) cannot reach each other; add an inbound and an outbound rule: all traffic, source and "
        "destination the security group itself",
        f"create_cluster.json: {field}[0].FsxLustreConfig.DnsName: "
        f"{lustre['DNSName'].replace('us-west-2', 'us-east-1')!r} is not the DNS name of {lustre['FileSystemId']}; "
        f"did you mean {lustre['DNSName']}?",
        f"create_cluster.json: {field}[1].FsxOpenZfsConfig.DnsName: no file system fs-0123456789abcdef0 in this "
        "account and region; use the DNSName of an existing file system (aws fsx describe-file-systems)",
    ]

    # The security group fixed, the FSx names right: nothing left.
    for rule in (ec2.authorize_security_group_ingress, ec2.authorize_security_group_egress):
        rule(GroupId=lonely, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": lonely}]}])
    request["VpcConfig"]["Subnets"] = [private]
    request["InstanceGroups"][0]["InstanceStorageConfigs"] = [
        {"FsxLustreConfig": {"DnsName": lustre["DNSName"], "MountName": "abcdefgh"}}]
    (tmp_path / "create_cluster.json").write_text(json.dumps(request))
    assert wv.validate("create_cluster.json", "", make_bundle(tmp_path / "again"), aws=True) == []


def test_aws_checks_compare_the_mount_name(tmp_path):
    """moto's FSx has no MountName; a stand-in client answers as FSx does."""
    from workstation import aws_checks

    class Fsx:
        def describe_file_systems(self, FileSystemIds):
            return {"FileSystems": [{"FileSystemId": FileSystemIds[0], "FileSystemType": "LUSTRE",
                                     "DNSName": f"{FileSystemIds[0]}.fsx.us-west-2.amazonaws.com",
                                     "LustreConfiguration": {"MountName": "xyzw1234"}}]}

    problems = wv.Problems()
    pp = {"fsx_dns_name": "fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com", "fsx_mountname": "abcdefgh"}
    request = wv.request_checks.Request("create_cluster.json", [])
    aws_checks.check_fsx(Fsx(), request, "provisioning_parameters.json", pp, problems)
    assert [str(p) for p in problems] == [
        "provisioning_parameters.json: fsx_mountname: 'abcdefgh' is not the mount name of fs-0123456789abcdef0; "
        "set it to xyzw1234"]


def test_aws_checks_without_credentials_say_so(tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.chdir(REPO)
    problems = wv.validate("examples/create_cluster.json", "examples/provisioning_parameters.json", aws=True)
    assert [str(p) for p in problems] == [
        "examples/create_cluster.json: could not check in AWS: Unable to locate credentials; check your credentials "
        "and region (AWS_PROFILE, AWS_REGION), or leave --aws out"]


def test_a_folder_that_is_no_bundle(tmp_path):
    result = bootstrap("validate", "--create-cluster", "examples/create_cluster.json", "--bundle", str(tmp_path))
    assert result.returncode == 2 and result.stderr.startswith(f"bootstrap.py validate: --bundle: {tmp_path} lacks ")
