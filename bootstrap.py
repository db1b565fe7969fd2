#!/usr/bin/env python3
"""Converge this SageMaker HyperPod node with Ansible.

on_create.sh calls `bootstrap.py run` on every node at once. It validates the inputs and the
bundle's settings (group_vars, host_vars, -e) against the roles' argument specs, finds which
instance this node is, and runs playbooks/site.yml limited to this node through ansible-runner,
printing one line per task and a summary.

  bootstrap.py [run] [--check] [--tags T] [--node NAME] ...   converge this node (exit 0, 1, or 2)
  bootstrap.py inventory [--resource-config R] ...            print the inventory as JSON

Exit status: 0 success, 1 the playbook failed, 2 the inputs are wrong (one line on stderr).
Runs on Python 3.10+ with ansible-core 2.17+ and ansible-runner; nothing else.

On a workstation, from a checkout (workstation/, not shipped in the bundle):
  bootstrap.py validate --create-cluster create_cluster.json [--json]   check the request and the bundle
  bootstrap.py bundle [OUT]                  build the bundle (a folder, or a .tar.gz)
  bootstrap.py upload s3://bucket/prefix     build and upload it; prints the LifeCycleConfig
"""

import argparse
import datetime
import fcntl
import importlib
import importlib.util
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __name__ == "__main__":
    sys.modules.setdefault("bootstrap", sys.modules[__name__])  # workstation/ imports it: one copy

BUNDLE = Path(__file__).resolve().parent
# HyperPod runs the bundle from a copy under /tmp/sagemaker-lifecycle-*, from any cwd: every path
# is taken relative to this file, and the bundle's ansible.cfg must win over any other.
os.environ["ANSIBLE_CONFIG"] = str(BUNDLE / "ansible.cfg")

DEFAULT_RESOURCE_CONFIG = "/opt/ml/config/resource_config.json"
TASK_LINE_WIDTH = 64


def load_plugin_module():
    """The inventory plugin file also holds the validation code; load it by path, not by name,
    once per process (its ConfigError must be one class for everyone who catches it)."""
    if "hyperpod_inventory" in sys.modules:
        return sys.modules["hyperpod_inventory"]
    path = BUNDLE / "plugins" / "inventory" / "hyperpod.py"
    spec = importlib.util.spec_from_file_location("hyperpod_inventory", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


hp = load_plugin_module()


def utc_stamp():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


# ---- finding this node --------------------------------------------------------------------------

def node_addresses(attempts=5):
    """This node's IPv4 addresses, the primary one first.

    Connecting a UDP socket sends nothing; it only makes the kernel pick the source address of
    the default route, which is the CustomerIpAddress on HyperPod. Early at boot the route can
    be missing for a moment, hence the retries. `ip` adds the other interfaces' addresses.
    """
    found = []
    for attempt in range(attempts):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect(("10.254.254.254", 1))
                found.append(s.getsockname()[0])
                break
        except OSError:
            if attempt < attempts - 1:
                time.sleep(0.5 * 2 ** attempt)
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, timeout=10,
                             check=False).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    for line in out.splitlines():
        words = line.split()
        if "inet" in words[:-1]:
            found.append(words[words.index("inet") + 1].split("/")[0])
    return list(dict.fromkeys(found))  # unique, in order


def resolve_inputs(args):
    """Load and validate the inputs; raise hp.ConfigError."""
    pp = args.provisioning_parameters or None  # '' on the command line means: none
    roles = args.node_roles or None
    cluster = hp.load_cluster(args.resource_config, pp, roles, args.shared_users or None)
    return cluster, pp, roles


# ---- the inventory file that points the plugin at the inputs ------------------------------------

