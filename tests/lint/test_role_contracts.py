"""Roles talk to each other through contracts: another role's inputs (meta/argument_specs.yml) and
the variables it exports (the public names it sets with set_fact or register, or defines in vars/,
listed in its README under "Variables exported by the role"), never its __<role>_ internals. One
role owns each shared job: slurm_common restarts and reconfigures slurmctld (handlers the others
notify), packages installs with apt and fetches pinned files. Files are read as
role_variables.py reads them (their Jinja2 parsed, not searched).
"""

import re
import textwrap

import yaml
from role_variables import ROLES, ROOT, Roles, argument_specs, owner, role_files

EXPORTS_HEADING = "## Variables exported by the role"
# One owner per job: (what, the role allowed to do it, how to spot it in a task).
OWNERS = [
    ("runs `scontrol reconfigure`", "slurm_common", lambda text: "scontrol reconfigure" in text),
    ("installs with ansible.builtin.apt", "packages",
     lambda text: re.search(r"^\s*ansible\.builtin\.apt:", text, re.M)),
    ("downloads pinned files (get_url with a checksum)", "packages",
     lambda text: "ansible.builtin.get_url:" in text and re.search(r"^\s*checksum:", text, re.M)),
]


def where(path, root=ROOT):
    return str(path.relative_to(root))


def violations(roles_dir):
    """'<file>: reads <name>, internal to role <role>' for every read of another role's internals."""
    roles = Roles.load(roles_dir)
    return ["%s: reads %s, internal to role %s" % (path.relative_to(roles_dir.parent), name,
                                                   owner(name, roles.names)[0])
            for path, name in roles.private_reads_across_roles()]


def test_no_role_reads_another_roles_internal_variables():
    found = violations(ROOT / "roles")
    assert not found, ("read another role's exported variables or inputs instead (its README, "
                       "'Variables exported by the role'): " + "; ".join(found))


def plant(tmp_path, files):
    """A roles folder with these files ({'role/tasks/main.yml': text})."""
    for name, text in files.items():
        path = tmp_path / "roles" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path / "roles"


def test_the_check_finds_a_planted_read_of_another_roles_internals(tmp_path):
    roles_dir = plant(tmp_path, {
        "base/tasks/main.yml": """
            - name: Set the paths
              ansible.builtin.set_fact:
                __base_paths: {bindir: /usr/bin}
                base_paths: {bindir: /usr/bin}
            """,
        "user/tasks/main.yml": """
            - name: Run the command
              ansible.builtin.command: "{{ __base_paths.bindir }}/true"
              changed_when: false
              when: base_paths is defined and __user_own is defined
            """,
        "user/templates/unit.j2": "ExecStart={{ __base_paths.bindir }}/daemon\n",
        "user/vars/main.yml": "__user_own: \"{{ base_paths.bindir }}\"\n",
    })
    assert violations(roles_dir) == ["roles/user/tasks/main.yml: reads __base_paths, internal to role base",
                                     "roles/user/templates/unit.j2: reads __base_paths, internal to role base"]
    assert Roles.load(roles_dir).exports("base") == {"base_paths"}


def test_the_check_passes_reads_of_exports_and_own_internals(tmp_path):
    roles_dir = plant(tmp_path, {
        "base/tasks/main.yml": "- name: Export\n  ansible.builtin.set_fact:\n    base_paths: {}\n",
        "user/tasks/main.yml": """
            - name: Read
              ansible.builtin.debug:
                msg: "{{ base_paths }} {{ __user_x }}"
              vars:
                __user_x: 1
            """,
    })
    assert violations(roles_dir) == []


def exported_in_readme(role):
    """The variables a README lists under its exports heading (first column, in backquotes)."""
    text = (ROOT / "roles" / role / "README.md").read_text(encoding="utf-8")
    if EXPORTS_HEADING not in text:
        return set()
    section = text.split(EXPORTS_HEADING, 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(\w+)` \|", section, re.M))


def test_every_export_is_documented_and_nothing_else_is():
    roles = Roles.load()
    problems = []
    for role in ROLES:
        exported, documented = roles.exports(role), exported_in_readme(role)
        problems += ["roles/%s: %s is exported but not under '%s' in README.md" % (role, n, EXPORTS_HEADING)
                     for n in sorted(exported - documented)]
        problems += ["roles/%s/README.md lists %s as exported, but the role does not set it" % (role, n)
                     for n in sorted(documented - exported)]
    assert not problems, "; ".join(problems)


def test_exports_are_not_inputs():
    """An export that is also an input would be overridden by -e, and set in group_vars for nothing."""
    roles = Roles.load()
    both = ["%s (roles/%s)" % (name, role) for role in ROLES
            for name in sorted(roles.exports(role) & set().union(
                *(entry.get("options", {}) for entry in argument_specs(role).values())))]
    assert not both, "exported and an input of meta/argument_specs.yml: " + ", ".join(both)


def test_each_shared_job_has_one_owner():
    found = []
    for what, allowed, spots in OWNERS:
        for role in ROLES:
            if role == allowed:
                continue
            for path in role_files(role):
                text = path.read_text(encoding="utf-8")
                if path.suffix == ".j2":  # a template's comments say what happens, they do not do it
                    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
                else:
                    text = yaml.safe_dump(yaml.safe_load(text))  # without comments
                if spots(text):
                    found.append("%s %s (only %s may: notify or include it)" % (where(path), what, allowed))
    assert not found, "; ".join(found)
