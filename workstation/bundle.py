"""Build the lifecycle bundle: what on_create.sh needs, the Ansible collections the roles use,
the node wheels for offline nodes, and MANIFEST.json with a content hash.

The same inputs give the same bytes: entries sorted, fixed times, owners and modes, so that the
content hash names a version and every upload of a new version lands under a new S3 prefix.
"""

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle.manifest import MANIFEST, content_hash, sha256_file  # noqa: F401 - the node checks the same manifest
from workstation import node_lock

ROOT = Path(__file__).resolve().parent.parent

# The hash-locked node requirements on_create.sh installs from (workstation/node_lock.py).
BUNDLE_LOCKS = "requirements/node-lock"
# What on_create.sh needs, relative to the repository root: the driver and its modules, the
# settings every node gets, the collection hyperpod.slurm (plugins, playbooks, roles) and the node
# locks. The test harness packs the same list (bootstrap.py bundle --list).
BUNDLE_PATHS = ("on_create.sh", "bootstrap.py", "lifecycle", "ansible.cfg", "group_vars", "plugins", "playbooks",
                "roles", BUNDLE_LOCKS)
# The role file of the mode the cluster uses (legacy, API-driven), and the users file (roles/shared_users):
# shipped when present.
ROLE_FILES = ("provisioning_parameters.json", "node_roles.json", "shared_users.txt")
# Settings for single nodes, beside group_vars: shipped when present.
OPTIONAL_DIRS = ("host_vars",)
# Test and development leftovers that may sit inside the folders above.
SKIP_DIRS = {"__pycache__", ".pytest_cache", "tests", "molecule", ".git"}
SKIP_SUFFIXES = (".pyc", ".pyo", ".retry", ".swp", "~")

COLLECTIONS_DIR = ROOT / ".collections" / "ansible_collections"
WHEELS_DIR = ROOT / ".cache" / "wheels"
# Where they go in the bundle; ansible.cfg's collections_path names ./collections.
BUNDLE_COLLECTIONS = "collections/ansible_collections"
BUNDLE_WHEELS = "wheels"
DEFAULT_OUT = "build/hyperpod-bundle-{hash}.tar.gz"

# namespace.collection.name, as FQCNs appear in tasks, lookups and filters.
FQCN_RE = re.compile(r"\b([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\.[a-z_]")
SCANNED_SUFFIXES = (".yml", ".yaml", ".j2", ".py", ".json")
# A fixed time for every entry: 1980-01-01, the oldest that zip tools accept should anyone repack it.
FIXED_MTIME = 315532800


class BundleError(Exception):
    """A problem building the bundle, shown as one line."""


@dataclass
class Bundle:
    """The files of a bundle, {path in the bundle: source file}, and what went in."""
    files: dict
    collections: list = field(default_factory=list)
    wheels: list = field(default_factory=list)
    manifest: dict = field(default_factory=dict)

    @property
    def content_hash(self):
        return self.manifest["content_hash"]

    @property
    def short_hash(self):
        return self.content_hash[:12]

    def size(self):
        return sum(os.path.getsize(p) for p in self.files.values())


def _walk(path, arcname):
    """{arcname/relative: path} for a file, or every file under a folder, leftovers skipped."""
    if path.is_file():
        return {arcname: path}
    found = {}
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in files:
            if not name.endswith(SKIP_SUFFIXES):
                full = Path(folder) / name
                found[(Path(arcname) / full.relative_to(path)).as_posix()] = full
    return found


def source_paths(source=ROOT):
    """The top-level entries of the bundle that exist in `source`, in bundle order."""
    source = Path(source)
    missing = [p for p in BUNDLE_PATHS if not (source / p).exists()]
    if missing:
        raise BundleError(f"{source} lacks {', '.join(missing)}: is it a checkout of this repository?")
    return (list(BUNDLE_PATHS) + [p for p in ROLE_FILES if (source / p).is_file()]
            + [p for p in OPTIONAL_DIRS if (source / p).is_dir()])