def write_inventory_config(directory, resource_config, provisioning_parameters, node_roles, shared_users=None):
    """Write <directory>/cluster.hyperpod.yml and link the bundle's group_vars/host_vars beside
    it: Ansible reads those from the directory of the inventory source."""
    directory = Path(directory)
    lines = ["# Written by bootstrap.py for this run.", "plugin: hyperpod",
             f"resource_config: {json.dumps(os.path.abspath(resource_config))}"]
    if provisioning_parameters:
        lines.append(f"provisioning_parameters: {json.dumps(os.path.abspath(provisioning_parameters))}")
    if node_roles:
        lines.append(f"node_roles: {json.dumps(os.path.abspath(node_roles))}")
    if shared_users:
        lines.append(f"shared_users: {json.dumps(os.path.abspath(shared_users))}")
    path = directory / "cluster.hyperpod.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name in ("group_vars", "host_vars"):
        link, target = directory / name, BUNDLE / "inventory" / name
        if link.is_symlink() or link.exists():
            link.unlink()
        if target.is_dir():
            link.symlink_to(target)
    return path


def ansible_inventory_list(config_path):
    """The inventory in the JSON form of `ansible-inventory --list`, built the same way."""
    from ansible import constants as C
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(config_path)])
    variables = VariableManager(loader=loader, inventory=inventory)
    result = {"_meta": {"hostvars": {}}}

    def add(group):
        entry = {}
        if group.name != "all" and group.hosts:
            entry["hosts"] = [h.name for h in group.hosts]
        if group.child_groups:
            entry["children"] = [g.name for g in group.child_groups]
        if entry:
            result[group.name] = entry
        for child in group.child_groups:
            if child.name not in result:
                add(child)

    add(inventory.groups["all"])
    for host in inventory.get_hosts("all"):
        hostvars = variables.get_vars(host=host, include_hostvars=False, stage="all")
        result["_meta"]["hostvars"][host.name] = {k: v for k, v in hostvars.items()
                                                  if k not in C.INTERNAL_STATIC_VARS}
    return result


# ---- the bundle's settings against the roles' argument specs ------------------------------------
# Ansible checks a role's argument spec only when the role starts: after the roles before it
# (slurm_common's packages and munge) have changed the node, and never on node types that do not
# run the role. So every setting in the bundle's group_vars/host_vars and in -e is checked here,
# on every node, before Ansible starts. Templated values are left to Ansible.

SETTING_KINDS = {"str": "a string", "int": "a whole number", "float": "a number", "bool": "true or false",
                 "dict": "a mapping", "list": "a list", "path": "a path"}


def role_options(roles_dir):
    """{variable: (role, spec)} for every option of every role's entry points, main first."""
    import yaml
    options = {}
    for spec_file in sorted(Path(roles_dir).glob("*/meta/argument_specs.yml")):
        role = spec_file.parent.parent.name
        entry_points = yaml.safe_load(spec_file.read_text(encoding="utf-8"))["argument_specs"]
        for name in sorted(entry_points, key=lambda n: n != "main"):
            for var, spec in (entry_points[name].get("options") or {}).items():
                options.setdefault(var, (role, spec))
    return options


def wanted(spec):
    if spec.get("choices"):
        return "one of " + ", ".join(map(str, spec["choices"]))
    kind = SETTING_KINDS.get(spec.get("type", "str"), spec.get("type"))
    if spec.get("type") == "list" and spec.get("elements"):
        kind += f" of {SETTING_KINDS.get(spec['elements'], spec['elements'])} values"
    return kind


def check_setting(source, var, value, options, role_names):
    """Raise hp.ConfigError when var is a role's variable and value does not fit its spec."""
    import difflib
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    if var not in options:
        role = next((r for r in role_names if var.startswith(r + "_")), None)
        if role is None:
            return  # not a role's variable (ansible_*, the playbook's, the user's own)
        close = difflib.get_close_matches(var, [v for v, (r, _) in options.items() if r == role], n=1)
        raise hp.ConfigError(source, var, f"role {role} has no such variable",
                             (f"did you mean {close[0]}?" if close else "remove it or fix its name")
                             + f" (see roles/{role}/README.md)")
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        return
    role, spec = options[var]
    checked = {k: v for k, v in spec.items() if k in ("type", "choices", "elements", "no_log")}
    if not ArgumentSpecValidator({var: checked}).validate({var: value}).error_messages:
        return
    shown = "the value" if spec.get("no_log") else one_line(repr(value), 60)
    fix = "set it to one of them" if spec.get("choices") else f"set it to {wanted(spec)}"
    raise hp.ConfigError(source, var, f"{shown} is not {wanted(spec)}", f"{fix} (see roles/{role}/README.md)")


