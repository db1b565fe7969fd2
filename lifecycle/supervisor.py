"""The supervision of a node's run: one run at a time (a lock with a bounded wait), nothing left
running by an earlier run that was killed, and the whole run stopped on a signal.

Ansible's workers start sessions of their own: a kill of on_create.sh's process group (HyperPod
stopping the lifecycle, an operator's Ctrl-C) does not reach them, and a SIGKILL of bootstrap.py
cannot be caught at all. Linux only (/proc, flock).
"""

import contextlib
import fcntl
import json
import os
import secrets
import signal
import time
from pathlib import Path

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
# Every process of a run carries this variable, with the run's own random value, in its environment.
RUN_VARIABLE = "HYPERPOD_BOOTSTRAP_RUN"
RUN_RECORD = "run.json"


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


def record_run(private):
    """Record this run in its runner folder, and return the environment every process of the run
    must inherit (ansible-runner passes it to ansible-playbook, whose workers and modules inherit it).

    After a SIGKILL, Ansible's workers are nobody's children and in sessions of their own: nothing
    but what they inherited ties them to the run. A random value does, which no other process has
    (a process that merely names the runner folder on its command line is not the run's)."""
    token = secrets.token_hex(16)
    path = Path(private) / RUN_RECORD
    path.write_text(json.dumps({"token": token, "boot_id": _boot_id(), "pid": os.getpid()}) + "\n")
    os.chmod(path, 0o600)
    return {RUN_VARIABLE: token}


def end_run(private):
    """Mark the recorded run as ended: ansible-playbook returned, so no worker of it is left. What
    still carries its token then was started on purpose and outlives the run (a FUSE mount's
    daemon, such as sshfs, or a program a role starts without systemd): never a leftover."""
    path = Path(private) / RUN_RECORD
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    path.write_text(json.dumps(dict(record, ended=True)) + "\n")


def stop_leftovers(private):
    """Stop what a killed run left running: SIGKILL spares Ansible's workers (each in a session of
    its own), and they would change the node beside this run. Holding the lock, the processes whose
    environment holds the token of the run recorded in the runner folder are such leftovers, unless
    that run ended (end_run); after a reboot (another boot id) there are none."""
    try:
        record = json.loads((Path(private) / RUN_RECORD).read_text())
        token, boot_id = str(record["token"]), record["boot_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    if not token or boot_id != _boot_id() or record.get("ended") is True:
        return
    marker = f"\0{RUN_VARIABLE}={token}\0".encode()
    spared = {os.getpid(), *ancestors(os.getpid())}
    leftovers = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            pid = int(environ.parent.name)
            if pid not in spared and marker in b"\0" + environ.read_bytes() + b"\0":
                leftovers.append(pid)
        except (OSError, ValueError):
            continue
    if not leftovers:
        return
    leftovers.sort()
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


def _boot_id():
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def ancestors(pid):
    """pid's parent, its parent, and so on, from /proc."""
    found = []
    while pid > 1:
        try:
            pid = int(stat_fields(Path(f"/proc/{pid}/stat"))[1])
        except (OSError, IndexError, ValueError):
            break
        found.append(pid)
    return found


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
