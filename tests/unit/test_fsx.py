"""The fsx role: the fstab lines its own mount task writes (golden files), and its bounded retry.

Set UPDATE_GOLDEN=1 to rewrite the golden files after an intended change, then review the diff.
"""

import pathlib

import pytest

HERE = pathlib.Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
RENDER = HERE / "render"


@pytest.fixture(scope="module")
def fstabs(tmp_path_factory, local_playbook):
    out = tmp_path_factory.mktemp("fstab")
    result = local_playbook("fsx.yml", "-e", "out=%s" % out, cwd=RENDER)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return out


@pytest.mark.parametrize("name", ["fsx-fstab", "fsx-fstab-standin"])
def test_fstab_matches_golden_file(fstabs, name, matches_golden):
    matches_golden((fstabs / name).read_text(), GOLDEN / name)


def test_lustre_and_openzfs_lines_are_the_references(fstabs):
    lines = (fstabs / "fsx-fstab").read_text().splitlines()
    assert ("fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com@tcp:/abcdefgh /fsx lustre "
            "noatime,flock,_netdev,x-systemd.automount,x-systemd.requires=network-online.target 0 0") in lines
    assert ("fs-0fedcba9876543210.fsx.us-west-2.amazonaws.com:/fsx /home nfs "
            "nfsvers=4.2,_netdev,nconnect=16,x-systemd.automount,x-systemd.requires=network-online.target 0 0") in lines


def test_a_file_system_that_never_appears_fails_after_the_attempts(tmp_path, local_playbook):
    (tmp_path / "never-mounted").mkdir()
    result = local_playbook("fsx_unreachable.yml", "-e", "out=%s" % tmp_path, cwd=RENDER)
    assert result.returncode == 2, result.stdout[-3000:]
    out = " ".join(result.stdout.split())
    assert "Wait before attempt 2" in out and "Wait before attempt 3" in out and "Wait before attempt 4" not in out
    assert ("fsx: %s/never-mounted (lustre, fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com@tcp:/abcdefgh) is not "
            "mounted by the platform and writable after 3 attempts" % tmp_path) in out
    assert "security group admits this node (TCP 988 and 1018-1023)" in out
    assert "InstanceStorageConfigs must name it" in out
