"""The observability role's SigV4 forwarder (roles/observability/files/hpb-amp-forwarder) against the
tests' remote_write receiver (tests/harness/artifact_server.py), which checks each signature as
Amazon Managed Prometheus does, with botocore, from stand-in credentials."""

import datetime
import email.message
import importlib.machinery
import importlib.util
import json
import pathlib
import sys
import threading
import urllib.error
import urllib.request

import pytest
from botocore.credentials import Credentials

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "harness"))
import artifact_server  # noqa: E402 - tests/harness

KEY, SECRET, REGION = "AKIDSTANDIN0000000000", "stand-in-secret-do-not-log", "us-west-2"
GIVEN = {"access_key": KEY, "secret_key": SECRET, "region": REGION}
BODY = b"\xff\x00snappy-compressed protobuf stand-in"
HEADERS = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
           "X-Prometheus-Remote-Write-Version": "0.1.0", "User-Agent": "Prometheus/2.42.0"}


def load_forwarder():
    path = ROOT / "roles" / "observability" / "files" / "hpb-amp-forwarder"
    loader = importlib.machinery.SourceFileLoader("hpb_amp_forwarder", str(path))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


fwd = load_forwarder()


@pytest.fixture
def receiver(tmp_path):
    server = artifact_server.start(tmp_path, credentials=GIVEN)
    yield server
    server.shutdown()


def forwarder(url, secret=SECRET, token=None, attempts=3, credentials=True):
    logged, slept = [], []
    given = Credentials(KEY, secret, token) if credentials else None
    return fwd.Forwarder({"url": url, "region": REGION, "attempts": attempts, "timeout": 5},
                         lambda: given, sleep=slept.append, log=logged.append), logged, slept


def test_a_signed_request_reaches_the_receiver_valid_and_unchanged(receiver):
    f, logged, slept = forwarder(receiver.url + "/api/v1/remote_write")
    assert f.send(BODY, HEADERS)[0] == 204
    assert [(r["path"], r["status"], r["signed"]) for r in receiver.requests] == [
        ("/api/v1/remote_write", 204, "valid")]
    assert f.counts["delivered"] == 1 and not logged and not slept
    assert 'hpb_amp_forwarder_requests_total{result="delivered"} 1' in f.metrics().decode()


def test_a_session_token_is_signed_too(receiver):
    f, _, _ = forwarder(receiver.url + "/api/v1/remote_write", token="stand-in-session-token")
    assert f.send(BODY, HEADERS)[0] == 204
    assert receiver.requests[-1]["signed"] == "valid"


def test_a_wrong_secret_is_refused_not_retried_and_the_secret_never_logged(receiver):
    f, logged, slept = forwarder(receiver.url + "/api/v1/remote_write", secret="another-secret")
    status, _ = f.send(BODY, HEADERS)
    f.send(BODY, HEADERS)
    assert status == 403 and f.counts["rejected"] == 2 and not slept
    assert [r["signed"] for r in receiver.requests] == ["signature does not match"] * 2
    # One line for the kind of problem, not one per request; no secret in it.
    assert len(logged) == 1 and "answered 403 after 1 attempt(s)" in logged[0]
    assert "another-secret" not in logged[0] and SECRET not in logged[0]


def test_5xx_is_retried_within_the_bound(receiver):
    f, _, slept = forwarder(receiver.url + "/flaky-2/api/v1/remote_write")
    assert f.send(BODY, HEADERS)[0] == 204
    assert [r["status"] for r in receiver.requests] == [503, 503, 204] and slept == [1, 2]
    assert f.retries == 2 and f.counts["delivered"] == 1


def test_a_receiver_down_for_longer_gives_prometheus_the_5xx_to_retry(receiver):
    f, logged, _ = forwarder(receiver.url + "/flaky-9/api/v1/remote_write")
    assert f.send(BODY, HEADERS)[0] == 503
    assert len(receiver.requests) == 3 and f.counts["failed"] == 1
    assert "answered 503 after 3 attempt(s)" in logged[0]


def test_an_unreachable_url_is_a_502(receiver):
    port = receiver.server_address[1]
    receiver.shutdown()
    receiver.server_close()
    f, logged, _ = forwarder("http://127.0.0.1:%d/api/v1/remote_write" % port, attempts=2)
    assert f.send(BODY, HEADERS)[0] == 502 and f.counts["failed"] == 1
    assert "unreachable" in logged[0]


def test_no_credentials_forwards_nothing(receiver):
    f, logged, _ = forwarder(receiver.url + "/api/v1/remote_write", credentials=False)
    assert f.send(BODY, HEADERS)[0] == 503
    assert not receiver.requests and f.counts["no_credentials"] == 1 and "no AWS credentials" in logged[0]


def test_the_server_forwards_posts_and_shows_its_counters(receiver):
    f, _, _ = forwarder(receiver.url + "/api/v1/remote_write")
    server = fwd.Server(("127.0.0.1", 0), f)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = "http://127.0.0.1:%d" % server.server_address[1]
        with urllib.request.urlopen(urllib.request.Request(base + "/api/v1/write", data=BODY, headers=HEADERS,
                                                           method="POST"), timeout=10) as answer:
            assert answer.status == 204
        assert receiver.requests[-1]["signed"] == "valid"
        with urllib.request.urlopen(base + "/metrics", timeout=10) as answer:
            text = answer.read().decode()
        assert 'hpb_amp_forwarder_requests_total{result="delivered"} 1' in text
        with pytest.raises(urllib.error.HTTPError) as empty:
            urllib.request.urlopen(urllib.request.Request(base + "/", data=b"", method="POST"), timeout=10)
        assert empty.value.code == 400
    finally:
        server.shutdown()
        server.server_close()


