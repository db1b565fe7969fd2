"""The Python that runs a node's Ansible modules: bootstrap.py names it as its run's interpreter.

A module reaches Python as an AnsiballZ file: a zip of the module and ansible-core's module_utils,
which Python imports from the zip and so compiles from source on every task (zipimport caches no
bytecode): about 0.15 s of CPU per module run, most of what one costs. In bootstrap.py's run the
same files, of the same ansible-core, are installed in this venv and compiled once (pip did it), so
the package `ansible` is found here first and in the module's zip after it: the zip then gives only
what the venv lacks (modules of a library/ folder, module_utils of a module_utils/ folder). Only for
that run: elsewhere a target's installed files could be another release than the zip's.

  <venv>/bin/python module_python.py AnsiballZ_<module>.py [arg]   (with pipelining: the module on stdin)
"""

import os
import runpy
import sys
from importlib.machinery import PathFinder

# This file's folder (the bundle's lifecycle/) is not a place for a module's imports.
del sys.path[0]
VENV_PATH = list(sys.path)  # before the module puts its zip first


class CompiledFirst:
    """Finds ansible and ansible.* in the venv first, then in the module's zip (the first .zip on
    sys.path): each package of them searches both folders."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != "ansible" and not name.startswith("ansible."):
            return None
        spec = PathFinder.find_spec(name, VENV_PATH if path is None else path, target)
        zipped = next((entry for entry in sys.path if entry.endswith(".zip")), None)
        if spec is not None and spec.submodule_search_locations is not None and zipped:
            in_zip = os.path.join(zipped, *name.split("."))
            if in_zip not in spec.submodule_search_locations:
                spec.submodule_search_locations.append(in_zip)
        return spec


sys.meta_path.insert(0, CompiledFirst)

if len(sys.argv) > 1:
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
else:  # pipelining: Python would read the module from stdin
    sys.argv = [""]
    exec(compile(sys.stdin.read(), "<stdin>", "exec"), vars(sys.modules["__main__"]))  # noqa: S102 - Ansible's module
