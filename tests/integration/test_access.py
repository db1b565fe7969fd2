"""The cluster_access role on a cluster: SSH between nodes with the users' own keys, pam_slurm_adopt
on compute nodes, hyperpod-users on the running cluster, log rotation, motd.

Users come from the cluster's list (hyperpod-users list); SSH is checked with a user whose home is
on the shared file system (keys are made only there). Skipped where the role's part is off.
"""

import re
import shlex
import time

import pytest

NEW_USER, NEW_UID = "dave", 2042


def run(host, command):
    result = host.run(command)
    assert result.rc == 0, "%s failed on %s: %s %s" % (command, host.backend.hostname, result.stdout, result.stderr)
    return result.stdout


def ssh(node, user, target, command="hostname"):
    """SSH as user from node to target, never prompting."""
    ssh_cmd = "ssh -o BatchMode=yes -o ConnectTimeout=10 %s %s" % (shlex.quote(target), shlex.quote(command))
    # A refused ssh exits 255, which testinfra's SSH backend takes for its own connection failing
    # (it raises): passed on as 254.
    return node.run("timeout 30 runuser -u %s -- %s; rc=$?; [ $rc -ne 255 ] || rc=254; exit $rc"
                    % (shlex.quote(user), ssh_cmd))


def name_of(node):
    return node.check_output("hostname")


def wait_for(what, check, timeout=75, every=3):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, "%s: not within %d s" % (what, timeout)
            return value
        time.sleep(every)


@pytest.fixture(scope="module")
def shared_user(login):
    """A user of the cluster's list whose home is on the shared file system."""
    if not login.file("/usr/local/sbin/hyperpod-users").exists:
        pytest.skip("no hyperpod-users: the cluster has no shared file system, or the users command is off")
    for line in run(login, "hyperpod-users list").splitlines():
        if line and not line.startswith("#"):
            name = line.split(",")[0]
            if login.user(name).home.startswith("/fsx/"):
                return name
    pytest.skip("no shared user with a home on /fsx")


@pytest.fixture(scope="module")
def adopt(computes):
    if "pam_slurm_adopt" not in computes[0].file("/etc/pam.d/sshd").content_string:
        pytest.skip("pam_slurm_adopt is off (cluster_access_pam_slurm_adopt)")


def test_pam_slurm_adopt_is_on_compute_nodes_only(computes, login, controller, adopt):
    for node in computes:
        stack = node.file("/etc/pam.d/sshd").content_string
        assert re.search(r"^account required \S*pam_slurm_adopt\.so", stack, re.M)
        # Sessions without pam_systemd, which would move an adopted session out of the job's cgroup.
        assert re.search(r"^@include common-session-noninteractive\b", stack, re.M) and "\n@include common-session\n" not in stack
        assert "pam_systemd" not in node.file("/etc/pam.d/common-session-noninteractive").content_string
    for node in (login, controller):
        assert "pam_slurm_adopt" not in node.file("/etc/pam.d/sshd").content_string
    assert "PrologFlags=Contain" in run(controller, "cat /opt/slurm/etc/lifecycle_bundle.conf 2>/dev/null || true") \
        or "Contain" in run(controller, "scontrol show config | grep -i PrologFlags || true")


def test_a_user_without_a_job_is_refused_with_slurms_message(login, computes, shared_user, adopt):
    target = name_of(computes[0])
    result = ssh(login, shared_user, target)
    assert result.rc != 0, result.stdout
    said = result.stdout + result.stderr + computes[0].run("journalctl -u ssh --since -2min --no-pager").stdout
    assert "no active jobs" in said or "pam_slurm_adopt" in said, said[-2000:]


