"""Which variables the roles read and define, found by parsing their Jinja2 (not by regex).

Every string of a task, handler, vars or defaults file that holds {{ }} or {% %} is parsed as a
template, and so are the bare expressions of when, changed_when, failed_when, until and assert's
that. A name read is a jinja2 Name loaded and not assigned in the same template (set, for).
Variables are owned by the role whose name they start with: `accounting_*` is the accounting
role's public contract (an input of meta/argument_specs.yml, or a variable it exports: sets with
set_fact or register, or defines in vars/), `__accounting_*` its internal state, which no other
role reads.
"""

import glob
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml
from jinja2 import nodes

ROOT = Path(__file__).resolve().parents[2]
ROLES_DIR = ROOT / "roles"
ROLES = sorted(p.name for p in ROLES_DIR.iterdir() if (p / "tasks").is_dir())

# Keys whose values are bare Jinja2 expressions rather than templates.
CONDITIONALS = {"when", "changed_when", "failed_when", "until", "that"}
INCLUDE_TASKS = {"ansible.builtin.include_tasks", "ansible.builtin.import_tasks"}
INCLUDE_VARS = {"ansible.builtin.include_vars"}
TEMPLATE = {"ansible.builtin.template"}
SET_FACT = {"ansible.builtin.set_fact"}
TEMPLATE_LOOKUP = re.compile(r"""lookup\(\s*['"]ansible\.builtin\.template['"]\s*,\s*['"]([^'"]+)['"]""")

_JINJA = jinja2.Environment()


def owner(name, roles=ROLES):
    """(role, internal) for a role-prefixed name, else (None, None). The longest role name wins."""
    for role in sorted(roles, key=len, reverse=True):
        if name.startswith("__%s_" % role):
            return role, True
        if name.startswith("%s_" % role):
            return role, False
    return None, None


