#!/usr/bin/env python3
"""The host check: what this machine offers the test harness, and how each scenario runs on it.

tools/test and tools/cluster run it first, before anything is created or installed:
  hostcheck.py               probe this machine, print what it found and what the scenarios will do
                             about it; exit 1 with one line per problem when nothing can replace
                             what is missing. Writes .cache/hostcheck/facts.json and
                             .cache/hostcheck/env (the harness's settings for this machine, read by
                             tools/test and tools/cluster), and starts the record of checks that run
                             in a reduced form (.cache/logs/reduced.txt, printed at the suite's end).
  hostcheck.py --containers  after tools/setup-host: podman's and runc's versions, and one container
                             started the way the scenarios start theirs (devices included).
  hostcheck.py --json        print the facts as JSON and stop.
Standard library only: it runs before the project's venv exists.
"""

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / ".cache" / "hostcheck"
sys.path.insert(0, str(Path(__file__).resolve().parent))
import reduced  # noqa: E402 - beside this file

# What the suite needs at least: four images and up to six containers at once, logs.
MIN_DISK_GIB = 12
MIN_MEMORY_GIB = 4
# The ulimits tests/harness/containers.conf gives every container; the host's hard limits must allow them.
CONTAINER_ULIMITS = {"nofile": 20000, "nproc": 4096}
MIN_PODMAN = (4, 0)  # named networks with DNS and fixed addresses (netavark); Ubuntu 22.04 has 3.4


@dataclass
class Adaptation:
    """How scenarios run when the host lacks a feature (fact false), and what then runs reduced."""
    fact: str
    scenarios: tuple
    present: dict  # harness settings (environment) when the host has it
    absent: dict  # ... when it does not; the scenarios' own defaults cover the rest
    check: str  # the check that runs reduced without it
    why: str


# Each entry names a host feature one or more scenarios use, and what they do without it. The
# scenarios read these settings as ${HPB_...} in molecule.yml or lookup('env') in their playbooks.
ADAPTATIONS = (
    Adaptation(
        fact="autofs", scenarios=("hyperpod",),
        present={"HPB_AUTOFS_DEVICE": "--device=/dev/autofs"}, absent={},
        check="FSx stand-in: the nodes get no /dev/autofs, so systemd could not automount /fsx after a reboot; "
              "the fsx role's own mount and its fstab line (with x-systemd.automount) are checked as elsewhere",
        why="this kernel has no autofs (no autofs in /proc/misc, no /dev/autofs)"),
    Adaptation(
        fact="fuse", scenarios=("hyperpod",),
        present={}, absent={"HPB_FUSE_DEVICE": "--label=hpb.fuse=absent", "HPB_FSX": "none"},
        check="FSx: the cluster converges without a shared file system (the sshfs stand-in needs FUSE); the fsx "
              "mount, retry, shared-file, home-move and automount checks do not run",
        why="this kernel has no FUSE (no /dev/fuse or no fuse in /proc/filesystems)"),
)

# Every scenario and what it takes from the host beyond podman; a new scenario must be listed
# (tests/unit/test_hostcheck.py), so its needs are written down where this check can see them.
SCENARIO_NEEDS = {
    "containers": "privileged containers (Docker runs inside them)",
    "faults": "podman only",
    "hyperpod": "FUSE for the FSx stand-in (sshfs), autofs for its automount; SYS_ADMIN",
    "observability": "podman only",
    "slurm24": "an internal (offline) podman network",
    "standalone": "podman only",
}


# ---- probing ------------------------------------------------------------------------------------

