"""slurmctld's own metrics (Slurm 25.11 and newer) under the names of AWS's Slurm dashboard
(plugins/filter/slurm_native_metrics.py): the version choice, the mapping against the role README's
table, and, in a container of Debian sid (the only Slurm 25.11+ reachable here), a real slurmctld
turned on by the roles' settings and scraped by a real Prometheus with the role's scrape job."""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = pathlib.Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "harness"))
from dashboard_names import dashboard_names, expand  # noqa: E402 - tests/harness
from lifecycle import collection  # noqa: E402 - the checkout as hyperpod.slurm
from plugins.filter.slurm_native_metrics import (  # noqa: E402
    NATIVE_MISSING, NATIVE_TO_DASHBOARD, slurm_metrics_source, slurm_native_dashboard_names,
    slurm_native_metrics_conf, slurm_native_rules, slurm_native_scrape_job)

CONFIG_2605 = """Configuration data as of 2026-12-04T14:40:00
MetricsAuthUsers        = (null)
MetricsParameters       = (null)
MetricsType             = metrics/openmetrics
PrivateData             = none
SlurmctldPort           = 6817
SLURM_VERSION           = 26.05.5
"""


@pytest.mark.parametrize("version, wanted, keys", [
    ("slurm 26.05.5", True, {"MetricsType": "metrics/openmetrics"}),
    ("slurm 25.11.0", True, {"MetricsType": "metrics/openmetrics"}),
    ("slurm 25.05.3", True, {}),
    ("slurm 24.11.5", True, {}),
    ("slurm 22.05.8", True, {}),
    ("slurm 26.05.5", False, {}),
    ("", True, {}),
])
def test_metrics_type_only_where_slurmctld_has_the_plugin(version, wanted, keys):
    assert slurm_native_metrics_conf(version, wanted) == keys


@pytest.mark.parametrize("change, setting, source, reason", [
    ({}, "auto", "native", "Slurm 26.05 serves its own metrics"),
    ({}, "native", "native", "slurmctld's port 6817"),
    ({}, "script", "script", "observability_slurm_metrics_source is script"),
    ({"SLURM_VERSION": "24.11.5", "MetricsType": "(null)"}, "auto", "script", "Slurm 24.11 has no metrics plugin"),
    ({"MetricsType": "(null)"}, "auto", "script", "without MetricsType=metrics/openmetrics"),
    ({"PrivateData": "jobs"}, "auto", "script", "PrivateData=jobs"),
    ({"PrivateData": "jobs", "MetricsParameters": "ignore_private_data"}, "auto", "native", "serves"),
    ({"MetricsAuthUsers": "alice"}, "auto", "script", "MetricsAuthUsers"),
    ({"SlurmctldPort": "6820-6824"}, "auto", "native", "port 6820"),
])
def test_the_source_follows_slurmctlds_configuration(change, setting, source, reason):
    text = CONFIG_2605
    for key, value in change.items():
        text = re.sub(r"^%s\s*=.*$" % key, "%s = %s" % (key, value), text, flags=re.MULTILINE)
    chosen = slurm_metrics_source(text, setting)
    assert chosen["source"] == source and reason in chosen["reason"]


def test_no_configuration_means_the_script():
    assert slurm_metrics_source("", "auto") == {
        "source": "script", "port": 6817,
        "reason": "slurmctld's release is unknown (scontrol show config failed): the shipped script writes them"}


def test_the_readme_table_is_the_native_names_plus_the_missing_ones():
    table = {name for name, _ in dashboard_names()}
    native = set(slurm_native_dashboard_names())
    assert native <= table and set(NATIVE_MISSING) <= table
    assert table == native | set(NATIVE_MISSING)
    assert not native & set(NATIVE_MISSING)


def test_the_readme_names_every_native_source():
    """The table's last column (slurmctld's own names) names every native name the mapping renames or keeps."""
    rows = {row for _, row in dashboard_names()}
    documented = {name for row in rows for pattern in re.findall(r"`([^`]+)`", row.strip("|").split("|")[-1])
                  for name in expand(pattern)}
    assert set(NATIVE_TO_DASHBOARD) <= documented, set(NATIVE_TO_DASHBOARD) - documented


CAPTURED = pathlib.Path(__file__).resolve().parent / "fixtures" / "slurmctld-26.05-metrics"


