# Installed by the slurm_controller role (multi-head) as slurm-takeover-notice, with a first line
# naming the Python to run it, and linked as slurm-takeover-notice-on and -off: slurmctld runs them
# (SlurmctldPrimaryOnProg, SlurmctldPrimaryOffProg) when this controller takes or gives up control.
"""Tell of a slurmctld takeover: one line in the log, and a message to an SNS topic when one is set.

The program's name says which event (ending in -on: this controller became primary, -off: it stopped
being primary); or `slurm-takeover-notice on|off`. Settings come from a JSON file (--config, default
/etc/slurm-takeover-notice.json): topic_arn, region, endpoint_url, log_file, attempts, environment
(variables for boto3, tests' credentials). A publish that fails is retried a bounded number of
times, then logged: it never fails the takeover (the exit status is always 0).
"""

import argparse
import datetime
import json
import os
import socket
import sys
import time

DEFAULT_CONFIG = "/etc/slurm-takeover-notice.json"
DEFAULT_LOG = "/var/log/slurm/takeover.log"
SUBJECT = "Slurm controller takeover"


def event_from_name(argv0):
    name = os.path.basename(argv0)
    for event in ("on", "off"):
        if name.endswith("-" + event):
            return event
    return None


def read_config(path):
    """The settings, or {} where the file is missing or unreadable (then only the log line)."""
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
        return config if isinstance(config, dict) else {}
    except (OSError, ValueError):
        return {}


def log(log_file, text):
    line = f"{datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')} {text}\n"
    try:
        with open(log_file, "a", encoding="utf-8") as f:
            f.write(line)
    except OSError:
        sys.stderr.write(line)


def message(event, host):
    state = "is now the primary (in control)" if event == "on" else "is no longer the primary"
    return f"slurmctld on {host} {state}."


def publish(config, text, sleep=time.sleep):
    """Publish text to the topic: (True, '') or (False, why) after at most `attempts` tries."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        return False, "boto3 is not installed for this Python"
    arn = config["topic_arn"]
    region = config.get("region") or (arn.split(":")[3] if arn.count(":") >= 5 else None)
    attempts = max(1, min(int(config.get("attempts", 3)), 10))
    client = boto3.client("sns", region_name=region, endpoint_url=config.get("endpoint_url") or None,
                          config=Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 1}))
    why = ""
    for attempt in range(1, attempts + 1):
        try:
            client.publish(TopicArn=arn, Subject=SUBJECT, Message=text)
            return True, ""
        except Exception as e:  # noqa: BLE001 - whatever fails, the takeover goes on
            why = f"{type(e).__name__}: {e}"
            if attempt < attempts:
                sleep(min(2 ** (attempt - 1), 4))
    return False, why


def main(argv=None, argv0=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("event", nargs="?", choices=["on", "off"])
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    args = parser.parse_args(argv)
    event = args.event or event_from_name(argv0 or sys.argv[0])
    config = read_config(args.config)
    log_file = config.get("log_file") or DEFAULT_LOG
    if event is None:
        log(log_file, "slurm-takeover-notice: called without on/off (name ends in neither -on nor -off)")
        return 0
    for key, value in (config.get("environment") or {}).items():
        os.environ[str(key)] = str(value)
    host = socket.gethostname()
    text = message(event, host)
    log(log_file, "takeover: " + text)
    if config.get("topic_arn"):
        ok, why = publish(config, text)
        log(log_file, f"takeover: published to {config['topic_arn']}" if ok else
            f"takeover: could not publish to {config['topic_arn']} ({why}); the takeover goes on")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - never block slurmctld's takeover
        sys.stderr.write(f"slurm-takeover-notice: {e}\n")
        sys.exit(0)
