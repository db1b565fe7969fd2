"""A signal to bootstrap.py stops the whole run, also processes in other sessions (Ansible's
workers call setsid, so a kill of on_create.sh's process group does not reach them); the next run
stops what a SIGKILL, which cannot be caught, left behind."""

import json
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


def killed_run(log_dir):
    """The runner folder of a run killed by SIGKILL, and the environment its processes inherited."""
    private = log_dir / "runner"
    private.mkdir(parents=True)
    return dict(os.environ, **supervisor.record_run(private))


IGNORES_SIGTERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)"


def converge_ok(log_dir, cwd):
    return subprocess.run([sys.executable, str(REPO / "bootstrap.py"), "run", "--resource-config",
                           str(EXAMPLES / "resource_config.json"), "--node", "compute-gpu-1",
                           "--log-dir", str(log_dir), "--playbook", str(FIXTURES / "converge_ok.yml")],
                          cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def test_the_next_run_stops_what_a_killed_run_left(tmp_path):
    log_dir = tmp_path / "log"
    # A worker of a run killed by SIGKILL: in a session of its own, it inherited the run's
    # environment; its command line names the runner folder, like ansible-playbook's (-i <log
    # dir>/runner/inventory/...); it ignores SIGTERM, as a busy one may.
    leftover = subprocess.Popen([sys.executable, "-c", IGNORES_SIGTERM, str(log_dir / "runner" / "inventory")],
                                start_new_session=True, env=killed_run(log_dir))
    try:
        done = converge_ok(log_dir, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"stopping 1 process(es) left by an earlier, killed run: pid {leftover.pid}" in done.stdout
        assert gone(leftover.pid, within=1)
    finally:
        leftover.kill()
        leftover.wait()


def test_a_process_that_only_names_the_runner_folder_is_not_stopped(tmp_path):
    """An operator's `tail -f <log dir>/runner/...`, or anyone's process naming the folder, is not
    the killed run's: only a process that inherited that run's token is."""
    log_dir = tmp_path / "log"
    env = killed_run(log_dir)
    bystanders = [subprocess.Popen([sys.executable, "-c", IGNORES_SIGTERM, str(log_dir / "runner" / "inventory")],
                                   start_new_session=True),
                  subprocess.Popen([sys.executable, "-c", IGNORES_SIGTERM], start_new_session=True,
                                   env=dict(env, **{supervisor.RUN_VARIABLE: "0" * 32}))]  # another run's token
    try:
        done = converge_ok(log_dir, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "left by an earlier, killed run" not in done.stdout
        assert all(p.poll() is None for p in bystanders), "a process that was not the run's was stopped"
    finally:
        for p in bystanders:
            p.kill()
            p.wait()


def test_the_runs_processes_carry_its_token(tmp_path):
    """What stop_leftovers matches: a module's command inherits the token run.json records."""
    log_dir, token_file = tmp_path / "log", tmp_path / "token"
    done = subprocess.run([sys.executable, str(REPO / "bootstrap.py"), "run", "--resource-config",
                           str(EXAMPLES / "resource_config.json"), "--node", "compute-gpu-1", "--log-dir", str(log_dir),
                           "--playbook", str(FIXTURES / "converge_token.yml"), "-e", f"token_file={token_file}"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    recorded = json.loads((log_dir / "runner" / supervisor.RUN_RECORD).read_text())["token"]
    assert len(recorded) == 32 and token_file.read_text().strip() == recorded


def test_what_an_ended_run_started_on_purpose_is_not_stopped(tmp_path):
    """A daemon a run starts and leaves running (sshfs behind a FUSE mount) carries the run's token;
    once that run ended, the next run leaves it alone: only a killed run has leftovers."""
    log_dir = tmp_path / "log"
    env = killed_run(log_dir)
    supervisor.end_run(log_dir / "runner")
    daemon = subprocess.Popen([sys.executable, "-c", IGNORES_SIGTERM], start_new_session=True, env=env)
    try:
        done = converge_ok(log_dir, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "left by an earlier, killed run" not in done.stdout and daemon.poll() is None
        record = json.loads((log_dir / "runner" / supervisor.RUN_RECORD).read_text())
        assert record["ended"] is True and record["token"] != env[supervisor.RUN_VARIABLE]
    finally:
        daemon.kill()
        daemon.wait()
