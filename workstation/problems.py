"""The problems validate finds: errors and warnings, each naming a file, a field and a fix (the
cluster model's ConfigError and ConfigWarning: validate reuses the model's checks)."""

from ansible_collections.hyperpod.slurm.plugins.plugin_utils import cluster as model
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.inputs import ConfigWarning


def severity(problem):
    return "warning" if isinstance(problem, ConfigWarning) else "error"


class Problems(list):
    """Every problem found; a field with an error gets no second one (the first found, the API's own
    rule, is the one to fix first)."""

    def add(self, problem):
        if not any(p.path == problem.path and p.field == problem.field and severity(p) == "error" for p in self):
            self.append(problem)

    def error(self, path, field, problem, fix):
        self.add(model.ConfigError(path, field, problem, fix))

    def warning(self, path, field, problem, fix):
        self.add(ConfigWarning(path, field, problem, fix))

    def extend_from(self, problems):
        for p in problems:
            self.add(p)

    @property
    def errors(self):
        return [p for p in self if severity(p) == "error"]
