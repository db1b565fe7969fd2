#!/usr/bin/env python3
"""Write requirements/node-lock/: one hash-locked requirements file per node Python and ansible-core
(workstation/node_lock.py, LOCKS), from the top-level pins of requirements/node.txt.

    .venv/bin/python tools/lock_node_requirements.py              # keep the locked versions that still fit
    .venv/bin/python tools/lock_node_requirements.py --upgrade    # newest dependencies the pins allow

Then run tools/fetch_node_wheels.py and commit the locks. uv (pinned in requirements/dev.txt) resolves
from PyPI (UV_INDEX_URL to change it), wheels only, for each Python on each architecture the bundle
serves; the resolutions must agree, since one lock serves both. --generate-hashes lists the hashes of
every file of each pinned version, so one lock verifies the wheels of every platform.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from workstation import node_lock  # noqa: E402


def find_uv():
    uv = shutil.which("uv", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if not uv:
        sys.exit("lock_node_requirements.py: uv not found beside this Python or on PATH; "
                 "install requirements/dev.txt into .venv (it pins uv)")
    return uv


def compile_lock(uv, python, core, arch, out, upgrade):
    """uv pip compile for one Python on one architecture into `out` (whose pins it keeps, unless upgrade)."""
    cmd = [uv, "pip", "compile", "--quiet", "--generate-hashes", "--only-binary", ":all:",
           "--python-version", python, "--python-platform", f"{arch}-manylinux_2_{node_lock.GLIBC_MINOR}",
           "--custom-compile-command", "tools/lock_node_requirements.py", "--output-file", str(out), "-"]
    # ansible-core on stdin: its version depends on the Python; the rest comes from node.txt.
    stdin = f"ansible-core=={core}\n-r {node_lock.TOP_LEVEL.relative_to(ROOT)}\n"
    subprocess.run(cmd + (["--upgrade"] if upgrade else []), input=stdin, text=True, cwd=ROOT, check=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upgrade", action="store_true", help="allow newer dependencies than the current locks")
    args = parser.parse_args(argv)
    uv = find_uv()
    node_lock.LOCK_DIR.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for python, cores in node_lock.LOCKS.items():
        for core in cores:
            lock = node_lock.LOCK_DIR / node_lock.lock_name(python, core)
            wanted.add(lock.name)
            print(f"==> {lock.relative_to(ROOT)}", flush=True)
            first, *others = node_lock.ARCHES
            compile_lock(uv, python, core, first, lock, args.upgrade)
            for arch in others:  # the same versions must fit every architecture
                with tempfile.TemporaryDirectory() as tmp:
                    check = Path(tmp) / lock.name
                    shutil.copyfile(lock, check)
                    compile_lock(uv, python, core, arch, check, False)
                    theirs, ours = node_lock.parse(check.read_text()), node_lock.parse(lock.read_text())
                    if theirs != ours:
                        differ = sorted(n for n in set(theirs) | set(ours) if theirs.get(n) != ours.get(n))
                        sys.exit(f"lock_node_requirements.py: Python {python} resolves differently on {first} and "
                                 f"{arch} ({', '.join(differ)}); pin those in requirements/node.txt")
    for stale in node_lock.LOCK_DIR.glob("*.txt"):
        if stale.name not in wanted:
            print(f"==> removing {stale.relative_to(ROOT)} (not in LOCKS)")
            stale.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
