"""The bundle's settings against the roles' argument specs: every group_vars and host_vars file,
and every -e, read as ansible-playbook reads them.

Ansible checks a role's argument spec only when the role starts: after the roles before it
(slurm_common's packages and munge) have changed the node, and never on node types that do not
run the role. So every node checks every setting here before Ansible starts (bootstrap.py stops at
the first problem), and `validate` runs the same check on a workstation (listing every problem, and
warning about settings that a role's vars/ overrides). Templated values are left to Ansible.

Needs ansible-core (its YAML loader, -e parser and argument spec validator).
"""

import difflib
import os
from pathlib import Path

import yaml
from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.splitter import parse_kv
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.inputs import ConfigError, ConfigWarning, one_line

# Where the bundle keeps its settings, as Ansible finds them beside an inventory source.
SETTINGS_DIRS = ("group_vars", "host_vars")
# Role variables renamed, merged into another or removed since an earlier release, {old: new or
# None} (CHANGELOG.md, "Changed"): refused with what to do, as a setting of an old name would
# otherwise change nothing, silently.
RENAMED = {
    "fsx_users": "shared_users_accounts", "fsx_users_shell": "shared_users_shell",
    "fsx_move_homes": "shared_users_move_homes", "fsx_home_root": "shared_users_home_root",
    "fsx_default_user": "shared_users_default_user",
    "fsx_test_standin": None, "fsx_test_standin_port": None, "fsx_test_standin_root": None,
    "slurm_common_apt_lock_timeout": "packages_apt_lock_timeout",
    "fsx_apt_lock_timeout": "packages_apt_lock_timeout",
    "observability_apt_lock_timeout": "packages_apt_lock_timeout",
    "enroot_pyxis_apt_lock_timeout": "packages_apt_lock_timeout",
    "observability_download_retries": "packages_download_retries",
    "observability_download_delay": "packages_download_delay",
    "enroot_pyxis_download_retries": "packages_download_retries",
    "enroot_pyxis_download_delay": "packages_download_delay",
    "slurm_controller_config": "slurm_controller_settings",
}
KINDS = {"str": "a string", "int": "a whole number", "float": "a number", "bool": "true or false",
         "dict": "a mapping", "list": "a list", "path": "a path"}


def problems(bundle, extra_vars=(), extra_vars_source="-e", overridden=False):
    """Every problem of the bundle's settings files, then of the -e values, in that order: a
    ConfigError per problem; with overridden, a ConfigWarning for each setting that a role's vars/
    sets too (that setting is then not checked: it has no effect)."""
    roles = Roles(Path(bundle) / "roles")
    loader = DataLoader()
    overriding = roles.vars_files() if overridden else {}
    for source, read in sources(bundle, extra_vars, extra_vars_source, loader):
        try:
            source, variables = read()
        except ConfigError as e:
            yield e
            continue
        for name, value in variables.items():
            if name in overriding:
                yield ConfigWarning(source, name, f"{overriding[name].relative_to(bundle)} sets it too, and role "
                                    "vars win over group_vars", "this setting has no effect; remove it")
                continue
            problem = roles.check(source, str(name), value)
            if problem:
                yield problem


def first_error(bundle, extra_vars=(), extra_vars_source="-e"):
    """Raise the first problem, as a node does before its run."""
    for problem in problems(bundle, extra_vars, extra_vars_source):
        raise problem


def files(bundle):
    """The bundle's group_vars and host_vars files, as Ansible finds them: .yml, .yaml, .json or no
    extension, not hidden."""
    for folder in SETTINGS_DIRS:
        for path in sorted((Path(bundle) / folder).rglob("*")):
            if path.is_file() and not path.name.startswith(".") and path.suffix in ("", ".yml", ".yaml", ".json"):
                yield path


def sources(bundle, extra_vars, extra_vars_source, loader):
    """(where, read) for each settings file and each -e; read() -> (where, variables) or ConfigError."""
    for path in files(bundle):
        yield path, lambda path=path: _mapping(path, lambda: loader.load_from_file(str(path)))
    for opt in extra_vars:
        where = f"{extra_vars_source} {opt}"
        if opt.startswith("@"):
            yield where, lambda opt=opt, where=where: _from_file(where, opt[1:], loader)
        elif opt.startswith(("{", "[")):
            yield where, lambda opt=opt, where=where: (extra_vars_source, _mapping(where, lambda: loader.load(opt))[1])
        elif opt:
            yield where, lambda opt=opt, where=where: (extra_vars_source, _key_values(where, opt))


