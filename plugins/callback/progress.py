# One line per task result, a table per role and a JSON summary of the run: what bootstrap.py shows
# of a node's converge, and what plain ansible-playbook or Molecule show with this callback enabled.

import os
import time

from ansible import context
from ansible.plugins.callback import CallbackBase
from ansible.playbook.role_include import IncludeRole
from ansible_collections.hyperpod.slurm.plugins.plugin_utils import run_summary

DOCUMENTATION = r"""
name: progress
type: aggregate
short_description: One line per task with its time and result, a table per role, a JSON run summary
description:
  - For every task result, one line with its duration, role, task name and result
    (C(ok), C(changed), C(failed), C(skipped), C(ignored), C(unreachable)); at the end a table
    of counts, seconds and seconds waited per role, the verdict, and the failure in one line, which
    starts with C(FAILED) and names the role, the task and the reason.
  - Waited is the time of tasks tagged C(waiting), those that wait for another node or service
    (slurmctld, slurmdbd, the file system, the platform's slurm.conf), reported apart from work.
  - Counts are the PLAY RECAP's. A role's argument spec refusing a value is reported as the task
    C(argument spec), with the refused arguments.
  - Tasks of the collection's shared role C(packages), which other roles include for one step
    (an install, a download), are shown and counted as part of the role and task that included them,
    their task's name after the including task's; the include, its argument check and its skipped
    tasks show no line.
  - With O(summary_dir), the run's summary as JSON, in C(summary-<UTC stamp>.json) and
    C(summary-latest.json), with the fields node, status, check, started, elapsed_seconds,
    waited_seconds, ok, changed, failed, skipped, roles (each with seconds and waited) and failure. bootstrap.py adds mode, rc, artifacts, log and cpu_seconds (the CPU time of the run's processes).
  - It runs beside the stdout callback, whose output stays where it goes. It is made for runs of
    one host at a time (HyperPod's nodes converge themselves); with several hosts, the summary
    names them all.
requirements:
  - enabled in callbacks_enabled (ansible.cfg [defaults]) or ANSIBLE_CALLBACKS_ENABLED
options:
  output_file:
    description:
      - Append the lines to this file instead of showing them with Ansible's output. bootstrap.py
        passes them on from there to its own output, while Ansible's output goes to its log.
    type: path
    env:
      - name: HYPERPOD_PROGRESS_OUTPUT
    ini:
      - section: callback_hyperpod_progress
        key: output_file
  summary_dir:
    description: Write the run's summary there. Unset, no summary is written.
    type: path
    env:
      - name: HYPERPOD_PROGRESS_SUMMARY_DIR
    ini:
      - section: callback_hyperpod_progress
        key: summary_dir
  started:
    description:
      - When the run started, in seconds since the epoch; the summary's time stamp, file name and
        elapsed time count from it. bootstrap.py gives its own start, so that its checks count too.
        Unset, the playbook's start.
    type: float
    env:
      - name: HYPERPOD_PROGRESS_STARTED
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = hyperpod.slurm.progress
#
# [callback_hyperpod_progress]
# summary_dir = /var/log/provision
#
# Output, one line per task result, then the table:
#     0.4s  slurm_common | Install Slurm and munge ............................ changed
"""


# Roles other roles include for one step (roles/packages): their tasks are that role's business.
SHARED_ROLES = {"packages"}


def reported_as(task, status):
    """(role, task name, shown): where a result is counted, and whether it gets a line."""
    role = task._role._role_name if getattr(task, "_role", None) else "-"
    name = task.name or task.action
    if isinstance(task, IncludeRole) and task._role_name.rsplit(".", 1)[-1] in SHARED_ROLES:
        return role, name, status == "failed"
    if role.rsplit(".", 1)[-1] not in SHARED_ROLES:
        return role, name, True
    including = task._parent
    while including is not None and not isinstance(including, IncludeRole):
        including = including._parent
    if including is None:  # applied on its own, not included
        return role, name, True
    # Its argument check and its skipped tasks are details of the step: counted, not shown.
    detail = status == "skipped" or (task.action.rsplit(".", 1)[-1] == "validate_argument_spec" and status != "failed")
    return (including._role._role_name if including._role else "-",
            "%s: %s" % (including.name or including.get_name(), name), not detail)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "hyperpod.slurm.progress"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._tally = run_summary.Tally()
        self._started = None
        self._task_start = {}  # (host, task uuid) -> monotonic time its run on that host started
        self._output = None

    def v2_playbook_on_start(self, playbook):
        self._started = self.get_option("started") or time.time()
        path = self.get_option("output_file")
        if path:
            self._output = open(path, "a", encoding="utf-8")

    def _show(self, line):
        if self._output:
            self._output.write(line + "\n")
            self._output.flush()
        else:
            self._display.display(line)

    def v2_runner_on_start(self, host, task):
        self._task_start[(host.get_name(), task._uuid)] = time.monotonic()

    def _done(self, result, kind, ignored=False):
        task, host = result._task, result._host.get_name()
        started = self._task_start.pop((host, task._uuid), None)
        duration = time.monotonic() - started if started is not None else 0.0
        role, name, shown = reported_as(task, kind)
        status = self._tally.result(role, name, host, kind, result._result, duration, ignored,
                                    waiting=run_summary.WAITING in (task.tags or []))
        if shown:
            self._show(run_summary.task_line(duration, role, name, status))

    def v2_runner_on_ok(self, result):
        self._done(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._done(result, "failed", ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._done(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._done(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        def total(counts):
            return sum(counts.values())
        totals = {"ok": total(stats.ok), "changed": total(stats.changed), "skipped": total(stats.skipped),
                  "failed": total(stats.failures) + total(stats.dark)}
        started = self._started or time.time()
        summary = run_summary.summary(", ".join(sorted(stats.processed)), context.CLIARGS.get("check"),
                                      run_summary.stamp(started), time.time() - started, totals,
                                      self._tally.roles, self._tally.failure)
        # What roles report with set_stats (slurm_compute: the node's hardware against its node line).
        summary.update(run_summary.reported(getattr(stats, "custom", None)))
        for line in run_summary.table(summary):
            self._show(line)
        if summary["failure"]:
            self._show(run_summary.failure_line(summary["failure"]))
        directory = self.get_option("summary_dir")
        if directory:
            os.makedirs(directory, exist_ok=True)
            run_summary.write(directory, summary)
        if self._output:
            self._output.close()
            self._output = None
