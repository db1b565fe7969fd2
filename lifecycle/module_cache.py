"""Where a node keeps its built modules between runs: the folder bootstrap.py gives the callback
hyperpod.slurm.module_cache, which points ansible-core's AnsiballZ cache at it.

Before a module first runs in a playbook, ansible-core builds its AnsiballZ zip: it finds every
module_utils file the module imports by compiling each one (ansible.module_utils.basic and its
imports: about 70 files), then zips them. The zip is cached, but only in the run's own temporary
folder, removed at its end: every rerun builds each of its ten or so modules again, 0.15-0.2 s of
CPU each, 1.5-2 s of a 9 s rerun. Kept here, a rerun builds none.

A built zip holds the module's code and ansible-core's module_utils as they were: the folder's name
is a hash of what they come from (the bundle's content hash from MANIFEST.json, checked before this
run, and this ansible-core's version and place), so a new bundle or ansible-core builds into a new
folder, and the folder of the one before is removed. A checkout has no MANIFEST.json, its files can
change between runs unseen: no folder, each run builds its own zips, as plain ansible-playbook does.

A zip that a crash cut short would break every later run that reads it: a run that fails for any
reason empties the folder (forget), and an empty file (what a crash leaves of a file not yet
written out) is removed before a run.

Plain Python: runs before Ansible is imported.
"""

import hashlib
import json
import shutil
from pathlib import Path

from lifecycle import manifest

PARENT = "modules"  # under the run's root-only private folder


def folder(bundle, private, ansible_version, ansible_path):
    """The folder for this bundle and ansible-core under private/modules/, made (mode 0700) and its
    siblings removed; None for a checkout or a manifest without a content hash."""
    try:
        content = json.loads((Path(bundle) / manifest.MANIFEST).read_bytes())["content_hash"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(content, str):
        return None
    key = hashlib.sha256(f"{content}\n{ansible_version}\n{ansible_path}".encode()).hexdigest()[:16]
    parent = Path(private) / PARENT
    parent.mkdir(mode=0o700, exist_ok=True)
    for old in parent.iterdir():
        if old.name == key:
            continue
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()
    path = parent / key
    path.mkdir(mode=0o700, exist_ok=True)
    for built in path.iterdir():
        if built.is_file() and not built.name.endswith(".lock") and built.stat().st_size == 0:
            built.unlink()
    return path


def forget(private):
    """Remove every kept module: after a failed run, whatever its cause, the next builds them anew."""
    shutil.rmtree(Path(private) / PARENT, ignore_errors=True)
