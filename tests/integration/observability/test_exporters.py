"""The GPU (DCGM) and EFA exporter install path, with stand-ins, in the observability scenario.

obs-compute-1 is told it has a GPU and EFA (observability_gpu/_efa: present); its exporters come
from obs-artifacts (tests/harness/artifact_server.py), which serves stand-in releases built by
prepare.yml (tests/harness/stand_in_exporter.py: a /metrics page, no GPU or EFA behind it). The
DCGM release's URL answers 503 twice first. Everything here needs that server: skipped elsewhere.
"""

import json
import os
import pathlib
import shlex
import subprocess
import sys
import time

import pytest

from test_observability import FETCH, prometheus_url, query, wait_for

ROOT = pathlib.Path(__file__).resolve().parents[3]
SERVER = "http://obs-artifacts:8080"
DCGM_PATH = "/flaky-2/dcgm-exporter.tar.gz"
EFA_PATH = "/efa-exporter.tar.gz"
ARTIFACTS = pathlib.Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "artifacts"

pytestmark = pytest.mark.skipif(os.environ.get("MOLECULE_SCENARIO_NAME") != "observability",
                                reason="needs the observability scenario's artifact server")


@pytest.fixture(scope="module")
def forced(computes):
    return next(node for node in computes if node.backend.get_hostname() == "obs-compute-1")


def requests(controller):
    """What the artifact server was asked since prepare: {client, method, path, status} per request."""
    out = controller.check_output(FETCH % (SERVER + "/_requests"))
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_the_forced_node_runs_both_exporters(forced):
    for name, port, metric in (("dcgm-exporter", 9400, "DCGM_FI_DEV_GPU_UTIL"),
                               ("efa-exporter", 9109, "node_amazonefa_rx_bytes")):
        service = forced.service(name)
        assert service.is_running and service.is_enabled, name
        assert forced.file("/opt/%s/%s" % (name, name)).mode == 0o755
        assert metric in forced.check_output(FETCH % ("http://localhost:%d/metrics" % port))


def test_prometheus_scrapes_them_on_the_forced_node_only(controller):
    for job, metric in (("dcgm", "DCGM_FI_DEV_GPU_UTIL"), ("efa", "node_amazonefa_rx_bytes")):
        up = wait_for(controller, 'up{job="%s"}' % job, lambda r: r and all(s["value"][1] == "1" for s in r))
        assert [(s["metric"]["node"], s["metric"]["instance"]) for s in up] == [
            ("obs-compute-1", "obs-compute-1:%d" % (9400 if job == "dcgm" else 9109))]
        assert up[0]["metric"]["partition"] == "batch"
        assert [s["metric"]["node"] for s in query(controller, metric)] == ["obs-compute-1"]


def test_a_503_is_retried_and_a_rerun_downloads_nothing(controller):
    """Converge and idempotence have both run: two 503s, one download each, nothing after."""
    seen = requests(controller)
    assert [r["status"] for r in seen if r["path"] == DCGM_PATH] == [503, 503, 200], seen
    assert [r["status"] for r in seen if r["path"] == EFA_PATH] == [200], seen


def remote_writes(controller):
    return [r for r in requests(controller) if (r["method"], r["path"]) == ("POST", "/api/v1/remote_write")]


def test_remote_write_arrives_signed_as_amazon_managed_prometheus_requires(controller):
    """Prometheus writes to hpb-amp-forwarder on loopback, which signs with the stand-in credentials
    (prepare.yml) and sends to observability_amp_remote_write_url. The receiver recomputes every
    signature with botocore and answers 403 where it does not match: every request must be valid."""
    deadline = time.monotonic() + 90
    while True:
        posts = remote_writes(controller)
        if len(posts) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert posts and all((r["status"], r["signed"]) == (204, "valid") for r in posts), posts
    # Prometheus itself writes to the forwarder, without sigv4 of its own.
    config = controller.file("/etc/prometheus/prometheus.yml").content_string
    assert "- url: http://127.0.0.1:9095/api/v1/write" in config and "sigv4:" not in config
    service = controller.service("hpb-amp-forwarder")
    assert service.is_running and service.is_enabled
    assert controller.socket("tcp://127.0.0.1:9095").is_listening
    assert not controller.socket("tcp://0.0.0.0:9095").is_listening
    metrics = controller.check_output(FETCH % (prometheus_url(controller) + "/metrics"))
    counters = {line.split("{")[0].split(" ")[0]: float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                if line.startswith(("prometheus_remote_storage_samples_total", "prometheus_remote_storage_samples_failed_total"))}
    assert counters.get("prometheus_remote_storage_samples_total", 0) > 0, counters
    assert counters.get("prometheus_remote_storage_samples_failed_total", 0) == 0, counters
    # The forwarder's counters, as Prometheus scrapes them (job amp_forwarder).
    delivered = wait_for(controller, 'hpb_amp_forwarder_requests_total{job="amp_forwarder",result="delivered"} > 0',
                         lambda r: len(r) == 1)
    assert delivered
    assert not query(controller, 'hpb_amp_forwarder_requests_total{result=~"rejected|failed|no_credentials"} > 0')
    # Secrets stay out of the unit, the settings and the journal.
    for text in (controller.file("/etc/systemd/system/hpb-amp-forwarder.service").content_string,
                 controller.file("/etc/prometheus/hpb-amp-forwarder.json").content_string,
                 controller.check_output("journalctl -u hpb-amp-forwarder --no-pager")):
        assert "stand-in-secret-for-tests" not in text


