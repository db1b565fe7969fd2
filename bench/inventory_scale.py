#!/usr/bin/env python3
"""Inventory scale: wall time and peak memory of the hyperpod inventory plugin, of a compute node's
run, and of rendering slurm.conf (standalone mode) and the Prometheus targets, for generated
legacy-mode clusters; prints markdown tables.

  .venv/bin/python bench/inventory_scale.py [--sizes 10,1000,10000,50000] [--steps S,...] [--keep DIR] [--ansible-bin DIR]
                                            [--fact-cache memory|jsonfile]

--ansible-bin runs the steps with another venv's Python and Ansible (say one with ansible-core 2.17,
the newest for HyperPod's Python 3.10).

Each step runs in a fresh process, so that its peak RSS (getrusage maxrss) and its CPU seconds (user
and system, which a busy machine inflates less than wall time) are its own:
  load_cluster            the cluster model and its validation, in-process (what bootstrap.py checks)
  bootstrap.py inventory  load_cluster, then Ansible's inventory through the plugin, every host's vars
  ansible-inventory       ansible-inventory --list with the plugin's config file
  compute node run        ansible-playbook compute_node_run.yml on one compute node, with the inventory
                          bootstrap.py gives that node's run (option node); "(whole inventory)": every host
  render slurm.conf       ansible-playbook rendering the slurm_controller role's template on the controller
  render targets          ansible-playbook rendering the observability role's scrape targets there
The render steps also report their template task alone ("task"), timed inside the play. The nodes'
facts are in memory from Ansible's start (bench/cache_plugins/bench_facts.py), as a real standalone
run holds what site.yml gathered; --fact-cache jsonfile reads them from a file per node instead
(the tables before 2026-12-05 morning: each node's file read and decoded inside the task).
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from lifecycle import collection, inventory  # noqa: E402 - now this checkout is the collection hyperpod.slurm here too
BIN = Path(os.environ.get("BENCH_ANSIBLE_BIN") or Path(sys.executable).parent)
# (instance group, instance type, vCPUs, memory MB, share of the compute nodes); one controller
# and one login node, the rest split across three partitions.
GROUPS = [("compute-gpu", "ml.p5.48xlarge", 192, 2048000, 0.25),
          ("compute-cpu", "ml.c5.18xlarge", 72, 144000, 0.5),
          ("compute-mem", "ml.r5.24xlarge", 96, 768000, 0.25)]
ENV = {"ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "PATH": f"{BIN}:/usr/bin:/bin", "ANSIBLE_NOCOLOR": "1"}
# The nodes' facts: in memory from the start, as in a real run (bench/cache_plugins/bench_facts.py),
# or, with --fact-cache jsonfile (as the tables before 2026-12-05 morning), a file per node.
FACT_CACHES = {
    "memory": {"ANSIBLE_CACHE_PLUGIN": "bench_facts", "ANSIBLE_CACHE_PLUGINS": str(REPO / "bench" / "cache_plugins")},
    "jsonfile": {"ANSIBLE_CACHE_PLUGIN": "jsonfile"},
}


def collections_path(folder):
    """A collections path in which this checkout is hyperpod.slurm (the roles name their filters so)."""
    return collection.link(REPO, Path(folder, "collections"))


def instance(group, n, index):
    """Addresses counted up from 10.1.0.10 in a /16 (legacy Slurm names are ip-10-1-X-Y)."""
    host = 10 + index
    return {"InstanceName": f"{group}-{n}", "InstanceId": f"i-{index:017x}",
            "CustomerIpAddress": f"10.1.{host // 256}.{host % 256}",
            "AgentIpAddress": f"172.16.{host // 256}.{host % 256}"}


def node_facts(name, cpus, memory_mb):
    """A node's facts as site.yml reads them (its two setup tasks' filters), with the values of an
    Ubuntu 22.04 node of HyperPod's image."""
    return {"architecture": "x86_64", "distribution": "Ubuntu", "distribution_release": "jammy", "hostname": name,
            "kernel": "6.8.0-1024-aws", "os_family": "Debian", "processor_vcpus": cpus, "memtotal_mb": memory_mb}


def write_jsonfile_cache(hardware, folder):
    """The nodes' facts in Ansible's jsonfile fact cache, written by its cache plugin (the format is its own)."""
    from ansible.plugins.loader import cache_loader, init_plugin_loader
    init_plugin_loader()
    facts = cache_loader.get("ansible.builtin.jsonfile", _uri=str(folder / "facts"))
    # In forked chunks: the cache plugin leaves a file descriptor open per host (50,000 > ulimit -n).
    for start in range(0, len(hardware), 5000):
        pid = os.fork()
        if pid == 0:
            for name, host_facts in hardware[start:start + 5000]:
                facts.set(name, host_facts)
            os._exit(0)
        if os.waitpid(pid, 0)[1]:
            sys.exit("writing the fact cache failed")


