"""Loads a Python file of the bundle that is not an importable module (a script with a dash in its
name, a plugin outside a package) as a module, for the tests to call its functions."""

import importlib.machinery
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load(relative_path, name=None):
    """The module of REPO/relative_path, named after the file (dashes as underscores) or NAME."""
    path = REPO / relative_path
    loader = importlib.machinery.SourceFileLoader(name or path.stem.replace("-", "_"), str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