def test_a_user_with_a_job_on_the_node_gets_in(login, computes, shared_user, adopt, slurm_bin):
    import reduced  # tests/harness, on the path through tests/conftest.py
    target = name_of(computes[0])
    job = run(login, "cd /tmp && runuser -u %s -- %s/sbatch --parsable --nodelist=%s --wrap 'sleep 120'"
              % (shared_user, slurm_bin, target)).strip().split(";")[0]
    try:
        wait_for("job %s running" % job, lambda: run(login, "%s/squeue -h -j %s -o %%T" % (slurm_bin, job)).strip() == "RUNNING",
                 timeout=60, every=1)
        result = ssh(login, shared_user, target, "hostname")
        assert result.rc == 0 and result.stdout.strip() == target, (result.stdout, result.stderr)
        # The module found the job: it logs the adoption (or, without cgroups, still lets the user in).
        reduced.add("hyperpod", "pam_slurm_adopt: an SSH session joins the job's cgroup",
                    "proctrack/linuxproc and task/none in unprivileged containers (cgroups read-only): "
                    "access with a job and refusal without are checked, not the session's confinement")
    finally:
        login.run("%s/scancel %s" % (slurm_bin, job))


def test_root_always_gets_in(login, computes, adopt):
    key = "/root/.ssh/hpb-access-test"
    login.run("rm -f %s %s.pub; mkdir -p -m 700 /root/.ssh && ssh-keygen -q -t ed25519 -N '' -f %s" % (key, key, key))
    public = login.file(key + ".pub").content_string.strip()
    node = computes[0]
    node.run("mkdir -p -m 700 /root/.ssh && echo %s >> /root/.ssh/authorized_keys" % shlex.quote(public))
    try:
        result = login.run("timeout 30 ssh -i %s -o BatchMode=yes %s hostname" % (key, name_of(node)))
        assert result.rc == 0, result.stderr
    finally:
        node.run("sed -i '\\|%s|d' /root/.ssh/authorized_keys" % public.split()[1])
        login.run("rm -f %s %s.pub" % (key, key))


def test_users_ssh_to_the_login_node_and_the_controller(login, controller, computes, shared_user):
    for source, target in ((controller, login), (login, controller)):
        result = ssh(source, shared_user, name_of(target))
        assert result.rc == 0 and result.stdout.strip() == name_of(target), (result.stdout, result.stderr)
    key = login.file("/fsx/%s/.ssh/id_ed25519" % shared_user)
    assert key.user == shared_user and key.mode == 0o600


def test_a_user_added_on_the_running_cluster_logs_in_everywhere_and_runs_jobs(login, controller, all_nodes, slurm_bin):
    if not login.file("/usr/local/sbin/hyperpod-users").exists:
        pytest.skip("no hyperpod-users on this cluster")
    out = run(login, "hyperpod-users add %s %d" % (NEW_USER, NEW_UID))
    assert "accounting:" in out, out
    for node in all_nodes:
        wait_for("%s on %s" % (NEW_USER, node.backend.hostname),
                 lambda node=node: node.run("id -u %s" % NEW_USER).stdout.strip() == str(NEW_UID))
        assert node.run("id -g %s" % NEW_USER).stdout.strip() == str(NEW_UID)
    assert run(login, "hyperpod-users add %s %d" % (NEW_USER, NEW_UID)).count("changed:") == 0  # idempotent
    result = ssh(login, NEW_USER, name_of(controller), "id -u")
    assert result.rc == 0 and result.stdout.strip() == str(NEW_UID), (result.stdout, result.stderr)
    job = run(login, "cd /tmp && timeout 180 runuser -u %s -- %s/sbatch --parsable --wait --wrap 'id -u'"
              % (NEW_USER, slurm_bin)).strip().split(";")[0]
    # sacct's own selection by user (by UID): the job is the new user's in accounting.
    shown = run(login, "%s/sacct -n -X -P -j %s -o jobid,user,uid,account,state" % (slurm_bin, job))
    wait_for("job %s in sacct under %s (%s)" % (job, NEW_USER, shown), lambda: job in run(
        login, "%s/sacct -n -X -P -u %s -o jobid" % (slurm_bin, NEW_USER)).split(), timeout=30, every=2)
    # Removed: locked on every node (account expired), home kept.
    run(login, "hyperpod-users remove %s" % NEW_USER)
    for node in (controller, login):
        wait_for("%s locked on %s" % (NEW_USER, node.backend.hostname),
                 lambda node=node: node.run("chage -l %s" % NEW_USER).stdout.count("Jan 02, 1970") > 0)
    assert ssh(login, NEW_USER, name_of(controller)).rc != 0
    assert login.file(login.user(NEW_USER).home).is_directory