def yaml_problem(error):
    """A YAML syntax error's line and column, found in the exception chain of Ansible's loader."""
    seen = error
    while seen is not None:
        mark = getattr(seen, "problem_mark", None)
        if mark is not None:
            where = f" ({seen.context} at line {seen.context_mark.line + 1})" if seen.context_mark else ""
            return f"invalid YAML at line {mark.line + 1} column {mark.column + 1}: {seen.problem}{where}"
        seen = seen.__cause__ or getattr(seen, "orig_exc", None) or seen.__context__
    return one_line(error)


def load_settings(source, read):
    """(source, variables) from read(), which parses one file or -e value as Ansible does."""
    from ansible.errors import AnsibleError
    try:
        data = read()
    except AnsibleError as e:
        raise hp.ConfigError(source, None, yaml_problem(e), "fix the syntax there") from None
    if data is None:
        return source, {}
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        raise hp.ConfigError(source, None, f"holds {kind}, not variables", "write name: value lines (a YAML mapping)")
    return source, data


def settings_files(bundle=BUNDLE):
    """The bundle's group_vars and host_vars files, as Ansible finds them: .yml, .yaml, .json or no
    extension, not hidden."""
    for folder in ("group_vars", "host_vars"):
        for path in sorted((Path(bundle) / "inventory" / folder).rglob("*")):
            if path.is_file() and not path.name.startswith(".") and path.suffix in ("", ".yml", ".yaml", ".json"):
                yield path


def settings_sources(extra_vars):
    """(where, variables) for each group_vars/host_vars file of the bundle and each -e, read as
    ansible-playbook reads them."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.splitter import parse_kv

    loader = DataLoader()
    for path in settings_files():
        yield load_settings(path, lambda path=path: loader.load_from_file(str(path)))
    for opt in extra_vars:
        if opt.startswith("@"):
            if not os.path.isfile(opt[1:]):
                raise hp.ConfigError(f"bootstrap.py -e {opt}", None, "no such file", "check the path after @")
            yield load_settings(opt[1:], lambda opt=opt: loader.load_from_file(opt[1:]))
        elif opt.startswith(("{", "[")):
            source, data = load_settings(f"bootstrap.py -e {opt}", lambda opt=opt: loader.load(opt))
            yield "bootstrap.py -e", data
        elif opt:
            data = parse_kv(opt)
            if "_raw_params" in data:
                raise hp.ConfigError(f"bootstrap.py -e {opt}", None, "is not name=value",
                                     "write -e name=value, -e '{\"name\": value}' or -e @file.yml")
            yield "bootstrap.py -e", data


def check_settings(extra_vars):
    options = role_options(BUNDLE / "roles")
    role_names = sorted({role for role, _ in options.values()}, key=len, reverse=True)  # longest prefix first
    for source, variables in settings_sources(extra_vars):
        for var, value in variables.items():
            check_setting(source, str(var), value, options, role_names)


# ---- the bundle as the collection hyperpod.slurm ------------------------------------------------

# The collection the roles belong to (galaxy.yml's namespace and name).
COLLECTION = ("hyperpod", "slurm")


def link_bundle_as_collection(directory):
    """Make <directory> a collections path in which the bundle itself is the collection hyperpod.slurm.

    The roles name their plugins by collection (hyperpod.slurm.hostlist_compress), as they must when
    installed from the built collection, where Ansible ignores plugin folders inside roles. A link,
    made here rather than shipped: S3 and HyperPod's copy of the bundle keep no symlinks."""
    link = Path(directory, "ansible_collections", *COLLECTION)
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(BUNDLE, target_is_directory=True)
    return Path(directory)


