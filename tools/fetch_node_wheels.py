#!/usr/bin/env python3
"""Download the wheels that requirements/node-lock/ names, for each lock's Python on each
architecture (workstation/node_lock.py): exactly those, hash-checked, into .cache/wheels/.

`bootstrap.py bundle` packs them as wheels/, and the test harness copies that bundle into each
simulated node, so nodes install ansible-core, ansible-runner and boto3 without reaching PyPI
(containers here cannot reach it over HTTPS; HyperPod nodes in closed VPCs cannot either).
Each change downloads into a fresh folder that then replaces the wheels (the old ones serve as a
local source), so that no wheel the locks stopped naming stays in the bundle.
"""

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from workstation import node_lock  # noqa: E402

TARGET = ROOT / ".cache" / "wheels"


def download(lock, arch, target, old=TARGET):
    """pip download of one lock for one Python and architecture (only wheels, every hash checked)."""
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--dest", str(target), "--no-deps", "--only-binary=:all:",
           "--require-hashes", "--implementation", "cp", "--python-version", lock.python, "--find-links", str(old)]
    for platform in node_lock.manylinux_platforms(arch):
        cmd += ["--platform", platform]
    # pip's warnings (a host pip.conf naming missing folders) only matter when it fails.
    done = subprocess.run(cmd + ["-r", str(lock.path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        sys.exit(done.stdout + f"fetch_node_wheels.py: pip could not download the wheels of {lock.path} for {arch} (above)")


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main():
    locks = node_lock.read_locks()
    if not locks:
        sys.exit(f"fetch_node_wheels.py: no locks in {node_lock.LOCK_DIR}; run tools/lock_node_requirements.py")
    # The stamp names the locks' content and the architectures: a change to either downloads again.
    digest = hashlib.sha256("".join(sha256(lock.path) for lock in locks).encode()
                            + " ".join(node_lock.manylinux_platforms(a)[0] for a in node_lock.ARCHES).encode())
    stamp = TARGET / f".stamp-{digest.hexdigest()[:16]}"
    if stamp.exists():
        return 0
    TARGET.mkdir(parents=True, exist_ok=True)
    new = TARGET.parent / ".wheels-new"
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir()
    for lock in locks:
        for arch in node_lock.ARCHES:
            print(f"==> wheels for Python {lock.python} on {arch}: {lock.path.relative_to(ROOT)}", flush=True)
            download(lock, arch, new)
    # Emptied and refilled rather than replaced: .cache/wheels may be a link to another checkout's.
    for old in list(TARGET.glob("*.whl")) + list(TARGET.glob(".stamp-*")):
        old.unlink()
    for wheel in sorted(new.glob("*.whl")):
        shutil.move(wheel, TARGET / wheel.name)
    new.rmdir()
    stamp.touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
