"""The observability role's Slurm metrics script, against stand-in sinfo and squeue commands."""

import pathlib
import subprocess
import sys

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "roles" / "observability" / "files" / "hpb-slurm-metrics"

SINFO = """#!/bin/sh
case "$*" in
  *%N*) printf 'c1|dev|idle\\nc2|dev|allocated\\nc3|dev|down*\\nc1|batch|idle\\nc2|gpu|mixed~\\n' ;;
  *) printf 'dev*\\nbatch\\ngpu\\n' ;;
esac
"""
SQUEUE = """#!/bin/sh
printf 'dev|RUNNING\\ndev|RUNNING\\ngpu|PENDING\\nbatch,gpu|PENDING\\n'
"""


def run(tmp_path, sinfo=SINFO, squeue=SQUEUE):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("sinfo", sinfo), ("squeue", squeue)):
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
