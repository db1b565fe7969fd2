"""The observability role on a running cluster: node exporters, the Slurm metrics, Prometheus.

Run by the observability scenario (its verifier directory is this folder); skipped where the role
left the controller without Prometheus. Prometheus is asked through its HTTP API from inside the
controller, so nothing but the containers is contacted.
"""

import base64
import json
import pathlib
import re
import sys
import time
import urllib.parse

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "harness"))
from dashboard_names import dashboard_names  # noqa: E402 - tests/harness

# Prometheus listens on the controller's cluster address only (observability_listen_address).
API = "http://%s:9090/api/v1/query?query="
# Python inside the node: the base image has no curl.
FETCH = "python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' %s"


@pytest.fixture(scope="module", autouse=True)
def prometheus(controller):
    if not controller.file("/etc/prometheus/prometheus.yml").exists:
        pytest.skip("the observability role is not enabled on this cluster")


def prometheus_url(controller):
    """http://ADDRESS:9090: the controller's address as the nodes resolve its name."""
    return "http://%s:9090" % address(controller, controller.backend.get_hostname())


def address(node, name):
    """The IPv4 address name has, as node resolves it (the scenario's network, or /etc/hosts)."""
    return node.check_output("getent ahostsv4 %s" % name).split()[0]


def query(controller, expression):
    api = API % address(controller, controller.backend.get_hostname())
    result = controller.run(FETCH % ("'" + api + urllib.parse.quote(expression) + "'"))
    assert result.rc == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["status"] == "success", body
    return body["data"]["result"]


def wait_for(controller, expression, check, timeout=90):
    """The result of the query once check(result) holds; fails after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = query(controller, expression)
        if check(result) or time.monotonic() > deadline:
            assert check(result), "%s: %s" % (expression, result)
            return result
        time.sleep(3)


def test_node_exporter_runs_on_every_node(all_nodes):
    for node in all_nodes:
        service = node.service("prometheus-node-exporter")
        assert service.is_running and service.is_enabled


def test_prometheus_and_node_exporter_listen_on_the_cluster_address_only(controller, all_nodes):
    """observability_listen_address: by default the node's cluster network address, nothing else."""
    for node in all_nodes:
        mine = address(node, node.backend.get_hostname())
        ports = [9100, 9090] if node is controller else [9100]
        for port in ports:
            assert node.socket("tcp://%s:%d" % (mine, port)).is_listening, (node.backend.get_hostname(), port)
            for elsewhere in ("0.0.0.0", "127.0.0.1", "::"):
                assert not node.socket("tcp://%s:%d" % (elsewhere, port)).is_listening, (mine, elsewhere, port)


def test_prometheus_runs_on_the_controller_only(controller, computes):
    assert controller.service("prometheus").is_running and controller.service("prometheus").is_enabled
    for node in computes:
        assert not node.package("prometheus").is_installed


def test_every_nodes_exporter_is_up_with_its_inventory_labels(controller, all_nodes):
    expected = {node.backend.get_hostname() for node in all_nodes}
    result = wait_for(controller, 'up{job="node"} == 1', lambda r: {s["metric"].get("node") for s in r} >= expected)
    labels = {s["metric"].get("node"): s["metric"] for s in result}
    # Only the inventory's nodes: nothing left from the package's sample configuration.
    assert set(labels) == expected
    assert labels["obs-controller"]["node_type"] == "controller"
    assert labels["obs-compute-1"]["node_type"] == "compute"
    assert labels["obs-compute-1"].get("partition") == "batch"
    assert labels["obs-compute-2"].get("partition") == "debug"
    assert labels["obs-compute-1"].get("instance_group") == "workers"


def test_the_login_nodes_exporter_is_up(controller, login):
    """The role on a login node (group slurm_login): Prometheus on the controller scrapes its node
    exporter with node_type login and no partition, and the node runs no Prometheus of its own."""
    name = login.backend.get_hostname()
    result = wait_for(controller, 'up{job="node",node="%s"} == 1' % name, lambda r: len(r) == 1)
    assert result[0]["metric"]["node_type"] == "login"
    assert not result[0]["metric"].get("partition")
    assert not login.package("prometheus").is_installed


def test_slurm_target_is_up_and_sees_every_compute_node(controller, computes):
    wait_for(controller, 'up{job="slurm"} == 1', lambda r: len(r) == 1)
    wait_for(controller, "slurm_up == 1", lambda r: len(r) == 1)
    # Every compute node is in the dev partition (standalone mode's default partition).
    nodes = wait_for(controller, 'sum(slurm_partition_nodes{partition="dev"})',
                     lambda r: r and float(r[0]["value"][1]) == len(computes))
    assert nodes
    # The Slurm metrics come only through the slurm job, not twice.
    assert not query(controller, 'slurm_up{job="node"}')


def test_textfile_is_replaced_atomically_by_the_timer(controller):
    assert controller.service("hpb-slurm-metrics.timer").is_enabled
    assert controller.service("hpb-slurm-metrics.timer").is_running
    textfiles = controller.run("ls -a /var/lib/prometheus/node-exporter").stdout.split()
    assert "slurm.prom" in textfiles
    assert not [name for name in textfiles if name.startswith(".slurm-metrics.")]