def used_collections(files, available):
    """Collections named by FQCN in the bundle's files, with the collections they depend on."""
    used = set()
    for arcname, path in files.items():
        if arcname.endswith(SCANNED_SUFFIXES):
            text = path.read_text(encoding="utf-8", errors="replace")
            used.update(f"{ns}.{name}" for ns, name in FQCN_RE.findall(text) if f"{ns}.{name}" in available)
    todo = sorted(used)
    while todo:  # dependencies, from each collection's MANIFEST.json
        name = todo.pop()
        manifest = available[name] / "MANIFEST.json"
        info = json.loads(manifest.read_text())["collection_info"] if manifest.is_file() else {}
        deps = info.get("dependencies") or {}
        for dep in deps:
            if dep not in available:
                raise BundleError(f"collection {name} needs {dep}, which is not in {available[name].parents[1]}; "
                                  "add it to requirements/collections.txt and run tools/fetch_collections.py")
            if dep not in used:
                used.add(dep)
                todo.append(dep)
    return sorted(used)


def available_collections(collections_dir):
    """{namespace.name: folder} of the collections in an ansible_collections folder."""
    base = Path(collections_dir)
    if not base.is_dir():
        return {}
    return {f"{ns.name}.{c.name}": c for ns in sorted(base.iterdir()) if ns.is_dir()
            for c in sorted(ns.iterdir()) if c.is_dir()}


def source_files(source=ROOT):
    """{path in the bundle: file} of what the checkout contributes (no collections, no wheels)."""
    files = {}
    for entry in source_paths(source):
        files.update(_walk(Path(source) / entry, entry))
    return files


def collect(source=ROOT, collections_dir=COLLECTIONS_DIR, wheels_dir=WHEELS_DIR):
    """Decide what goes into the bundle. wheels_dir None: no wheels."""
    files = source_files(source)
    bundle = Bundle(files)
    available = available_collections(collections_dir)
    bundle.collections = used_collections(files, available)
    for name in bundle.collections:
        files.update(_walk(available[name], f"{BUNDLE_COLLECTIONS}/{name.replace('.', '/')}"))
    if wheels_dir is not None and Path(wheels_dir).is_dir():
        wheels = {f"{BUNDLE_WHEELS}/{p.name}": p for p in sorted(Path(wheels_dir).glob("*.whl"))}
        files.update(wheels)
        bundle.wheels = sorted(p.name for p in wheels.values())
    bundle.files = dict(sorted(files.items()))
    bundle.manifest = make_manifest(bundle.files)
    return bundle


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def make_manifest(files):
    """{"content_hash", "files": {path: sha256}}; the hash covers every path and content, in order."""
    digests = {arcname: sha256_file(path) for arcname, path in sorted(files.items())}
    return {"content_hash": content_hash(digests), "files": digests}