# ---- progress, counts and the summary -----------------------------------------------------------

def one_line(text, limit=400):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def result_message(res):
    """A failed result's reason. Results of no_log tasks arrive censored from Ansible."""
    if not isinstance(res, dict):
        return ""
    if res.get("argument_errors"):  # a role's argument spec refused a value bootstrap.py could not check
        role = (res.get("validate_args_context") or {}).get("name", "?")
        return one_line(f"{'; '.join(map(str, res['argument_errors']))}; fix the variable in group_vars or -e "
                        f"(see roles/{role}/README.md)")
    msg = res.get("msg") or res.get("censored") or res.get("reason") or ""
    stderr = str(res.get("stderr") or "").strip()
    if stderr:
        msg = f"{msg}: {stderr.splitlines()[-1]}" if msg else stderr.splitlines()[-1]
    for item in res.get("results") or []:  # a loop: say which item failed and why
        if isinstance(item, dict) and item.get("failed"):
            msg = f"{msg}: {result_message(item)}"
            break
    return one_line(msg or "no message")


class Progress:
    """ansible-runner event handler: one line per finished task, counts per role, the log file."""

    COUNTS = ("ok", "changed", "failed", "skipped")

    def __init__(self, log_file):
        self.log_file = log_file
        self.roles = {}
        self.stats = None  # Ansible's own totals (the PLAY RECAP), from playbook_on_stats
        self.failure = None
        self.last_error = None

    def role(self, name):
        # seconds: the role's tasks' time (one host, tasks run one after another), for bench/converge.py
        return self.roles.setdefault(name, {**dict.fromkeys(self.COUNTS, 0), "seconds": 0.0})

    def __call__(self, event):
        if event.get("stdout"):
            self.log_file.write(event["stdout"] + "\n")
            self.log_file.flush()
            for line in event["stdout"].splitlines():
                if line.startswith(("ERROR!", "[ERROR]")):
                    self.last_error = one_line(line)
        kind, data = event.get("event", ""), event.get("event_data") or {}
        if kind == "playbook_on_stats":
            self.stats = data
        elif kind in ("runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable"):
            self.task_done(kind, data)
        return True  # keep every event in the runner artifacts

    def task_done(self, kind, data):
        res = data.get("res") if isinstance(data.get("res"), dict) else {}
        role_name = data.get("role") or "-"
        counts = self.role(role_name)
        changed = bool(res.get("changed"))
        # Counted the way Ansible's PLAY RECAP counts: a loop is one result per task, an ignored
        # failure is ok, an unreachable host is a failure.
        if kind == "runner_on_skipped":
            status = "skipped"
        elif kind == "runner_on_ok":
            status = "changed" if changed else "ok"
        elif data.get("ignore_errors"):
            status = "ignored"
        else:
            status = "failed" if kind == "runner_on_failed" else "unreachable"
            # Ansible names a role's argument check after the spec's whole description.
            task = "argument spec" if res.get("argument_errors") else data.get("task") or "-"
            self.failure = {"role": role_name, "task": task, "host": data.get("host"), "msg": result_message(res)}
        if status == "skipped":
            counts["skipped"] += 1
        elif status in ("failed", "unreachable"):
            counts["failed"] += 1
        else:
            counts["ok"] += 1
            counts["changed"] += changed
        label = f"{role_name} | {data.get('task') or '-'} "
        duration = data.get("duration") or 0.0
        counts["seconds"] += duration
        print(f"{duration:7.1f}s  {label.ljust(TASK_LINE_WIDTH, '.')} {status}", flush=True)

    def totals(self):
        """Totals from Ansible's stats when it got that far, else from the task events."""
        if self.stats:
            def total(key):
                return sum((self.stats.get(key) or {}).values())
            return {"ok": total("ok"), "changed": total("changed"), "skipped": total("skipped"),
                    "failed": total("failures") + total("dark")}
        return {k: sum(r[k] for r in self.roles.values()) for k in self.COUNTS}


