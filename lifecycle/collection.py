"""The bundle, or a checkout, as the Ansible collection hyperpod.slurm.

The roles, the plugins and the cluster model (plugins/plugin_utils) are the collection
hyperpod.slurm, whose Python imports itself by that name
(ansible_collections.hyperpod.slurm.plugins.plugin_utils.cluster), as Ansible has collections do.
Installed, a collection sits in a collections path as ansible_collections/hyperpod/slurm; the
bundle sits in /tmp/sagemaker-lifecycle-*/ and a checkout anywhere. Two ways to say where it is:

* `install_finder(root)`, for this Python process (bootstrap.py, workstation/, the tests, the
  inventory plugin loaded by path): an import finder resolves ansible_collections.hyperpod.slurm to
  root. Nothing is written.
* `link(root, folder)`, for Ansible's own processes: folder/ansible_collections/hyperpod/slurm -> root,
  a collections path (bootstrap.py makes one in each run's folder). Made at run time: S3 and
  HyperPod's copy of the bundle keep no symlinks.
"""

import importlib.abc
import importlib.machinery
import sys
from pathlib import Path

# The collection the bundle is: galaxy.yml's namespace and name.
COLLECTION = ("hyperpod", "slurm")
PACKAGE = "ansible_collections." + ".".join(COLLECTION)


class _CollectionFinder(importlib.abc.MetaPathFinder):
    """Finds ansible_collections.hyperpod.slurm at a folder, and its modules there as plain files.
    First in sys.meta_path: in an Ansible process whose collections path lacks hyperpod.slurm,
    Ansible's own finder would take the modules below and want the collection's metadata."""

    def __init__(self, root):
        self.root = str(root)

    def find_spec(self, fullname, path=None, target=None):
        if fullname == PACKAGE:
            return _package(fullname, [self.root])
        if fullname.startswith(PACKAGE + "."):
            return importlib.machinery.PathFinder.find_spec(fullname, path)
        return None


class _NamespaceFinder(importlib.abc.MetaPathFinder):
    """ansible_collections and ansible_collections.hyperpod, as empty namespace packages. Last in
    sys.meta_path: where Ansible's loader runs, it provides them."""

    def find_spec(self, fullname, path=None, target=None):
        return _package(fullname, []) if PACKAGE.startswith(fullname + ".") else None


def _package(name, locations):
    spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
    spec.submodule_search_locations = locations
    return spec


def install_finder(root):
    """Let this process import ansible_collections.hyperpod.slurm.* from root; once per process (the
    first root stays)."""
    if not any(isinstance(finder, _CollectionFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _CollectionFinder(Path(root).resolve()))
        sys.meta_path.append(_NamespaceFinder())


def link(root, folder):
    """Make folder a collections path in which root is the collection hyperpod.slurm; returns folder."""
    target = Path(folder, "ansible_collections", *COLLECTION)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    target.symlink_to(Path(root).resolve(), target_is_directory=True)
    return Path(folder)
