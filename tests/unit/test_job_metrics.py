"""The observability role's job metrics script (roles/observability/files/hpb-job-metrics): job ids
from slurmd's step sockets and the DCGM job mapping, as textfile metrics."""

import os
import pathlib
import socket
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "roles" / "observability" / "files" / "hpb-job-metrics"


def run(tmp_path, *spool_dirs):
    out = tmp_path / "jobs.prom"
    result = subprocess.run([sys.executable, str(SCRIPT), str(out), str(tmp_path / "mapping")]
                            + [str(d) for d in spool_dirs], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return out.read_text().splitlines(), sorted(p.name for p in tmp_path.iterdir())


def step_socket(folder, name):
    """A unix socket, as slurmstepd leaves one per step."""
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / name))
    sock.close()


def test_jobs_from_step_sockets_and_gpus_from_the_mapping(tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    for name in ("node-1_123.4294967291", "node-1_123.0", "node-1_45.4294967292", "cred_state", "node-1_7.x"):
        step_socket(spool, name)
    (spool / "hwloc_topo_whole.xml").write_text("")
    mapping = tmp_path / "mapping"
    mapping.mkdir()
    (mapping / "0").write_text("123\n")
    (mapping / "1").write_text("123\n")
    (mapping / "10").write_text("45\n")
    (mapping / "2").write_text("not a job\n")
    (mapping / ".tmp").write_text("9\n")
    other = tmp_path / "other"
    other.mkdir()
    step_socket(other, "node-1_45.0")
    lines, files = run(tmp_path, tmp_path / "missing", spool, other)
    assert [line for line in lines if line.startswith("slurm_job_info")] == [
        'slurm_job_info{jobid="45"} 1', 'slurm_job_info{jobid="123"} 1']
    assert [line for line in lines if line.startswith("slurm_job_gpu")] == [
        'slurm_job_gpu{gpu="0",jobid="123"} 1', 'slurm_job_gpu{gpu="1",jobid="123"} 1',
        'slurm_job_gpu{gpu="10",jobid="45"} 1']
    assert any(line.startswith("slurm_job_metrics_timestamp_seconds ") for line in lines)
    # Written whole: no temporary file left, readable by node exporter.
    assert not [name for name in files if name.startswith(".job-metrics.")]
    assert oct(os.stat(tmp_path / "jobs.prom").st_mode & 0o777) == "0o644"


def test_an_idle_node_writes_no_job_but_the_series_families(tmp_path):
    lines, _ = run(tmp_path, tmp_path / "missing")
    assert "# TYPE slurm_job_info gauge" in lines and "# TYPE slurm_job_gpu gauge" in lines
    assert not [line for line in lines if line.startswith(("slurm_job_info{", "slurm_job_gpu{"))]
