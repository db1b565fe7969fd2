"""The observability role's Slurm metrics script, against stand-in sinfo and squeue commands."""

import pathlib
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "harness"))
from dashboard_names import dashboard_names, expand  # noqa: E402 - tests/harness

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "roles" / "observability" / "files" / "hpb-slurm-metrics"

SINFO = """#!/bin/sh
case "$*" in
  *%N*) printf 'c1|dev|idle\\nc2|dev|allocated\\nc3|dev|down*\\nc1|batch|idle\\nc2|gpu|mixed~\\n' ;;
  *%C*) printf '10/20/2/32\\n' ;;
  *) printf 'dev*\\nbatch\\ngpu\\n' ;;
esac
"""
SQUEUE = """#!/bin/sh
printf 'dev|RUNNING\\ndev|RUNNING\\ngpu|PENDING\\nbatch,gpu|PENDING\\n'
"""


def run(tmp_path, sinfo=SINFO, squeue=SQUEUE, sdiag=None):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("sinfo", sinfo), ("squeue", squeue)) + ((("sdiag", sdiag),) if sdiag else ()):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    out = tmp_path / "slurm.prom"
    result = subprocess.run([sys.executable, str(SCRIPT), str(out)], capture_output=True, text=True,
                            env={"PATH": "%s:/usr/bin:/bin" % bin_dir})
    return result, out.read_text().splitlines(), sorted(p.name for p in tmp_path.iterdir())


def test_nodes_and_jobs_by_partition_and_state(tmp_path):
    result, lines, _ = run(tmp_path)
    assert result.returncode == 0, result.stderr
    for line in ['slurm_partition_nodes{partition="dev",state="idle"} 1',
                 'slurm_partition_nodes{partition="dev",state="allocated"} 1',
                 'slurm_partition_nodes{partition="dev",state="down"} 1',
                 'slurm_partition_nodes{partition="gpu",state="mixed"} 1',
                 'slurm_partition_nodes{partition="batch",state="drained"} 0',
                 'slurm_partition_jobs{partition="dev",state="running"} 2',
                 'slurm_partition_jobs{partition="gpu",state="pending"} 2',
                 'slurm_partition_jobs{partition="batch",state="pending"} 1',
                 'slurm_partition_jobs{partition="batch",state="running"} 0',
                 "slurm_up 1"]:
        assert line in lines


@pytest.mark.parametrize("broken", ["sinfo", "squeue"])
def test_a_failing_command_reports_slurm_down(tmp_path, broken):
    failing = "#!/bin/sh\necho 'slurm_load_partitions: Unable to contact slurm controller' >&2\nexit 1\n"
    result, lines, _ = run(tmp_path, **{broken: failing})
    assert result.returncode == 1
    assert "slurm_up 0" in lines and not [line for line in lines if line.startswith("slurm_partition")]


def test_written_by_rename_leaving_no_temporary_file(tmp_path):
    _, _, names = run(tmp_path)
    assert names == ["bin", "slurm.prom"]


# sdiag of Slurm 22.05, trimmed: the main scheduler's lines, then the backfill section's (same keys).
SDIAG = """#!/bin/sh
cat <<'END'
*******************************************************
sdiag output at Thu Dec 03 16:00:00 2026 (1764777600)
*******************************************************
Server thread count:  3
Agent queue size:     0
DBD Agent queue size: 2

Main schedule statistics (microseconds):
\tLast cycle:   40
\tMax cycle:    900
\tMean cycle:   481
\tCycles per minute: 1

Backfilling stats
\tTotal backfilled jobs (since last slurm start): 7
\tTotal backfilled jobs (since last stats cycle start): 1
\tTotal backfilled heterogeneous job components: 0
\tLast cycle when: Thu Dec 03 15:59:00 2026 (1764777540)
\tLast cycle: 1200
\tMean cycle: 1500
\tDepth Mean: 4
END
"""
SQUEUE_REASONS = """#!/bin/sh
printf 'dev|RUNNING|None\\ndev|PENDING|Dependency\\ngpu|PENDING|Resources\\ndev|COMPLETING|None\\n'
"""


def test_the_exporters_names_for_aws_slurm_dashboard(tmp_path):
    """The names of the Slurm exporter HyperPod's reference installs (cluster-wide: each node once)."""
    result, lines, _ = run(tmp_path, squeue=SQUEUE_REASONS, sdiag=SDIAG)
    assert result.returncode == 0, result.stderr
    values = dict(line.split(" ", 1) for line in lines if line and not line.startswith("#") and "{" not in line)
    # c1 idle (in two partitions: once), c2 allocated, c3 down.
    assert [values["slurm_nodes_%s" % s] for s in ("idle", "alloc", "down", "mix", "drain")] == ["1", "1", "1", "0", "0"]
    assert [values["slurm_cpus_%s" % s] for s in ("alloc", "idle", "other", "total")] == ["10", "20", "2", "32"]
    assert [values["slurm_queue_%s" % s] for s in ("running", "pending", "pending_dependency", "completing",
                                                    "failed")] == ["1", "2", "1", "1", "0"]
    assert [values["slurm_scheduler_%s" % s] for s in (
        "threads", "queue_size", "dbd_queue_size", "last_cycle", "mean_cycle", "cycle_per_minute",
        "backfill_last_cycle", "backfill_mean_cycle", "backfill_depth_mean", "backfilled_jobs_since_start_total",
        "backfilled_jobs_since_cycle_total", "backfilled_heterogeneous_total")] == [
        "3", "0", "2", "40", "481", "1", "1200", "1500", "4", "7", "1", "0"]


def test_without_sdiag_the_other_names_stand(tmp_path):
    result, lines, _ = run(tmp_path)
    assert result.returncode == 0 and "slurm_up 1" in lines
    assert "slurm_nodes_idle 1" in lines and not [line for line in lines if "slurm_scheduler_" in line]


def test_the_script_writes_every_name_of_the_readmes_table(tmp_path):
    """roles/observability/README.md's mapping table, read as the scenario's test reads it: every name
    is written (sdiag with every line it has after a main and a backfill cycle), once."""
    names = [name for name, _ in dashboard_names()]
    assert len(names) == len(set(names)) and len(names) > 30
    result, lines, _ = run(tmp_path, squeue=SQUEUE_REASONS, sdiag=SDIAG)
    assert result.returncode == 0, result.stderr
    written = [line.split(" ")[0] for line in lines if line.startswith("slurm_")]
    assert [name for name in names if written.count(name) != 1] == []


def test_the_readme_table_reader(tmp_path):
    assert expand("a_{x,y}_{1,2}") == ["a_x_1", "a_x_2", "a_y_1", "a_y_2"]
    readme = tmp_path / "README.md"
    readme.write_text("text\n\n  | exporter name | from |\n  | --- | --- |\n  | `s_{a,b}` | x `not_me` |\n"
                      "  | `s_c` and `s_d` | y |\n\n| `after_the_table` | z |\n")
    assert [name for name, _ in dashboard_names(readme)] == ["s_a", "s_b", "s_c", "s_d"]
    readme.write_text("no table\n")
    with pytest.raises(ValueError, match="exporter name"):
        dashboard_names(readme)