def print_summary(summary):
    print()
    print(f"{'role':<28}{'ok':>6}{'changed':>9}{'failed':>8}{'skipped':>9}{'seconds':>9}")
    rows = list(summary["roles"].items()) + [("total", dict(summary, seconds=summary["elapsed_seconds"]))]
    for name, c in rows:
        print(f"{name:<28}{c['ok']:>6}{c['changed']:>9}{c['failed']:>8}{c['skipped']:>9}{c['seconds']:>9.1f}")
    print(f"{summary['node']}: {summary['status']} in {summary['elapsed_seconds']:.1f}s"
          f"{' (check mode)' if summary['check'] else ''}", flush=True)


def write_json_atomically(path, data):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


# ---- subcommands --------------------------------------------------------------------------------

def cmd_inventory(args):
    try:
        cluster, pp, roles = resolve_inputs(args)
        with tempfile.TemporaryDirectory(prefix="hyperpod-inventory-") as tmp:
            data = ansible_inventory_list(write_inventory_config(tmp, args.resource_config, pp, roles,
                                                                   args.shared_users))
        if cluster.hosts and not data["_meta"]["hostvars"]:  # Ansible only warns when no plugin took the file
            raise hp.ConfigError(BUNDLE / "ansible.cfg", "[inventory] enable_plugins",
                                 "Ansible did not use the hyperpod inventory plugin",
                                 "list hyperpod there, and set inventory_plugins = ./plugins/inventory in [defaults]")
    except hp.ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    print(json.dumps(data, indent=4, sort_keys=True))
    return 0


def cmd_run(args):
    started = time.monotonic()
    playbook = Path(args.playbook).resolve()
    try:
        cluster, pp, roles = resolve_inputs(args)
        if args.node is None:
            node = hp.find_self(cluster, node_addresses())
        elif args.node in cluster.hosts:
            node = args.node
        else:
            raise hp.ConfigError(args.resource_config, "InstanceGroups[].Instances[].InstanceName",
                                 f"no instance is named {args.node!r} (instances: {', '.join(cluster.hosts)})",
                                 "pass --node with one of them, or leave --node out to match this node's IP")
        if not playbook.is_file():
            raise hp.ConfigError(playbook, None, "the playbook does not exist", "pass --playbook with an existing file")
        check_settings(args.extra_vars)
    except hp.ConfigError as e:
        print(e, file=sys.stderr)
        return 2

    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    # One converge per node at a time: a manual re-run must not race on_create's run (apt, units).
    with open(log_dir / "bootstrap.lock", "a+") as lock:
        if not take_lock(lock, args.lock_wait):
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            print(f"FAILED: another bootstrap.py run (pid {holder}) still holds {lock.name} after "
                  f"{args.lock_wait} s; wait for it to end, or stop it, then run again", flush=True)
            return 1
        lock.truncate(0)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        stop_leftovers(log_dir / "runner")
        return converge(args, cluster, node, pp, roles, playbook, log_dir, started)


def take_lock(lock, wait):
    """Take an exclusive flock on the open file, waiting at most wait seconds; False if not taken."""
    deadline = time.monotonic() + wait
    announced = False
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            if not announced:
                print(f"waiting up to {wait} s for another bootstrap.py run on this node ({lock.name})", flush=True)
                announced = True
            time.sleep(1)


def stop_leftovers(private):
    """Stop what a killed run left running: SIGKILL spares Ansible's workers (each in a session of
    its own), and they would change the node beside this run. Holding the lock, any process whose
    command line names the runner folder is such a leftover."""
    marker = str(private).encode()
    leftovers = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker in cmdline.read_bytes() and int(cmdline.parent.name) != os.getpid():
                leftovers.append(int(cmdline.parent.name))
        except (OSError, ValueError):
            continue
    if not leftovers:
        return
    print(f"stopping {len(leftovers)} process(es) left by an earlier, killed run: pid "
          f"{', '.join(map(str, leftovers))}", flush=True)
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        for pid in leftovers:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(map(running, leftovers)):
            time.sleep(0.2)


