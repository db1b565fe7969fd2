"""A signal to bootstrap.py stops the whole run, also processes in other sessions (Ansible's
workers call setsid, so a kill of on_create.sh's process group does not reach them)."""

import os
import signal
import subprocess
import sys
import textwrap
import time

from conftest import REPO

CHILD = textwrap.dedent("""
    import signal, subprocess, sys, time
    sys.path.insert(0, sys.argv[1])
    import bootstrap
    worker = subprocess.Popen(["setsid", "sleep", "300"])  # a session of its own, like a worker
    print(worker.pid, flush=True)
    signal.signal(signal.SIGTERM, bootstrap.stop_run_tree)
    time.sleep(300)
""")


def gone(pid, within=10.0):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:  # a zombie waiting for init counts as gone
            if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
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
