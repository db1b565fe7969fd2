"""The bundle's settings against the roles' argument specs: every group_vars and host_vars file,
and every -e, read as ansible-playbook reads them.

Ansible checks a role's argument spec only when the role starts: after the roles before it
(slurm_common's packages and munge) have changed the node, and never on node types that do not
run the role. So every node checks every setting here before Ansible starts (bootstrap.py stops at
the first problem), and `validate` runs the same check on a workstation (listing every problem, and
warning about settings that a role's vars/ overrides). Templated values are left to Ansible.

Beyond the specs' types: numbers in a sensible range (limits.py), the users of a role's user list
checked as shared_users.txt's are, and no secret (an option with no_log) given on the command line,
where ps and ansible-runner's saved command would show it, and no template reading a fact the run
does not have (fact_names.py). No error shows a -e value or a secret.

Needs ansible-core (its YAML loader, -e parser and argument spec validator).
"""

import difflib
import os
import stat
from pathlib import Path

import yaml
from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.splitter import parse_kv
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.inputs import (MAX_TEXT_BYTES, ConfigError, ConfigWarning,
                                                                           one_line, shown)
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.shared_users import check_users
from lifecycle import fact_names, limits
from lifecycle.fact_names import is_template

# libyaml's loader where PyYAML has it (the bundle's wheels do): the roles' own files, read on every
# node's run, in a tenth of the pure-Python loader's time (0.008 s against 0.079 s here).
ROLE_FILE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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
    "cluster_access_partitions": None,  # the motd reads the partitions from Slurm at login
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
# A secret's way in other than the command line, by variable (bootstrap.py's options); any secret
# can come from a file with -e @FILE.
SECRET_FILE_OPTIONS = {"slurm_common_munge_key": "--munge-key-file PATH ('-' for stdin)"}


def problems(bundle, extra_vars=(), extra_vars_source="-e", overridden=False):
    """Every problem of the bundle's settings files, then of the -e values, in that order: a
    ConfigError per problem; with overridden, a ConfigWarning for each setting that a role's vars/
    sets too (that setting is then not checked: it has no effect)."""
    roles = Roles(Path(bundle) / "roles")
    loader = DataLoader()
    overriding = roles.vars_files() if overridden else {}
    for source, read, inline in sources(bundle, extra_vars, extra_vars_source, loader):
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
            if inline and roles.is_secret(str(name)):
                yield ConfigError(source, name, "is a secret, and on the command line ps and ansible-runner's saved "
                                  "command show it", "put it in a root-only file and pass "
                                  + SECRET_FILE_OPTIONS.get(str(name), "-e @FILE"))
                continue
            unusable = fact_names.problem(value)
            if unusable:
                yield ConfigError(source, name, *unusable)
                continue
            yield from roles.check(source, str(name), value)


def first_error(bundle, extra_vars=(), extra_vars_source="-e"):
    """Raise the first problem, as a node does before its run."""
    for problem in problems(bundle, extra_vars, extra_vars_source):
        raise problem


def files(bundle):
    """The bundle's group_vars and host_vars files, as Ansible finds them: .yml, .yaml, .json or no
    extension, not hidden. Anything but a folder is listed (a pipe there would hang Ansible)."""
    for folder in SETTINGS_DIRS:
        for path in sorted((Path(bundle) / folder).rglob("*")):
            if not path.is_dir() and not path.name.startswith(".") and path.suffix in ("", ".yml", ".yaml", ".json"):
                yield path


def sources(bundle, extra_vars, extra_vars_source, loader):
    """(where, read, inline) for each settings file and each -e; read() -> (where, variables) or
    ConfigError. An inline -e is named by its position, never by its text: it may hold a secret."""
    for path in files(bundle):
        yield path, lambda path=path: _from_file(path, path, loader), False
    for number, opt in enumerate(extra_vars, start=1):
        where = f"{extra_vars_source} #{number}"
        if opt.startswith("@"):
            yield f"{extra_vars_source} {opt}", lambda opt=opt: _from_file(f"{extra_vars_source} {opt}", opt[1:],
                                                                           loader), False
        elif opt.startswith(("{", "[")):
            yield where, lambda opt=opt, where=where: (extra_vars_source,
                                                        _mapping(where, lambda: loader.load(opt), inline=True)[1]), True
        elif opt:
            yield where, lambda opt=opt, where=where: (extra_vars_source, _key_values(where, opt)), True


def _from_file(where, path, loader):
    """A settings file's variables; a regular file of at most MAX_TEXT_BYTES (Ansible would wait on a
    pipe for ever, and read a device until memory runs out)."""
    try:
        info = os.stat(path)
    except OSError as e:
        if where == path:  # a settings file of the bundle (a dangling link, say)
            raise ConfigError(path, None, f"cannot read the file ({e.strerror})", "fix or remove it") from None
        raise ConfigError(where, None, "no such file", "check the path after @") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(where, None, "is not a regular file", "settings must be in regular files")
    if info.st_size > MAX_TEXT_BYTES:
        raise ConfigError(where, None, f"the file is larger than {MAX_TEXT_BYTES // 1_000_000} MB",
                          "keep settings files small")
    return _mapping(path, lambda: loader.load_from_file(str(path)))


