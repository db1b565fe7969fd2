#!/usr/bin/env python3
"""Converge this SageMaker HyperPod node with Ansible.

on_create.sh calls `bootstrap.py run` on every node at once. It validates the inputs (the cluster
model of plugins/plugin_utils/cluster.py) and the bundle's settings (group_vars, host_vars, -e)
against the roles' argument specs, finds which instance this node is, and runs playbooks/site.yml
limited to this node through ansible-runner. The callback hyperpod.slurm.progress prints one line
per task and a summary, and writes summary-<stamp>.json; Ansible's whole output goes to ansible.log.

  bootstrap.py [run] [--check] [--tags T] [--node NAME] ...   converge this node (exit 0, 1, or 2)
  bootstrap.py inventory [--resource-config R] ...            print the inventory as JSON

Exit status: 0 success, 1 the playbook failed, 2 the inputs are wrong (one line on stderr).
Runs on Python 3.10+ with ansible-core 2.17+ and ansible-runner; nothing else.

The workstation commands (validate, bundle, upload) are `python -m workstation` in a checkout;
`bootstrap.py validate|bundle|upload` passes them on there.
"""

import argparse
import json
import os
import resource
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUNDLE = Path(__file__).resolve().parent
# HyperPod runs the bundle from a copy under /tmp/sagemaker-lifecycle-*, from any cwd: every path
# is taken relative to this file, and the bundle's ansible.cfg must win over any other.
os.environ["ANSIBLE_CONFIG"] = str(BUNDLE / "ansible.cfg")

# The bundle as built (MANIFEST.json), before any other module of it is imported: manifest.py is
# plain Python, and lifecycle/__init__.py only installs an import finder.
# on_create.sh checks it before pip and says so (HYPERPOD_BUNDLE_CHECKED, this bundle's path):
# hashing the bundle twice would add to every node's billed run for nothing.
from lifecycle import manifest  # noqa: E402
if __name__ == "__main__" and os.environ.get(manifest.CHECKED_VARIABLE) != str(BUNDLE):
    manifest.exit_if_altered(BUNDLE)

# The bundle's own modules; importing them makes the bundle the collection hyperpod.slurm.
from lifecycle import collection, inventory, module_cache, secret_files, settings, supervisor  # noqa: E402
from ansible_collections.hyperpod.slurm.plugins.plugin_utils import cluster as model  # noqa: E402
from ansible_collections.hyperpod.slurm.plugins.plugin_utils import run_summary  # noqa: E402
from ansible_collections.hyperpod.slurm.plugins.plugin_utils.inputs import listed, one_line, shown  # noqa: E402

DEFAULT_RESOURCE_CONFIG = "/opt/ml/config/resource_config.json"
WORKSTATION_COMMANDS = ("validate", "bundle", "upload")
PROGRESS_CALLBACK = "hyperpod.slurm.progress"
MODULE_CACHE_CALLBACK = "hyperpod.slurm.module_cache"


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


def load_inputs(args):
    """The validated cluster model, and the inputs as the plugin's config file names them."""
    inputs = {"resource_config": args.resource_config,
              "provisioning_parameters": args.provisioning_parameters or None,  # '' on the command line: none
              "node_roles": args.node_roles or None, "shared_users": args.shared_users or None}
    cluster = model.load_cluster(inputs["resource_config"], inputs["provisioning_parameters"], inputs["node_roles"],
                                 inputs["shared_users"])
    return cluster, inputs


# ---- subcommands --------------------------------------------------------------------------------

def cmd_inventory(args):
    try:
        cluster, inputs = load_inputs(args)
        with tempfile.TemporaryDirectory(prefix="hyperpod-inventory-") as tmp:
            data = inventory.as_list(inventory.write_config(tmp, BUNDLE, **inputs))
        if cluster.hosts and not data["_meta"]["hostvars"]:  # Ansible only warns when no plugin took the file
            raise model.ConfigError(BUNDLE / "ansible.cfg", "[inventory] enable_plugins",
                                    "Ansible did not use the hyperpod inventory plugin",
                                    "list hyperpod there, and set inventory_plugins = ./plugins/inventory in [defaults]")
    except model.ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    print(json.dumps(data, indent=4, sort_keys=True))
    return 0


