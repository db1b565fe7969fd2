"""Tests on task results of ansible.builtin.apt."""

import re

# What apt-get, dpkg and python-apt (through the apt module) say when another process keeps a lock.
_LOCK_HELD = re.compile(r"Could not get lock|Unable to acquire the dpkg frontend lock|Failed to lock apt")


def apt_lock_held(result):
    """Whether an apt task failed because another process held dpkg's or apt's lock past the task's
    lock_timeout. The wait already happened: a retry would only wait as long again."""
    if not isinstance(result, dict) or not result.get("failed"):
        return False
    text = " ".join(str(result.get(key, "")) for key in ("msg", "stderr", "stdout"))
    return bool(_LOCK_HELD.search(text))


class TestModule:
    """apt tests."""

    def tests(self):
        return {"apt_lock_held": apt_lock_held}