def signed_headers(url, body=BODY, secret=SECRET):
    return fwd.sign(url, REGION, body, dict(HEADERS), Credentials(KEY, secret))


def received(headers):
    """Headers as the receiver gets them: case-insensitive, as http.server's."""
    message = email.message.Message()
    for name, value in headers.items():
        message[name] = value
    return message


@pytest.mark.parametrize("change, problem", [
    (lambda h, b: (dict((k, v) for k, v in h.items() if k != "Authorization"), b), "no SigV4 Authorization header"),
    (lambda h, b: (h, b + b"x"), "signature does not match"),
    (lambda h, b: (dict(h, **{"Content-Encoding": "gzip"}), b), "signature does not match"),
    (lambda h, b: (dict(h, Authorization=h["Authorization"].replace(REGION, "eu-west-1")), b), "scope eu-west-1/aps"),
    (lambda h, b: (dict(h, Authorization=h["Authorization"].replace(KEY, "AKIDOTHER")), b), "signed with key AKIDOTHER"),
    (lambda h, b: (dict(h, **{"X-Amz-Date": "20200101T000000Z"}), b), "more than 5 minutes off"),
])
def test_the_receiver_refuses_unsigned_and_altered_requests(change, problem):
    url = "http://receiver:8080/api/v1/remote_write"
    headers, body = signed_headers(url), BODY
    headers["Host"] = "receiver:8080"
    assert artifact_server.sigv4_problem("POST", "/api/v1/remote_write", received(headers), body, GIVEN) is None
    headers, body = change(headers, body)
    assert problem in artifact_server.sigv4_problem("POST", "/api/v1/remote_write", received(headers), body, GIVEN)


def test_the_receiver_accepts_a_signature_made_minutes_ago_within_the_bound():
    headers = signed_headers("http://receiver:8080/api/v1/remote_write")
    headers["Host"] = "receiver:8080"
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=4)
    assert artifact_server.sigv4_problem("POST", "/api/v1/remote_write", received(headers), BODY, GIVEN,
                                          now=later) is None


def test_the_config_the_role_writes_is_read(tmp_path):
    config = tmp_path / "forwarder.json"
    config.write_text(json.dumps({"listen": "127.0.0.1", "port": 0, "url": "http://x/", "region": REGION}))
    f = fwd.Forwarder(json.loads(config.read_text()), lambda: None)
    assert (f.attempts, f.timeout) == (3, 10.0)


# The delivery check after start (filter amp_delivery, role observability's tasks/amp_delivery.yml)
# and its place in the run summary.
sys.path.insert(0, str(ROOT))
from plugins.filter.amp_delivery import amp_delivery  # noqa: E402
from ansible_collections.hyperpod.slurm.plugins.plugin_utils import run_summary  # noqa: E402

PROMETHEUS = """# TYPE prometheus_remote_storage_samples_total counter
prometheus_remote_storage_samples_total{remote_name="abc",url="http://127.0.0.1:9095/api/v1/write"} 1234
prometheus_remote_storage_samples_failed_total{remote_name="abc",url="http://127.0.0.1:9095/api/v1/write"} %d
"""


def test_delivery_read_from_the_forwarders_own_page(receiver):
    f, _, _ = forwarder(receiver.url + "/api/v1/remote_write")
    assert amp_delivery(f.metrics().decode())["status"] == "waiting"
    f.send(BODY, HEADERS)
    result = amp_delivery(f.metrics().decode(), PROMETHEUS % 0)
    assert (result["status"], result["delivered"], result["samples_sent"]) == ("delivered", 1, 1234)
    assert result["line"] == ("observability: remote_write to Amazon Managed Prometheus delivered: "
                              "1 request(s) delivered, none refused")


def test_refused_requests_or_dropped_samples_are_failing(receiver):
    f, _, _ = forwarder(receiver.url + "/api/v1/remote_write", secret="wrong")
    f.send(BODY, HEADERS)
    result = amp_delivery(f.metrics().decode(), PROMETHEUS % 0)
    assert result["status"] == "failing" and result["rejected"] == 1
    assert "refused 1 request(s)" in result["line"] and "journalctl -u hpb-amp-forwarder" in result["line"]
    delivered = 'hpb_amp_forwarder_requests_total{result="delivered"} 5\n'
    assert amp_delivery(delivered, PROMETHEUS % 7)["status"] == "failing"
    assert amp_delivery(delivered, PROMETHEUS % 7)["samples_failed"] == 7


def test_no_credentials_and_unreadable_pages():
    assert "no AWS credentials" in amp_delivery('hpb_amp_forwarder_requests_total{result="no_credentials"} 2')["line"]
    assert amp_delivery("", "")["status"] == "waiting"
    assert amp_delivery("<html>not metrics</html>\nx y z")["status"] == "waiting"


def test_the_run_summary_takes_the_observability_report():
    report = {"amp_remote_write": {"status": "delivered"}}
    assert run_summary.reported({"_run": {"observability": report}}) == {"observability": report}
