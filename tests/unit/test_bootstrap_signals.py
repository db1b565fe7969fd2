"""A signal to bootstrap.py stops the whole run, also processes in other sessions (Ansible's
workers call setsid, so a kill of on_create.sh's process group does not reach them); the next run
stops what a SIGKILL, which cannot be caught, left behind."""

import os
import signal
import subprocess
import sys
import textwrap
import time

from conftest import EXAMPLES, FIXTURES, REPO
from lifecycle import supervisor

CHILD = textwrap.dedent("""
    import signal, subprocess, sys, time
    sys.path.insert(0, sys.argv[1])
    from lifecycle import supervisor
    signal.signal(signal.SIGTERM, supervisor.stop_run_tree)  # before the parent may send it, as bootstrap.py does
    worker = subprocess.Popen(["setsid", "sleep", "300"])  # a session of its own, like a worker
    print(worker.pid, flush=True)
    time.sleep(300)
""")


def gone(pid, within=10.0):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not supervisor.running(pid):  # a zombie waiting for init counts as gone
            return True
        time.sleep(0.2)
    return False


def test_sigterm_stops_processes_in_other_sessions():
    run = subprocess.Popen([sys.executable, "-c", CHILD, str(REPO)], stdout=subprocess.PIPE, text=True)
    worker = int(run.stdout.readline())
    try:
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=30) == 128 + signal.SIGTERM
        assert gone(worker), "the worker outlived bootstrap.py"
    finally:
        for pid in (run.pid, worker):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_the_next_run_stops_what_a_killed_run_left(tmp_path):
    log_dir = tmp_path / "log"
    # A worker of a run killed by SIGKILL: its command line names the runner folder, like
    # ansible-playbook's (-i <log dir>/runner/inventory/...); it ignores SIGTERM, as a busy one may.
    leftover = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, "
                                 "signal.SIG_IGN); time.sleep(300)", str(log_dir / "runner" / "inventory")],
                                start_new_session=True)
    try:
        done = subprocess.run([sys.executable, str(REPO / "bootstrap.py"), "run", "--resource-config",
                               str(EXAMPLES / "resource_config.json"), "--node", "compute-gpu-1",
                               "--log-dir", str(log_dir), "--playbook", str(FIXTURES / "converge_ok.yml")],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"stopping 1 process(es) left by an earlier, killed run: pid {leftover.pid}" in done.stdout
        assert gone(leftover.pid, within=1)
    finally:
        leftover.kill()
        leftover.wait()
