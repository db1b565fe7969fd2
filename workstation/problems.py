"""The problems validate finds: errors and warnings, each naming a file, a field and a fix (the
inventory plugin's ConfigError, whose checks validate reuses)."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load_plugin():
    """The inventory plugin holds the input checks; loaded by path, as bootstrap.py does."""
    module = sys.modules.get("hyperpod_inventory")
    if module is None:
        spec = importlib.util.spec_from_file_location("hyperpod_inventory", ROOT / "plugins" / "inventory" / "hyperpod.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return module


hp = _load_plugin()


class ConfigWarning(hp.ConfigError):
    """Worth a look, but the cluster would work."""


def severity(problem):
    return "warning" if isinstance(problem, ConfigWarning) else "error"


class Problems(list):
    """Every problem found; a field with an error gets no second one (the first found, the API's own
    rule, is the one to fix first)."""

    def add(self, problem):
        if not any(p.path == problem.path and p.field == problem.field and severity(p) == "error" for p in self):
            self.append(problem)

    def error(self, path, field, problem, fix):
        self.add(hp.ConfigError(path, field, problem, fix))

    def warning(self, path, field, problem, fix):
        self.add(ConfigWarning(path, field, problem, fix))

    def extend_from(self, problems):
        for p in problems:
            self.add(p)

    @property
    def errors(self):
        return [p for p in self if severity(p) == "error"]
