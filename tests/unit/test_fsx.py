"""The fsx role: the fstab lines its own mount task writes (golden file), its bounded retry, and
what the hyperpod scenario's stand-in Lustre mount helper makes of the Lustre line.

Set UPDATE_GOLDEN=1 to rewrite the golden file after an intended change, then review the diff.
"""

import pathlib
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
RENDER = HERE / "render"
sys.path.insert(0, str(HERE.parents[1] / "tests" / "harness"))
import mount_lustre_standin  # noqa: E402 - tests/harness


@pytest.fixture(scope="module")
def fstabs(tmp_path_factory, local_playbook):
    out = tmp_path_factory.mktemp("fstab")
    result = local_playbook("fsx.yml", "-e", "out=%s" % out, cwd=RENDER)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return out


def test_fstab_matches_golden_file(fstabs, matches_golden):
    matches_golden((fstabs / "fsx-fstab").read_text(), GOLDEN / "fsx-fstab")


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


def test_a_lustre_file_system_without_a_mount_name_is_named_before_anything_changes(tmp_path, local_playbook):
    result = local_playbook("fsx_no_mount_name.yml", cwd=RENDER)
    assert result.returncode == 2, result.stdout[-3000:]
    out = " ".join(result.stdout.split())
    assert "fsx: the file systems ['/scratch'] need distinct absolute mount paths, and every lustre one a mount_name" in out
    assert "Mount, attempt" not in out


def test_the_stand_in_helper_mounts_each_lustre_line_from_the_sftp_server(fstabs):
    """mount(8) runs /sbin/mount.lustre SOURCE PATH -o OPTIONS for the role's line: the stand-in
    (molecule/hyperpod) mounts the server's folder of that mount name, shown under the Lustre source,
    with the generic options kept and Lustre's and mount(8)'s own dropped."""
    lustre = [line.split() for line in (fstabs / "fsx-fstab").read_text().splitlines() if line.split()[2] == "lustre"]
    commands = [mount_lustre_standin.sshfs_command([src, path, "-o", "rw," + opts])
                for src, path, _, opts, _, _ in lustre]
    assert commands == [
        (["/usr/bin/sshfs", "fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com:/exports/abcdefgh", "/fsx", "-o",
          "directport=2222,dir_cache=no,allow_other,default_permissions,"
          "fsname=fs-0123456789abcdef0.fsx.us-west-2.amazonaws.com@tcp:/abcdefgh,rw,noatime"], {"-o"}),
        (["/usr/bin/sshfs", "fs-0aaaabbbbccccdddd.fsx.us-west-2.amazonaws.com:/exports/scratch1", "/scratch", "-o",
          "directport=2222,dir_cache=no,allow_other,default_permissions,"
          "fsname=fs-0aaaabbbbccccdddd.fsx.us-west-2.amazonaws.com@tcp:/scratch1,rw,noatime"], {"-o"})]


@pytest.mark.parametrize("argv, problem", [
    (["fs-1.fsx.us-west-2.amazonaws.com:/fsx", "/home"], "is not <dns_name>@tcp:/<mount_name>"),
    (["fs-1@tcp:/abc"], "usage: mount.lustre SOURCE PATH"),
    (["fs-1@tcp:/abc", "/fsx", "-x"], "option -x not recognized"),
])
def test_the_stand_in_helper_refuses_what_is_not_a_lustre_mount(argv, problem):
    with pytest.raises(ValueError, match=problem):
        mount_lustre_standin.sshfs_command(argv)