def test_a_running_job_shows_in_the_metrics(controller, slurm_bin):
    running = 'sum(slurm_partition_jobs{state="running"})'
    assert float(query(controller, running)[0]["value"][1]) == 0
    job = controller.check_output("%s/sbatch --parsable --wrap 'sleep 60'" % slurm_bin).strip()
    try:
        wait_for(controller, running, lambda r: r and float(r[0]["value"][1]) >= 1, timeout=60)
    finally:
        controller.run("%s/scancel %s" % (slurm_bin, job))


def test_targets_follow_slurms_nodes_without_a_run_on_the_controller(controller):
    """hpb-prometheus-targets (a timer) writes the targets from the controller's last inventory view
    and Slurm's node list. The view is changed as if obs-compute-2 had joined after the last run and
    a node had left since: after the updater's next run Prometheus scrapes obs-compute-2 with the
    labels Slurm gives it, and the node Slurm does not have is gone. Then the view is restored."""
    path = "/etc/prometheus/hpb-targets-inventory.json"
    timer = controller.service("hpb-prometheus-targets.timer")
    assert timer.is_enabled and timer.is_running
    saved = controller.file(path).content_string
    view = json.loads(saved)
    for job in view["targets"]:
        view["targets"][job] = [e for e in view["targets"][job] if e["labels"]["node"] != "obs-compute-2"]
    view["targets"]["node"].append({"targets": ["obs-gone:9100"], "labels": {
        "node": "obs-gone", "node_type": "compute", "partition": "dev", "instance_group": "workers"}})

    def write(text):
        controller.check_output("echo %s | base64 -d > %s && systemctl start hpb-prometheus-targets.service"
                                % (base64.b64encode(text.encode()).decode(), path))
    try:
        write(json.dumps(view))
        written = {e["labels"]["node"]: e for e in json.loads(controller.file(
            "/etc/prometheus/targets/node.json").content_string)}
        assert "obs-gone" not in written
        assert written["obs-compute-2"]["labels"]["node_type"] == "compute"
        assert written["obs-compute-2"]["labels"]["instance_group"] == ""
        wait_for(controller, 'up{job="node",node="obs-compute-2",instance_group=""} == 1', lambda r: len(r) == 1,
                 timeout=60)
    finally:
        write(saved)
    wait_for(controller, 'up{job="node",node="obs-compute-2",instance_group="workers"} == 1', lambda r: len(r) == 1,
             timeout=60)


def test_a_replaced_node_is_scraped_at_its_new_address_by_the_timer(controller, login, slurm_bin):
    """A replaced node comes back under its Slurm name at a new address: HyperPod writes that
    address as the node's NodeAddr, and nothing runs on the controller. Here obs-compute-2's NodeAddr
    is set to the login node's address (node exporter answers there too); within two of the timer's
    periods, with no run and no start by hand, Prometheus scrapes obs-compute-2 at that address."""
    node = "obs-compute-2"
    line = controller.check_output("%s/scontrol -o show node %s" % (slurm_bin, node))
    before = re.search(r"\bNodeAddr=(\S+)", line).group(1)
    new = address(controller, login.backend.get_hostname())
    assert new != before
    update = "%s/scontrol update NodeName=%s NodeAddr=%%s" % (slurm_bin, node)
    controller.check_output(update % new)
    try:
        wait_for(controller, 'up{job="node",node="%s",instance="%s:9100"} == 1' % (node, new),
                 lambda r: len(r) == 1, timeout=75)
    finally:
        controller.check_output(update % before)
    wait_for(controller, 'up{job="node",node="%s",instance="%s:9100"} == 1' % (node, before),
             lambda r: len(r) == 1, timeout=75)


def test_an_added_group_is_scraped_by_the_timer(controller, login, slurm_bin):
    """A group added to a running cluster reaches the controller as HyperPod's UpdateCluster brings
    it: new NodeName and PartitionName lines in slurm.conf and slurmctld restarted, no run of the
    bundle there. Here a node obs-added (at the login node's address, where node exporter answers)
    in a partition of its own; within two of the timer's periods Prometheus scrapes it as a compute
    node of that partition. slurm.conf is put back and slurmctld restarted after."""
    config = controller.check_output("%s/scontrol show config" % slurm_bin)
    conf = re.search(r"^SLURM_CONF\s*=\s*(\S+)", config, re.MULTILINE).group(1)
    new = address(controller, login.backend.get_hostname())
    controller.check_output("cp -p %s /root/slurm.conf.before-added-group" % conf)
    try:
        controller.check_output("printf 'NodeName=obs-added NodeAddr=%s CPUs=1\\nPartitionName=added Nodes=obs-added\\n' "
                                ">> %s && systemctl restart slurmctld" % (new, conf))
        up = wait_for(controller, 'up{job="node",node="obs-added"} == 1', lambda r: len(r) == 1, timeout=75)
        assert up[0]["metric"]["instance"] == "%s:9100" % new
        assert up[0]["metric"]["node_type"] == "compute" and up[0]["metric"]["partition"] == "added"
    finally:
        controller.check_output("mv /root/slurm.conf.before-added-group %s && systemctl restart slurmctld" % conf)
    wait_for(controller, 'up{job="node",node="obs-added"}', lambda r: not r, timeout=75)
    # Every compute node registered again (a restarted slurmctld sees them unknown for a few seconds).
    wait_for(controller, 'up{job="node",node_type="compute"} == 1', lambda r: len(r) == 2, timeout=30)
    deadline = time.monotonic() + 60
    while "unk" in controller.check_output("%s/sinfo -h -o %%t" % slurm_bin) and time.monotonic() < deadline:
        time.sleep(2)
    assert "unk" not in controller.check_output("%s/sinfo -h -o %%t" % slurm_bin)


