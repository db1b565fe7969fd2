"""slurm_controller's takeover program (SlurmctldPrimaryOnProg/OffProg, multi-head): it logs the event,
publishes it to SNS when a topic is set, retries a bounded number of times, and never fails.

SNS is moto's in-process mock here (an SQS queue subscribed to the topic receives what was
published); the standalone scenario's controllers reach a moto server."""

import json

import boto3
import pytest

import source_files

notice = source_files.load("roles/slurm_controller/files/slurm_takeover_notice.py")

REGION = "us-west-2"


@pytest.fixture
def sns(fake_aws):
    """(topic ARN, read()): read() returns the messages the topic delivered to a subscribed queue."""
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="slurm-events")["TopicArn"]
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    def read():
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in got]
    return topic, read


def config(tmp_path, **settings):
    path = tmp_path / "takeover-notice.json"
    path.write_text(json.dumps(dict({"log_file": str(tmp_path / "takeover.log")}, **settings)))
    return str(path)


def logged(tmp_path):
    return (tmp_path / "takeover.log").read_text()


def test_on_publishes_to_the_topic_and_logs(sns, tmp_path):
    topic, read = sns
    assert notice.main(["--config", config(tmp_path, topic_arn=topic)], argv0="/usr/local/sbin/x-on") == 0
    [body] = read()
    assert body["Subject"] == notice.SUBJECT
    assert "is now the primary" in body["Message"]
    assert "takeover: slurmctld on" in logged(tmp_path)
    assert f"published to {topic}" in logged(tmp_path)


def test_off_by_its_name_says_no_longer_primary(sns, tmp_path):
    topic, read = sns
    notice.main(["--config", config(tmp_path, topic_arn=topic)], argv0="/usr/local/sbin/slurm-takeover-notice-off")
    assert "is no longer the primary" in read()[0]["Message"]


def test_without_a_topic_it_only_logs(tmp_path):
    assert notice.main(["on", "--config", config(tmp_path)]) == 0
    assert "is now the primary" in logged(tmp_path)
    assert "publish" not in logged(tmp_path)


def test_a_failed_publish_is_retried_then_logged_and_exits_0(sns, tmp_path, monkeypatch):
    sleeps = []
    real = notice.publish
    monkeypatch.setattr(notice, "publish", lambda c, t: real(c, t, sleep=sleeps.append))
    missing = "arn:aws:sns:us-west-2:123456789012:no-such-topic"
    assert notice.main(["on", "--config", config(tmp_path, topic_arn=missing, attempts=3)]) == 0
    assert sleeps == [1, 2]  # three tries, bounded backoff
    assert f"could not publish to {missing}" in logged(tmp_path)
    assert "the takeover goes on" in logged(tmp_path)


def test_an_unreachable_endpoint_does_not_block(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    real = notice.publish
    monkeypatch.setattr(notice, "publish", lambda c, t: real(c, t, sleep=lambda s: None))
    path = config(tmp_path, topic_arn="arn:aws:sns:us-west-2:123456789012:t", endpoint_url="http://127.0.0.1:9",
                  attempts=2)
    assert notice.main(["off", "--config", path]) == 0
    assert "could not publish" in logged(tmp_path)


def test_a_missing_config_file_still_logs_somewhere(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(notice, "DEFAULT_LOG", str(tmp_path / "no-such-dir" / "takeover.log"))
    assert notice.main(["on", "--config", str(tmp_path / "missing.json")]) == 0
    assert "is now the primary" in capsys.readouterr().err


def test_a_name_without_on_or_off_changes_nothing(tmp_path):
    assert notice.main(["--config", config(tmp_path)], argv0="slurm-takeover-notice") == 0
    assert "without on/off" in logged(tmp_path)
