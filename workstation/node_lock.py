"""The hash-locked requirements nodes install (requirements/node-lock/), and the Pythons and
architectures they are for.

tools/lock_node_requirements.py writes the locks, tools/fetch_node_wheels.py downloads their wheels,
`bootstrap.py bundle` reports which nodes can install offline. on_create.sh reads the lock named
py<Python>-ansible-core-<version>.txt for the node's Python.
"""

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK_DIR = ROOT / "requirements" / "node-lock"
TOP_LEVEL = ROOT / "requirements" / "node.txt"

# ansible-core per node Python. The first is on_create.sh's choice (its case statement must agree:
# tests/unit/test_node_lock.py); 3.11 also gets 2.17.14, the core of Python 3.10 nodes, which the
# test clusters (Debian 12, Python 3.11) run as HYPERPOD_ANSIBLE_CORE_VERSION.
# 3.10: HyperPod's Ubuntu 22.04 image; 3.11: Debian 12; 3.12: Ubuntu 24.04; 3.13: Debian 13.
LOCKS = {"3.10": ["2.17.14"], "3.11": ["2.19.14", "2.17.14"], "3.12": ["2.21.5"], "3.13": ["2.21.5"]}
# HyperPod has x86_64 and ARM64 (Graviton) images; `uname -m` says aarch64 on the latter.
ARCHES = ("x86_64", "aarch64")
# The oldest glibc of a node: 2.35 (Ubuntu 22.04; Debian 12 has 2.36). Wheels built for it or older run.
GLIBC_MINOR = 35

LOCK_NAME_RE = re.compile(r"^py(3\.\d+)-ansible-core-([0-9][0-9a-z.]*)\.txt$")
PIN_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")
HASH_RE = re.compile(r"--hash=sha256:([0-9a-f]{64})")


def lock_name(python, core):
    return f"py{python}-ansible-core-{core}.txt"


def manylinux_platforms(arch):
    """pip's --platform values a node of this architecture accepts, most specific first (as pip
    orders them on a node). pip does not expand manylinux_2_35 to the older tags by itself."""
    return [f"manylinux_2_{minor}_{arch}" for minor in range(GLIBC_MINOR, 16, -1)] + [f"manylinux2014_{arch}"]


@dataclass
class Lock:
    path: Path
    python: str
    core: str
    pins: dict  # {normalized name: (version, {sha256, ...})}

    @property
    def hashes(self):
        return set().union(*(h for _, h in self.pins.values()))


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(text):
    """{normalized name: (version, {sha256})} of a requirements file in uv's/pip-compile's layout."""
    pins, current = {}, None
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].strip()  # no '#' in a pin or a --hash
        match = PIN_RE.match(stripped)
        if match:
            current = normalize(match.group(1))
            pins[current] = (match.group(2), set())
        for digest in HASH_RE.findall(stripped):
            if current is None:
                raise ValueError(f"a --hash before any requirement: {line.strip()}")
            pins[current][1].add(digest)
    return pins


def read_lock(path):
    path = Path(path)
    match = LOCK_NAME_RE.match(path.name)
    if not match:
        raise ValueError(f"{path}: not a lock's name (py<Python>-ansible-core-<version>.txt)")
    return Lock(path, match.group(1), match.group(2), parse(path.read_text()))


def read_locks(lock_dir=LOCK_DIR):
    """Every lock in the folder, sorted by Python then ansible-core."""
    locks = [read_lock(path) for path in Path(lock_dir).glob("*.txt")]
    return sorted(locks, key=lambda lock: (tuple(map(int, lock.python.split("."))), lock.core))


def is_default(lock):
    """Whether on_create.sh picks this lock without HYPERPOD_ANSIBLE_CORE_VERSION."""
    return LOCKS.get(lock.python, [lock.core])[0] == lock.core


def _supported_tags(python, arch):
    """The wheel tags CPython `python` on a glibc-2.35 `arch` node accepts."""
    from packaging import tags  # workstation only: ansible-core brings packaging
    version = tuple(map(int, python.split(".")))
    platforms = manylinux_platforms(arch) + [f"linux_{arch}"]
    return set(tags.cpython_tags(version, platforms=platforms)) | set(
        tags.compatible_tags(version, f"cp{version[0]}{version[1]}", platforms=platforms))


def missing(lock, arch, wheels):
    """The lock's packages that none of `wheels` ({file name: sha256}) installs on such a node."""
    from packaging.utils import parse_wheel_filename
    from packaging.version import Version
    supported = _supported_tags(lock.python, arch)
    have = set()
    for name, digest in wheels.items():
        wheel_name, version, _, wheel_tags = parse_wheel_filename(name)
        pinned = lock.pins.get(normalize(str(wheel_name)))
        if pinned and version == Version(pinned[0]) and digest in pinned[1] and wheel_tags & supported:
            have.add(normalize(str(wheel_name)))
    return sorted(set(lock.pins) - have)