def names_read(template):
    """Names a Jinja2 template reads from its context."""
    with warnings.catch_warnings():
        # Regexes such as '\\s' in Jinja2 string literals: Jinja2 warns, Ansible renders them as meant.
        warnings.simplefilter("ignore", DeprecationWarning)
        tree = _JINJA.parse(template)
    stored = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    return {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"} - stored


def _is_template(text):
    return "{{" in text or "{%" in text


@dataclass
class FileScan:
    """What one file reads, defines, and pulls in (task files, templates, vars files)."""

    path: Path
    reads: set = field(default_factory=set)
    defines: dict = field(default_factory=dict)  # name -> names its value reads (vars and defaults files)
    local: set = field(default_factory=set)  # register, set_fact, task vars, loop_var
    sets: set = field(default_factory=set)  # register and set_fact only: what outlives the task
    includes: set = field(default_factory=set)  # paths relative to the role, glob patterns allowed


def _expressions(value):
    """The expressions of a conditional: one string, or a list of them (and-ed)."""
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _walk(node, scan):
    if isinstance(node, str):
        if _is_template(node):
            scan.reads |= names_read(node)
            scan.includes |= {"templates/" + name for name in TEMPLATE_LOOKUP.findall(node)}
        return
    if isinstance(node, list):
        for item in node:
            _walk(item, scan)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in CONDITIONALS and not isinstance(value, bool):
            for expr in _expressions(value):
                scan.reads |= names_read(expr if _is_template(expr) else "{{ %s }}" % expr)
            continue
        if key == "register":
            scan.local.add(value)
            scan.sets.add(value)
        elif key == "vars" and isinstance(value, dict):
            scan.local |= set(value)
        elif key in SET_FACT and isinstance(value, dict):
            scan.local |= set(value) - {"cacheable"}
            scan.sets |= set(value) - {"cacheable"}
        elif key == "loop_control" and isinstance(value, dict) and "loop_var" in value:
            scan.local.add(value["loop_var"])
        elif key in INCLUDE_TASKS:
            name = value["file"] if isinstance(value, dict) else value
            scan.includes.add("tasks/" + re.sub(r"{{.*?}}", "*", name))
        elif key in INCLUDE_VARS:
            name = value["file"] if isinstance(value, dict) else value
            scan.includes.add("vars/" + re.sub(r"{{.*?}}", "*", name))
        elif key in TEMPLATE and isinstance(value, dict):
            scan.includes.add("templates/" + value["src"])
        _walk(value, scan)


def scan_file(path):
    path = Path(path)
    scan = FileScan(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".j2":
        scan.reads = names_read(text)
        return scan
    data = yaml.safe_load(text)
    if path.parent.name in ("vars", "defaults") and isinstance(data, dict):
        for name, value in data.items():
            definition = FileScan(path)
            _walk(value, definition)
            scan.defines[name] = definition.reads
            scan.reads |= definition.reads
        return scan
    _walk(data, scan)
    return scan


def role_names(roles_dir=ROLES_DIR):
    return sorted(p.name for p in Path(roles_dir).iterdir() if (p / "tasks").is_dir())


def role_files(role, roles_dir=ROLES_DIR):
    base = Path(roles_dir) / role
    return sorted(p for sub in ("tasks", "handlers", "vars", "defaults", "templates")
                  for p in (base / sub).rglob("*") if p.is_file())


@dataclass
class Roles:
    """Every role file scanned, with the lookups the tests need."""

    files: dict  # path -> FileScan
    roles_dir: Path = ROLES_DIR
    names: list = field(default_factory=lambda: list(ROLES))

    @classmethod
    def load(cls, roles_dir=ROLES_DIR):
        names = role_names(roles_dir)
        return cls({p: scan_file(p) for role in names for p in role_files(role, roles_dir)}, Path(roles_dir), names)

    def role_of(self, path):
        return Path(path).relative_to(self.roles_dir).parts[0]

    def exports(self, role):
        """The role's public names it sets for others: set_fact and register in its task and handler
        files, definitions in its vars/ files (not defaults/: those are inputs)."""
        found = set()
        for path, scan in self.files.items():
            if self.role_of(path) == role:
                found |= scan.sets | (set(scan.defines) if path.parent.name == "vars" else set())
        return {name for name in found if owner(name, self.names) == (role, False)}

    def private_reads_across_roles(self):
        """(file, name) for every read of another role's internal __<role>_ variable."""
        return sorted((path, name) for path, scan in self.files.items() for name in scan.reads
                      if owner(name, self.names)[1] is True and owner(name, self.names)[0] != self.role_of(path))

    def reads(self):
        """name -> files reading it, across every role."""
        found = {}
        for path, scan in self.files.items():
            for name in scan.reads:
                found.setdefault(name, set()).add(path)
        return found

    def defined(self):
        """Every name a role file defines: vars and defaults files, register, set_fact, task vars."""
        names = set()
        for scan in self.files.values():
            names |= set(scan.defines) | scan.local
        return names

    def definitions(self):
        """name -> names read by its value, for internal variables and exports of vars files
        (evaluated lazily, so reading one reads what it is made of)."""
        return {name: reads for path, scan in self.files.items() for name, reads in scan.defines.items()
                if name.startswith("__") or path.parent.name == "vars"}

    def entry_point_reads(self, role, entry):
        """Names read by the files an entry point reaches: tasks/<entry>.yml, the task files,
        templates and vars files it includes (transitively), its handlers for main, and what the
        internal variables it reads are made of."""
        base = self.roles_dir / role
        todo = [base / "tasks" / ("%s.yml" % entry)] + ([base / "handlers" / "main.yml"] if entry == "main" else [])
        seen = set()
        while todo:
            path = todo.pop()
            if path in seen or path not in self.files:
                continue
            seen.add(path)
            for pattern in self.files[path].includes:
                todo += [Path(p) for p in glob.glob(str(base / pattern))]
        reads = set().union(*(self.files[p].reads for p in seen))
        definitions = self.definitions()
        pending = list(reads)
        while pending:
            for name in definitions.get(pending.pop(), ()):
                if name not in reads:
                    reads.add(name)
                    pending.append(name)
        return reads


def argument_specs(role):
    path = ROLES_DIR / role / "meta" / "argument_specs.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["argument_specs"]


def defaults(role):
    path = ROLES_DIR / role / "defaults" / "main.yml"
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}


def is_templated(value):
    """Whether a defaults value is computed by Jinja2 at run time (anywhere inside it)."""
    if isinstance(value, str):
        return _is_template(value)
    if isinstance(value, dict):
        return any(is_templated(v) for v in value.values())
    if isinstance(value, list):
        return any(is_templated(v) for v in value)
    return False