def _from_file(where, path, loader):
    if not os.path.isfile(path):
        raise ConfigError(where, None, "no such file", "check the path after @")
    return _mapping(path, lambda: loader.load_from_file(path))


def _key_values(where, opt):
    data = parse_kv(opt)
    if "_raw_params" in data:
        raise ConfigError(where, None, "is not name=value", "write -e name=value, -e '{\"name\": value}' or -e @file.yml")
    return data


def _mapping(source, read):
    """(source, variables) from read(), which parses one file or -e value as Ansible does."""
    try:
        data = read()
    except AnsibleError as e:
        raise ConfigError(source, None, _yaml_problem(e), "fix the syntax there") from None
    if data is None:
        return source, {}
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        raise ConfigError(source, None, f"holds {kind}, not variables", "write name: value lines (a YAML mapping)")
    return source, data


def _yaml_problem(error):
    """A YAML syntax error's line and column, found in the exception chain of Ansible's loader."""
    seen = error
    while seen is not None:
        mark = getattr(seen, "problem_mark", None)
        if mark is not None:
            where = f" ({seen.context} at line {seen.context_mark.line + 1})" if seen.context_mark else ""
            return f"invalid YAML at line {mark.line + 1} column {mark.column + 1}: {seen.problem}{where}"
        seen = seen.__cause__ or getattr(seen, "orig_exc", None) or seen.__context__
    return one_line(error)


class Roles:
    """The roles' argument specs: {variable: (role, spec)} over every entry point, main first."""

    def __init__(self, roles_dir):
        self.roles_dir = Path(roles_dir)
        self.options = {}
        for spec_file in sorted(self.roles_dir.glob("*/meta/argument_specs.yml")):
            role = spec_file.parent.parent.name
            entry_points = yaml.safe_load(spec_file.read_text(encoding="utf-8"))["argument_specs"]
            for name in sorted(entry_points, key=lambda n: n != "main"):
                for var, spec in (entry_points[name].get("options") or {}).items():
                    self.options.setdefault(var, (role, spec))
        # Longest first: a variable belongs to the longest role name it starts with.
        self.names = sorted({role for role, _ in self.options.values()}, key=len, reverse=True)

    def vars_files(self):
        """{variable: file} of what the roles set in vars/, which wins over group_vars."""
        found = {}
        for path in sorted(self.roles_dir.glob("*/vars/*.y*ml")):
            with open(path, encoding="utf-8") as f:
                for name in yaml.safe_load(f) or {}:
                    found.setdefault(name, path)
        return found

    def check(self, source, var, value):
        """The ConfigError of a role's variable whose value does not fit its spec, else None."""
        if var in RENAMED and var not in self.options:
            new = RENAMED[var]
            if new is None:
                return ConfigError(source, var, "was removed", "remove it (see CHANGELOG.md)")
            return ConfigError(source, var, f"was renamed to {new}", f"rename it (see roles/{self.options[new][0]}/README.md)")
        if var not in self.options:
            role = next((r for r in self.names if var.startswith(r + "_")), None)
            if role is None:
                return None  # not a role's variable (ansible_*, the playbook's, the user's own)
            close = difflib.get_close_matches(var, [v for v, (r, _) in self.options.items() if r == role], n=1)
            return ConfigError(source, var, f"role {role} has no such variable",
                               (f"did you mean {close[0]}?" if close else "remove it or fix its name")
                               + f" (see roles/{role}/README.md)")
        if isinstance(value, str) and ("{{" in value or "{%" in value):
            return None
        role, spec = self.options[var]
        checked = {k: v for k, v in spec.items() if k in ("type", "choices", "elements", "no_log")}
        if not ArgumentSpecValidator({var: checked}).validate({var: value}).error_messages:
            return None
        shown = "the value" if spec.get("no_log") else one_line(repr(value), 60)
        fix = "set it to one of them" if spec.get("choices") else f"set it to {_wanted(spec)}"
        return ConfigError(source, var, f"{shown} is not {_wanted(spec)}", f"{fix} (see roles/{role}/README.md)")


def _wanted(spec):
    if spec.get("choices"):
        return "one of " + ", ".join(map(str, spec["choices"]))
    kind = KINDS.get(spec.get("type", "str"), spec.get("type"))
    if spec.get("type") == "list" and spec.get("elements"):
        kind += f" of {KINDS.get(spec['elements'], spec['elements'])} values"
    return kind
