"""The roles' argument specs cover exactly the variables the roles read, with the defaults they use.

Ansible validates a role's input against meta/argument_specs.yml before any of its tasks runs, and
ansible-doc and the READMEs show the specs: a variable missing there is neither checked nor
documented, and a stale entry documents nothing. A role's exports (the public names it sets for
other roles, test_role_contracts.py) are its outputs, not inputs: no spec lists them. See
role_variables.py for how files are read.
"""

import pytest
import yaml
from role_variables import ROLES, ROOT, Roles, argument_specs, defaults, is_templated, owner

# Names Ansible itself provides.
ANSIBLE_NAMES = {"ansible_facts", "role_path", "groups", "hostvars", "inventory_hostname", "item", "lookup", "query", "omit",
                 "loop", "ansible_check_mode", "playbook_dir", "range", "dict",
                 "namespace", "ansible_failed_result", "ansible_playbook_python", "group_names"}
# Inventory variables the roles read when present: set by the hyperpod inventory plugin
# (plugins/inventory/hyperpod.py), unset on ordinary clusters (docs/ordinary-clusters.md).
INVENTORY_INPUTS = {"hyperpod_cluster_name", "hyperpod_controller_ips", "hyperpod_slurm_configurations",
                    "slurm_nodename", "hyperpod_config_mode", "hyperpod_fsx_dns_name", "hyperpod_fsx_mountname",
                    "hyperpod_fsx_openzfs_dns_name", "hyperpod_shared_users", "hyperpod_instance_type",
                    "hyperpod_customer_ip", "hyperpod_partitions"}


@pytest.fixture(scope="module")
def roles():
    return Roles.load()


def where(paths):
    return ", ".join(sorted(str(p.relative_to(ROOT)) for p in paths))


def options(role, entry="main"):
    return argument_specs(role)[entry].get("options", {})


def entry_points():
    return [(role, entry) for role in ROLES for entry in argument_specs(role)]


def test_every_public_variable_read_is_in_its_roles_argument_specs(roles):
    missing = ["%s (read in %s)" % (name, where(paths)) for name, paths in sorted(roles.reads().items())
               if owner(name)[1] is False and name not in options(owner(name)[0])
               and name not in roles.exports(owner(name)[0])]
    assert not missing, "not in the main entry point of the owning role's meta/argument_specs.yml: " + "; ".join(
        missing)


@pytest.mark.parametrize("role, entry", [e for e in entry_points() if e[1] != "main"])
def test_every_entry_point_lists_the_variables_it_reads(roles, role, entry):
    read = {n for n in roles.entry_point_reads(role, entry) if owner(n) == (role, False)} - roles.exports(role)
    assert not read - set(options(role, entry)), "%s, entry point %s, reads them" % (role, entry)


@pytest.mark.parametrize("role, entry", entry_points())
def test_no_argument_spec_entry_goes_unused(roles, role, entry):
    # main describes the whole role: its variables may be read by any entry point, or another role.
    read = set(roles.reads()) if entry == "main" else roles.entry_point_reads(role, entry)
    assert not set(options(role, entry)) - read, "%s, entry point %s: nothing reads them" % (role, entry)


@pytest.mark.parametrize("role, entry", entry_points())
def test_every_option_has_a_type_and_a_description(role, entry):
    incomplete = [name for name, spec in options(role, entry).items()
                  if not spec.get("type") or not spec.get("description")]
    assert not incomplete, "%s, entry point %s" % (role, entry)


@pytest.mark.parametrize("role", ROLES)
def test_defaults_are_the_argument_specs_defaults(role):
    specs, values = options(role), defaults(role)
    problems = ["%s: in defaults/main.yml only" % name for name in sorted(set(values) - set(specs))]
    for name, spec in sorted(specs.items()):
        if name not in values:
            if not spec.get("required"):
                problems.append("%s: no default in defaults/main.yml, so the spec must say required" % name)
        elif is_templated(values[name]):
            # Computed at run time: the spec says how in its description, and states no default.
            if "default" in spec:
                problems.append("%s: defaults/main.yml computes it; drop the spec's default" % name)
            if not any(line.startswith("Default - ") for line in description_lines(spec)):
                problems.append("%s: say how its default is computed, in a description line 'Default - ...'" % name)
        elif spec.get("default", object()) != values[name]:
            problems.append("%s: spec default %r, defaults/main.yml %r" % (name, spec.get("default"), values[name]))
    assert not problems, "roles/%s: %s" % (role, "; ".join(problems))


@pytest.mark.parametrize("role, entry", [e for e in entry_points() if e[1] != "main"])
def test_entry_points_describe_variables_as_main_does(role, entry):
    """One description per variable (YAML anchors in the specs), whichever entry point shows it."""
    main = options(role)
    differing = [name for name, spec in options(role, entry).items() if name in main and spec != main[name]]
    assert not differing, "%s, entry point %s, differ from main" % (role, entry)


def test_other_names_read_are_ansibles_or_the_inventorys(roles):
    unknown = ["%s (read in %s)" % (name, where(paths)) for name, paths in sorted(roles.reads().items())
               if owner(name)[0] is None and name not in ANSIBLE_NAMES | INVENTORY_INPUTS]
    assert not unknown, "neither role-prefixed nor known: " + "; ".join(unknown)


def test_every_internal_variable_read_is_defined(roles):
    defined = roles.defined()
    undefined = ["%s (read in %s)" % (name, where(paths)) for name, paths in sorted(roles.reads().items())
                 if owner(name)[1] is True and name not in defined]
    assert not undefined, "read but never set (register, set_fact, vars): " + "; ".join(undefined)


def settings():
    """(file, name) for every variable set outside the roles' own files: the bundle's group_vars,
    the scenarios' inventories and the roles' dependencies."""
    for path in sorted((ROOT / "group_vars").glob("*.yml")):
        yield from ((path, name) for name in yaml.safe_load(path.read_text()) or {})
    for path in sorted((ROOT / "molecule").glob("*/molecule.yml")):
        inventory = (yaml.safe_load(path.read_text()).get("provisioner") or {}).get("inventory") or {}
        for kind in ("group_vars", "host_vars"):
            for values in (inventory.get(kind) or {}).values():
                yield from ((path, name) for name in values or {})
    for path in sorted((ROOT / "roles").glob("*/meta/main.yml")):
        for dependency in yaml.safe_load(path.read_text()).get("dependencies") or []:
            yield from ((path, name) for name in dependency.get("vars") or {})


def test_settings_name_variables_the_roles_have():
    unknown = ["%s in %s" % (name, path.relative_to(ROOT)) for path, name in settings()
               if owner(name)[0] and name not in options(owner(name)[0])]
    assert not unknown, "no role has these variables: " + "; ".join(unknown)


def description_lines(spec):
    text = spec.get("description", [])
    return [text] if isinstance(text, str) else text