# Posts to the receiver from the controller, with the botocore the role installed there:
# unsigned, then signed with a wrong secret. argv: URL, secret or "".
POST = """import sys, urllib.request, urllib.error
headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"}
if sys.argv[2]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    signed = AWSRequest(method="POST", url=sys.argv[1], data=b"x", headers=headers)
    SigV4Auth(Credentials("AKIDSTANDIN0000000000", sys.argv[2]), "aps", "us-west-2").add_auth(signed)
    headers = dict(signed.headers.items())
try:
    print(urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=b"x", headers=headers), timeout=10).status)
except urllib.error.HTTPError as error:
    print(error.code)
"""


def test_the_receiver_refuses_unsigned_and_wrongly_signed_writes(controller):
    """The check above means something: the scenario's receiver does refuse what AMP refuses."""
    before = len(remote_writes(controller))
    url = SERVER + "/api/v1/remote_write"
    for secret in ("", "a-wrong-secret"):
        out = controller.check_output("python3 -c %s %s '%s'" % (shlex.quote(POST), url, secret))
        assert out.strip() == "403", (secret, out)
    assert [r["signed"] for r in remote_writes(controller)[before:] if r["status"] == 403] == [
        "no SigV4 Authorization header", "signature does not match"]


def run_role(tmp_path, host, tasks_from="main", gather_facts=False):
    """ansible-playbook runs the role (one of its task files) on host alone; returns its output."""
    playbook = [{"name": "The role", "hosts": host, "gather_facts": gather_facts,
                 "tasks": [{"ansible.builtin.include_role": {"name": "hyperpod.slurm.observability",
                                                             "tasks_from": tasks_from}}]}]
    (tmp_path / "play.yml").write_text(json.dumps(playbook))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
               ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_COLLECTIONS_PATH="%s:%s" % (ROOT / ".cache" / "collection", ROOT / ".collections"))
    result = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", host + ",",
                             "-c", "containers.podman.podman", str(tmp_path / "play.yml")],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result.stdout


def test_the_delivery_check_reports_delivered(tmp_path):
    """The role's tasks/amp_delivery.yml, run again on the controller: one line, delivered."""
    output = run_role(tmp_path, "obs-controller", "amp_delivery", gather_facts=True)
    assert "observability: remote_write to Amazon Managed Prometheus delivered: " in output, output[-4000:]


def test_the_role_stands_down_where_hyperpods_observability_runs(computes, tmp_path):
    """HyperPod's stack as its lifecycle scripts leave it: /etc/otel/config.yaml and a running
    container otel-collector (a stand-in docker answers ps with its id). The whole role on
    obs-compute-2: one line, nothing changed, no new port."""
    node = next(n for n in computes if n.backend.get_hostname() == "obs-compute-2")
    def listening():
        return {line.split()[3] for line in node.check_output("ss -ltnH").splitlines() if line.strip()}
    ports = listening()
    try:
        node.run("mkdir -p /etc/otel && echo 'receivers: {}' > /etc/otel/config.yaml && "
                 "printf '#!/bin/sh\\necho 0123456789ab\\n' > /usr/local/bin/docker && chmod 755 /usr/local/bin/docker")
        output = run_role(tmp_path, "obs-compute-2")
    finally:
        node.run("rm -rf /etc/otel /usr/local/bin/docker")
    assert ("observability: HyperPod's observability runs on obs-compute-2 (/etc/otel/config.yaml and the running "
            "container otel-collector): this role stands down, nothing installed, no port taken.") in output, output
    assert "changed=0" in output.split("PLAY RECAP")[-1] and "failed=0" in output.split("PLAY RECAP")[-1]
    assert listening() == ports


def test_nodes_not_forced_get_no_exporter(all_nodes):
    for node in [n for n in all_nodes if n.backend.get_hostname() != "obs-compute-1"]:
        assert not node.file("/opt/dcgm-exporter").exists
        assert not node.file("/opt/efa-exporter").exists


