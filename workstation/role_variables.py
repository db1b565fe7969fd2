"""The bundle's group_vars against the roles' meta/argument_specs.yml, checked by Ansible's own
ArgumentSpecValidator (what validate_argument_spec runs on the node, minutes into a converge)."""

from pathlib import Path

import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator


class _Tagged(str):
    """A value under a YAML tag such as !vault or !unsafe: not ours to check."""


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # the C one when PyYAML has it: 20x faster
    pass


_Loader.add_multi_constructor("!", lambda loader, suffix, node: _Tagged(suffix))


def _load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_Loader) or {}  # noqa: S506 - a SafeLoader


def _templated(value):
    """Jinja is resolved on the node; a templated value cannot be checked here."""
    if isinstance(value, dict):
        return any(_templated(v) for v in value.values())
    if isinstance(value, list):
        return any(_templated(v) for v in value)
    return isinstance(value, _Tagged) or (isinstance(value, str) and ("{{" in value or "{%" in value))


def role_specs(roles_dir):
    """{variable: [(role, spec)]} from every entry point of every role's argument specs."""
    specs = {}
    for path in sorted(Path(roles_dir).glob("*/meta/argument_specs.y*ml")):
        role = path.parents[1].name
        for entry in (_load_yaml(path).get("argument_specs") or {}).values():
            for name, spec in ((entry or {}).get("options") or {}).items():
                specs.setdefault(name, []).append((role, spec))
    return specs


def role_variables(roles_dir, folder):
    """{variable: file} of what the roles define in defaults/ or vars/."""
    found = {}
    for path in sorted(Path(roles_dir).glob(f"*/{folder}/*.y*ml")):
        for name in _load_yaml(path) or {}:
            found.setdefault(name, path)
    return found


def group_vars_files(group_vars_dir):
    """group_vars/<group>.yml and group_vars/<group>/*.yml."""
    base = Path(group_vars_dir)
    return sorted(p for p in base.glob("*") if p.suffix in (".yml", ".yaml") and p.is_file()) + \
        sorted(base.glob("*/*.y*ml"))


def check(bundle_dir, error, warning):
    """Call error(path, field, problem, fix) / warning(...) for each problem in the group_vars."""
    roles_dir = Path(bundle_dir) / "roles"
    specs = role_specs(roles_dir)
    defaults, role_vars = role_variables(roles_dir, "defaults"), role_variables(roles_dir, "vars")
    roles = sorted((p.name for p in roles_dir.iterdir() if p.is_dir()), key=len, reverse=True)
    for path in group_vars_files(Path(bundle_dir) / "inventory" / "group_vars"):
        try:
            variables = _load_yaml(path)
        except yaml.YAMLError as e:
            error(path, None, f"is not valid YAML: {' '.join(str(e).split())}", "fix the syntax there")
            continue
        if not isinstance(variables, dict):
            error(path, None, "does not hold a mapping of variables", "write it as name: value lines")
            continue
        for name, value in variables.items():
            if name in role_vars:
                warning(path, name, f"{role_vars[name].relative_to(bundle_dir)} sets it too, and role vars win over "
                        "group_vars", "this setting has no effect; remove it")
            elif name in specs:
                if not _templated(value):
                    _check_value(path, name, value, specs[name], error)
            elif name not in defaults:
                role = next((r for r in roles if str(name).startswith(r + "_")), None)
                if role:
                    warning(path, name, f"role {role} has no such variable (a typo?)",
                            f"see roles/{role}/meta/argument_specs.yml; Ansible ignores unknown variables")


def _check_value(path, name, value, specs, error):
    for role, spec in specs:
        # The roles' defaults supply what is required; group_vars need not.
        spec = {k: v for k, v in spec.items() if k != "required"}
        result = ArgumentSpecValidator({name: spec}).validate({name: value}, validate_role_argument_spec=True)
        if result.error_messages:
            error(path, name, "; ".join(result.error_messages), f"see roles/{role}/meta/argument_specs.yml")
            return