def _key_values(where, opt):
    try:
        data = parse_kv(opt)
    except AnsibleError:  # its message holds the whole value
        raise ConfigError(where, None, "is not name=value (unbalanced quotes?)",
                          "quote the value once: -e 'name=a value' or -e @file.yml") from None
    if "_raw_params" in data:
        raise ConfigError(where, None, "is not name=value", "write -e name=value, -e '{\"name\": value}' or -e @file.yml")
    return data


def _mapping(source, read, inline=False):
    """(source, variables) from read(), which parses one file or -e value as Ansible does."""
    try:
        data = read()
    except AnsibleError as e:
        raise ConfigError(source, None, _yaml_problem(e, inline), "fix the syntax there") from None
    if data is None:
        return source, {}
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        raise ConfigError(source, None, f"holds {kind}, not variables", "write name: value lines (a YAML mapping)")
    return source, data


def _yaml_problem(error, inline=False):
    """A YAML syntax error's line and column, found in the exception chain of Ansible's loader. Of an
    inline -e, nothing else: Ansible's own message quotes the value, which may hold a secret."""
    seen = error
    while seen is not None:
        mark = getattr(seen, "problem_mark", None)
        if mark is not None:
            where = f" ({seen.context} at line {seen.context_mark.line + 1})" if seen.context_mark else ""
            return f"invalid YAML at line {mark.line + 1} column {mark.column + 1}: {seen.problem}{where}"
        seen = seen.__cause__ or getattr(seen, "orig_exc", None) or seen.__context__
    return "invalid YAML or JSON" if inline else one_line(error)


class Roles:
    """The roles' argument specs: {variable: (role, spec)} over every entry point, main first."""

    def __init__(self, roles_dir):
        self.roles_dir = Path(roles_dir)
        self.options = {}
        for spec_file in sorted(self.roles_dir.glob("*/meta/argument_specs.yml")):
            role = spec_file.parent.parent.name
            entry_points = yaml.load(spec_file.read_text(encoding="utf-8"), Loader=ROLE_FILE_LOADER)["argument_specs"]
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
                for name in yaml.load(f, Loader=ROLE_FILE_LOADER) or {}:
                    found.setdefault(name, path)
        return found

    def is_secret(self, var):
        return var in self.options and bool(self.options[var][1].get("no_log"))

    def check(self, source, var, value):
        """The ConfigErrors of a role's variable whose value does not fit its spec (none, or several
        for a list of users)."""
        if var in RENAMED and var not in self.options:
            new = RENAMED[var]
            if new is None:
                return [ConfigError(source, var, "was removed", "remove it (see CHANGELOG.md)")]
            return [ConfigError(source, var, f"was renamed to {new}",
                                f"rename it (see roles/{self.options[new][0]}/README.md)")]
        if var not in self.options:
            role = next((r for r in self.names if var.startswith(r + "_")), None)
            if role is None:
                return []  # not a role's variable (ansible_*, the playbook's, the user's own)
            close = difflib.get_close_matches(var, [v for v, (r, _) in self.options.items() if r == role], n=1)
            return [ConfigError(source, var, f"role {role} has no such variable",
                                (f"did you mean {close[0]}?" if close else "remove it or fix its name")
                                + f" (see roles/{role}/README.md)")]
        if is_template(value):
            return []
        role, spec = self.options[var]
        checked = {k: v for k, v in spec.items() if k in ("type", "choices", "elements", "no_log")}
        result = ArgumentSpecValidator({var: checked}).validate({var: value})
        value_shown = "the value" if spec.get("no_log") else shown(value)
        if result.error_messages:
            fix = "set it to one of them" if spec.get("choices") else f"set it to {_wanted(spec)}"
            return [ConfigError(source, var, f"{value_shown} is not {_wanted(spec)}",
                                f"{fix} (see roles/{role}/README.md)")]
        if is_user_list(spec):
            return check_users(source, var, value)
        problem = limits.problem(var, result.validated_parameters[var]) or limits.name_problem(var, value)
        if problem:
            value_shown = "the value" if spec.get("no_log") else shown(result.validated_parameters[var])
            return [ConfigError(source, var, f"{value_shown} {problem[0]}",
                                f"{problem[1]} (see roles/{role}/README.md)")]
        return []


def is_user_list(spec):
    """Whether a role's option is a list of users ({name, uid, home}) like shared_users.txt's lines:
    fsx_users today, shared_users_accounts after the split of roles/fsx; found by shape, not name."""
    return (spec.get("type") == "list" and spec.get("elements") == "dict"
            and {"name", "uid"} <= set(spec.get("options") or {}))


def _wanted(spec):
    if spec.get("choices"):
        return "one of " + ", ".join(map(str, spec["choices"]))
    kind = KINDS.get(spec.get("type", "str"), spec.get("type"))
    if spec.get("type") == "list" and spec.get("elements"):
        kind += f" of {KINDS.get(spec['elements'], spec['elements'])} values"
    return kind