def cmd_run(args):
    started = time.time()
    playbook = Path(args.playbook).resolve()
    try:
        cluster, inputs = load_inputs(args)
        if args.node is None:
            node = model.find_self(cluster, node_addresses())
        elif args.node in cluster.hosts:
            node = args.node
        else:
            raise model.ConfigError(args.resource_config, "InstanceGroups[].Instances[].InstanceName",
                                    f"no instance is named {shown(args.node)} (instances: {listed(cluster.hosts)})",
                                    "pass --node with one of them, or leave --node out to match this node's IP")
        if not playbook.is_file():
            raise model.ConfigError(playbook, None, "the playbook does not exist", "pass --playbook with an existing file")
        settings.first_error(BUNDLE, args.extra_vars, extra_vars_source="bootstrap.py -e")
        secrets = {}
        if args.munge_key_file:
            secrets[secret_files.MUNGE_KEY_VARIABLE] = secret_files.read_munge_key("--munge-key-file",
                                                                                   args.munge_key_file)
    except model.ConfigError as e:
        print(e, file=sys.stderr)
        return 2

    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        with supervisor.one_run_at_a_time(log_dir / "bootstrap.lock", args.lock_wait):
            supervisor.stop_leftovers(log_dir / "runner")
            return converge(args, cluster, inputs, node, playbook, log_dir, started, secrets)
    except supervisor.Busy as e:
        print(f"FAILED: another bootstrap.py run (pid {e.holder}) still holds {e.path} after "
              f"{args.lock_wait} s; wait for it to end, or stop it, then run again", flush=True)
        return 1


# ---- the run ------------------------------------------------------------------------------------

class Relay:
    """ansible-runner's event handler: Ansible's output to ansible.log, the progress callback's
    lines (from the file it appends them to) to this output, as they come."""

    def __init__(self, log_file, progress_file):
        self.log_file, self.progress_file = log_file, progress_file
        self.last_error = None
        self.ended_line = True

    def __call__(self, event):
        if event.get("stdout"):
            self.log_file.write(event["stdout"] + "\n")
            self.log_file.flush()
            for line in event["stdout"].splitlines():
                if line.startswith(("ERROR!", "[ERROR]")):
                    self.last_error = one_line(line)
        self.pass_lines()
        return True  # keep every event in the runner artifacts

    def pass_lines(self):
        text = self.progress_file.read()
        if text:
            sys.stdout.write(text)
            sys.stdout.flush()
            self.ended_line = text.endswith("\n")


def write_apt_config(private, seconds):
    """An apt configuration for this run: apt-get waits for dpkg's lock (unattended upgrades, the
    platform's agents at boot) instead of failing at once. ansible-core 2.19's apt module passes its
    lock_timeout to apt-get itself (which overrides this); 2.17's, the newest for Python 3.10
    (Ubuntu 22.04), does not. Through APT_CONFIG: nothing on the node's own configuration changes."""
    path = private / "apt.conf"
    path.write_text(f'DPkg::Lock::Timeout "{seconds}";\n')
    return path


def module_interpreter():
    """The interpreter for this run's modules: lifecycle/module_python.py in this venv's Python, which
    imports ansible-core's module_utils compiled instead of compiling them from each module's zip (a
    tenth of a second less per module run). Ansible takes one executable's path, so a two-line script
    in the venv's bin starts it, written where it is missing or differs. None outside a venv, or where
    the venv cannot be written: then Ansible finds the system's Python, as elsewhere."""
    if sys.prefix == sys.base_prefix:
        return None
    script = Path(sys.executable).parent / "hyperpod-module-python"
    text = f'#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(BUNDLE / "lifecycle" / "module_python.py"))} "$@"\n'
    try:
        if not script.is_file() or script.read_text(encoding="utf-8") != text:
            written = script.with_name(script.name + ".new")
            written.write_text(text, encoding="utf-8")
            written.chmod(0o755)
            written.replace(script)
    except OSError:
        return None
    return str(script)