def stat_fields(stat):
    """The fields of a /proc/PID/stat file after the command name (which may hold spaces and
    parentheses): state first, then the parent's PID."""
    return stat.read_text().rsplit(")", 1)[1].split()


def running(pid):
    """Whether pid runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        return stat_fields(Path(f"/proc/{pid}/stat"))[0] != "Z"
    except (OSError, IndexError):
        return False


def descendants(pid):
    """The PIDs of pid's children, their children, and so on, from /proc."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat_fields(stat)[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def stop_run_tree(signum, frame):
    """On SIGTERM, SIGINT or SIGHUP, stop the whole run, then exit.

    Ansible's workers start their own sessions: a kill of on_create.sh's process group (HyperPod
    stopping the lifecycle, an operator's Ctrl-C) would leave them running beside the next run.
    ansible-runner's own handler only kills ansible-playbook's process group. The tree is walked
    now, while the workers are still ansible-playbook's children."""
    for pid in descendants(os.getpid()):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    os._exit(128 + signum)


def write_apt_config(private, seconds):
    """An apt configuration for this run: apt-get waits for dpkg's lock (unattended upgrades, the
    platform's agents at boot) instead of failing at once. ansible-core 2.19's apt module passes its
    lock_timeout to apt-get itself (which overrides this); 2.17's, the newest for Python 3.10
    (Ubuntu 22.04), does not. Through APT_CONFIG: nothing on the node's own configuration changes."""
    path = private / "apt.conf"
    path.write_text(f'DPkg::Lock::Timeout "{seconds}";\n')
    return path


def runner_env(args, pp, roles, collections, apt_config):
    env = {
        "ANSIBLE_CONFIG": str(BUNDLE / "ansible.cfg"),
        # The bundle as the collection hyperpod.slurm, then ansible.cfg's collections_path.
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join([str(collections), str(BUNDLE / "collections"),
                                                     str(BUNDLE / ".collections")]),
        # ansible-playbook of this Python's venv, whatever PATH on_create.sh had.
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        "ANSIBLE_NOCOLOR": "1",  # the output goes to log files and CloudWatch
        "APT_CONFIG": str(apt_config),
    }
    # The same inputs for inventory files that name no paths (plugin: hyperpod, nothing else).
    # Unset, not empty, when absent: Ansible reads an empty path option as the current directory.
    for name, value in (("SAGEMAKER_RESOURCE_CONFIG_PATH", args.resource_config),
                        ("HYPERPOD_PROVISIONING_PARAMETERS", pp), ("HYPERPOD_NODE_ROLES", roles),
                        ("HYPERPOD_SHARED_USERS", args.shared_users)):
        os.environ.pop(name, None)  # ansible-runner starts from a copy of os.environ
        if value:
            env[name] = os.path.abspath(value)
    return env