def run_exporter_tasks(tmp_path, cases):
    """Runs the role's tasks/exporter.yml on obs-compute-2 once per case (name, url, sha256, args), each
    in a block whose rescue keeps the failure message, then tasks/devices.yml; returns
    ({name: message or None}, Ansible's output)."""
    playbook = [{"name": "The exporter tasks", "hosts": "obs-compute-2", "gather_facts": False,
                 "vars": {"packages_download_retries": 2, "packages_download_delay": 1, "messages": {}},
                 "tasks": [{"block": [{"ansible.builtin.include_role": {
                     "name": "hyperpod.slurm.observability", "tasks_from": "exporter"},
                     "vars": {"__observability_exporter": {"name": name, "setting": "observability_test_exporter",
                                                          "url": url, "sha256": sha256, "args": args}}},
                     {"ansible.builtin.set_fact": {"messages": "{{ messages | combine({'%s': None}) }}" % name}}],
                     "rescue": [{"ansible.builtin.set_fact": {
                         "messages": "{{ messages | combine({'%s': ansible_failed_result.msg}) }}" % name}}]}
                     for name, url, sha256, args in cases] + [
                     # Detection on a node without the devices: the skip lines.
                     {"ansible.builtin.include_role": {"name": "hyperpod.slurm.observability", "tasks_from": "devices"}},
                     {"ansible.builtin.copy": {"content": "{{ messages | to_json }}", "dest": str(tmp_path / "out.json"),
                                               "mode": "0644"}, "delegate_to": "localhost"}]}]
    (tmp_path / "play.yml").write_text(json.dumps(playbook))
    # One JSON line per message, uncoloured: the YAML format folds long messages.
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
               ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_COLLECTIONS_PATH="%s:%s" % (ROOT / ".cache" / "collection", ROOT / ".collections"))
    result = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "obs-compute-2,",
                             "-c", "containers.podman.podman", str(tmp_path / "play.yml")],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return json.loads((tmp_path / "out.json").read_text()), result.stdout


def test_a_bad_checksum_or_a_dead_url_fails_clearly_and_no_device_says_skipped(controller, computes, tmp_path):
    node = next(n for n in computes if n.backend.get_hostname() == "obs-compute-2")
    actual = (ARTIFACTS / "efa-exporter.tar.gz.sha256").read_text().strip()
    wrong, bad_url, dead_url = "0" * 64, SERVER + "/flaky-0/efa-exporter.tar.gz", SERVER + "/flaky-99/efa-exporter.tar.gz"
    # A release shipped with the bundle (offline clusters): a file:// URL.
    try:
        subprocess.run(["podman", "exec", "-i", "obs-compute-2", "sh", "-c",
                        "mkdir -p /tmp/bundle-files && cat > /tmp/bundle-files/efa.tar.gz"],
                       input=(ARTIFACTS / "efa-exporter.tar.gz").read_bytes(), check=True)
        messages, output = run_exporter_tasks(tmp_path, [
            ("bad-checksum", bad_url, wrong, ""), ("dead-url", dead_url, actual, ""),
            # The release's binary is efa-exporter: so is the name (removed again below).
            ("efa-exporter", "file:///tmp/bundle-files/efa.tar.gz", actual, "--web.listen-address=:9109")])
        file_release_ran = node.service("efa-exporter").is_running
    finally:
        node.run("systemctl disable --now efa-exporter; rm -rf /opt/bad-checksum /opt/dead-url /opt/efa-exporter "
                 "/etc/systemd/system/efa-exporter.service /tmp/bundle-files; systemctl daemon-reload")
    assert messages["efa-exporter"] is None and file_release_ran
    assert messages["bad-checksum"] == (
        "observability: bad-checksum: %s has sha256 %s, but observability_test_exporter_sha256 is %s; pin the "
        "checksum of the release you mean (sha256sum FILE) or fix the URL." % (bad_url, actual, wrong))
    assert messages["dead-url"].startswith(
        "observability: dead-url: %s could not be downloaded in 3 attempts (Request failed 503); " % dead_url)
    seen = requests(controller)
    # A wrong checksum is not asked for again; a dead URL is, within the bound.
    assert [r["path"] for r in seen].count("/flaky-0/efa-exporter.tar.gz") == 1
    assert [r["path"] for r in seen].count("/flaky-99/efa-exporter.tar.gz") == 3
    assert not node.file("/etc/systemd/system/bad-checksum.service").exists
    assert "observability: no NVIDIA GPU (no /dev/nvidia0, no nvidia-smi): DCGM exporter skipped" in output
    assert ("observability: no EFA device (no /sys/class/infiniband/*efa*, no fi_info -p efa): EFA exporter skipped"
            in output)
