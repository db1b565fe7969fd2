"""Tests on task results of ansible.builtin.apt."""

import os
import re

from ansible.module_utils.compat.version import LooseVersion
from ansible.release import __version__ as ANSIBLE_CORE

# What apt-get, dpkg and python-apt (through the apt module) say when another process keeps a lock.
_LOCK_HELD = re.compile(r"Could not get lock|Unable to acquire the dpkg frontend lock|Failed to lock apt")


def _apt_get_waited():
    """Whether apt-get waited for dpkg's lock before failing: ansible-core 2.19's apt module passes
    lock_timeout to apt-get; under 2.17 only bootstrap.py's APT_CONFIG makes it wait (this test runs
    where the module runs only with connection local, as bootstrap.py's runs do)."""
    return LooseVersion(ANSIBLE_CORE) >= LooseVersion("2.19") or "APT_CONFIG" in os.environ


def apt_lock_held(result):
    """Whether an apt task failed because another process held dpkg's or apt's lock past the task's
    lock_timeout. The wait already happened: a retry would only wait as long again. Where apt-get
    did not wait (ansible-core 2.17 without bootstrap.py), False: the retries are the wait."""
    if not isinstance(result, dict) or not result.get("failed") or not _apt_get_waited():
        return False
    text = " ".join(str(result.get(key, "")) for key in ("msg", "stderr", "stdout"))
    return bool(_LOCK_HELD.search(text))


class TestModule:
    """apt tests."""

    def tests(self):
        return {"apt_lock_held": apt_lock_held}