def runner_env(args, private, progress, log_dir, started):
    import ansible
    from ansible.release import __version__ as ansible_version

    collections = collection.link(BUNDLE, private / "collections")
    interpreter = module_interpreter()
    # Modules built once per bundle and ansible-core, not once per run (lifecycle/module_cache.py).
    modules = module_cache.folder(BUNDLE, private, ansible_version, Path(ansible.__file__).parent)
    return {
        **({"ANSIBLE_PYTHON_INTERPRETER": interpreter} if interpreter else {}),
        **supervisor.record_run(private),  # the token that marks this run's processes
        "ANSIBLE_CONFIG": str(BUNDLE / "ansible.cfg"),
        # The bundle as the collection hyperpod.slurm, then ansible.cfg's collections_path.
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join([str(collections), str(BUNDLE / "collections"),
                                                     str(BUNDLE / ".collections")]),
        # ansible-playbook of this Python's venv, whatever PATH on_create.sh had.
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        "ANSIBLE_NOCOLOR": "1",  # the output goes to log files and CloudWatch
        "APT_CONFIG": str(write_apt_config(private, args.apt_lock_timeout)),
        "ANSIBLE_CALLBACKS_ENABLED": f"{PROGRESS_CALLBACK},{MODULE_CACHE_CALLBACK}" if modules else PROGRESS_CALLBACK,
        **({"HYPERPOD_MODULE_CACHE": str(modules)} if modules else {}),
        "HYPERPOD_PROGRESS_OUTPUT": str(progress),
        "HYPERPOD_PROGRESS_SUMMARY_DIR": str(log_dir),
        "HYPERPOD_PROGRESS_STARTED": repr(started),
    }


