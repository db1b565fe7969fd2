"""The bundle's group_vars and host_vars against the roles' argument specs: the same check every
node runs before Ansible starts (bootstrap.py's check_setting), so validate predicts its verdict,
plus a warning for settings that role vars override."""

from pathlib import Path

import yaml

import bootstrap


def role_vars(roles_dir):
    """{variable: file} of what the roles set in vars/, which wins over group_vars."""
    found = {}
    for path in sorted(Path(roles_dir).glob("*/vars/*.y*ml")):
        with open(path, encoding="utf-8") as f:
            for name in yaml.safe_load(f) or {}:
                found.setdefault(name, path)
    return found


def check(bundle_dir, error, warning):
    """Call error(path, field, problem, fix) / warning(...) for each problem in the settings files."""
    from ansible.parsing.dataloader import DataLoader

    roles_dir = Path(bundle_dir) / "roles"
    options = bootstrap.role_options(roles_dir)
    role_names = sorted({role for role, _ in options.values()}, key=len, reverse=True)
    overridden = role_vars(roles_dir)
    loader = DataLoader()
    for path in bootstrap.settings_files(bundle_dir):
        try:
            _, variables = bootstrap.load_settings(path, lambda path=path: loader.load_from_file(str(path)))
        except bootstrap.hp.ConfigError as e:
            error(e.path, e.field, e.problem, e.fix)
            continue
        for name, value in variables.items():
            if name in overridden:
                warning(path, name, f"{overridden[name].relative_to(bundle_dir)} sets it too, and role vars win "
                        "over group_vars", "this setting has no effect; remove it")
                continue
            try:
                bootstrap.check_setting(path, str(name), value, options, role_names)
            except bootstrap.hp.ConfigError as e:
                error(e.path, e.field, e.problem, e.fix)
