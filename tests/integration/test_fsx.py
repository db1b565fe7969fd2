"""The fsx and shared_users roles on a cluster: the shared file system at /fsx, shared users, homes
moved there.

The fstab line is the real Lustre line everywhere. On the simulated cluster (molecule/hyperpod) the
node's /sbin/mount.lustre is the harness's stand-in (tests/harness/mount_lustre_standin.py): behind
that line an sshfs mount of a container that starts serving after the nodes' first mount attempts,
shown as type fuse.sshfs under the Lustre source. On a real cluster, Lustre.
"""

import re
import shlex

import pytest

# The first line of the harness's stand-in helper; never in the Lustre client's mount.lustre.
STAND_IN = "hyperpod-bundle test stand-in for /sbin/mount.lustre"


@pytest.fixture(scope="module")
def fstab_line(controller):
    lines = [line.split() for line in controller.file("/etc/fstab").content_string.splitlines()]
    found = [f for f in lines if len(f) == 6 and f[1] == "/fsx"]
    if not found:
        pytest.skip("no /fsx in the controller's /etc/fstab: the cluster has no FSx")
    return found[0]


def users_file(node):
    found = node.run("ls /tmp/sagemaker-lifecycle-*/shared_users.txt 2>/dev/null").stdout.split()
    if not found:
        return []
    users = []
    for line in node.file(found[0]).content_string.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, uid, *home = [f.strip() for f in line.split(",")]
            users.append((name, int(uid), home[0] if home else None))
    return users


def stand_in(node):
    """Whether the node's Lustre mount helper is the harness's stand-in (sshfs behind the Lustre line)."""
    return node.run("grep -qF %s /sbin/mount.lustre" % shlex.quote(STAND_IN)).rc == 0


def test_every_node_persists_and_mounts_fsx_with_the_references_options(all_nodes, fstab_line):
    src, path, fstype, opts = fstab_line[:4]
    assert fstype == "lustre" and re.match(r"^[\w.-]+@tcp:/\w+$", src), fstab_line
    for option in ("noatime", "flock", "_netdev", "x-systemd.automount", "x-systemd.requires=network-online.target"):
        assert option in opts.split(","), opts
    for node in all_nodes:
        assert " ".join(fstab_line) in [" ".join(f.split()) for f in node.file("/etc/fstab").content_string.splitlines()]
        mount = node.run("findmnt -n -o FSTYPE,SOURCE --mountpoint /fsx")
        assert mount.rc == 0 and mount.stdout.split() == ["fuse.sshfs" if stand_in(node) else "lustre", src], mount.stdout


def test_a_file_written_on_one_node_is_read_on_the_others(all_nodes, fstab_line):
    writer, readers = all_nodes[0], all_nodes[1:]
    path = "/fsx/.shared-check-%s" % writer.backend.get_hostname()
    writer.check_output("echo written-on-the-controller > %s" % path)
    try:
        for node in readers:
            assert node.file(path).content_string == "written-on-the-controller\n"
    finally:
        writer.run("rm -f %s" % path)


def test_the_first_mount_attempts_failed_and_the_retry_loop_mounted(all_nodes, fstab_line):
    if not stand_in(all_nodes[0]):
        pytest.skip("only the stand-in's server starts late on purpose")
    for node in all_nodes:
        log = node.file("/var/log/provision/ansible.log").content_string
        first_run = log.split("===== bootstrap.py")[1]
        # Attempt N's tasks exist only where attempt N-1 failed (retry.yml includes attempt.yml again then).
        attempts = [int(n) for n in re.findall(r"TASK \[fsx : Mount, attempt (\d+)\]", first_run)]
        assert len(attempts) >= 2 and attempts == list(range(1, len(attempts) + 1)), (node.backend.get_hostname(), attempts)


def test_shared_users_have_the_same_uid_and_gid_everywhere(all_nodes, controller):
    users = users_file(controller)
    if not users:
        pytest.skip("the bundle ships no shared_users.txt")
    for name, uid, _ in users:
        seen = {node.check_output("getent passwd %s | cut -d: -f3,4" % name) for node in all_nodes}
        groups = {node.check_output("getent group %s | cut -d: -f3" % name) for node in all_nodes}
        assert seen == {"%d:%d" % (uid, uid)} and groups == {str(uid)}, (name, seen, groups)


def test_homes_are_where_the_users_file_and_the_move_put_them(all_nodes, controller, fstab_line):
    for name, _, home in users_file(controller):
        for node in all_nodes:
            actual = node.user(name).home
            assert actual == (home or "/fsx/%s" % name), (node.backend.get_hostname(), name, actual)
            assert node.file(actual).is_directory and node.file(actual).user == name


def test_the_default_users_home_moved_to_fsx_with_every_nodes_files(all_nodes, fstab_line):
    if not all_nodes[0].user("ubuntu").exists or all_nodes[0].user("ubuntu").home != "/fsx/ubuntu":
        pytest.skip("ubuntu's home was not moved (shared_users_move_homes is off)")
    for node in all_nodes:
        assert node.user("ubuntu").home == "/fsx/ubuntu"
    home = all_nodes[0]
    notes = home.file("/fsx/ubuntu/notes.txt")
    assert notes.content_string == "written on the image\n" and notes.user == "ubuntu" and notes.mode == 0o600
    names = home.check_output("ls /fsx/ubuntu").split()
    assert sum(name.startswith("from-") for name in names) == len(all_nodes), names


def test_shared_users_are_associated_in_accounting(controller, slurm_bin):
    users = users_file(controller)
    if not users:
        pytest.skip("the bundle ships no shared_users.txt")
    out = controller.check_output("%s/sacctmgr --noheader --parsable2 show associations format=user" % slurm_bin)
    assert {name for name, _, _ in users} <= set(out.split())