def cpu_seconds():
    """CPU time (user and system) of this process and of every process of the run it waited for:
    Ansible, its workers, the modules. What the run costs the node whatever else shares its CPUs."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return round(own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime, 1)


def converge(args, cluster, inputs, node, playbook, log_dir, started, secrets):
    """Run the playbook for this node through ansible-runner; complete and write the summary.
    secrets: variables that reach Ansible through a root-only file, never its command line."""
    import ansible_runner  # imported late: input errors should not wait for it
    from ansible.release import __version__ as ansible_version

    stamp = run_summary.stamp(started)
    private = log_dir / "runner"  # holds every task result: root only
    (private / "inventory").mkdir(parents=True, exist_ok=True)
    os.chmod(private, 0o700)
    # ansible-runner prefers env/cmdline and env/envvars files over its arguments: a file left by
    # an older runner or a hand-made one would turn this run into that one (a --check, say).
    shutil.rmtree(private / "env", ignore_errors=True)
    # Only the hosts this node's run reads: its cost does not grow with the cluster.
    config = inventory.write_config(private / "inventory", BUNDLE, **inputs, node=node)
    progress = private / "progress.txt"
    progress.write_text("")
    print(f"bootstrap: node {node} ({cluster.hosts[node].node_type}), cluster {cluster.name}, {cluster.mode} mode, "
          f"playbook {playbook}{', check mode' if args.check else ''}; ansible-core {ansible_version}, "
          f"Python {sys.version.split()[0]}", flush=True)

    cmdline = ["--check", "--diff"] if args.check else []
    for extra in args.extra_vars:
        cmdline += ["-e", extra]
    secret_files.remove_vars(private)  # one a SIGKILL left behind
    if secrets:
        cmdline += ["-e", secret_files.write_vars(private, secrets)]  # last: wins over group_vars and -e
    log_path = log_dir / "ansible.log"
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    with open(fd, "a", encoding="utf-8") as log_file, open(progress, encoding="utf-8") as progress_file:
        log_file.write(f"\n===== bootstrap.py {stamp} node {node} playbook {playbook} =====\n")
        relay = Relay(log_file, progress_file)
        supervisor.stop_on_signals()
        try:
            result = ansible_runner.run(
                private_data_dir=str(private), project_dir=str(BUNDLE), playbook=str(playbook),
                inventory=str(config), limit=node, cmdline=shlex.join(cmdline) if cmdline else None,
                tags=args.tags, skip_tags=args.skip_tags, envvars=runner_env(args, private, progress, log_dir, started),
                quiet=True, event_handler=relay, ident=f"{stamp}-{os.getpid()}", rotate_artifacts=20,
                suppress_env_files=True,
                cancel_callback=lambda: False,  # keeps ansible-runner from replacing stop_run_tree
            )
            supervisor.end_run(private)  # what still has the run's token was started on purpose
        finally:
            secret_files.remove_vars(private)
        relay.pass_lines()
    if not relay.ended_line:
        print(flush=True)

    ok = result.rc == 0 and result.status == "successful"
    if not ok:
        module_cache.forget(private)  # a zip a crash cut short must not fail the next run too
    summary = run_summary.read(log_dir, stamp)
    printed = summary is not None  # the callback printed its table, and its failure
    if summary is None:  # Ansible stopped before the playbook started (say, a syntax error)
        summary = run_summary.summary(node, args.check, stamp, time.time() - started,
                                      dict.fromkeys(run_summary.COUNTS, 0), {}, None)
    found = not ok and summary["failure"] is None
    if found:
        summary["status"] = "failed"
        summary["failure"] = {"role": "-", "task": "-", "host": node, "msg": relay.last_error or
                              f"ansible-playbook ended {result.status} (rc {result.rc}); see {log_path}"}
    summary.update(mode=cluster.mode, rc=result.rc, artifacts=str(result.config.artifact_dir), log=str(log_path),
                   cpu_seconds=cpu_seconds())
    run_summary.write(log_dir, summary)
    if not printed:
        print("\n".join(run_summary.table(summary)), flush=True)
    if found:
        print(run_summary.failure_line(summary["failure"]), flush=True)
    return 0 if ok and summary["status"] == "successful" else 1


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

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="validate, bundle, upload: python -m workstation, in a checkout")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", parents=[inputs], help="converge this node (the default)")
    run.add_argument("--node", help="this node's InstanceName (default: found by matching this node's IPs)")
    run.add_argument("--check", action="store_true", help="dry run: ansible --check --diff")
    run.add_argument("--tags", help="only run tasks with these tags (comma separated)")
    run.add_argument("--skip-tags", help="skip tasks with these tags (comma separated)")
    run.add_argument("-e", "--extra-vars", action="append", default=[],
                     help="passed to ansible-playbook -e; secrets only as -e @FILE (ps shows a command line)")
    run.add_argument("--munge-key-file", metavar="PATH",
                     help="the munge key (standalone mode), base64, from this file or '-' for stdin; "
                          "never on the command line")
    run.add_argument("--log-dir", default="/var/log/provision", help="logs, summaries, runner data")
    run.add_argument("--lock-wait", type=int, default=3600, metavar="SECONDS",
                     help="how long to wait for another run on this node to end (default: 3600)")
    run.add_argument("--apt-lock-timeout", type=int, default=600, metavar="SECONDS",
                     help="how long apt-get waits for dpkg's lock where the apt module does not say "
                          "(ansible-core 2.17; default: 600)")
    run.add_argument("--playbook", default=str(BUNDLE / "playbooks" / "site.yml"))
    sub.add_parser("inventory", parents=[inputs], help="print the inventory as JSON (ansible-inventory --list)")

    if not argv or argv[0] not in ("run", "inventory", "-h", "--help"):
        argv = ["run"] + list(argv)  # on_create.sh's plain call means run
    return parser.parse_args(argv)


def workstation_command(argv):
    """validate, bundle, upload: passed on to workstation/ (one way: it never imports this file).
    Nodes have no workstation/ folder and need none."""
    try:
        from workstation import cli
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] != "workstation":
            raise
        print(f"bootstrap.py {argv[0]}: runs on a workstation, from a checkout of the repository "
              f"(this copy has no workstation/ folder)", file=sys.stderr)
        return 2
    return cli.main(argv, prog="bootstrap.py")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in WORKSTATION_COMMANDS:
        return workstation_command(argv)
    args = parse_args(argv)
    return cmd_inventory(args) if args.command == "inventory" else cmd_run(args)


if __name__ == "__main__":
    sys.exit(main())
