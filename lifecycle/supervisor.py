"""The supervision of a node's run: one run at a time (a lock with a bounded wait), nothing left
running by an earlier run that was killed, and the whole run stopped on a signal.

Ansible's workers start sessions of their own: a kill of on_create.sh's process group (HyperPod
stopping the lifecycle, an operator's Ctrl-C) does not reach them, and a SIGKILL of bootstrap.py
cannot be caught at all. Linux only (/proc, flock).
"""

import contextlib
import fcntl
import os
import signal
import time
from pathlib import Path

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Busy(Exception):
    """Another run held the lock for longer than the wait; holder: its pid as it wrote it."""

    def __init__(self, path, holder):
        super().__init__(f"{path} held by pid {holder}")
        self.path, self.holder = path, holder


@contextlib.contextmanager
def one_run_at_a_time(path, wait):
    """Hold an exclusive flock on path for the block, waiting at most wait seconds for another
    holder (raise Busy after that); the holder's pid is written in the file. A manual rerun must not
    race on_create.sh's run (apt, units); the lock dies with its process, however that ends."""
    with open(path, "a+") as lock:
        if not _take(lock, wait):
            lock.seek(0)
            raise Busy(path, lock.read().strip() or "unknown")
        lock.truncate(0)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        yield


def _take(lock, wait):
    """Take the flock, waiting at most wait seconds; False if not taken."""
    deadline = time.monotonic() + wait
    announced = False
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            if not announced:
                print(f"waiting up to {wait} s for another bootstrap.py run on this node ({lock.name})", flush=True)
                announced = True
            time.sleep(1)


def stop_on_signals():
    """From now on, SIGTERM, SIGINT and SIGHUP stop the whole run (stop_run_tree)."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, stop_run_tree)


def stop_leftovers(private):
    """Stop what a killed run left running: SIGKILL spares Ansible's workers (each in a session of
    its own), and they would change the node beside this run. Holding the lock, any process whose
    command line names the runner folder is such a leftover."""
    marker = str(private).encode()
    leftovers = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker in cmdline.read_bytes() and int(cmdline.parent.name) != os.getpid():
                leftovers.append(int(cmdline.parent.name))
        except (OSError, ValueError):
            continue
    if not leftovers:
        return
    print(f"stopping {len(leftovers)} process(es) left by an earlier, killed run: pid "
          f"{', '.join(map(str, leftovers))}", flush=True)
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        for pid in leftovers:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(map(running, leftovers)):
            time.sleep(0.2)


def stat_fields(stat):
    """The fields of a /proc/PID/stat file after the command name (which may hold spaces and
    parentheses): state first, then the parent's PID."""
    return stat.read_text().rsplit(")", 1)[1].split()


def running(pid):
    """Whether pid runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        return stat_fields(Path(f"/proc/{pid}/stat"))[0] != "Z"
    except (OSError, IndexError):
        return False


def descendants(pid):
    """The PIDs of pid's children, their children, and so on, from /proc."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat_fields(stat)[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def stop_run_tree(signum, frame):
    """On SIGTERM, SIGINT or SIGHUP, stop the whole run, then exit.

    Ansible's workers start their own sessions: a kill of on_create.sh's process group (HyperPod
    stopping the lifecycle, an operator's Ctrl-C) would leave them running beside the next run.
    ansible-runner's own handler only kills ansible-playbook's process group. The tree is walked
    now, while the workers are still ansible-playbook's children."""
    for pid in descendants(os.getpid()):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    os._exit(128 + signum)