def _read(path):
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _command_version(argv):
    """The first version-looking word a command prints, or None when it is missing or fails."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\d+\.\d+(\.\d+)?", out.stdout)
    return match.group(0) if out.returncode == 0 and match else None


def _cgroup(root):
    """(version, controllers a container's cgroup can get): v2, hybrid (v1 controllers plus an empty
    v2 tree), v1, or none."""
    base = root / "sys/fs/cgroup"
    if (base / "cgroup.controllers").exists():
        return "v2", _read(base / "cgroup.subtree_control").split()
    v1 = sorted(p.name for p in base.iterdir() if p.is_dir() and p.name not in ("unified", "systemd")) \
        if base.is_dir() else []
    if (base / "unified" / "cgroup.controllers").exists():
        return "hybrid", v1
    return ("v1", v1) if v1 else ("none", [])


def _free_gib(path):
    path = Path(path)
    while not path.exists():
        path = path.parent
    st = os.statvfs(path)
    return round(st.f_bavail * st.f_frsize / 2 ** 30, 1)


def probe(root="/", version=_command_version):
    """The facts the scenarios depend on. root and version stand in for a fake host in tests."""
    root = Path(root)
    misc = {line.split()[-1] for line in _read(root / "proc/misc").splitlines() if line.split()}
    filesystems = sorted({line.split()[-1] for line in _read(root / "proc/filesystems").splitlines()
                          if line.split()})
    meminfo = dict(re.findall(r"^(\w+):\s+(\d+)", _read(root / "proc/meminfo"), re.M))
    os_release = dict(re.findall(r'^(\w+)="?([^"\n]*)"?', _read(root / "etc/os-release"), re.M))
    cgroup, controllers = _cgroup(root)
    return {
        "os": f"{os_release.get('NAME', 'unknown')} {os_release.get('VERSION_ID', '')}".strip(),
        "os_like": " ".join([os_release.get("ID", ""), os_release.get("ID_LIKE", "")]).split(),
        "arch": platform.machine(),
        "kernel": _read(root / "proc/sys/kernel/osrelease").strip() or platform.release(),
        "cores": os.cpu_count(),
        "memory_available_gib": round(int(meminfo.get("MemAvailable", 0)) / 2 ** 20, 1),
        "disk_free_gib": _free_gib(root / "var/lib/containers"),
        "root": os.geteuid() == 0,
        "apt": (root / "usr/bin/apt-get").exists(),
        "autofs": "autofs" in misc or (root / "dev/autofs").exists(),
        "fuse": (root / "dev/fuse").exists() and "fuse" in filesystems,
        "nfs_client": "nfs" in filesystems or "nfs4" in filesystems,
        "overlay": "overlay" in filesystems,
        "filesystems": filesystems,
        "cgroup": cgroup,
        "cgroup_controllers": controllers,
        "ulimits_hard": {"nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[1],
                         "nproc": resource.getrlimit(resource.RLIMIT_NPROC)[1]},
        "podman": version(["podman", "--version"]),
        "runc": version(["runc", "--version"]),
    }


# ---- deciding -----------------------------------------------------------------------------------

@dataclass
class Plan:
    stops: list = field(default_factory=list)  # one line each: what is missing and what to do
    env: dict = field(default_factory=dict)  # harness settings for this machine
    reduced: list = field(default_factory=list)  # (scenarios, check, why)


def _version_tuple(text):
    return tuple(int(n) for n in re.findall(r"\d+", text)[:2])


def decide(facts):
    """What the harness does on a machine with these facts."""
    plan = Plan()
    if not facts["root"]:
        plan.stops.append("not root: the harness creates podman containers, networks and images as root; "
                          "run it as root (sudo)")
    if not facts["apt"] and not facts["podman"]:
        plan.stops.append("no apt-get and no podman: the harness installs podman, runc and debootstrap with apt; "
                          "use Debian or Ubuntu, or install those three yourself")
    if facts["podman"] and _version_tuple(facts["podman"]) < MIN_PODMAN:
        plan.stops.append(f"podman {facts['podman']} is too old: the scenarios need podman "
                          f"{'.'.join(map(str, MIN_PODMAN))} or newer (named networks with DNS and fixed addresses); "
                          "use Debian 12+ or Ubuntu 24.04+, or install a newer podman")
    if facts["disk_free_gib"] < MIN_DISK_GIB:
        plan.stops.append(f"{facts['disk_free_gib']} GiB free under /var/lib/containers: the images and containers "
                          f"need {MIN_DISK_GIB} GiB; free some space there")
    if facts["memory_available_gib"] < MIN_MEMORY_GIB:
        plan.stops.append(f"{facts['memory_available_gib']} GiB of memory available: the scenarios need "
                          f"{MIN_MEMORY_GIB} GiB; stop other work or use a larger machine")
    for name, wanted in CONTAINER_ULIMITS.items():
        hard = facts["ulimits_hard"][name]
        if hard != resource.RLIM_INFINITY and hard < wanted:
            plan.stops.append(f"the hard {name} limit is {hard}: tests/harness/containers.conf gives containers "
                              f"{wanted}; raise it (ulimit -H, /etc/security/limits.conf) or lower it there")
    for a in ADAPTATIONS:
        if facts[a.fact]:
            plan.env.update(a.present)
        else:
            plan.env.update(a.absent)
            plan.reduced.append((a.scenarios, a.check, a.why))
    return plan


# ---- reporting ----------------------------------------------------------------------------------

def describe(facts):
    """A few lines: the machine as the scenarios see it."""
    def yes(key):
        return "yes" if facts[key] else "absent"
    cgroup = facts["cgroup"] + (f" (controllers: {' '.join(facts['cgroup_controllers'])})"
                                if facts["cgroup_controllers"] else " (no controllers)")
    fs = [name for name in ("ext4", "xfs", "btrfs", "overlay", "fuse", "nfs", "nfs4", "lustre")
          if name in facts["filesystems"]]
    return [
        f"{facts['os']} {facts['arch']}, kernel {facts['kernel']}, {facts['cores']} cores, "
        f"{facts['memory_available_gib']} GiB memory available, {facts['disk_free_gib']} GiB disk free",
        f"autofs: {yes('autofs')}, FUSE: {yes('fuse')}, NFS client: {yes('nfs_client')}, cgroup: {cgroup}",
        f"file systems: {' '.join(fs)}; podman: {facts['podman'] or 'not installed yet'}, "
        f"runc: {facts['runc'] or 'not installed yet'}",
    ]


def write_state(facts, plan):
    STATE.mkdir(parents=True, exist_ok=True)
    (STATE / "facts.json").write_text(json.dumps(facts, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    # KEY=VALUE lines for `set -a; . env`: values are fixed strings above, without spaces or quotes.
    (STATE / "env").write_text("".join(f"{k}={v}\n" for k, v in sorted(plan.env.items())), encoding="utf-8")
    reduced.start([(", ".join(scenarios), check, why) for scenarios, check, why in plan.reduced])


def containers_check():
    """After setup-host: podman runs a container as the scenarios do. One line on failure."""
    env = dict(os.environ, CONTAINERS_CONF=str(ROOT / "tests/harness/containers.conf"))
    settings = dict(line.split("=", 1) for line in _read(STATE / "env").splitlines() if "=" in line)
    opts = ["--device=/dev/fuse"] if settings.get("HPB_FSX") != "none" else []
    if settings.get("HPB_AUTOFS_DEVICE"):
        opts.append(settings["HPB_AUTOFS_DEVICE"])
    podman = _command_version(["podman", "--version"]) or "missing"
    if podman == "missing" or _version_tuple(podman) < MIN_PODMAN:
        print(f"host check: podman {podman}: the scenarios need podman {'.'.join(map(str, MIN_PODMAN))} or newer "
              "(named networks with DNS and fixed addresses); use Debian 12+ or Ubuntu 24.04+, or install a newer "
              "podman", file=sys.stderr)
        return 1
    cmd = ["podman", "run", "--rm", "--network=hpb-hyperpod", "--cap-add=SYS_ADMIN", *opts,
           "localhost/hpb-base:latest", "true"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    print(f"==> podman {podman}, runc {_command_version(['runc', '--version'])}: "
          f"{'a test container ran' if out.returncode == 0 else 'a test container failed'}", flush=True)
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no message"])[-1]
        print(f"host check: podman cannot start a container the way the scenarios do ({' '.join(cmd)}): {last}; "
              "fix podman on this machine (README.md, \"The test machine\")", file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the facts as JSON and stop")
    parser.add_argument("--containers", action="store_true", help="check podman after setup")
    args = parser.parse_args(argv)
    if args.containers:
        return containers_check()
    facts = probe()
    if args.json:
        print(json.dumps(facts, indent=2, sort_keys=True))
        return 0
    plan = decide(facts)
    print("==> host check: " + "\n    ".join(describe(facts)), flush=True)
    if plan.stops:
        for line in plan.stops:
            print(f"host check: {line}", file=sys.stderr)
        return 1
    write_state(facts, plan)
    for scenarios, check, why in plan.reduced:
        print(f"    reduced on this machine ({', '.join(scenarios)}): {check}: {why}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