def generate(nodes, folder):
    """resource_config.json, provisioning_parameters.json, the plugin's config and the nodes' facts
    (facts.json for the memory cache, or the jsonfile cache: BENCH_FACT_CACHE)."""
    compute = nodes - 2
    counts = [int(compute * share) for *_, share in GROUPS]
    counts[1] += compute - sum(counts)
    layout = [("controller-machine", "ml.c5.xlarge", 4, 8000, 1), ("login-group", "ml.m5.xlarge", 4, 16000, 1)]
    layout += [(g, t, cpus, mem, count) for (g, t, cpus, mem, _), count in zip(GROUPS, counts)]
    groups, index, hardware = [], 0, []
    for name, itype, cpus, mem, count in layout:
        members = [instance(name, n + 1, index + n) for n in range(count)]
        index += count
        groups.append({"Name": name, "InstanceType": itype, "Instances": members})
        hardware += [(m["InstanceName"], node_facts(m["InstanceName"], cpus, mem)) for m in members]
    if os.environ.get("BENCH_FACT_CACHE") == "jsonfile":
        write_jsonfile_cache(hardware, folder)
    else:
        (folder / "facts.json").write_text(json.dumps(dict(hardware)))
    (folder / "resource_config.json").write_text(json.dumps({"ClusterConfig": {
        "ClusterName": "bench", "ClusterArn": "arn:aws:sagemaker:us-west-2:111122223333:cluster/bench"},
        "InstanceGroups": groups}))
    (folder / "provisioning_parameters.json").write_text(json.dumps({
        "version": "1.0.0", "workload_manager": "slurm", "controller_group": "controller-machine",
        "login_group": "login-group",
        "worker_groups": [{"instance_group_name": g, "partition_name": g.split("-")[1]} for g, *_ in GROUPS]}))
    config = "plugin: hyperpod\nresource_config: resource_config.json\nprovisioning_parameters: provisioning_parameters.json\n"
    (folder / "cluster.hyperpod.yml").write_text(config)
    # What bootstrap.py writes for a compute node's run (its settings folders beside it), and the
    # same without the node: every host.
    for run, node in (("node-run", COMPUTE_NODE), ("whole-run", None)):
        (folder / run).mkdir()
        inventory.write_config(folder / run, REPO, folder / "resource_config.json",
                               folder / "provisioning_parameters.json", node=node)


COMPUTE_NODE = "compute-gpu-1"  # each size has it


LOCAL = ["-e", "ansible_connection=local", "-e", "ansible_python_interpreter={{ ansible_playbook_python }}"]
STEPS = {
    "bootstrap.py inventory": lambda d: [str(BIN / "python"), str(REPO / "bootstrap.py"), "inventory", "--resource-config",
                                         str(d / "resource_config.json"), "--provisioning-parameters",
                                         str(d / "provisioning_parameters.json")],
    "ansible-inventory --list": lambda d: [str(BIN / "ansible-inventory"), "-i", str(d / "cluster.hyperpod.yml"),
                                           "--list"],
    "compute node run (whole inventory)": lambda d: [
        str(BIN / "ansible-playbook"), "-i", str(d / "whole-run" / inventory.CONFIG_NAME), "--limit", COMPUTE_NODE,
        str(REPO / "bench" / "compute_node_run.yml"), *LOCAL],
    "compute node run": lambda d: [
        str(BIN / "ansible-playbook"), "-i", str(d / "node-run" / inventory.CONFIG_NAME), "--limit", COMPUTE_NODE,
        str(REPO / "bench" / "compute_node_run.yml"), *LOCAL],
    "render slurm.conf": lambda d: [str(BIN / "ansible-playbook"), "-i", str(d / "cluster.hyperpod.yml"),
                                    str(REPO / "bench" / "render_slurm_conf.yml"), "-e", f"out={d / 'slurm.conf'}",
                                    *LOCAL],
    "render targets": lambda d: [str(BIN / "ansible-playbook"), "-i", str(d / "cluster.hyperpod.yml"),
                                 str(REPO / "bench" / "render_prometheus_targets.yml"), "-e", f"out={d}", *LOCAL],
}


def measure_one(step, folder):
    """In a fresh process: run one step, print {"seconds", "peak_mb"}."""
    folder = Path(folder)
    if step == "load_cluster":
        from ansible_collections.hyperpod.slurm.plugins.plugin_utils import cluster
        started = time.perf_counter()
        cluster.load_cluster(folder / "resource_config.json", folder / "provisioning_parameters.json")
        who = resource.RUSAGE_SELF
    else:
        started = time.perf_counter()
        env = dict(ENV, **FACT_CACHES[os.environ.get("BENCH_FACT_CACHE", "memory")],
                   ANSIBLE_CACHE_PLUGIN_CONNECTION=str(folder / "facts"), BENCH_FACTS=str(folder / "facts.json"),
                   ANSIBLE_COLLECTIONS_PATH=str(collections_path(folder)))
        done = subprocess.run(STEPS[step](folder), cwd=folder, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, check=False)
        if done.returncode:
            sys.exit(f"{step} failed: {done.stderr[-2000:]}")
        who = resource.RUSAGE_CHILDREN
    seconds = time.perf_counter() - started
    usage = resource.getrusage(who)
    # The render playbooks time their own template task (TASK_SECONDS).
    task = TASK_SECONDS.get(step)
    task = float((folder / task).read_text()) if task and (folder / task).exists() else None
    print(json.dumps({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
                      "task": task}))