def captured_names():
    """Metric names in what a real slurmctld 26.05.5 answered (one running, two pending jobs), per endpoint."""
    return {path.stem: {line.split("{")[0].split(" ")[0] for line in path.read_text().splitlines()
                        if line and not line.startswith("#")} for path in CAPTURED.glob("*.txt")}


def test_every_mapped_and_computed_name_is_in_slurmctlds_answer():
    """Without sid: against the endpoints' answers captured from the real daemon."""
    names = captured_names()
    assert set(names) == {"jobs", "nodes", "scheduler"}
    served = set().union(*names.values())
    assert set(NATIVE_TO_DASHBOARD) <= served, set(NATIVE_TO_DASHBOARD) - served
    read_by_rules = {"slurm_node_cpus", "slurm_node_cpus_alloc", "slurm_node_cpus_idle", "slurm_schedule_cycle_cnt",
                     "slurm_sched_stats_timestamp", "slurm_last_proc_req_start"}
    assert read_by_rules <= served
    exprs = " ".join(rule["expr"] for rule in slurm_native_rules()["groups"][0]["rules"])
    assert read_by_rules == set(re.findall(r"\bslurm_(?:node|schedule|sched|last)_\w+", exprs))
    # A native name that is already a dashboard name is one the mapping keeps on purpose.
    dashboard = {name for name, _ in dashboard_names()}
    assert served & dashboard == {native for native, name in NATIVE_TO_DASHBOARD.items() if native == name}


def test_the_scrape_job_renames_and_keeps_the_rest():
    job = slurm_native_scrape_job("10.1.0.5", 6817)
    assert job["job_name"] == "slurm"
    assert [c["labels"]["__metrics_path__"] for c in job["static_configs"]] == [
        "/metrics/jobs", "/metrics/nodes", "/metrics/scheduler"]
    assert {c["targets"][0] for c in job["static_configs"]} == {"10.1.0.5:6817"}
    renames = {r["regex"]: r["replacement"] for r in job["metric_relabel_configs"]}
    assert renames["slurm_nodes_mixed"] == "slurm_nodes_mix" and renames["slurm_jobs_pending"] == "slurm_queue_pending"
    assert "slurm_nodes_idle" not in renames  # the same name in both
    assert all(r["target_label"] == "__name__" and r["source_labels"] == ["__name__"]
               for r in job["metric_relabel_configs"])
    rules = slurm_native_rules()["groups"][0]["rules"]
    assert [r["record"] for r in rules] == ["slurm_cpus_total", "slurm_cpus_alloc", "slurm_cpus_idle",
                                            "slurm_cpus_other", "slurm_scheduler_cycle_per_minute"]


# The observability role's choice of source (tasks/slurm_metrics.yml), on its own.
PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Choose the Slurm metrics source
      ansible.builtin.include_role:
        name: observability
        tasks_from: slurm_metrics
"""


# ---- a real slurmctld 26.05 (Debian sid) and a real Prometheus, in one container ----

IMAGE = "localhost/hpb-sid-slurm:latest"
NAME = "hpb-sid-native-metrics"
RUN = """set -e
mkdir -p /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /run/munge /var/log/slurm
chown slurm: /var/lib/slurm/slurmctld
dd if=/dev/urandom bs=1024 count=1 of=/etc/munge/munge.key 2>/dev/null
chown munge: /etc/munge/munge.key /run/munge; chmod 400 /etc/munge/munge.key
su -s /bin/sh munge -c /usr/sbin/munged
slurmd
slurmctld
"""
SLURM_CONF = """ClusterName=native
SlurmctldHost={host}
SlurmUser=slurm
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName={host} CPUs=2 State=UNKNOWN
PartitionName=dev Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def podman(*args, check=True, input=None):
    done = subprocess.run(["podman"] + list(args), capture_output=True, text=True, input=input)
    if check:
        assert done.returncode == 0, "podman %s: %s%s" % (" ".join(args[:3]), done.stdout[-2000:], done.stderr[-2000:])
    return done


