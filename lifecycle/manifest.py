"""MANIFEST.json: the sha256 of every file of a built bundle (written by `bootstrap.py bundle`,
workstation/bundle.py), and the check a node makes of its copy before anything runs.

A bundle on a node can differ from the one built: an upload cut short, a file edited in S3, two
versions mixed in one prefix, a file added beside them. The node then stops with the first file
that differs, before it changes anything. This is a check against damage and mix-ups, not against
an attacker who can write the bundle: such a one rewrites MANIFEST.json too.

What is hashed, on every node's run (billed time): every file of the code (USER_FILES aside), not the wheels. on_create.sh
installs wheels/ with pip --require-hashes from the hash-locked requirements/node-lock/ files,
which are hashed here: a changed wheel is refused there, and an extra one is never installed.
Hashing them again would read ~50 MB per node for nothing. The rest (the collection, the roles,
the settings, the Ansible collections the roles use: ~15 MB) takes well under a second.

Plain Python: runs before Ansible is imported.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

MANIFEST = "MANIFEST.json"
# Set by on_create.sh to the bundle's path once it checked it, for bootstrap.py not to check again.
CHECKED_VARIABLE = "HYPERPOD_BUNDLE_CHECKED"
NOT_HASHED = "wheels/"
# The cluster's inputs and settings, which the model and lifecycle/settings.py check value by value
# on every run: an operator (and this project's simulated platform, tests/harness and the Molecule
# scenarios' prepare steps) lays a cluster's own copies over a built bundle, or removes
# provisioning_parameters.json for API-driven mode. The manifest pins the code.
USER_FILES = ("provisioning_parameters.json", "node_roles.json", "shared_users.txt", "group_vars/", "host_vars/")
# Files a node writes into its copy, or Python does: never in a manifest, never extra.
WRITTEN_HERE = ("__pycache__",)
# Where a file the manifest does not list changes what runs: the code. Anything else (a README
# dropped into the S3 prefix) is ignored.
CHECKED_DIRS = ("lifecycle", "plugins", "playbooks", "roles", "collections", "requirements")
CHECKED_FILES = ("on_create.sh", "bootstrap.py", "ansible.cfg")


FIX = ("this is not the bundle that was built: build it again (bootstrap.py bundle), upload it, and point the "
       "cluster at it")


class Mismatch(Exception):
    """The bundle differs from its manifest: .path (the file in the bundle), .problem, one line."""

    def __init__(self, path, problem):
        super().__init__(f"{path}: {problem}")
        self.path, self.problem = path, problem


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_hash(digests):
    """The bundle's one hash: of every path and its sha256, in path order."""
    return hashlib.sha256("".join(f"{d}  {a}\n" for a, d in sorted(digests.items())).encode()).hexdigest()


def check(bundle):
    """Raise Mismatch at the first file of the bundle that differs from MANIFEST.json: missing,
    changed, or extra where it matters. A checkout (no MANIFEST.json) passes silently."""
    bundle = Path(bundle)
    path = bundle / MANIFEST
    if not path.is_file():
        return
    try:
        manifest = json.loads(path.read_bytes()[:50_000_000])
        files = manifest["files"]
        if not isinstance(files, dict) or manifest["content_hash"] != content_hash(files):
            raise ValueError
    except (ValueError, KeyError, TypeError, OSError):
        raise Mismatch(MANIFEST, "is damaged (not the manifest bootstrap.py bundle writes)") from None
    for name in sorted(files):
        if name.startswith(NOT_HASHED) or name.startswith(USER_FILES):
            continue
        if os.path.isabs(name) or ".." in name.split("/"):
            raise Mismatch(MANIFEST, f"lists a path outside the bundle ({name!r})")
        try:
            same = sha256_file(bundle / name) == files[name]
        except FileNotFoundError:
            raise Mismatch(name, "is missing") from None
        except OSError as e:
            raise Mismatch(name, f"cannot be read ({e.strerror})") from None
        if not same:
            raise Mismatch(name, "was changed since the bundle was built")
    for name in extra_files(bundle, files):
        raise Mismatch(name, "is not in the bundle as built (added since)")


def exit_if_altered(bundle):
    """Exit 2 with the usual one line (FILE: PROBLEM; FIX) where the bundle differs from its manifest."""
    try:
        check(bundle)
    except Mismatch as e:
        print(f"{Path(bundle) / e.path}: {e.problem}; {FIX}", file=sys.stderr)
        sys.exit(2)


def extra_files(bundle, listed):
    """Files in the checked folders and names that the manifest does not list, in order."""
    found = [name for name in CHECKED_FILES if (bundle / name).is_file()]
    for folder in CHECKED_DIRS:
        for root, dirs, names in os.walk(bundle / folder):
            dirs[:] = sorted(d for d in dirs if d not in WRITTEN_HERE)
            found.extend(Path(root, n).relative_to(bundle).as_posix() for n in names if not n.endswith(".pyc"))
    return sorted(name for name in found if name not in listed)
