#!/usr/bin/env python3
"""Node converge: wall time of on_create.sh on the simulated HyperPod cluster (Molecule scenario
hyperpod, four nodes converging at once as on HyperPod), first on fresh nodes (cold), then again
on the converged ones (rerun), per role, against the floor: the same Python packages and apt
packages installed in a fresh container of the same image. Prints markdown tables.

  .venv/bin/python bench/converge.py [--keep] [--alone]

Needs what `tools/cluster up` needs (run tools/setup-host once). Removes the scenario's containers
first, and at the end unless --keep. Takes a few minutes; do not run it beside other container tests.
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
IMAGE = "localhost/hpb-ami:latest"
ENV = dict(os.environ, CONTAINERS_CONF=str(REPO / "tests" / "harness" / "containers.conf"),
           PATH=f"{BIN}:{os.environ.get('PATH', '')}")
# The cluster's nodes; the scenario's other containers (the FSx stand-in's server) run no lifecycle.
NODES = [p["name"] for p in yaml.safe_load((REPO / "molecule" / "hyperpod" / "molecule.yml").read_text())["platforms"]
         if any(group.startswith("slurm_") for group in p.get("groups", []))]
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) on_create: (.*)$")


def run(*cmd):
    done = subprocess.run(cmd, cwd=REPO, env=ENV, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    return done.stdout


def timed(*cmd):
    started = time.monotonic()
    run(*cmd)
    return time.monotonic() - started


def on_create_seconds(log):
    """The last run's span in provisioning.log, from on_create's own time stamps (1 s resolution)."""
    runs, current = [], []
    for line in log.splitlines():
        m = STAMP.match(line)
        if m:
            current.append(datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%SZ").timestamp())
            if m.group(2).startswith("finished with status"):
                runs.append(current)
                current = []
    return runs[-1][-1] - runs[-1][0]


def node_run(node):
    """(on_create seconds, bootstrap.py's summary) of the node's last run."""
    log = run("podman", "exec", node, "cat", "/var/log/provision/provisioning.log")
    summary = json.loads(run("podman", "exec", node, "cat", "/var/log/provision/summary-latest.json"))
    return on_create_seconds(log), summary


def packages(*where):
    return set(run("podman", *where, "dpkg-query", "-W", "-f", "${Package}\\n").split())


def floor(node, image_packages):
    """Seconds to install, in a fresh container, what on_create.sh and the roles installed on node:
    the venv's pip packages (from the same wheels) and the apt packages the image lacked."""
    # "<the lock on_create.sh installed> <its hash>"; the lock is the checkout's, as in the bundle.
    lock = run("podman", "exec", node, "cat", "/opt/hyperpod-bundle/venv/.installed").split()[0]
    apt = " ".join(sorted(packages("exec", node) - image_packages))
    script = (f"set -e; t0=$(date +%s.%N); python3 -m venv /tmp/venv; "
              f"/tmp/venv/bin/pip install -q --no-index --find-links /wheels --only-binary=:all: "
              f"--require-hashes -r /lock.txt; "
              + (f"apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {apt} >/dev/null; "
                 if apt else "")
              + "t1=$(date +%s.%N); python3 -c \"print($t1 - $t0)\"")
    out = run("podman", "run", "--rm", "-v", f"{REPO / '.cache' / 'wheels'}:/wheels:ro", "-v",
              f"{REPO / lock}:/lock.txt:ro", IMAGE, "bash", "-c", script)
    return float(out.split()[-1]), apt or "none"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave the cluster running at the end")
    parser.add_argument("--alone", action="store_true",
                        help="after the cluster's rerun, rerun each node alone (the others idle)")
    args = parser.parse_args()

    run("molecule", "destroy", "-s", "hyperpod")
    run("molecule", "create", "-s", "hyperpod")
    run("molecule", "prepare", "-s", "hyperpod")  # the platform's part: not on_create.sh's time
    walls = {"cold": timed("molecule", "converge", "-s", "hyperpod")}
    cold = {node: node_run(node) for node in NODES}
    walls["rerun"] = timed("molecule", "converge", "-s", "hyperpod")
    rerun = {node: node_run(node) for node in NODES}
    alone = {}
    for node in NODES if args.alone else []:
        done = subprocess.run(["molecule", "converge", "-s", "hyperpod", "--", "-e", f"hpb_nodes={node}"],
                              cwd=REPO, env=ENV, capture_output=True, text=True, check=False)
        if done.returncode:  # reported, and the tables still printed
            print(f"{node} alone failed:\n{done.stdout[-2000:]}", file=sys.stderr)
            continue
        alone[node] = node_run(node)
    image_packages = packages("run", "--rm", IMAGE)
    floors = {node: floor(node, image_packages) for node in NODES}
    if not args.keep:
        run("molecule", "destroy", "-s", "hyperpod")

    print(f"Cluster converge (molecule converge, all nodes at once): cold {walls['cold']:.0f} s, "
          f"rerun {walls['rerun']:.0f} s\n")
    print("| node | on_create cold s | cold waited s | rerun s | rerun alone s | changed on rerun | "
          "rerun CPU s (4 nodes / alone) | floor s | cold / floor | (cold - waited) / floor | floor's apt packages |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for node in NODES:
        (c, cs), (r, rs), (f, apt) = cold[node], rerun[node], floors[node]
        w = cs.get("waited_seconds", 0.0)  # waiting for other nodes and services (tasks tagged waiting)
        a = f"{alone[node][0]:.0f} (changed {alone[node][1]['changed']})" if node in alone else "-"
        cpu = f"{rs.get('cpu_seconds', 0):.1f} / " + (f"{alone[node][1].get('cpu_seconds', 0):.1f}" if node in alone else "-")
        print(f"| {node} | {c:.0f} | {w:.0f} | {r:.0f} | {a} | {rs['changed']} | {cpu} | {f:.1f} | {c / f:.1f} | "
              f"{(c - w) / f:.1f} | {apt} |")
    # The four reruns at once share this machine's CPUs: their CPU over the CPUs is as fast as they can end.
    total = sum(rerun[node][1].get("cpu_seconds", 0) for node in NODES)
    print(f"\nThe four reruns at once: {total:.1f} s of CPU on {os.cpu_count()} CPUs, "
          f"{total / os.cpu_count():.1f} s at the least.")
    print("\n| node | role | cold s | cold waited s | rerun s | rerun alone s | tasks (rerun) |\n"
          "| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for node in NODES:
        cold_roles, rerun_roles = cold[node][1]["roles"], rerun[node][1]["roles"]
        alone_roles = alone[node][1]["roles"] if node in alone else {}
        for role in cold_roles:
            counted = rerun_roles.get(role, {})
            tasks = sum(counted.get(k, 0) for k in ("ok", "changed", "failed"))
            a = f"{alone_roles[role]['seconds']:.1f}" if role in alone_roles else "-"
            print(f"| {node} | {role} | {cold_roles[role]['seconds']:.1f} | {cold_roles[role].get('waited', 0):.1f} | "
                  f"{counted.get('seconds', 0):.1f} | {a} | {tasks} |")
        a = f"{alone[node][1]['elapsed_seconds']:.1f}" if node in alone else "-"
        print(f"| {node} | (bootstrap.py in all) | {cold[node][1]['elapsed_seconds']:.1f} | "
              f"{cold[node][1].get('waited_seconds', 0):.1f} | {rerun[node][1]['elapsed_seconds']:.1f} | {a} | |")


if __name__ == "__main__":
    main()