def converge(args, cluster, node, pp, roles, playbook, log_dir, started):
    """Run the playbook for this node through ansible-runner; print and write the summary."""
    import ansible_runner  # imported late: input errors should not wait for it
    from ansible.release import __version__ as ansible_version

    stamp = utc_stamp()
    private = log_dir / "runner"  # holds every task result: root only
    (private / "inventory").mkdir(parents=True, exist_ok=True)
    os.chmod(private, 0o700)
    # ansible-runner prefers env/cmdline and env/envvars files over its arguments: a file left by
    # an older runner or a hand-made one would turn this run into that one (a --check, say).
    shutil.rmtree(private / "env", ignore_errors=True)
    inventory = write_inventory_config(private / "inventory", args.resource_config, pp, roles, args.shared_users)
    collections = link_bundle_as_collection(private / "collections")
    apt_config = write_apt_config(private, args.apt_lock_timeout)
    print(f"bootstrap: node {node} ({cluster.hosts[node].node_type}), cluster {cluster.name}, {cluster.mode} mode, "
          f"playbook {playbook}{', check mode' if args.check else ''}; ansible-core {ansible_version}, "
          f"Python {sys.version.split()[0]}", flush=True)

    cmdline = ["--check", "--diff"] if args.check else []
    for extra in args.extra_vars:
        cmdline += ["-e", extra]
    log_path = log_dir / "ansible.log"
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    with open(fd, "a", encoding="utf-8") as log_file:
        log_file.write(f"\n===== bootstrap.py {stamp} node {node} playbook {playbook} =====\n")
        progress = Progress(log_file)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, stop_run_tree)
        result = ansible_runner.run(
            private_data_dir=str(private), project_dir=str(BUNDLE), playbook=str(playbook),
            inventory=str(inventory), limit=node, cmdline=shlex.join(cmdline) if cmdline else None,
            tags=args.tags, skip_tags=args.skip_tags, envvars=runner_env(args, pp, roles, collections, apt_config), quiet=True,
            event_handler=progress, ident=f"{stamp}-{os.getpid()}", rotate_artifacts=20,
            suppress_env_files=True,
            cancel_callback=lambda: False,  # keeps ansible-runner from replacing stop_run_tree
        )

    ok = result.rc == 0 and result.status == "successful"
    failure = None
    if not ok:  # a task failure, or Ansible stopped before any task (say, a syntax error)
        failure = progress.failure or {
            "role": "-", "task": "-", "host": node,
            "msg": progress.last_error or f"ansible-playbook ended {result.status} (rc {result.rc}); see {log_path}"}
    summary = {
        "node": node,
        "status": "successful" if ok else "failed",
        "check": bool(args.check),
        "mode": cluster.mode,
        "started": stamp,
        "elapsed_seconds": round(time.monotonic() - started, 1),
        **progress.totals(),
        "roles": {name: dict(c, seconds=round(c["seconds"], 1)) for name, c in progress.roles.items()},
        "failure": failure,
        "rc": result.rc,
        "artifacts": str(result.config.artifact_dir),
        "log": str(log_path),
    }
    print_summary(summary)
    write_json_atomically(log_dir / f"summary-{stamp}.json", summary)
    write_json_atomically(log_dir / "summary-latest.json", summary)
    if failure:
        print(f"FAILED: role {failure['role']}, task {failure['task']}: {failure['msg']}", flush=True)
        return 1
    return 0


# ---- command line -------------------------------------------------------------------------------

def parse_args(argv):
    inputs = argparse.ArgumentParser(add_help=False)
    inputs.add_argument("--resource-config",
                        default=os.environ.get("SAGEMAKER_RESOURCE_CONFIG_PATH") or DEFAULT_RESOURCE_CONFIG,
                        help=f"default: $SAGEMAKER_RESOURCE_CONFIG_PATH, else {DEFAULT_RESOURCE_CONFIG}")
    beside = [BUNDLE / "provisioning_parameters.json", BUNDLE / "node_roles.json"]
    inputs.add_argument("--provisioning-parameters", default=str(beside[0]) if beside[0].is_file() else None,
                        help="legacy mode role file (default: the one beside bootstrap.py, if any; '' for none)")
    inputs.add_argument("--node-roles", default=str(beside[1]) if beside[1].is_file() else None,
                        help="API-driven mode role file (default: node_roles.json beside bootstrap.py, if any)")
    users = BUNDLE / "shared_users.txt"
    inputs.add_argument("--shared-users", default=str(users) if users.is_file() else None,
                        help="users file, lines name,uid[,home] (default: shared_users.txt beside bootstrap.py, if any)")

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", parents=[inputs], help="converge this node (the default)")
    run.add_argument("--node", help="this node's InstanceName (default: found by matching this node's IPs)")
    run.add_argument("--check", action="store_true", help="dry run: ansible --check --diff")
    run.add_argument("--tags", help="only run tasks with these tags (comma separated)")
    run.add_argument("--skip-tags", help="skip tasks with these tags (comma separated)")
    run.add_argument("-e", "--extra-vars", action="append", default=[], help="passed to ansible-playbook -e")
    run.add_argument("--log-dir", default="/var/log/provision", help="logs, summaries, runner data")
    run.add_argument("--lock-wait", type=int, default=3600, metavar="SECONDS",
                     help="how long to wait for another run on this node to end (default: 3600)")
    run.add_argument("--apt-lock-timeout", type=int, default=600, metavar="SECONDS",
                     help="how long apt-get waits for dpkg's lock where the apt module does not say "
                          "(ansible-core 2.17; default: 600)")
    run.add_argument("--playbook", default=str(BUNDLE / "playbooks" / "site.yml"))
    sub.add_parser("inventory", parents=[inputs], help="print the inventory as JSON (ansible-inventory --list)")
    add_workstation_commands(sub)

    if not argv or argv[0] not in ("run", "inventory", "-h", "--help") + WORKSTATION_COMMANDS:
        argv = ["run"] + list(argv)  # on_create.sh's plain call means run
    return parser.parse_args(argv)