def test_a_running_jobs_id_is_on_its_nodes_metrics(controller, computes, slurm_bin):
    """hpb-job-metrics on the compute nodes: slurm_job_info{jobid} while the job runs there, joined
    with node exporter's series; slurm_job_gpu from the DCGM job mapping (written here as
    slurm_hooks' prolog would: that role is not in this scenario), joined with the stand-in DCGM
    exporter's GPU 0 on obs-compute-1."""
    node = next(n for n in computes if n.backend.get_hostname() == "obs-compute-1")
    assert node.service("hpb-job-metrics.timer").is_enabled and node.service("hpb-job-metrics.timer").is_running
    job = controller.check_output("%s/sbatch --parsable -w obs-compute-1 --wrap 'sleep 60'" % slurm_bin).strip()
    try:
        node.check_output("mkdir -p /run/slurm/dcgm-job-mapping && echo %s > /run/slurm/dcgm-job-mapping/0" % job)
        info = wait_for(controller, 'slurm_job_info{jobid="%s"}' % job, lambda r: len(r) == 1, timeout=60)
        assert info[0]["metric"]["node"] == "obs-compute-1" and info[0]["metric"]["job"] == "node"
        joined = wait_for(controller, 'node_load1 * on(node) group_left(jobid) slurm_job_info{jobid="%s"}' % job,
                          lambda r: len(r) == 1)
        assert joined[0]["metric"]["node"] == "obs-compute-1"
        gpu = wait_for(controller, 'DCGM_FI_DEV_GPU_UTIL * on(node, gpu) group_left(jobid) slurm_job_gpu{jobid="%s"}'
                       % job, lambda r: len(r) == 1)
        assert (gpu[0]["metric"]["gpu"], gpu[0]["metric"]["jobid"]) == ("0", job)
    finally:
        controller.run("%s/scancel %s" % (slurm_bin, job))
        node.run("rm -f /run/slurm/dcgm-job-mapping/0")
    # Gone from the node's metrics once it ended.
    wait_for(controller, 'slurm_job_info{jobid="%s"}' % job, lambda r: not r, timeout=60)


# The names of the Slurm exporter HyperPod's reference installs, which AWS's Slurm dashboard
# (grafana.com 4323) reads: read from the role README's mapping table (tests/harness/dashboard_names.py).
FAMILIES = '{__name__=~"slurm_(nodes|cpus|queue|scheduler)_.+",job="%s"}'


def test_the_dashboards_node_counts_come_once_from_the_slurm_job(controller, computes):
    # Every compute node is counted in one state (the login node is in no partition: not counted).
    wait_for(controller, "slurm_nodes_idle + slurm_nodes_alloc + slurm_nodes_mix",
             lambda r: r and float(r[0]["value"][1]) == len(computes))
    assert not query(controller, FAMILIES % "node")


def test_every_name_of_the_readmes_table_has_a_series(controller, computes, slurm_bin):
    """Each name the README's table documents, asked of Prometheus one by one. sdiag prints some
    lines only after an event (the README's table says which): the main scheduler's mean cycle
    after its first cycle, cycles per minute once slurmctld's statistics are a minute old, the
    backfill scheduler's mean cycle and depth after a backfill cycle (every bf_interval, 30 s) that
    found a pending job. So one job holds every compute node and a second one waits for them."""
    names = [name for name, _ in dashboard_names()]
    assert names and all(re.fullmatch(r"slurm_(nodes|cpus|queue|scheduler)_[a-z_]+", n) for n in names), names
    sbatch = "%s/sbatch --parsable --nodes=%d" % (slurm_bin, len(computes))
    jobs = [controller.check_output("%s --exclusive --wrap 'sleep 150'" % sbatch).strip(),
            controller.check_output("%s --wrap true" % sbatch).strip()]
    try:
        wait_for(controller, "count by (__name__) (%s)" % (FAMILIES % "slurm"),
                 lambda r: {s["metric"]["__name__"] for s in r} >= set(names), timeout=150)
    finally:
        controller.run("%s/scancel %s" % (slurm_bin, " ".join(jobs)))
    missing = [name for name in names if not query(controller, '%s{job="slurm"}' % name)]
    assert not missing, "no series in Prometheus for %s (sdiag: %s)" % (
        missing, controller.run("%s/sdiag" % slurm_bin).stdout)
