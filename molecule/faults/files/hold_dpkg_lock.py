#!/usr/bin/env python3
"""Holds dpkg's frontend lock as dpkg and apt take it (a POSIX fcntl lock; flock(1) takes a
different kind of lock, which apt never sees). Test code, copied onto the node by converge.yml.

  hold_dpkg_lock.py forever          hold it until killed (a hung upgrade)
  hold_dpkg_lock.py after-apt SECS   hold it until an Ansible apt task runs, then SECS longer
"""

import fcntl
import subprocess
import sys
import time

LOCK = "/var/lib/dpkg/lock-frontend"


def apt_task_running():
    # [A]: the pattern must not match pgrep's own command line.
    return subprocess.run(["pgrep", "-f", "[A]nsiballZ_apt"], capture_output=True, check=False).returncode == 0


def main(mode, seconds=0):
    with open(LOCK, "a") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX)
        print("holding", flush=True)
        if mode == "forever":
            time.sleep(3600)
            return 1
        waited = 0
        while not apt_task_running():
            time.sleep(1)
            waited += 1
            if waited >= 900:
                return 1
        print(f"apt started after {waited} s; holding {seconds} s more", flush=True)
        time.sleep(int(seconds))
    print("released", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