# ---- workstation commands (workstation/, imported only for them) ---------------------------------

WORKSTATION_COMMANDS = ("validate", "bundle", "upload")


def add_workstation_commands(sub):
    bundle_opts = argparse.ArgumentParser(add_help=False)
    bundle_opts.add_argument("--wheels", help="folder of node wheels (default: .cache/wheels, if present)")
    bundle_opts.add_argument("--no-wheels", action="store_true", help="leave the wheels out (nodes then need PyPI)")
    bundle_opts.add_argument("--collections", help="an ansible_collections folder (default: .collections/...)")

    validate = sub.add_parser("validate", help="check create_cluster.json, the role file and group_vars (workstation)")
    validate.add_argument("--create-cluster", required=True, metavar="FILE",
                          help="the CreateCluster request (JSON; an object, or just the InstanceGroups array)")
    validate.add_argument("--provisioning-parameters", metavar="FILE",
                          help="legacy mode role file (default: the bundle's, if any; '' for none)")
    validate.add_argument("--bundle", metavar="DIR", help="the bundle to check: a built one or a checkout "
                          "(default: this checkout)")
    validate.add_argument("--aws", action="store_true",
                          help="also check subnets, security groups and FSx in your AWS account (needs credentials)")
    validate.add_argument("--json", action="store_true", help="print the problems as a JSON array")

    bundle = sub.add_parser("bundle", parents=[bundle_opts], help="build the bundle (workstation)")
    bundle.add_argument("out", nargs="?", default="build/hyperpod-bundle-{hash}.tar.gz",
                        help="a folder, or a .tar.gz; {hash} becomes the content hash (default: %(default)s)")
    bundle.add_argument("--list", action="store_true", help="print the top-level paths the bundle takes, and stop")
    bundle.add_argument("--json", action="store_true", help="report as JSON")

    upload = sub.add_parser("upload", parents=[bundle_opts], help="build and upload the bundle to S3 (workstation)")
    upload.add_argument("uri", help="s3://bucket/prefix; the bundle goes under <prefix>/<content hash>/")
    upload.add_argument("--bundle", metavar="PATH", help="upload this bundle (folder or .tar.gz) instead of building")
    upload.add_argument("--json", action="store_true", help="report as JSON")


def run_workstation_command(args):
    """Import the command's module only now: nodes have no workstation/ folder and need none."""
    if str(BUNDLE) not in sys.path:
        sys.path.insert(0, str(BUNDLE))
    try:
        module = importlib.import_module(f"workstation.{args.command}")
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] != "workstation":
            raise
        print(f"bootstrap.py {args.command}: runs on a workstation, from a checkout of the repository "
              f"(this copy has no workstation/ folder)", file=sys.stderr)
        return 2
    return module.main(args)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command in WORKSTATION_COMMANDS:
        return run_workstation_command(args)
    return cmd_inventory(args) if args.command == "inventory" else cmd_run(args)


if __name__ == "__main__":
    sys.exit(main())