@pytest.fixture(scope="module")
def sid_slurm():
    if not shutil.which("podman") or not shutil.which("debootstrap"):
        pytest.skip("no podman or debootstrap: the Debian sid image cannot be built here")
    if not (ROOT / ".collections" / "ansible_collections" / "containers" / "podman").is_dir():
        pytest.skip("needs .collections (tools/fetch_collections.py): Ansible's podman connection")
    env = dict(os.environ, CONTAINERS_CONF=os.environ.get("CONTAINERS_CONF",
                                                          str(ROOT / "tests" / "harness" / "containers.conf")))
    os.environ["CONTAINERS_CONF"] = env["CONTAINERS_CONF"]
    built = subprocess.run(["bash", str(ROOT / "tests" / "harness" / "build-sid-image.sh")], env=env,
                           capture_output=True, text=True)
    if built.returncode == 3:
        pytest.skip("Debian sid could not be fetched (it moves): " + built.stderr.strip()[-300:])
    assert built.returncode == 0, built.stdout + built.stderr
    podman("rm", "-f", "-t", "0", NAME, check=False)
    podman("run", "-d", "--name", NAME, "--hostname", NAME, IMAGE)
    try:
        yield NAME
    finally:
        podman("rm", "-f", "-t", "0", NAME, check=False)


def sh(container, script, check=True):
    return podman("exec", "-i", container, "sh", "-c", script, check=check)


def role_on_container(container):
    """tasks/slurm_metrics.yml of the observability role run by Ansible inside the container."""
    work = pathlib.Path(tempfile.mkdtemp(prefix="hpb-sid-play."))
    try:
        (work / "play.yml").write_text(PLAYBOOK.replace("hosts: localhost\n  connection: local", "hosts: all"))
        (work / "hosts").write_text("%s ansible_connection=containers.podman.podman "
                                    "ansible_python_interpreter=/usr/bin/python3\n" % container)
        with tempfile.TemporaryDirectory() as links:
            env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_ROLES_PATH=str(ROOT / "roles"),
                       ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(collection.link(ROOT, pathlib.Path(links))),
                                                                 str(ROOT / ".collections")]),
                       ANSIBLE_NOCOLOR="1")
            return subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "hosts",
                                   "play.yml"], cwd=work, env=env, capture_output=True, text=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def prometheus_query(container, query):
    url = "http://127.0.0.1:9090/api/v1/query?query=" + urllib.parse.quote(query)
    return json.loads(sh(container, "curl -sS '%s'" % url).stdout)["data"]["result"]