def manifest_bytes(manifest):
    return (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()


def _mode(path):
    return 0o755 if os.access(path, os.X_OK) else 0o644


def write_tarball(bundle, out):
    """A gzip'd tar of the bundle's files at the top level, byte for byte the same for the same files."""
    def info(name, size, mode, kind=tarfile.REGTYPE):
        ti = tarfile.TarInfo(name)
        ti.size, ti.mode, ti.type, ti.mtime = size, mode, kind, FIXED_MTIME
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = "root"
        return ti

    members = dict(bundle.files)
    folders = sorted({p.rsplit("/", i)[0] for p in members for i in range(1, p.count("/") + 1)})
    entries = sorted([(d, None) for d in folders] + list(members.items()) + [(MANIFEST, None)])
    tmp = out.with_name(out.name + ".part")
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, path in entries:
            if name == MANIFEST:
                data = manifest_bytes(bundle.manifest)
                tar.addfile(info(name, len(data), 0o644), io.BytesIO(data))
            elif path is None:
                tar.addfile(info(name, 0, 0o755, tarfile.DIRTYPE))
            else:
                with open(path, "rb") as f:
                    tar.addfile(info(name, os.path.getsize(path), _mode(path)), f)
    os.replace(tmp, out)


def write_folder(bundle, out):
    """The bundle as a folder, as HyperPod lays it out on a node."""
    if out.exists():
        if any(out.iterdir()) and not (out / MANIFEST).is_file():
            raise BundleError(f"{out} exists and is not a bundle folder; name a new or empty folder")
        shutil.rmtree(out)
    for arcname, path in bundle.files.items():
        target = out / arcname
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        os.chmod(target, _mode(path))
    (out / MANIFEST).write_bytes(manifest_bytes(bundle.manifest))


def is_tarball(out):
    return str(out).endswith((".tar.gz", ".tgz"))


def build(out=DEFAULT_OUT, source=ROOT, collections_dir=COLLECTIONS_DIR, wheels_dir=WHEELS_DIR):
    """Write the bundle to `out` (a folder, or a .tar.gz); '{hash}' in `out` becomes the short hash.
    Returns (Bundle, the path written)."""
    bundle = collect(source, collections_dir, wheels_dir)
    path = Path(str(out).replace("{hash}", bundle.short_hash))
    path.parent.mkdir(parents=True, exist_ok=True)
    if is_tarball(path):
        write_tarball(bundle, path)
    else:
        write_folder(bundle, path)
    return bundle, path


def node_python_pins(on_create=ROOT / "on_create.sh"):
    """[(Python versions, ansible-core version)] from on_create.sh's case statement."""
    return re.findall(r"^\s*(3\.[0-9\[\]-]+)\) core=([0-9.]+)", Path(on_create).read_text(), re.M)


def wheel_coverage(bundle):
    """{arch: (Pythons that install offline from the bundle's wheels, Pythons that go to the package
    index)}, for the locks in the bundle that on_create.sh picks."""
    locks = [node_lock.read_lock(path) for name, path in bundle.files.items()
             if name.startswith(f"{BUNDLE_LOCKS}/") and name.endswith(".txt")]
    wheels = {name.split("/", 1)[1]: digest for name, digest in bundle.manifest["files"].items()
              if name.startswith(f"{BUNDLE_WHEELS}/")}
    coverage = {}
    for arch in node_lock.ARCHES:
        offline, online = coverage.setdefault(arch, ([], []))
        for lock in sorted(filter(node_lock.is_default, locks), key=lambda lock: int(lock.python.split(".")[1])):
            (online if node_lock.missing(lock, arch, wheels) else offline).append(lock.python)
    return coverage


def describe(bundle, path, elapsed):
    """One line about a build, for people."""
    wheels = "no wheels"
    if bundle.wheels:
        coverage = wheel_coverage(bundle)
        offline = "; ".join(f"{', '.join(have)} on {arch}" for arch, (have, _) in coverage.items() if have)
        index = "; ".join(f"{', '.join(lack)} on {arch}" for arch, (_, lack) in coverage.items() if lack)
        wheels = (f"{len(bundle.wheels)} wheels (offline for Python {offline or 'none'}"
                  f"{'; the package index for Python ' + index if index else ''})")
    return (f"bundle {path}: {len(bundle.files) + 1} files, {bundle.size() / 1e6:.1f} MB, collections: "
            f"{', '.join(bundle.collections) or 'none used'}, {wheels}; content hash {bundle.short_hash} "
            f"(built in {elapsed:.1f}s)")


def main(args):
    """bundle [OUT] [--list] [--wheels DIR | --no-wheels] [--collections DIR] [--json]"""
    started = time.monotonic()
    wheels = None if args.no_wheels else (args.wheels or WHEELS_DIR)
    try:
        if args.list:
            print("\n".join(source_paths(ROOT)))
            return 0
        bundle, path = build(args.out, ROOT, args.collections or COLLECTIONS_DIR, wheels)
    except (BundleError, OSError) as e:
        print(f"{args.prog}: {e}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    if args.json:
        print(json.dumps({"path": str(path), "content_hash": bundle.content_hash, "short_hash": bundle.short_hash,
                          "files": len(bundle.files) + 1, "bytes": bundle.size(), "collections": bundle.collections,
                          "wheels": bundle.wheels, "seconds": round(elapsed, 2)}, indent=2))
    else:
        print(describe(bundle, path, elapsed))
    return 0
