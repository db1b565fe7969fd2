"""slurm_hooks on a live cluster: the Prolog/Epilog dispatcher, health gates, the health check that
drains and resumes only its own nodes, and the Slurm release the scenario selected. Needs the
bundle's dispatcher as slurm.conf's Prolog; the health cases need its HealthCheckProgram (the
hyperpod scenario sets it, every 10 s). Each case puts the node back as it found it."""

import re
import time

import pytest

PROLOG_D = "/etc/slurm/prolog.d"
FLAG = "/run/hpb-test-gate-fail"
GATE = PROLOG_D + "/50-hpb-test.gate"


def run(host, command):
    result = host.run(command)
    assert result.rc == 0, "%s failed on %s: %s %s" % (command, host.backend.hostname, result.stdout, result.stderr)
    return result.stdout


def config(controller, slurm_bin):
    return run(controller, "%s/scontrol show config" % slurm_bin)


@pytest.fixture(scope="module", autouse=True)
def only_with_the_hooks(controller, slurm_bin):
    if not re.search(r"^Prolog\s+=\s+/usr/local/sbin/hpb-prolog", config(controller, slurm_bin), re.M):
        pytest.skip("slurm.conf's Prolog is not the bundle's dispatcher here")


@pytest.fixture(scope="module")
def health_check(controller, slurm_bin):
    found = re.search(r"^HealthCheckInterval\s+=\s+(\d+)", config(controller, slurm_bin), re.M)
    if "hpb-healthcheck" not in config(controller, slurm_bin) or not found or int(found.group(1)) > 30:
        pytest.skip("the bundle's health check is not on here with a short interval")
    return int(found.group(1))


@pytest.fixture(scope="module")
def nodes(computes):
    """(bad, good): Slurm node names are the host names on this cluster (legacy mode)."""
    if len(computes) < 2:
        pytest.skip("needs two compute nodes")
    return [(host, run(host, "hostname -s").strip()) for host in computes[:2]]


def node_line(login, slurm_bin, name):
    return run(login, "%s/scontrol show node -o %s" % (slurm_bin, name))


def wait_for(predicate, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(2)
    pytest.fail("not within %d s: %s" % (seconds, what))


def submit(login, slurm_bin, where, wait=True):
    out = run(login, "timeout 120 %s/sbatch --parsable %s -o /dev/null -w %s --wrap true"
                     % (slurm_bin, "--wait" if wait else "", where))
    return out.strip().split(";")[0]


@pytest.fixture
def clean(nodes, login, slurm_bin):
    """Whatever a case leaves on the two nodes is removed, and a node still drained resumed."""
    yield
    for host, name in nodes:
        host.run("rm -f %s %s %s/20-hpb-test-fails" % (FLAG, GATE, PROLOG_D))
        if re.search(r"State=\S*(DRAIN|FAIL)", node_line(login, slurm_bin, name)):
            login.run("%s/scontrol update nodename=%s state=resume" % (slurm_bin, name))


def test_a_job_runs_while_an_optional_prolog_script_fails_and_the_images_prolog_still_runs(
        nodes, login, slurm_bin, clean):
    host, name = nodes[0]
    run(host, "printf '#!/bin/sh\\nexit 3\\n' > %s/20-hpb-test-fails && chmod 755 %s/20-hpb-test-fails"
        % (PROLOG_D, PROLOG_D))
    job = submit(login, slurm_bin, name)
    details = run(login, "%s/scontrol show job %s" % (slurm_bin, job))
    assert "JobState=COMPLETED" in details and "ExitCode=0:0" in details, details
    assert "DRAIN" not in node_line(login, slurm_bin, name)
    logged = run(host, "journalctl -t hpb-prolog --no-pager -o cat")
    assert "job %s: prolog script %s/20-hpb-test-fails failed: exit 3 (optional: the job goes on)" % (job, PROLOG_D) in logged
    if host.file("/usr/local/lib/image-prolog").exists:  # the hyperpod scenario's image prolog
        assert host.file("/run/image-prolog/%s" % job).exists, "the image's prolog did not run for job %s" % job


def test_no_gpu_mapping_on_nodes_without_gpus(nodes):
    for host, _ in nodes:
        assert host.run("ls -A /run/slurm/dcgm-job-mapping 2>/dev/null").stdout.strip() == ""


def test_a_failing_gate_drains_its_node_jobs_go_to_the_other_and_it_resumes(
        nodes, login, slurm_bin, health_check, clean):
    (bad, bad_name), (_, good_name) = nodes
    run(bad, "touch %s && printf '#!/bin/sh\\n[ ! -e %s ]\\n' > %s && chmod 755 %s" % (FLAG, FLAG, GATE, GATE))
    job = submit(login, slurm_bin, bad_name, wait=False)
    # The prolog's gate, or the health check running the gates, whichever comes first: our reason.
    line = wait_for(lambda: (lambda l: l if "DRAIN" in l else None)(node_line(login, slurm_bin, bad_name)),
                    60, "%s drained" % bad_name)
    reason = re.search(r"Reason=(.*?) \[", line).group(1)
    assert reason.startswith("hpb-health: ") and "50-hpb-test.gate" in reason, line
    login.run("%s/scancel %s" % (slurm_bin, job))
    assert run(login, "timeout 120 %s/srun -p dev -N1 hostname -s" % slurm_bin).strip() == good_name
    run(bad, "rm -f %s" % FLAG)
    wait_for(lambda: "DRAIN" not in node_line(login, slurm_bin, bad_name), 3 * health_check + 20,
             "%s resumed by the health check" % bad_name)
    assert "Reason=" not in node_line(login, slurm_bin, bad_name)


def test_a_node_in_a_reservation_the_bundle_did_not_make_is_left_alone(
        nodes, controller, login, slurm_bin, health_check, clean):
    bad, bad_name = nodes[0]
    run(controller, "%s/scontrol create reservation reservationname=deep-health-check nodes=%s "
                    "starttime=now duration=10 users=root flags=maint,ignore_jobs" % (slurm_bin, bad_name))
    try:
        run(bad, "touch %s && printf '#!/bin/sh\\n[ ! -e %s ]\\n' > %s && chmod 755 %s" % (FLAG, FLAG, GATE, GATE))
        time.sleep(2 * health_check + 5)
        line = node_line(login, slurm_bin, bad_name)
        assert "DRAIN" not in line, line
        assert "left alone: in reservation deep-health-check" in run(bad, "journalctl -t hpb-healthcheck --no-pager -o cat")
        assert bad_name in run(login, "%s/scontrol show reservation deep-health-check" % slurm_bin)
        run(bad, "rm -f %s %s" % (FLAG, GATE))
    finally:
        controller.run("%s/scontrol delete reservation=deep-health-check" % slurm_bin)


def test_every_node_runs_the_selected_slurm_release(all_nodes):
    if not all_nodes[0].file("/opt/slurm-22.05.8").exists:
        pytest.skip("the image has one Slurm release here")
    for node in all_nodes:
        assert node.file("/opt/slurm").linked_to == "/opt/slurm-22.05.8", node.backend.hostname
