# Keeps the modules ansible-core builds for a run (AnsiballZ zips) in a folder that outlives the run,
# so that a rerun does not build them again. bootstrap.py enables it with the folder for its bundle
# and ansible-core (lifecycle/module_cache.py says what it saves and how the folder is named).

import os
import stat

from ansible import constants as C
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: module_cache
type: aggregate
short_description: Keep the run's built modules (AnsiballZ zips) in a folder for the next run
description:
  - ansible-core builds a module's AnsiballZ zip the first time a run uses the module, and keeps it
    in the run's temporary folder (C(ansiballz_cache) in C(DEFAULT_LOCAL_TMP)), removed when the run
    ends. When the playbook starts, this callback makes that place a link to O(folder), so that the
    zips outlive the run and the next run reads them instead of building them again.
  - The folder must hold only zips built from the same modules, module_utils and ansible-core, so
    name it after them (bootstrap.py names it after the bundle's content hash and ansible-core's
    version and place). A zip built from other code would run instead of the code at hand.
  - ansible-core 2.19 keeps each zip as a pickle, which it loads, so the folder must be a directory
    owned by the user that runs Ansible, and writable by nobody else. Otherwise, or unset, nothing
    is linked (a warning says why) and the run builds its modules as usual.
requirements:
  - enabled in callbacks_enabled (ansible.cfg [defaults]) or ANSIBLE_CALLBACKS_ENABLED
options:
  folder:
    description: The folder the zips are kept in. Unset, the callback does nothing.
    type: path
    env:
      - name: HYPERPOD_MODULE_CACHE
    ini:
      - section: callback_hyperpod_module_cache
        key: folder
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = hyperpod.slurm.module_cache
#
# [callback_hyperpod_module_cache]
# folder = /root/.cache/ansiballz/ansible-core-2.19.4-mycollections-1.2.0
"""

# Where ansible-core (2.17 to 2.19 at least) looks for and writes its built modules.
RUN_CACHE = "ansiballz_cache"


def unsafe(path):
    """Why ansible-core should not load zips from path, or None."""
    try:
        info = os.lstat(path)
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    if not stat.S_ISDIR(info.st_mode):
        return "is not a directory"
    if info.st_uid != os.geteuid():
        return "belongs to another user"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "is writable by other users"
    return None


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "hyperpod.slurm.module_cache"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_start(self, playbook):
        folder = self.get_option("folder")
        if not folder:
            return
        problem = unsafe(folder)
        if problem:
            self._display.warning(f"hyperpod.slurm.module_cache: {folder} {problem}; modules are built for this run only")
            return
        run_cache = os.path.join(C.DEFAULT_LOCAL_TMP, RUN_CACHE)
        if not os.path.lexists(run_cache):  # a module built before the playbook started keeps its place
            os.symlink(folder, run_cache)
