"""A converge run as people and machines read it: one line per task result, a table per role, the
failure in one line, and the JSON summary (summary-<stamp>.json, summary-latest.json).

The callback hyperpod.slurm.progress produces them during a run; bootstrap.py completes the
summary with what only it knows (Ansible's exit status, the mode, where the logs are), and writes
one itself when Ansible stopped before its first task. tools/cluster, bench/converge.py, the test
harness and the integration tests read the summary's fields.
"""

import datetime
import json
import os
from pathlib import Path

from ansible_collections.hyperpod.slurm.plugins.plugin_utils.inputs import one_line

TASK_LINE_WIDTH = 64
COUNTS = ("ok", "changed", "failed", "skipped")
# The tag of tasks that wait for another node or service (slurmctld, slurmdbd, the file system, the
# platform's slurm.conf): their time is reported apart from work, as "waited".
WAITING = "waiting"


def stamp(epoch):
    """The run's UTC time stamp, as summary file names carry it."""
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


class Tally:
    """Counts per role, as Ansible's PLAY RECAP counts them: a loop is one result per task, an
    ignored failure is ok, an unreachable host is a failure. The last failure that was not ignored."""

    def __init__(self):
        self.roles = {}
        self.failure = None

    def result(self, role, task, host, kind, res, duration, ignored=False, waiting=False):
        """One task result; kind: ok, failed, skipped or unreachable; waiting: the task waits for
        another node or service (its tag WAITING), its time is also counted as waited. Returns its
        status word."""
        res = res if isinstance(res, dict) else {}
        counts = self.roles.setdefault(role, {**dict.fromkeys(COUNTS, 0), "seconds": 0.0, "waited": 0.0})
        changed = bool(res.get("changed"))
        if kind in ("failed", "unreachable") and ignored:
            status = "ignored"
        elif kind == "ok":
            status = "changed" if changed else "ok"
        else:
            status = kind
        if status in ("failed", "unreachable"):
            counts["failed"] += 1
            # Ansible names a role's argument check after the spec's whole description.
            self.failure = {"role": role, "task": "argument spec" if res.get("argument_errors") else task,
                            "host": host, "msg": result_message(res)}
        elif status == "skipped":
            counts["skipped"] += 1
        else:
            counts["ok"] += 1
            counts["changed"] += changed
        # seconds: the role's tasks' time (one host, tasks one after another), for bench/converge.py
        counts["seconds"] += duration
        counts["waited"] += duration if waiting else 0.0
        return status


def result_message(res):
    """A failed result's reason. Results of no_log tasks arrive censored from Ansible."""
    if not isinstance(res, dict):
        return ""
    if res.get("argument_errors"):  # a role's argument spec refused a value bootstrap.py could not check
        role = (res.get("validate_args_context") or {}).get("name", "?")
        return one_line(f"{'; '.join(map(str, res['argument_errors']))}; fix the variable in group_vars or -e "
                        f"(see roles/{role}/README.md)")
    msg = res.get("msg") or res.get("censored") or res.get("reason") or ""
    stderr = str(res.get("stderr") or "").strip()
    if stderr:
        msg = f"{msg}: {stderr.splitlines()[-1]}" if msg else stderr.splitlines()[-1]
    for item in res.get("results") or []:  # a loop: say which item failed and why
        if isinstance(item, dict) and item.get("failed"):
            msg = f"{msg}: {result_message(item)}"
            break
    return one_line(msg or "no message")


def task_line(seconds, role, task, status):
    label = f"{role} | {task} "
    return f"{seconds:7.1f}s  {label.ljust(TASK_LINE_WIDTH, '.')} {status}"


def summary(node, check, started, elapsed, totals, roles, failure):
    """The run's summary, without what only bootstrap.py knows (mode, rc, artifacts, log)."""
    return {
        "node": node,
        "status": "failed" if totals["failed"] else "successful",
        "check": bool(check),
        "started": started,
        "elapsed_seconds": round(elapsed, 1),
        "waited_seconds": round(sum(c.get("waited", 0.0) for c in roles.values()), 1),
        **totals,
        "roles": {name: dict(c, seconds=round(c["seconds"], 1), waited=round(c.get("waited", 0.0), 1))
                  for name, c in roles.items()},
        "failure": failure if totals["failed"] else None,
    }


# Keys the roles may add to the summary with ansible.builtin.set_stats (aggregated over the run).
REPORTED = ("node_facts", "observability")


def reported(custom):
    """The REPORTED keys of the run's set_stats data (Ansible's stats.custom['_run']), or {}."""
    run = (custom or {}).get("_run") if isinstance(custom, dict) else None
    return {key: run[key] for key in REPORTED if isinstance(run, dict) and key in run}


def table(summary):
    """The lines a run ends with: counts, seconds and seconds waited per role, the total, the verdict."""
    lines = ["", f"{'role':<28}{'ok':>6}{'changed':>9}{'failed':>8}{'skipped':>9}{'seconds':>9}{'waited':>8}"]
    rows = list(summary["roles"].items()) + [
        ("total", dict(summary, seconds=summary["elapsed_seconds"], waited=summary.get("waited_seconds", 0.0)))]
    for name, c in rows:
        lines.append(f"{name:<28}{c['ok']:>6}{c['changed']:>9}{c['failed']:>8}{c['skipped']:>9}{c['seconds']:>9.1f}"
                     f"{c.get('waited', 0.0):>8.1f}")
    lines.append(f"{summary['node']}: {summary['status']} in {summary['elapsed_seconds']:.1f}s"
                 f"{' (check mode)' if summary['check'] else ''}")
    return lines


def failure_line(failure):
    return f"FAILED: role {failure['role']}, task {failure['task']}: {failure['msg']}"


def write(directory, summary):
    """summary-<started>.json and summary-latest.json in directory, each replaced whole."""
    for name in (f"summary-{summary['started']}.json", "summary-latest.json"):
        path = Path(directory, name)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)


def read(directory, started):
    """The summary of the run that started at that stamp, or None where there is none."""
    try:
        return json.loads(Path(directory, f"summary-{started}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