def test_a_real_slurmctld_26_05_feeds_the_dashboard_names(sid_slurm):
    version = sh(sid_slurm, "slurmctld -V").stdout
    keys = slurm_native_metrics_conf(version, True)
    assert keys == {"MetricsType": "metrics/openmetrics"}, version
    conf = SLURM_CONF.format(host=sid_slurm) + "".join("%s=%s\n" % item for item in keys.items())
    podman("exec", "-i", sid_slurm, "sh", "-c", "cat > /etc/slurm/slurm.conf", input=conf)
    sh(sid_slurm, RUN)
    shown = ""
    for _ in range(60):
        shown = sh(sid_slurm, "scontrol show config", check=False).stdout
        if "SLURM_VERSION" in shown:
            break
        time.sleep(0.5)
    source = slurm_metrics_source(shown, "auto")
    assert source["source"] == "native" and source["port"] == 6817, source
    # The role's own tasks on this node (podman connection): its scontrol call, its choice, the
    # script standing down.
    ran = role_on_container(sid_slurm)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    assert ("observability: Slurm metrics from native: Slurm 26.05 serves its own metrics "
            "(MetricsType=metrics/openmetrics)") in " ".join(ran.stdout.split()), ran.stdout[-3000:]
    assert "TASK [observability : Remove the script's last metrics]" in ran.stdout
    # The role's own files as its templates render them (the golden files test_templates.py holds
    # them to), at this container's address and scraped every second instead of 15; Prometheus
    # starts while slurmd registers.
    config = (GOLDEN / "prometheus-native.yml").read_text().replace("10.1.0.10:", "127.0.0.1:").replace(" 15s", " 1s")
    assert "127.0.0.1:6817" in config and "rule_files: ['/etc/prometheus/hpb-slurm-rules.yml']" in config
    podman("exec", "-i", sid_slurm, "sh", "-c", "mkdir -p /etc/prometheus/targets && cat > /etc/prometheus/hpb-slurm-rules.yml",
           input=(GOLDEN / "hpb-slurm-rules.yml").read_text())
    podman("exec", "-i", sid_slurm, "sh", "-c", "cat > /etc/prometheus/prometheus.yml && "
           "for job in node slurm dcgm efa; do echo '[]' > /etc/prometheus/targets/$job.json; done", input=config)
    checked = sh(sid_slurm, "promtool check config /etc/prometheus/prometheus.yml", check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    sh(sid_slurm, "cd /tmp && nohup prometheus --config.file=/etc/prometheus/prometheus.yml "
                  "--storage.tsdb.path=/tmp/prometheus >/tmp/prometheus.log 2>&1 &")
    for _ in range(60):
        if "idle" in sh(sid_slurm, "sinfo -h -o %T", check=False).stdout:
            break
        time.sleep(0.5)
    # One running job holding both CPUs, one waiting for them.
    sh(sid_slurm, "useradd -m alice && su alice -c 'cd && sbatch -n2 --wrap \"sleep 600\" && "
                  "sbatch -n2 --wrap \"sleep 600\"'")
    # Cycles per minute only once slurmctld's statistics are a minute old (as sdiag); checked by hand.
    wanted = [name for name in slurm_native_dashboard_names() if name != "slurm_scheduler_cycle_per_minute"]
    # One running job on the node's 2 CPUs, one pending: what the series must come to (the recorded
    # ones may lag a scrape behind, the first scrape may come before the first job started).
    expected = {"slurm_queue_running": 1, "slurm_queue_pending": 1, "slurm_cpus_total": 2, "slurm_cpus_alloc": 2,
                "slurm_cpus_idle": 0, "slurm_cpus_other": 0, "slurm_nodes_alloc": 1, "slurm_nodes_idle": 0}
    deadline = time.monotonic() + 60
    while True:  # one query for every name (each podman exec costs a few tenths of a second)
        found = {}
        try:
            series = prometheus_query(sid_slurm, '{__name__=~"%s", job="slurm"}' % "|".join(wanted))
            for one in series:
                found.setdefault(one["metric"]["__name__"], []).append(one)
        except (ValueError, KeyError, AssertionError):
            pass
        missing = [name for name in wanted if not found.get(name)]
        value = {name: float(found[name][0]["value"][1]) for name in wanted if found.get(name)}
        if not missing and all(value[name] == count for name, count in expected.items()):
            break
        if time.monotonic() > deadline:
            break
        time.sleep(1)
    assert not missing, "no series for %s; prometheus: %s" % (missing, sh(sid_slurm, "tail -5 /tmp/prometheus.log").stdout)
    assert all(len(found[name]) == 1 for name in wanted), found
    assert {name: value[name] for name in expected} == expected
    # Renamed, not copied: the native names that were renamed are gone, the others stay.
    assert not prometheus_query(sid_slurm, 'slurm_nodes_mixed{job="slurm"}')
    assert prometheus_query(sid_slurm, 'slurm_node_cpus{job="slurm"}')
    # As sdiag: no cycles per minute while slurmctld's statistics are younger than a minute.
    assert not prometheus_query(sid_slurm, 'slurm_scheduler_cycle_per_minute')
    assert {r["metric"]["endpoint"] for r in prometheus_query(sid_slurm, 'up{job="slurm"} == 1')} == {
        "jobs", "nodes", "scheduler"}


# ---- the role's tasks (tasks/slurm_metrics.yml) on this machine, in check mode ----



@pytest.mark.parametrize("config, setting, rc, line", [
    (CONFIG_2605, "auto", 0, "observability: Slurm metrics from native: Slurm 26.05 serves its own metrics"),
    (CONFIG_2605.replace("26.05.5", "24.11.5"), "native", 2,
     "observability: observability_slurm_metrics_source is native but Slurm 24.11 has no metrics plugin "
     "(25.11 and newer); set it to auto or script."),
], ids=["26.05-auto", "24.11-native"])
def test_the_role_reports_and_checks_the_source(tmp_path, local_playbook, config, setting, rc, line):
    """slurmctld's configuration given in place of `scontrol show config`'s (extra vars win over register)."""
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    extra = {"__observability_slurm_config": {"stdout": config}, "observability_slurm_metrics_source": setting,
             "observability_textfile_dir": str(tmp_path)}
    result = local_playbook("play.yml", "--check", "-e", json.dumps(extra), cwd=tmp_path)
    assert result.returncode == rc, result.stdout[-3000:]
    assert line in " ".join(result.stdout.split())
    if rc == 0:  # the native path: the script stands down (its install skipped)
        assert "TASK [observability : Remove the script's last metrics]" in result.stdout
        assert "skipping: [localhost] => (item=hpb-slurm-metrics.service)" in result.stdout
