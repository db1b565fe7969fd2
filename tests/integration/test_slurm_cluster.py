"""A converged cluster runs jobs: the checks every scenario ends with."""

import re


def run(host, command):
    result = host.run(command)
    assert result.rc == 0, "%s failed on %s: %s %s" % (command, host.backend.hostname, result.stdout, result.stderr)
    return result.stdout


def test_munge_key_is_the_same_on_every_node(all_nodes):
    digests = {run(node, "sha256sum /etc/munge/munge.key").split()[0] for node in all_nodes}
    assert len(digests) == 1


def test_munge_credentials_from_login_decode_on_the_controller(login, controller):
    credential = run(login, "munge -n")
    result = controller.run("unmunge <<'EOF'\n%s\nEOF" % credential.strip())
    assert result.rc == 0, result.stderr


def test_controller_runs_slurmctld_only(controller):
    assert controller.service("slurmctld").is_running
    assert controller.service("slurmctld").is_enabled
    assert not controller.service("slurmd").is_running


def _login_daemon(login):
    """Slurm 23.11+ ships sackd for login nodes; older Slurm runs a configless slurmd there."""
    has_sackd = any(login.file(d + "/sackd").exists for d in ("/opt/slurm/sbin", "/usr/sbin"))
    return "sackd" if has_sackd else "slurmd"


def test_compute_and_login_run_configless_daemons(computes, login):
    for node, daemon in [(node, "slurmd") for node in computes] + [(login, _login_daemon(login))]:
        assert node.service(daemon).is_running, (node.backend.hostname, daemon)
        assert node.service(daemon).is_enabled, (node.backend.hostname, daemon)
        assert not node.service("slurmctld").is_running
        assert "--conf-server" in run(node, "systemctl show -p ExecStart " + daemon)
    if _login_daemon(login) == "sackd":
        assert not login.service("slurmd").is_running


def test_configless_nodes_hold_the_controllers_configuration(computes, login, slurm_bin):
    """Their cached copy matches slurmctld's (HASH_VAL), also after a run changed the controller's
    configuration: a restart alone sends nothing, and a sackd not running as SlurmUser rejects pushes."""
    for node in computes + [login]:
        line = [l for l in run(node, "%s/scontrol show config" % slurm_bin).splitlines() if l.startswith("HASH_VAL")]
        assert line and line[0].split("=", 1)[1].strip() == "Match", (node.backend.hostname, line)


def test_every_compute_node_is_idle_in_a_partition(login, computes, slurm_bin):
    hostnames = {run(node, "hostname -s").strip() for node in computes}
    # By host name (%n): API-driven clusters name Slurm nodes after the instance, not the host.
    lines = run(login, "%s/sinfo --noheader --Node --format '%%n %%P %%T'" % slurm_bin).splitlines()
    states = {}
    for line in lines:
        name, partition, state = line.split()
        states.setdefault(name, set()).add((partition.rstrip("*"), state))
    assert hostnames <= set(states), lines
    for name in hostnames:
        partitions = {partition for partition, state in states[name] if state == "idle"}
        assert len(partitions) >= 2, "%s not idle in its own partition and the default one: %s" % (name, lines)


def test_srun_spans_both_compute_nodes(login, computes, slurm_bin):
    hostnames = sorted(run(node, "hostname -s").strip() for node in computes)
    output = run(login, "timeout 120 %s/srun --nodes=%d --ntasks-per-node=1 hostname -s" % (slurm_bin, len(computes)))
    assert sorted(output.split()) == hostnames


def test_batch_job_from_login_completes(login, slurm_bin):
    submitted = run(login, "timeout 180 %s/sbatch --parsable --wait --nodes=1 --wrap 'sleep 1; hostname'" % slurm_bin)
    job_id = submitted.strip().split(";")[0]
    assert re.fullmatch(r"\d+", job_id), submitted
    details = run(login, "%s/scontrol show job %s" % (slurm_bin, job_id))
    assert "JobState=COMPLETED" in details and "ExitCode=0:0" in details, details


def test_sacct_on_login_lists_a_completed_job(login, slurm_bin):
    submitted = run(login, "timeout 180 %s/sbatch --parsable --wait --nodes=1 --wrap 'hostname'" % slurm_bin)
    job_id = submitted.strip().split(";")[0]
    # slurmctld sends job records to slurmdbd asynchronously: seconds, longer on a loaded machine.
    command = ("for i in $(seq 90); do s=$(%s/sacct -n -P -X -j %s -o State); "
               "[ \"$s\" = COMPLETED ] && break; sleep 1; done; echo \"$s\"") % (slurm_bin, job_id)
    assert run(login, command).strip() == "COMPLETED"


def test_root_is_associated_with_the_account(controller, slurm_bin):
    associations = run(controller, "%s/sacctmgr -n -P show assoc format=user,account" % slurm_bin).split()
    assert "root|root" in associations, associations


def test_slurmdbd_conf_is_readable_by_slurm_only(controller):
    path = "/opt/slurm/etc/slurmdbd.conf" if controller.file("/opt/slurm/etc").exists else "/etc/slurm/slurmdbd.conf"
    conf = controller.file(path)
    assert (conf.user, conf.group, conf.mode) == ("slurm", "slurm", 0o600)
    assert controller.service("slurmdbd").is_running and controller.service("slurmdbd").is_enabled