def test_a_bad_line_stops_hyperpod_users_before_any_change(login):
    if not login.file("/usr/local/sbin/hyperpod-users").exists:
        pytest.skip("no hyperpod-users on this cluster")
    before = run(login, "hyperpod-users list")
    result = login.run("hyperpod-users add root 0")
    assert result.rc == 2 and "hyperpod-users add" in result.stderr, result.stderr
    assert run(login, "hyperpod-users list") == before


@pytest.mark.parametrize("group, daemon, log", [("slurm_controller", "slurmctld", "/var/log/slurm/slurmctld.log"),
                                                 ("slurm_compute", "slurmd", "/var/log/slurm/slurmd.log")])
def test_after_logrotate_the_daemons_write_to_new_files(cluster, group, daemon, log):
    node = cluster[group][0]
    if not node.file("/etc/logrotate.d/hyperpod-slurm").exists:
        pytest.skip("log rotation is off")
    if not node.file(log).exists:
        pytest.skip("%s logs elsewhere" % daemon)

    # Read as the log's owner too: root without CAP_SYS_PTRACE (as in these containers) cannot read
    # the descriptors of slurmctld, which runs as SlurmUser.
    scan = ("for f in /proc/[0-9]*/fd/*; do l=$(readlink $f 2>/dev/null) || continue; "
            "case $l in %s*) p=${f#/proc/}; p=${p%%%%/*}; echo \"$l $p $(cat /proc/$p/comm)\";; esac; "
            "done 2>/dev/null; true" % log)

    def holders():
        """{path: [pid comm]} of every process holding the log or its rotated name open."""
        owner = node.file(log).user if node.file(log).exists else "root"
        out = run(node, scan) + run(node, "runuser -u %s -- sh -c %s" % (owner, shlex.quote(scan)))
        found = {}
        for line in out.splitlines():
            path, pid, comm = line.split()[:3]
            if "%s %s" % (pid, comm) not in found.get(path, []):
                found.setdefault(path, []).append("%s %s" % (pid, comm))
        return found
    if log not in holders():
        pytest.skip("no process holds %s open: %s logs elsewhere on this cluster" % (log, daemon))
    before = node.file(log).inode
    run(node, "logrotate -f /etc/logrotate.d/hyperpod-slurm")
    assert node.file(log + ".1").exists and node.file(log + ".1").inode == before
    state = {}

    def reopened():
        state.update(held=holders())
        return log in state["held"] and log + ".1" not in state["held"]
    try:
        wait_for("%s writing to the new %s" % (daemon, log), reopened, timeout=20, every=1)
    except AssertionError:
        raise AssertionError("%s: the files held open after logrotate: %s" % (daemon, state.get("held"))) from None
    assert node.file(log).inode != before


def test_motd_names_the_cluster_and_the_node_type(all_nodes, cluster):
    for group, kind in (("slurm_controller", "controller"), ("slurm_login", "login"), ("slurm_compute", "compute")):
        for node in cluster[group]:
            if not node.file("/etc/motd").contains("Cluster "):
                pytest.skip("motd is off")
            motd = node.file("/etc/motd").content_string
            assert "a %s node" % kind in motd and "sbatch" in motd, motd


def test_the_login_message_shows_the_partitions_slurm_has_now(login, slurm_bin):
    if not login.file("/etc/update-motd.d/60-slurm-partitions").exists:
        pytest.skip("motd is off")
    # What pam_motd runs at an SSH login.
    shown = login.check_output("run-parts /etc/update-motd.d")
    for partition in login.check_output("%s/sinfo --noheader --format=%%R" % slurm_bin).split():
        assert re.search(r"^\s+%s\*?\s+up\s+\d+/\d+/\d+/\d+$" % re.escape(partition.rstrip("*")), shown, re.M), shown