TASK_SECONDS = {"render slurm.conf": "slurm.conf.seconds", "render targets": "targets.seconds"}


def child(*args):
    """This script again, in a fresh process of the chosen venv's Python."""
    return subprocess.run([str(BIN / "python"), __file__, *args], capture_output=True, text=True,
                          env=dict(os.environ, BENCH_ANSIBLE_BIN=str(BIN)), check=True).stdout


def measure(step, folder):
    return json.loads(child("--one", step, str(folder)))


def scattered(nodes, seed=1):
    """The longest hostlist of legacy names (ip-a-b-c-d) when the addresses are scattered over a
    subnet, as EC2 hands them out, rather than consecutive as generated above: a /18, or a /16 for
    more nodes than a /18 holds."""
    import random
    prefix_bits = 18 if nodes < 2 ** 14 - 2 else 16

    from ansible_collections.hyperpod.slurm.plugins.filter import hostlist
    picks = random.Random(seed).sample(range(1, 2 ** (32 - prefix_bits) - 1), nodes)
    return len(hostlist.hostlist_compress([f"ip-10-1-{i >> 8}-{i & 255}" for i in picks]))


def conf_shape(path):
    lines = path.read_text().splitlines()
    def longest(prefix):
        return max((len(line) for line in lines if line.startswith(prefix)), default=0)
    default = next(line for line in lines if line.startswith("PartitionName=") and " Default=YES" in line)
    return {"lines": len(lines), "node_lines": sum(line.startswith("NodeName=") for line in lines),
            "nodename": longest("NodeName="), "partitionname": longest("PartitionName="),
            "compute_hostlist": len(default.split(" Nodes=")[1].split()[0])}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,1000,10000,50000")
    parser.add_argument("--steps", help="only these steps, comma-separated (default: every one)")
    parser.add_argument("--keep", help="generate into this folder and keep it (default: a temporary one)")
    parser.add_argument("--ansible-bin", help="a venv's bin folder to run the steps with (default: this one)")
    parser.add_argument("--fact-cache", choices=sorted(FACT_CACHES), default="memory",
                        help="where the nodes' facts are: memory (from the start, as in a real run; default) or "
                             "jsonfile (a file per node, read during the run)")
    parser.add_argument("--one", nargs=2, metavar=("STEP", "DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=2, metavar=("NODES", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return measure_one(*args.one)
    if args.generate:
        return generate(int(args.generate[0]), Path(args.generate[1]))
    global BIN
    BIN = Path(args.ansible_bin or BIN).absolute()
    os.environ["BENCH_FACT_CACHE"] = args.fact_cache  # for the steps' fresh processes
    core = subprocess.run([str(BIN / "python"), "-c", "from ansible.release import __version__; print(__version__)"],
                          capture_output=True, text=True, check=True).stdout.strip()

    root = Path(args.keep or tempfile.mkdtemp(prefix="inventory-scale-"))
    timings, shapes, hostlists = [], [], []
    for nodes in (int(s) for s in args.sizes.split(",")):
        folder = root / f"n{nodes}"
        folder.mkdir(parents=True)
        child("--generate", str(nodes), str(folder))  # the fact cache's format is the venv's Ansible's
        for step in [name for name in ["load_cluster", *STEPS] if not args.steps or name in args.steps.split(",")]:
            r = measure(step, folder)
            task = f" (task {r['task']:.2f})" if r.get("task") is not None else ""
            timings.append(f"| {nodes:,} | {step} | {r['seconds']:.2f}{task} | {r['cpu']:.2f} | {r['peak_mb']:.0f} |")
            print(f"  {nodes} nodes, {step}: {r['seconds']:.2f} s", file=sys.stderr, flush=True)
        if not (folder / "slurm.conf").exists():
            continue
        s = conf_shape(folder / "slurm.conf")
        shapes.append(f"| {nodes:,} | {s['lines']} | {s['node_lines']} | {s['nodename']} | {s['partitionname']} |")
        hostlists.append(f"| {nodes - 2:,} | {s['compute_hostlist']} | {scattered(nodes - 2)} |")

    print(f"ansible-core {core}, facts {args.fact_cache}, load average {os.getloadavg()[0]:.1f}\n\n| nodes | step | wall s | CPU s | peak RSS MB |\n"
          "| ---: | --- | ---: | ---: | ---: |")
    print("\n".join(timings))
    print("\n| nodes | slurm.conf lines | NodeName lines | longest NodeName line | longest PartitionName line |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(shapes))
    print("\n| compute nodes | their hostlist (dev partition), consecutive addresses | scattered over a /18 (/16) |")
    print("| ---: | ---: | ---: |")
    print("\n".join(hostlists))
    if not args.keep:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
