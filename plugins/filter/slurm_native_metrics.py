"""Slurm's own metrics (Slurm 25.11 and newer: MetricsType=metrics/openmetrics, served by slurmctld
over HTTP on its SlurmctldPort) under the names of the Slurm exporter that AWS's Slurm dashboard
reads (roles slurm_controller and observability).

Checked against a real slurmctld 26.05.5 (Debian sid): GET /metrics lists /metrics/jobs,
/metrics/nodes, /metrics/partitions, /metrics/jobs-users-accts and /metrics/scheduler, which answer
in Prometheus's text format without authentication while PrivateData is unset. With PrivateData
set, only SlurmUser and root may read them (JWT), unless MetricsAuthUsers or
MetricsParameters=ignore_private_data says otherwise (slurm.conf(5) of that release)."""

import re

from ansible_collections.hyperpod.slurm.plugins.filter.slurm_version import slurm_release

# The first release with the metrics plugin.
NATIVE_RELEASE = (25, 11)
METRICS_TYPE = "metrics/openmetrics"

# The endpoints scraped: the dashboard's names come from these three; jobs-users-accts (a series
# per user and account) and partitions are left out.
NATIVE_ENDPOINTS = ("jobs", "nodes", "scheduler")

# native name -> the exporter's name (the dashboard's). Names that are the same in both are listed
# too (nothing to rename, but they are part of the mapping the README documents).
NATIVE_TO_DASHBOARD = {
    # /metrics/nodes: cluster-wide node counts by state or flag.
    "slurm_nodes_alloc": "slurm_nodes_alloc",
    "slurm_nodes_completing": "slurm_nodes_comp",
    "slurm_nodes_down": "slurm_nodes_down",
    "slurm_nodes_drain": "slurm_nodes_drain",
    "slurm_nodes_fail": "slurm_nodes_fail",
    "slurm_nodes_idle": "slurm_nodes_idle",
    "slurm_nodes_maint": "slurm_nodes_maint",
    "slurm_nodes_mixed": "slurm_nodes_mix",
    "slurm_nodes_resv": "slurm_nodes_resv",
    # /metrics/jobs: cluster-wide job counts by state.
    "slurm_jobs_pending": "slurm_queue_pending",
    "slurm_jobs_running": "slurm_queue_running",
    "slurm_jobs_suspended": "slurm_queue_suspended",
    "slurm_jobs_cancelled": "slurm_queue_cancelled",
    "slurm_jobs_completing": "slurm_queue_completing",
    "slurm_jobs_completed": "slurm_queue_completed",
    "slurm_jobs_configuring": "slurm_queue_configuring",
    "slurm_jobs_failed": "slurm_queue_failed",
    "slurm_jobs_timeout": "slurm_queue_timeout",
    "slurm_jobs_preempted": "slurm_queue_preempted",
    "slurm_jobs_node_failed": "slurm_queue_node_fail",
    # /metrics/scheduler: sdiag's numbers.
    "slurm_server_thread_cnt": "slurm_scheduler_threads",
    "slurm_agent_queue_size": "slurm_scheduler_queue_size",
    "slurm_slurmdbd_queue_size": "slurm_scheduler_dbd_queue_size",
    "slurm_schedule_cycle_last": "slurm_scheduler_last_cycle",
    "slurm_sched_mean_cycle": "slurm_scheduler_mean_cycle",
    "slurm_bf_cycle_last": "slurm_scheduler_backfill_last_cycle",
    "slurm_bf_mean_cycle": "slurm_scheduler_backfill_mean_cycle",
    "slurm_bf_depth_mean": "slurm_scheduler_backfill_depth_mean",
    "slurm_backfilled_jobs": "slurm_scheduler_backfilled_jobs_since_start_total",
    "slurm_last_backfilled_jobs": "slurm_scheduler_backfilled_jobs_since_cycle_total",
    "slurm_backfilled_het_jobs": "slurm_scheduler_backfilled_heterogeneous_total",
}

# Recording rules, run in this order ("other" reads the three before it). The exporter's
# cluster-wide CPU counts: slurmctld gives them per node only, so Prometheus sums them. "other"
# (CPUs of down or drained nodes in sinfo's %C) is what is neither allocated nor idle.
DASHBOARD_RULES = (
    ("slurm_cpus_total", "sum without (node) (slurm_node_cpus)"),
    ("slurm_cpus_alloc", "sum without (node) (slurm_node_cpus_alloc)"),
    ("slurm_cpus_idle", "sum without (node) (slurm_node_cpus_idle)"),
    ("slurm_cpus_other", "slurm_cpus_total - slurm_cpus_alloc - slurm_cpus_idle"),
    # sdiag's "Cycles per minute", as sdiag computes it (checked against 26.05's): cycles since its
    # statistics began over the whole minutes since, rounded down; none in the first minute (sdiag
    # prints none then either).
    ("slurm_scheduler_cycle_per_minute",
     "floor(slurm_schedule_cycle_cnt / (floor((slurm_sched_stats_timestamp - slurm_last_proc_req_start) / 60) > 0))"),
)

# Dashboard names slurmctld 26.05 has nothing for: no "error" node count, no pending-by-reason count.
NATIVE_MISSING = ("slurm_nodes_err", "slurm_queue_pending_dependency")


def _release(text):
    """(major, minor) as numbers, for comparing; None when the text has no release."""
    release = slurm_release(text)[0]
    return tuple(int(part) for part in release.split(".")) if release else None


def _config(text, key):
    """A value of `scontrol show config` (KEY = VALUE lines); None when absent or (null)."""
    match = re.search(r"^\s*%s\s*=\s*(.*?)\s*$" % re.escape(key), text, re.MULTILINE | re.IGNORECASE)
    value = match.group(1) if match else None
    return None if value in (None, "", "(null)") else value


def slurm_native_metrics_conf(version_text, wanted=True):
    """slurm.conf keys for slurmctld's own metrics: {'MetricsType': 'metrics/openmetrics'} where
    wanted and the release (`slurmctld -V`, 'slurm 26.05.5') is 25.11 or newer; else {} (an older
    slurmctld refuses the unknown key)."""
    release = _release(str(version_text or ""))
    if not wanted or release is None or release < NATIVE_RELEASE:
        return {}
    return {"MetricsType": METRICS_TYPE}


def slurm_metrics_source(show_config, setting="auto"):
    """Where the controller's Slurm metrics come from, from slurmctld's `scontrol show config`:
    {'source': 'native'|'script', 'port': SlurmctldPort, 'reason': one line}. native needs the
    setting auto or native, MetricsType=metrics/openmetrics and endpoints open to Prometheus
    (no PrivateData, or MetricsParameters=ignore_private_data without MetricsAuthUsers)."""
    text = str(show_config or "")
    release = _release(text) if "SLURM_VERSION" in text else None
    port = (_config(text, "SlurmctldPort") or "6817").split("-")[0]
    metrics_type = _config(text, "MetricsType")
    private = _config(text, "PrivateData")
    params = (_config(text, "MetricsParameters") or "").lower()
    auth_users = _config(text, "MetricsAuthUsers")
    shown = "%d.%02d" % release if release else "unknown"
    if setting == "script":
        problem = "observability_slurm_metrics_source is script"
    elif release is None:
        problem = "slurmctld's release is unknown (scontrol show config failed)"
    elif release < NATIVE_RELEASE:
        problem = "Slurm %s has no metrics plugin (25.11 and newer)" % shown
    elif metrics_type != METRICS_TYPE:
        problem = "slurmctld runs without MetricsType=%s" % METRICS_TYPE
    elif auth_users or (private not in (None, "none") and "ignore_private_data" not in params):
        problem = ("PrivateData=%s or MetricsAuthUsers restricts slurmctld's metrics to authenticated users"
                   % (private or "none"))
    else:
        return {"source": "native", "port": int(port),
                "reason": "Slurm %s serves its own metrics (MetricsType=%s), scraped from slurmctld's port %s"
                          % (shown, METRICS_TYPE, port)}
    return {"source": "script", "port": int(port), "reason": problem + ": the shipped script writes them"}


def slurm_native_scrape_job(address, port=6817, job_name="slurm", endpoints=NATIVE_ENDPOINTS):
    """Prometheus's scrape job for slurmctld's endpoints: one target per endpoint (label endpoint),
    the native names renamed to the dashboard's, every other native name kept as it is."""
    relabel = [{"source_labels": ["__name__"], "regex": native, "target_label": "__name__", "replacement": name}
               for native, name in sorted(NATIVE_TO_DASHBOARD.items()) if native != name]
    return {
        "job_name": job_name,
        "static_configs": [{"targets": ["%s:%s" % (address, port)],
                            "labels": {"__metrics_path__": "/metrics/" + endpoint, "endpoint": endpoint}}
                           for endpoint in endpoints],
        "metric_relabel_configs": relabel,
    }


def slurm_native_rules(group="hpb_slurm_dashboard"):
    """Prometheus's rule file (as data) with the recording rules of DASHBOARD_RULES."""
    return {"groups": [{"name": group, "rules": [{"record": name, "expr": expr} for name, expr in DASHBOARD_RULES]}]}


def slurm_native_dashboard_names():
    """Every dashboard name the native path gives: renamed or kept, and recorded."""
    return sorted(set(NATIVE_TO_DASHBOARD.values()) | {name for name, _ in DASHBOARD_RULES})


class FilterModule:
    """slurmctld's own metrics under the dashboard's names."""

    def filters(self):
        return {
            "slurm_native_metrics_conf": slurm_native_metrics_conf,
            "slurm_metrics_source": slurm_metrics_source,
            "slurm_native_scrape_job": slurm_native_scrape_job,
            "slurm_native_rules": slurm_native_rules,
        }
